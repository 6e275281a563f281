//! Databases of the server (throw-away dev databases): listed with whether a session uses them, created, dropped.

use sqlx::Row;

use super::MysqlDriver;
use crate::ServerDatabase;
use crate::error::DriverError;
use crate::quote::backquote;

impl MysqlDriver {
    /// [`Driver::server_databases`](crate::Driver::server_databases) on this dialect: `information_schema.SCHEMATA`
    /// with `information_schema.PROCESSLIST` (a session counts when its current database is the one listed; this
    /// connection does not count). Without the `PROCESS` privilege the list shows only the user's own sessions.
    pub(super) async fn databases_like(
        &mut self,
        prefix: &str,
    ) -> Result<Vec<ServerDatabase>, DriverError> {
        let rows = sqlx::query(
            "SELECT CAST(s.SCHEMA_NAME AS CHAR), EXISTS (SELECT 1 FROM information_schema.PROCESSLIST p \
             WHERE p.DB = s.SCHEMA_NAME AND p.ID <> CONNECTION_ID()) \
             FROM information_schema.SCHEMATA s WHERE LEFT(s.SCHEMA_NAME, CHAR_LENGTH(?)) = ? ORDER BY 1",
        )
        .bind(prefix)
        .bind(prefix)
        .fetch_all(self.conn().await?)
        .await
        .map_err(DriverError::sql)?;
        rows.iter()
            .map(|r| {
                let in_use: i64 = r.try_get(1).map_err(DriverError::sql)?;
                Ok(ServerDatabase {
                    name: r.try_get(0).map_err(DriverError::sql)?,
                    in_use: in_use != 0,
                })
            })
            .collect()
    }

    /// [`Driver::create_database`](crate::Driver::create_database) on this dialect.
    pub(super) async fn create_db(&mut self, name: &str) -> Result<(), DriverError> {
        self.raw(&format!("CREATE DATABASE {}", backquote(name)))
            .await
    }

    /// [`Driver::drop_database`](crate::Driver::drop_database) on this dialect.
    pub(super) async fn drop_db(&mut self, name: &str) -> Result<(), DriverError> {
        self.raw(&format!("DROP DATABASE IF EXISTS {}", backquote(name)))
            .await
    }
}
