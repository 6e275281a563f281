//! Drift: how a database differs from what its migration directory says it should hold.
//!
//! - **Expected state**: the directory's files up to and including the version the database reports as applied
//!   (`lastAppliedVersion`; later files are not expected yet), replayed on the dev database through the replay
//!   cache ([`super::replay()`]): the first check of a version executes the files, every later check of the same
//!   files reads the cached model and runs nothing ([`Drift::replay`] says which).
//! - **Actual state**: the target inspected — its bound schema, or on a realm URL the schemas the expected state
//!   holds (the schemas the directory manages); the revisions table `atlas_schema_revisions` is never part of it,
//!   nor its own schema.
//! - **Drift**: the typed changes from expected to actual ([`super::diff_changes`], aligned as `schema diff`
//!   aligns bound realms), one English line per change ([`strata_schema::diff::describe`]), read "what the
//!   database has that the directory does not say": `table "users": column "nickname" added`.
//!
//! # Never a write to the target
//!
//! The target is only inspected, and through a session that cannot write: PostgreSQL connects with
//! `default_transaction_read_only=on` (every statement of the session runs read-only), SQLite opens the file
//! with `mode=ro`, MySQL/MariaDB sets `SESSION TRANSACTION READ ONLY` before inspecting. The dev database is the
//! only one anything runs on.

use std::time::Duration;

use strata_driver::DbUrl;
use strata_migrate::{Dialect, MigrationDir};
use strata_schema::Changes;

use super::cache::ReplayCache;
use super::dev::{DevDatabase, bound_inspect_options};
use super::migrate_diff::LOCK_NAME;
use super::replay::{ReplayOptions, ReplayStats, replay};
use super::source::Loaded;
use super::{SchemaError, diff_changes};

/// One English line per change ([`strata_schema::diff::describe`]), re-exported for the front ends that only link
/// the engine.
pub use strata_schema::diff::describe;

/// The schema Atlas keeps its revisions table in on a realm URL; never part of the actual state.
pub const REVISIONS_SCHEMA: &str = "atlas_schema_revisions";

/// How to check a migration directory's target for drift.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DriftOptions {
    /// The dev database the directory is replayed on (`?strata_dev=scratch` for a throw-away database on a
    /// server; `sqlite://dev?mode=memory` for SQLite).
    pub dev_url: DbUrl,
    /// The replay cache; `None` replays the files on every check.
    pub cache: Option<ReplayCache>,
    /// Globs of objects left out of the comparison (`--exclude`'s syntax).
    pub exclude: Vec<String>,
    /// How long to wait for the dev database's lock (shared with `migrate diff`).
    pub lock_timeout: Duration,
}

impl DriftOptions {
    /// Options with the dev database `dev_url`, no cache, nothing excluded, a 10 s lock timeout.
    pub fn new(dev_url: DbUrl) -> Self {
        DriftOptions {
            dev_url,
            cache: None,
            exclude: Vec::new(),
            lock_timeout: Duration::from_secs(10),
        }
    }

    /// Sets [`DriftOptions::cache`].
    pub fn cache(mut self, cache: Option<ReplayCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Sets [`DriftOptions::exclude`].
    pub fn exclude(mut self, globs: Vec<String>) -> Self {
        self.exclude = globs;
        self
    }
}

/// What a drift check found: empty when the target holds what the directory says.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The changes from the expected state to the target's.
    pub changes: Changes,
    /// One line per change ([`strata_schema::diff::describe`]), in the order of [`Drift::changes`].
    pub lines: Vec<String>,
    /// How the expected state was obtained (`executed == 0`: from the replay cache, nothing ran).
    pub replay: ReplayStats,
}

