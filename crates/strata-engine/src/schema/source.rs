//! Desired-state sources: what `--to` (and `--from`, `--url` of `schema inspect`) can name, parsed once at the
//! edge into [`Source`] and loaded into a [`Realm`].

use std::path::{Path, PathBuf};

use strata_driver::{DbUrl, Driver, DriverError};
use strata_migrate::MigrationDir;
use strata_schema::Realm;

use strata_hcl::parse::HclFile;

use super::dev::{DevDatabase, SqlText, bound_inspect_options};
use super::exec::run_sql_file;
use super::{SchemaError, dialect_name};

/// Where a schema comes from.
///
/// | written as | kind |
/// |---|---|
/// | `postgres://…`, `mysql://…`, `maria://…`, `sqlite://…` | [`Source::Database`]: inspected |
/// | `file://schema.sql` | [`Source::SqlFile`]: executed on the dev database, then inspected |
/// | `file://dir` with `.sql` files and no `atlas.sum` | [`Source::SqlDir`]: the files executed in lexical (byte) order |
/// | `file://dir` holding `atlas.sum` | [`Source::MigrationDir`]: replayed file by file (below) |
/// | `file://schema.json` | [`Source::Json`]: the model's JSON (see `strata_schema`) |
/// | `file://schema.hcl`, a folder of `.hcl` files, several of them | [`Source::Hcl`]: Atlas's HCL (below) |
/// | (not a URL) SQL texts, e.g. a project file's `data "external_schema"` output | [`Source::Sql`]: executed in order, as `.sql` files are |
///
/// A folder is a migration directory exactly when it holds `atlas.sum`. Its `atlas.sum` must match the files
/// (as for `migrate apply`), and the files are replayed in Atlas order — from the last checkpoint when there is
/// one — on the dev database, statement by statement, **without** a revisions table: the dev database only ever
/// holds the schema the directory builds.
///
/// An HCL source is read by `strata_hcl::parse` in the dialect of the dev database (or, without one, of the
/// database it is compared with), with the input variables of [`LoadOptions::vars`]. As Atlas does, the parsed
/// schema is then created on the dev database when there is one (SQLite: an in-memory database) and inspected
/// back, so it compares with a database exactly as a SQL source does (PostgreSQL's casts and implicit names,
/// MySQL's inherited charsets, view text as the server prints it); without a dev database the parsed model is
/// used as it is, under `strata_schema::normalize`'s rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A database, inspected.
    Database(Box<DbUrl>),
    /// One SQL file.
    SqlFile(PathBuf),
    /// A folder of SQL files.
    SqlDir(PathBuf),
    /// A migration directory (a folder holding `atlas.sum`).
    MigrationDir(PathBuf),
    /// The model's JSON.
    Json(PathBuf),
    /// Atlas HCL: files and folders of `.hcl` files, read together as one schema.
    Hcl(Vec<PathBuf>),
    /// Atlas HCL texts, each with its name for messages (`file:line:column`), read together as one schema and
    /// loaded as [`Source::Hcl`] is (an operator's inline `schema.hcl` or a ConfigMap key).
    HclText(Vec<HclFile>),
    /// SQL texts, each with its name for messages (a program's output, several `src` files), executed in order
    /// on the dev database.
    Sql(Vec<SqlText>),
}

impl From<DbUrl> for Source {
    fn from(url: DbUrl) -> Self {
        Source::Database(Box::new(url))
    }
}

