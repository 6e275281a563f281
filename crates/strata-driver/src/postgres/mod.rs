//! PostgreSQL: one `PgConnection`, session advisory locks, transactional DDL.
//!
//! - `url`: the `postgres://` URL's parameters;
//! - `session`: connecting, statement execution, transactions, DDL limits;
//! - `lock`: the advisory migration lock;
//! - `revisions_table`: the revisions table's reads and writes; `rows`: decoding its rows;
//! - `clean`: catalog lookups and the clean check.
//!
//! - `inspect`: schema inspection into `strata_schema::Realm` (batched `pg_catalog` queries in `.sql` files beside it).

mod clean;
mod databases;
pub mod inspect;
pub(crate) mod lock;
pub(crate) mod revisions_table;
mod rows;
mod session;
pub(crate) mod url;

use clean::table_exists_sql;
use session::SessionInfo;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Connection, PgConnection, Row};
use strata_migrate::{Dialect, Revision};

use crate::error::DriverError;
use crate::revisions::RevisionsLocation;
use crate::{Driver, Durability};

/// `application_name` when the URL sets none.
pub const APPLICATION_NAME: &str = "strata";

/// A PostgreSQL target.
pub struct PostgresDriver {
    conn: PgConnection,
    url: crate::DbUrl,
    bound: Option<String>,
    version: String,
    /// Learnt with the first lock attempt (or on demand), so connecting costs no query.
    session: Option<SessionInfo>,
    locks: HashMap<String, i64>,
    in_tx: bool,
}

/// 2000-01-01 00:00 UTC, PostgreSQL's timestamp epoch, in Unix nanoseconds.
const PG_EPOCH_NANOS: i128 = 946_684_800_000_000_000;

impl std::fmt::Debug for PostgresDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDriver")
            .field("url", &self.url.redacted)
            .field("bound", &self.bound)
            .field("version", &self.version)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Driver for PostgresDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
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
        true
    }

    fn defers_commits(&self) -> bool {
        true
    }

    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError> {
        self.acquire(name, timeout).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        self.release(name).await
    }

    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError> {
        let row = self.simple_row(table_exists_sql(schema, table)).await?;
        row.try_get(0).map_err(DriverError::sql)
    }

    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError> {
        self.ensure_revisions_table_existed(loc).await.map(|_| ())
    }

    async fn ensure_revisions_table_existed(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<bool, DriverError> {
        self.ensure_table(loc).await
    }

    async fn read_revisions(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        self.read_all(loc).await
    }

    async fn read_revisions_if_ready(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<Vec<Revision>>, DriverError> {
        self.read_all_if_ready(loc).await
    }

    async fn revisions_fingerprint(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        self.fingerprint_now(loc).await
    }

    async fn read_revisions_fingerprinted(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<(Option<Vec<Revision>>, Option<String>), DriverError> {
        self.read_fingerprinted(loc).await
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
        self.raw(sql).await
    }

    async fn begin_execute(&mut self, sql: &str) -> Result<Result<(), DriverError>, DriverError> {
        self.begin_then_execute(sql).await
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
        durability: Durability,
    ) -> Result<(), DriverError> {
        self.upsert_then_commit(loc, rev, durability).await
    }

    async fn upsert_all_commit(
        &mut self,
        loc: &RevisionsLocation,
        revs: &[Revision],
        durability: Durability,
    ) -> Result<(), DriverError> {
        self.upsert_all_then_commit(loc, revs, durability).await
    }

    async fn set_ddl_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError> {
        self.set_limits(statement_timeout, ddl_lock_timeout).await
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
        crate::query::query_first_column!(&mut self.conn, sql, args, "PostgreSQL")
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        // The server frees a session's advisory locks as the session ends (a pooler in session mode resets the
        // server's session with `DISCARD ALL`, which frees them too), so unlocking first would only cost a round
        // trip.
        self.conn.close().await.map_err(DriverError::sql)
    }
}
