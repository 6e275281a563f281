//! Catalog lookups (`information_schema`), Atlas's clean check, and whether the objects of an interrupted
//! statement exist.

use strata_migrate::inflight::{Name, Object};

use super::MysqlDriver;
use crate::error::DriverError;
use crate::revisions::RevisionsLocation;

impl MysqlDriver {
    pub(super) async fn schema_exists(&mut self, schema: &str) -> Result<bool, DriverError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?",
        )
        .bind(schema)
        .fetch_one(self.conn().await?)
        .await
        .map_err(DriverError::sql)?;
        Ok(n > 0)
    }

    pub(super) async fn tables_in(&mut self, schema: &str) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? \
             AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME",
        )
        .bind(schema)
        .fetch_all(self.conn().await?)
        .await
        .map_err(DriverError::sql)
    }

    /// Whether one object exists, from `information_schema` (which compares names by the server's rules:
    /// schema and table names as the file system does, the rest case-insensitively).
    pub(super) async fn object_exists(
        &mut self,
        object: &Object,
    ) -> Result<Option<bool>, DriverError> {
        let bound = self.bound.clone();
        let schema = |n: &Name| n.schema.clone().or_else(|| bound.clone());
        let (sql, binds): (&str, Vec<Option<String>>) = match object {
            Object::Schema(s) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?",
                vec![Some(s.clone())],
            ),
            Object::Table(n) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
                vec![schema(n), Some(n.name.clone())],
            ),
            Object::View(n) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND TABLE_TYPE = 'VIEW'",
                vec![schema(n), Some(n.name.clone())],
            ),
            Object::Relation(n) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                vec![schema(n), Some(n.name.clone())],
            ),
            Object::Column { table, column } => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND COLUMN_NAME = ?",
                vec![
                    schema(table),
                    Some(table.name.clone()),
                    Some(column.clone()),
                ],
            ),
            Object::Index { table, index } => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND INDEX_NAME = ?",
                vec![schema(table), Some(table.name.clone()), Some(index.clone())],
            ),
            Object::Constraint { table, constraint } => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? \
                 AND TABLE_NAME = ? AND CONSTRAINT_NAME = ?",
                vec![
                    schema(table),
                    Some(table.name.clone()),
                    Some(constraint.clone()),
                ],
            ),
        };
        // An unqualified name on a URL without a database: the statement could not have run, but say nothing.
        let Some(binds) = binds.into_iter().collect::<Option<Vec<String>>>() else {
            return Ok(None);
        };
        let mut q = sqlx::query_scalar::<_, i64>(sql);
        for b in binds {
            q = q.bind(b);
        }
        let n = q
            .fetch_one(self.conn().await?)
            .await
            .map_err(DriverError::sql)?;
        Ok(Some(n > 0))
    }

    /// [`Driver::check_clean`](crate::Driver::check_clean) on this dialect.
    pub(super) async fn unclean_reason(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        if let Some(bound) = self.bound.clone()
            && self.schema_exists(&bound).await?
        {
            let tables = self.tables_in(&bound).await?;
            let only_revisions = loc.schema == bound && tables.len() == 1 && tables[0] == loc.table;
            if tables.is_empty() || only_revisions {
                return Ok(None);
            }
            return Ok(Some(format!(
                "found table {:?} in schema {:?}",
                tables[0], bound
            )));
        }
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME NOT IN \
             ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY SCHEMA_NAME",
        )
        .fetch_all(self.conn().await?)
        .await
        .map_err(DriverError::sql)?;
        match schemas.as_slice() {
            [] => Ok(None),
            [s] => {
                if *s != loc.schema {
                    return Ok(Some(format!("found schema {s:?}")));
                }
                let tables = self.tables_in(s).await?;
                match tables.as_slice() {
                    [] => Ok(None),
                    [t] if *t == loc.table => Ok(None),
                    [t] => Ok(Some(format!("found table {t:?}"))),
                    many => Ok(Some(format!("found multiple tables: {}", many.len()))),
                }
            }
            many => Ok(Some(format!("found multiple schemas: {}", many.len()))),
        }
    }
}
