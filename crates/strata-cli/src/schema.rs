//! `schema inspect | diff | apply | clean`: thin wrappers over `strata_engine::schema`.
//!
//! Approval (`apply`, `clean`): the plan is printed first. On a terminal (stdin), Strata asks `Are you sure?` and
//! applies only on `apply` (or `a`, `yes`, `y`); anything else aborts with nothing changed (exit 0). Without a
//! terminal the command refuses unless `--auto-approve` is given. Destructive statements (drops of schemas,
//! tables, columns) are named before the prompt; `schema apply --auto-approve` applies them only with
//! `--allow-destructive` as well, so an unattended run never drops data it was not told it may drop. `schema
//! clean` exists to drop everything: its `--auto-approve` is the approval.

use std::io::{BufRead, IsTerminal as _, Write};

use strata_engine::schema::{
    self, InspectOptions, Plan, PlanOptions, SchemaApplyJson, SchemaApplyReport, SchemaDiffOptions,
    SchemaError, Source,
};
use strata_engine::{DbUrl, TxMode};

use crate::cli::{DevArgs, Format, InspectFormat, Schema, ScopeArgs};
use crate::output::{self, CliError};
use crate::runtime::Runtime;

/// Everything a `schema` command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SchemaCliError {
    #[error(transparent)]
    Engine(#[from] SchemaError),
    /// Approval is needed and there is no terminal to ask on.
    #[error(
        "the plan was not applied: stdin is not a terminal, so Strata cannot ask for approval; review the plan \
         (--dry-run) and pass --auto-approve to apply it"
    )]
    NoTerminal,
    /// A destructive plan under `--auto-approve` without `--allow-destructive`.
    #[error(
        "the plan was not applied: it destroys data ({losses}); pass --allow-destructive with --auto-approve to \
         apply it unattended, or run without --auto-approve on a terminal to approve it"
    )]
    Destructive { losses: String },
    /// `--url` of `apply`/`clean` names something other than a database (Atlas's wording).
    #[error("--url must be a database connection (postgres://, mysql://, maria://, sqlite://)")]
    UrlNotDatabase,
    /// Atlas's rule for `--format` on `schema apply`.
    #[error("--log and --format can only be used with --dry-run or --auto-approve")]
    FormatNeedsNoPrompt,
}

impl From<SchemaError> for CliError {
    fn from(e: SchemaError) -> Self {
        CliError::Schema(Box::new(SchemaCliError::Engine(e)))
    }
}

impl From<SchemaCliError> for CliError {
    fn from(e: SchemaCliError) -> Self {
        CliError::Schema(Box::new(e))
    }
}

fn db_url(text: &str) -> Result<DbUrl, SchemaError> {
    Ok(text.parse::<DbUrl>()?)
}

/// The database `--url` of `apply` and `clean`: a `file://` source there is Atlas's usage error.
fn target_url(text: &str) -> Result<DbUrl, CliError> {
    if text.starts_with("file://") {
        return Err(SchemaCliError::UrlNotDatabase.into());
    }
    Ok(db_url(text)?)
}

fn dev_url(dev: &DevArgs) -> Result<Option<DbUrl>, SchemaError> {
    dev.dev_url.as_deref().map(db_url).transpose()
}

fn diff_options(
    dev: &DevArgs,
    scope: ScopeArgs,
    env: Option<&strata_project::Env>,
    vars: &strata_hcl::parse::Vars,
) -> Result<SchemaDiffOptions, SchemaError> {
    Ok(SchemaDiffOptions::default()
        .dev_url(dev_url(dev)?)
        .vars(vars.clone())
        .skip(crate::project::skip(env))
        .concurrent_index(crate::project::concurrent_index(env))
        .schemas(scope.schemas)
        .exclude(scope.exclude))
}

