CREATE PROCEDURE p(IN x INT)
BEGIN
  DECLARE done INT DEFAULT 0;
  lbl: LOOP
    IF x > 10 THEN
      LEAVE lbl;
    END IF;
    SET x = x + 1;
  END LOOP;
  REPEAT SET x = x - 1; UNTIL x < 0 END REPEAT;
  BEGIN
    SELECT x;
  END;
  WHILE x < 3 DO SET x = x + 1; END WHILE;
  CASE x WHEN 1 THEN SELECT 'one'; ELSE SELECT 'other'; END CASE;
END;
CALL p(1);
