//! `strata operator …`: the Kubernetes operator's entry points. The logic lives in `strata-operator`.

use clap::Subcommand;

use crate::output::{CliError, out};

/// `strata operator` subcommands.
#[derive(Debug, Subcommand)]
pub enum Operator {
    /// Print the CustomResourceDefinitions (YAML) the operator serves.
    Crds,
}

/// Runs an operator subcommand.
pub fn run(cmd: Operator) -> Result<(), CliError> {
    match cmd {
        Operator::Crds => out(&strata_operator::crd_yaml()),
    }
}
