//! `strata`: the command-line front end. Argument parsing and rendering live here; the logic lives in the
//! library crates.

mod cli;
mod db;
mod lint;
mod migrate;
mod operator;
mod output;
mod registry;
mod runtime;
mod schema;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let invoked_as = output::invoked_as();
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
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
        cli::Command::Migrate(m) => migrate::run(*m, &rt, &invoked_as),
        cli::Command::Schema(s) => schema::run(*s, &rt),
        cli::Command::Registry(r) => registry::run(r, &rt),
        cli::Command::Lint(l) => lint::run(l),
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
