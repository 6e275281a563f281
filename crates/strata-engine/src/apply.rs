//! `migrate apply`: run the pending files of a directory against a database, exactly once, under the migration
//! lock, and report what happened.
//!
//! The flow (see ARCHITECTURE.md): validate `atlas.sum` → connect (one session; [`apply_on`] lets a caller open it
//! while the directory is still being read) → lock `atlas_migrate_execute` → read revisions (a read that proves
//! the table complete skips the next step) → locate / create the revisions table and read → clean check (first run
//! only) → pending plan → tamper check → scan every pending file up front → execute file by file → unlock.
//!
//! Round trips are kept few where the driver can combine them (see BENCHMARKS.md): `BEGIN` travels with a file's
//! first statement, a progress row with the statement after it, and the final row with `COMMIT`; with
//! `--tx-mode all` on PostgreSQL or SQLite every file's row is written at the end, all in one statement sent with
//! `COMMIT`. The rows and errors are the same as with one call per step.
//!
//! Revision writes follow Atlas's rows exactly, with two improvements: where a file runs inside a transaction on a
//! database with transactional DDL (PostgreSQL, SQLite) the row is written once, at the end, inside that
//! transaction; elsewhere (MySQL, `txmode none`) progress is written after every statement so a crash can resume,
//! and after a failure the row is re-read so the recorded progress is what really persisted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use strata_driver::{ConnectOptions, DbUrl, Dialect, Driver, Durability, RevisionsLocation};
use strata_migrate::directive::TxMode;
use strata_migrate::history;
use strata_migrate::inflight::{self as marker, Marker};
use strata_migrate::noop_memo::{self, NoopMemo};
use strata_migrate::plan::{self, ExecOrder, Limit, PendingOptions, RowStamp};
use strata_migrate::revision::operator_version;
use strata_migrate::scan::{self, Stmt};
use strata_migrate::snapshot::Stamp;
use strata_migrate::sum::{self, SumFile};
use strata_migrate::{MigrationDir, MigrationFile, Revision, RevisionType};

use crate::cache::MemoSlot;
use crate::inflight::{InFlightStop, Resolved, Undecided};
use crate::report::{AppliedFile, ApplyReport, FileRef, StmtError};
use crate::{EngineError, inflight, target_info};

/// Name of the lock `apply` (and `set`) take, as Atlas names it.
pub const APPLY_LOCK: &str = "atlas_migrate_execute";

/// Options of an apply run; `Default` gives Atlas's defaults.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// `--revisions-schema`.
    pub revisions_schema: Option<String>,
    /// `--baseline`.
    pub baseline: Option<String>,
    /// `--allow-dirty`.
    pub allow_dirty: bool,
    /// `--exec-order`.
    pub exec_order: ExecOrder,
    /// `--tx-mode`.
    pub tx_mode: TxMode,
    /// `[amount]` or `--to-version`.
    pub limit: Limit,
    /// `--lock-timeout`: how long to wait for the migration lock.
    pub lock_timeout: Duration,
    /// `--statement-timeout`: database-side limit per statement.
    pub statement_timeout: Option<Duration>,
    /// `--ddl-lock-timeout`: database-side limit on waiting for table locks.
    pub ddl_lock_timeout: Option<Duration>,
    /// `--dry-run`: print what would run, write nothing.
    pub dry_run: bool,
    /// Connection options that are not part of the URL.
    pub connect: ConnectOptions,
    /// The cache folder ([`crate::cache::root`]) in which a run that finds nothing to do keeps a no-op memo
    /// ([`strata_migrate::noop_memo`]), so that the next run over the same directory and revisions table only asks
    /// the server for the table's fingerprint ([`Driver::revisions_fingerprint`]) instead of reading and planning;
    /// `None` reads every time.
    pub memo_cache: Option<PathBuf>,
    /// The local migration directory, when there is one: its `atlas.sum`, read while the session opens, tells
    /// whether the directory changed since the memo, and then the table is read at once (no fingerprint first).
    pub memo_dir: Option<PathBuf>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            revisions_schema: None,
            baseline: None,
            allow_dirty: false,
            exec_order: ExecOrder::default(),
            tx_mode: TxMode::File,
            limit: Limit::All,
            lock_timeout: strata_driver::DEFAULT_LOCK_TIMEOUT,
            statement_timeout: None,
            ddl_lock_timeout: None,
            dry_run: false,
            connect: ConnectOptions::default(),
            memo_cache: None,
            memo_dir: None,
        }
    }
}

/// Asks a running apply to stop at the next statement boundary. A file running in its own transaction rolls back
/// (so it is either wholly applied or not at all); where progress is recorded per statement (MySQL, `txmode none`)
/// the statements already run stay recorded and the next apply resumes after them. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What happens during a run, for progress displays and logs. Every method has an empty default.
pub trait Observer: Send {
    /// The plan is known: `files` pending with `statements` statements to run in all.
    fn planned(&mut self, _files: usize, _statements: usize) {}
    /// A file starts.
    fn file_started(&mut self, _file: &FileRef) {}
    /// A statement is about to run (or, in a dry run, would run).
    fn statement(&mut self, _text: &str) {}
    /// An earlier run was interrupted while statement `statement` (1-based) of `file` ran, and this run decided
    /// it: `took_effect` (it counts as applied and does not run again) or not (it runs now). `why` says what
    /// decided, e.g. `column c of t exists`.
    fn in_flight(&mut self, _file: &FileRef, _statement: u64, _took_effect: bool, _why: &str) {}
    /// A file finished (successfully or not).
    fn file_finished(&mut self, _file: &AppliedFile) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Observer for Quiet {}

/// A pending file, scanned and ready to run.
struct Prepared<'a> {
    file: &'a MigrationFile,
    stmts: Vec<Stmt>,
    sums: Vec<String>,
    mode: TxMode,
    hash: String,
}

