//! One reconcile of an `AtlasMigration` as a plain function (operator-spec §9.1): inputs in, the status to write,
//! the events to publish and when to come back out. No Kubernetes API calls happen here; the controller writes
//! the outcome.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use strata_driver::{DbUrl, DriverError};
use strata_engine::{ApplyOptions, Cancel, ConnectOptions, EngineError, Quiet, StatusOptions};

use crate::conditions::{self, DATA_CHANGED, RECONCILING};
use crate::crd::{AtlasMigration, AtlasMigrationStatus};
use crate::registry;
use crate::resolve::{self, Inputs, Objects, Registry, RemoteRun, ResolveSettings};

/// Ready reason when inputs cannot be read.
pub const READING_MIGRATION_DATA: &str = "ReadingMigrationData";
/// Ready reason when the database refuses.
pub const MIGRATING: &str = "Migrating";
/// Ready reason of a refused down migration.
pub const PROTECTED_FLOW_ERROR: &str = "ProtectedFlowError";

/// First retry delay.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest retry delay.
pub const BACKOFF_CAP: Duration = Duration::from_secs(300);
/// Delay of in-progress phases (waiting for a lock held elsewhere).
pub const PENDING_DELAY: Duration = Duration::from_secs(5);

/// Event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

/// An event to publish on the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// `Applied`, `TransientErr`, `Error`, `BackoffLimitExceeded`, …
    pub reason: String,
    /// The note (no credentials).
    pub note: String,
}

impl Event {
    pub(crate) fn new(type_: EventType, reason: &str, note: impl Into<String>) -> Self {
        Self {
            type_,
            reason: reason.into(),
            note: note.into(),
        }
    }
}

impl std::fmt::Display for Event {
    /// `Normal Applied Version 1 applied`, as the reference's unit tests compare events.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = match self.type_ {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        };
        write!(f, "{t} {} {}", self.reason, self.note)
    }
}

/// When to reconcile again (besides watch events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Immediately (after a status write that must be seen first).
    Now,
    /// After a delay.
    After(Duration),
    /// Only on a change of the resource or a referenced object.
    Never,
}

/// What a reconcile decided.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The status to write.
    pub status: AtlasMigrationStatus,
    /// Events to publish, in order.
    pub events: Vec<Event>,
    /// When to come back.
    pub requeue: Requeue,
    /// Files applied by this reconcile.
    pub applied_files: usize,
    /// Set when the reconcile failed: a short label for metrics (the Ready reason).
    pub failure: Option<String>,
}

/// Serialises work on one database: two resources pointing at the same database never apply at once.
#[derive(Debug, Default, Clone)]
pub struct DatabaseLocks {
    inner: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl DatabaseLocks {
    /// Waits for the lock of the database `key` names.
    pub fn lock(
        &self,
        key: &str,
    ) -> impl Future<Output = tokio::sync::OwnedMutexGuard<()>> + Send + 'static {
        let m = {
            let mut map = self.inner.lock().expect("database lock map");
            // Forget locks nobody holds or waits for, so the map does not grow with deleted resources.
            map.retain(|_, m| Arc::strong_count(m) > 1);
            map.entry(key.to_owned()).or_default().clone()
        };
        m.lock_owned()
    }
}

