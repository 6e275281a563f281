//! Database drivers for Strata's versioned migrations, compatible with databases Atlas migrated.
//!
//! One [`Driver`] per run holds **one dedicated connection** (no pool): the migration lock, the migration
//! statements and the revision writes share that session, so revision writes made between [`Driver::begin`] and
//! [`Driver::commit`] belong to the same transaction as the statements. Nothing here keeps global state.
//!
//! - [`url`]: Atlas-style URLs, [`DbUrl::identity`] and [`redact`];
//! - [`postgres`], [`mysql`], [`sqlite`]: one folder per dialect (its URL parameters, session, lock, revisions
//!   table, row decoding, clean check);
//! - `revisions::sql`: the revisions-table SQL, written once; `quote`: identifier and literal quoting;
//! - [`lock`]: polling back-off, and the Postgres lock id (FNV-1) and SQLite checksum re-exported;
//! - [`RevisionsLocation`]: where `atlas_schema_revisions` lives (Atlas's priority rules and ambiguity guard);
//! - `testing` (feature `testing`): a throw-away database per test on the local servers.
#![warn(missing_docs)]

pub mod error;
mod group;
pub mod inspect;
pub mod lock;
pub mod mysql;
pub mod postgres;
mod query;
mod quote;
mod revisions;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod url;

use std::time::Duration;

use async_trait::async_trait;
pub use error::DriverError;
pub use revisions::RevisionsLocation;
pub use strata_migrate::inflight::Object;
use strata_migrate::revision::DEFAULT_REVISIONS_SCHEMA;
pub use strata_migrate::{Dialect, Revision, RevisionType};
pub use url::{DbIdentity, DbUrl, redact, scrub, without_credentials};

/// The default wait for the migration lock (Atlas's `--lock-timeout` default).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to one target database, with everything `migrate apply/status/set` needs from it.
///
/// Methods take `&mut self`: one session, used by one task at a time.
#[async_trait]
pub trait Driver: Send + std::fmt::Debug {
    /// The SQL dialect.
    fn dialect(&self) -> Dialect;

    /// The URL this driver was opened with.
    fn url(&self) -> &DbUrl;

    /// The URL this driver was opened with, password replaced by `xxxxx`.
    fn url_redacted(&self) -> &str {
        self.url().redacted()
    }

    /// Schema the URL binds (Postgres `search_path`, MySQL `/dbname`; `main` on SQLite), if any.
    fn bound_schema(&self) -> Option<&str>;

    /// The server's version string (e.g. `15.4`, `10.11.6-MariaDB`, `3.46.0`).
    fn server_version(&self) -> &str;

    /// Whether DDL statements are transactional (Postgres, SQLite) rather than implicitly committed (MySQL).
    fn transactional_ddl(&self) -> bool;

    /// Whether [`Durability::Deferred`] commits may return before they are on disk (PostgreSQL) or before they are
    /// committed (SQLite, MySQL); elsewhere every commit is durable.
    fn defers_commits(&self) -> bool {
        false
    }

