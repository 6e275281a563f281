//! The dev database (`--dev-url`): where SQL files and migration directories are executed so that they can be
//! inspected.
//!
//! As in Atlas, a dev database must be empty, and it is put back as it was after use: everything the desired
//! state created is dropped again (the realm is inspected before use, and the plan from "after" back to "before"
//! is applied). An in-memory SQLite database needs neither: it vanishes with its connection, and it is the
//! default dev database for SQLite targets (`sqlite://dev?mode=memory`).
//!
//! # Throw-away databases (`?strata_dev=scratch`)
//!
//! Beyond Atlas, and without Docker, a dev URL with the query parameter `strata_dev=scratch` names a *server*
//! (`postgres://postgres@127.0.0.1:5432/postgres?strata_dev=scratch`, `mysql://root@127.0.0.1:3306/?strata_dev=scratch`).
//! The parameter is removed before connecting. Strata creates a database `strata_dev_<unix seconds>_<random>`,
//! connects to it (on MySQL the URL then binds that database as its schema; on PostgreSQL a `search_path` given
//! in the URL is kept), uses it and drops it. A run that is killed cannot drop it, so every scratch run first
//! drops the leftovers of earlier ones: databases named `strata_dev_<seconds>_…` whose timestamp is more than
//! [`LEFTOVER_AGE`] old and that no session uses (PostgreSQL: no row in `pg_stat_activity`; MySQL/MariaDB: no
//! session in `information_schema.PROCESSLIST` has it as its current database — which needs the `PROCESS`
//! privilege to see other users' sessions). A run uses its database within seconds of creating it, so the age
//! rule keeps a concurrent run's database, which it is about to connect to, safe. On SQLite, `scratch` means an
//! in-memory database.

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strata_driver::inspect::InspectOptions;
use strata_driver::url::DbIdentity;
use strata_driver::{DbUrl, Driver, RevisionsLocation};
use strata_migrate::Dialect;
use strata_schema::{DiffOptions, Plan, Realm};

use super::exec::{apply_plan_on, run_sql_file};
use super::{SchemaError, dialect_name};

/// The query parameter that asks for a throw-away database.
pub const SCRATCH_PARAM: &str = "strata_dev";
/// The name prefix of throw-away databases.
pub const SCRATCH_PREFIX: &str = "strata_dev_";
/// How old (by the timestamp in its name) an unused throw-away database must be to count as left over.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(60);

/// The dev URL SQLite uses when none is given.
pub const SQLITE_DEV_URL: &str = "sqlite://dev?mode=memory";

/// An open dev database. Call [`DevDatabase::close`] when done: it restores or drops the database.
#[derive(Debug)]
pub struct DevDatabase {
    drv: Box<dyn Driver>,
    scratch: Option<Scratch>,
    /// The realm before use, when it must be restored.
    before: Option<Realm>,
    /// What the database held when opened (empty schemas at most): what [`DevDatabase::run_isolated`] puts
    /// it back to.
    clean: Realm,
}

/// A SQL text to run on the dev database: its name in messages (a path) and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlText {
    /// The name messages give (`file:line`).
    pub name: String,
    /// The content, split with the dialect's scanner (a `-- atlas:delimiter` header is honoured).
    pub text: String,
    /// The file must not run inside a transaction (`-- atlas:txmode none`).
    pub no_tx: bool,
    /// The text is one statement already split off its file: it runs as it is, never split again (a MySQL
    /// routine split under its file's custom delimiter holds `;`).
    pub single: bool,
}

impl SqlText {
    /// A text that may run in a transaction.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SqlText {
            name: name.into(),
            text: text.into(),
            no_tx: false,
            single: false,
        }
    }

    /// One statement, run as it is (see [`SqlText::single`]).
    pub fn statement(name: impl Into<String>, text: impl Into<String>) -> Self {
        SqlText {
            single: true,
            ..Self::new(name, text)
        }
    }
}

#[derive(Debug)]
struct Scratch {
    admin: Box<dyn Driver>,
    name: String,
}

/// A fresh throw-away database name: `strata_dev_<unix seconds>_<8 hex digits>`.
pub fn scratch_name(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    format!("{SCRATCH_PREFIX}{secs}_{:08x}", h.finish() as u32)
}

