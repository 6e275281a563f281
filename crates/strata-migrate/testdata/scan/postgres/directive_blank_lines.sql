-- atlas:delimiter \n\n
CREATE FUNCTION f() RETURNS int AS $$
SELECT 1;

SELECT 2;
$$ LANGUAGE sql

CREATE INDEX i1 ON t (a);
CREATE INDEX i2 ON t (b);

-- trailing comment
SELECT f()
