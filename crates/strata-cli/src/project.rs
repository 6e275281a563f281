//! The project file's env as command defaults: the ONE place that maps `atlas.hcl` env attributes to command
//! flags. Flags (and their `STRATA_*` variables) always win; an env value only fills a flag that was not given.
//!
//! | env attribute | flag | commands |
//! |---|---|---|
//! | `url` | `--url` | migrate apply, status, set; schema inspect, apply, clean |
//! | `dev` | `--dev-url` | schema inspect, diff, apply; migrate diff, validate, lint |
//! | `src` / `schema.src` | `--to` | schema apply, migrate diff ([`desired`]) |
//! | `schemas`, `exclude` | `--schema`, `--exclude` | schema inspect, diff, apply |
//! | `migration.dir`, `migration.format` | `--dir` (and its deprecated `--dir-format`) | every migrate command |
//! | `migration.revisions_schema` | `--revisions-schema` | migrate apply, status, set |
//! | `migration.baseline`, `migration.exec_order` | `--baseline`, `--exec-order` | migrate apply, status |
//! | `migration.lock_timeout` | `--lock-timeout` | migrate apply, diff |
//! | `format.migrate.apply` / `.status` / `.diff` | `--format` | migrate apply / status / diff |
//! | `format.schema.inspect` / `.diff` / `.apply` / `.clean` | `--format` | schema inspect / diff / apply / clean |
//! | `lint.latest`, `lint.git.base`, `lint.git.dir` | `--latest`, `--git-base`, `--git-dir` | migrate lint |
//! | `lint.<analyzer> { error, off }`, `lint.rules { CODE = level }`, `lint.naming { match, message, <kind> { … } }` | `--error/--warn/--off/--naming` win ([`lint_config`]) | migrate lint, lint |
//! | `dev` (else `url`): its scheme | `--dialect` | lint |
//! | `format.migrate.lint` (else `lint.format`) | `--format` | migrate lint |
//! | `diff.skip` | (no flag) the kinds of change left out ([`skip`]) | schema diff, apply; migrate diff |
//! | `diff.concurrent_index` | (no flag) `CONCURRENTLY` index statements ([`concurrent_index`]) | schema diff, apply; migrate diff |
//!
//! HCL schema files named in `src` or `--to` get the env's extra attributes as input variables ([`hcl_vars`]).
//! Read but not used by any command yet: `lint.review`, `migration.exclude`,
//! `format.migrate.down`, `format.schema.push`. A new command's flags are added here: one match arm in
//! [`migrate`] or [`schema`].
//!
//! URL flags may name env attributes: `env://url`, `env://dev`, `env://src` (or `env://schema.src`),
//! `env://migration.dir`, and any extra attribute holding a string (`--to env://tenant_schema`).
//!
//! An env with `for_each` has several instances: `migrate apply` and `migrate status` run once per instance (one
//! report each, in order); every other command refuses it (Atlas's `multi-environment "x" is not supported`).

use std::path::Path;

use clap::ArgMatches;
use clap::parser::ValueSource;
use strata_engine::DbUrl;
use strata_engine::schema::{ConcurrentIndex, SkipKind, Source, SqlText};
use strata_project::{Env, ExecOrder, InputVars, Project, ProjectFile, SchemaSrc, SkipChange};

use crate::cli::{self, DevArgs, DirArgs, FormatArgs, Migrate, ProjectArgs, Schema, ScopeArgs};
use crate::output::CliError;
use crate::runtime::Runtime;

/// The real outside world for the project file.
struct CliHost<'a> {
    rt: &'a Runtime,
}

impl strata_project::Host for CliHost<'_> {
    fn query(
        &self,
        url: &str,
        query: &str,
        args: &[String],
    ) -> Result<Vec<Option<String>>, String> {
        let url = url.parse::<DbUrl>().map_err(|e| e.to_string())?;
        match self
            .rt
            .block_on(strata_engine::query::first_column(&url, query, args))
        {
            Ok(Ok(values)) => Ok(values),
            Ok(Err(e)) => Err(url.scrub(&e.to_string())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn getenv(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }

    fn read_file(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }

    fn list_dir(&self, path: &Path) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn run_program(&self, argv: &[String], dir: &Path) -> Result<String, String> {
        let (program, args) = argv.split_first().ok_or("no program given")?;
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot start it in {}: {e}", dir.display()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = stderr.trim();
            return Err(if stderr.is_empty() {
                format!("it exited with {}", out.status)
            } else {
                format!("it exited with {}: {stderr}", out.status)
            });
        }
        String::from_utf8(out.stdout).map_err(|_| "its output is not UTF-8".to_owned())
    }
}

/// The selected env of the project file, evaluated; `None` without `--env` (the file is then not read, as in
/// Atlas).
pub fn load(args: &ProjectArgs, rt: &Runtime) -> Result<Option<Project>, CliError> {
    let Some(selected) = &args.env else {
        return Ok(None);
    };
    let vars = InputVars::parse(&args.vars)?;
    let path = strata_project::config_path(&args.config)?;
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => strata_project::ProjectError::NotFound {
            path: shown.clone(),
            reason: e.to_string(),
        },
        _ => strata_project::ProjectError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        },
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => ".".into(),
    };
    let file = ProjectFile {
        name: shown,
        dir,
        text,
    };
    Ok(Some(strata_project::load(
        &file,
        selected,
        &vars,
        &CliHost { rt },
    )?))
}

