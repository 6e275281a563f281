-- The key parts of every index of every table, in one query.
SELECT m.name, il.name, il."unique", il.origin, il.partial, ix.seqno, ix.cid, ix.name, ix."desc", ix.coll
FROM sqlite_schema AS m, pragma_index_list(m.name) AS il, pragma_index_xinfo(il.name) AS ix
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND ix.key = 1
ORDER BY m.name, il.name, ix.seqno
