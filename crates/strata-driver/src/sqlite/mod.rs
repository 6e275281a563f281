//! SQLite: one `SqliteConnection`, Atlas's lock file (plus an OS file lock), transactional DDL.

pub(crate) mod url;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row, SqliteConnection};
use strata_migrate::{Dialect, Revision};

use crate::error::DriverError;
use crate::lock::{Backoff, FileLockBusy, LockFile, human, lock_file_path};
use crate::quote::{backquote as quote, sqlite_literal as sql_string};
use crate::revisions::{self, RawRow, RevisionsLocation, RevisionsSql, Upsert};
use crate::url::{DbUrl, Target};
use crate::{Driver, DriverError as E};

/// The revisions table as Atlas's ent schema creates it on SQLite.
pub(crate) const REVISIONS: RevisionsSql = RevisionsSql {
    quote,
    column_defs: [
        ("version", "text NOT NULL"),
        ("description", "text NOT NULL"),
        ("type", "integer NOT NULL DEFAULT (2)"),
        ("applied", "integer NOT NULL DEFAULT (0)"),
        ("total", "integer NOT NULL DEFAULT (0)"),
        ("executed_at", "datetime NOT NULL"),
        ("execution_time", "integer NOT NULL"),
        ("error", "text NULL"),
        ("error_stmt", "text NULL"),
        ("hash", "text NOT NULL"),
        ("partial_hashes", "json NULL"),
        ("operator_version", "text NOT NULL"),
    ],
    create_qualified: false,
    create_options: "",
    param: "?",
    upsert_params: "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
    upsert: Upsert::OnConflict {
        excluded: "excluded",
    },
};

/// A SQLite target.
pub struct SqliteDriver {
    conn: SqliteConnection,
    redacted: String,
    version: String,
    lock_suffix: Option<String>,
    lock_dir: PathBuf,
    busy_timeout: Duration,
    locks: HashMap<String, LockFile>,
    in_tx: bool,
    fk_restore: bool,
    fk_before: Vec<Violation>,
}

