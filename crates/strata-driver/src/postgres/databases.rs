//! Databases of the server (throw-away dev databases): listed with whether a session uses them, created, dropped.

use sqlx::Row;

use super::PostgresDriver;
use crate::ServerDatabase;
use crate::error::DriverError;
use crate::quote::double_quote;

impl PostgresDriver {
    /// [`Driver::server_databases`](crate::Driver::server_databases) on this dialect: `pg_database` with
    /// `pg_stat_activity` (sessions of this connection's own backend do not count). The prefix is compared
    /// verbatim (no `LIKE`, whose `_` is a wildcard).
    pub(super) async fn databases_like(
        &mut self,
        prefix: &str,
    ) -> Result<Vec<ServerDatabase>, DriverError> {
        let rows = sqlx::query(
            "SELECT d.datname::text, EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a \
             WHERE a.datid = d.oid AND a.pid <> pg_catalog.pg_backend_pid()) \
             FROM pg_catalog.pg_database d WHERE left(d.datname, length($1)) = $1 ORDER BY 1",
        )
        .bind(prefix)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        rows.iter()
            .map(|r| {
                Ok(ServerDatabase {
                    name: r.try_get(0).map_err(DriverError::sql)?,
                    in_use: r.try_get(1).map_err(DriverError::sql)?,
                })
            })
            .collect()
    }

    /// [`Driver::create_database`](crate::Driver::create_database) on this dialect.
    pub(super) async fn create_db(&mut self, name: &str) -> Result<(), DriverError> {
        self.raw(&format!("CREATE DATABASE {}", double_quote(name)))
            .await
    }

    /// [`Driver::drop_database`](crate::Driver::drop_database) on this dialect.
    pub(super) async fn drop_db(&mut self, name: &str) -> Result<(), DriverError> {
        self.raw(&format!("DROP DATABASE IF EXISTS {}", double_quote(name)))
            .await
    }
}
