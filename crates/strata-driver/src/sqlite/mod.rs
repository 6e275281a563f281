//! SQLite: one rusqlite `Connection` used on the calling thread, a per-database lock file held with an OS file lock, transactional DDL.
//!
//! - `url`: the `sqlite://` URL's parameters;
//! - `session`: opening the file, statement execution, transactions (foreign keys checked before commit), the lock
//!   wait limit;
//! - `lock`: the per-database migration lock (Atlas's host-wide lock file is only read);
//! - `revisions_table`: the revisions table's reads and writes; `rows`: its SELECT list and row decoding;
//! - `clean`: catalog lookups and the clean check.
//!
//! - `inspect`: schema inspection into `strata_schema::Realm` (batched catalog queries in `.sql` files beside it).

mod clean;
pub mod inspect;
pub(crate) mod lock;
pub(crate) mod revisions_table;
mod rows;
mod session;
pub(crate) mod url;

use session::{Violation, sql_text};

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use strata_migrate::{Dialect, Revision};

use crate::error::DriverError;
use crate::quote::backquote as quote;
use crate::revisions::RevisionsLocation;
use crate::{Driver, DriverError as E};
use lock::LockFile;
pub use lock::lock_file_for;

/// A SQLite target.
pub struct SqliteDriver {
    conn: rusqlite::Connection,
    url: crate::DbUrl,
    version: String,
    lock_suffix: Option<String>,
    lock_dir: PathBuf,
    busy_timeout: Duration,
    locks: HashMap<String, LockFile>,
    /// A file's transaction is open (what [`Driver::in_transaction`] reports).
    in_tx: bool,
    /// The open file's transaction is a savepoint inside `group`'s transaction.
    savepoint: bool,
    /// Files whose commit was deferred: still in the transaction they share with the files after them (see
    /// `crate::group`).
    group: Option<crate::group::Group>,
    /// Deferred files a whole-transaction rollback took with it, for [`Driver::take_rolled_back`].
    rolled_back: Vec<String>,
    fk_restore: bool,
    fk_before: Vec<Violation>,
    /// `PRAGMA foreign_keys` as last read or set, while nothing can have changed it (`None`: read it again).
    /// Inside a transaction the pragma is a no-op, so only a statement run outside one can change it.
    fk_on: Option<bool>,
}

impl std::fmt::Debug for SqliteDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDriver")
            .field("url", &self.url.redacted)
            .field("version", &self.version)
            .field("lock_dir", &self.lock_dir)
            .finish_non_exhaustive()
    }
}

impl SqliteDriver {}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn url(&self) -> &crate::DbUrl {
        &self.url
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

    /// A deferred file stays in an open transaction, shared with the files after it, until a durable commit (see
    /// `crate::group`).
    fn defers_commits(&self) -> bool {
        true
    }

    fn take_rolled_back(&mut self) -> Vec<String> {
        std::mem::take(&mut self.rolled_back)
    }

    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError> {
        self.commit_group().await?;
        self.acquire(name, timeout).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        self.commit_group().await?;
        self.release(name).await
    }

    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {}.sqlite_master WHERE type = 'table' AND name = ?",
            quote(schema)
        );
        let sql = sql_text(&sql)?;
        let n: i64 = self
            .with_conn(|c| c.query_row(sql, [table], |r| r.get(0)))
            .map_err(E::sqlite)?;
        Ok(n > 0)
    }

    async fn revisions_table_exists(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<bool, DriverError> {
        self.table_exists(&loc.schema, &loc.table).await
    }

    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError> {
        self.commit_group().await?;
        self.ensure_table(loc).await
    }

    async fn read_revisions(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        self.read_all(loc).await
    }

    async fn read_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<Option<Revision>, DriverError> {
        self.read_one(loc, version).await
    }

    async fn upsert_revision(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        // Outside a file's transaction the write commits, with whatever deferred files the group holds.
        self.upsert(loc, rev).await?;
        self.commit_group().await
    }

    async fn delete_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError> {
        self.delete(loc, version).await?;
        self.commit_group().await
    }

    async fn check_clean(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        self.unclean_reason(loc).await
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        self.begin_tx().await
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        self.commit_tx().await
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        self.rollback_tx().await
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        // A statement outside a file's transaction runs outside any (`VACUUM`, `PRAGMA foreign_keys`).
        self.commit_group().await?;
        self.forget_fk_if_changed(sql);
        self.statement(sql).await
    }

    async fn begin_execute(&mut self, sql: &str) -> Result<Result<(), DriverError>, DriverError> {
        self.begin_then_execute(sql).await
    }

    async fn upsert_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        durability: crate::Durability,
    ) -> Result<(), DriverError> {
        self.upsert_then_commit(loc, rev, durability).await
    }

    async fn set_ddl_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError> {
        self.set_limits(statement_timeout, ddl_lock_timeout).await
    }

    fn inspector(&mut self) -> Option<&mut (dyn crate::inspect::Inspect + Send)> {
        Some(self)
    }

    async fn query_first_column(
        &mut self,
        sql: &str,
        args: &[String],
    ) -> Result<Vec<Option<String>>, E> {
        self.commit_group().await?;
        let sql = sql_text(sql)?;
        self.with_conn(|c| {
            let mut stmt = c.prepare(sql).map_err(E::sqlite)?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(args))
                .map_err(E::sqlite)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(E::sqlite)? {
                out.push(first_column_text(row.get_ref(0).map_err(E::sqlite)?)?);
            }
            Ok(out)
        })
    }

    async fn close(mut self: Box<Self>) -> Result<(), DriverError> {
        let committed = self.commit_group().await;
        let locks: Vec<LockFile> = self.locks.drain().map(|(_, l)| l).collect();
        for l in locks {
            let _ = l.release();
        }
        let conn = self.conn;
        committed?;
        session::on_this_thread(|| conn.close().map_err(|(_, e)| E::sqlite(e)))
    }
}

/// Column 0 of a row as text, as the other dialects read it (`crate::query::first_column_text`): text as it is,
/// numbers in Rust's spelling; a blob is refused.
fn first_column_text(v: rusqlite::types::ValueRef<'_>) -> Result<Option<String>, DriverError> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(_) => {
            return Err(E::Unsupported {
                what: "reading a first column of type BLOB".into(),
                dialect: "SQLite",
                hint: "cast the column to text in the query".to_owned(),
            });
        }
    })
}