/// The input variables of HCL schema files: with an env, its extra attributes (`tenant = each.value`), as Atlas
/// passes them to the files named in `src`; without one, the `--var` values (a repeated key is a list).
pub fn hcl_vars(
    args: &ProjectArgs,
    env: Option<&Env>,
) -> Result<strata_hcl::parse::Vars, CliError> {
    if let Some(env) = env {
        return Ok(env
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect());
    }
    let vars = InputVars::parse(&args.vars)?;
    Ok(vars
        .0
        .into_iter()
        .map(|(k, mut v)| {
            let value = if v.len() == 1 {
                strata_hcl::parse::Value::String(v.remove(0))
            } else {
                strata_hcl::parse::Value::Array(
                    v.into_iter()
                        .map(strata_hcl::parse::Value::String)
                        .collect(),
                )
            };
            (k, value)
        })
        .collect())
}

/// The env instances a command runs for: a single run without an env (no `--env`), the env, or one run per
/// `for_each` item when the command may iterate (otherwise a `for_each` env is refused).
pub fn instances(
    project: Option<&Project>,
    may_iterate: bool,
) -> Result<Vec<Option<&Env>>, CliError> {
    match project {
        None => Ok(vec![None]),
        Some(p) if may_iterate && p.for_each => Ok(p.envs.iter().map(Some).collect()),
        Some(p) => Ok(vec![Some(p.single()?)]),
    }
}

/// Whether a flag was given (on the command line or through its environment variable) rather than defaulted.
fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// `env://x` in a URL flag, replaced by the env's attribute.
fn deref(slot: &mut Option<String>, env: Option<&Env>) -> Result<(), CliError> {
    if let Some(text) = slot.as_deref()
        && let Some(attr) = text.strip_prefix("env://")
    {
        let env = env.ok_or(strata_project::ProjectError::EnvRefWithoutEnv)?;
        *slot = Some(env.reference(attr)?);
    }
    Ok(())
}

fn deref_str(slot: &mut String, env: Option<&Env>) -> Result<(), CliError> {
    let mut o = Some(std::mem::take(slot));
    let r = deref(&mut o, env);
    *slot = o.unwrap_or_default();
    r
}

/// `migration.lock_timeout` into `--lock-timeout` when the flag was not given.
fn fill_lock_timeout(
    slot: &mut std::time::Duration,
    m: &ArgMatches,
    env: &Env,
) -> Result<(), CliError> {
    if !given(m, "lock_timeout")
        && let Some(t) = &env.migration.lock_timeout
    {
        *slot = cli::parse_duration(t)
            .map_err(|r| CliError::EnvValue(format!("migration.lock_timeout: {r}")))?;
    }
    Ok(())
}

fn deref_all(slots: &mut [String], env: Option<&Env>) -> Result<(), CliError> {
    slots.iter_mut().try_for_each(|s| deref_str(s, env))
}

fn fill<T: Clone>(slot: &mut Option<T>, value: Option<&T>) {
    if slot.is_none() {
        *slot = value.cloned();
    }
}

fn dir(d: &mut DirArgs, m: &ArgMatches, env: Option<&Env>) -> Result<(), CliError> {
    if let Some(env) = env
        && !given(m, "dir")
        && let Some(dir) = &env.migration.dir
    {
        d.dir.clone_from(dir);
        fill(&mut d.dir_format, env.migration.format.as_ref());
    }
    let mut o = Some(std::mem::take(&mut d.dir));
    deref(&mut o, env)?;
    d.dir = o.unwrap_or_default();
    Ok(())
}

