//! What to run: the pending files of `migrate apply`, the `migrate status` report and the `migrate set` edit,
//! decided from the directory and the revisions table exactly as Atlas decides them.
//!
//! Everything here is pure: the driver reads the directory and the `atlas_schema_revisions` rows, runs the
//! clean check when the table is empty, and hands the results in; the plan says which files to execute, which
//! rows to write or delete, and what to print. Nothing touches a database or the clock.
//!
//! - [`pending`] and [`Plan`]: the pending files (compat §7), with [`Plan::limit`] for `[amount]` and
//!   `--to-version`;
//! - [`statement_sums`] and [`check_resume`]: the `partial_hashes` column and the resume check (§6, §8);
//! - [`status`] and [`Status`]: the `migrate status` report and its text block (§11.1);
//! - [`set`] and [`SetPlan`]: `migrate set` (§12), and [`set_in_flight`] for `migrate set --in-flight`.
//!
//! Revisions must be passed in the order the table returns them (`ORDER BY version`); the row with version
//! `.atlas_cloud_identifier` is ignored wherever it appears. Files must be in directory order, as
//! [`MigrationDir::files`](crate::MigrationDir::files) returns them.

mod error;
mod order;
mod partial;
mod pending;
mod set;
mod status;
mod text;

pub use crate::quote::go_quote;
pub use error::{NON_LINEAR_HELP_URL, PlanError};
pub use order::ExecOrder;
pub use partial::{PARTIAL_HASH_PREFIX, check_resume, statement_sums, stored_partial_hash};
pub use pending::{
    Limit, NO_MIGRATION_FILES_TO_EXECUTE, NO_PENDING_MIGRATION_FILES, PendingOptions, Plan, Resume,
    parse_amount, pending,
};
pub use set::{InFlightOutcome, SetChange, SetOp, SetPlan, set, set_in_flight};
/// `migrate set`'s text for changes a report owns: [`render_set`] and its header's [`set_summary`].
pub use set::{render as render_set, summary as set_summary};
pub use status::{
    ALREADY_AT_LATEST_VERSION, NO_MIGRATION_APPLIED_YET, Status, StatusSummary, StatusWord, status,
};

use crate::dir::MigrationFile;
use crate::revision::{CLOUD_IDENTIFIER_VERSION, Revision, RevisionType};

/// What every row Strata writes carries besides its content: when it was written and by whom.
///
/// The plan never reads the clock; the driver supplies both values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowStamp {
    /// `executed_at`, in Unix nanoseconds (UTC).
    pub executed_at_unix_nanos: i128,
    /// `operator_version`, e.g. [`revision::operator_version()`](crate::revision::operator_version).
    pub operator_version: String,
}

/// A fresh row for `file` with no statements applied, no error and no partial hashes.
fn new_row(file: &MigrationFile, kind: RevisionType, hash: &str, stamp: &RowStamp) -> Revision {
    Revision {
        version: file.version().to_owned(),
        description: file.description().to_owned(),
        kind,
        applied: 0,
        total: 0,
        executed_at_unix_nanos: stamp.executed_at_unix_nanos,
        execution_time_nanos: 0,
        error: String::new(),
        error_stmt: String::new(),
        hash: hash.to_owned(),
        partial_hashes: None,
        operator_version: stamp.operator_version.clone(),
    }
}

/// The revisions the engine may see: all but the hidden cloud-identifier row.
fn visible(revisions: &[Revision]) -> Vec<&Revision> {
    revisions
        .iter()
        .filter(|r| r.version != CLOUD_IDENTIFIER_VERSION)
        .collect()
}