impl std::fmt::Debug for SqliteDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDriver")
            .field("url", &self.redacted)
            .field("version", &self.version)
            .field("lock_dir", &self.lock_dir)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    table: String,
    rowid: Option<i64>,
    parent: String,
    fkid: i64,
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
            redacted: url.redacted.clone(),
            version,
            lock_suffix: s.lock_suffix.clone(),
            lock_dir: std::env::temp_dir(),
            busy_timeout: s.busy_timeout,
            locks: HashMap::new(),
            in_tx: false,
            fk_restore: false,
            fk_before: Vec::new(),
        })
    }

    /// Uses `dir` instead of the OS temporary directory for lock files (tests; Atlas always uses the latter).
    pub fn with_lock_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_dir = dir.into();
        self
    }

    /// The lock file [`Driver::lock`] uses for `name`.
    pub fn lock_path(&self, name: &str) -> PathBuf {
        lock_file_path(&self.lock_dir, name, self.lock_suffix.as_deref())
    }

    async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(sql_text(sql.to_string())?)
            .execute(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(())
    }

    async fn violations(&mut self) -> Result<Vec<Violation>, DriverError> {
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

    async fn restore_fk(&mut self, result: Result<(), DriverError>) -> Result<(), DriverError> {
        if std::mem::take(&mut self.fk_restore) {
            let r = self.raw("PRAGMA foreign_keys = on").await;
            if let (Ok(()), Err(e)) = (&result, r) {
                return Err(e);
            }
        }
        result
    }

    async fn tables(&mut self) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(E::sql)
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn url_redacted(&self) -> &str {
        &self.redacted
    }

    fn bound_schema(&self) -> Option<&str> {
        Some("main")
    }

    fn server_version(&self) -> &str {
        &self.version
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError> {
        if self.locks.contains_key(name) {
            return Ok(());
        }
        let path = self.lock_path(name);
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(100 * 365 * 86_400));
        let mut backoff = Backoff::new();
        loop {
            match LockFile::try_acquire(&path, timeout)? {
                Ok(held) => {
                    self.locks.insert(name.to_string(), held);
                    return Ok(());
                }
                Err(busy) if Instant::now() >= deadline => {
                    let waited = start.elapsed();
                    let who = match busy {
                        FileLockBusy::Strata => {
                            "a running Strata process holds it (its OS lock on the file is taken)"
                                .to_string()
                        }
                        FileLockBusy::Atlas { expires_unix_nanos } => {
                            let left = expires_unix_nanos
                                - time::OffsetDateTime::now_utc().unix_timestamp_nanos();
                            format!(
                                "Atlas holds it for another {} (expiry written in the file); if no Atlas migration \
                                 is running, delete the file",
                                human(Duration::from_nanos(
                                    u64::try_from(left.max(0)).unwrap_or(u64::MAX)
                                ))
                            )
                        }
                    };
                    let base = match &self.lock_suffix {
                        Some(s) => format!("{name}_{s}"),
                        None => name.to_string(),
                    };
                    return Err(E::LockTimeout {
                        name: name.to_string(),
                        waited,
                        detail: format!(
                            "sql/sqlite: lock on {base:?} already taken: lock file {}: {who}; gave up after {} \
                             (--lock-timeout {}). Wait for the other migration to finish or raise --lock-timeout",
                            path.display(),
                            human(waited),
                            human(timeout)
                        ),
                    });
                }
                Err(_) => tokio::time::sleep(backoff.next_delay(deadline)).await,
            }
        }
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        match self.locks.remove(name) {
            Some(l) => l.release(),
            None => Err(E::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            }),
        }
    }

    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {}.sqlite_master WHERE type = 'table' AND name = ?",
            quote(schema)
        );
        let n: i64 = sqlx::query_scalar(sql_text(sql)?)
            .bind(table)
            .fetch_one(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(n > 0)
    }

    async fn revisions_table_exists(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<bool, DriverError> {
        self.table_exists(&loc.schema, &loc.table).await
    }

    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError> {
        if loc.schema != "main" {
            return Err(E::SqliteRevisionsSchema {
                schema: loc.schema.clone(),
            });
        }
        if !self.table_exists(&loc.schema, &loc.table).await? {
            return self.raw(&REVISIONS.create_table(loc)).await;
        }
        let sql = format!(
            "SELECT name FROM pragma_table_info({})",
            sql_string(&loc.table)
        );
        let existing: Vec<String> = sqlx::query_scalar(sql_text(sql)?)
            .fetch_all(&mut self.conn)
            .await
            .map_err(E::sql)?;
        for ddl in REVISIONS.add_missing_columns(loc, &existing) {
            self.raw(&ddl).await?;
        }
        Ok(())
    }

    async fn read_revisions(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        let sql = REVISIONS.where_not_version_ordered(&select_sql(loc));
        let rows = sqlx::query(sql_text(sql)?)
            .bind(strata_migrate::revision::CLOUD_IDENTIFIER_VERSION)
            .fetch_all(&mut self.conn)
            .await
            .map_err(E::sql)?;
        rows.iter()
            .map(|r| decode_row(r)?.into_revision())
            .collect()
    }

    async fn read_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<Option<Revision>, DriverError> {
        if version == strata_migrate::revision::CLOUD_IDENTIFIER_VERSION {
            return Ok(None);
        }
        let sql = REVISIONS.where_version(&select_sql(loc));
        let row = sqlx::query(sql_text(sql)?)
            .bind(version)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(E::sql)?;
        row.map(|r| decode_row(&r)?.into_revision()).transpose()
    }

    async fn upsert_revision(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_write(&rev.version)?;
        let sql = REVISIONS.upsert_bound(loc);
        // Like mattn/go-sqlite3 under Atlas: the time as text, the JSON as a blob.
        sqlx::query(sql_text(sql)?)
            .bind(&rev.version)
            .bind(&rev.description)
            .bind(revisions::to_i64("type", rev.kind.0)?)
            .bind(revisions::to_i64("applied", rev.applied)?)
            .bind(revisions::to_i64("total", rev.total)?)
            .bind(revisions::sqlite_datetime(rev.executed_at_unix_nanos)?)
            .bind(rev.execution_time_nanos)
            .bind(&rev.error)
            .bind(&rev.error_stmt)
            .bind(&rev.hash)
            .bind(revisions::encode_partial_hashes(&rev.partial_hashes).into_bytes())
            .bind(&rev.operator_version)
            .execute(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(())
    }

    async fn delete_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_delete(version)?;
        let sql = REVISIONS.delete(loc);
        sqlx::query(sql_text(sql)?)
            .bind(version)
            .execute(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(())
    }

    async fn check_clean(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM pragma_database_list WHERE name <> 'temp' ORDER BY seq",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(E::sql)?;
        match schemas.as_slice() {
            [] => return Ok(None),
            [s] if s != "main" => return Ok(Some(format!("found schema {s:?}"))),
            [_] => {}
            many => return Ok(Some(format!("found multiple schemas: {}", many.len()))),
        }
        let tables = self.tables().await?;
        Ok(match tables.as_slice() {
            [] => None,
            [t] if *t == loc.table => None,
            [t] => Some(format!("found table {t:?}")),
            many => Some(format!("found multiple tables: {}", many.len())),
        })
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        if self.in_tx {
            return Err(E::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut self.conn)
            .await
            .map_err(E::sql)?;
        if on != 0 {
            self.raw("PRAGMA foreign_keys = off").await?;
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

    async fn commit(&mut self) -> Result<(), DriverError> {
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

    async fn rollback(&mut self) -> Result<(), DriverError> {
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

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        self.raw(sql).await
    }

    async fn set_ddl_limits(
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

    async fn close(mut self: Box<Self>) -> Result<(), DriverError> {
        let locks: Vec<LockFile> = self.locks.drain().map(|(_, l)| l).collect();
        for l in locks {
            let _ = l.release();
        }
        self.conn.close().await.map_err(E::sql)
    }
}

/// Every SQL text this driver sends goes through here. SQLite stops reading SQL at a NUL byte, and sqlx's loop over
/// the statements of a text then never gets past it (it spins forever, holding the migration lock), so a text with
/// a NUL byte is refused before it reaches SQLite.
fn sql_text(sql: String) -> Result<AssertSqlSafe<String>, DriverError> {
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

fn select_sql(loc: &RevisionsLocation) -> String {
    format!(
        "SELECT `version`, `description`, `type`, `applied`, `total`, typeof(`executed_at`), \
         CAST(`executed_at` AS TEXT), `execution_time`, `error`, `error_stmt`, `hash`, \
         CAST(`partial_hashes` AS TEXT), `operator_version` FROM {}",
        REVISIONS.table(loc)
    )
}

fn decode_row(r: &SqliteRow) -> Result<RawRow, DriverError> {
    let version: String = r.try_get(0).map_err(E::sql)?;
    let bad = |e: sqlx::Error| E::BadRevision {
        version: version.clone(),
        reason: e.to_string(),
    };
    let kind: String = r.try_get(5).map_err(bad)?;
    let at: Option<String> = r.try_get(6).map_err(bad)?;
    let at = at.unwrap_or_default();
    let executed_at_unix_nanos = match kind.as_str() {
        "integer" => at.parse::<i64>().ok().map(revisions::sqlite_int_datetime),
        "real" => at.parse::<f64>().ok().map(|f| (f * 1e9) as i128),
        _ => revisions::parse_sqlite_datetime(&at),
    }
    .ok_or_else(|| E::BadRevision {
        version: version.clone(),
        reason: format!("executed_at {at:?} is not a date-time"),
    })?;
    Ok(RawRow {
        description: r.try_get(1).map_err(bad)?,
        kind: i128::from(r.try_get::<i64, _>(2).map_err(bad)?),
        applied: i128::from(r.try_get::<i64, _>(3).map_err(bad)?),
        total: i128::from(r.try_get::<i64, _>(4).map_err(bad)?),
        executed_at_unix_nanos,
        execution_time: r.try_get(7).map_err(bad)?,
        error: r.try_get(8).map_err(bad)?,
        error_stmt: r.try_get(9).map_err(bad)?,
        hash: r.try_get(10).map_err(bad)?,
        partial_hashes: r.try_get(11).map_err(bad)?,
        operator_version: r.try_get(12).map_err(bad)?,
        version,
    })
}