fn format(f: &mut FormatArgs, m: &ArgMatches, template: Option<&String>) -> Result<(), CliError> {
    if !given(m, "format")
        && let Some(t) = template
    {
        f.format = cli::parse_format(t).map_err(CliError::EnvValue)?;
    }
    Ok(())
}

fn exec_order(order: ExecOrder) -> strata_engine::ExecOrder {
    match order {
        ExecOrder::Linear => strata_engine::ExecOrder::Linear,
        ExecOrder::LinearSkip => strata_engine::ExecOrder::LinearSkip,
        ExecOrder::NonLinear => strata_engine::ExecOrder::NonLinear,
    }
}

/// The lint settings of the env's `lint` block over the defaults: analyzer blocks (`destructive { error = false }`,
/// `concurrent_index { error = true }`, `timeouts { off = true }`), `rules { PG101 = "error" }` and the `naming`
/// patterns; `--error/--warn/--off/--naming` are applied over these. The project crate checked every name, level
/// and pattern when it read the file, so a refusal here would be a bug between the two crates, still reported.
pub fn lint_config(env: Option<&Env>) -> Result<strata_lint::Config, CliError> {
    let mut c = strata_lint::Config::default();
    let Some(env) = env else { return Ok(c) };
    let l = &env.lint;
    let refused = |e: strata_lint::ConfigError| CliError::EnvValue(format!("lint: {e}"));
    for (name, a) in &l.analyzers {
        if let Some(error) = a.error {
            c.set_analyzer_error(name, error).map_err(refused)?;
        }
        if a.off {
            c.set_analyzer_off(name).map_err(refused)?;
        }
    }
    for (code, level) in &l.rules {
        c.set_rule(code, *level).map_err(refused)?;
    }
    if let Some(n) = &l.naming {
        for kind in strata_lint::NameKind::ALL {
            if let Some(p) = n.kinds.get(&kind).or(n.all.as_ref()) {
                c.set_naming(kind, &p.pattern, p.message.clone())
                    .map_err(refused)?;
            }
        }
    }
    Ok(c)
}

/// Fills a `migrate` command's flags from the env.
pub fn migrate(cmd: &mut Migrate, m: &ArgMatches, env: Option<&Env>) -> Result<(), CliError> {
    let e = env;
    match cmd {
        Migrate::Apply {
            target,
            dir: d,
            plan,
            lock_timeout,
            format: f,
            ..
        } => {
            dir(d, m, e)?;
            if let Some(env) = e {
                fill(&mut target.url, env.url.as_ref());
                fill(
                    &mut target.revisions_schema,
                    env.migration.revisions_schema.as_ref(),
                );
                fill(&mut plan.baseline, env.migration.baseline.as_ref());
                if !given(m, "exec_order")
                    && let Some(o) = env.migration.exec_order
                {
                    plan.exec_order = exec_order(o);
                }
                fill_lock_timeout(lock_timeout, m, env)?;
                format(f, m, env.format.migrate.apply.as_ref())?;
            }
            deref(&mut target.url, e)?;
        }
        Migrate::Status {
            target,
            dir: d,
            plan,
            format: f,
            ..
        } => {
            dir(d, m, e)?;
            if let Some(env) = e {
                fill(&mut target.url, env.url.as_ref());
                fill(
                    &mut target.revisions_schema,
                    env.migration.revisions_schema.as_ref(),
                );
                fill(&mut plan.baseline, env.migration.baseline.as_ref());
                if !given(m, "exec_order")
                    && let Some(o) = env.migration.exec_order
                {
                    plan.exec_order = exec_order(o);
                }
                format(f, m, env.format.migrate.status.as_ref())?;
            }
            deref(&mut target.url, e)?;
        }
        Migrate::Set { target, dir: d, .. } => {
            dir(d, m, e)?;
            if let Some(env) = e {
                fill(&mut target.url, env.url.as_ref());
                fill(
                    &mut target.revisions_schema,
                    env.migration.revisions_schema.as_ref(),
                );
            }
            deref(&mut target.url, e)?;
        }
        Migrate::Diff {
            to,
            dev_url,
            dir: d,
            schemas,
            format: f,
            lock_timeout,
            ..
        } => {
            dir(d, m, e)?;
            if let Some(env) = e {
                fill(dev_url, env.dev.as_ref());
                if schemas.is_empty() {
                    schemas.clone_from(&env.schemas);
                }
                if f.is_none() {
                    f.clone_from(&env.format.migrate.diff);
                }
                fill_lock_timeout(lock_timeout, m, env)?;
            }
            deref(dev_url, e)?;
            deref_all(to, e)?;
        }
        Migrate::Validate {
            dir: d, dev_url, ..
        } => {
            dir(d, m, e)?;
            if let Some(env) = e {
                fill(dev_url, env.dev.as_ref());
            }
            deref(dev_url, e)?;
        }
        Migrate::Lint {
            dev_url,
            dir: d,
            latest,
            git_base,
            git_dir,
            format: f,
            ..
        } => {
            dir(d, m, e)?;
            if let Some(env) = e {
                fill(dev_url, env.dev.as_ref());
                // A flag picking the files replaces the env's choice whole.
                if latest.is_none() && git_base.is_none() {
                    fill(latest, env.lint.latest.as_ref());
                    if latest.is_none()
                        && let Some(g) = &env.lint.git
                    {
                        fill(git_base, g.base.as_ref());
                        fill(git_dir, g.dir.as_ref());
                    }
                }
                if f.is_none() {
                    fill(
                        f,
                        env.format
                            .migrate
                            .lint
                            .as_ref()
                            .or(env.lint.format.as_ref()),
                    );
                }
            }
            deref(dev_url, e)?;
        }
        Migrate::Push { dir: d, .. }
        | Migrate::Hash { dir: d, .. }
        | Migrate::New { dir: d, .. } => dir(d, m, e)?,
    }
    Ok(())
}

