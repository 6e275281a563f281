-- Sequences (identity columns' own and extension members left out) with the column owning them (serial, OWNED BY).
SELECT n.nspname::text, c.relname::text, pg_catalog.format_type(s.seqtypid, NULL),
  s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
  (SELECT rt.relname::text || '.' || a.attname::text
   FROM pg_catalog.pg_depend AS o
   JOIN pg_catalog.pg_class AS rt ON rt.oid = o.refobjid
   JOIN pg_catalog.pg_attribute AS a ON a.attrelid = o.refobjid AND a.attnum = o.refobjsubid
   WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.objid = c.oid
     AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.deptype = 'a' AND o.refobjsubid > 0
   LIMIT 1)
FROM pg_catalog.pg_sequence AS s
JOIN pg_catalog.pg_class AS c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS e
                  WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid AND e.deptype IN ('e', 'i'))
ORDER BY 1, 2
