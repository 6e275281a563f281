INSERT INTO t (s) VALUES (E'it\'s; fine');
INSERT INTO t (s) VALUES (e'\\'), (E'\'');
-- A standard string: the backslash is an ordinary character.
INSERT INTO t (s) VALUES ('C:\'), ('x;y');
SELECT 'a''b;c', "we;ird""name" FROM t;