fn dev(d: &mut DevArgs, env: Option<&Env>) -> Result<(), CliError> {
    if let Some(env) = env {
        fill(&mut d.dev_url, env.dev.as_ref());
    }
    deref(&mut d.dev_url, env)
}

fn scope(s: &mut ScopeArgs, env: Option<&Env>) {
    if let Some(env) = env {
        if s.schemas.is_empty() {
            s.schemas.clone_from(&env.schemas);
        }
        if s.exclude.is_empty() {
            s.exclude.clone_from(&env.exclude);
        }
    }
}

/// Fills a `schema` command's flags from the env (`--to` of `apply` is [`desired`]'s).
pub fn schema(cmd: &mut Schema, m: &ArgMatches, env: Option<&Env>) -> Result<(), CliError> {
    let e = env;
    match cmd {
        Schema::Inspect {
            url,
            dev: d,
            scope: s,
            format,
        } => {
            if let Some(env) = e {
                fill(url, env.url.as_ref());
                if !given(m, "format")
                    && let Some(t) = &env.format.schema.inspect
                {
                    *format = cli::parse_inspect_format(t).map_err(CliError::EnvValue)?;
                }
            }
            deref(url, e)?;
            dev(d, e)?;
            scope(s, e);
        }
        Schema::Diff {
            from,
            to,
            dev: d,
            scope: s,
            format: f,
        } => {
            deref_str(from, e)?;
            deref_all(to, e)?;
            dev(d, e)?;
            scope(s, e);
            format(f, m, e.and_then(|env| env.format.schema.diff.as_ref()))?;
        }
        Schema::Apply {
            url,
            to,
            dev: d,
            scope: s,
            format: f,
            ..
        } => {
            if let Some(env) = e {
                fill(url, env.url.as_ref());
            }
            deref(url, e)?;
            deref_all(to, e)?;
            dev(d, e)?;
            scope(s, e);
            format(f, m, e.and_then(|env| env.format.schema.apply.as_ref()))?;
        }
        Schema::Clean { url, format: f, .. } => {
            if let Some(env) = e {
                fill(url, env.url.as_ref());
            }
            deref(url, e)?;
            format(f, m, e.and_then(|env| env.format.schema.clean.as_ref()))?;
        }
    }
    Ok(())
}

