//! `strata migrate …` commands.

use std::path::{Path, PathBuf};

use serde_json::json;
use strata_migrate::dir::{self, MigrationDir};
use strata_migrate::scan::{self, Dialect};
use strata_migrate::sum;

use strata_engine::DbUrl;
use strata_engine::schema::{self, MigrateDiffOptions, ReplayCache, SchemaError};

use crate::cli::{DialectArg, DirArgs, Format, Migrate};
use crate::output::{self, CliError};
use crate::runtime::Runtime;

/// Runs a `migrate` command whose flags already hold the env's defaults (`crate::project`); `env` is the selected
/// project env (`migrate diff` takes its desired state and `diff.skip` from it) and `vars` the HCL input variables.
pub fn run(
    cmd: Migrate,
    env: Option<&strata_project::Env>,
    vars: &strata_hcl::parse::Vars,
    rt: &Runtime,
    invoked_as: &str,
) -> Result<(), CliError> {
    match cmd {
        Migrate::Hash { dir, force } => {
            if force {
                eprintln!("Flag --force has been deprecated, you can safely omit it.");
            }
            let path = dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref())?;
            strata_migrate::new::rehash(&path)?;
            Ok(())
        }
        Migrate::Validate {
            dir,
            dialect,
            dev_url,
            format,
        } => validate(
            &dir,
            dialect,
            dev_url.as_deref(),
            format.format,
            invoked_as,
            rt,
        ),
        Migrate::Diff {
            name,
            to,
            dev_url,
            dir,
            schemas,
            format,
            qualifier,
            lock_timeout,
        } => {
            let indent =
                strata_migrate::diff_format::indent(format.as_deref().unwrap_or_default())?;
            if to.is_empty() && env.is_none_or(|e| e.src.is_empty()) {
                return Err(CliError::NoTo);
            }
            let to = crate::project::desired_list(&to, env)?;
            let dev_url = dev_url
                .ok_or(CliError::NoDevUrl)?
                .parse::<DbUrl>()
                .map_err(SchemaError::from)?;
            let path = dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref())?;
            let mut opts = MigrateDiffOptions::new(to, dev_url);
            opts.skip = crate::project::skip(env);
            opts.concurrent_index = crate::project::concurrent_index(env);
            opts.vars = vars.clone();
            let opts = opts
                .name(name)
                .schemas(schemas)
                .indent(indent)
                .qualifier(qualifier)
                .lock_timeout(lock_timeout)
                .cache(ReplayCache::from_env());
            match rt.block_on(schema::migrate_diff(&path, &opts))? {
                Ok(report) if report.file.is_none() => output::out(
                    "The migration directory is synced with the desired state, no changes to be made\n",
                ),
                Ok(_) => Ok(()),
                Err(SchemaError::Sum(e)) => {
                    output::print_sum_block(&e, invoked_as)?;
                    Err(CliError::Sum(e))
                }
                Err(e) => Err(e.into()),
            }
        }
        cmd @ Migrate::Lint { .. } => crate::migrate_lint::run(cmd, env, rt, invoked_as),
        Migrate::New {
            name,
            dir,
            edit,
            format,
        } => new(&dir, name.as_deref(), edit, format.format, invoked_as),
        Migrate::Push {
            name,
            dir,
            registry,
            git_tag,
            lint_report,
            dev_url,
        } => crate::registry::push(
            &name,
            &dir,
            &registry,
            crate::registry::PushExtras {
                git_tag,
                lint_report,
                dev_url,
            },
            rt,
        ),
        db @ (Migrate::Apply { .. } | Migrate::Status { .. } | Migrate::Set { .. }) => {
            crate::db::run(db, rt, invoked_as)
        }
    }
}

fn open(args: &DirArgs) -> Result<(PathBuf, MigrationDir), CliError> {
    let path = dir::local_path_from_url(&args.dir, args.dir_format.as_deref())?;
    let d = MigrationDir::open(&path)?;
    Ok((path, d))
}

