-- Every column of every table, by table and position (integer keys: the model sorts names itself): type (format_type), nullability, default or generation expression, identity and
-- its sequence's start and step, collation when not the type's, comment. A default holds no column reference, so it
-- is printed without opening its table (relation 0: much cheaper per call).
SELECT n.nspname::text, c.relname::text, a.attname::text,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  a.attnotnull,
  CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, 0) END,
  CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
  a.attidentity::text,
  s.seqstart,
  s.seqincrement,
  CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
  d.description
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation AS co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_description AS d
  ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
LEFT JOIN pg_catalog.pg_depend AS dep
  ON a.attidentity <> '' AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
LEFT JOIN pg_catalog.pg_sequence AS s ON s.seqrelid = dep.objid
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
