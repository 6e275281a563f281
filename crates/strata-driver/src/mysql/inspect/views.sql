-- Every view of the selected schemas with its query and check option.
SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA IN ({schemas})
ORDER BY TABLE_SCHEMA, TABLE_NAME
