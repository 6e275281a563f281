-- Every table, view, trigger and index with its stored text (SQLite's own objects left out).
SELECT type, name, tbl_name, sql
FROM sqlite_schema
WHERE type IN ('table', 'view', 'trigger', 'index') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name
