-- The columns of every table, in one query (pragma_table_xinfo joined over sqlite_schema).
SELECT m.name, c.name, c.type, c."notnull", c.dflt_value, c.pk, c.hidden
FROM sqlite_schema AS m, pragma_table_xinfo(m.name) AS c
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, c.cid
