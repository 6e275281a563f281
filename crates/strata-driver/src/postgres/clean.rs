//! Catalog lookups (schemas, tables) and Atlas's clean check.

use sqlx::Row;

use super::PostgresDriver;
use crate::error::DriverError;
use crate::quote::pg_literal as literal;
use crate::revisions::RevisionsLocation;

/// Whether a base table `schema.table` exists, with `{schema}` and `{table}` to fill in as literals.
pub(super) fn table_exists_sql(schema: &str, table: &str) -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = {} AND c.relname = {} AND c.relkind IN ('r', 'p'))",
        literal(schema),
        literal(table)
    )
}

impl PostgresDriver {
    pub(super) async fn schema_exists(&mut self, schema: &str) -> Result<bool, DriverError> {
        let row = self
            .simple_row(format!(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = {})",
                literal(schema)
            ))
            .await?;
        row.try_get(0).map_err(DriverError::sql)
    }

    /// Base tables of a schema as Atlas inspects them (partitions excluded), ordered by name.
    pub(super) async fn tables_in(&mut self, schema: &str) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT t1.table_name::text FROM information_schema.tables AS t1 \
             JOIN pg_catalog.pg_namespace AS t2 ON t2.nspname = t1.table_schema \
             JOIN pg_catalog.pg_class AS t3 ON t3.relnamespace = t2.oid AND t3.relname = t1.table_name \
             WHERE t1.table_type = 'BASE TABLE' AND NOT COALESCE(t3.relispartition, false) AND t1.table_schema = $1 \
             ORDER BY t1.table_name",
        )
        .bind(schema)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)
    }

    /// [`Driver::check_clean`](crate::Driver::check_clean) on this dialect.
    pub(super) async fn unclean_reason(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        if let Some(bound) = self.bound.clone() {
            if !self.schema_exists(&bound).await? {
                return Ok(None);
            }
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
            "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name NOT IN \
             ('information_schema', 'pg_catalog', 'pg_toast', 'crdb_internal', 'pg_extension') \
             AND schema_name NOT LIKE 'pg_%temp_%' ORDER BY schema_name",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        for s in schemas {
            let tables = self.tables_in(&s).await?;
            if tables.is_empty() && s == "public" {
                continue;
            }
            if tables.is_empty() || s != loc.schema {
                return Ok(Some(format!("found schema {s:?}")));
            }
            if tables.len() > 1 {
                return Ok(Some(format!(
                    "found {} tables in schema {s:?}",
                    tables.len()
                )));
            }
            if tables[0] != loc.table {
                return Ok(Some(format!("found table {:?} in schema {s:?}", tables[0])));
            }
        }
        Ok(None)
    }
}
