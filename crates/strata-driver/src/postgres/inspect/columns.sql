-- Every column of every table, by table and position (integer keys: the model sorts names itself): type (format_type), nullability, default or generation expression, identity and
-- its sequence's start and step, collation when not the type's, comment. A default holds no column reference, so it
-- is printed without opening its table (relation 0: much cheaper per call). Defaults, identity sequences and
-- collations are looked up per column only where the column has one (scalar subqueries), so the wide `adbin`
-- never travels through a join or the sort (a hash join and an on-disk sort of 50,000 wide rows cost 3× the
-- whole query at 5,000 tables).
SELECT n.nspname::text, c.relname::text, a.attname::text,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  a.attnotnull,
  CASE WHEN a.atthasdef AND a.attgenerated = '' THEN (SELECT pg_catalog.pg_get_expr(ad.adbin, 0) FROM pg_catalog.pg_attrdef AS ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) END,
  CASE WHEN a.atthasdef AND a.attgenerated <> '' THEN (SELECT pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) FROM pg_catalog.pg_attrdef AS ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) END,
  a.attidentity::text,
  s.seqstart,
  s.seqincrement,
  CASE WHEN a.attcollation <> t.typcollation THEN (SELECT co.collname::text FROM pg_catalog.pg_collation AS co WHERE co.oid = a.attcollation) END,
  d.description
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_description AS d
  ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
LEFT JOIN LATERAL (SELECT sq.seqstart, sq.seqincrement FROM pg_catalog.pg_depend AS dep
  JOIN pg_catalog.pg_sequence AS sq ON sq.seqrelid = dep.objid
  WHERE a.attidentity <> '' AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i') AS s ON true
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
