SELECT 1;
-- An unclosed dollar quote runs to the end of the file; Atlas reports no error.
CREATE FUNCTION f() RETURNS int AS $$
SELECT 2;
