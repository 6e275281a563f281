//! The migration lock: a session-level advisory lock keyed by the FNV-1 hash of its name, as Atlas takes it.

use std::time::{Duration, Instant};

use sqlx::Row;

use super::PostgresDriver;
use super::session::SESSION_INFO_COLUMNS;
use crate::error::DriverError;
use crate::lock::{Backoff, human};

impl PostgresDriver {
    /// Who holds advisory lock `id` in this database, for the timeout message.
    pub(super) async fn lock_holder(&mut self, id: i64) -> Option<String> {
        let row = sqlx::query(
            "SELECT a.pid, COALESCE(a.application_name, ''), COALESCE(a.usename::text, ''), \
             COALESCE(a.client_addr::text, 'local socket'), \
             COALESCE(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '?'), \
             COALESCE(a.state, '?') \
             FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.classid::text::bigint = ($1 >> 32) AND l.objid::text::bigint = ($1 & 4294967295) \
             AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) \
             LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await
        .ok()??;
        let pid: i32 = row.try_get(0).ok()?;
        let app: String = row.try_get(1).ok()?;
        let user: String = row.try_get(2).ok()?;
        let client: String = row.try_get(3).ok()?;
        let since: String = row.try_get(4).ok()?;
        let state: String = row.try_get(5).ok()?;
        Some(format!(
            "held by pid {pid} (application_name {app:?}, user {user:?}, client {client}, connected since {since}, \
             state {state})"
        ))
    }

    /// [`Driver::lock`](crate::Driver::lock) on this dialect.
    pub(super) async fn acquire(
        &mut self,
        name: &str,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        if self.locks.contains_key(name) {
            return Ok(());
        }
        let id = i64::from(fnv1_32(name));
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(100 * 365 * 86_400));
        let mut backoff = Backoff::new();
        loop {
            // The first attempt also reads the session's facts: one round trip instead of two.
            let learn = self.session.is_none();
            let row = self
                .simple_row(if learn {
                    format!("SELECT pg_try_advisory_lock({id}::bigint), {SESSION_INFO_COLUMNS}")
                } else {
                    format!("SELECT pg_try_advisory_lock({id}::bigint)")
                })
                .await?;
            if learn {
                self.remember_session(&row, 1)?;
            }
            let got: bool = row.try_get(0).map_err(DriverError::sql)?;
            if got {
                self.locks.insert(name.to_string(), id);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let holder = self
                    .lock_holder(id)
                    .await
                    .unwrap_or_else(|| "held by another session".into());
                let waited = start.elapsed();
                return Err(DriverError::LockTimeout {
                    name: name.to_string(),
                    waited,
                    detail: format!(
                        "advisory lock {id} ({name:?}) is {holder}; gave up after {} (--lock-timeout {}). Wait for \
                         the other migration to finish, raise --lock-timeout, or stop the other session",
                        human(waited),
                        human(timeout)
                    ),
                });
            }
            tokio::time::sleep(backoff.next_delay(deadline)).await;
        }
    }

    /// [`Driver::unlock`](crate::Driver::unlock) on this dialect.
    pub(super) async fn release(&mut self, name: &str) -> Result<(), DriverError> {
        let Some(id) = self.locks.remove(name) else {
            return Err(DriverError::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            });
        };
        let pooler_hint = "the session no longer holds it. A session-level advisory lock cannot work through \
                           PgBouncer or another transaction-pooling proxy: connect to the server directly or use \
                           session pooling";
        // The backend that took the lock (known since the lock's first attempt).
        let locker = self.session_info().await?.backend_pid;
        // One round trip; the lock is released only in our own session (a pooler may have swapped it, and
        // unlocking another client's session could free a lock it holds).
        let row = self
            .simple_row(format!(
                "SELECT pg_backend_pid(), CASE WHEN pg_backend_pid() = {locker} THEN pg_advisory_unlock({id}::bigint) END"
            ))
            .await?;
        let pid: i32 = row.try_get(0).map_err(DriverError::sql)?;
        let released: Option<bool> = row.try_get(1).map_err(DriverError::sql)?;
        if pid != locker {
            return Err(DriverError::Unlock {
                message: format!(
                    "sql/postgres: failed releasing lock {id}: backend pid changed from {locker} to {pid}, so {pooler_hint}"
                ),
            });
        }
        if released != Some(true) {
            return Err(DriverError::Unlock {
                message: format!("sql/postgres: failed releasing lock {id}: {pooler_hint}"),
            });
        }
        Ok(())
    }
}

/// 32-bit FNV-1 (not FNV-1a) of `name`: the Postgres advisory-lock id Atlas uses.
pub fn fnv1_32(name: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for b in name.bytes() {
        h = h.wrapping_mul(16_777_619);
        h ^= u32::from(b);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1_values_from_atlas() {
        assert_eq!(fnv1_32("atlas_migrate_execute"), 2_686_470_616);
        assert_eq!(fnv1_32("atlas_migrate_diff"), 361_947_982);
        assert_eq!(fnv1_32("atlas_lint"), 526_800_194);
        assert_eq!(fnv1_32("a"), 84_696_446);
    }
}
