//! The session: opening the file (URL to flags and pragmas), statement execution (no NUL bytes), transactions
//! with foreign keys off and checked before commit, and the lock wait limit.
//!
//! SQLite is a library, so every call runs on the calling thread (rusqlite over the same `libsqlite3-sys` sqlx
//! links): no hand-off to a worker thread per statement. On a multi-threaded runtime (operator, registry) a call
//! is made inside [`tokio::task::block_in_place`], so the worker's other tasks move to another thread while SQLite
//! waits on the disk or on its busy timeout.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::fallible_iterator::FallibleIterator as _;
use rusqlite::{Connection, OpenFlags};

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::group::{Group, may_join};
use crate::url::{DbUrl, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Violation {
    table: String,
    rowid: Option<i64>,
    parent: String,
    fkid: i64,
}

/// Every SQL text this driver sends goes through here. SQLite stops reading SQL at a NUL byte, so whatever follows
/// one would silently not run; a text with a NUL byte is refused before it reaches SQLite.
pub(super) fn sql_text(sql: &str) -> Result<&str, DriverError> {
    match sql.find('\0') {
        Some(at) => Err(E::Sql {
            message: format!(
                "sql/sqlite: the statement contains a NUL byte (at byte {at}); SQLite stops reading SQL there, so it \
                 cannot run it: remove the NUL byte"
            ),
            code: None,
        }),
        None => Ok(sql),
    }
}

/// Runs `f` on the calling thread; on a multi-threaded runtime inside `block_in_place` (see the module's
/// documentation). A current-thread runtime (the CLI) has nothing else to run meanwhile.
pub(super) fn on_this_thread<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Runs every statement of `sql` in order, stepping through any rows they return (as `sqlite3_exec` does), and
/// stops at the first error. SQLite prepares each statement only once the one before it is done.
fn run_all(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut batch = rusqlite::Batch::new(conn, sql);
    while let Some(mut stmt) = batch.next()? {
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
    }
    Ok(())
}

/// Opens the file (or memory database) with the flags sqlx would use for the same URL, then the URL's pragmas in
/// sqlx's order and the busy timeout.
fn open(s: &crate::sqlite::url::SqliteUrl) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    flags |= if s.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else if s.create {
        OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_READ_WRITE
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    if s.in_memory {
        flags |= OpenFlags::SQLITE_OPEN_MEMORY;
    }
    flags |= if s.shared_cache {
        OpenFlags::SQLITE_OPEN_SHARED_CACHE
    } else {
        OpenFlags::SQLITE_OPEN_PRIVATE_CACHE
    };
    let name = if s.in_memory {
        ":memory:"
    } else {
        s.path.as_str()
    };
    let conn = Connection::open_with_flags(name, flags)?;
    let on_off = if s.foreign_keys { "ON" } else { "OFF" };
    for (pragma, value) in [
        ("locking_mode", s.locking_mode.as_deref()),
        ("journal_mode", s.journal_mode.as_deref()),
        ("foreign_keys", Some(on_off)),
        ("synchronous", s.synchronous.as_deref()),
    ] {
        if let Some(v) = value {
            run_all(&conn, &format!("PRAGMA {pragma} = {v};"))?;
        }
    }
    conn.busy_timeout(s.busy_timeout)?;
    Ok(conn)
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
        // The pragmas are sent as SQL text when the connection opens, where a NUL byte would cut them short (see
        // `sql_text`).
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
        let conn = on_this_thread(|| open(s)).map_err(|e| E::Connect {
            url: url.redacted.clone(),
            message: DriverError::sqlite(e).to_string(),
            hint: format!(
                "check that {:?} exists (or that its directory is writable) and is a SQLite database",
                s.path
            ),
        })?;
        Ok(Self {
            conn,
            url: url.clone(),
            version: rusqlite::version().to_string(),
            lock_suffix: s.lock_suffix.clone(),
            lock_dir: std::env::temp_dir(),
            busy_timeout: s.busy_timeout,
            locks: HashMap::new(),
            in_tx: false,
            savepoint: false,
            group: None,
            rolled_back: Vec::new(),
            fk_restore: false,
            fk_before: Vec::new(),
            fk_on: Some(s.foreign_keys),
        })
    }

    /// Runs `f` with the connection on this thread (see [`on_this_thread`]).
    pub(super) fn with_conn<T>(&mut self, f: impl FnOnce(&Connection) -> T) -> T {
        let conn = &self.conn;
        on_this_thread(|| f(conn))
    }

    pub(super) async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        let text = sql_text(sql)?;
        self.with_conn(|c| run_all(c, text)).map_err(E::sqlite)
    }

    /// A migration statement: [`Self::raw`], then what its failure may have done to the transaction.
    pub(super) async fn statement(&mut self, sql: &str) -> Result<(), DriverError> {
        let r = self.raw(sql).await;
        if r.is_err() {
            self.after_error().await;
        }
        r
    }

    /// After a failed statement inside a file's transaction: SQLite may have rolled back the whole transaction (a
    /// conflict clause `OR ROLLBACK`, `RAISE(ROLLBACK)`, a full disk, an I/O error). Then the file's transaction is
    /// over, and with it the group's deferred files.
    async fn after_error(&mut self) {
        if (self.in_tx || self.group.is_some()) && self.conn.is_autocommit() {
            self.in_tx = false;
            self.savepoint = false;
            self.fk_before.clear();
            if let Some(g) = self.group.take() {
                self.rolled_back.extend(g.into_versions());
            }
            let _ = self.restore_fk(Ok(())).await;
        }
    }

    /// Commits the deferred files, if any (see `crate::group`). Outside a file's transaction only; a failure rolls the
    /// transaction back, and the files are named by [`crate::Driver::take_rolled_back`].
    pub(super) async fn commit_group(&mut self) -> Result<(), DriverError> {
        if self.in_tx || self.group.is_none() {
            return Ok(());
        }
        let r = self.raw("COMMIT").await;
        if r.is_err() && !self.conn.is_autocommit() {
            // A COMMIT that failed (SQLITE_BUSY) leaves the transaction open; it is given up, not left behind.
            let _ = self.raw("ROLLBACK").await;
        }
        if let Some(g) = self.group.take()
            && r.is_err()
        {
            self.rolled_back.extend(g.into_versions());
        }
        self.restore_fk(r).await
    }

    pub(super) async fn violations(&mut self) -> Result<Vec<Violation>, DriverError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("PRAGMA foreign_key_check")?;
            let rows = stmt.query_map([], |r| {
                Ok(Violation {
                    table: r.get(0)?,
                    rowid: r.get(1)?,
                    parent: r.get(2)?,
                    fkid: r.get(3)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(E::sqlite)
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
        if self.group.is_some() {
            // Foreign keys are already off for the group's transaction when they were on.
            self.raw("SAVEPOINT strata_file").await?;
            self.in_tx = true;
            self.savepoint = true;
            if self.fk_restore {
                match self.violations().await {
                    Ok(v) => self.fk_before = v,
                    Err(e) => {
                        self.rollback_tx().await?;
                        return Err(e);
                    }
                }
            }
            return Ok(());
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
        let on: i64 = self
            .with_conn(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)))
            .map_err(E::sqlite)?;
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

    /// [`Driver::begin_execute`](crate::Driver::begin_execute) on this dialect. With SQLite on the calling
    /// thread, `BEGIN` and the statement cost no more as two calls than as one text.
    pub(super) async fn begin_then_execute(
        &mut self,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        self.begin_tx().await?;
        Ok(self.statement(sql).await)
    }

    /// [`Driver::commit`](crate::Driver::commit) on this dialect: a durable commit.
    pub(super) async fn commit_tx(&mut self) -> Result<(), DriverError> {
        self.finish_tx(None).await
    }

    /// Ends the file's transaction: its foreign-key check, then a commit — deferred (the file joins the group)
    /// when `deferred` names its version and the group is young (`crate::group`), else durable, with the group. A
    /// failure leaves no file transaction open: the file is rolled back (to its savepoint in a group).
    pub(super) async fn finish_tx(&mut self, deferred: Option<&str>) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(E::Transaction("commit without an open transaction".into()));
        }
        if self.fk_restore {
            let before = std::mem::take(&mut self.fk_before);
            let after = match self.violations().await {
                Ok(v) => v,
                Err(e) => {
                    self.rollback_tx().await?;
                    return Err(e);
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
                self.rollback_tx().await?;
                return Err(E::ForeignKeyViolation {
                    violations: new.join(", "),
                });
            }
        }
        if self.savepoint {
            if let Err(e) = self.raw("RELEASE strata_file").await {
                if self.in_tx {
                    self.rollback_tx().await?;
                }
                return Err(e);
            }
            self.savepoint = false;
        }
        self.in_tx = false;
        match deferred {
            Some(version) if may_join(self.group.as_ref()) => {
                self.group.get_or_insert_with(Group::new).push(version);
                Ok(())
            }
            _ => {
                // The file's own transaction when no group is open: committed like a group of one.
                self.group.get_or_insert_with(Group::new);
                self.commit_group().await
            }
        }
    }

    /// [`Driver::rollback`](crate::Driver::rollback) on this dialect: the file's savepoint in a group (the files
    /// before it stay), else the transaction.
    pub(super) async fn rollback_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(E::Transaction(
                "rollback without an open transaction".into(),
            ));
        }
        self.fk_before.clear();
        if self.savepoint {
            let r = self
                .raw("ROLLBACK TO strata_file; RELEASE strata_file")
                .await;
            self.savepoint = false;
            self.in_tx = false;
            if r.is_err() && !self.conn.is_autocommit() {
                // The group's transaction is in an unknown state: give it up.
                let _ = self.raw("ROLLBACK").await;
            }
            self.after_error().await;
            return r;
        }
        self.in_tx = false;
        if self.conn.is_autocommit() {
            // SQLite rolled the transaction back itself (a write that failed on a full disk).
            return self.restore_fk(Ok(())).await;
        }
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
