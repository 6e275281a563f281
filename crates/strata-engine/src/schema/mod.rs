//! The schema engine's I/O: inspect databases, load desired states, diff, plan and apply (`schema inspect | diff
//! | apply | clean`). The decisions — the model, the diff, the plans — live in `strata_schema`; this module
//! connects, executes and inspects.
//!
//! - [`inspect()`]: a database URL into a [`Realm`], through the driver's inspector;
//! - [`Source`] ([`source`]): the desired-state kinds, parsed at the edge, and [`load`] into a [`Realm`];
//! - [`dev`]: the dev database (`--dev-url`), including throw-away databases (`?strata_dev=scratch`);
//! - [`schema_diff`]: two sources into a [`Plan`], schema names aligned when both sides are bound to one schema;
//! - [`apply_plan`] ([`exec`]): a plan run in one transaction where DDL is transactional;
//! - [`clean_plan`]: the plan that empties a database (`schema clean`);
//! - [`replay()`] ([`replay`], [`cache`]): a migration directory's schema, replayed on the dev database through
//!   the replay cache;
//! - [`migrate_diff()`] ([`migrate_diff`]): `migrate diff` — replay, desired state, diff, plan, the new file;
//! - [`migration_drift()`] ([`drift`]): how a database differs from its migration directory up to the applied
//!   version (drift detection), never writing to it.

pub mod cache;
pub mod dev;
pub mod drift;
mod error;
pub mod exec;
pub mod lint;
pub mod migrate_diff;
pub mod replay;
pub mod source;

pub use cache::ReplayCache;
pub use dev::{DevDatabase, SqlText, Step};
pub use drift::{Drift, DriftOptions, migration_drift};
pub use error::SchemaError;
pub use exec::{PlanStmtError, SchemaApplyJson, SchemaApplyReport, apply_plan, apply_plan_on};
pub use lint::{FileChanges, LintReplay, lint_replay};
pub use migrate_diff::{MigrateDiffOptions, MigrateDiffReport, migrate_diff};
pub use replay::{ReplayOptions, ReplayStats, Replayed, replay};
pub use source::{LoadOptions, Loaded, Source, load};
pub use strata_driver::inspect::InspectOptions;
pub use strata_schema::plan::{ConcurrentIndex, PlanOptions};
pub use strata_schema::{Changes, Plan, Realm, SkipKind};

use strata_driver::DbUrl;
use strata_migrate::Dialect;
use strata_schema::{DiffOptions as ModelDiffOptions, Schema};

/// The dialect's name in messages.
pub(crate) fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
        Dialect::Sqlite => "SQLite",
    }
}

/// Inspects the database at `url` (one connection, batched catalog queries).
pub async fn inspect(url: &DbUrl, opts: &InspectOptions) -> Result<Realm, SchemaError> {
    let mut drv = strata_driver::connect(url).await?;
    let dialect = drv.dialect();
    let r = match drv.inspector() {
        Some(i) => i.inspect(opts).await.map_err(SchemaError::from),
        None => Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        }),
    };
    let closed = drv.close().await;
    let realm = r?;
    closed?;
    Ok(realm)
}

/// How to diff two sources.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SchemaDiffOptions {
    /// Schemas to inspect on database sources (`--schema`, repeatable).
    pub schemas: Vec<String>,
    /// `--exclude` globs.
    pub exclude: Vec<String>,
    /// The dev database for SQL sources.
    pub dev_url: Option<DbUrl>,
    /// Kinds of change left out of the plan (a project env's `diff { skip { … } }`).
    pub skip: Vec<SkipKind>,
    /// Input variables of HCL sources (`--var`, `atlas.hcl` env attributes).
    pub vars: strata_hcl::parse::Vars,
    /// Which index statements on existing PostgreSQL tables use `CONCURRENTLY` (a project env's
    /// `diff { concurrent_index { … } }`).
    pub concurrent_index: ConcurrentIndex,
}

impl SchemaDiffOptions {
    /// Sets [`SchemaDiffOptions::concurrent_index`].
    pub fn concurrent_index(mut self, c: ConcurrentIndex) -> Self {
        self.concurrent_index = c;
        self
    }

    /// Sets [`SchemaDiffOptions::dev_url`].
    pub fn dev_url(mut self, url: Option<DbUrl>) -> Self {
        self.dev_url = url;
        self
    }

