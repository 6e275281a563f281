-- The check constraints of every table of the selected schemas (MariaDB: LEVEL tells column checks apart,
-- among them the json_valid check behind a JSON column).
SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, LEVEL, CHECK_CLAUSE, 'YES'
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA IN ({schemas})
ORDER BY CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME
