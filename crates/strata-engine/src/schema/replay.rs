//! Replaying a migration directory on a dev database: the schema its files build (`migrate diff`'s current
//! state, `migrate validate --dev-url`'s check), through the replay cache.
//!
//! The replay runs the files from the last checkpoint on ([`strata_migrate::replay::start`]) with no revisions
//! table, in one transaction rolled back at the end where DDL is transactional (see
//! [`DevDatabase::run_isolated`]), so the dev database is clean again afterwards.
//!
//! # The cache, and why this design
//!
//! The expensive part of a replay is executing a long history; the schema it ends with is small. So the schema
//! after each replayed prefix is cached under the prefix's content address ([`prefix_keys`]: the files' names
//! and bytes chained, plus the dialect, server version, bound schema and Strata's version), and a replay first
//! looks for the longest cached prefix, from the last file backwards:
//!
//! - **every file cached** (the usual second `migrate diff`, or any run after one that wrote nothing): the
//!   cached model *is* the current state. Nothing runs on the dev database.
//! - **a prefix cached, new files after it** (the run after one that wrote a file): the cached model is
//!   recreated on the dev database (the plan from its clean state to the model, one statement per table or
//!   object instead of the whole history), the new files run, and the result is inspected, all in the same
//!   rolled-back transaction. Should that fail — a new file relying on something the model does not hold (a
//!   domain type, a grant, rows a data-dependent statement needs) — the whole directory is replayed as if
//!   nothing were cached, so a file fails only when it fails on a full replay.
//! - **nothing cached**: the whole directory runs.
//!
//! Whatever ran, the result is cached under the last file's key. An entry is only ever written from what a
//! replay on a real database inspected, never predicted from a plan. What the cache cannot see: rows. A
//! prefix's seed data is not recreated, so a new file's statement that would fail only because of rows an
//! earlier file inserted (adding `NOT NULL` to a column it filled with `NULL`s) succeeds on the recreated state;
//! `migrate validate --dev-url` never uses the cache and catches it.

use strata_migrate::MigrationDir;
use strata_migrate::replay::{PrefixKey, is_plain_create, prefix_keys, start};
use strata_schema::Realm;

use super::cache::ReplayCache;
use super::dev::{DevDatabase, SqlText, bound_inspect_options};
use super::{SchemaError, creation_plan_from};

/// How to replay.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReplayOptions {
    /// The cache to read and fill; `None` replays every file.
    pub cache: Option<ReplayCache>,
    /// Schemas to inspect on a dev database bound to none (`--schema`); empty: all.
    pub schemas: Vec<String>,
}

impl ReplayOptions {
    /// Sets [`ReplayOptions::cache`].
    pub fn cache(mut self, cache: Option<ReplayCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Sets [`ReplayOptions::schemas`].
    pub fn schemas(mut self, schemas: Vec<String>) -> Self {
        self.schemas = schemas;
        self
    }
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// The files the replay covers (from the last checkpoint on).
    pub files: usize,
    /// How many of them came from the cache (0: none).
    pub cached: usize,
    /// How many files ran on the dev database.
    pub executed: usize,
    /// Whether the new files only created new objects and ran on the clean dev database, their schema merged
    /// into the cached one (no recreation).
    pub appended: bool,
    /// Whether a recreated cached state failed and the directory was replayed in full.
    pub fell_back: bool,
}

/// The schema a replay ended with.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The schema.
    pub realm: Realm,
    /// Whether the dev database is bound to one schema.
    pub bound: bool,
    /// What ran.
    pub stats: ReplayStats,
}

/// The replayed files as the dev database runs them, named by their path for messages.
pub(crate) fn texts(
    dir: &MigrationDir,
    files: &[strata_migrate::MigrationFile],
) -> Result<Vec<SqlText>, SchemaError> {
    let base = std::path::Path::new(dir.location());
    files
        .iter()
        .map(|f| {
            // Only a file that spells `atlas:` can carry a directive; most do not, and parsing the header of
            // every file of a long history would cost more than the check.
            let no_tx = f.bytes().windows(6).any(|w| w == b"atlas:")
                && f.directives()?.txmode == Some(strata_migrate::directive::TxMode::None);
            Ok(SqlText {
                no_tx,
                ..SqlText::new(base.join(f.name()).display().to_string(), f.text()?)
            })
        })
        .collect()
}

