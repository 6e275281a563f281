-- The schemas to inspect with their comments: $1 names them, or (empty) every schema but PostgreSQL's own.
SELECT n.nspname::text, d.description
FROM pg_catalog.pg_namespace AS n
LEFT JOIN pg_catalog.pg_description AS d
  ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND (pg_catalog.cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
ORDER BY n.nspname
