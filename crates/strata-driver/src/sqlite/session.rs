//! The session: opening the file (URL to options), statement execution (no NUL bytes), transactions with
//! foreign keys off and checked before commit, and the lock wait limit.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row, SqliteConnection};

use futures_util::StreamExt;

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::url::{DbUrl, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Violation {
    table: String,
    rowid: Option<i64>,
    parent: String,
    fkid: i64,
}

/// Every SQL text this driver sends goes through here. SQLite stops reading SQL at a NUL byte, and sqlx's loop over
/// the statements of a text then never gets past it (it spins forever, holding the migration lock), so a text with
/// a NUL byte is refused before it reaches SQLite.
pub(super) fn sql_text(sql: String) -> Result<AssertSqlSafe<String>, DriverError> {
    match sql.find('\0') {
        Some(at) => Err(E::Sql {
            message: format!(
                "sql/sqlite: the statement contains a NUL byte (at byte {at}); SQLite stops reading SQL there, so it \
                 cannot run it: remove the NUL byte"
            ),
            code: None,
        }),
        None => Ok(AssertSqlSafe(sql)),
    }
}

impl SqliteDriver {
    /// Opens a parsed `sqlite://` URL. A missing file is created (unless `mode=ro|rw`); foreign keys stay off
    /// unless `_fk=1`, like mattn/go-sqlite3.
    pub async fn connect(url: DbUrl) -> Result<Self, DriverError> {
        let Target::Sqlite(s) = &url.target else {
            return Err(E::UnknownScheme {
                scheme: "not sqlite".into(),
            });
        };
        let mut o = SqliteConnectOptions::new()
            .foreign_keys(s.foreign_keys)
            .busy_timeout(s.busy_timeout)
            .read_only(s.read_only)
            .create_if_missing(s.create)
            .shared_cache(s.shared_cache);
        o = if s.in_memory {
            o.filename(":memory:").in_memory(true)
        } else {
            o.filename(&s.path)
        };
        // The pragmas are sent as SQL text when the connection opens, where a NUL byte would spin sqlx forever
        // (see `sql_text`).
        for (field, value) in [
            ("_journal_mode", &s.journal_mode),
            ("_sync", &s.synchronous),
            ("_locking_mode", &s.locking_mode),
        ] {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                return Err(E::InvalidUrl {
                    url: url.redacted.clone(),
                    field: field.into(),
                    reason: "the value contains a NUL byte (%00); remove it".into(),
                });
            }
        }
        if let Some(j) = &s.journal_mode {
            o = o.pragma("journal_mode", j.clone());
        }
        if let Some(v) = &s.synchronous {
            o = o.pragma("synchronous", v.clone());
        }
        if let Some(v) = &s.locking_mode {
            o = o.pragma("locking_mode", v.clone());
        }
        let o = o.disable_statement_logging();
        let mut conn = SqliteConnection::connect_with(&o).await.map_err(|e| E::Connect {
            url: url.redacted.clone(),
            message: e.to_string(),
            hint: format!(
                "check that {:?} exists (or that its directory is writable) and is a SQLite database",
                s.path
            ),
        })?;
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&mut conn)
            .await
            .map_err(E::sql)?;
        Ok(Self {
            conn,
            url: url.clone(),
            version,
            lock_suffix: s.lock_suffix.clone(),
            lock_dir: std::env::temp_dir(),
            busy_timeout: s.busy_timeout,
            locks: HashMap::new(),
            in_tx: false,
            fk_restore: false,
            fk_before: Vec::new(),
            fk_on: None,
        })
    }

    pub(super) async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(sql_text(sql.to_string())?)
            .execute(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(())
    }

    pub(super) async fn violations(&mut self) -> Result<Vec<Violation>, DriverError> {
        let rows = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut self.conn)
            .await
            .map_err(E::sql)?;
        rows.iter()
            .map(|r| {
                Ok(Violation {
                    table: r.try_get(0).map_err(E::sql)?,
                    rowid: r.try_get(1).map_err(E::sql)?,
                    parent: r.try_get(2).map_err(E::sql)?,
                    fkid: r.try_get(3).map_err(E::sql)?,
                })
            })
            .collect()
    }

    pub(super) async fn restore_fk(
        &mut self,
        result: Result<(), DriverError>,
    ) -> Result<(), DriverError> {
        if std::mem::take(&mut self.fk_restore) {
            let r = self.raw("PRAGMA foreign_keys = on").await;
            self.fk_on = r.is_ok().then_some(true);
            if let (Ok(()), Err(e)) = (&result, r) {
                return Err(e);
            }
        }
        result
    }

    /// [`Driver::begin`](crate::Driver::begin) on this dialect.
    pub(super) async fn begin_tx(&mut self) -> Result<(), DriverError> {
        if self.in_tx {
            return Err(E::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        if self.foreign_keys_on().await? {
            self.raw("PRAGMA foreign_keys = off").await?;
            self.fk_on = Some(false);
            self.fk_restore = true;
        }
        if let Err(e) = self.raw("BEGIN").await {
            return self.restore_fk(Err(e)).await;
        }
        self.in_tx = true;
        if self.fk_restore {
            match self.violations().await {
                Ok(v) => self.fk_before = v,
                Err(e) => {
                    let _ = self.raw("ROLLBACK").await;
                    self.in_tx = false;
                    return self.restore_fk(Err(e)).await;
                }
            }
        }
        Ok(())
    }

    /// `PRAGMA foreign_keys`, read once and then known until a statement outside a transaction may change it.
    async fn foreign_keys_on(&mut self) -> Result<bool, DriverError> {
        if let Some(on) = self.fk_on {
            return Ok(on);
        }
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut self.conn)
            .await
            .map_err(E::sql)?;
        self.fk_on = Some(on != 0);
        Ok(on != 0)
    }

    /// Before a migration statement: one run outside a transaction that names the pragma may change
    /// `foreign_keys` (inside one, setting it is a no-op), so its value is read again at the next `begin`.
    pub(super) fn forget_fk_if_changed(&mut self, sql: &str) {
        if !self.in_tx
            && sql
                .as_bytes()
                .windows(12)
                .any(|w| w.eq_ignore_ascii_case(b"foreign_keys"))
        {
            self.fk_on = None;
        }
    }

    /// Runs a text of several statements; the number of statements that completed, and the first error. SQLite
    /// prepares each statement only once the one before it is done, so a statement that does not parse counts as
    /// failed where it stands.
    pub(super) async fn counted(
        &mut self,
        sql: String,
    ) -> Result<(usize, Result<(), sqlx::Error>), DriverError> {
        let text = sql_text(sql)?;
        let mut done = 0;
        let mut results = sqlx::raw_sql(text).execute_many(&mut self.conn);
        while let Some(item) = results.next().await {
            match item {
                Ok(_) => done += 1,
                Err(e) => return Ok((done, Err(e))),
            }
        }
        Ok((done, Ok(())))
    }

    /// [`Driver::begin_execute`](crate::Driver::begin_execute) on this dialect: `BEGIN` and the statement in one
    /// call to the connection's thread when foreign keys are known to be off (otherwise `begin` has its own work
    /// to do first).
    pub(super) async fn begin_then_execute(
        &mut self,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        if self.in_tx || self.fk_on != Some(false) {
            self.begin_tx().await?;
            return Ok(self.raw(sql).await);
        }
        // The statement's text follows unchanged.
        let mut text = String::with_capacity(sql.len() + 7);
        text.push_str("BEGIN;\n");
        text.push_str(sql);
        match self.counted(text).await? {
            (_, Ok(())) => {
                self.in_tx = true;
                Ok(Ok(()))
            }
            (0, Err(e)) => Err(E::sql(e)),
            (_, Err(e)) => {
                self.in_tx = true;
                Ok(Err(E::sql(e)))
            }
        }
    }

    /// [`Driver::commit`](crate::Driver::commit) on this dialect.
    pub(super) async fn commit_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(E::Transaction("commit without an open transaction".into()));
        }
        self.in_tx = false;
        if self.fk_restore {
            let before = std::mem::take(&mut self.fk_before);
            let after = match self.violations().await {
                Ok(v) => v,
                Err(e) => {
                    let _ = self.raw("ROLLBACK").await;
                    return self.restore_fk(Err(e)).await;
                }
            };
            let new: Vec<String> = after
                .iter()
                .filter(|v| !before.contains(v))
                .map(|v| match v.rowid {
                    Some(r) => format!("{}(rowid {r}) -> {} (fk {})", v.table, v.parent, v.fkid),
                    None => format!("{} -> {} (fk {})", v.table, v.parent, v.fkid),
                })
                .collect();
            if !new.is_empty() {
                let _ = self.raw("ROLLBACK").await;
                return self
                    .restore_fk(Err(E::ForeignKeyViolation {
                        violations: new.join(", "),
                    }))
                    .await;
            }
        }
        let r = self.raw("COMMIT").await;
        self.restore_fk(r).await
    }

    /// [`Driver::rollback`](crate::Driver::rollback) on this dialect.
    pub(super) async fn rollback_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(E::Transaction(
                "rollback without an open transaction".into(),
            ));
        }
        self.in_tx = false;
        self.fk_before.clear();
        let r = self.raw("ROLLBACK").await;
        self.restore_fk(r).await
    }

    /// [`Driver::set_ddl_limits`](crate::Driver::set_ddl_limits) on this dialect.
    pub(super) async fn set_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError> {
        if statement_timeout.is_some() {
            return Err(E::Unsupported {
                what: "a statement time limit".into(),
                dialect: "SQLite",
                hint: "SQLite cannot interrupt a statement after a time; drop the statement-timeout option \
                       (the lock wait limit maps to busy_timeout)"
                    .into(),
            });
        }
        let ms = ddl_lock_timeout.unwrap_or(self.busy_timeout).as_millis();
        self.raw(&format!("PRAGMA busy_timeout = {ms}")).await
    }
}
