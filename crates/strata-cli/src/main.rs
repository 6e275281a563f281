//! `strata`: the command-line front end. Argument parsing and rendering live here; the logic lives in the
//! library crates.

mod cli;
mod db;
mod migrate;
mod operator;
mod output;
mod registry;

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
    let result = match args.command {
        cli::Command::Migrate(m) => migrate::run(*m, &invoked_as),
        cli::Command::Registry(r) => registry::run(r),
        cli::Command::Operator(o) => operator::run(o),
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
