//! `strata operator …`: the Kubernetes operator's entry points. The subcommands, flags and start-up live in
//! `strata_operator::cli`, shared with the lean `strata-operator` binary.

pub use strata_operator::cli::Operator;

use crate::output::{CliError, out};

/// Runs an operator subcommand.
pub fn run(cmd: Operator) -> Result<(), CliError> {
    match cmd {
        Operator::Crds => out(&strata_operator::crd_yaml()),
        Operator::Run(a) => {
            strata_operator::cli::run(*a).map_err(|e| CliError::Message(e.to_string()))
        }
    }
}