/// Whether `name` is a throw-away database left over by an earlier run at `now` (its timestamp is older than
/// [`LEFTOVER_AGE`]); names that do not follow the pattern are never touched.
pub fn is_leftover(name: &str, now: SystemTime) -> bool {
    let Some(rest) = name.strip_prefix(SCRATCH_PREFIX) else {
        return false;
    };
    let Some((secs, suffix)) = rest.split_once('_') else {
        return false;
    };
    let (Ok(secs), false) = (secs.parse::<u64>(), suffix.is_empty()) else {
        return false;
    };
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    now.saturating_sub(secs) > LEFTOVER_AGE.as_secs()
}

/// Drops the throw-away databases earlier runs left on the server `admin` is connected to; returns their names.
/// A database that cannot be dropped (a session connected meanwhile) is left for a later run.
pub async fn drop_leftovers(
    admin: &mut dyn Driver,
    now: SystemTime,
) -> Result<Vec<String>, SchemaError> {
    let mut dropped = Vec::new();
    for db in admin.server_databases(SCRATCH_PREFIX).await? {
        if !db.in_use && is_leftover(&db.name, now) && admin.drop_database(&db.name).await.is_ok() {
            dropped.push(db.name);
        }
    }
    Ok(dropped)
}

impl DevDatabase {
    /// Opens the dev database `url`: a throw-away database with `?strata_dev=scratch`, else the database itself,
    /// which must be empty ([`SchemaError::DevNotClean`] names the first object found).
    pub async fn open(url: &DbUrl) -> Result<Self, SchemaError> {
        match url.query_param(SCRATCH_PARAM) {
            Some(v) if v == "scratch" => Self::scratch(url).await,
            Some(v) => Err(SchemaError::BadDevMode { value: v }),
            None => Self::existing(url).await,
        }
    }

    async fn existing(url: &DbUrl) -> Result<Self, SchemaError> {
        let mut drv = strata_driver::connect(url).await?;
        let memory = matches!(url.identity(), DbIdentity::SqliteMemory(_));
        match check_clean(drv.as_mut()).await {
            Ok(before) => Ok(DevDatabase {
                drv,
                scratch: None,
                before: (!memory).then(|| before.clone()),
                clean: before,
            }),
            Err(e) => {
                let _ = drv.close().await;
                Err(e)
            }
        }
    }

    async fn scratch(url: &DbUrl) -> Result<Self, SchemaError> {
        let base = url.without_query_param(SCRATCH_PARAM)?;
        if base.dialect() == Dialect::Sqlite {
            let mut drv = strata_driver::connect(&SQLITE_DEV_URL.parse()?).await?;
            let clean = match inspect_all(drv.as_mut()).await {
                Ok(r) => r,
                Err(e) => {
                    let _ = drv.close().await;
                    return Err(e);
                }
            };
            return Ok(DevDatabase {
                drv,
                scratch: None,
                before: None,
                clean,
            });
        }
        let mut admin = strata_driver::connect(&base).await?;
        let now = SystemTime::now();
        let name = scratch_name(now);
        let made = async {
            drop_leftovers(admin.as_mut(), now).await?;
            let dev_url = base.with_database(&name)?;
            admin.create_database(&name).await?;
            match strata_driver::connect(&dev_url).await {
                Ok(d) => Ok(d),
                Err(e) => {
                    let _ = admin.drop_database(&name).await;
                    Err(SchemaError::from(e))
                }
            }
        }
        .await;
        let made = match made {
            Ok(mut drv) => match inspect_all(drv.as_mut()).await {
                Ok(clean) => Ok((drv, clean)),
                Err(e) => {
                    let _ = drv.close().await;
                    let _ = drop_scratch(admin.as_mut(), &name).await;
                    Err(e)
                }
            },
            Err(e) => Err(e),
        };
        match made {
            Ok((drv, clean)) => Ok(DevDatabase {
                drv,
                scratch: Some(Scratch { admin, name }),
                before: None,
                clean,
            }),
            Err(e) => {
                let _ = admin.close().await;
                Err(e)
            }
        }
    }

    /// The connection to the dev database.
    pub fn driver(&mut self) -> &mut dyn Driver {
        self.drv.as_mut()
    }

    /// The throw-away database's name, when this is one.
    pub fn scratch_name(&self) -> Option<&str> {
        self.scratch.as_ref().map(|s| s.name.as_str())
    }