impl Source {
    /// Reads a source as written on the command line. `file://` sources are told apart by their name, and a
    /// folder by what it holds (so this looks at the file system).
    pub fn parse(text: &str) -> Result<Source, SchemaError> {
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(SchemaError::MissingScheme {
                given: strata_driver::redact(text),
            });
        };
        if scheme != "file" {
            return match text.parse::<DbUrl>() {
                Ok(url) => Ok(Source::Database(Box::new(url))),
                Err(DriverError::UnknownScheme { .. }) => Err(SchemaError::UnknownSource {
                    given: strata_driver::redact(text),
                }),
                Err(e) => Err(e.into()),
            };
        }
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        let path = PathBuf::from(if path.is_empty() { "." } else { path });
        Self::classify(path)
    }

    fn classify(path: PathBuf) -> Result<Source, SchemaError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("sql") if !path.is_dir() => return Ok(Source::SqlFile(path)),
            Some("json") if !path.is_dir() => return Ok(Source::Json(path)),
            Some("hcl") if !path.is_dir() => return Ok(Source::Hcl(vec![path])),
            _ => {}
        }
        let meta = std::fs::metadata(&path).map_err(SchemaError::io(&path))?;
        if !meta.is_dir() {
            return Err(SchemaError::UnknownFile { path });
        }
        if path.join(strata_migrate::dir::SUM_FILE).exists() {
            return Ok(Source::MigrationDir(path));
        }
        let mut sql = false;
        let mut hcl = false;
        for entry in std::fs::read_dir(&path).map_err(SchemaError::io(&path))? {
            let name = entry.map_err(SchemaError::io(&path))?.file_name();
            let name = name.to_string_lossy();
            sql |= name.ends_with(".sql");
            hcl |= name.ends_with(".hcl");
        }
        match (sql, hcl) {
            (true, true) => Err(SchemaError::Ambiguous { path }),
            (false, true) => Ok(Source::Hcl(vec![path])),
            _ => Ok(Source::SqlDir(path)),
        }
    }

    /// Reads the sources of one side as written on the command line (`--to` may be repeated): one source, or
    /// several HCL files and folders read together as one schema, as Atlas allows.
    pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Source, SchemaError> {
        match texts {
            [one] => Self::parse(one.as_ref()),
            _ => {
                let mut paths = Vec::new();
                for t in texts {
                    match Self::parse(t.as_ref())? {
                        Source::Hcl(p) => paths.extend(p),
                        _ => {
                            let given: Vec<String> = texts
                                .iter()
                                .map(|t| strata_driver::redact(t.as_ref()))
                                .collect();
                            return Err(SchemaError::SeveralSources {
                                given: given.join(", "),
                            });
                        }
                    }
                }
                if paths.is_empty() {
                    return Err(SchemaError::SeveralSources {
                        given: "none".to_owned(),
                    });
                }
                Ok(Source::Hcl(paths))
            }
        }
    }

    /// The database URL, for a [`Source::Database`].
    pub fn url(&self) -> Option<&DbUrl> {
        match self {
            Source::Database(u) => Some(u),
            _ => None,
        }
    }

    /// Whether loading this source runs SQL on a dev database.
    pub fn needs_dev(&self) -> bool {
        matches!(
            self,
            Source::SqlFile(_) | Source::SqlDir(_) | Source::MigrationDir(_) | Source::Sql(_)
        )
    }
}

/// How to load a source.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// The dev database for SQL sources; without one, SQLite uses an in-memory database and the others fail
    /// with [`SchemaError::DevUrlRequired`].
    pub dev_url: Option<DbUrl>,
    /// The dialect the source is compared with (the other side's), which picks the default dev database.
    pub dialect: Option<strata_migrate::Dialect>,
    /// What to inspect of a database source.
    pub inspect: strata_driver::inspect::InspectOptions,
    /// Input variables of an HCL source (`--var`, `atlas.hcl` env attributes).
    pub vars: strata_hcl::parse::Vars,
}

/// A loaded source: the realm and whether it is bound to one schema (a schema-bound URL, a bound dev database,
/// or a single-schema JSON document).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The schema.
    pub realm: Realm,
    /// Bound to one schema.
    pub bound: bool,
    /// Read from HCL, which cannot express functions, procedures, triggers, free-standing sequences and
    /// extensions: as a desired state it leaves the other side's as they are (`strata_hcl::unexpressed`).
    pub hcl: bool,
}

/// Loads `source` into a realm.
pub async fn load(source: &Source, opts: &LoadOptions) -> Result<Loaded, SchemaError> {
    match source {
        Source::Database(url) => {
            let bound = url.bound_schema().is_some() || opts.inspect.schemas.len() == 1;
            let realm = super::inspect(url, &opts.inspect).await?;
            Ok(Loaded {
                realm,
                bound,
                hcl: false,
            })
        }
        Source::Json(path) => {
            let text = std::fs::read_to_string(path).map_err(SchemaError::io(path))?;
            let mut realm: Realm = serde_json::from_str(&text).map_err(|e| SchemaError::Json {
                path: path.clone(),
                message: e.to_string(),
            })?;
            realm.sort();
            let bound = realm.schemas.len() == 1;
            Ok(Loaded {
                realm,
                bound,
                hcl: false,
            })
        }
        Source::Hcl(paths) => {
            let first = paths.first().cloned().unwrap_or_default();
            // Without a dialect nothing can be read: say so before looking at the files.
            hcl_dialect(opts, &first)?;
            let files = hcl_files(paths)?;
            load_hcl(files, first, opts).await
        }
        Source::HclText(files) => {
            let first = files.first().map(|f| PathBuf::from(&f.path));
            load_hcl(files.clone(), first.unwrap_or_default(), opts).await
        }
        Source::SqlFile(_) | Source::SqlDir(_) | Source::MigrationDir(_) | Source::Sql(_) => {
            let files = sql_files(source)?;
            let dev_url = match (&opts.dev_url, opts.dialect) {
                (Some(u), _) => u.clone(),
                (None, Some(strata_migrate::Dialect::Sqlite)) => {
                    super::dev::SQLITE_DEV_URL.parse::<DbUrl>()?
                }
                _ => return Err(SchemaError::DevUrlRequired),
            };
            let mut dev = DevDatabase::open(&dev_url).await?;
            let r = run_and_inspect(dev.driver(), &files, opts).await;
            let closed = dev.close().await;
            let loaded = r?;
            closed?;
            Ok(loaded)
        }
    }
}

