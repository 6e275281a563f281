-- The selected schemas with their defaults (MariaDB 10.5+ also has SCHEMA_COMMENT; see schemas_mysql.sql).
SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, SCHEMA_COMMENT
FROM information_schema.SCHEMATA
WHERE SCHEMA_NAME IN ({schemas})
ORDER BY SCHEMA_NAME