/// Runs a `schema` command whose flags already hold the env's defaults (`crate::project`); `env` is the
/// selected project env, which `apply` takes its desired state from when `--to` is not given.
pub fn run(
    cmd: Schema,
    env: Option<&strata_project::Env>,
    vars: &strata_hcl::parse::Vars,
    rt: &Runtime,
) -> Result<(), CliError> {
    match cmd {
        Schema::Inspect {
            url,
            dev,
            scope,
            format,
        } => inspect(
            url.as_deref().ok_or(CliError::NoUrl)?,
            &dev,
            scope,
            format,
            vars,
            rt,
        ),
        Schema::Diff {
            from,
            to,
            dev,
            scope,
            format,
        } => {
            let from = crate::project::desired(std::slice::from_ref(&from), env)?;
            let to = crate::project::desired(&to, env)?;
            let opts = diff_options(&dev, scope, env, vars)?;
            let plan = rt.block_on(schema::schema_diff(&from, &to, &opts))??;
            match format.format {
                Format::Json => output::out(&format!("{}\n", json(&plan))),
                Format::Text if plan.is_empty() => {
                    output::out("Schemas are synced, no changes to be made.\n")
                }
                Format::Text => output::out(&plan.to_sql()),
            }
        }
        Schema::Apply {
            url,
            to,
            dev,
            scope,
            dry_run,
            auto_approve,
            allow_destructive,
            tx_mode,
            format,
        } => {
            let format = format.format;
            if format == Format::Json && !dry_run && !auto_approve {
                return Err(SchemaCliError::FormatNeedsNoPrompt.into());
            }
            let target = target_url(url.as_deref().ok_or(CliError::NoUrl)?)?;
            let to = crate::project::desired(&to, env)?;
            let opts = diff_options(&dev, scope, env, vars)?;
            let from = Source::from(target.clone());
            let plan = rt.block_on(schema::schema_diff(&from, &to, &opts))??;
            let approval = Approval {
                dry_run,
                auto_approve,
                allow_destructive,
            };
            run_plan(
                &target,
                &plan,
                approval,
                tx_mode,
                format,
                "Schema is synced, no changes to be made\n",
                rt,
            )
        }
        Schema::Clean {
            url,
            auto_approve,
            format,
        } => {
            let target = target_url(url.as_deref().ok_or(CliError::NoUrl)?)?;
            let plan = rt.block_on(schema::clean_plan(&target))??;
            let approval = Approval {
                dry_run: false,
                auto_approve,
                allow_destructive: true,
            };
            run_plan(
                &target,
                &plan,
                approval,
                TxMode::File,
                format.format,
                "Nothing to drop\n",
                rt,
            )
        }
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"Error\":{:?}}}", e.to_string()))
}