    /// Sets [`SchemaDiffOptions::schemas`].
    pub fn schemas(mut self, schemas: Vec<String>) -> Self {
        self.schemas = schemas;
        self
    }

    /// Sets [`SchemaDiffOptions::skip`].
    pub fn skip(mut self, kinds: Vec<SkipKind>) -> Self {
        self.skip = kinds;
        self
    }

    /// Sets [`SchemaDiffOptions::vars`].
    pub fn vars(mut self, vars: strata_hcl::parse::Vars) -> Self {
        self.vars = vars;
        self
    }

    /// Sets [`SchemaDiffOptions::exclude`].
    pub fn exclude(mut self, globs: Vec<String>) -> Self {
        self.exclude = globs;
        self
    }
}

/// The dialect a source is known to have before loading it (a database URL's, or the dev URL's).
fn known_dialect(s: &Source, dev: Option<&DbUrl>) -> Option<Dialect> {
    match s {
        Source::Database(u) => Some(u.dialect()),
        _ if s.needs_dev() || matches!(s, Source::Hcl(_) | Source::HclText(_)) => {
            dev.map(DbUrl::dialect)
        }
        _ => None,
    }
}

/// The plan that turns `from` into `to`. Both are loaded (database sources inspected, SQL sources executed on
/// the dev database), aligned ([`align`]), diffed and planned for their dialect.
pub async fn schema_diff(
    from: &Source,
    to: &Source,
    opts: &SchemaDiffOptions,
) -> Result<Plan, SchemaError> {
    let dialect = known_dialect(from, opts.dev_url.as_ref())
        .or_else(|| known_dialect(to, opts.dev_url.as_ref()));
    // Before any connection: a SQL source needs a dev database (SQLite has a default one).
    if (from.needs_dev() || to.needs_dev())
        && opts.dev_url.is_none()
        && dialect != Some(Dialect::Sqlite)
    {
        return Err(SchemaError::DevUrlRequired);
    }
    let mut lo = LoadOptions {
        dev_url: opts.dev_url.clone(),
        dialect,
        vars: opts.vars.clone(),
        ..LoadOptions::default()
    };
    lo.inspect.schemas.clone_from(&opts.schemas);
    lo.inspect.exclude.clone_from(&opts.exclude);
    let a = load(from, &lo).await?;
    let b = load(to, &lo).await?;
    let plan = PlanOptions::default().concurrent_index(opts.concurrent_index);
    // A database-wide URL limited to one schema (`--schema`, the env's `schemas`) compares as bound to it, but
    // its connection is not: the statements name that schema, or they would land in the connection's default.
    let qualifier = match (from, opts.schemas.as_slice()) {
        (Source::Database(u), [only]) if u.bound_schema().is_none() => Some(only.as_str()),
        _ => None,
    };
    diff_loaded_with(a, b, &opts.exclude, &opts.skip, qualifier, &plan)
}

/// Diffs and plans two loaded realms (see [`schema_diff`]).
pub fn diff_loaded(a: Loaded, b: Loaded, exclude: &[String]) -> Result<Plan, SchemaError> {
    diff_loaded_with(a, b, exclude, &[], None, &PlanOptions::default())
}

/// [`diff_loaded`], leaving out the changes of the `skip` kinds.
pub fn diff_loaded_skipping(
    a: Loaded,
    b: Loaded,
    exclude: &[String],
    skip: &[SkipKind],
) -> Result<Plan, SchemaError> {
    diff_loaded_with(a, b, exclude, skip, None, &PlanOptions::default())
}

/// [`diff_loaded`] with skipped kinds, a qualifier and planner options (`migrate diff`). Aligned realms bound to
/// one schema are planned unqualified, unless `qualifier` names the schema every statement is to name instead
/// (`--qualifier`); a qualifier without a bound side is [`SchemaError::QualifierUnbound`].
pub fn diff_loaded_with(
    a: Loaded,
    b: Loaded,
    exclude: &[String],
    skip: &[SkipKind],
    qualifier: Option<&str>,
    plan: &PlanOptions,
) -> Result<Plan, SchemaError> {
    let (changes, to, plan) = aligned_changes(a, b, exclude, skip, qualifier, plan)?;
    Ok(strata_schema::plan::plan_with(&changes, &to, &plan)?)
}

