-- Foreign keys and checks of every table (inherited and partition copies left out): check expressions with
-- pg_get_expr (NOT VALID is a state, not part of the expression), key columns in key order. Key
-- column names by one index lookup each, rather than a hash join with all the table's columns and a sort.
SELECT n.nspname::text, t.relname::text, con.conname::text, con.contype::text,
  CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid) END,
  con.connoinherit,
  rn.nspname::text, rt.relname::text,
  CASE WHEN con.contype = 'f' THEN ARRAY(SELECT (SELECT a.attname::text FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = con.conrelid AND a.attnum = k.num) FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(num, ord) ORDER BY k.ord) END,
  CASE WHEN con.contype = 'f' THEN ARRAY(SELECT (SELECT a.attname::text FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = con.confrelid AND a.attnum = k.num) FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(num, ord) ORDER BY k.ord) END,
  con.confupdtype::text, con.confdeltype::text, con.condeferrable, con.condeferred
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
LEFT JOIN pg_catalog.pg_class AS rt ON rt.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rt.relnamespace
WHERE n.nspname = ANY($1::text[]) AND t.relkind IN ('r', 'p') AND NOT t.relispartition
  AND con.contype IN ('f', 'c') AND con.conislocal AND con.conparentid = 0
ORDER BY con.oid
