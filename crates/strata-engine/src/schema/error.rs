//! Everything the schema commands can fail with. Each message says what to do next.

use std::path::PathBuf;

use strata_driver::DriverError;
use strata_migrate::sum::SumError;
use strata_migrate::{DirError, ScanError};
use strata_schema::{DiffError, PlanError};
use thiserror::Error;

use super::exec::SchemaApplyReport;

/// A schema-engine failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The database refused or is unreachable.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The two sides cannot be compared.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// The changes cannot be planned for the dialect.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A migration directory given as the desired state is unusable.
    #[error(transparent)]
    Dir(#[from] DirError),
    /// A migration directory's `atlas.sum` does not match its files.
    #[error(transparent)]
    Sum(#[from] SumError),
    /// A desired-state SQL file cannot be split into statements.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The dialect has no inspector yet.
    #[error(
        "inspecting {dialect} databases is not supported yet (only SQLite so far): use a SQLite database, or the \
         model's JSON (file://schema.json) as the desired state"
    )]
    NoInspector {
        /// The dialect.
        dialect: &'static str,
    },
    /// A source given without a scheme (Atlas's wording).
    #[error("missing scheme. Did you mean file://{given}?")]
    MissingScheme {
        /// The text as given.
        given: String,
    },
    /// A source of a kind Strata does not read.
    #[error(
        "unknown schema source {given:?}: use a database URL (postgres://, mysql://, maria://, sqlite://), \
         file://schema.sql, a file:// folder of .sql files, a file:// migration directory (holding atlas.sum), \
         file://schema.hcl (or a folder of .hcl files) or file://schema.json"
    )]
    UnknownSource {
        /// The source as given (redacted).
        given: String,
    },
    /// A `file://` source whose kind cannot be told from its name (Atlas's wording first).
    #[error(
        "unknown schema file: {path:?}: name a .sql, .hcl or .json file, or a folder of .sql or .hcl files (a \
         migration directory when it holds atlas.sum)"
    )]
    UnknownFile {
        /// The path.
        path: PathBuf,
    },
    /// A folder holding both SQL and HCL files (Atlas's wording first).
    #[error(
        "ambiguous schema: both SQL and HCL files found: {path:?}: keep one kind of file in the folder"
    )]
    Ambiguous {
        /// The folder.
        path: PathBuf,
    },
    /// An HCL schema file is wrong (the error names `file:line:column`).
    #[error(transparent)]
    Hcl(#[from] strata_hcl::parse::HclError),
    /// An HCL schema with nothing that tells its dialect.
    #[error(
        "reading {}: an HCL schema is written for one kind of database, and nothing says which: give --dev-url \
         (or compare it with a database URL)",
        .path.display()
    )]
    HclDialect {
        /// The first file or folder.
        path: PathBuf,
    },
    /// A folder given as HCL source without `.hcl` files.
    #[error("{}: no .hcl files in this folder: name a folder that holds the schema's .hcl files", .path.display())]
    NoHclFiles {
        /// The folder.
        path: PathBuf,
    },
    /// Several desired-state sources where only HCL files can be combined (Atlas's rule).
    #[error(
        "several schema sources given ({given}): only HCL files and folders can be combined (--to file://a.hcl \
         --to file://b.hcl); give one source otherwise"
    )]
    SeveralSources {
        /// The sources as given (redacted).
        given: String,
    },
    /// A source file or folder cannot be read.
    #[error("reading {}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON desired state is not the model's JSON.
    #[error("reading {}: not a Strata schema JSON document: {message}", .path.display())]
    Json {
        /// The path.
        path: PathBuf,
        /// serde's message (with line and column).
        message: String,
    },
    /// A statement of a desired-state SQL file failed on the dev database.
    #[error("executing {file}:{line} on the dev database: {message}")]
    SqlFile {
        /// The file.
        file: String,
        /// The 1-based line the statement starts on.
        line: usize,
        /// The database's message.
        message: String,
    },
    /// SQL sources need a dev database (Atlas's wording).
    #[error(
        "--dev-url cannot be empty. See: https://atlasgo.io/atlas-schema/sql#dev-database (SQL files and migration \
         directories are executed on a dev database: give --dev-url, e.g. \
         postgres://postgres@localhost:5432/postgres?strata_dev=scratch for a throw-away database)"
    )]
    DevUrlRequired,
    /// The dev database holds objects (Atlas's wording first).
    #[error(
        "sql/migrate: connected database is not clean: {reason}. The dev database (--dev-url) must be empty: point \
         it at an empty database or schema, or let Strata create a throw-away one with ?strata_dev=scratch"
    )]
    DevNotClean {
        /// The first object found, e.g. `found table "t" in schema "public"`.
        reason: String,
    },
    /// A `strata_dev` value other than `scratch`.
    #[error("unknown strata_dev={value:?} in the dev URL: the only value is strata_dev=scratch")]
    BadDevMode {
        /// The value given.
        value: String,
    },
    /// The dev database could not be put back as it was.
    #[error(
        "restoring the dev database {url}: {source}; drop what the desired state created there by hand before the \
         next run"
    )]
    DevRestore {
        /// The dev URL (redacted).
        url: String,
        /// Why.
        source: Box<SchemaError>,
    },
    /// The desired state has no schema to compare with the schema the other side is bound to (Atlas's wording).
    #[error("no schema was found in desired state")]
    NoSchema,
    /// The desired state has several schemas where the other side is bound to one (Atlas's wording first).
    #[error(
        "{count} schemas were found in desired state; expect 1: bind the other side to no schema (a realm URL) or \
         keep one schema in the desired state"
    )]
    SchemaCount {
        /// How many.
        count: usize,
    },
    /// The two sides are of different dialects.
    #[error(
        "cannot compare a {from} schema with a {to} schema: both sides must be of one kind of database (for SQL \
         files, give a --dev-url of the database's kind)"
    )]
    DialectMismatch {
        /// The database's dialect.
        from: &'static str,
        /// The desired state's dialect.
        to: &'static str,
    },
    /// `--qualifier` where no side is bound to one schema.
    #[error(
        "--qualifier {qualifier:?} needs a dev database bound to one schema (PostgreSQL: ?search_path=<schema>, \
         MySQL: the database in the URL's path); with a database-wide dev URL every statement is qualified by its \
         own schema already"
    )]
    QualifierUnbound {
        /// The qualifier given.
        qualifier: String,
    },
    /// `migrate diff` could not name or write the new file.
    #[error(transparent)]
    New(#[from] strata_migrate::new::NewError),
    /// Several `--to` sources of kinds that cannot be combined (Atlas's wording).
    #[error("{message}")]
    ToSources {
        /// What is wrong with them.
        message: String,
    },
    /// A drift check was asked for a version the directory has no file of.
    #[error(
        "drift check of {dir}: no migration file has version {version:?} (the version the database reports as \
         applied): the directory is not the one applied to this database"
    )]
    DriftVersion {
        /// The directory's location.
        dir: String,
        /// The version asked for.
        version: String,
    },
    /// A statement of a plan failed; the report says which ran, which failed and which did not run.
    #[error("{}", .0.error.as_ref().map(|e| e.to_string()).unwrap_or_default())]
    Execution(Box<SchemaApplyReport>),
}

impl SchemaError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SchemaError {
        let path = path.into();
        move |source| SchemaError::Io { path, source }
    }
}