/// The typed changes from `a` to `b`, aligned as [`diff_loaded`] aligns them (drift reports: what differs,
/// without a plan).
pub fn diff_changes(
    a: Loaded,
    b: Loaded,
    exclude: &[String],
) -> Result<strata_schema::Changes, SchemaError> {
    let (changes, _, _) = aligned_changes(a, b, exclude, &[], None, &PlanOptions::default())?;
    Ok(changes)
}

/// The one body of [`diff_loaded_with`] and [`diff_changes`]: the changes, the realm they lead to and the
/// planner options the alignment asks for.
fn aligned_changes(
    a: Loaded,
    b: Loaded,
    exclude: &[String],
    skip: &[SkipKind],
    qualifier: Option<&str>,
    plan: &PlanOptions,
) -> Result<(strata_schema::Changes, Realm, PlanOptions), SchemaError> {
    if a.realm.dialect != b.realm.dialect {
        return Err(SchemaError::DialectMismatch {
            from: dialect_name(a.realm.dialect),
            to: dialect_name(b.realm.dialect),
        });
    }
    let hcl_desired = b.hcl;
    let (mut from, mut to, bound) = align(a, b)?;
    if hcl_desired {
        strata_hcl::unexpressed::keep_unexpressed(&from, &mut to);
    }
    let mut plan = plan.clone();
    match qualifier {
        Some(q) if bound => {
            rename_schema(&mut from, q);
            rename_schema(&mut to, q);
            plan = plan.qualify(true);
        }
        Some(q) => {
            return Err(SchemaError::QualifierUnbound {
                qualifier: q.to_owned(),
            });
        }
        // A change of the bound schema's own attributes needs its name; otherwise statements go unqualified.
        None if bound && same_container(&from, &to) => {
            unqualify(&mut from);
            unqualify(&mut to);
        }
        None => {}
    }
    let opts = ModelDiffOptions {
        exclude: exclude.to_vec(),
        exclude_schema_relative: bound,
        skip: skip.to_vec(),
    };
    let changes = strata_schema::diff(&from, &to, &opts)?;
    Ok((changes, to, plan))
}

/// Atlas's rule for schema-bound connections: statements name objects without their schema, so a plan runs in
/// whatever schema the connection is bound to. On PostgreSQL the single schema is planned under the empty name,
/// which the planner writes as no qualifier (MySQL's planner leaves a lone schema out by itself; SQLite's `main`
/// is never written).
fn unqualify(realm: &mut Realm) {
    if realm.dialect == Dialect::Postgres && realm.schemas.len() == 1 {
        rename_schema(realm, "");
    }
}

/// Atlas's rule for comparing schemas whose names differ: when one side is bound to a single schema (a
/// schema-bound URL, a bound dev database, a single-schema JSON document), the other side must hold exactly one
/// schema too, and it takes the bound side's name (the `from` side's when both are bound), so `app` on one
/// server compares with `public` on another, or with the schema the SQL files were executed in. Foreign keys
/// that referenced the renamed schema follow. Returns the realms and whether they are schema-bound.
pub fn align(a: Loaded, b: Loaded) -> Result<(Realm, Realm, bool), SchemaError> {
    let (mut from, mut to) = (a.realm, b.realm);
    let single = |r: &Realm| r.schemas.len() == 1;
    let (kept, other) = if a.bound && single(&from) {
        (&from.schemas[0], &mut to)
    } else if b.bound && single(&to) {
        (&to.schemas[0], &mut from)
    } else {
        return Ok((from, to, false));
    };
    match other.schemas.len() {
        0 => other.schemas.push(Schema::new(kept.name.clone())),
        1 => {
            // Two different schemas compared as one: their contents are compared, not the containers. The
            // renamed side takes the kept side's own attributes, so a dev database's `public` comment or server
            // charset never becomes a change of the target's schema.
            if other.schemas[0].name != kept.name {
                let s = &mut other.schemas[0];
                s.comment.clone_from(&kept.comment);
                s.charset.clone_from(&kept.charset);
                s.collation.clone_from(&kept.collation);
            }
            rename_schema(other, &kept.name.clone());
        }
        n => return Err(SchemaError::SchemaCount { count: n }),
    }
    Ok((from, to, true))
}