/// Applies the pending files of `dir` to the database at `url`.
///
/// Returns the report on success. A failing statement returns [`EngineError::Execution`] carrying the report (which
/// files ran, the failing statement and its error); errors before anything ran are returned as they are.
pub async fn apply(
    dir: &MigrationDir,
    url: &DbUrl,
    opts: &ApplyOptions,
    observer: &mut dyn Observer,
    cancel: &Cancel,
) -> Result<ApplyReport, EngineError> {
    let sum = sum::validate(dir)?;
    let session = open_session(url, opts).await?;
    apply_on(session, dir, &sum, opts, observer, cancel).await
}

/// The part of an apply that does not need the directory: a connected session that holds the migration lock and
/// has read the revisions table (when the table is complete). A caller that reads the directory itself (from disk,
/// from the registry) opens one with [`open_session`] meanwhile and hands both to [`apply_on`].
///
/// Nothing has been written when a session exists. Dropping it ends the database session, which releases the lock
/// (the server frees advisory and named locks with the session; SQLite's lock file is removed on drop);
/// [`Session::close`] does the same politely.
pub struct Session {
    drv: Box<dyn Driver>,
    loc: RevisionsLocation,
    /// What the session learnt of the revisions table.
    known: Known,
    /// Where this table's no-op memo is kept, when the run keeps one.
    slot: Option<MemoSlot>,
}

/// What [`open_session`] learnt of the revisions table.
#[derive(Debug)]
enum Known {
    /// The rows as planning reads them ([`Driver::read_revisions_if_ready`]; `None` leaves the catalog checks and
    /// the read to [`apply_on`]), with the fingerprint of exactly those rows when the driver has one.
    Read {
        revisions: Option<Vec<Revision>>,
        fingerprint: Option<String>,
    },
    /// Not read: a no-op memo was found, and the table's fingerprint now. [`apply_on`] compares the memo's key
    /// with this run's and reads only when they differ.
    Fingerprinted { fingerprint: String, memo: NoopMemo },
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("dialect", &self.drv.dialect())
            .field("loc", &self.loc)
            .field(
                "revisions",
                &match &self.known {
                    Known::Read { revisions, .. } => revisions.as_ref().map(Vec::len),
                    Known::Fingerprinted { .. } => None,
                },
            )
            .finish()
    }
}

impl Session {
    /// Releases the lock and ends a session that will not be used (e.g. the directory turned out invalid).
    pub async fn close(self) -> Result<(), EngineError> {
        unlock_and_close(self.drv).await
    }
}

async fn unlock_and_close(mut drv: Box<dyn Driver>) -> Result<(), EngineError> {
    let unlocked = drv.unlock(APPLY_LOCK).await;
    let closed = drv.close().await;
    unlocked?;
    Ok(closed?)
}

/// Connects, takes the migration lock (waiting up to `opts.lock_timeout`), applies the session limits and reads the
/// revisions table. Read-only: a missing or incomplete table is left to [`apply_on`].
pub async fn open_session(url: &DbUrl, opts: &ApplyOptions) -> Result<Session, EngineError> {
    let mut drv = strata_driver::connect_with(url, &opts.connect).await?;
    if let Err(e) = drv.lock(APPLY_LOCK, opts.lock_timeout).await {
        let _ = drv.close().await;
        return Err(EngineError::Lock(e));
    }
    match read_state(&mut *drv, url, opts).await {
        Ok((loc, known, slot)) => Ok(Session {
            drv,
            loc,
            known,
            slot,
        }),
        Err(e) => {
            let _ = unlock_and_close(drv).await;
            Err(e)
        }
    }
}

async fn read_state(
    drv: &mut dyn Driver,
    url: &DbUrl,
    opts: &ApplyOptions,
) -> Result<(RevisionsLocation, Known, Option<MemoSlot>), EngineError> {
    if opts.statement_timeout.is_some() || opts.ddl_lock_timeout.is_some() {
        drv.set_ddl_limits(opts.statement_timeout, opts.ddl_lock_timeout)
            .await?;
    }
    let loc = drv
        .revisions_location(opts.revisions_schema.as_deref())
        .await?;
    // With a no-op memo, the table's fingerprint is all the session asks for (apply_on compares); otherwise a
    // re-run reads the rows planning needs. The catalog checks wait until something is to be written.
    let slot = opts
        .memo_cache
        .as_deref()
        .map(|root| MemoSlot::new(root, url, &loc));
    // A memo made with another atlas.sum cannot match: read at once. An atlas.sum with the stamp it had when the
    // memo was kept is taken to be the same without reading it (a hint either way: the key decides).
    let same_dir = |memo: &NoopMemo| {
        opts.memo_dir.as_ref().is_none_or(|d| {
            let path = d.join(strata_migrate::dir::SUM_FILE);
            if memo.sum_stamp.is_some() && Stamp::of(&path) == memo.sum_stamp {
                return true;
            }
            let bytes = std::fs::read(path).ok();
            noop_memo::sum_digest(bytes.as_deref()) == memo.sum_digest
        })
    };
    if let Some(memo) = slot.as_ref().and_then(MemoSlot::load)
        && same_dir(&memo)
        && let Some(fingerprint) = drv.revisions_fingerprint(&loc).await?
    {
        return Ok((loc, Known::Fingerprinted { fingerprint, memo }, slot));
    }
    let (revisions, fingerprint) = if slot.is_some() {
        drv.read_revisions_fingerprinted(&loc).await?
    } else {
        (drv.read_revisions_if_ready(&loc).await?, None)
    };
    Ok((
        loc,
        Known::Read {
            revisions,
            fingerprint,
        },
        slot,
    ))
}

