//! MySQL and MariaDB: one `MySqlConnection`, `GET_LOCK` named locks, DDL implicitly commits.
//!
//! The session keeps the server's time zone and SQL mode, as go-sql-driver (Atlas) does: `executed_at`
//! (`timestamp`) is written and read as UTC wall-clock text, so rows round-trip with Atlas's.
//!
//! - `url`: the `mysql://` / `maria://` URL's parameters;
//! - `session`: connecting, statement execution, transactions, DDL limits;
//! - `lock`: the `GET_LOCK` migration lock;
//! - `revisions_table`: the revisions table's reads and writes; `rows`: its SELECT list and row decoding;
//! - `clean`: catalog lookups, the clean check, whether objects exist.
//!
//! - `inspect`: schema inspection into `strata_schema::Realm` (batched `information_schema` queries in `.sql`
//!   files beside it).

mod clean;
mod databases;
pub mod inspect;
mod lock;
pub(crate) mod revisions_table;
mod rows;
mod session;
pub(crate) mod url;

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Connection, MySqlConnection};
use strata_migrate::inflight::Object;
use strata_migrate::{Dialect, Revision};

use crate::Driver;
use crate::error::DriverError;
use crate::revisions::RevisionsLocation;

/// A MySQL or MariaDB target.
pub struct MysqlDriver {
    conn: MySqlConnection,
    url: crate::DbUrl,
    bound: Option<String>,
    version: String,
    mariadb: bool,
    /// `CONNECTION_ID()`, read with the version.
    connection_id: u64,
    locks: HashSet<String>,
    in_tx: bool,
    /// The session runs with `autocommit = 0`: set by the first [`Driver::begin`] and kept after the transaction
    /// ends, so the next file's `begin` costs no round trip; SQL sent outside a transaction first turns it back on
    /// ([`MysqlDriver::conn`]).
    autocommit_off: bool,
    /// The last statement run in a transaction committed it implicitly (DDL): the next revision write commits
    /// at once, so the statement's progress is as durable as its effect.
    committed_implicitly: bool,
    /// The last statement ran after `SAVEPOINT strata_stmt` (one expected to stay in the transaction), and the
    /// savepoint has not been released yet: the next round trip starts with `RELEASE SAVEPOINT`, whose failure
    /// proves the statement committed implicitly after all.
    guarded: bool,
    /// Files whose commit was deferred, in the open transaction (see `crate::group`); the next commit — explicit,
    /// implicit (DDL) or by `SET autocommit = 1` ([`MysqlDriver::conn`]) — commits them.
    group: Option<crate::group::Group>,
    /// `SAVEPOINT strata_file` goes out with the next round trip: the file began while a group was open.
    file_savepoint_due: bool,
    /// The open file runs under `SAVEPOINT strata_file`, with no commit since: its rollback goes back there and
    /// the group stays.
    file_savepoint: bool,
    /// The last round trip ended with a `COMMIT`.
    trip_committed: bool,
    /// The group's last row as written (table, version, `applied`): read back when the savepoint is gone, it tells
    /// whether the group was committed.
    group_last: Option<(RevisionsLocation, String, u64)>,
    /// The group holds the row of a file whose last statement committed implicitly: the next round trip commits
    /// it first unless its own statement commits implicitly (`MysqlDriver::trip`).
    group_after_ddl: bool,
    /// Deferred files a whole-transaction rollback took with it, for [`Driver::take_rolled_back`].
    rolled_back: Vec<String>,
}

impl std::fmt::Debug for MysqlDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlDriver")
            .field("url", &self.url.redacted)
            .field("bound", &self.bound)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl MysqlDriver {
    /// Whether the server is MariaDB.
    pub fn is_mariadb(&self) -> bool {
        self.mariadb
    }
}

#[async_trait]
impl Driver for MysqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn url(&self) -> &crate::DbUrl {
        &self.url
    }

    fn bound_schema(&self) -> Option<&str> {
        self.bound.as_deref()
    }

    fn server_version(&self) -> &str {
        &self.version
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    /// A deferred file stays in the open transaction for the files after it (see `crate::group`); one whose last
    /// statement committed implicitly only until the next round trip.
    fn defers_commits(&self) -> bool {
        true
    }

    fn take_rolled_back(&mut self) -> Vec<String> {
        std::mem::take(&mut self.rolled_back)
    }

    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError> {
        self.acquire(name, timeout).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        self.release(name).await
    }

    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
        )
        .bind(schema)
        .bind(table)
        .fetch_one(self.conn().await?)
        .await
        .map_err(DriverError::sql)?;
        Ok(n > 0)
    }

    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError> {
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
        self.upsert(loc, rev).await
    }

    async fn delete_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError> {
        self.delete(loc, version).await
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
        self.run(sql).await
    }

    async fn upsert_execute(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        self.upsert_then_execute(loc, rev, sql).await
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

    fn session_id(&self) -> Option<u64> {
        Some(self.connection_id)
    }

    async fn session_alive(&mut self, id: u64) -> Result<Option<bool>, DriverError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM INFORMATION_SCHEMA.PROCESSLIST WHERE ID = ?")
                .bind(id)
                .fetch_one(self.conn().await?)
                .await
                .map_err(DriverError::sql)?;
        Ok(Some(n > 0))
    }

    async fn objects_exist(
        &mut self,
        objects: &[Object],
    ) -> Result<Vec<Option<bool>>, DriverError> {
        let mut found = Vec::with_capacity(objects.len());
        for o in objects {
            found.push(self.object_exists(o).await?);
        }
        Ok(found)
    }

    async fn server_databases(
        &mut self,
        prefix: &str,
    ) -> Result<Vec<crate::ServerDatabase>, DriverError> {
        self.databases_like(prefix).await
    }

    async fn create_database(&mut self, name: &str) -> Result<(), DriverError> {
        self.create_db(name).await
    }

    async fn drop_database(&mut self, name: &str) -> Result<(), DriverError> {
        self.drop_db(name).await
    }

    fn inspector(&mut self) -> Option<&mut (dyn crate::inspect::Inspect + Send)> {
        Some(self)
    }

    async fn query_first_column(
        &mut self,
        sql: &str,
        args: &[String],
    ) -> Result<Vec<Option<String>>, DriverError> {
        crate::query::query_first_column!(&mut self.conn, sql, args, "MySQL")
    }

    async fn close(mut self: Box<Self>) -> Result<(), DriverError> {
        // Deferred files still waiting are committed first (`conn` ends the transaction).
        let committed = self.conn().await.map(|_| ());
        let names: Vec<String> = self.locks.iter().cloned().collect();
        for n in names {
            let _ = self.unlock(&n).await;
        }
        committed?;
        self.conn.close().await.map_err(DriverError::sql)
    }
}
