-- Views and materialized views (extension members left out): pg_get_viewdef, WITH CHECK OPTION, comment.
SELECT n.nspname::text, c.relname::text, c.relkind::text,
  pg_catalog.pg_get_viewdef(c.oid, true),
  (SELECT pg_catalog.substr(o, 14) FROM pg_catalog.unnest(c.reloptions) AS o WHERE o LIKE 'check\_option=%'),
  d.description
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description AS d
  ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('v', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS e
                  WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY 1, 2
