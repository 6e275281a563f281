-- Only a bare END closes a block; `END a;` does not. With two labelled blocks the
-- procedure's END closes the second one, and Atlas splits the procedure in three.
CREATE PROCEDURE q()
BEGIN
  a: BEGIN
    SELECT 1;
  END a;
  b: BEGIN
    SELECT 2;
  END b;
END;
