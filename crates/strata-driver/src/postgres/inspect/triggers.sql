-- User triggers (internal ones, such as foreign keys', and partition clones left out) with pg_get_triggerdef.
SELECT n.nspname::text, c.relname::text, tg.tgname::text, pg_catalog.pg_get_triggerdef(tg.oid, true)
FROM pg_catalog.pg_trigger AS tg
JOIN pg_catalog.pg_class AS c ON c.oid = tg.tgrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND NOT tg.tgisinternal AND tg.tgparentid = 0
ORDER BY 1, 2, 3