/// What [`open_session_while`] hands back: the caller's loaded directory, its validated `atlas.sum`, and the
/// session (or why it could not be opened; the caller reports that like any apply error).
#[derive(Debug)]
pub struct Opened<T> {
    /// What `load` returned.
    pub source: T,
    /// The directory's validated `atlas.sum`.
    pub sum: SumFile,
    /// The session for [`apply_on`].
    pub session: Result<Session, EngineError>,
}

/// Why [`open_session_while`] stopped at the directory (any session opened meanwhile is closed, releasing the
/// lock).
#[derive(Debug)]
pub enum DirFailed<E> {
    /// `load` failed.
    Load(E),
    /// The directory's `atlas.sum` is missing or does not match.
    Sum(sum::SumError),
}

/// Steps 1–2 and 3–5 of an apply at once: opens the session ([`open_session`]) while `load` reads the directory
/// (from disk on a blocking thread, from the registry, …), then validates its `atlas.sum`. The directory's error
/// always wins, whichever finishes first; a session opened for an invalid directory is closed (releasing the
/// lock), and nothing has been written either way. With a SQLite URL the directory is read and checked first and
/// the database opened only for a valid one, since opening SQLite can create the database file.
pub async fn open_session_while<T, E>(
    url: &DbUrl,
    opts: &ApplyOptions,
    load: impl Future<Output = Result<T, E>>,
) -> Result<Opened<T>, DirFailed<E>>
where
    T: AsRef<MigrationDir> + Send + 'static,
{
    let loading = async {
        let source = load.await.map_err(DirFailed::Load)?;
        // Hashing every file is the directory's longest step after the read, and this thread is the session's:
        // the check runs on a blocking thread while the session reads the revisions.
        let (source, sum) = tokio::task::spawn_blocking(move || {
            let sum = sum::validate(source.as_ref());
            (source, sum)
        })
        .await
        .unwrap_or_else(|e| {
            // A blocking task is only cancelled by a runtime shutting down, which cannot happen while this runs.
            let payload = e
                .try_into_panic()
                .unwrap_or_else(|_| Box::new("the atlas.sum check was cancelled"));
            std::panic::resume_unwind(payload)
        });
        Ok((source, sum.map_err(DirFailed::Sum)?))
    };
    let opening = open_session(url, opts);
    let overlap = url.dialect() != Dialect::Sqlite;
    let (loaded, session) = if overlap {
        tokio::pin!(loading, opening);
        // A session that is ready first waits for the directory; an invalid directory is reported as soon as it
        // is known, dropping the session (which releases the lock).
        tokio::select! {
            loaded = &mut loading => match loaded {
                Ok(loaded) => (loaded, opening.await),
                Err(e) => return Err(e),
            },
            session = &mut opening => match loading.await {
                Ok(loaded) => (loaded, session),
                Err(e) => {
                    if let Ok(session) = session {
                        let _ = session.close().await;
                    }
                    return Err(e);
                }
            },
        }
    } else {
        let loaded = loading.await?;
        (loaded, opening.await)
    };
    let (source, sum) = loaded;
    Ok(Opened {
        source,
        sum,
        session,
    })
}

/// [`apply`] on a session from [`open_session`], with `dir`'s `atlas.sum` already validated ([`sum::validate`]).
/// Releases the lock and closes the session.
pub async fn apply_on(
    session: Session,
    dir: &MigrationDir,
    sum: &SumFile,
    opts: &ApplyOptions,
    observer: &mut dyn Observer,
    cancel: &Cancel,
) -> Result<ApplyReport, EngineError> {
    let Session {
        mut drv,
        loc,
        known,
        slot,
    } = session;
    let report = run(
        &mut *drv, loc, known, slot, dir, sum, opts, observer, cancel,
    )
    .await;
    roll_back_open(&mut *drv).await;
    // Closing releases the lock ([`Driver::close`]; on PostgreSQL by ending the session, a round trip less than
    // unlocking first).
    let closed = drv.close().await;
    let report = report?;
    closed?;
    Ok(report)
}

/// Runs `f` holding the named lock, releasing it whatever `f` returns.
pub(crate) async fn with_lock<T>(
    drv: &mut dyn Driver,
    name: &str,
    timeout: Duration,
    f: impl AsyncFnOnce(&mut dyn Driver) -> Result<T, EngineError>,
) -> Result<T, EngineError> {
    drv.lock(name, timeout).await.map_err(EngineError::Lock)?;
    let result = f(&mut *drv).await;
    release(drv, name, result).await
}