    /// What the database held when opened (empty schemas at most), inspected as [`bound_inspect_options`]
    /// says.
    pub fn clean(&self) -> &Realm {
        &self.clean
    }

    /// Whether the connection is bound to one schema (everything runs and is inspected in it).
    pub fn bound(&self) -> bool {
        self.drv.bound_schema().is_some()
    }

    /// Runs `prelude` (a plan, e.g. the one that recreates a cached schema) and then `files` on the dev
    /// database, inspects the result with `inspect` (when given), and leaves the database as it was opened.
    ///
    /// Where DDL is transactional (PostgreSQL, SQLite) and no file asks for `txmode none`, everything runs in
    /// one transaction that is rolled back after the inspection: one commit-free pass, and nothing to restore.
    /// Should that fail (a statement that cannot run in a transaction block, an enum value used in the
    /// transaction that added it, a failing statement), the work is done again the plain way — statement by
    /// statement, the plan in its own transaction — and the error reported is that run's. The plain way (always
    /// on MySQL) ends by restoring the database with the plan back to its state when opened.
    pub async fn run_isolated(
        &mut self,
        prelude: Option<&Plan>,
        files: &[SqlText],
        inspect: Option<&InspectOptions>,
    ) -> Result<Option<Realm>, SchemaError> {
        let prelude = prelude.filter(|p| !p.is_empty());
        if self.drv.transactional_ddl() && !files.iter().any(|f| f.no_tx) {
            self.drv.begin().await?;
            let r = run_and_inspect(self.drv.as_mut(), prelude, files, inspect).await;
            if let Some(realm) = self.rolled_back(r).await? {
                return Ok(realm);
            }
        }
        let r = async {
            self.apply_prelude(prelude).await?;
            run_and_inspect(self.drv.as_mut(), None, files, inspect).await
        }
        .await;
        self.restored(r).await
    }

    /// Runs `prelude` and the files `base`, then `steps` one statement at a time, inspecting with `inspect` after
    /// the base and after each statement (`migrate lint`: what each statement changed), and leaves the database as it was
    /// opened. Returns the schema after the base followed by one schema per step. Transactions as in
    /// [`DevDatabase::run_isolated`]: one rolled-back transaction where DDL is transactional and no step asks
    /// for `txmode none`, else (or when that fails) the plain way and a restore. A failing statement is
    /// [`SchemaError::SqlFile`] (the step's file and line, the database's message).
    pub async fn run_stepwise(
        &mut self,
        prelude: Option<&Plan>,
        base: &[SqlText],
        steps: &[Step],
        inspect: &InspectOptions,
    ) -> Result<Vec<Realm>, SchemaError> {
        let prelude = prelude.filter(|p| !p.is_empty());
        if self.drv.transactional_ddl()
            && !steps.iter().any(|s| s.no_tx)
            && !base.iter().any(|f| f.no_tx)
        {
            self.drv.begin().await?;
            let r = stepwise(self.drv.as_mut(), prelude, base, steps, inspect).await;
            if let Some(realms) = self.rolled_back(r).await? {
                return Ok(realms);
            }
        }
        let r = async {
            self.apply_prelude(prelude).await?;
            stepwise(self.drv.as_mut(), None, base, steps, inspect).await
        }
        .await;
        self.restored(r).await
    }

    /// Rolls back the transaction `r` ran in: `r`'s value when it succeeded, `None` when it failed and the work is
    /// to be done again the plain way; an error only when the rollback failed (the connection is unusable: nothing
    /// to fall back on).
    async fn rolled_back<T>(
        &mut self,
        r: Result<T, SchemaError>,
    ) -> Result<Option<T>, SchemaError> {
        let rolled = self.drv.rollback().await;
        match (r, rolled) {
            (Ok(v), Ok(())) => Ok(Some(v)),
            (_, Err(e)) => Err(e.into()),
            (Err(_), Ok(())) => Ok(None),
        }
    }

    /// The plain way's first step: `prelude` applied in its own transaction.
    async fn apply_prelude(&mut self, prelude: Option<&Plan>) -> Result<(), SchemaError> {
        if let Some(p) = prelude {
            apply_plan_on(
                self.drv.as_mut(),
                p,
                strata_migrate::directive::TxMode::File,
            )
            .await?;
        }
        Ok(())
    }

