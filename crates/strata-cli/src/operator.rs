//! `strata operator …`: the Kubernetes operator's entry points. The subcommands, flags and start-up live in
//! `strata_operator::cli`, shared with the lean `strata-operator` binary.

pub use strata_operator::cli::Operator;

use crate::output::{CliError, out};
use crate::runtime::Runtime;

/// Runs an operator subcommand.
pub fn run(cmd: Operator, rt: &Runtime) -> Result<(), CliError> {
    match cmd {
        Operator::Crds => out(&strata_operator::crd::crds_yaml()),
        Operator::Run(a) => {
            let opts = strata_operator::cli::prepare(*a)?;
            rt.block_on(strata_operator::controller::run(opts))?
                .map_err(CliError::Operator)
        }
        Operator::Reconcile(a) => {
            let r = rt.block_on(strata_operator::cli::reconcile(a))??;
            for e in &r.events {
                eprintln!("{}", crate::output::escape_controls(e));
            }
            out(&r.output)?;
            // Not Ready: the status on stdout says why.
            if r.ready {
                Ok(())
            } else {
                Err(CliError::Silent)
            }
        }
    }
}