/// Ends a section run under the named lock: rolls back a transaction left open, releases the lock, and returns the
/// section's result (its error first, then the release's).
async fn release<T>(
    drv: &mut dyn Driver,
    name: &str,
    result: Result<T, EngineError>,
) -> Result<T, EngineError> {
    roll_back_open(drv).await;
    let unlocked = drv.unlock(name).await;
    let value = result?;
    unlocked?;
    Ok(value)
}

/// Rolls back a transaction a run left open (it stopped inside a file); its error changes nothing for the caller,
/// which reports why the run stopped.
async fn roll_back_open(drv: &mut dyn Driver) {
    if drv.in_transaction() {
        let _ = drv.rollback().await;
    }
}

fn now_nanos() -> i128 {
    Timestamp::now().as_nanosecond()
}

#[allow(clippy::too_many_arguments)]
async fn run(
    drv: &mut dyn Driver,
    loc: RevisionsLocation,
    known: Known,
    slot: Option<MemoSlot>,
    dir: &MigrationDir,
    sum: &SumFile,
    opts: &ApplyOptions,
    observer: &mut dyn Observer,
    cancel: &Cancel,
) -> Result<ApplyReport, EngineError> {
    // What a no-op memo's key covers of the options: everything planning reads (the revisions schema is in the
    // memo's place).
    let plan_options = format!(
        "baseline {:?} allow-dirty {} exec-order {:?} limit {:?}",
        opts.baseline, opts.allow_dirty, opts.exec_order, opts.limit
    );
    let (revisions, fingerprint) = match known {
        Known::Fingerprinted { fingerprint, memo } => {
            if memo.key == noop_memo::key(&fingerprint, dir, sum, &plan_options) {
                // Everything planning would read is as it was when a run found nothing to do.
                observer.planned(0, 0);
                let mut report = new_report(drv, dir, Vec::new(), memo.current, String::new());
                report.finish();
                return Ok(report);
            }
            drv.read_revisions_fingerprinted(&loc).await?
        }
        Known::Read {
            revisions,
            fingerprint,
        } => (revisions, fingerprint),
    };
    // Whether the table is known to have every column (rows from the session's first read do not prove it).
    let (revisions, table_checked) = match revisions {
        Some(revisions) => (revisions, false),
        None => {
            let exists = if opts.dry_run {
                drv.revisions_table_exists(&loc).await?
            } else {
                drv.ensure_revisions_table_existed(&loc).await?
            };
            let revisions = if exists {
                drv.read_revisions(&loc).await?
            } else {
                Vec::new()
            };
            (revisions, !opts.dry_run)
        }
    };
    let dirty_reason = if revisions.is_empty() && !opts.allow_dirty && opts.baseline.is_none() {
        drv.check_clean(&loc).await?
    } else {
        None
    };
    let popts = PendingOptions {
        baseline: opts.baseline.clone(),
        allow_dirty: opts.allow_dirty,
        exec_order: opts.exec_order,
        dirty_reason,
    };
    let files = dir.files();
    let plan = plan::pending(files, &revisions, &popts)?.limit(&opts.limit)?;
    history::check(files, &revisions, sum)?;
    // A run with nothing to write leaves the table as it read it: the next run over the same directory can tell
    // from the table's fingerprint. (A run that writes would leave a memo of a table that no longer is.)
    if let (Some(slot), Some(fingerprint)) = (&slot, &fingerprint)
        && plan.baseline.is_none()
        && plan.pending.is_empty()
    {
        slot.store(&NoopMemo {
            key: noop_memo::key(fingerprint, dir, sum, &plan_options),
            sum_digest: noop_memo::sum_digest(dir.sum_bytes()),
            // Taken after the directory was read: if atlas.sum changed since, the next run's hint is wrong and
            // only costs it the fingerprint (the key still differs).
            sum_stamp: opts
                .memo_dir
                .as_ref()
                .and_then(|d| Stamp::of(&d.join(strata_migrate::dir::SUM_FILE))),
            current: plan.current_version().unwrap_or_default().to_owned(),
        });
    }

    // Nothing to write (the common re-run) needs no catalog check; anything else makes sure every column is there
    // first, as a first run does.
    if !opts.dry_run && !table_checked && (plan.baseline.is_some() || !plan.pending.is_empty()) {
        drv.ensure_revisions_table(&loc).await?;
    }
    let stamp = RowStamp {
        executed_at_unix_nanos: now_nanos(),
        operator_version: operator_version(),
    };
    if let Some(row) = plan.baseline_revision(&stamp)
        && !opts.dry_run
    {
        drv.upsert_revision(&loc, &row).await?;
    }
    let prepared = prepare(drv.dialect(), &plan.pending, sum, opts.tx_mode)?;
    observer.planned(prepared.len(), prepared.iter().map(|p| p.stmts.len()).sum());

    let mut report = new_report(
        drv,
        dir,
        plan.pending.iter().map(|f| FileRef::of(f)).collect(),
        plan.current_version().unwrap_or_default().to_owned(),
        plan.target_version().unwrap_or_default().to_owned(),
    );
    if prepared.is_empty() {
        report.finish();
        return Ok(report);
    }
    let resume = plan.resume.as_ref().map(|r| (r.index, r.revision.clone()));
    let all = opts.tx_mode == TxMode::All && !opts.dry_run;
    // One transaction for the run on a transactional-DDL database: the files' final rows are kept and written
    // together, in one statement sent with COMMIT (any failure before rolls back every row anyway, so rows
    // written earlier would change nothing).
    let mut deferred: Vec<Revision> = Vec::new();
    let defer_rows = all && drv.transactional_ddl();
    if all {
        drv.begin().await?;
    }
    // A file in its own transaction commits without waiting for the disk where the database allows it, except the
    // run's last file: its durable commit flushes every earlier one (logs are flushed in order). A run that stops
    // early makes them durable with one more write before it reports (`settle`). So a finished run is as durable as
    // with a flush per file, and a server crash mid-run loses whole files, each with its revision row, which the
    // next run applies again.
    let mut unsettled: Option<Revision> = None;
    // Files whose deferred commits the database rolled back with the whole transaction (`Driver::take_rolled_back`).
    let mut lost: Vec<String> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        let durability = if drv.defers_commits() && i + 1 < prepared.len() {
            Durability::Deferred
        } else {
            Durability::Durable
        };
        let mut started = resume
            .as_ref()
            .filter(|(idx, _)| *idx == i)
            .map(|(_, r)| r.clone());
        let resumed = started.is_some();
        // A statement an interrupted run left in flight is decided before the file goes on (read-only, so a dry
        // run shows what apply would do).
        let mut undecided = None;
        let mut decided_in_flight = false;
        if let Some(rev) = started.as_mut()
            && let Some(m) = Marker::parse(&rev.error)
            && !cancel.is_cancelled()
        {
            match inflight::resolve(drv, &p.stmts, rev, m, opts.lock_timeout).await {
                Ok(Ok(resolved)) => {
                    settle_in_flight(p, rev, m, &resolved, observer);
                    decided_in_flight = true;
                }
                Ok(Err(problem)) => undecided = Some((m, problem, rev.error_stmt.clone())),
                Err(e) => {
                    settle(drv, &loc, &mut unsettled, &mut lost).await;
                    return Err(EngineError::rolled_back(e, &lost));
                }
            }
        }
        let outcome = if cancel.is_cancelled() {
            Outcome::Cancelled
        } else if let Some((m, problem, text)) = undecided {
            Outcome::InFlight(m, problem, text)
        } else if opts.dry_run {
            Outcome::Done(dry_run_file(p, started.as_ref(), observer)?)
        } else {
            let executed = execute_file(
                drv,
                &loc,
                p,
                started,
                observer,
                cancel,
                defer_rows.then_some(&mut deferred),
                Commit {
                    durability,
                    unsettled: &mut unsettled,
                },
            )
            .await;
            match executed {
                Ok(outcome) => outcome,
                Err(e) => {
                    settle(drv, &loc, &mut unsettled, &mut lost).await;
                    return Err(EngineError::rolled_back(e, &lost));
                }
            }
        };
        if !matches!(outcome, Outcome::Done(_)) {
            settle(drv, &loc, &mut unsettled, &mut lost).await;
        }
        match outcome {
            Outcome::Cancelled => {
                if all && drv.in_transaction() {
                    drv.rollback().await?;
                }
                report.end = Timestamp::now();
                report.error = "cancelled".into();
                forget_rolled_back(&mut report, &lost);
                return Err(EngineError::Cancelled {
                    version: p.file.version().to_owned(),
                    report: Box::new(report),
                });
            }
            Outcome::Done(applied) => {
                observer.file_finished(&applied);
                report.applied.push(applied);
            }
            Outcome::Failed(applied) => {
                observer.file_finished(&applied);
                if all && drv.in_transaction() {
                    drv.rollback().await?;
                }
                let e = applied
                    .error
                    .as_ref()
                    .expect("a failed file carries its error");
                // The failing statement is the last one run (the text alone is ambiguous: it may repeat).
                let failed_at = (applied.skipped + applied.applied.len()).saturating_sub(1);
                report.error = if e.stmt.is_empty() {
                    format!(
                        "sql/migrate: committing version {}: {} [at {}]",
                        plan::go_quote(p.file.version()),
                        e.text,
                        p.file.name(),
                    )
                } else {
                    let at = match p.stmts.get(failed_at) {
                        Some(s) => format!("{}:{}:{}", p.file.name(), s.line, s.column),
                        None => p.file.name().to_owned(),
                    };
                    format!(
                        "sql/migrate: executing statement {} from version {}: {} [at {at}]",
                        plan::go_quote(&e.stmt),
                        plan::go_quote(p.file.version()),
                        e.text,
                    )
                };
                // The first statement after a resume point may be one an interrupted run executed without
                // recording it: say so, and how to get out of it.
                let committed_alone = p.mode == TxMode::None || !drv.transactional_ddl();
                if resumed
                    && committed_alone
                    && !decided_in_flight
                    && !e.stmt.is_empty()
                    && failed_at == applied.skipped
                {
                    report
                        .error
                        .push_str(&resume_hint(files, p.file, failed_at + 1));
                }
                report.applied.push(applied);
                report.end = Timestamp::now();
                forget_rolled_back(&mut report, &lost);
                return Err(EngineError::Execution(Box::new(report)));
            }
            Outcome::InFlight(m, problem, text) => {
                if all && drv.in_transaction() {
                    drv.rollback().await?;
                }
                let idx = usize::try_from(m.statement - 1).unwrap_or(usize::MAX);
                let (line, column) = p.stmts.get(idx).map_or((0, 0), |s| (s.line, s.column));
                report.end = Timestamp::now();
                let mut stop = InFlightStop {
                    file: p.file.name().to_owned(),
                    version: p.file.version().to_owned(),
                    statement: m.statement,
                    line,
                    column,
                    text,
                    connection: m.connection,
                    problem,
                    report,
                };
                stop.report.error = stop.to_string();
                return Err(EngineError::InFlight(Box::new(stop)));
            }
        }
    }
    if all {
        if defer_rows {
            drv.upsert_all_commit(&loc, &deferred, Durability::Durable)
                .await?;
        } else {
            drv.commit().await?;
        }
    }
    report.end = Timestamp::now();
    report.finish();
    Ok(report)
}