    /// The plain way's last step: the database restored to its state when opened, whatever `r` was; `r`'s error
    /// wins over the restore's.
    async fn restored<T>(&mut self, r: Result<T, SchemaError>) -> Result<T, SchemaError> {
        let reset = restore(self.drv.as_mut(), &self.clean).await;
        let v = r?;
        reset.map_err(|e| SchemaError::DevRestore {
            url: self.drv.url().redacted().to_owned(),
            source: Box::new(e),
        })?;
        Ok(v)
    }

    /// Puts the dev database back: a throw-away database is dropped, a given one restored to what it held
    /// before (nothing), an in-memory one simply closed.
    pub async fn close(self) -> Result<(), SchemaError> {
        let DevDatabase {
            mut drv,
            scratch,
            before,
            clean: _,
        } = self;
        let redacted = drv.url().redacted().to_owned();
        let restored = match before {
            Some(before) => restore(drv.as_mut(), &before).await,
            None => Ok(()),
        };
        let closed = drv.close().await;
        let dropped = match scratch {
            Some(Scratch { mut admin, name }) => {
                let r = drop_scratch(admin.as_mut(), &name).await;
                let _ = admin.close().await;
                r
            }
            None => Ok(()),
        };
        restored.map_err(|e| SchemaError::DevRestore {
            url: redacted,
            source: Box::new(e),
        })?;
        dropped?;
        closed?;
        Ok(())
    }
}

/// Drops a throw-away database once its connection is closed. A server can take a moment to end the backend of
/// a connection the client just closed (PostgreSQL then refuses `DROP DATABASE`: "is being accessed by other
/// users"), so the drop is retried for up to two seconds; a database still left is a leftover for the next run.
async fn drop_scratch(
    admin: &mut dyn Driver,
    name: &str,
) -> Result<(), strata_driver::DriverError> {
    let mut attempt = 0;
    loop {
        match admin.drop_database(name).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= 10 => return Err(e),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Runs the plan's statements and `files` on `drv` as they come (the caller decides about transactions), then
/// inspects when asked.
async fn run_and_inspect(
    drv: &mut dyn Driver,
    prelude: Option<&Plan>,
    files: &[SqlText],
    inspect: Option<&InspectOptions>,
) -> Result<Option<Realm>, SchemaError> {
    if let Some(p) = prelude {
        for s in &p.statements {
            drv.execute(&s.sql).await?;
        }
    }
    for f in files {
        if f.single {
            drv.execute(&f.text).await?;
        } else {
            run_sql_file(drv, &f.name, &f.text).await?;
        }
    }
    let Some(opts) = inspect else {
        return Ok(None);
    };
    let dialect = drv.dialect();
    let Some(inspector) = drv.inspector() else {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        });
    };
    Ok(Some(inspector.inspect(opts).await?))
}

/// One statement of a file, run on its own by [`DevDatabase::run_stepwise`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The file, as messages name it.
    pub file: String,
    /// The 1-based line the statement starts on.
    pub line: usize,
    /// The statement.
    pub text: String,
    /// Its file must not run inside a transaction (`-- atlas:txmode none`).
    pub no_tx: bool,
}

async fn stepwise(
    drv: &mut dyn Driver,
    prelude: Option<&Plan>,
    base: &[SqlText],
    steps: &[Step],
    opts: &InspectOptions,
) -> Result<Vec<Realm>, SchemaError> {
    run_and_inspect(drv, prelude, base, None).await?;
    let dialect = drv.dialect();
    let missing = || SchemaError::NoInspector {
        dialect: dialect_name(dialect),
    };
    let mut out = Vec::with_capacity(steps.len() + 1);
    out.push(drv.inspector().ok_or_else(missing)?.inspect(opts).await?);
    for s in steps {
        if let Err(e) = drv.execute(&s.text).await {
            let message = match e {
                strata_driver::DriverError::Sql { message, .. } => message,
                other => other.to_string(),
            };
            return Err(SchemaError::SqlFile {
                file: s.file.clone(),
                line: s.line,
                message,
            });
        }
        out.push(drv.inspector().ok_or_else(missing)?.inspect(opts).await?);
    }
    Ok(out)
}

/// Inspects what the connection works on (see [`bound_inspect_options`]).
async fn inspect_all(drv: &mut dyn Driver) -> Result<Realm, SchemaError> {
    let opts = bound_inspect_options(drv);
    let dialect = drv.dialect();
    let Some(inspector) = drv.inspector() else {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        });
    };
    Ok(inspector.inspect(&opts).await?)
}