fn inspect(
    url: &str,
    dev: &DevArgs,
    scope: ScopeArgs,
    format: InspectFormat,
    vars: &strata_hcl::parse::Vars,
    rt: &Runtime,
) -> Result<(), CliError> {
    let source = Source::parse(url)?;
    let mut lo = schema::LoadOptions::default();
    lo.dev_url = dev_url(dev)?;
    lo.vars = vars.clone();
    lo.dialect = source.url().map(DbUrl::dialect);
    lo.inspect = InspectOptions::default().exclude(scope.exclude);
    lo.inspect.schemas = scope.schemas;
    let loaded = rt.block_on(schema::load(&source, &lo))??;
    match format {
        InspectFormat::Hcl => {
            let left_out = strata_hcl::unexpressed::LeftOut::of(&loaded.realm);
            if !left_out.is_empty() {
                eprintln!(
                    "Note: HCL cannot express {left_out}; they are not printed (use --format sql or json to \
                     see them). An HCL desired state leaves such objects as they are."
                );
            }
            output::out(&strata_hcl::print::print(
                &loaded.realm,
                &strata_hcl::print::PrintOptions::default(),
            ))
        }
        InspectFormat::Json => output::out(&format!("{}\n", json(&loaded.realm))),
        InspectFormat::AtlasJson => output::out(&format!(
            "{}\n",
            json(&strata_schema::atlas_json::AtlasRealm::new(&loaded.realm))
        )),
        InspectFormat::Sql { indent } => {
            let opts = PlanOptions::default().indent(indent.unwrap_or_default());
            let plan = schema::creation_plan_with(&loaded.realm, loaded.bound, &opts)?;
            output::out(&plan.to_sql())
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Approval {
    dry_run: bool,
    auto_approve: bool,
    allow_destructive: bool,
}

/// Prints the plan, gets the approval and applies it.
fn run_plan(
    target: &DbUrl,
    plan: &Plan,
    approval: Approval,
    tx_mode: TxMode,
    format: Format,
    synced: &str,
    rt: &Runtime,
) -> Result<(), CliError> {
    let pending = || SchemaApplyReport {
        pending: plan.statements.iter().map(|s| s.sql.clone()).collect(),
        ..SchemaApplyReport::default()
    };
    if plan.is_empty() {
        return match format {
            Format::Text => output::out(synced),
            Format::Json => output::out(&format!(
                "{}\n",
                json(&SchemaApplyJson::new(
                    target,
                    SchemaApplyReport::default(),
                    None
                ))
            )),
        };
    }
    let losses: Vec<String> = plan.destructive().iter().map(|l| l.to_string()).collect();
    if format == Format::Text {
        output::out(&format!("-- Planned Changes:\n{}", plan.to_sql()))?;
        if !losses.is_empty() {
            let mut err = anstream::stderr().lock();
            let _ = writeln!(err, "Warning: this plan destroys data:");
            for l in &losses {
                let _ = writeln!(err, "  - {}", output::escape_controls(l));
            }
        }
    }
    if approval.dry_run {
        if format == Format::Json {
            output::out(&format!(
                "{}\n",
                json(&SchemaApplyJson::new(target, pending(), None))
            ))?;
        }
        return Ok(());
    }
    if approval.auto_approve {
        if !losses.is_empty() && !approval.allow_destructive {
            return Err(SchemaCliError::Destructive {
                losses: losses.join(", "),
            }
            .into());
        }
    } else if !std::io::stdin().is_terminal() {
        return Err(SchemaCliError::NoTerminal.into());
    } else {
        let stdin = std::io::stdin();
        let approved =
            confirm(&mut stdin.lock(), &mut anstream::stdout().lock()).map_err(|source| {
                CliError::Io {
                    context: "reading the answer".into(),
                    source,
                }
            })?;
        if !approved {
            return output::out("Aborted: nothing was applied\n");
        }
    }
    let result = rt.block_on(schema::apply_plan(target, plan, tx_mode))?;
    match (result, format) {
        (Ok(_), Format::Text) => Ok(()),
        (Ok(report), Format::Json) => output::out(&format!(
            "{}\n",
            json(&SchemaApplyJson::new(target, report, None))
        )),
        (Err(SchemaError::Execution(report)), Format::Json) => {
            let text = report.error.as_ref().map(|e| e.text.clone());
            output::out(&format!(
                "{}\n",
                json(&SchemaApplyJson::new(target, *report, text))
            ))?;
            Err(CliError::Silent)
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// Asks `Are you sure?` and reads one line: `apply`, `a`, `yes` or `y` (any case) approve; anything else,
/// including end of input, aborts.
fn confirm(input: &mut impl BufRead, out: &mut impl Write) -> std::io::Result<bool> {
    write!(out, "? Are you sure? [Apply/Abort]: ")?;
    out.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    let answer = line.trim().to_ascii_lowercase();
    Ok(matches!(answer.as_str(), "apply" | "a" | "yes" | "y"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_answer_approves() {
        for (input, want) in [
            ("apply\n", true),
            ("Apply\n", true),
            ("y\n", true),
            (" YES \n", true),
            ("abort\n", false),
            ("\n", false),
            ("", false),
            ("applyx\n", false),
        ] {
            let mut out = Vec::new();
            let got = confirm(&mut input.as_bytes(), &mut out).unwrap();
            assert_eq!(got, want, "{input:?}");
            assert_eq!(out, b"? Are you sure? [Apply/Abort]: ");
        }
    }
}
