//! `strata`: the command-line front end. Argument parsing and rendering live here; the logic lives in the
//! library crates.

mod cli;
mod db;
mod lint;
mod migrate;
mod migrate_lint;
mod operator;
mod output;
mod project;
mod registry;
mod runtime;
mod schema;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() -> ExitCode {
    let invoked_as = output::invoked_as();
    // The matches are kept: they tell a flag that was given from one left at its default (env values fill
    // only the latter).
    let parsed = cli::Cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m).map(|a| (m, a)));
    let (matches, args) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            // Printing help into a closed pipe is not an error worth reporting.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // One runtime per process, multi-threaded only for the servers.
    let rt = runtime::Runtime::new(matches!(
        &args.command,
        cli::Command::Registry(registry::RegistryCmd::Serve { .. })
            | cli::Command::Operator(operator::Operator::Run(_))
    ));
    let result = match args.command {
        cli::Command::Migrate(m) => run_migrate(*m, &args.project, &matches, &rt, &invoked_as),
        cli::Command::Schema(s) => run_schema(*s, &args.project, &matches, &rt),
        cli::Command::Registry(_) | cli::Command::Operator(_) if args.project.env.is_some() => {
            Err(output::CliError::EnvNotApplicable)
        }
        cli::Command::Registry(r) => registry::run(r, &rt),
        cli::Command::Lint(l) => run_lint(l, &args.project, &rt),
        cli::Command::Operator(o) => operator::run(o, &rt),
        cli::Command::Completion { shell } => {
            cli::print_completions(shell);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => output::report(&e, &invoked_as),
    }
}

/// A `migrate` command with the project env's defaults; `apply` and `status` run once per `for_each` instance.
fn run_migrate(
    cmd: cli::Migrate,
    project: &cli::ProjectArgs,
    matches: &clap::ArgMatches,
    rt: &runtime::Runtime,
    invoked_as: &str,
) -> Result<(), output::CliError> {
    let loaded = project::load(project, rt)?;
    let iterate = matches!(
        cmd,
        cli::Migrate::Apply { .. } | cli::Migrate::Status { .. }
    );
    for env in project::instances(loaded.as_ref(), iterate)? {
        let mut cmd = cmd.clone();
        project::migrate(&mut cmd, project::leaf(matches), env)?;
        let vars = project::hcl_vars(project, env)?;
        migrate::run(cmd, env, &vars, rt, invoked_as)?;
    }
    Ok(())
}

/// `strata lint` with the project env's lint settings and dialect (one env: `for_each` envs are refused).
fn run_lint(
    args: lint::LintArgs,
    project: &cli::ProjectArgs,
    rt: &runtime::Runtime,
) -> Result<(), output::CliError> {
    let loaded = project::load(project, rt)?;
    let env = loaded.as_ref().map(|p| p.single()).transpose()?;
    lint::run(args, env)
}

/// A `schema` command with the project env's defaults (one env: `for_each` envs are refused).
fn run_schema(
    mut cmd: cli::Schema,
    project: &cli::ProjectArgs,
    matches: &clap::ArgMatches,
    rt: &runtime::Runtime,
) -> Result<(), output::CliError> {
    let loaded = project::load(project, rt)?;
    let env = loaded.as_ref().map(|p| p.single()).transpose()?;
    project::schema(&mut cmd, project::leaf(matches), env)?;
    let vars = project::hcl_vars(project, env)?;
    schema::run(cmd, env, &vars, rt)
}