/// How a file's own transaction commits, and where the run keeps the last row committed without waiting for the
/// disk (for [`settle`]).
struct Commit<'a> {
    durability: Durability,
    unsettled: &'a mut Option<Revision>,
}

/// Makes deferred commits durable before a run that stopped early reports: the last of them is written again,
/// unchanged, with a durable commit, which flushes the log up to it and so every deferred commit before it. Best
/// effort: when even this write fails (the connection is gone), the run's own error is the one to report, and what
/// the server kept is what the next run reads.
///
/// On SQLite and MySQL the deferred files are not committed yet, and the write commits them; should that commit
/// fail, or should the database have rolled back their transaction already, they are added to `lost` (and the row
/// is not written: it is one of them).
async fn settle(
    drv: &mut dyn Driver,
    loc: &RevisionsLocation,
    unsettled: &mut Option<Revision>,
    lost: &mut Vec<String>,
) {
    lost.extend(drv.take_rolled_back());
    if let Some(rev) = unsettled.take()
        && !drv.in_transaction()
        && lost.is_empty()
    {
        let _ = drv.upsert_revision(loc, &rev).await;
        lost.extend(drv.take_rolled_back());
    }
}

/// Takes files a rollback of the whole transaction undid out of the report, and says so in its error.
fn forget_rolled_back(report: &mut ApplyReport, lost: &[String]) {
    if lost.is_empty() {
        return;
    }
    report.applied.retain(|a| !lost.contains(&a.file.version));
    report.error.push_str(&crate::error::rolled_back_note(lost));
}