impl Drift {
    /// Whether the target is in sync with the directory.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The files of `dir` up to and including `version` (`None`: all of them; `Some("")`: none, nothing applied
/// yet), as a directory of their own. A version no file has is [`SchemaError::DriftVersion`].
pub fn up_to(dir: &MigrationDir, version: Option<&str>) -> Result<MigrationDir, SchemaError> {
    let files = dir.files();
    let n = match version {
        None => files.len(),
        Some("") => 0,
        Some(v) => match files.iter().position(|f| f.version() == v) {
            Some(i) => i + 1,
            None => {
                return Err(SchemaError::DriftVersion {
                    dir: dir.location().to_owned(),
                    version: v.to_owned(),
                });
            }
        },
    };
    Ok(MigrationDir::from_parts(
        dir.location(),
        files[..n].to_vec(),
        None,
    )?)
}

/// The dev database a drift check of `target` uses when none is given: SQLite in memory, else a throw-away
/// database on the target's server (`?strata_dev=scratch`, which needs the target's credentials to allow
/// `CREATE DATABASE`; see [`super::dev`]).
pub fn default_dev_url(target: &DbUrl) -> Result<DbUrl, SchemaError> {
    match target.dialect() {
        Dialect::Sqlite => Ok(super::dev::SQLITE_DEV_URL.parse()?),
        _ => with_query_param(target, super::dev::SCRATCH_PARAM, "scratch"),
    }
}

/// `url` with the query parameter `key` set to `value` (earlier occurrences removed).
fn with_query_param(url: &DbUrl, key: &str, value: &str) -> Result<DbUrl, SchemaError> {
    let base = url.without_query_param(key)?;
    let raw = base.expose();
    let (head, fragment) = raw.split_once('#').map_or((raw, ""), |(h, f)| (h, f));
    let sep = if head.contains('?') { '&' } else { '?' };
    let hash = if fragment.is_empty() { "" } else { "#" };
    Ok(format!("{head}{sep}{key}={value}{hash}{fragment}").parse()?)
}

/// `url` as a session that cannot write, where the URL can say so (PostgreSQL, SQLite files); MySQL is made
/// read-only after connecting ([`connect_read_only`]).
pub fn read_only_url(url: &DbUrl) -> Result<DbUrl, SchemaError> {
    let with = |key: &str, value: &str| with_query_param(url, key, value);
    match url.dialect() {
        Dialect::Postgres => with("default_transaction_read_only", "on"),
        Dialect::Sqlite if url.query_param("mode").as_deref() == Some("memory") => Ok(url.clone()),
        Dialect::Sqlite => with("mode", "ro"),
        Dialect::Mysql => Ok(url.clone()),
    }
}

/// Connects to `url` in a session that cannot write (see the module documentation).
pub async fn connect_read_only(url: &DbUrl) -> Result<Box<dyn strata_driver::Driver>, SchemaError> {
    let mut drv = strata_driver::connect(&read_only_url(url)?).await?;
    if drv.dialect() == Dialect::Mysql
        && let Err(e) = drv.execute("SET SESSION TRANSACTION READ ONLY").await
    {
        let _ = drv.close().await;
        return Err(e.into());
    }
    Ok(drv)
}

/// Checks the database at `target` against `dir` up to `version` (see the module documentation). `dir`'s
/// `atlas.sum` is the caller's to check. Nothing is written to `target`.
pub async fn migration_drift(
    target: &DbUrl,
    dir: &MigrationDir,
    version: Option<&str>,
    opts: &DriftOptions,
) -> Result<Drift, SchemaError> {
    let upto = up_to(dir, version)?;
    let (expected, replay_stats) = expected_state(&upto, opts).await?;
    let actual = actual_state(target, &expected, &opts.exclude).await?;
    let changes = diff_changes(expected, actual, &opts.exclude)?;
    Ok(Drift {
        lines: strata_schema::diff::describe(&changes),
        changes,
        replay: replay_stats,
    })
}

/// The directory replayed on the dev database, under `migrate diff`'s lock (one dev database, one user at a
/// time); the dev database is closed (restored or dropped) on every path.
async fn expected_state(
    dir: &MigrationDir,
    opts: &DriftOptions,
) -> Result<(Loaded, ReplayStats), SchemaError> {
    let mut dev = DevDatabase::open(&opts.dev_url).await?;
    let r = async {
        dev.driver().lock(LOCK_NAME, opts.lock_timeout).await?;
        let ropts = ReplayOptions::default().cache(opts.cache.clone());
        let r = replay(&mut dev, dir, &ropts).await;
        let unlocked = dev.driver().unlock(LOCK_NAME).await;
        let r = r?;
        unlocked?;
        Ok::<_, SchemaError>(r)
    }
    .await;
    let closed = dev.close().await;
    let r = r?;
    closed?;
    Ok((
        Loaded {
            realm: r.realm,
            bound: r.bound,
            hcl: false,
        },
        r.stats,
    ))
}

/// The target inspected through a read-only session: its bound schema, or the schemas `expected` holds.
async fn actual_state(
    target: &DbUrl,
    expected: &Loaded,
    exclude: &[String],
) -> Result<Loaded, SchemaError> {
    let mut drv = connect_read_only(target).await?;
    let bound = drv.bound_schema().is_some();
    let mut io = bound_inspect_options(drv.as_ref());
    io.include_revisions_table = false;
    io.exclude = exclude.to_vec();
    if !bound {
        io.schemas = expected
            .realm
            .schemas
            .iter()
            .map(|s| s.name.clone())
            .filter(|n| n != REVISIONS_SCHEMA)
            .collect();
    }
    let dialect = drv.dialect();
    let r = match drv.inspector() {
        Some(i) => i.inspect(&io).await.map_err(SchemaError::from),
        None => Err(SchemaError::NoInspector {
            dialect: super::dialect_name(dialect),
        }),
    };
    let closed = drv.close().await;
    let mut realm = r?;
    closed?;
    // Nothing expected: the whole realm was inspected; the revisions table's own schema is not the user's.
    if !bound && io.schemas.is_empty() {
        realm.schemas.retain(|s| s.name != REVISIONS_SCHEMA);
    }
    Ok(Loaded {
        realm,
        bound,
        hcl: false,
    })
}

#[cfg(test)]
mod tests {
    use strata_migrate::MigrationFile;

