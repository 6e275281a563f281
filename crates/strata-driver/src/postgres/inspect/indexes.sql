-- Every part of every index, grouped by index (primary keys and unique constraints included, exclusion constraints left out), one
-- row per part in key order: the column (attnum > 0) or expression text (pg_get_indexdef of the part), DESC, the
-- operator class when not the default, the collation when not the column's; INCLUDE columns come after the
-- key parts (ord > indnkeyatts).
-- Parts come from unnest(indkey) WITH ORDINALITY rather than generate_series(1, indnatts): the planner's estimate
-- for the latter (1,000 rows per index) pushed the plan's cost past the JIT thresholds at a few thousand tables.
-- Column names and collations are looked up part by part (an index scan each) rather than hash-joined with the
-- whole of pg_attribute.
SELECT n.nspname::text, t.relname::text, i.relname::text,
  x.indisunique, x.indisprimary, am.amname::text,
  pg_catalog.pg_get_expr(x.indpred, x.indrelid),
  x.indnullsnotdistinct,
  con.contype::text,
  con.conname::text,
  x.indnkeyatts::int4,
  k.ord::int4,
  a.attname::text,
  CASE WHEN k.attnum = 0 THEN pg_catalog.pg_get_indexdef(x.indexrelid, k.ord::int4, true) END,
  COALESCE((x.indoption[k.ord - 1] & 1) = 1, false),
  CASE WHEN NOT opc.opcdefault THEN opc.opcname::text END,
  CASE WHEN x.indcollation[k.ord - 1] NOT IN (0, COALESCE(a.attcollation, 100)) THEN (SELECT co.collname::text FROM pg_catalog.pg_collation AS co WHERE co.oid = x.indcollation[k.ord - 1]) END,
  d.description
FROM pg_catalog.pg_index AS x
JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_am AS am ON am.oid = i.relam
CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN LATERAL (SELECT a.attname, a.attcollation FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0 OFFSET 0) AS a ON true
LEFT JOIN pg_catalog.pg_opclass AS opc ON opc.oid = x.indclass[k.ord - 1]
LEFT JOIN pg_catalog.pg_constraint AS con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_catalog.pg_description AS d
  ON d.objoid = i.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE n.nspname = ANY($1::text[]) AND t.relkind IN ('r', 'p') AND NOT t.relispartition
  AND COALESCE(con.contype, '') <> 'x'
ORDER BY x.indexrelid, k.ord
