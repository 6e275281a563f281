//! The session: connecting (URL to options, connect errors), statement execution (noticing implicit commits),
//! transactions with autocommit off, and the DDL safety limits.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, MySqlConnection};

use futures_util::StreamExt;
use strata_migrate::{Dialect, Revision};

use super::MysqlDriver;
use super::revisions_table::upsert_literal_sql;
use crate::DEFAULT_CONNECT_TIMEOUT;
use crate::Durability;
use crate::error::{DriverError, scrub};
use crate::lock::human;
use crate::revisions::RevisionsLocation;
use crate::url::{DbUrl, MysqlUrl, Target};

pub(super) fn options_for(m: &MysqlUrl) -> MySqlConnectOptions {
    let mut o = MySqlConnectOptions::new()
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None::<String>);
    if let Some(sock) = &m.socket {
        o = o.socket(sock);
    } else {
        o = o
            .host(m.host.as_deref().unwrap_or("127.0.0.1"))
            .port(m.port.unwrap_or(3306));
    }
    if let Some(u) = &m.user {
        o = o.username(u);
    }
    if let Some(pw) = &m.password {
        o = o.password(pw.expose());
    }
    if let Some(db) = &m.database {
        o = o.database(db);
    }
    if let Some(mode) = &m.ssl_mode {
        o = o.ssl_mode(match mode.as_str() {
            "disabled" => MySqlSslMode::Disabled,
            "required" => MySqlSslMode::Required,
            "verify_ca" => MySqlSslMode::VerifyCa,
            "verify_identity" => MySqlSslMode::VerifyIdentity,
            _ => MySqlSslMode::Preferred,
        });
    }
    if let Some(c) = &m.charset {
        o = o.charset(c);
    }
    if let Some(c) = &m.collation {
        o = o.collation(c);
    }
    o.disable_statement_logging()
}

pub(super) fn connect_error(
    url: &DbUrl,
    m: &MysqlUrl,
    err: sqlx::Error,
    secret: Option<&str>,
) -> DriverError {
    let target = match &m.socket {
        Some(s) => format!("socket {s}"),
        None => format!(
            "{}:{}",
            m.host.as_deref().unwrap_or("127.0.0.1"),
            m.port.unwrap_or(3306)
        ),
    };
    let (message, hint) = match &err {
        sqlx::Error::Database(db) => {
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|e| e.number());
            let hint = match number {
                Some(1045) | Some(1698) => {
                    "check the user name and password in the URL".to_string()
                }
                Some(1044) => {
                    "the user may not use this database: grant it access or fix the URL path"
                        .to_string()
                }
                Some(1049) => {
                    "create the database first or fix the database name in the URL path".to_string()
                }
                Some(1040) => "the server has too many connections; retry later".to_string(),
                _ => "check the URL and the server log".to_string(),
            };
            (db.message().to_string(), hint)
        }
        sqlx::Error::Io(e) => (
            e.to_string(),
            format!(
                "check that MySQL/MariaDB is running and reachable at {target}, and that the URL's host and port are right"
            ),
        ),
        sqlx::Error::Tls(e) => (
            format!("TLS: {e}"),
            "check the tls parameter in the URL (tls=false for servers without TLS)".to_string(),
        ),
        other => (
            other.to_string(),
            format!("check the URL and that {target} is a MySQL or MariaDB server"),
        ),
    };
    DriverError::Connect {
        url: url.redacted.clone(),
        message: scrub(&message, secret),
        hint,
    }
}

