//! `strata lint [--dialect D] [--format F] FILE…`: the statement rules of `strata-lint` on loose SQL files, with
//! no database (for editors and pre-commit hooks). Reads the files, calls the crate, renders; exit 1 when a finding
//! fails the run (an error-level rule, or a file that could not be read). With `--env`, the env's `lint` block
//! (levels, naming patterns) applies and its `dev` (else `url`) tells the dialect; `--dialect` wins, and without
//! either the files are PostgreSQL.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use strata_lint::render::{github, json, sarif, text};
use strata_lint::{Config, FileError, FileReport, Header, Level, NameKind, Report, Title};
use strata_migrate::Dialect;
use strata_project::Env;

use crate::cli::DialectArg;
use crate::output::{CliError, out};

/// How `strata lint` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Atlas's text layout.
    Text,
    /// Atlas's JSON shape (`{"Files": […]}`).
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request's lines).
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// SQL files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The SQL dialect the files are written in (default: the scheme of the env's `dev`, else `url`, with
    /// --env; else postgres).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Output format: text, json (or '{{ json . }}'), github or sarif.
    #[arg(long, default_value = "text", value_parser = parse_format)]
    pub format: LintFormat,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `--error/--warn/--off`, shared by `strata lint` and `strata migrate lint`.
#[derive(Debug, Clone, Default, Args)]
pub struct RuleArgs {
    /// Make a rule (code or name, e.g. PG101) or an analyzer (e.g. concurrent_index) fail the run; repeatable.
    #[arg(long, value_name = "RULE")]
    pub error: Vec<String>,
    /// Report a rule or an analyzer without failing the run; repeatable.
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Switch a rule or an analyzer off; repeatable.
    #[arg(long, value_name = "RULE")]
    pub off: Vec<String>,
    /// Require names of KIND (schema, table, column, index, foreign_key, check, or all) to match the regular
    /// expression PATTERN, switching its naming rule (NM101–NM106) on; repeatable.
    #[arg(long, value_name = "KIND=PATTERN")]
    pub naming: Vec<String>,
}

/// A `--error/--warn/--off` argument that names no rule or analyzer.
#[derive(Debug, thiserror::Error)]
#[error("--{flag} {value}: {source}")]
pub struct LintArgError {
    flag: &'static str,
    value: String,
    source: NamingArgError,
}

/// What is wrong with one rule flag.
#[derive(Debug, thiserror::Error)]
enum NamingArgError {
    #[error(transparent)]
    Config(#[from] strata_lint::ConfigError),
    #[error(
        "expected KIND=PATTERN with KIND one of schema, table, column, index, foreign_key, check or all"
    )]
    Shape,
}

/// Applies the rule flags over `c` (the defaults, or a project's lint block): flags win.
pub fn config(mut c: Config, args: &RuleArgs) -> Result<Config, LintArgError> {
    for (flag, list, level) in [
        ("error", &args.error, Level::Error),
        ("warn", &args.warn, Level::Warning),
        ("off", &args.off, Level::Off),
    ] {
        for v in list {
            let res = if strata_lint::Analyzer::from_name(v).is_some() {
                match level {
                    Level::Off => c.set_analyzer_off(v),
                    l => c.set_analyzer_error(v, l == Level::Error),
                }
            } else {
                c.set_rule(v, level)
            };
            res.map_err(|source| LintArgError {
                flag,
                value: v.clone(),
                source: source.into(),
            })?;
        }
    }
    for v in &args.naming {
        let failed = |source: NamingArgError| LintArgError {
            flag: "naming",
            value: v.clone(),
            source,
        };
        let (kind, pattern) = v.split_once('=').ok_or(failed(NamingArgError::Shape))?;
        let kinds = match kind {
            "all" => NameKind::ALL.to_vec(),
            k => vec![NameKind::from_name(k).ok_or(failed(NamingArgError::Shape))?],
        };
        for k in kinds {
            c.set_naming(k, pattern, None)
                .map_err(|e| failed(e.into()))?;
        }
    }
    Ok(c)
}

fn dialect(d: DialectArg) -> Dialect {
    match d {
        DialectArg::Postgres => Dialect::Postgres,
        DialectArg::Mysql => Dialect::Mysql,
        DialectArg::Sqlite => Dialect::Sqlite,
    }
}

/// The dialect of the files: `--dialect`, else the scheme of the env's `dev` (else `url`), else PostgreSQL.
fn files_dialect(flag: Option<DialectArg>, env: Option<&Env>) -> Result<Dialect, CliError> {
    if let Some(d) = flag {
        return Ok(dialect(d));
    }
    let Some(env) = env else {
        return Ok(Dialect::Postgres);
    };
    let urls: Vec<&String> = env.dev.iter().chain(&env.url).collect();
    if urls.is_empty() {
        return Ok(Dialect::Postgres);
    }
    urls.iter()
        .find_map(|u| u.parse::<strata_engine::DbUrl>().ok())
        .map(|u| u.dialect())
        .ok_or_else(|| {
            CliError::EnvValue(format!(
                "env {:?}: cannot tell the dialect of the files from its dev or url; give --dialect",
                env.name
            ))
        })
}

/// Runs `strata lint` (with the env's `lint` block and dialect when `--env` names one).
pub fn run(args: LintArgs, env: Option<&Env>) -> Result<(), CliError> {
    let started = Instant::now();
    let cfg = config(crate::project::lint_config(env)?, &args.rules)
        .map_err(|e| CliError::Lint(Box::new(e)))?;
    let d = files_dialect(args.dialect, env)?;
    let files = args
        .files
        .iter()
        .map(|path| {
            let t = Instant::now();
            let name = path.display().to_string();
            let mut report = match std::fs::read_to_string(path) {
                Ok(content) => strata_lint::lint_file(d, &name, &content, &cfg),
                Err(e) => FileReport {
                    name: name.clone(),
                    title: Title::File,
                    text: String::new(),
                    findings: Vec::new(),
                    error: Some(FileError {
                        line: 1,
                        message: format!("cannot read the file: {e}"),
                    }),
                    changes: None,
                    duration: Default::default(),
                },
            };
            report.duration = t.elapsed();
            report
        })
        .collect();
    let report = Report {
        header: Header::Plain,
        files,
        duration: started.elapsed(),
    };
    emit(&report, args.format)
}

/// Prints `report` in `format`; exit 1 (already reported) when it holds an error.
pub fn emit(report: &Report, format: LintFormat) -> Result<(), CliError> {
    out(&match format {
        LintFormat::Text => text::render(report, &strata_engine::godur::format),
        LintFormat::Json => json::render(report),
        LintFormat::Github => github::render(report),
        LintFormat::Sarif => sarif::render(report, env!("CARGO_PKG_VERSION")),
    })?;
    if report.has_errors() {
        return Err(CliError::Silent);
    }
    Ok(())
}

/// Reads a lint `--format` value: a format's name or Atlas's template `{{ json . }}` (spaces free).
pub fn parse_format(text: &str) -> Result<LintFormat, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == "{{json.}}" {
        return Ok(LintFormat::Json);
    }
    LintFormat::from_str(text, true).map_err(|_| {
        format!("unknown lint format {text:?}: use text, json, github, sarif or '{{{{ json . }}}}'")
    })
}