/// The files of a SQL source, in execution order, as (name for messages, content).
pub(crate) fn sql_files(source: &Source) -> Result<Vec<(String, String)>, SchemaError> {
    let read = |p: &Path| -> Result<(String, String), SchemaError> {
        let text = std::fs::read_to_string(p).map_err(SchemaError::io(p))?;
        Ok((p.display().to_string(), text))
    };
    match source {
        Source::SqlFile(p) => Ok(vec![read(p)?]),
        Source::Sql(texts) => Ok(texts
            .iter()
            .map(|t| (t.name.clone(), t.text.clone()))
            .collect()),
        Source::SqlDir(dir) => {
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(dir).map_err(SchemaError::io(dir))? {
                let p = entry.map_err(SchemaError::io(dir))?.path();
                if p.extension().is_some_and(|e| e == "sql") && p.is_file() {
                    paths.push(p);
                }
            }
            paths.sort_by(|a, b| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
            paths.iter().map(|p| read(p)).collect()
        }
        Source::MigrationDir(dir) => {
            let d = MigrationDir::open(dir)?;
            strata_migrate::sum::validate(&d)?;
            let start = strata_migrate::replay::start(d.files())?;
            d.files()[start..]
                .iter()
                .map(|f| {
                    Ok((
                        dir.join(f.name()).display().to_string(),
                        f.text()?.to_owned(),
                    ))
                })
                .collect()
        }
        _ => Ok(Vec::new()),
    }
}

async fn run_and_inspect(
    drv: &mut dyn Driver,
    files: &[(String, String)],
    opts: &LoadOptions,
) -> Result<Loaded, SchemaError> {
    if let Some(d) = opts.dialect
        && d != drv.dialect()
    {
        return Err(SchemaError::DialectMismatch {
            from: dialect_name(d),
            to: dialect_name(drv.dialect()),
        });
    }
    if drv.inspector().is_none() {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(drv.dialect()),
        });
    }
    for (name, text) in files {
        run_sql_file(drv, name, text).await?;
    }
    let mut bound = drv.bound_schema().is_some();
    let mut io = bound_inspect_options(drv);
    io.include_revisions_table = false;
    io.exclude.clone_from(&opts.inspect.exclude);
    // `--schema` / the env's `schemas` limit the desired state as they limit the database it is compared with
    // (as Atlas reads both sides), so a database-wide dev URL's other schemas are not compared.
    if !bound && !opts.inspect.schemas.is_empty() {
        io.schemas.clone_from(&opts.inspect.schemas);
        bound = opts.inspect.schemas.len() == 1;
    }
    let dialect = drv.dialect();
    let Some(inspector) = drv.inspector() else {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        });
    };
    let realm = inspector.inspect(&io).await?;
    Ok(Loaded {
        realm,
        bound,
        hcl: false,
    })
}

/// The files of an HCL source, read (`None` for any other source).
pub(crate) fn hcl_texts(source: &Source) -> Result<Option<Vec<HclFile>>, SchemaError> {
    match source {
        Source::Hcl(paths) => hcl_files(paths).map(Some),
        Source::HclText(files) => Ok(Some(files.clone())),
        _ => Ok(None),
    }
}

