//! Command-line definitions.

use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use strata_engine::{ExecOrder, TxMode};

/// Strata: Atlas-compatible versioned migrations, a self-hosted registry and a Kubernetes operator.
#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about,
    propagate_version = true,
    max_term_width = 110
)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The project file (`atlas.hcl`) and the env whose settings `migrate` and `schema` commands take as defaults.
#[derive(Debug, Clone, Args)]
pub struct ProjectArgs {
    /// Project file: file://PATH. Read only with --env.
    #[arg(short = 'c', long, global = true, default_value = strata_project::DEFAULT_CONFIG)]
    pub config: String,
    /// The env block of the project file to take defaults from (flags win over its values).
    #[arg(long, global = true, value_name = "NAME")]
    pub env: Option<String>,
    /// Input variable of the project file: KEY=VALUE (repeatable, or comma-separated; a repeated key is a list).
    #[arg(long = "var", global = true, value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with versioned migration directories.
    #[command(subcommand)]
    Migrate(Box<Migrate>),
    /// Inspect, compare and change database schemas (declarative workflow).
    #[command(subcommand)]
    Schema(Box<Schema>),
    /// Check SQL files for unsafe statements (lock-taking DDL, rewrites, risky statements), no database needed.
    Lint(crate::lint::LintArgs),
    /// Run and administer the registry of migration directories.
    #[command(subcommand)]
    Registry(crate::registry::RegistryCmd),
    /// Run the Kubernetes operator or print its CRDs.
    #[command(subcommand)]
    Operator(crate::operator::Operator),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion {
        /// The shell to generate completions for.
        shell: Shell,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum Migrate {
    /// Apply pending migration files to the database, each exactly once, under the migration lock.
    Apply {
        /// Apply at most this many pending files (default: all).
        amount: Option<String>,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        dir: DirArgs,
        #[command(flatten)]
        registry: crate::registry::RegistryArgs,
        #[command(flatten)]
        plan: PlanArgs,
        /// Apply pending files up to and including this version.
        #[arg(long, value_name = "VERSION", conflicts_with = "amount")]
        to_version: Option<String>,
        /// Transaction mode: `file` (one per file), `all` (one for the whole run) or `none`.
        #[arg(long, env = "STRATA_TX_MODE", default_value = "file", value_parser = parse_tx_mode)]
        tx_mode: TxMode,
        /// How long to wait for the migration lock (`atlas_migrate_execute`) held by another run, e.g. 10s, 1m.
        /// This is not a database timeout; see --statement-timeout and --ddl-lock-timeout.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        lock_timeout: Duration,
        /// Database-side limit for each statement (PostgreSQL statement_timeout, MariaDB max_statement_time).
        #[arg(long, value_parser = parse_duration)]
        statement_timeout: Option<Duration>,
        /// Database-side limit on waiting for table locks held by other sessions (PostgreSQL lock_timeout,
        /// MariaDB lock_wait_timeout, SQLite busy_timeout).
        #[arg(long, value_parser = parse_duration)]
        ddl_lock_timeout: Option<Duration>,
        /// Print the statements that would run; write nothing (no revisions table, no baseline row).
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Show which migration files are applied and which are pending.
    Status {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        dir: DirArgs,
        #[command(flatten)]
        registry: crate::registry::RegistryArgs,
        #[command(flatten)]
        plan: PlanArgs,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Rewrite the revision history so the database counts as being at VERSION (without running anything).
    Set {
        /// The version the database is at; default: the last file (when revisions exist). Exactly one is accepted;
        /// more are refused as Atlas refuses them (`accepts 1 arg(s), received N`).
        #[arg(value_name = "VERSION")]
        to: Vec<String>,
        /// Instead of rewriting the history, settle the statement an interrupted apply left in flight in VERSION
        /// (apply's error names both): `applied` (it took effect; apply continues after it) or `pending` (it did
        /// not, or you reverted it; apply runs it).
        #[arg(long, value_name = "OUTCOME", value_enum, requires = "to")]
        in_flight: Option<InFlightArg>,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        dir: DirArgs,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Push the directory to a registry as NAME (PROJECT or PROJECT/DIR), tagged TAG (default latest).
    Push {
        /// PROJECT[/DIR][:TAG]; `latest` always follows the push.
        #[arg(value_name = "NAME[:TAG]")]
        name: String,
        #[command(flatten)]
        dir: DirArgs,
        #[command(flatten)]
        registry: crate::registry::RegistryArgs,
        /// Also tag the version with the current git commit (git rev-parse HEAD in the directory).
        #[arg(long)]
        git_tag: bool,
        /// Push this lint report with the directory (the output of `strata migrate lint --format json`): the
        /// registry's version page shows it.
        #[arg(long, value_name = "FILE")]
        lint_report: Option<std::path::PathBuf>,
        /// Replay the directory on this (empty) dev database and push the schema it builds: the registry's schema
        /// page shows its tables and ER diagram (`?strata_dev=scratch` makes a throw-away database).
        #[arg(long, value_name = "URL")]
        dev_url: Option<String>,
    },
    /// Recompute atlas.sum from the migration files and write it.
    Hash {
        #[command(flatten)]
        dir: DirArgs,
        /// Deprecated no-op kept for Atlas compatibility.
        #[arg(long, hide = true)]
        force: bool,
    },
    /// Check atlas.sum against the files and that every file's directives and statements are valid; with
    /// --dev-url, also replay the directory on that (empty) database.
    Validate {
        #[command(flatten)]
        dir: DirArgs,
        /// Dialect whose statement-splitting rules apply; without it a file must split under at least one.
        #[arg(long, env = "STRATA_DIALECT", value_enum)]
        dialect: Option<DialectArg>,
        /// Replay the directory on this empty dev database (restored after; `?strata_dev=scratch` makes a
        /// throw-away one): a failing statement is reported with its file and line.
        #[arg(long, value_name = "URL")]
        dev_url: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Write the next migration file: the changes from what the directory builds (replayed on --dev-url) to the
    /// desired state (--to), as <UTC timestamp>[_name].sql; atlas.sum is updated. Prints nothing, or "The
    /// migration directory is synced with the desired state, no changes to be made".
    ///
    /// The schema each replayed directory prefix builds is cached in the user's cache folder ($STRATA_CACHE_DIR,
    /// else $XDG_CACHE_HOME/strata or ~/.cache/strata; STRATA_CACHE_DIR="" turns it off), so a run replays only
    /// files it has not seen.
    Diff {
        /// Name appended to the file's version.
        name: Option<String>,
        /// The desired state: a database URL, file://schema.sql, a file:// folder of .sql files, a file://
        /// migration directory, file://schema.hcl (or a folder of .hcl files) or file://schema.json (repeatable
        /// for .sql and .hcl files and folders); default: the env's `src`.
        #[arg(long, value_name = "URL")]
        to: Vec<String>,
        /// Dev database (required; default: the env's `dev`): must be empty and is restored after use. Bound to
        /// one schema (PostgreSQL ?search_path=public, MySQL /dbname, SQLite), statements are unqualified;
        /// database-wide, every statement names its schema. `?strata_dev=scratch` makes a throw-away database.
        #[arg(long, value_name = "URL")]
        dev_url: Option<String>,
        #[command(flatten)]
        dir: DirArgs,
        /// Schemas to compare on a database-wide dev URL (repeatable; default: all).
        #[arg(short = 's', long = "schema", value_name = "SCHEMA")]
        schemas: Vec<String>,
        /// Atlas's indentation template, e.g. '{{ sql . "  " }}': CREATE TABLE columns and constraints one per
        /// line.
        #[arg(long)]
        format: Option<String>,
        /// Name this schema in every statement (with a dev URL bound to one schema).
        #[arg(long, value_name = "SCHEMA")]
        qualifier: Option<String>,
        /// How long to wait for another run's lock (atlas_migrate_diff) on the dev database, e.g. 10s, 1m.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        lock_timeout: Duration,
    },
    /// Lint the newest migration files: each statement runs on --dev-url after the files before them (replayed
    /// through the replay cache), the schema is diffed after each, and Atlas's analyzers plus the statement rules
    /// report on what changed. Exit 1 when an error-level rule fires or a statement fails on the dev database.
    Lint {
        /// Dev database (required; default: the env's `dev`): must be empty and is restored after use.
        #[arg(long, value_name = "URL")]
        dev_url: Option<String>,
        #[command(flatten)]
        dir: DirArgs,
        /// Lint the last N files (default: the env's `lint.latest`).
        #[arg(long, value_name = "N", conflicts_with = "git_base")]
        latest: Option<u64>,
        /// Lint the files added on this branch against BRANCH (git merge-base), from the first on (default: the env's
        /// `lint.git.base`).
        #[arg(long, value_name = "BRANCH")]
        git_base: Option<String>,
        /// The git working tree to compare in (default: the env's `lint.git.dir`, else `.`).
        #[arg(long, value_name = "DIR")]
        git_dir: Option<String>,
        /// Output: text, json (or '{{ json . }}'), github or sarif (default: the env's `format.migrate.lint`).
        #[arg(long, alias = "log")]
        format: Option<String>,
        #[command(flatten)]
        rules: crate::lint::RuleArgs,
    },
    /// Create a new empty migration file named <UTC timestamp>[_name].sql and update atlas.sum.
    New {
        /// Optional name appended to the timestamp.
        name: Option<String>,
        #[command(flatten)]
        dir: DirArgs,
        /// Open the new file in $EDITOR before hashing.
        #[arg(long)]
        edit: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
}

/// `schema …` commands. Sources (`--url` of inspect, `--from`, `--to`): a database URL (postgres://, mysql://,
/// maria://, sqlite://), file://schema.sql, a file:// folder of .sql files (run in lexical order), a file://
/// migration directory (a folder holding atlas.sum, replayed without a revisions table), file://schema.hcl (Atlas
/// HCL; a folder of .hcl files, or several --to files) or file://schema.json (the model's JSON). SQL sources run
/// on the dev database (--dev-url); HCL is created there and inspected back when one is given.
#[derive(Debug, Clone, Subcommand)]
pub enum Schema {
    /// Print a database's schema: as Atlas HCL (default), as SQL that recreates it, or as the model's JSON.
    Inspect {
        /// The database to inspect (or any source, executed on --dev-url); default: the env's `url`.
        #[arg(short = 'u', long, env = "STRATA_URL", hide_env_values = true)]
        url: Option<String>,
        #[command(flatten)]
        dev: DevArgs,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Output: `hcl` (Atlas's HCL schema, as `atlas schema inspect` prints it; also `{{ $.MarshalHCL }}`),
        /// `sql` (the statements that recreate the schema; also `{{ sql . }}`), `json` (Strata's complete model,
        /// readable as file://schema.json) or `{{ json . }}` (Atlas's inspect JSON shape).
        #[arg(long, alias = "log", default_value = "hcl", value_parser = parse_inspect_format)]
        format: InspectFormat,
    },
    /// Print the statements that turn --from into --to, or "Schemas are synced, no changes to be made.".
    Diff {
        /// The current state (a database URL or any source).
        #[arg(long)]
        from: String,
        /// The desired state (a database URL or any source; repeat it to read several HCL files as one schema).
        #[arg(long, required = true)]
        to: Vec<String>,
        #[command(flatten)]
        dev: DevArgs,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Plan and apply the changes that bring the database at --url to the desired state --to.
    ///
    /// The plan is printed under "-- Planned Changes:". On a terminal Strata then asks before applying. Without a
    /// terminal, --auto-approve is required. Destructive changes (drops of schemas, tables, columns) are named
    /// before the prompt; with --auto-approve they also need --allow-destructive, so CI never drops data by
    /// accident.
    Apply {
        /// The database to change; default: the env's `url`.
        #[arg(short = 'u', long, env = "STRATA_URL", hide_env_values = true)]
        url: Option<String>,
        /// The desired state (repeat it to read several HCL files as one schema); default: the env's `src`.
        #[arg(long)]
        to: Vec<String>,
        #[command(flatten)]
        dev: DevArgs,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Print the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply without asking (non-destructive plans; see --allow-destructive).
        #[arg(long, conflicts_with = "dry_run")]
        auto_approve: bool,
        /// With --auto-approve, also apply plans that drop schemas, tables or columns.
        #[arg(long, requires = "auto_approve")]
        allow_destructive: bool,
        /// `file`: one transaction around every statement (where DDL is transactional); `none`: no transaction.
        #[arg(long, default_value = "file", value_parser = parse_schema_tx_mode)]
        tx_mode: TxMode,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Drop every object of the database at --url (a schema-bound URL keeps the schema; a realm URL drops every
    /// schema), or print "Nothing to drop". Asks before dropping unless --auto-approve.
    Clean {
        /// The database to empty; default: the env's `url`.
        #[arg(short = 'u', long, env = "STRATA_URL", hide_env_values = true)]
        url: Option<String>,
        /// Drop without asking.
        #[arg(long)]
        auto_approve: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Dev database for SQL sources: must be empty and is restored after use. `?strata_dev=scratch` on a server
    /// URL (e.g. postgres://postgres@localhost:5432/postgres?strata_dev=scratch) makes Strata create a throw-away
    /// database and drop it. SQLite defaults to sqlite://dev?mode=memory.
    #[arg(long, env = "STRATA_DEV_URL", hide_env_values = true)]
    pub dev_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Schemas to inspect (repeatable; default: the URL's schema, else all).
    #[arg(short = 's', long = "schema", value_name = "SCHEMA")]
    pub schemas: Vec<String>,
    /// Glob patterns of objects to leave out (repeatable), e.g. `tmp_*` or `app.audit_*`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// `schema inspect --format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectFormat {
    /// Atlas HCL (`hcl`, `{{ $.MarshalHCL }}`), the default.
    Hcl,
    /// The statements that recreate the schema (`sql`, `{{ sql . }}`); with `{{ sql . "  " }}`, `CREATE TABLE`
    /// statements written one column per line, indented by the given string.
    Sql { indent: Option<String> },
    /// Strata's model as JSON (`json`): complete, and what `file://schema.json` reads back.
    Json,
    /// Atlas's inspect JSON (`{{ json . }}`): schemas, tables, columns, indexes, keys, as Atlas prints them, so
    /// tools written for Atlas's output read it unchanged.
    AtlasJson,
}

/// Reads `--format`: a name (`hcl`, `sql`, `json`) or one of the Go templates Atlas accepts for it.
pub(crate) fn parse_inspect_format(s: &str) -> Result<InspectFormat, String> {
    let unknown = || {
        format!(
            "unknown format {s:?}: use `hcl`, `sql`, `json`, '{{{{ $.MarshalHCL }}}}', '{{{{ sql . }}}}', \
             '{{{{ sql . \"  \" }}}}' or '{{{{ json . }}}}'"
        )
    };
    let t = s.trim();
    let Some(inner) = t.strip_prefix("{{").and_then(|x| x.strip_suffix("}}")) else {
        return match t {
            "hcl" | "" => Ok(InspectFormat::Hcl),
            "sql" => Ok(InspectFormat::Sql { indent: None }),
            "json" => Ok(InspectFormat::Json),
            _ => Err(unknown()),
        };
    };
    let inner = inner.trim();
    if matches!(inner, "$.MarshalHCL" | ".MarshalHCL") {
        return Ok(InspectFormat::Hcl);
    }
    let (func, rest) = inner.split_once(char::is_whitespace).ok_or_else(unknown)?;
    let rest = rest.trim_start();
    let (dot, arg) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(d, a)| (d, a.trim()));
    if !matches!(dot, "." | "$") {
        return Err(unknown());
    }
    match (func, arg) {
        ("json", "") => Ok(InspectFormat::AtlasJson),
        ("sql", "") => Ok(InspectFormat::Sql { indent: None }),
        ("sql", quoted) => match go_string(quoted) {
            Some(indent) => Ok(InspectFormat::Sql {
                indent: Some(indent),
            }),
            None => Err(format!(
                "the indent of {s:?} must be one Go string, e.g. {{{{ sql . \"  \" }}}}"
            )),
        },
        _ => Err(unknown()),
    }
}

/// A Go string literal: `"…"` with `\t`, `\n`, `\\`, `\"` escapes, or a raw `` `…` `` string.
fn go_string(s: &str) -> Option<String> {
    if let Some(raw) = s.strip_prefix('`').and_then(|x| x.strip_suffix('`')) {
        return (!raw.contains('`')).then(|| raw.to_string());
    }
    let body = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next()? {
                't' => '\t',
                'n' => '\n',
                '\\' => '\\',
                '"' => '"',
                _ => return None,
            }),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn parse_schema_tx_mode(s: &str) -> Result<TxMode, String> {
    match s {
        "file" => Ok(TxMode::File),
        "none" => Ok(TxMode::None),
        other => Err(format!("unknown tx-mode {other:?}: use `file` or `none`")),
    }
}

/// What became of a statement in flight (`migrate set --in-flight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InFlightArg {
    /// It took effect.
    Applied,
    /// It did not take effect (or was reverted).
    Pending,
}

impl From<InFlightArg> for strata_migrate::plan::InFlightOutcome {
    fn from(a: InFlightArg) -> Self {
        match a {
            InFlightArg::Applied => Self::Applied,
            InFlightArg::Pending => Self::Pending,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DirArgs {
    /// Migration directory URL, e.g. file://migrations (apply/status also read strata://NAME?tag=T).
    #[arg(long, env = "STRATA_DIR", default_value = "file://migrations")]
    pub dir: String,
    /// Deprecated: use ?format= on the --dir URL.
    #[arg(long, hide = true)]
    pub dir_format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Database URL (required): postgres://, mysql://, maria://, sqlite://path (never printed with its password).
    /// Checked after the migration directory, as Atlas does, so a broken directory is reported first.
    #[arg(short = 'u', long, env = "STRATA_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Schema of the atlas_schema_revisions table (default: the URL's schema, else atlas_schema_revisions).
    #[arg(long, env = "STRATA_REVISIONS_SCHEMA")]
    pub revisions_schema: Option<String>,
}

impl TargetArgs {
    /// The database URL, or the error saying how to give one.
    pub fn url(&self) -> Result<&str, crate::output::CliError> {
        self.url.as_deref().ok_or(crate::output::CliError::NoUrl)
    }
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// On a database without revisions, record this version as applied (baseline) and start after it.
    #[arg(long, value_name = "VERSION")]
    pub baseline: Option<String>,
    /// Allow a first run on a database that already holds objects.
    #[arg(long, conflicts_with = "baseline")]
    pub allow_dirty: bool,
    /// How to treat files added before applied ones: `linear` (error), `linear-skip` (ignore) or `non-linear` (run).
    #[arg(long, default_value = "linear", value_parser = parse_exec_order)]
    pub exec_order: ExecOrder,
}

#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Output format: `text` or `json` (Atlas's `{{ json . }}` template is accepted as `json`).
    #[arg(long, alias = "log", env = "STRATA_FORMAT", default_value = "text", value_parser = parse_format)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "" | "text" => Ok(Format::Text),
        "json" | "{{json.}}" => Ok(Format::Json),
        _ => Err(format!("unknown format {s:?}: use `text` or `json`")),
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    strata_engine::godur::parse(s)
}

fn parse_tx_mode(s: &str) -> Result<TxMode, String> {
    s.parse()
}

pub(crate) fn parse_exec_order(s: &str) -> Result<ExecOrder, String> {
    s.parse()
        .map_err(|e: strata_engine::PlanError| e.to_string())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DialectArg {
    Postgres,
    Mysql,
    Sqlite,
}

pub fn print_completions(shell: Shell) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "strata", &mut std::io::stdout());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn inspect_formats_read_atlas_templates() {
        use InspectFormat::*;
        let sql = |i: Option<&str>| Sql {
            indent: i.map(str::to_string),
        };
        for (text, want) in [
            ("hcl", Hcl),
            ("{{ $.MarshalHCL }}", Hcl),
            ("{{.MarshalHCL}}", Hcl),
            ("sql", sql(None)),
            ("{{ sql . }}", sql(None)),
            ("{{sql $}}", sql(None)),
            (r#"{{ sql . "  " }}"#, sql(Some("  "))),
            (r#"{{ sql $ "\t" }}"#, sql(Some("\t"))),
            ("{{ sql . `    ` }}", sql(Some("    "))),
            ("json", Json),
            ("{{ json . }}", AtlasJson),
        ] {
            assert_eq!(parse_inspect_format(text), Ok(want), "{text}");
        }
        for bad in [
            "yaml",
            "{{ mermaid . }}",
            "{{ sql }}",
            "{{ sql x }}",
            r#"{{ sql . "  }}"#,
            r#"{{ sql . "\q" }}"#,
            "{{ json . \"  \" }}",
        ] {
            assert!(parse_inspect_format(bad).is_err(), "{bad}");
        }
        assert!(
            parse_inspect_format(r#"{{ sql . "  }}"#)
                .unwrap_err()
                .contains("must be one Go string")
        );
    }

    #[test]
    fn atlas_json_template_is_json() {
        assert_eq!(parse_format("{{ json . }}"), Ok(Format::Json));
        assert_eq!(parse_format("json"), Ok(Format::Json));
        assert!(parse_format("yaml").is_err());
    }
}