    use super::*;

    #[test]
    fn expected_files_stop_at_the_applied_version() {
        let dir = MigrationDir::from_parts(
            "mig",
            vec![
                MigrationFile::new("1_a.sql", "a"),
                MigrationFile::new("2_b.sql", "b"),
                MigrationFile::new("3_c.sql", "c"),
            ],
            None,
        )
        .unwrap();
        let names = |d: MigrationDir| {
            d.files()
                .iter()
                .map(|f| f.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(up_to(&dir, None).unwrap()).len(), 3);
        assert!(names(up_to(&dir, Some("")).unwrap()).is_empty());
        assert_eq!(
            names(up_to(&dir, Some("2")).unwrap()),
            ["1_a.sql", "2_b.sql"]
        );
        assert_eq!(
            up_to(&dir, Some("9")).unwrap_err().to_string(),
            "drift check of mig: no migration file has version \"9\" (the version the database reports as \
             applied): the directory is not the one applied to this database"
        );
    }

    #[test]
    fn read_only_sessions_are_asked_for_in_the_url() {
        let ro = |u: &str| {
            read_only_url(&u.parse().unwrap())
                .unwrap()
                .redacted()
                .to_owned()
        };
        assert_eq!(
            ro("postgres://u:secret@h:5432/db?sslmode=disable"),
            "postgres://u:xxxxx@h:5432/db?sslmode=disable&default_transaction_read_only=on"
        );
        assert_eq!(
            ro("postgres://h/db?default_transaction_read_only=off"),
            "postgres://h/db?default_transaction_read_only=on"
        );
        assert_eq!(ro("sqlite://app.db"), "sqlite://app.db?mode=ro");
        assert_eq!(ro("sqlite://app.db?mode=rwc"), "sqlite://app.db?mode=ro");
        assert_eq!(ro("mysql://root@h:3306/app"), "mysql://root@h:3306/app");
        let dev = |u: &str| {
            default_dev_url(&u.parse().unwrap())
                .unwrap()
                .redacted()
                .to_owned()
        };
        assert_eq!(dev("sqlite://app.db"), "sqlite://dev?mode=memory");
        assert_eq!(
            dev("postgres://u:pw@h/db?search_path=app"),
            "postgres://u:xxxxx@h/db?search_path=app&strata_dev=scratch"
        );
        assert_eq!(
            dev("mysql://root@h:3306/app"),
            "mysql://root@h:3306/app?strata_dev=scratch"
        );
    }
}