    /// Versions whose deferred commits a rollback of the whole transaction they were waiting in took with it
    /// (SQLite, MySQL; see [`Durability`]), since the last call: not applied after all.
    fn take_rolled_back(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// Takes the named lock for this session, waiting up to `timeout` (zero: one attempt). On timeout the error
    /// is [`DriverError::LockTimeout`] (`sql/schema: lock is held by other session: …`) naming the holder when the
    /// database can tell.
    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError>;

    /// Releases a lock taken with [`Driver::lock`].
    async fn unlock(&mut self, name: &str) -> Result<(), DriverError>;

    /// Whether `schema.table` exists (a base table).
    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError>;

    /// Where the revisions table lives: the `--revisions-schema` flag, else the bound schema, else
    /// `atlas_schema_revisions`; always `main` on SQLite (any other flag value is an error). With a bound schema,
    /// no flag, no table in the bound schema and a table in `atlas_schema_revisions`, fails with
    /// [`DriverError::AmbiguousRevisionTable`] (Atlas's safety guard).
    async fn revisions_location(
        &mut self,
        flag: Option<&str>,
    ) -> Result<RevisionsLocation, DriverError> {
        let flag = flag.filter(|f| !f.is_empty());
        if self.dialect() == Dialect::Sqlite {
            return match flag {
                None | Some("main") => Ok(RevisionsLocation::new("main")),
                Some(other) => Err(DriverError::SqliteRevisionsSchema {
                    schema: other.to_string(),
                }),
            };
        }
        let bound = self.bound_schema().map(str::to_string);
        let schema = revisions::choose_schema(flag, bound.as_deref());
        if let (None, Some(bound)) = (flag, bound) {
            let loc = RevisionsLocation::new(bound.clone());
            if bound != DEFAULT_REVISIONS_SCHEMA
                && !self.table_exists(&loc.schema, &loc.table).await?
                && self
                    .table_exists(DEFAULT_REVISIONS_SCHEMA, &loc.table)
                    .await?
            {
                return Err(DriverError::AmbiguousRevisionTable {
                    bound_schema: bound,
                });
            }
        }
        Ok(RevisionsLocation::new(schema))
    }

    /// Whether the revisions table exists at `loc`.
    async fn revisions_table_exists(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<bool, DriverError> {
        let (schema, table) = (loc.schema.clone(), loc.table.clone());
        self.table_exists(&schema, &table).await
    }

    /// Creates the schema (if missing) and the revisions table exactly as Atlas does, or adds the columns an
    /// older table lacks. Touches nothing else.
    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError>;

    /// [`Driver::revisions_table_exists`] then [`Driver::ensure_revisions_table`] in one step (one catalog round
    /// trip where the dialect allows): whether the table existed before.
    async fn ensure_revisions_table_existed(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<bool, DriverError> {
        let existed = self.revisions_table_exists(loc).await?;
        self.ensure_revisions_table(loc).await?;
        Ok(existed)
    }

    /// All revisions ordered by version, without the hidden `.atlas_cloud_identifier` row.
    async fn read_revisions(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError>;

    /// The revisions as planning an apply reads them, from one read that finds rows at `loc`: every row ordered by
    /// version, where a row that is completely applied and holds no error may lack the columns only resuming or
    /// `status` read (`execution_time` 0, `error_stmt` and `operator_version` empty, `partial_hashes` `None`).
    /// `None` when that read is not possible or finds nothing (no such table, no rows, any error): the caller then
    /// takes the full path. It proves nothing about the columns it did not read, nor that the table is not a
    /// view: call [`Driver::ensure_revisions_table`] before writing. Lets a run that finds its work already done
    /// skip the catalog checks and the columns it does not need.
    async fn read_revisions_if_ready(
        &mut self,
        _loc: &RevisionsLocation,
    ) -> Result<Option<Vec<Revision>>, DriverError> {
        Ok(None)
    }

    /// The revisions table's fingerprint now, in one small answer: two equal fingerprints of a table mean that
    /// [`Driver::read_revisions_if_ready`] would return equal rows (what goes into one, and why, is the dialect's
    /// business; see [`strata_migrate::noop_memo`] for its use). `None` where the dialect or the table has none
    /// (no such table, no rows, a view): the caller reads instead.
    async fn revisions_fingerprint(
        &mut self,
        _loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        Ok(None)
    }

    /// [`Driver::read_revisions_if_ready`], with the fingerprint (as [`Driver::revisions_fingerprint`] gives it)
    /// of exactly the rows read, when the driver can vouch for it.
    async fn read_revisions_fingerprinted(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<(Option<Vec<Revision>>, Option<String>), DriverError> {
        Ok((self.read_revisions_if_ready(loc).await?, None))
    }

    /// One revision by version (`None` when absent; the cloud row is never returned).
    async fn read_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<Option<Revision>, DriverError>;

    /// Inserts or updates a revision (every column but `version`, `description` and `executed_at` is updated).
    /// Refuses the `.atlas_cloud_identifier` row.
    async fn upsert_revision(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError>;

    /// Deletes a revision. Refuses the `.atlas_cloud_identifier` row.
    async fn delete_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError>;

    /// `None` when the database is clean by Atlas's rules (it may hold the revisions table at `loc` and nothing
    /// else), else the reason, e.g. `found table "t" in schema "public"`. The caller words the final error
    /// (`sql/migrate: connected database is not clean: <reason>. baseline version or allow-dirty is required`).
    async fn check_clean(&mut self, loc: &RevisionsLocation)
    -> Result<Option<String>, DriverError>;

    /// Opens a transaction on the session. SQLite turns `foreign_keys` off first when it is on (Atlas does so for
    /// its table-copy recipes) and checks `foreign_key_check` before commit.
    async fn begin(&mut self) -> Result<(), DriverError>;

    /// Commits the open transaction.
    async fn commit(&mut self) -> Result<(), DriverError>;

    /// Rolls back the open transaction.
    async fn rollback(&mut self) -> Result<(), DriverError>;

    /// Whether a transaction opened by [`Driver::begin`] is open.
    fn in_transaction(&self) -> bool;

    /// Runs one statement text as-is over the simple/text protocol (no prepare), so `CREATE INDEX
    /// CONCURRENTLY`, procedure bodies and other multi-part texts work. Errors keep the database's message.
    async fn execute(&mut self, sql: &str) -> Result<(), DriverError>;

    /// [`Driver::begin`] then [`Driver::execute`], in one round trip where the dialect allows. The outer error is
    /// the `BEGIN`'s (no transaction was opened); the inner one is the statement's, reported exactly as
    /// [`Driver::execute`] reports it, with the transaction open (and failed) as after `begin` + `execute`.
    async fn begin_execute(&mut self, sql: &str) -> Result<Result<(), DriverError>, DriverError> {
        self.begin().await?;
        Ok(self.execute(sql).await)
    }

    /// [`Driver::upsert_revision`] then [`Driver::execute`], in one round trip where the dialect allows. The outer
    /// error is the write's (the statement did not run); the inner one is the statement's, reported exactly as
    /// [`Driver::execute`] reports it. Inside a transaction on PostgreSQL, a failed statement may take the write
    /// with it (callers there roll the whole transaction back); MySQL/MariaDB do the write, committed as
    /// [`Driver::upsert_revision`] would commit it, before the statement starts, so a progress write can travel
    /// with the next statement.
    async fn upsert_execute(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        self.upsert_revision(loc, rev).await?;
        Ok(self.execute(sql).await)
    }

    /// [`Driver::upsert_revision`] then [`Driver::commit`], in one round trip where the dialect allows, with the
    /// same outcome: a failed write leaves the transaction open for the caller to roll back; a failed commit
    /// leaves none. With [`Durability::Deferred`] the commit may return before it is durable where
    /// [`Driver::defers_commits`] says so.
    async fn upsert_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        _durability: Durability,
    ) -> Result<(), DriverError> {
        self.upsert_revision(loc, rev).await?;
        self.commit().await
    }

    /// Writes `revs` (distinct versions) then commits, in one round trip where the dialect allows, with the outcome
    /// of [`Driver::upsert_commit`] for the last of them (a failed write leaves the transaction open). For
    /// `--tx-mode all` on a database with transactional DDL, where the rows only matter at the commit.
    async fn upsert_all_commit(
        &mut self,
        loc: &RevisionsLocation,
        revs: &[Revision],
        durability: Durability,
    ) -> Result<(), DriverError> {
        let Some((last, rest)) = revs.split_last() else {
            return self.commit().await;
        };
        for rev in rest {
            self.upsert_revision(loc, rev).await?;
        }
        self.upsert_commit(loc, last, durability).await
    }

    /// Sets (or, with `None`, resets) the session's DDL safety limits: the statement time limit and the wait for
    /// locks on objects (Postgres `statement_timeout` / `lock_timeout`, MariaDB `max_statement_time` /
    /// `lock_wait_timeout`, SQLite `busy_timeout` for the lock wait; SQLite has no statement limit).
    async fn set_ddl_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError>;

    /// This session's id as the server lists sessions (MySQL/MariaDB `CONNECTION_ID()`), when known without a
    /// query. Recorded with a statement in flight, so a later run can wait for that session to end.
    fn session_id(&self) -> Option<u64> {
        None
    }

    /// Whether the session `id` (a [`Driver::session_id`] of another connection) is still on the server; `None`
    /// when the database cannot tell. A server finishes a statement whose client died, so recovery waits for the
    /// interrupted session to end before it looks at what the statement did.
    async fn session_alive(&mut self, _id: u64) -> Result<Option<bool>, DriverError> {
        Ok(None)
    }

    /// Whether each object exists now (`None`: this driver cannot tell). Names without a schema are looked up in
    /// the session's schema (the URL's). Used to decide whether an interrupted statement took effect; the
    /// default knows nothing, so every such decision falls to a human.
    async fn objects_exist(
        &mut self,
        objects: &[Object],
    ) -> Result<Vec<Option<bool>>, DriverError> {
        Ok(vec![None; objects.len()])
    }

    /// Schema inspection of this connection (see [`inspect`]), when the dialect has one. The engine reaches
    /// inspection through the driver [`connect`] returns.
    fn inspector(&mut self) -> Option<&mut (dyn inspect::Inspect + Send)> {
        None
    }

    /// The databases of the connected server whose names start with `prefix`, with whether any session is
    /// connected to them (PostgreSQL `pg_stat_activity`, MySQL `information_schema.PROCESSLIST`). Used for
    /// throw-away dev databases; SQLite has no server and says so.
    async fn server_databases(
        &mut self,
        _prefix: &str,
    ) -> Result<Vec<ServerDatabase>, DriverError> {
        Err(no_server_databases(self.dialect()))
    }

    /// `CREATE DATABASE <name>` on the connected server (the name quoted as the dialect quotes identifiers).
    async fn create_database(&mut self, _name: &str) -> Result<(), DriverError> {
        Err(no_server_databases(self.dialect()))
    }

    /// `DROP DATABASE IF EXISTS <name>` on the connected server. PostgreSQL refuses while a session uses it.
    async fn drop_database(&mut self, _name: &str) -> Result<(), DriverError> {
        Err(no_server_databases(self.dialect()))
    }

    /// Releases held locks and closes the connection. The locks are free when the server has ended the session,
    /// which can trail the return a little (a waiter's next attempt gets them).
    async fn close(self: Box<Self>) -> Result<(), DriverError>;

    /// Runs a query with text arguments (`?` on MySQL and SQLite, `$1` on PostgreSQL) and returns the first
    /// column of each row as text, `None` for NULL: a project file's `data "sql"` (its `values`). Text, whole
    /// numbers, floats and bools are read; another column type is an error naming it.
    async fn query_first_column(
        &mut self,
        sql: &str,
        args: &[String],
    ) -> Result<Vec<Option<String>>, DriverError>;
}

/// The error of the server-database methods on a dialect without them.
fn no_server_databases(d: Dialect) -> DriverError {
    DriverError::Unsupported {
        what: "creating and dropping databases".into(),
        dialect: match d {
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
            Dialect::Sqlite => "SQLite",
        },
        hint:
            "SQLite has no server: use an in-memory dev database (sqlite://dev?mode=memory) instead"
                .into(),
    }
}

/// A database on a server, as [`Driver::server_databases`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDatabase {
    /// Its name.
    pub name: String,
    /// Whether a session (other than the asking one) is connected to it.
    pub in_use: bool,
}

/// When a commit must be on disk.
///
/// On PostgreSQL a deferred commit is atomic and visible at once like any other; only its flush to disk (and, with
/// synchronous replication, to the standbys) may follow shortly after it returns. Write-ahead logs are flushed in
/// order, so the next durable commit of the same server makes every earlier deferred commit durable too; a crash
/// of the server before that loses a suffix of the deferred commits, each whole.
///
/// SQLite and MySQL/MariaDB have no such commit: there a deferred file stays in an open transaction that the next
/// files share, each in its own savepoint, until the next commit (durable, implicit, or forced by a time limit)
/// commits them together (`group`); it is visible to other sessions only then. A crash loses a suffix of whole
/// files as above; a rollback of the whole transaction (SQLite's `OR ROLLBACK`, a MySQL deadlock, a lost
/// connection) loses the deferred files too, and [`Driver::take_rolled_back`] names them. A MySQL file whose last
/// statement committed implicitly commits its row at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk (and replicated, as the server is configured) before the commit returns.
    Durable,
    /// May be flushed after the commit returns (PostgreSQL: `synchronous_commit = off` for that transaction;
    /// SQLite, MySQL: committed with the next commit).
    Deferred,
}

/// Opens a driver for a parsed Atlas-style URL (one dedicated connection). Parse the text once, where it enters
/// (`"postgres://…".parse::<DbUrl>()` or [`url::parse`]), and pass the [`DbUrl`].
pub async fn connect(url: &DbUrl) -> Result<Box<dyn Driver>, DriverError> {
    connect_with(url, &ConnectOptions::default()).await
}

/// Options of [`connect_with`] that are not part of the URL.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Directory for SQLite lock files instead of the OS temporary directory (tests). The lock is per database
    /// ([`sqlite::lock_file_for`]); Atlas's host-wide lock file, which Strata reads to wait for a running Atlas,
    /// is looked for in the same directory.
    pub sqlite_lock_dir: Option<std::path::PathBuf>,
}

impl ConnectOptions {
    /// Sets [`ConnectOptions::sqlite_lock_dir`].
    pub fn sqlite_lock_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.sqlite_lock_dir = Some(dir.into());
        self
    }
}

/// [`connect`] with options.
pub async fn connect_with(
    url: &DbUrl,
    opts: &ConnectOptions,
) -> Result<Box<dyn Driver>, DriverError> {
    let parsed = url.clone();
    match parsed.target {
        url::Target::Postgres(_) => Ok(Box::new(postgres::PostgresDriver::connect(parsed).await?)),
        url::Target::Mysql(_) => Ok(Box::new(mysql::MysqlDriver::connect(parsed).await?)),
        url::Target::Sqlite(_) => {
            let mut d = sqlite::SqliteDriver::connect(parsed).await?;
            if let Some(dir) = &opts.sqlite_lock_dir {
                d = d.with_lock_dir(dir);
            }
            Ok(Box::new(d))
        }
    }
}

/// Default connect timeout when the URL sets none.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