/// Validates `atlas.sum`, printing Atlas's block on failure (text mode). JSON names the directory as given
/// (`file://migrations`), as apply and status do.
fn check_sum(
    d: &MigrationDir,
    args: &DirArgs,
    format: Format,
    invoked_as: &str,
) -> Result<(), CliError> {
    match sum::validate(d) {
        Ok(_) => Ok(()),
        Err(e) => {
            if format == Format::Text {
                output::print_sum_block(&e, invoked_as)?;
            } else {
                let error = e.to_string();
                let mut v = json!({ "Dir": args.dir, "Valid": false, "Error": output::name_hints(&error, invoked_as) });
                if let sum::SumError::Mismatch(m) = &e {
                    v["File"] = json!(m.file);
                    v["Line"] = json!(m.line);
                    v["Change"] = json!(m.change.to_string());
                }
                output::out(&format!("{v}\n"))?;
            }
            Err(CliError::Sum(e))
        }
    }
}

fn validate(
    args: &DirArgs,
    dialect: Option<DialectArg>,
    dev_url: Option<&str>,
    format: Format,
    invoked_as: &str,
    rt: &Runtime,
) -> Result<(), CliError> {
    let (_, d) = open(args)?;
    check_sum(&d, args, format, invoked_as)?;
    // The dev URL is read before anything runs, so a bad one is reported first.
    let dev_url = dev_url
        .map(|u| u.parse::<DbUrl>().map_err(SchemaError::from))
        .transpose()?;
    let dialects: &[Dialect] = match dialect {
        Some(DialectArg::Postgres) => &[Dialect::Postgres],
        Some(DialectArg::Mysql) => &[Dialect::Mysql],
        Some(DialectArg::Sqlite) => &[Dialect::Sqlite],
        None => &[Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite],
    };
    let mut statements = 0;
    for f in d.files() {
        let text = f.text()?;
        f.directives()?;
        // Without --dialect, a file is valid when some dialect can split it; report the first dialect's error.
        let mut first_err = None;
        let mut split = None;
        for &dialect in dialects {
            match scan::split(dialect, f.name(), text) {
                Ok(stmts) => {
                    split = Some(stmts.len());
                    break;
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match (split, first_err) {
            (Some(n), _) => statements += n,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {}
        }
    }
    if let Some(url) = dev_url {
        rt.block_on(schema::replay::validate(&url, &d))??;
    }
    if format == Format::Json {
        let v = json!({ "Dir": args.dir, "Valid": true, "Files": d.files().len(), "Statements": statements });
        output::out(&format!("{v}\n"))?;
    }
    Ok(())
}

fn new(
    args: &DirArgs,
    name: Option<&str>,
    edit: bool,
    format: Format,
    invoked_as: &str,
) -> Result<(), CliError> {
    let (path, d) = open(args)?;
    check_sum(&d, args, format, invoked_as)?;
    let file_path = strata_migrate::new::create(&path, name, std::time::SystemTime::now())?;
    if edit {
        run_editor(&file_path)?;
    }
    strata_migrate::new::rehash(&path)?;
    match format {
        Format::Text => output::out(&format!("{}\n", file_path.display())),
        Format::Json => output::out(&format!(
            "{}\n",
            json!({ "File": file_path.display().to_string() })
        )),
    }
}

fn run_editor(file: &Path) -> Result<(), CliError> {
    let editor = std::env::var("EDITOR")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    // $EDITOR may carry arguments ("code --wait"); split on whitespace like most tools do.
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(file)
        .status()
        .map_err(|source| CliError::Io {
            context: format!("starting the editor {program:?} (set $EDITOR)"),
            source,
        })?;
    if !status.success() {
        return Err(CliError::Editor {
            program: program.to_owned(),
            status,
            file: file.to_owned(),
        });
    }
    Ok(())
}
