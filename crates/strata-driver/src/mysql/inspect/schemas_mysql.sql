-- The selected schemas with their defaults (MySQL has no schema comment).
SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, CAST(NULL AS CHAR)
FROM information_schema.SCHEMATA
WHERE SCHEMA_NAME IN ({schemas})
ORDER BY SCHEMA_NAME
