-- Functions and procedures (aggregates, window functions and extension members left out): identity arguments
-- and pg_get_functiondef.
SELECT n.nspname::text, p.proname::text, p.prokind::text,
  pg_catalog.pg_get_function_identity_arguments(p.oid),
  pg_catalog.pg_get_functiondef(p.oid)
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1::text[]) AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS e
                  WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = p.oid AND e.deptype = 'e')
ORDER BY 1, 2, 4
