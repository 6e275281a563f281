//! `migrate diff`: the next migration file, from the difference between what a directory builds and a desired
//! state.
//!
//! 1. The directory is read (created when missing) and its `atlas.sum` checked; the name is checked before any
//!    database is touched.
//! 2. The dev database is opened (it must be empty: [`SchemaError::DevNotClean`] names the first object) and
//!    the `atlas_migrate_diff` lock taken on it, waiting up to the lock timeout (the driver's back-off).
//! 3. The current state: the directory replayed on it, through the replay cache ([`super::replay`]).
//! 4. The desired state: `.sql` files and folders run on the same dev database (one rolled-back transaction
//!    where DDL is transactional) and inspected; a migration directory replayed (cached too); a database
//!    inspected; other sources loaded by [`super::load`].
//! 5. Diff and plan ([`super::diff_loaded_with`]): on a dev database bound to one schema the desired state must
//!    hold exactly one schema and statements are unqualified (or qualified by `--qualifier`); otherwise every
//!    statement names its schema and new schemas are created.
//! 6. No change: nothing is written ([`MigrateDiffReport::file`] is `None`). Otherwise the file
//!    `<UTC yyyymmddhhmmss>[_name].sql` gets [`strata_schema::Plan::to_migration_file`] and `atlas.sum` is
//!    rewritten. The lock is released and the dev database closed (restored or dropped) in every case.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use strata_driver::DbUrl;
use strata_migrate::MigrationDir;
use strata_schema::plan::PlanOptions;

use super::cache::ReplayCache;
use super::dev::{DevDatabase, SqlText, bound_inspect_options};
use super::replay::{ReplayOptions, ReplayStats, hcl_key, load_sql, replay};
use super::source::{LoadOptions, Loaded, Source, hcl_texts, load, sql_files};
use super::{SchemaError, diff_loaded_with};

/// The lock `migrate diff` holds on the dev database (Atlas's name).
pub const LOCK_NAME: &str = "atlas_migrate_diff";

/// How to run `migrate diff`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MigrateDiffOptions {
    /// The desired state (`--to`, repeatable for `.sql` files and folders).
    pub to: Vec<Source>,
    /// The dev database.
    pub dev_url: DbUrl,
    /// The new file's name after the version (`[name]`).
    pub name: Option<String>,
    /// Schemas to compare on a dev database bound to none (`--schema`); empty: all.
    pub schemas: Vec<String>,
    /// Indentation of `CREATE TABLE` bodies (`--format '{{ sql . "  " }}'`); empty: one line.
    pub indent: String,
    /// The schema every statement names (`--qualifier`), on a dev database bound to one schema.
    pub qualifier: Option<String>,
    /// How long to wait for the `atlas_migrate_diff` lock.
    pub lock_timeout: Duration,
    /// The replay cache; `None` replays every file every time.
    pub cache: Option<ReplayCache>,
    /// The time the new file's version is taken from.
    pub now: SystemTime,
    /// Kinds of change left out of the plan (a project env's `diff { skip { … } }`).
    pub skip: Vec<strata_schema::SkipKind>,
    /// Input variables of HCL desired states.
    pub vars: strata_hcl::parse::Vars,
    /// Which index statements on existing PostgreSQL tables use `CONCURRENTLY` (a project env's
    /// `diff { concurrent_index { … } }`); a file holding one runs without a transaction.
    pub concurrent_index: strata_schema::ConcurrentIndex,
}

impl MigrateDiffOptions {
    /// Options for `to` and `dev_url`; the rest as Atlas's defaults (no name, 10 s lock timeout, no cache,
    /// version from now).
    pub fn new(to: Vec<Source>, dev_url: DbUrl) -> Self {
        MigrateDiffOptions {
            to,
            dev_url,
            name: None,
            schemas: Vec::new(),
            indent: String::new(),
            qualifier: None,
            lock_timeout: Duration::from_secs(10),
            cache: None,
            now: SystemTime::now(),
            skip: Vec::new(),
            vars: strata_hcl::parse::Vars::new(),
            concurrent_index: strata_schema::ConcurrentIndex::default(),
        }
    }

    /// Sets [`MigrateDiffOptions::name`].
    pub fn name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    /// Sets [`MigrateDiffOptions::schemas`].
    pub fn schemas(mut self, schemas: Vec<String>) -> Self {
        self.schemas = schemas;
        self
    }

    /// Sets [`MigrateDiffOptions::indent`].
    pub fn indent(mut self, indent: impl Into<String>) -> Self {
        self.indent = indent.into();
        self
    }

    /// Sets [`MigrateDiffOptions::qualifier`].
    pub fn qualifier(mut self, qualifier: Option<String>) -> Self {
        self.qualifier = qualifier;
        self
    }