impl MysqlDriver {
    /// Connects with a parsed `mysql://` / `maria://` URL.
    pub async fn connect(url: DbUrl) -> Result<Self, DriverError> {
        let Target::Mysql(m) = &url.target else {
            return Err(DriverError::UnknownScheme {
                scheme: "not mysql".into(),
            });
        };
        let secret = url.password();
        let opts = options_for(m);
        let wait = m.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let mut conn = match tokio::time::timeout(wait, MySqlConnection::connect_with(&opts)).await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(connect_error(&url, m, e, secret)),
            Err(_) => {
                return Err(DriverError::Connect {
                    url: url.redacted.clone(),
                    message: format!("no answer within {}", human(wait)),
                    hint: "check that the host is reachable (firewall, VPN) or raise timeout in the URL".into(),
                });
            }
        };
        let (version, connection_id): (String, u64) =
            sqlx::query_as("SELECT VERSION(), CAST(CONNECTION_ID() AS UNSIGNED)")
                .fetch_one(&mut conn)
                .await
                .map_err(DriverError::sql)?;
        Ok(Self {
            conn,
            mariadb: version.to_ascii_lowercase().contains("mariadb"),
            connection_id,
            bound: m.database.clone(),
            url: url.clone(),
            version,
            locks: HashSet::new(),
            in_tx: false,
            autocommit_off: false,
            committed_implicitly: false,
            guarded: false,
            group: None,
            file_savepoint_due: false,
            file_savepoint: false,
            trip_committed: false,
            group_last: None,
            group_after_ddl: false,
            rolled_back: Vec::new(),
        })
    }

    /// The connection for a query outside the round trips below. Outside a transaction, a session the last
    /// transaction left with autocommit off gets it back first, so the query commits on its own (and reads see
    /// the latest data) as with a fresh session; turning it on commits the deferred files waiting in the
    /// transaction (`crate::group`).
    pub(super) async fn conn(&mut self) -> Result<&mut MySqlConnection, DriverError> {
        if self.autocommit_off && !self.in_tx {
            let group = self.group.take();
            if let Err(e) = sqlx::raw_sql("SET autocommit = 1")
                .execute(&mut self.conn)
                .await
            {
                self.rolled_back.extend(
                    group
                        .map(crate::group::Group::into_versions)
                        .unwrap_or_default(),
                );
                return Err(DriverError::sql(e));
            }
            self.autocommit_off = false;
        }
        Ok(&mut self.conn)
    }

    pub(super) async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(self.conn().await?)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    /// [`Driver::begin`] on this dialect.
    pub(super) async fn begin_tx(&mut self) -> Result<(), DriverError> {
        if self.in_tx {
            return Err(DriverError::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        // Not `START TRANSACTION`: a DDL statement commits implicitly, and after that commit a transaction opened
        // with `START TRANSACTION` is over, so the statements that follow each autocommit — apart from the progress
        // row written after them, which a crash in between loses, and the next run executes them again. With
        // autocommit off, the next statement opens a new transaction, so every statement after a DDL commits
        // together with its progress row (at the next DDL or at `commit`), or not at all. Autocommit stays off
        // after the transaction (see `conn`), so only a run's first `begin` sends anything.
        if !self.autocommit_off {
            sqlx::raw_sql("SET autocommit = 0")
                .execute(&mut self.conn)
                .await
                .map_err(DriverError::sql)?;
            self.autocommit_off = true;
        }
        self.in_tx = true;
        self.committed_implicitly = false;
        self.guarded = false;
        self.file_savepoint = false;
        self.file_savepoint_due = self.group.is_some();
        Ok(())
    }

    /// [`Driver::commit`] on this dialect.
    pub(super) async fn commit_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "commit without an open transaction".into(),
            ));
        }
        self.trip(None, Tail::Commit).await.map(|_| ())
    }

    /// [`Driver::rollback`] on this dialect: back to the file's savepoint when deferred files wait before it (they
    /// stay), else the transaction.
    pub(super) async fn rollback_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "rollback without an open transaction".into(),
            ));
        }
        self.in_tx = false;
        self.committed_implicitly = false;
        self.guarded = false;
        self.file_savepoint_due = false;
        if std::mem::take(&mut self.file_savepoint) && self.group.is_some() {
            let r = sqlx::raw_sql("ROLLBACK TO SAVEPOINT strata_file")
                .execute(&mut self.conn)
                .await;
            match r {
                Ok(_) => return Ok(()),
                Err(e) if savepoint_missing(&e) => {
                    // The savepoint is gone: with the whole transaction (a deadlock rolls it back, and the
                    // deferred files with it), or by the failing statement's own implicit commit (a DDL that
                    // failed after committing, and committed the deferred files). The last deferred row says
                    // which.
                    let r = sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await;
                    if let Some(group) = self.group.take()
                        && !self.group_committed().await
                    {
                        self.rolled_back.extend(group.into_versions());
                    }
                    return r.map(|_| ()).map_err(DriverError::sql);
                }
                Err(e) => {
                    // The connection is gone, and with it the deferred files.
                    let lost = self.group.take().map(crate::group::Group::into_versions);
                    self.rolled_back.extend(lost.unwrap_or_default());
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await;
                    return Err(DriverError::sql(e));
                }
            }
        }
        // Without the file's savepoint (it never got out), the deferred files end with the transaction.
        let lost = self.group.take().map(crate::group::Group::into_versions);
        self.rolled_back.extend(lost.unwrap_or_default());
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    /// Whether the group's last row is committed: read outside the transaction, it is the row written.
    async fn group_committed(&mut self) -> bool {
        let Some((loc, version, applied)) = self.group_last.clone() else {
            return false;
        };
        matches!(self.read_one(&loc, &version).await, Ok(Some(r)) if r.applied == applied)
    }

    /// [`Driver::execute`] on this dialect.
    pub(super) async fn run(&mut self, sql: &str) -> Result<(), DriverError> {
        if !self.in_tx {
            return self.raw(sql).await;
        }
        self.trip(None, Tail::Execute(sql))
            .await
            .and_then(|inner| inner)
    }

    /// [`Driver::upsert_execute`] on this dialect: one round trip.
    pub(super) async fn upsert_then_execute(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        if !self.in_tx {
            // Autocommit: the write commits on its own before the statement runs, as with two calls.
            self.conn().await?;
        }
        self.trip(Some((loc, rev)), Tail::Execute(sql)).await
    }

    /// [`Driver::upsert_commit`] on this dialect: one round trip. Deferred, a file whose statements are all in the
    /// transaction (the last did not commit implicitly) writes its row without `COMMIT` and joins the group
    /// (`crate::group`): the next commit commits it.
    pub(super) async fn upsert_then_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        durability: Durability,
    ) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "commit without an open transaction".into(),
            ));
        }
        if durability == Durability::Deferred && crate::group::may_join(self.group.as_ref()) {
            // After a statement that committed implicitly the row is not committed at once either: it waits for
            // the next round trip, which commits it first unless its statement commits implicitly anyway (`trip`).
            let after_ddl = std::mem::take(&mut self.committed_implicitly);
            self.trip(Some((loc, rev)), Tail::Nothing).await??;
            self.in_tx = false;
            self.file_savepoint = false;
            if !self.trip_committed {
                let new = self.group.is_none();
                self.group
                    .get_or_insert_with(crate::group::Group::new)
                    .push(&rev.version);
                self.group_last = Some((loc.clone(), rev.version.clone(), rev.applied));
                self.group_after_ddl = after_ddl || (!new && self.group_after_ddl);
            }
            return Ok(());
        }
        self.trip(Some((loc, rev)), Tail::Commit).await.map(|_| ())
    }

    /// A revision write inside the transaction (or, outside one, on its own): one round trip that also releases
    /// the last statement's savepoint and commits after an implicitly committed statement.
    pub(super) async fn upsert_in_tx(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        self.trip(Some((loc, rev)), Tail::Nothing).await.map(|_| ())
    }

    /// One round trip in a transaction: what the last statement left to do (`RELEASE SAVEPOINT` after a
    /// statement that ran under one), the revision write (committed at once after a statement that committed
    /// implicitly, so its progress is as durable as its effect), then `tail`: a statement (after
    /// `SAVEPOINT strata_stmt` when it is expected to stay in the transaction: `inflight::commits_alone`), or
    /// `COMMIT`. The server stops a multi-statement text at its first error, and the count of statements that
    /// completed says whose error it is: ours (the outer error; the statement did not run) or the statement's
    /// (the inner one, as [`MysqlDriver::run`] reports it). A released savepoint that no longer exists proves the
    /// statement before committed implicitly after all: the trip is sent again with the write committed.
    async fn trip(
        &mut self,
        row: Option<(&RevisionsLocation, &Revision)>,
        tail: Tail<'_>,
    ) -> Result<Result<(), DriverError>, DriverError> {
        let values = match row {
            Some((loc, rev)) => Some(upsert_literal_sql(loc, rev)?),
            None => None,
        };
        loop {
            let mut ours: Vec<&str> = Vec::with_capacity(5);
            // COMMIT and ROLLBACK end the savepoint anyway.
            let release = self.guarded && !matches!(tail, Tail::Commit);
            if release {
                ours.push("RELEASE SAVEPOINT strata_stmt");
            }
            // A group holding the row of a file that ended with a DDL (its effect committed) is committed before
            // anything that stays in the transaction, so that row waits no longer than today's separate commit
            // would: only a statement that commits implicitly anyway takes it along (one commit instead of two).
            let tail_commits_alone = matches!(tail, Tail::Execute(sql)
                if self.in_tx && strata_migrate::inflight::commits_alone(Dialect::Mysql, sql, true));
            let early_commit_at = (self.group.is_some()
                && self.group_after_ddl
                && !tail_commits_alone
                && !matches!(tail, Tail::Commit))
            .then(|| {
                ours.push("COMMIT");
                ours.len()
            });
            // The file's savepoint, when it began behind deferred files (after RELEASE: its failure at the first
            // place is what says the statement before committed implicitly).
            let file_savepoint_at =
                (self.file_savepoint_due && early_commit_at.is_none()).then(|| {
                    ours.push("SAVEPOINT strata_file");
                    ours.len()
                });
            let mut commits = matches!(tail, Tail::Commit);
            if let Some(v) = &values {
                ours.push(v);
                if self.committed_implicitly && self.in_tx && !matches!(tail, Tail::Commit) {
                    ours.push("COMMIT");
                    commits = true;
                }
            }
            let guard = match tail {
                Tail::Execute(sql) => {
                    self.in_tx
                        && !strata_migrate::inflight::commits_alone(Dialect::Mysql, sql, true)
                }
                _ => false,
            };
            if guard {
                ours.push("SAVEPOINT strata_stmt");
            }
            if let Tail::Commit = tail {
                ours.push("COMMIT");
            }
            let n = ours.len();
            // Ours on one line, so the statement's own line numbers in the server's messages stay as they are.
            let mut text = ours.join("; ");
            if let Tail::Execute(sql) = tail {
                if n > 0 {
                    text.push_str("; ");
                }
                text.push_str(sql);
            }
            if text.is_empty() {
                return Ok(Ok(()));
            }
            let (done, result) = self.counted(text).await;
            if early_commit_at.is_some_and(|at| done >= at) {
                self.group = None;
                self.file_savepoint_due = false;
            }
            if file_savepoint_at.is_some_and(|at| done >= at) {
                self.file_savepoint_due = false;
                self.file_savepoint = true;
            }
            self.trip_committed = result.is_ok() && commits;
            if self.trip_committed {
                // The deferred files are committed with it.
                self.group = None;
                self.file_savepoint = false;
            }
            match result {
                Ok(()) => {
                    match tail {
                        Tail::Execute(_) => {
                            self.guarded = guard;
                            self.committed_implicitly = self.in_tx && !guard;
                            if self.committed_implicitly {
                                // So were they by the statement's implicit commit, and its savepoint is gone.
                                self.group = None;
                                self.file_savepoint = false;
                            }
                        }
                        Tail::Commit => {
                            self.in_tx = false;
                            self.guarded = false;
                            self.committed_implicitly = false;
                        }
                        Tail::Nothing => {
                            self.guarded = false;
                            self.committed_implicitly = false;
                        }
                    }
                    return Ok(Ok(()));
                }
                Err(e) if release && done == 0 && savepoint_missing(&e) => {
                    // ER_SP_DOES_NOT_EXIST: the statement before committed implicitly (and with it any deferred
                    // files).
                    self.guarded = false;
                    self.committed_implicitly = true;
                    self.group = None;
                    self.file_savepoint = false;
                    continue;
                }
                Err(e) if done >= n && matches!(tail, Tail::Execute(_)) => {
                    // The statement failed; its savepoint (if any) goes with the caller's rollback.
                    self.guarded = false;
                    self.committed_implicitly = false;
                    return Ok(Err(DriverError::sql(e)));
                }
                Err(e) => {
                    let commit_failed = matches!(tail, Tail::Commit) && done + 1 == n;
                    if commit_failed {
                        // COMMIT itself failed: no transaction is left.
                        self.in_tx = false;
                    }
                    if commit_failed || !matches!(e, sqlx::Error::Database(_)) {
                        // Nor, then (or with the connection gone), the deferred files.
                        let lost = self.group.take().map(crate::group::Group::into_versions);
                        self.rolled_back.extend(lost.unwrap_or_default());
                    }
                    self.guarded = false;
                    return Err(DriverError::sql(e));
                }
            }
        }
    }

    /// Runs a multi-statement text; the number of statements that completed, and the first error.
    async fn counted(&mut self, sql: String) -> (usize, Result<(), sqlx::Error>) {
        let mut done = 0;
        let mut results = sqlx::raw_sql(AssertSqlSafe(sql)).execute_many(&mut self.conn);
        while let Some(item) = results.next().await {
            match item {
                Ok(_) => done += 1,
                Err(e) => return (done, Err(e)),
            }
        }
        (done, Ok(()))
    }

    /// [`Driver::set_ddl_limits`](crate::Driver::set_ddl_limits) on this dialect.
    pub(super) async fn set_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError> {
        if self.mariadb {
            match statement_timeout {
                Some(d) => {
                    self.raw(&format!(
                        "SET SESSION max_statement_time = {}",
                        d.as_secs_f64()
                    ))
                    .await?
                }
                None => self.raw("SET SESSION max_statement_time = DEFAULT").await?,
            }
        } else if statement_timeout.is_some() {
            return Err(DriverError::Unsupported {
                what: "a statement time limit for DDL".into(),
                dialect: "MySQL",
                hint: "MySQL's max_execution_time applies to SELECT only; drop the statement-timeout option \
                       (the DDL lock wait limit is supported)"
                    .into(),
            });
        }
        match ddl_lock_timeout {
            Some(d) => {
                let min = if self.mariadb { 0 } else { 1 };
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                self.raw(&format!(
                    "SET SESSION lock_wait_timeout = {}",
                    secs.max(min)
                ))
                .await
            }
            None => self.raw("SET SESSION lock_wait_timeout = DEFAULT").await,
        }
    }
}

/// What ends a [`MysqlDriver::trip`].
#[derive(Clone, Copy)]
enum Tail<'a> {
    /// A statement of a migration file.
    Execute(&'a str),
    /// `COMMIT`.
    Commit,
    /// Nothing: the trip is the write alone.
    Nothing,
}

/// ER_SP_DOES_NOT_EXIST ("SAVEPOINT strata_stmt does not exist").
fn savepoint_missing(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| e.number() == 1305))
}