/// A run's report before anything ran.
fn new_report(
    drv: &mut dyn Driver,
    dir: &MigrationDir,
    pending: Vec<FileRef>,
    current: String,
    target: String,
) -> ApplyReport {
    ApplyReport {
        driver: crate::driver_name(drv.dialect()).to_owned(),
        url: Some(target_info(drv)),
        dir: dir.location().to_owned(),
        pending,
        applied: Vec::new(),
        current,
        target,
        start: Timestamp::now(),
        end: Timestamp::now(),
        error: String::new(),
        message: None,
    }
}

/// Applies a decision about the statement `m` names to the resumed row (in memory; the file's first write stores
/// it): took effect → counted as applied, as if its progress row had been written; otherwise it runs again. The
/// marker goes either way.
fn settle_in_flight(
    p: &Prepared<'_>,
    rev: &mut Revision,
    m: Marker,
    resolved: &Resolved,
    observer: &mut dyn Observer,
) {
    let (took_effect, why) = match resolved {
        Resolved::TookEffect(why) => (true, why),
        Resolved::Run(why) => (false, why),
    };
    if took_effect {
        let idx = usize::try_from(rev.applied).unwrap_or(usize::MAX);
        if let Some(sum) = p.sums.get(idx) {
            rev.partial_hashes
                .get_or_insert_with(Vec::new)
                .push(plan::stored_partial_hash(sum));
            rev.applied += 1;
        }
    }
    rev.error.clear();
    rev.error_stmt.clear();
    observer.in_flight(&FileRef::of(p.file), m.statement, took_effect, why);
}

/// After a cancelled file: the row may name a statement as in flight that never ran (its marker was written with
/// the previous statement's progress); remove it so the next run does not have to decide anything.
async fn clear_marker(
    drv: &mut dyn Driver,
    loc: &RevisionsLocation,
    version: &str,
) -> Result<(), EngineError> {
    if let Some(mut row) = drv.read_revision(loc, version).await?
        && Marker::parse(&row.error).is_some()
    {
        row.error.clear();
        row.error_stmt.clear();
        drv.upsert_revision(loc, &row).await?;
    }
    Ok(())
}

/// Recovery text for a failure at the statement where a partially applied file resumed (statement `n`, 1-based).
fn resume_hint(files: &[MigrationFile], file: &MigrationFile, n: usize) -> String {
    let name = file.name();
    let previous = files
        .iter()
        .filter(|f| f.version() < file.version())
        .map(|f| f.version())
        .next_back();
    let set = match previous {
        Some(v) => format!(
            "revert everything {name} applied, run 'strata migrate set {v}' to drop its partial revision, and apply \
             again"
        ),
        None => format!(
            "revert everything {name} applied, delete its row from the revisions table ('strata migrate set' needs \
             an earlier version, and there is none), and apply again"
        ),
    };
    format!(
        "\n\nThis run resumed {name} at statement {n}, after an earlier run stopped there. If that run was \
         interrupted (killed, connection lost) while or right after executing statement {n}, the statement may have \
         taken effect without being recorded: it committed on its own (DDL on MySQL/MariaDB, every statement with \
         txmode none) before its progress was written. Check whether its effect is in the database. If it is, \
         either undo it and run apply again to resume at statement {n}, or {set}."
    )
}