/// The identity of a database for [`DatabaseLocks`] (and the name of its SQLite lock directory): which database
/// the URL names ([`DbUrl::identity`]: no credentials, no connection settings), hashed.
pub fn database_key(url: &DbUrl) -> String {
    let digest = Sha256::digest(format!("{:?}", url.identity()).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Everything a reconcile uses besides the resource.
pub struct Env<'a> {
    /// Secrets and ConfigMaps.
    pub objects: &'a dyn Objects,
    /// Remote directories.
    pub registry: &'a dyn Registry,
    /// Operator settings.
    pub settings: &'a ResolveSettings,
    /// Per-database serialisation.
    pub locks: &'a DatabaseLocks,
    /// Where SQLite lock files go: one sub-directory per database, so unrelated SQLite targets do not serialise on
    /// one shared lock file. `None` keeps the engine's default (the OS temp dir, as Atlas).
    pub sqlite_lock_root: Option<PathBuf>,
    /// How long to wait for a migration lock held by another process.
    pub lock_timeout: Duration,
    /// Stops an apply between files on shutdown.
    pub cancel: Cancel,
    /// Dev-database Deployments for `AtlasSchema` (`--dev-db-deployments`); `None`: never created.
    pub dev_dbs: Option<&'a dyn crate::atlas_schema::devdb::DevDbs>,
}

/// The capped exponential back-off after the `failed`-th consecutive failure: 5 s × 2^(failed−1), at most 5 min.
pub fn backoff(failed: i32) -> Duration {
    let exp = failed.clamp(1, 32) as u32 - 1;
    BACKOFF_BASE
        .checked_mul(1u32.checked_shl(exp).unwrap_or(u32::MAX))
        .unwrap_or(BACKOFF_CAP)
        .min(BACKOFF_CAP)
}

/// A failure with its Ready reason and whether it may pass by itself.
struct Failure {
    reason: &'static str,
    message: String,
    transient: bool,
    /// The migration lock is held by another process: in progress, not a failure.
    lock_busy: bool,
}

fn engine_failure(e: &EngineError) -> Failure {
    Failure {
        reason: MIGRATING,
        message: e.to_string(),
        transient: retryable(e),
        lock_busy: matches!(e, EngineError::Lock(_)),
    }
}

/// SQLSTATEs of a busy or restarting server (PostgreSQL; MySQL reports 40001 too): serialisation failure, deadlock,
/// lock not available, administrator / crash shutdown, cannot connect now, too many connections. Class `08`
/// (connection exception) is matched as a class.
const RETRYABLE_SQLSTATES: [&str; 7] = [
    "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300",
];

/// Whether an engine failure passes without the user: the database unreachable, restarting, dropping the
/// connection or busy, or the migration lock held. What the database or the directory refuses on its merits (a
/// failed statement, a checksum mismatch, a bad URL, a dirty database) needs the user.
fn retryable(e: &EngineError) -> bool {
    match e {
        EngineError::Lock(_) => true,
        EngineError::Driver(d) => retryable_driver(d),
        _ => false,
    }
}

/// The driver half of [`retryable`], shared with the `AtlasSchema` reconcile: the database unreachable,
/// restarting, dropping the connection or busy.
pub(crate) fn retryable_driver(d: &DriverError) -> bool {
    match d {
        DriverError::Connect { .. } | DriverError::LockTimeout { .. } => true,
        // No SQLSTATE: I/O, TLS or protocol, the connection rather than the statement.
        DriverError::Sql { code: None, .. } => true,
        DriverError::Sql {
            code: Some(code), ..
        } => code.starts_with("08") || RETRYABLE_SQLSTATES.contains(&code.as_str()),
        _ => false,
    }
}

/// Runs one reconcile of `obj`. (Boxed: the future is proven `Send` here, once, for the controller runtime.)
pub fn reconcile<'a>(
    obj: &'a AtlasMigration,
    env: &'a Env<'a>,
) -> futures::future::BoxFuture<'a, Outcome> {
    Box::pin(reconcile_impl(obj, env))
}

async fn reconcile_impl(obj: &AtlasMigration, env: &Env<'_>) -> Outcome {
    let generation = obj.metadata.generation.unwrap_or(0);
    let old = obj.status.clone().unwrap_or_default();
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let spec = &obj.spec;
    let outcome = |status, events, requeue| Outcome {
        status,
        events,
        requeue,
        applied_files: 0,
        failure: None,
    };

    // 1. First pass: say we are on it before doing anything.
    if old.conditions.is_empty() {
        return outcome(
            conditions::reconciling(old, generation, RECONCILING),
            vec![],
            Requeue::Now,
        );
    }

    // 2. Inputs and hash.
    let inputs = match resolve::resolve(env.objects, env.registry, env.settings, ns, spec).await {
        Ok(i) => i,
        Err(e) => {
            return fail(
                obj,
                old,
                Failure {
                    reason: READING_MIGRATION_DATA,
                    message: e.message,
                    transient: e.transient,
                    lock_busy: false,
                },
            );
        }
    };

    // 3. Flip before heavy work, so GitOps tools see Ready=False before the database is touched.
    if old.is_ready() && inputs.hash != old.observed_hash {
        return outcome(
            conditions::reconciling(old, generation, DATA_CHANGED),
            vec![],
            Requeue::Now,
        );
    }

    let _db = env.locks.lock(&database_key(&inputs.url)).await;
    let connect = connect_options(env, &inputs.url);
    // The SQLite lock directory exists while this process works on the database (under the in-process lock
    // above): created here, removed below, so none is left behind when resources or databases go away.
    if let Some(dir) = &connect.sqlite_lock_dir {
        let _ = std::fs::create_dir_all(dir);
    }
    let result = migrate(obj, env, &inputs, connect.clone()).await;
    if let Some(dir) = &connect.sqlite_lock_dir {
        remove_lock_dir(dir);
    }
    match result {
        Ok(done) => done,
        Err(f) if f.lock_busy => outcome(
            conditions::not_ready(old, generation, RECONCILING, &f.message),
            vec![],
            Requeue::After(PENDING_DELAY),
        ),
        Err(f) => fail(obj, old, f),
    }
}