    /// Sets [`MigrateDiffOptions::lock_timeout`].
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Sets [`MigrateDiffOptions::cache`].
    pub fn cache(mut self, cache: Option<ReplayCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Sets [`MigrateDiffOptions::now`].
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = now;
        self
    }
}

/// What `migrate diff` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateDiffReport {
    /// The file written; `None` when the directory already builds the desired state.
    pub file: Option<PathBuf>,
    /// How the directory's replay went (cache use).
    pub replay: ReplayStats,
    /// Whether the desired state came from the cache instead of a full run on the dev database: its `.sql`
    /// statements (unchanged, or plain `CREATE`s appended and merged), or its HCL files and variables unchanged
    /// (nothing created at all).
    pub desired_cached: bool,
}

/// The `--to` sources combined: several are allowed only when all are `.sql` files or folders (Atlas's rule and
/// wording).
fn check_sources(to: &[Source]) -> Result<(), SchemaError> {
    let scheme = |s: &Source| match s {
        Source::Database(u) => u.parts().scheme,
        _ => "file".to_owned(),
    };
    let Some(first) = to.first() else {
        return Err(SchemaError::ToSources {
            message: "required flag(s) \"to\" not set".into(),
        });
    };
    if to.len() == 1 {
        return Ok(());
    }
    for s in &to[1..] {
        let (a, b) = (scheme(first), scheme(s));
        if a != b {
            let (file, other) = if a == "file" { (a, b) } else { (b, a) };
            return Err(SchemaError::ToSources {
                message: format!(
                    "got mixed --to url schemes: {file:?} and {other:?}, the desired state must be provided from a \
                     single kind of source"
                ),
            });
        }
    }
    if let Source::Database(_) = first {
        return Err(SchemaError::ToSources {
            message: format!(
                "got multiple --to urls of scheme {:?}, only multiple 'file://' urls are supported",
                scheme(first)
            ),
        });
    }
    if !to
        .iter()
        .all(|s| matches!(s, Source::SqlFile(_) | Source::SqlDir(_)))
    {
        return Err(SchemaError::ToSources {
            message: "several --to sources can only be .sql files or folders of .sql files: give one migration \
                      directory, JSON or HCL source at a time"
                .into(),
        });
    }
    Ok(())
}

/// Runs `migrate diff` on the directory at `dir` (see the module documentation).
pub async fn migrate_diff(
    dir: &Path,
    opts: &MigrateDiffOptions,
) -> Result<MigrateDiffReport, SchemaError> {
    if let Some(n) = &opts.name {
        strata_migrate::new::check_name(n)?;
    }
    check_sources(&opts.to)?;
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(SchemaError::io(dir))?;
    }
    let d = MigrationDir::open(dir)?;
    strata_migrate::sum::validate(&d)?;

    let mut dev = DevDatabase::open(&opts.dev_url).await?;
    let locked = dev.driver().lock(LOCK_NAME, opts.lock_timeout).await;
    let r = match locked {
        Ok(()) => {
            let r = diff_on(&mut dev, dir, &d, opts).await;
            let unlocked = dev.driver().unlock(LOCK_NAME).await;
            match (r, unlocked) {
                (Ok(_), Err(e)) => Err(e.into()),
                (r, _) => r,
            }
        }
        Err(e) => Err(e.into()),
    };
    let closed = dev.close().await;
    let report = r?;
    closed?;
    Ok(report)
}

async fn diff_on(
    dev: &mut DevDatabase,
    path: &Path,
    dir: &MigrationDir,
    opts: &MigrateDiffOptions,
) -> Result<MigrateDiffReport, SchemaError> {
    let ropts = ReplayOptions::default()
        .cache(opts.cache.clone())
        .schemas(opts.schemas.clone());
    let current = replay(dev, dir, &ropts).await?;
    let (desired, desired_cached) = desired(dev, opts, &ropts).await?;
    let bound = current.bound;
    if bound {
        match desired.realm.schemas.len() {
            0 => return Err(SchemaError::NoSchema),
            1 => {}
            n => return Err(SchemaError::SchemaCount { count: n }),
        }
    }
    let current_loaded = Loaded {
        realm: current.realm,
        bound,
        hcl: false,
    };
    let plan = diff_loaded_with(
        current_loaded,
        desired,
        &[],
        &opts.skip,
        opts.qualifier.as_deref(),
        &PlanOptions::default()
            .indent(opts.indent.clone())
            .concurrent_index(opts.concurrent_index),
    )?;
    if plan.is_empty() {
        return Ok(MigrateDiffReport {
            file: None,
            replay: current.stats,
            desired_cached,
        });
    }
    let body = plan.to_migration_file()?;
    let file =
        strata_migrate::new::create_with(path, opts.name.as_deref(), opts.now, body.as_bytes())?;
    strata_migrate::new::rehash(path)?;
    Ok(MigrateDiffReport {
        file: Some(file),
        replay: current.stats,
        desired_cached,
    })
}