/// Scans every pending file before anything runs, so a scanning or directive error in a later file never leaves
/// the earlier ones applied.
fn prepare<'a>(
    dialect: strata_migrate::Dialect,
    pending: &[&'a MigrationFile],
    sum: &SumFile,
    global: TxMode,
) -> Result<Vec<Prepared<'a>>, EngineError> {
    // One lookup table per run instead of a scan of atlas.sum per file.
    let hashes: HashMap<&str, &str> = sum
        .entries()
        .iter()
        .rev()
        .map(|e| (e.name.as_str(), e.hash.as_str()))
        .collect();
    pending
        .iter()
        .map(|&file| {
            let directives = file.directives()?;
            let mode = match (global, directives.txmode) {
                (TxMode::All, Some(m)) => {
                    return Err(EngineError::TxModeConflict {
                        mode: m.to_string(),
                        file: file.name().to_owned(),
                    });
                }
                (g, None) => g,
                (_, Some(m)) => m,
            };
            let stmts = scan::split(dialect, file.name(), file.text()?)?;
            let sums = plan::statement_sums(stmts.iter().map(|s| s.text.as_str()));
            let hash = hashes
                .get(file.name())
                .copied()
                .unwrap_or_default()
                .to_owned();
            Ok(Prepared {
                file,
                stmts,
                sums,
                mode,
                hash,
            })
        })
        .collect()
}

fn new_revision(p: &Prepared<'_>) -> Revision {
    Revision {
        version: p.file.version().to_owned(),
        description: p.file.description().to_owned(),
        kind: RevisionType::EXECUTED,
        applied: 0,
        total: p.stmts.len() as u64,
        executed_at_unix_nanos: now_nanos(),
        execution_time_nanos: 0,
        error: String::new(),
        error_stmt: String::new(),
        hash: p.hash.clone(),
        partial_hashes: None,
        operator_version: operator_version(),
    }
}

fn dry_run_file(
    p: &Prepared<'_>,
    started: Option<&Revision>,
    observer: &mut dyn Observer,
) -> Result<AppliedFile, EngineError> {
    let skip = match started {
        Some(rev) => plan::check_resume(p.file.name(), &p.sums, rev)?,
        None => 0,
    };
    let file = FileRef::of(p.file);
    observer.file_started(&file);
    let start = Timestamp::now();
    let applied: Vec<String> = p.stmts[skip.min(p.stmts.len())..]
        .iter()
        .map(|s| {
            observer.statement(&s.text);
            s.text.clone()
        })
        .collect();
    Ok(AppliedFile {
        file,
        start,
        end: Timestamp::now(),
        skipped: skip,
        applied,
        error: None,
    })
}

/// How a file ended.
enum Outcome {
    /// Every statement ran.
    Done(AppliedFile),
    /// A statement (or the file's commit) failed; the file carries the error.
    Failed(AppliedFile),
    /// Cancelled between two statements: the file's own transaction rolled back; without one, the row records
    /// the statements that ran, so the next run resumes after them.
    Cancelled,
    /// An earlier run left this statement (text recorded with the marker) in flight and nothing decides whether it
    /// took effect; the file did not start.
    InFlight(Marker, Undecided, String),
}

