-- Extensions installed into the inspected schemas (plpgsql, present in every database, left out).
SELECT e.extname::text, n.nspname::text, e.extversion::text
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE n.nspname = ANY($1::text[]) AND e.extname <> 'plpgsql'
ORDER BY 1
