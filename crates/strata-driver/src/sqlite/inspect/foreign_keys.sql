-- The foreign keys of every table, in one query.
SELECT m.name, f.id, f.seq, f."table", f."from", f."to", f.on_update, f.on_delete
FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, f.id, f.seq