/// `s` without its objects: the schema as a container (name and own attributes).
fn container(s: &Schema) -> Schema {
    let mut c = Schema::new(s.name.clone());
    c.comment.clone_from(&s.comment);
    c.charset.clone_from(&s.charset);
    c.collation.clone_from(&s.collation);
    c
}

/// Whether two aligned single-schema realms agree on the schema's own attributes.
fn same_container(a: &Realm, b: &Realm) -> bool {
    match (a.schemas.first(), b.schemas.first()) {
        (Some(x), Some(y)) => container(x) == container(y),
        _ => true,
    }
}

/// Renames a single-schema realm's schema, with what names it: foreign keys' referenced schema and PostgreSQL
/// column types qualified with it (`public.mood`, as a realm-wide inspection spells an enum).
pub(crate) fn rename_schema(realm: &mut Realm, name: &str) {
    let Some(first) = realm.schemas.first_mut() else {
        return;
    };
    let old = std::mem::replace(&mut first.name, name.to_owned());
    if old == name {
        return;
    }
    let qualified = |s: &str| {
        if s.is_empty() {
            String::new()
        } else if s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            format!("{s}.")
        } else {
            format!("\"{}\".", s.replace('"', "\"\""))
        }
    };
    let (from_q, to_q) = (qualified(&old), qualified(name));
    let pg = realm.dialect == Dialect::Postgres;
    for t in &mut realm.schemas[0].tables {
        for f in &mut t.foreign_keys {
            if f.ref_schema == old {
                f.ref_schema = name.to_owned();
            }
        }
        if pg && !from_q.is_empty() {
            for c in &mut t.columns {
                if let Some(rest) = c.ty.raw.strip_prefix(&from_q) {
                    let raw = format!("{to_q}{rest}");
                    c.ty = strata_schema::ColumnType::parse(Dialect::Postgres, &raw);
                }
            }
        }
    }
}

/// The plan that creates `realm` from nothing (`schema inspect --format sql`): with `bound`, its schemas are
/// taken as existing, attributes included (no `CREATE SCHEMA`, no schema comment), and statements unqualified.
pub fn creation_plan(realm: &Realm, bound: bool) -> Result<Plan, SchemaError> {
    creation_plan_with(realm, bound, &PlanOptions::default())
}

/// [`creation_plan`] with planner options (`schema inspect --format '{{ sql . "  " }}'` indents `CREATE TABLE`).
pub fn creation_plan_with(
    realm: &Realm,
    bound: bool,
    plan: &PlanOptions,
) -> Result<Plan, SchemaError> {
    let mut empty = Realm::new(realm.dialect);
    if bound {
        empty.schemas = realm.schemas.iter().map(container).collect();
    }
    let mut realm = realm.clone();
    if bound {
        unqualify(&mut realm);
        unqualify(&mut empty);
    }
    let changes = strata_schema::diff(&empty, &realm, &ModelDiffOptions::default())?;
    Ok(strata_schema::plan::plan_with(&changes, &realm, plan)?)
}

/// The plan that turns the realm `from` into `to` as they are, every name qualified by its schema (a dev
/// database's clean state into a cached schema, to recreate it there).
pub fn creation_plan_from(from: &Realm, to: &Realm) -> Result<Plan, SchemaError> {
    let changes = strata_schema::diff(from, to, &ModelDiffOptions::default())?;
    Ok(strata_schema::plan::plan(&changes, to)?)
}

/// The plan that empties the database at `url` (`schema clean`): a schema-bound URL loses the schema's objects
/// (the schema stays, with its attributes, and statements are unqualified), a realm URL loses every schema. The revisions table goes too.
pub async fn clean_plan(url: &DbUrl) -> Result<Plan, SchemaError> {
    let mut opts = InspectOptions::default().include_revisions_table(true);
    if let Some(s) = url.bound_schema() {
        opts.schemas = vec![s.to_owned()];
    }
    let realm = inspect(url, &opts).await?;
    let mut realm = realm;
    let mut empty = Realm::new(realm.dialect);
    if url.bound_schema().is_some() {
        empty.schemas = realm.schemas.iter().map(container).collect();
        unqualify(&mut realm);
        unqualify(&mut empty);
    }
    let changes = strata_schema::diff(&realm, &empty, &ModelDiffOptions::default())?;
    Ok(strata_schema::plan::plan(&changes, &empty)?)
}