/// Runs one file. The `Result` is for failures of the machinery (the database went away while writing the
/// revision); the [`Outcome`] says how the file's statements went.
///
/// With `deferred` (one transaction for the whole run), the file's final row is added there instead of written.
#[allow(clippy::too_many_arguments)]
async fn execute_file(
    drv: &mut dyn Driver,
    loc: &RevisionsLocation,
    p: &Prepared<'_>,
    started: Option<Revision>,
    observer: &mut dyn Observer,
    cancel: &Cancel,
    deferred: Option<&mut Vec<Revision>>,
    commit: Commit<'_>,
) -> Result<Outcome, EngineError> {
    let mut rev = started.unwrap_or_else(|| new_revision(p));
    let skip = if rev.applied > 0 {
        plan::check_resume(p.file.name(), &p.sums, &rev)?
    } else {
        0
    };
    let own_tx = p.mode == TxMode::File;
    let in_tx = p.mode != TxMode::None;
    // Inside a transaction on a transactional-DDL database the row is written once, at the end: intermediate
    // writes would roll back with the file anyway.
    let progress_writes = !(in_tx && drv.transactional_ddl());
    // Each write before a statement that commits on its own names it as in flight (see `inflight`): the write
    // happens anyway, so recording it costs no round trip.
    let (dialect, session) = (drv.dialect(), drv.session_id());
    let mark_next = |rev: &mut Revision, next: usize| match p.stmts.get(next) {
        Some(s) if marker::commits_alone(dialect, &s.text, in_tx) => {
            rev.error = Marker {
                statement: next as u64 + 1,
                connection: session,
            }
            .to_string();
            rev.error_stmt = s.text.clone();
        }
        _ => {
            rev.error.clear();
            rev.error_stmt.clear();
        }
    };
    let file = FileRef::of(p.file);
    observer.file_started(&file);
    let start = Timestamp::now();
    let clock = Instant::now();
    // Where nothing is written before the first statement, BEGIN travels with it (one round trip less per file).
    let mut begin_pending = own_tx;
    if own_tx && progress_writes {
        drv.begin().await?;
        begin_pending = false;
    }
    // A progress write travels with the statement after it (`upsert_execute`: one round trip where the driver
    // can), so it is done before that statement starts, as with two calls; the last one is superseded by the
    // file's final row.
    let mut progress: Option<Revision> = None;
    if progress_writes {
        mark_next(&mut rev, skip);
        progress = Some(rev.clone());
    }
    let mut applied = Vec::with_capacity(p.stmts.len() - skip.min(p.stmts.len()));
    for (k, stmt) in p.stmts.iter().enumerate().skip(skip) {
        if k > skip && cancel.is_cancelled() {
            // The last statement's progress, without a marker for the statement that will not run: committed with
            // it where it committed (DDL), rolled back with it below where it did not.
            if let Some(mut row) = progress.take() {
                row.error.clear();
                row.error_stmt.clear();
                drv.upsert_revision(loc, &row).await?;
            }
            if (own_tx || progress_writes) && drv.in_transaction() {
                drv.rollback().await?;
            }
            if progress_writes {
                clear_marker(drv, loc, &rev.version).await?;
            }
            return Ok(Outcome::Cancelled);
        }
        observer.statement(&stmt.text);
        applied.push(stmt.text.clone());
        let result = if begin_pending {
            begin_pending = false;
            drv.begin_execute(&stmt.text).await?
        } else if let Some(row) = progress.take() {
            drv.upsert_execute(loc, &row, &stmt.text).await?
        } else {
            drv.execute(&stmt.text).await
        };
        if let Err(e) = result {
            let text = e.to_string();
            let elapsed = clock.elapsed();
            record_failure(
                drv,
                loc,
                &mut rev,
                own_tx,
                progress_writes,
                &stmt.text,
                &text,
                elapsed,
            )
            .await?;
            let error = Some(StmtError {
                stmt: stmt.text.clone(),
                text,
            });
            return Ok(Outcome::Failed(AppliedFile {
                file,
                start,
                end: Timestamp::now(),
                skipped: skip,
                applied,
                error,
            }));
        }
        if progress_writes {
            rev.applied = k as u64 + 1;
            rev.partial_hashes
                .get_or_insert_with(Vec::new)
                .push(plan::stored_partial_hash(&p.sums[k]));
            mark_next(&mut rev, k + 1);
            progress = Some(rev.clone());
        }
    }
    // Complete: applied == total marks the row done (also when a resumed file's statement count changed, so a
    // finished file never looks partial); the hash is today's, so the tamper check compares like with like.
    rev.applied = p.stmts.len() as u64;
    rev.total = rev.applied;
    rev.partial_hashes = None;
    rev.error.clear();
    rev.error_stmt.clear();
    rev.hash = p.hash.clone();
    rev.execution_time_nanos = i64::try_from(clock.elapsed().as_nanos()).unwrap_or(i64::MAX);
    if begin_pending {
        // No statement ran (an empty file, or nothing left to resume).
        drv.begin().await?;
    }
    if own_tx {
        // The final row and COMMIT travel together. Deferred constraints (and SQLite's foreign-key check) fail
        // here: the file failed and, its transaction gone, nothing of it persisted. An empty statement marks a
        // commit failure.
        if let Err(e) = drv.upsert_commit(loc, &rev, commit.durability).await {
            if drv.in_transaction() {
                drv.rollback().await?;
            }
            return Ok(Outcome::Failed(AppliedFile {
                file,
                start,
                end: Timestamp::now(),
                skipped: skip,
                applied,
                error: Some(StmtError {
                    stmt: String::new(),
                    text: e.to_string(),
                }),
            }));
        }
        *commit.unsettled = match commit.durability {
            Durability::Deferred => Some(rev),
            Durability::Durable => None,
        };
    } else if let Some(rows) = deferred {
        rows.push(rev);
    } else {
        drv.upsert_revision(loc, &rev).await?;
    }
    Ok(Outcome::Done(AppliedFile {
        file,
        start,
        end: Timestamp::now(),
        skipped: skip,
        applied,
        error: None,
    }))
}

/// After a failed statement: roll back the file's transaction, and where progress is written per statement,
/// record the error on the row as it persisted.
#[allow(clippy::too_many_arguments)]
async fn record_failure(
    drv: &mut dyn Driver,
    loc: &RevisionsLocation,
    rev: &mut Revision,
    own_tx: bool,
    progress_writes: bool,
    stmt: &str,
    error: &str,
    elapsed: Duration,
) -> Result<(), EngineError> {
    if own_tx && drv.in_transaction() {
        drv.rollback().await?;
    }
    if !progress_writes {
        // Transactional DDL: the file's statements and its row are gone together; nothing to record.
        return Ok(());
    }
    if drv.in_transaction() {
        // tx-mode all on a database without transactional DDL: the run ends here, so roll back now; what the DDL
        // committed stays, and the row below says so (as it would under tx-mode file).
        drv.rollback().await?;
    }
    // What persisted may be less than what ran (a MySQL transaction holding DML rolled back): re-read it.
    let Some(mut persisted) = drv.read_revision(loc, &rev.version).await? else {
        return Ok(());
    };
    persisted.error = error.to_owned();
    persisted.error_stmt = stmt.to_owned();
    persisted.execution_time_nanos = i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX);
    drv.upsert_revision(loc, &persisted).await?;
    *rev = persisted;
    Ok(())
}