fn connect_options(env: &Env<'_>, url: &DbUrl) -> ConnectOptions {
    let mut c = ConnectOptions::default();
    if let Some(root) = &env.sqlite_lock_root
        && url.dialect() == strata_driver::Dialect::Sqlite
    {
        c = c.sqlite_lock_dir(root.join(database_key(url)));
    }
    c
}

/// Removes a per-database lock directory after a run. Only an empty one: a file left inside (another process's
/// lock, an Atlas lock file) stays with its directory.
fn remove_lock_dir(dir: &std::path::Path) {
    match std::fs::remove_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::debug!(dir = %dir.display(), error = %e, "lock directory kept"),
    }
}

/// Steps 4–6: status of the target, the down-flow guard, apply.
fn migrate<'a>(
    obj: &'a AtlasMigration,
    env: &'a Env<'a>,
    inputs: &'a Inputs,
    connect: ConnectOptions,
) -> futures::future::BoxFuture<'a, Result<Outcome, Failure>> {
    Box::pin(migrate_impl(obj, env, inputs, connect))
}

async fn migrate_impl(
    obj: &AtlasMigration,
    env: &Env<'_>,
    inputs: &Inputs,
    connect: ConnectOptions,
) -> Result<Outcome, Failure> {
    let generation = obj.metadata.generation.unwrap_or(0);
    let old = obj.status.clone().unwrap_or_default();
    let spec = &obj.spec;
    let st_opts = StatusOptions {
        revisions_schema: spec.revisions_schema.clone().filter(|s| !s.is_empty()),
        baseline: spec.baseline.clone().filter(|s| !s.is_empty()),
        allow_dirty: false,
        exec_order: spec.exec_order().into(),
        connect: connect.clone(),
    };
    let st = strata_engine::status(&inputs.dir, &inputs.url, &st_opts)
        .await
        .map_err(|e| engine_failure(&e))?;

    // 5. Fewer files than applied revisions: the protected down flow.
    let available = inputs.dir.files().len();
    if st.pending.is_empty() && !st.applied.is_empty() && available < st.applied.len() {
        let down = spec.migrate_down();
        let message = if down.allow {
            "migrate down is not supported by the Strata operator yet".to_owned()
        } else {
            "migrate down is not allowed, set `migrateDown.allow` to true to allow downgrade"
                .to_owned()
        };
        return Err(Failure {
            reason: PROTECTED_FLOW_ERROR,
            message,
            transient: false,
            lock_busy: false,
        });
    }

    // 4. Nothing pending: ready at the current version. (A baseline not yet recorded still needs the apply that
    // writes its revision.)
    let baseline_unrecorded = st.applied.is_empty() && st_opts.baseline.is_some();
    if st.ok && st.pending.is_empty() && !baseline_unrecorded {
        let last = st
            .applied
            .last()
            .map(|r| (r.executed_at_unix_nanos / 1_000_000_000) as i64)
            .unwrap_or(0);
        let version = st.current.clone().unwrap_or_default();
        // Keep the recorded success time while nothing changed, so an idempotent re-check writes nothing.
        let last = if old.is_ready()
            && old.observed_hash == inputs.hash
            && old.last_applied_version == version
            && old.last_applied > 0
        {
            old.last_applied
        } else {
            last
        };
        return Ok(Outcome {
            status: conditions::ready(&old, generation, &inputs.hash, &version, last),
            events: vec![],
            requeue: Requeue::Never,
            applied_files: 0,
            failure: None,
        });
    }

    // 6. Apply.
    let opts = ApplyOptions {
        revisions_schema: st_opts.revisions_schema.clone(),
        baseline: st_opts.baseline.clone(),
        exec_order: st_opts.exec_order,
        lock_timeout: env.lock_timeout,
        connect,
        ..ApplyOptions::default()
    };
    let result =
        strata_engine::apply(&inputs.dir, &inputs.url, &opts, &mut Quiet, &env.cancel).await;
    if let Some(run) = &inputs.remote {
        report_run(obj, env, run, &inputs.url, &result).await;
    }
    let report = result.map_err(|e| engine_failure(&e))?;
    let version = [&report.target, &report.current]
        .into_iter()
        .find(|v| !v.is_empty())
        .cloned()
        .or_else(|| st_opts.baseline.clone())
        .unwrap_or_default();
    let events = if report.applied.is_empty() {
        vec![]
    } else {
        vec![Event::new(
            EventType::Normal,
            "Applied",
            format!("Version {version} applied"),
        )]
    };
    Ok(Outcome {
        status: conditions::ready(
            &old,
            generation,
            &inputs.hash,
            &version,
            report.end.as_second(),
        ),
        events,
        requeue: Requeue::Never,
        applied_files: report.applied.len(),
        failure: None,
    })
}