/// Loads the desired state, using the open dev database for SQL and migration directories; says whether the
/// `.sql` statements came from the cache.
async fn desired(
    dev: &mut DevDatabase,
    opts: &MigrateDiffOptions,
    ropts: &ReplayOptions,
) -> Result<(Loaded, bool), SchemaError> {
    let bound = dev.bound();
    if let [Source::MigrationDir(p)] = opts.to.as_slice() {
        let d = MigrationDir::open(p)?;
        strata_migrate::sum::validate(&d)?;
        let r = replay(dev, &d, ropts).await?;
        let cached = r.stats.executed == 0;
        let loaded = Loaded {
            realm: r.realm,
            bound,
            hcl: false,
        };
        return Ok((loaded, cached));
    }
    if opts
        .to
        .iter()
        .all(|s| matches!(s, Source::SqlFile(_) | Source::SqlDir(_)))
    {
        let mut texts = Vec::new();
        for s in &opts.to {
            texts.extend(
                sql_files(s)?
                    .into_iter()
                    .map(|(name, text)| SqlText::new(name, text)),
            );
        }
        let mut io = bound_inspect_options(dev.driver());
        io.include_revisions_table = false;
        if !bound && !opts.schemas.is_empty() {
            io.schemas.clone_from(&opts.schemas);
        }
        let (realm, cached) =
            load_sql(dev, &texts, &io, opts.cache.as_ref(), &opts.schemas).await?;
        return Ok((
            Loaded {
                realm,
                bound,
                hcl: false,
            },
            cached,
        ));
    }
    // A database, the model's JSON, HCL: loaded as `schema diff` loads them, with this dev database.
    let mut lo = LoadOptions {
        dev_url: Some(opts.dev_url.clone()),
        dialect: Some(dev.driver().dialect()),
        vars: opts.vars.clone(),
        ..LoadOptions::default()
    };
    lo.inspect.schemas.clone_from(&opts.schemas);
    let [source] = opts.to.as_slice() else {
        return Err(SchemaError::ToSources {
            message: "several --to sources can only be .sql files or folders of .sql files".into(),
        });
    };
    // HCL: the inspected model cached under the files' and variables' content. It is always created on the dev
    // database and inspected back here (`lo.dev_url` is set), so an entry is only ever written from an inspection.
    if let (Some(cache), Some(files)) = (opts.cache.as_ref(), hcl_texts(source)?) {
        let key = hcl_key(dev, &files, &opts.vars, &opts.schemas);
        if let Some(realm) = key
            .as_ref()
            .and_then(|k| cache.get(k, dev.driver().dialect()))
        {
            let loaded = Loaded {
                realm,
                bound: false,
                hcl: true,
            };
            return Ok((loaded, true));
        }
        let loaded = load(&Source::HclText(files), &lo).await?;
        if let Some(k) = &key {
            let _ = cache.put(k, &loaded.realm);
        }
        return Ok((loaded, false));
    }
    Ok((load(source, &lo).await?, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(s: &str) -> Source {
        match s.strip_prefix("file://") {
            Some(p) if p.ends_with(".sql") => Source::SqlFile(p.into()),
            Some(p) if p.ends_with(".json") => Source::Json(p.into()),
            Some(p) => Source::SqlDir(p.into()),
            None => Source::Database(Box::new(s.parse().unwrap())),
        }
    }

    #[test]
    fn several_sources_must_all_be_sql_files() {
        let check = |list: &[&str]| {
            check_sources(&list.iter().map(|s| src(s)).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        assert_eq!(check(&["file://a.sql"]), Ok(()));
        assert_eq!(
            check(&["file://a.sql", "file://dir", "file://b.sql"]),
            Ok(())
        );
        assert_eq!(check(&["mysql://root@h/db"]), Ok(()));
        assert_eq!(check(&[]).unwrap_err(), "required flag(s) \"to\" not set");
        assert_eq!(
            check(&["file://a.sql", "mysql://root@h/db"]).unwrap_err(),
            "got mixed --to url schemes: \"file\" and \"mysql\", the desired state must be provided from a single \
             kind of source"
        );
        assert_eq!(
            check(&["mysql://root@h/db", "file://a.sql"]).unwrap_err(),
            "got mixed --to url schemes: \"file\" and \"mysql\", the desired state must be provided from a single \
             kind of source"
        );
        assert_eq!(
            check(&["mysql://root@h/a", "mysql://root@h/b"]).unwrap_err(),
            "got multiple --to urls of scheme \"mysql\", only multiple 'file://' urls are supported"
        );
        assert!(
            check(&["file://a.sql", "file://s.json"])
                .unwrap_err()
                .starts_with("several --to sources can only be .sql files"),
        );
    }
}