/// A schema source flag (`--to`, `--from`), which may name the env's `data "external_schema"`; without one
/// (`schema apply` without `--to`), the env's `src` (several SQL sources run in order).
pub fn desired(to: &[String], env: Option<&Env>) -> Result<Source, CliError> {
    if let [text] = to
        && let Some(SchemaSrc::Sql { name, sql }) = env.and_then(|e| e.external_schema(text))
    {
        return Ok(external(name, sql));
    }
    if !to.is_empty() {
        return Ok(Source::parse_all(to)?);
    }
    let src = env.map(|e| e.src.as_slice()).unwrap_or_default();
    match src {
        [] => Err(CliError::NoDesiredState),
        [SchemaSrc::Sql { name, sql }] => Ok(external(name, sql)),
        [SchemaSrc::Url(u)] => Ok(Source::parse(u)?),
        many if many
            .iter()
            .all(|s| matches!(s, SchemaSrc::Url(u) if is_hcl(u))) =>
        {
            let urls: Vec<&str> = many
                .iter()
                .filter_map(|s| match s {
                    SchemaSrc::Url(u) => Some(u.as_str()),
                    SchemaSrc::Sql { .. } => None,
                })
                .collect();
            Ok(Source::parse_all(&urls)?)
        }
        many => {
            let mut texts = Vec::new();
            for s in many {
                match s {
                    SchemaSrc::Sql { name, sql } => texts.push(SqlText::new(
                        format!("data.external_schema.{name}"),
                        sql.clone(),
                    )),
                    SchemaSrc::Url(u) => match Source::parse(u)? {
                        Source::SqlFile(path) => {
                            let sql =
                                std::fs::read_to_string(&path).map_err(|source| CliError::Io {
                                    context: format!("reading {}", path.display()),
                                    source,
                                })?;
                            texts.push(SqlText::new(path.display().to_string(), sql));
                        }
                        _ => return Err(CliError::SeveralSources(strata_engine::redact(u))),
                    },
                }
            }
            Ok(Source::Sql(texts))
        }
    }
}

/// The desired states of `migrate diff`: several `--to` are one HCL schema when each is HCL, else each is its own
/// source (several `.sql` files and folders); one or none as [`desired`] reads them.
pub fn desired_list(to: &[String], env: Option<&Env>) -> Result<Vec<Source>, CliError> {
    if to.len() <= 1 {
        return Ok(vec![desired(to, env)?]);
    }
    let sources = to
        .iter()
        .map(|t| Source::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    if !sources.iter().all(|s| matches!(s, Source::Hcl(_))) {
        return Ok(sources);
    }
    let paths = sources
        .into_iter()
        .flat_map(|s| match s {
            Source::Hcl(paths) => paths,
            _ => Vec::new(),
        })
        .collect();
    Ok(vec![Source::Hcl(paths)])
}

/// An env `src` entry naming HCL (a `.hcl` file, or a folder read as HCL), so several of them are one schema.
fn is_hcl(url: &str) -> bool {
    matches!(Source::parse(url), Ok(Source::Hcl(_)))
}

/// The env's `diff.concurrent_index` for the planner (Atlas's older `add` counts as `create`).
pub fn concurrent_index(env: Option<&Env>) -> ConcurrentIndex {
    let Some(env) = env else {
        return ConcurrentIndex::default();
    };
    let c = env.diff.concurrent_index;
    ConcurrentIndex {
        create: c.create || c.add,
        drop: c.drop,
    }
}

/// The env's `diff.skip` as the diff's skip kinds. Strata plans no renames, so `rename_table` and
/// `rename_constraint` have nothing to leave out.
pub fn skip(env: Option<&Env>) -> Vec<SkipKind> {
    let Some(env) = env else { return Vec::new() };
    env.diff
        .skip
        .iter()
        .filter_map(|s| match s {
            SkipChange::AddSchema => Some(SkipKind::AddSchema),
            SkipChange::DropSchema => Some(SkipKind::DropSchema),
            SkipChange::ModifySchema => Some(SkipKind::ModifySchema),
            SkipChange::AddTable => Some(SkipKind::AddTable),
            SkipChange::DropTable => Some(SkipKind::DropTable),
            SkipChange::ModifyTable => Some(SkipKind::ModifyTable),
            SkipChange::AddColumn => Some(SkipKind::AddColumn),
            SkipChange::DropColumn => Some(SkipKind::DropColumn),
            SkipChange::ModifyColumn => Some(SkipKind::ModifyColumn),
            SkipChange::AddIndex => Some(SkipKind::AddIndex),
            SkipChange::DropIndex => Some(SkipKind::DropIndex),
            SkipChange::ModifyIndex => Some(SkipKind::ModifyIndex),
            SkipChange::AddForeignKey => Some(SkipKind::AddForeignKey),
            SkipChange::DropForeignKey => Some(SkipKind::DropForeignKey),
            SkipChange::ModifyForeignKey => Some(SkipKind::ModifyForeignKey),
            SkipChange::RenameTable | SkipChange::RenameConstraint => None,
        })
        .collect()
}

fn external(name: &str, sql: &str) -> Source {
    Source::Sql(vec![SqlText::new(
        format!("data.external_schema.{name}"),
        sql.to_owned(),
    )])
}

/// The matches of the innermost subcommand (`migrate apply`'s own flags).
pub fn leaf(m: &ArgMatches) -> &ArgMatches {
    let mut m = m;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    m
}
