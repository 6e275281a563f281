CREATE FUNCTION one() RETURNS integer
LANGUAGE SQL
BEGIN ATOMIC
  SELECT 1;
END;

CREATE PROCEDURE insert_two(a integer, b integer)
LANGUAGE SQL
begin atomic
  INSERT INTO tbl VALUES (a);
  INSERT INTO tbl VALUES (b); -- inner comment
end;

CREATE FUNCTION sign(x int) RETURNS text LANGUAGE SQL BEGIN ATOMIC
  SELECT CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END;
END;
SELECT one();