/// Runs the directory on the dev database without inspecting (`migrate validate --dev-url`): every file from the
/// last checkpoint on, no cache. A failing statement is [`SchemaError::SqlFile`] (`file:line` and the
/// database's message).
pub async fn check(dev: &mut DevDatabase, dir: &MigrationDir) -> Result<usize, SchemaError> {
    let files = &dir.files()[start(dir.files())?..];
    dev.run_isolated(None, &texts(dir, files)?, None).await?;
    Ok(files.len())
}

/// The cache key context: what, besides the files, decides the schema a replay ends with.
fn context(dev: &mut DevDatabase, schemas: &[String]) -> Vec<u8> {
    let drv = dev.driver();
    format!(
        "dialect={:?}\nserver={}\nbound={:?}\nschemas={schemas:?}\nstrata={}\n",
        drv.dialect(),
        drv.server_version(),
        drv.bound_schema(),
        env!("CARGO_PKG_VERSION"),
    )
    .into_bytes()
}

/// The cache key of an HCL desired state: the context every key has (dialect, server version, bound schema,
/// `--schema`, Strata's version), the input variables, and each file's name and bytes in order — so an edit of
/// any file, another file, a renamed one or another variable value misses. `None` when the variables cannot be
/// written down (then nothing is cached).
pub(crate) fn hcl_key(
    dev: &mut DevDatabase,
    files: &[strata_hcl::parse::HclFile],
    vars: &strata_hcl::parse::Vars,
    schemas: &[String],
) -> Option<PrefixKey> {
    let mut ctx = context(dev, schemas);
    ctx.extend_from_slice(b"desired state hcl\nvars=");
    ctx.extend_from_slice(&serde_json::to_vec(vars).ok()?);
    ctx.push(b'\n');
    let files: Vec<strata_migrate::MigrationFile> = files
        .iter()
        .map(|f| strata_migrate::MigrationFile::new(f.path.clone(), f.text.clone()))
        .collect();
    prefix_keys(&ctx, &files).pop()
}

/// Replays `dir` on the dev database (see the module documentation). `dir`'s `atlas.sum` is the caller's to
/// check.
pub async fn replay(
    dev: &mut DevDatabase,
    dir: &MigrationDir,
    opts: &ReplayOptions,
) -> Result<Replayed, SchemaError> {
    let files = &dir.files()[start(dir.files())?..];
    let bound = dev.bound();
    let mut io = bound_inspect_options(dev.driver());
    io.include_revisions_table = false;
    if !bound && !opts.schemas.is_empty() {
        io.schemas.clone_from(&opts.schemas);
    }
    let dialect = dev.driver().dialect();
    let keys: Vec<PrefixKey> = match &opts.cache {
        Some(_) => prefix_keys(&context(dev, &opts.schemas), files),
        None => Vec::new(),
    };
    let mut stats = ReplayStats {
        files: files.len(),
        ..ReplayStats::default()
    };
    let hit = opts.cache.as_ref().and_then(|c| {
        keys.iter()
            .enumerate()
            .rev()
            .find_map(|(i, k)| c.get(k, dialect).map(|r| (i + 1, r)))
    });
    let (n, cached) = match hit {
        Some((n, realm)) if n == files.len() => {
            stats.cached = n;
            return Ok(Replayed {
                realm,
                bound,
                stats,
            });
        }
        Some((n, realm)) => (n, Some(realm)),
        None => (0, None),
    };
    let texts = texts(dir, files)?;
    let realm = match cached {
        Some(cached) if let Some(merged) = try_append(dev, &cached, &texts[n..], &io).await => {
            stats.cached = n;
            stats.executed = files.len() - n;
            stats.appended = true;
            Some(merged)
        }
        Some(cached) => {
            let prelude = creation_plan_from(dev.clean(), &cached)?;
            match dev
                .run_isolated(Some(&prelude), &texts[n..], Some(&io))
                .await
            {
                Ok(realm) => {
                    stats.cached = n;
                    stats.executed = files.len() - n;
                    realm
                }
                Err(_) => {
                    stats.fell_back = true;
                    stats.executed = files.len();
                    dev.run_isolated(None, &texts, Some(&io)).await?
                }
            }
        }
        None => {
            stats.executed = files.len();
            dev.run_isolated(None, &texts, Some(&io)).await?
        }
    };
    let Some(realm) = realm else {
        return Err(SchemaError::NoInspector {
            dialect: super::dialect_name(dialect),
        });
    };
    if let (Some(cache), Some(last)) = (&opts.cache, keys.last()) {
        // A cache that cannot be written only costs the next run a replay.
        let _ = cache.put(last, &realm);
    }
    Ok(Replayed {
        realm,
        bound,
        stats,
    })
}

/// The append fast path: when every statement of `appended` only creates something new
/// ([`is_plain_create`]), they run on the *clean* dev database (in the usual rolled-back transaction), and the
/// objects they create are added to `cached` — provided none of their names (objects, indexes, keys, checks,
/// triggers) is taken in `cached`, which is also how a name the database would have generated differently
/// among the existing objects shows. A statement that needs an existing object fails on the clean database.
/// `None` (do it the full way) when any of that does not hold.
async fn try_append(
    dev: &mut DevDatabase,
    cached: &Realm,
    appended: &[SqlText],
    io: &strata_driver::inspect::InspectOptions,
) -> Option<Realm> {
    let dialect = dev.driver().dialect();
    for t in appended {
        let plain = if t.single {
            is_plain_create(&t.text)
        } else {
            let stmts = strata_migrate::scan::split(dialect, &t.name, &t.text).ok()?;
            stmts.iter().all(|s| is_plain_create(&s.text))
        };
        if !plain {
            return None;
        }
    }
    let delta = dev.run_isolated(None, appended, Some(io)).await.ok()??;
    merge_disjoint(cached, &delta, dev.clean())
}

/// Names a schema's objects take, in one set: conservative (a clash between kinds the database would keep apart
/// only costs the fast path).
fn names(s: &strata_schema::Schema) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for t in &s.tables {
        out.insert(t.name.clone());
        if let Some(n) = t.primary_key.as_ref().and_then(|p| p.name.clone()) {
            out.insert(n);
        }
        out.extend(t.indexes.iter().map(|i| i.name.clone()));
        out.extend(t.foreign_keys.iter().map(|f| f.name.clone()));
        out.extend(t.checks.iter().filter_map(|c| c.name.clone()));
    }
    out.extend(s.views.iter().map(|v| v.name.clone()));
    out.extend(s.materialized_views.iter().map(|v| v.name.clone()));
    out.extend(s.enums.iter().map(|e| e.name.clone()));
    out.extend(s.sequences.iter().map(|q| q.name.clone()));
    out.extend(s.functions.iter().map(|f| f.name.clone()));
    out.extend(s.triggers.iter().map(|t| t.name.clone()));
    out
}

/// `cached` plus what `delta` (inspected after running new statements on the dev database in its `clean`
/// state) holds beyond `clean`; `None` when a name is taken on both sides, a schema's own attributes differ, or
/// realm-level objects (extensions) changed.
pub(crate) fn merge_disjoint(cached: &Realm, delta: &Realm, clean: &Realm) -> Option<Realm> {
    if delta.dialect != cached.dialect || delta.extensions != clean.extensions {
        return None;
    }
    let mut merged = cached.clone();
    for ds in &delta.schemas {
        let base = clean.schema(&ds.name);
        let target = match merged.schema_mut(&ds.name) {
            Some(t) => t,
            None => {
                if base.is_some() {
                    // In the clean state but gone from the cached one: the cached history dropped it.
                    return None;
                }
                merged.schemas.push(ds.clone());
                continue;
            }
        };
        if (&target.comment, &target.charset, &target.collation)
            != (&ds.comment, &ds.charset, &ds.collation)
        {
            return None;
        }
        let taken = names(target);
        let before = base.map(names).unwrap_or_default();
        let new = names(ds);
        if new.iter().any(|n| !before.contains(n) && taken.contains(n)) {
            return None;
        }
        let fresh = |n: &String| !before.contains(n);
        target
            .tables
            .extend(ds.tables.iter().filter(|t| fresh(&t.name)).cloned());
        target
            .views
            .extend(ds.views.iter().filter(|v| fresh(&v.name)).cloned());
        target.materialized_views.extend(
            ds.materialized_views
                .iter()
                .filter(|v| fresh(&v.name))
                .cloned(),
        );
        target
            .enums
            .extend(ds.enums.iter().filter(|e| fresh(&e.name)).cloned());
        target
            .sequences
            .extend(ds.sequences.iter().filter(|q| fresh(&q.name)).cloned());
        target
            .functions
            .extend(ds.functions.iter().filter(|f| fresh(&f.name)).cloned());
        target
            .triggers
            .extend(ds.triggers.iter().filter(|t| fresh(&t.name)).cloned());
    }
    merged.sort();
    Some(merged)
}

/// The desired state held in SQL texts, run on the dev database and inspected — through the cache, keyed like a
/// replay but by statements: the texts are split with the dev database's scanner, and the schema after each
/// complete earlier load is cached under the key of its statements. An unchanged desired state costs nothing;
/// one that only appends plain `CREATE` statements to a cached one goes the append fast path ([`try_append`]);
/// anything else runs whole. Returns the realm and whether the cache answered without a full run.
pub(crate) async fn load_sql(
    dev: &mut DevDatabase,
    texts: &[SqlText],
    io: &strata_driver::inspect::InspectOptions,
    cache: Option<&ReplayCache>,
    schemas: &[String],
) -> Result<(Realm, bool), SchemaError> {
    let dialect = dev.driver().dialect();
    let missing = || SchemaError::NoInspector {
        dialect: super::dialect_name(dialect),
    };
    let Some(cache) = cache else {
        let realm = dev
            .run_isolated(None, texts, Some(io))
            .await?
            .ok_or_else(missing)?;
        return Ok((realm, false));
    };
    let mut stmts = Vec::new();
    for t in texts {
        for s in strata_migrate::scan::split(dialect, &t.name, &t.text)? {
            stmts.push(strata_migrate::MigrationFile::new("", s.text));
        }
    }
    let mut ctx = context(dev, schemas);
    ctx.extend_from_slice(b"desired state statements\n");
    let keys = prefix_keys(&ctx, &stmts);
    let hit = keys
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, k)| cache.get(k, dialect).map(|r| (i + 1, r)));
    let realm = match hit {
        Some((n, realm)) if n == stmts.len() => return Ok((realm, true)),
        Some((n, cached)) => {
            let appended: Vec<SqlText> = stmts[n..]
                .iter()
                .map(|f| SqlText::statement("desired state", String::from_utf8_lossy(f.bytes())))
                .collect();
            match try_append(dev, &cached, &appended, io).await {
                Some(merged) => {
                    if let Some(last) = keys.last() {
                        let _ = cache.put(last, &merged);
                    }
                    return Ok((merged, true));
                }
                None => dev.run_isolated(None, texts, Some(io)).await?,
            }
        }
        None => dev.run_isolated(None, texts, Some(io)).await?,
    };
    let realm = realm.ok_or_else(missing)?;
    if let Some(last) = keys.last() {
        let _ = cache.put(last, &realm);
    }
    Ok((realm, false))
}

/// `migrate validate --dev-url`: opens the dev database (it must be empty), runs the directory on it
/// ([`check`]) and closes it (restored or dropped). Returns how many files ran.
pub async fn validate(
    dev_url: &strata_driver::DbUrl,
    dir: &MigrationDir,
) -> Result<usize, SchemaError> {
    let mut dev = DevDatabase::open(dev_url).await?;
    let r = check(&mut dev, dir).await;
    let closed = dev.close().await;
    let n = r?;
    closed?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use strata_migrate::Dialect;
    use strata_schema::{Index, IndexPart, Schema, Table};

    use super::*;

    fn realm(tables: &[(&str, &[&str])]) -> Realm {
        let mut s = Schema::new("public");
        for (t, indexes) in tables {
            let mut table = Table::new(*t);
            for i in *indexes {
                table.indexes.push(Index {
                    name: (*i).into(),
                    unique: false,
                    parts: vec![IndexPart::column("id")],
                    method: None,
                    predicate: None,
                    include: Vec::new(),
                    nulls_not_distinct: false,
                    constraint: false,
                    comment: None,
                });
            }
            s.tables.push(table);
        }
        let mut r = Realm::new(Dialect::Postgres);
        r.schemas.push(s);
        r
    }

    #[test]
    fn appended_objects_merge_only_under_fresh_names() {
        let clean = realm(&[]);
        let cached = realm(&[("a", &["a_idx"])]);
        let merged = merge_disjoint(&cached, &realm(&[("b", &["b_idx"])]), &clean).unwrap();
        let names: Vec<&str> = merged.schemas[0]
            .tables
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        // A table, or an index, under a name the cached state holds: not merged.
        assert_eq!(merge_disjoint(&cached, &realm(&[("a", &[])]), &clean), None);
        assert_eq!(
            merge_disjoint(&cached, &realm(&[("b", &["a_idx"])]), &clean),
            None
        );
        // A new schema comes whole; a schema whose own attributes differ does not merge.
        let mut other = realm(&[("c", &[])]);
        other.schemas[0].name = "app".into();
        let mut delta = realm(&[]);
        delta.schemas.push(other.schemas[0].clone());
        let merged = merge_disjoint(&cached, &delta, &clean).unwrap();
        assert_eq!(merged.schemas.len(), 2);
        let mut commented = realm(&[("b", &[])]);
        commented.schemas[0].comment = Some("x".into());
        assert_eq!(merge_disjoint(&cached, &commented, &clean), None);
    }
}