/// The `.hcl` files of an HCL source: files as given, folders' `*.hcl` files in lexical (byte) order.
fn hcl_files(paths: &[PathBuf]) -> Result<Vec<HclFile>, SchemaError> {
    let mut out = Vec::new();
    for p in paths {
        let mut files = Vec::new();
        if p.is_dir() {
            for entry in std::fs::read_dir(p).map_err(SchemaError::io(p))? {
                let f = entry.map_err(SchemaError::io(p))?.path();
                if f.extension().is_some_and(|e| e == "hcl") && f.is_file() {
                    files.push(f);
                }
            }
            if files.is_empty() {
                return Err(SchemaError::NoHclFiles { path: p.clone() });
            }
            files.sort_by(|a, b| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
        } else {
            files.push(p.clone());
        }
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(SchemaError::io(&f))?;
            out.push(HclFile::new(f.display().to_string(), text));
        }
    }
    Ok(out)
}

/// The dialect an HCL source is read in: the dev database's, else the other side's.
fn hcl_dialect(opts: &LoadOptions, first: &Path) -> Result<strata_migrate::Dialect, SchemaError> {
    opts.dev_url
        .as_ref()
        .map(DbUrl::dialect)
        .or(opts.dialect)
        .ok_or_else(|| SchemaError::HclDialect {
            path: first.to_owned(),
        })
}

/// Reads an HCL source and, with a dev database (SQLite: always, in memory), creates it there and inspects it
/// back (see [`Source`]).
async fn load_hcl(
    files: Vec<HclFile>,
    first: PathBuf,
    opts: &LoadOptions,
) -> Result<Loaded, SchemaError> {
    let dialect = hcl_dialect(opts, &first)?;
    let parsed = strata_hcl::parse::parse(&files, dialect, &opts.vars)?;
    let dev_url = match (&opts.dev_url, dialect) {
        (Some(u), _) => u.clone(),
        (None, strata_migrate::Dialect::Sqlite) => super::dev::SQLITE_DEV_URL.parse::<DbUrl>()?,
        (None, _) => {
            return Ok(Loaded {
                realm: parsed,
                bound: false,
                hcl: true,
            });
        }
    };
    let mut dev = DevDatabase::open(&dev_url).await?;
    let r = create_and_inspect(dev.driver(), parsed, opts).await;
    let closed = dev.close().await;
    let realm = r?;
    closed?;
    Ok(Loaded {
        realm,
        bound: false,
        hcl: true,
    })
}

/// Creates `parsed` on the (clean) dev database and inspects it back, under the names `parsed` uses. A dev
/// database bound to one schema takes a single-schema model under its own name (renamed back afterwards);
/// schemas the dev database has and the model does not (PostgreSQL's `public`) are neither dropped nor returned.
async fn create_and_inspect(
    drv: &mut dyn Driver,
    mut parsed: Realm,
    opts: &LoadOptions,
) -> Result<Realm, SchemaError> {
    if parsed.dialect != drv.dialect() {
        return Err(SchemaError::DialectMismatch {
            from: dialect_name(parsed.dialect),
            to: dialect_name(drv.dialect()),
        });
    }
    let io = {
        let mut io = bound_inspect_options(drv);
        io.include_revisions_table = false;
        io
    };
    let dialect = drv.dialect();
    let Some(inspector) = drv.inspector() else {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        });
    };
    let mut before = inspector.inspect(&io).await?;
    let bound = drv.bound_schema().map(str::to_owned);
    let renamed = match (&bound, parsed.schemas.as_slice()) {
        (Some(b), [one]) if &one.name != b => {
            let original = one.name.clone();
            super::rename_schema(&mut parsed, b);
            Some(original)
        }
        (Some(_), many) if many.len() > 1 => {
            return Err(SchemaError::SchemaCount { count: many.len() });
        }
        _ => None,
    };
    let names: Vec<String> = parsed.schemas.iter().map(|s| s.name.clone()).collect();
    before.schemas.retain(|s| names.contains(&s.name));
    let changes = strata_schema::diff(&before, &parsed, &strata_schema::DiffOptions::default())?;
    let plan = strata_schema::plan::plan(&changes, &parsed)?;
    super::exec::apply_plan_on(drv, &plan, strata_migrate::directive::TxMode::File).await?;
    let mut io = io;
    io.exclude.clone_from(&opts.inspect.exclude);
    let Some(inspector) = drv.inspector() else {
        return Err(SchemaError::NoInspector {
            dialect: dialect_name(dialect),
        });
    };
    let mut realm = inspector.inspect(&io).await?;
    realm.schemas.retain(|s| names.contains(&s.name));
    if let Some(original) = renamed {
        super::rename_schema(&mut realm, &original);
    }
    Ok(realm)
}