/// The options that inspect what a connection works on: its bound schema, or every schema.
pub(crate) fn bound_inspect_options(drv: &dyn Driver) -> InspectOptions {
    let mut o = InspectOptions::default().include_revisions_table(true);
    if let Some(s) = drv.bound_schema() {
        o.schemas = vec![s.to_owned()];
    }
    o
}

/// Checks that the dev database is empty; returns what it holds (empty schemas at most) for the restore.
async fn check_clean(drv: &mut dyn Driver) -> Result<Realm, SchemaError> {
    let dialect = drv.dialect();
    let opts = bound_inspect_options(drv);
    let bound = drv.bound_schema().is_some();
    let Some(inspector) = drv.inspector() else {
        // Without an inspector nothing can be loaded into this database anyway; still say what is in it.
        let loc = RevisionsLocation {
            schema: String::new(),
            table: String::new(),
        };
        if let Some(reason) = drv.check_clean(&loc).await? {
            return Err(SchemaError::DevNotClean { reason });
        }
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        });
    };
    let realm = inspector.inspect(&opts).await?;
    if let Some(reason) = first_object(&realm, bound) {
        return Err(SchemaError::DevNotClean { reason });
    }
    Ok(realm)
}

/// The first object of a realm that makes it "not clean", worded as Atlas words it (`found table "t" in schema
/// "public"`). Empty schemas count only in a realm (an unbound connection), and PostgreSQL's `public` never does.
pub fn first_object(realm: &Realm, bound: bool) -> Option<String> {
    let sqlite = realm.dialect == Dialect::Sqlite;
    for s in &realm.schemas {
        let at = |kind: &str, name: &str| {
            if sqlite {
                format!("found {kind} {name:?}")
            } else {
                format!("found {kind} {name:?} in schema {:?}", s.name)
            }
        };
        let first = s
            .tables
            .first()
            .map(|t| at("table", &t.name))
            .or_else(|| s.views.first().map(|v| at("view", &v.name)))
            .or_else(|| {
                s.materialized_views
                    .first()
                    .map(|v| at("materialized view", &v.name))
            })
            .or_else(|| s.enums.first().map(|e| at("type", &e.name)))
            .or_else(|| s.sequences.first().map(|q| at("sequence", &q.name)))
            .or_else(|| s.functions.first().map(|f| at("function", &f.name)))
            .or_else(|| s.triggers.first().map(|t| at("trigger", &t.name)));
        if first.is_some() {
            return first;
        }
        let default_schema = matches!(
            (realm.dialect, s.name.as_str()),
            (Dialect::Postgres, "public") | (Dialect::Sqlite, "main")
        );
        if !bound && !default_schema {
            return Some(format!("found schema {:?}", s.name));
        }
    }
    None
}

/// Puts a dev database back to `before`: the plan from what it holds now to `before`, applied.
async fn restore(drv: &mut dyn Driver, before: &Realm) -> Result<(), SchemaError> {
    let opts = bound_inspect_options(drv);
    let Some(inspector) = drv.inspector() else {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(drv.dialect()),
        });
    };
    let now = inspector.inspect(&opts).await?;
    let changes = strata_schema::diff(&now, before, &DiffOptions::default())?;
    if changes.is_empty() {
        return Ok(());
    }
    let plan = strata_schema::plan::plan(&changes, before)?;
    apply_plan_on(drv, &plan, strata_migrate::directive::TxMode::File).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_carry_their_time_and_leftovers_are_old_ones() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let name = scratch_name(t);
        assert!(name.starts_with("strata_dev_1700000000_"), "{name}");
        assert_eq!(name.len(), "strata_dev_1700000000_".len() + 8);
        assert!(!is_leftover(&name, t));
        assert!(!is_leftover(&name, t + Duration::from_secs(60)));
        assert!(is_leftover(&name, t + Duration::from_secs(61)));
        for other in [
            "strata_dev_",
            "strata_dev_x_1",
            "strata_dev_1",
            "strata_dev_1_",
            "app",
            "strata_devx_1_a",
        ] {
            assert!(
                !is_leftover(other, t + Duration::from_secs(1_000_000)),
                "{other}"
            );
        }
        assert_ne!(scratch_name(t), scratch_name(t));
    }
}
