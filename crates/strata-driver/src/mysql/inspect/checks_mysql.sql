-- The check constraints of every table of the selected schemas (MySQL 8.0.16+: the table comes from
-- TABLE_CONSTRAINTS, which also says whether the check is enforced).
SELECT c.CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME, 'Table', c.CHECK_CLAUSE, t.ENFORCED
FROM information_schema.CHECK_CONSTRAINTS AS c
JOIN information_schema.TABLE_CONSTRAINTS AS t
  ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME
 AND t.CONSTRAINT_TYPE = 'CHECK'
WHERE c.CONSTRAINT_SCHEMA IN ({schemas})
ORDER BY c.CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME
