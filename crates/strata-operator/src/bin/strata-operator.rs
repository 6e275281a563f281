//! `strata-operator`: the operator alone, without the CLI's migration commands, the registry server or shell
//! completions, so its process maps less code (the image the Dockerfile builds runs this). Same subcommands and
//! flags as `strata operator …`, through the same entry point ([`strata_operator::cli`]).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use strata_operator::cli::{self, Operator};

/// The Strata Kubernetes operator: reconciles AtlasMigration resources (db.atlasgo.io/v1alpha1).
#[derive(Debug, Parser)]
#[command(name = "strata-operator", version)]
struct Args {
    #[command(subcommand)]
    command: Operator,
}

fn main() -> ExitCode {
    let result = match Args::parse().command {
        Operator::Crds => {
            let mut out = std::io::stdout().lock();
            match out.write_all(strata_operator::crd::crds_yaml().as_bytes()) {
                Ok(()) => Ok(()),
                // `strata-operator crds | head` is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(format!("writing the CRDs: {e}")),
            }
        }
        Operator::Run(args) => cli::run(*args).map_err(|e| e.to_string()),
        Operator::Reconcile(args) => match cli::run_reconcile(args) {
            // Not Ready: the status on stdout says why.
            Ok(false) => return ExitCode::FAILURE,
            Ok(true) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