/// Reports an apply of a remote directory to the registry, failed runs included. Best effort: a report that does
/// not get through is logged (without the token or credentials) and never fails the reconcile.
async fn report_run(
    obj: &AtlasMigration,
    env: &Env<'_>,
    run: &RemoteRun,
    url: &DbUrl,
    result: &Result<strata_engine::report::ApplyReport, EngineError>,
) {
    let Some(d) = registry::deployment(&run.req, &run.version, url.expose(), result) else {
        return;
    };
    if let Err(e) = env.registry.report(&run.req, &run.token, &d).await {
        tracing::warn!(
            namespace = obj.metadata.namespace.as_deref().unwrap_or("default"),
            name = obj.metadata.name.as_deref().unwrap_or(""),
            registry = %registry::display_url(&run.req.registry),
            project = %run.req.project,
            status = d.status.as_str(),
            error = %e,
            "the run was not reported to the registry (the migration itself is recorded in the database)"
        );
    }
}

/// A failure: not-ready with the reason, a Warning event, and a capped exponential retry — or none once
/// `failed` exceeds `backoffLimit` (> 0). A transient failure that will be retried is `Reconciling` (not
/// `Stalled`); `Stalled` is for what needs the user, and for transient failures once the retries are used up.
fn fail(obj: &AtlasMigration, old: AtlasMigrationStatus, f: Failure) -> Outcome {
    let generation = obj.metadata.generation.unwrap_or(0);
    let limit = obj.spec.backoff_limit();
    let exhausted = limit > 0 && old.failed.saturating_add(1) > limit;
    let status = if f.transient && !exhausted {
        conditions::retrying(old, generation, f.reason, &f.message)
    } else {
        conditions::not_ready(old, generation, f.reason, &f.message)
    };
    let kind = if f.transient { "TransientErr" } else { "Error" };
    let mut events = vec![Event::new(EventType::Warning, kind, f.message.clone())];
    let requeue = if exhausted {
        events.push(Event::new(
            EventType::Warning,
            "BackoffLimitExceeded",
            "backoff limit exceeded",
        ));
        Requeue::Never
    } else {
        Requeue::After(backoff(status.failed))
    };
    Outcome {
        status,
        events,
        requeue,
        applied_files: 0,
        failure: Some(f.reason.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_5s_and_caps_at_5min() {
        let secs: Vec<u64> = (0..=9).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(secs, [5, 5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(backoff(i32::MAX), BACKOFF_CAP);
    }

    #[test]
    fn only_connection_lock_and_busy_server_failures_are_transient() {
        let sql = |code: Option<&str>| {
            EngineError::Driver(DriverError::Sql {
                message: "x".into(),
                code: code.map(str::to_owned),
            })
        };
        let connect = EngineError::Driver(DriverError::Connect {
            url: "postgres://h/db".into(),
            message: "connection refused".into(),
            hint: String::new(),
        });
        let lock = DriverError::LockTimeout {
            name: "atlas_migrate_execute".into(),
            waited: Duration::from_secs(1),
            detail: String::new(),
        };
        for (e, want) in [
            (connect, true),
            (EngineError::Lock(lock), true),
            (sql(None), true),
            (sql(Some("08006")), true),
            (sql(Some("57P01")), true),
            (sql(Some("40001")), true),
            (sql(Some("42P01")), false),
            (sql(Some("23505")), false),
            (
                EngineError::Driver(DriverError::InvalidUrl {
                    url: "postgres://h".into(),
                    field: "port".into(),
                    reason: "not a number".into(),
                }),
                false,
            ),
            (
                EngineError::History(strata_engine::HistoryError::Changed {
                    file: "1_a.sql".into(),
                    version: "1".into(),
                }),
                false,
            ),
        ] {
            assert_eq!(retryable(&e), want, "{e}");
        }
    }

    #[test]
    fn database_key_ignores_credentials_and_query() {
        let key = |url: &str| database_key(&url.parse().unwrap());
        assert_eq!(
            key("postgres://a:secret@h:5432/db?sslmode=disable"),
            key("postgres://b:other@h:5432/db")
        );
        assert_ne!(key("postgres://h:5432/db"), key("postgres://h:5432/db2"));
    }
}
