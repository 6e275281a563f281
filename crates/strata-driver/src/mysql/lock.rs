//! The migration lock: a `GET_LOCK` named lock, as Atlas takes it.

use std::time::{Duration, Instant};

use sqlx::Row;

use super::MysqlDriver;
use crate::error::DriverError;
use crate::lock::human;

impl MysqlDriver {
    pub(super) async fn lock_holder(&mut self, name: &str) -> Option<String> {
        let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
            .bind(name)
            .fetch_one(self.conn().await.ok()?)
            .await
            .ok()?;
        let id = id?;
        let row = sqlx::query(
            "SELECT CAST(USER AS CHAR), CAST(HOST AS CHAR), CAST(TIME AS SIGNED), CAST(COMMAND AS CHAR) \
             FROM INFORMATION_SCHEMA.PROCESSLIST WHERE ID = ?",
        )
        .bind(id)
        .fetch_optional(self.conn().await.ok()?)
        .await
        .ok()
        .flatten();
        Some(match row {
            Some(r) => {
                let user: String = r.try_get(0).unwrap_or_default();
                let host: String = r.try_get(1).unwrap_or_default();
                let secs: i64 = r.try_get(2).unwrap_or_default();
                let cmd: String = r.try_get(3).unwrap_or_default();
                format!("held by connection {id} (user {user:?} from {host}, {cmd} for {secs}s)")
            }
            None => format!("held by connection {id}"),
        })
    }

    /// [`Driver::lock`](crate::Driver::lock) on this dialect.
    pub(super) async fn acquire(
        &mut self,
        name: &str,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        if self.locks.contains(name) {
            return Ok(());
        }
        let start = Instant::now();
        let secs = i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX);
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(name)
            .bind(secs)
            .fetch_one(self.conn().await?)
            .await
            .map_err(DriverError::sql)?;
        match got {
            Some(1) => {
                self.locks.insert(name.to_string());
                Ok(())
            }
            Some(_) => {
                let holder = self
                    .lock_holder(name)
                    .await
                    .unwrap_or_else(|| "held by another session".into());
                let waited = start.elapsed();
                Err(DriverError::LockTimeout {
                    name: name.to_string(),
                    waited,
                    detail: format!(
                        "named lock {name:?} is {holder}; gave up after {} (--lock-timeout {}). Wait for the other \
                         migration to finish, raise --lock-timeout, or stop the other session",
                        human(waited),
                        human(timeout)
                    ),
                })
            }
            None => Err(DriverError::Sql {
                message: format!(
                    "sql/mysql: unexpected internal error on Lock({name:?}, {})",
                    human(timeout)
                ),
                code: None,
            }),
        }
    }

    /// [`Driver::unlock`](crate::Driver::unlock) on this dialect.
    pub(super) async fn release(&mut self, name: &str) -> Result<(), DriverError> {
        if !self.locks.remove(name) {
            return Err(DriverError::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            });
        }
        let released: Option<i64> = sqlx::query_scalar("SELECT RELEASE_LOCK(?)")
            .bind(name)
            .fetch_one(self.conn().await?)
            .await
            .map_err(DriverError::sql)?;
        if released != Some(1) {
            return Err(DriverError::Unlock {
                message: format!(
                    "sql/mysql: failed releasing a named lock {name:?}: the session no longer holds it (was the \
                     connection reset by a proxy?)"
                ),
            });
        }
        Ok(())
    }
}
