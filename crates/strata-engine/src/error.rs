//! Everything an engine run can fail with. Messages keep Atlas's wording where tools match on it and add what to
//! do next; credentials never appear (driver errors carry redacted URLs only).

use strata_driver::DriverError;
use strata_migrate::history::HistoryError;
use strata_migrate::plan::PlanError;
use strata_migrate::sum::SumError;
use strata_migrate::{DirError, ScanError};
use thiserror::Error;

use crate::inflight::InFlightStop;
use crate::report::ApplyReport;

/// An engine failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The directory or one of its files is unusable.
    #[error(transparent)]
    Dir(#[from] DirError),
    /// `atlas.sum` is missing or does not match.
    #[error(transparent)]
    Sum(#[from] SumError),
    /// A file cannot be split into statements.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The pending computation refused (dirty database, out of order, history changed, …).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The database refused or is unreachable.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The migration lock could not be taken (another run holds it past `--lock-timeout`).
    #[error("acquiring database lock: {0}")]
    Lock(DriverError),
    /// A file's transaction-mode directive conflicts with the run's mode.
    #[error(
        "cannot set txmode directive to \"{mode}\" in \"{file}\" when txmode \"all\" is set globally"
    )]
    TxModeConflict {
        /// The directive's mode.
        mode: String,
        /// The file.
        file: String,
    },
    /// An applied file changed or disappeared after it was applied; the error names the file.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The run was cancelled between statements; what ran before is recorded.
    #[error(
        "migration run cancelled before version \"{version}\"; applied files are recorded, run apply again to continue"
    )]
    Cancelled {
        /// The version that did not start (or did not finish, when its transaction rolled back).
        version: String,
        /// The report up to the cancellation.
        report: Box<ApplyReport>,
    },
    /// A statement failed; the report says which files ran and where it stopped.
    #[error("{}", .0.error)]
    Execution(Box<ApplyReport>),
    /// An earlier run was interrupted while a statement that commits on its own ran, and whether it took effect
    /// cannot be decided automatically: the message names the `migrate set --in-flight` commands that settle it.
    #[error("{0}")]
    InFlight(Box<InFlightStop>),
    /// The run stopped on `source`, and files it had applied with deferred commits were rolled back with the
    /// transaction they were waiting in (SQLite, MySQL: see `strata_driver::Durability`): they are not applied.
    #[error("{source}{}", rolled_back_note(versions))]
    RolledBack {
        /// The versions rolled back, in order.
        versions: Vec<String>,
        /// Why the run stopped.
        source: Box<EngineError>,
    },
}

/// The sentence added to an error when files applied earlier in the run were rolled back after all.
pub(crate) fn rolled_back_note(versions: &[String]) -> String {
    let list = versions
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "; the transaction holding version(s) {list}, applied earlier in this run, ended without a commit (the \
         database rolled it back or the connection was lost), so they may not be applied: run migrate apply again \
         to apply whichever are not"
    )
}

impl EngineError {
    /// `e`, naming `lost` (files rolled back after they were reported applied) when there are any.
    pub(crate) fn rolled_back(e: EngineError, lost: &[String]) -> EngineError {
        if lost.is_empty() {
            e
        } else {
            EngineError::RolledBack {
                versions: lost.to_vec(),
                source: Box::new(e),
            }
        }
    }

    /// The apply report, when the run got as far as executing files.
    pub fn report(&self) -> Option<&ApplyReport> {
        match self {
            Self::Execution(r) | Self::Cancelled { report: r, .. } => Some(r),
            Self::InFlight(stop) => Some(&stop.report),
            _ => None,
        }
    }
}
