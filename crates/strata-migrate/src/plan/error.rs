//! Everything that stops a plan, with Atlas's exact texts where Atlas has one.

use thiserror::Error;

use crate::error::DirError;
use crate::quote::go_quote;

/// Where Atlas's non-linear error sends the user.
pub const NON_LINEAR_HELP_URL: &str = "https://atlasgo.io/versioned/apply#non-linear-error";

/// Why a plan cannot be made.
///
/// Messages reproduce Atlas's wording byte for byte (versions and file names quoted as Go's `%q` does), so
/// scripts that match on Atlas errors keep working. Variants without an Atlas counterpart say what to do.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// `--exec-order` (or `exec_order` in `atlas.hcl`) has a value Atlas does not know.
    #[error("unknown execution order: {}", go_quote(.value))]
    UnknownExecOrder {
        /// The value, after the `atlas.hcl` normalisation when it came from there.
        value: String,
    },
    /// `--baseline` and `--allow-dirty` were both given.
    #[error("sql/migrate: baseline and allow-dirty are mutually exclusive")]
    BaselineAndAllowDirty,
    /// First run on a database that holds more than the revisions table, with neither flag.
    #[error(
        "sql/migrate: connected database is not clean: {reason}. baseline version or allow-dirty is required"
    )]
    NotClean {
        /// What the clean check found, e.g. `found table "t" in connected schema`.
        reason: String,
    },
    /// `--baseline V` names no (non-checkpoint) migration file.
    #[error("baseline version {} not found", go_quote(.version))]
    BaselineNotFound {
        /// The requested baseline version.
        version: String,
    },
    /// The last revision is partially applied and no file has its version.
    #[error(
        "sql/migrate: missing migration: revision {} is partially applied but migration file was not found",
        go_quote(&format!("{}_{}.sql", .version, .description))
    )]
    MissingMigration {
        /// Version of the partial revision.
        version: String,
        /// Its description.
        description: String,
    },
    /// Files without a revision sit between applied ones and the exec order is `linear`.
    #[error("{}", out_of_order_message(.out_of_order))]
    OutOfOrder {
        /// Names of the files added out of order, in directory order.
        out_of_order: Vec<String>,
        /// Names of the files that would otherwise be pending.
        pending: Vec<String>,
    },
    /// A partially applied file changed in its already-applied part since the last attempt.
    #[error(
        "sql/migrate: history changed: statement {statement} from file {} changed",
        go_quote(.file)
    )]
    HistoryChanged {
        /// The file name.
        file: String,
        /// 1-based index of the first statement that no longer matches.
        statement: usize,
    },
    /// The `[amount]` argument of `migrate apply` is not an integer.
    #[error(
        "invalid amount argument {} ({reason}). Omit the argument or pass a valid integer instead",
        go_quote(.arg)
    )]
    InvalidAmount {
        /// The argument as given.
        arg: String,
        /// `invalid syntax` or `value out of range`, as Go's `strconv` says.
        reason: &'static str,
    },
    /// The `[amount]` argument is zero or negative.
    #[error("cannot apply '{amount}' migration files")]
    AmountTooSmall {
        /// The parsed amount.
        amount: i64,
    },
    /// `--to-version V` names no migration file in the directory.
    #[error("sql/migrate: migration with version {} not found", go_quote(.version))]
    ToVersionNotFound {
        /// The requested version.
        version: String,
    },
    /// `--to-version V` names a file the database already ran.
    #[error(
        "sql/migrate: migration with version {} is already applied (the database is at version {}); \
         pass a pending version to --to-version, or omit it to apply everything pending",
        go_quote(.version),
        go_quote(.current)
    )]
    ToVersionApplied {
        /// The requested version.
        version: String,
        /// The database's current version.
        current: String,
    },
    /// `--to-version V` names a file that exists but is not among the pending files (a checkpoint that is not
    /// the starting point, a file at or before the baseline, a file skipped by `linear-skip`).
    #[error(
        "sql/migrate: migration with version {} is not pending (pending files: {}); pass one of the pending \
         versions to --to-version",
        go_quote(.version),
        .pending.join(", ")
    )]
    ToVersionNotPending {
        /// The requested version.
        version: String,
        /// Versions of the pending files.
        pending: Vec<String>,
    },
    /// `migrate status`: the last revision is partially applied but no file has its version.
    #[error("migration file with version {} not found", go_quote(.version))]
    StatusFileNotFound {
        /// The revision's version.
        version: String,
    },
    /// `migrate set` got the wrong number of arguments (or none on an empty revisions table).
    #[error("accepts 1 arg(s), received {received}")]
    SetArgs {
        /// How many arguments were given.
        received: usize,
    },
    /// `migrate set V` names no migration file.
    #[error("migration with version {} not found", go_quote(.version))]
    SetVersionNotFound {
        /// The requested version.
        version: String,
    },
    /// `migrate set` must record a file's hash, but the directory sum has no entry for it.
    #[error(
        "checksum not found: migration file {} has no entry in atlas.sum (it is marked `atlas:sum ignore`), so \
         migrate set cannot record its hash",
        go_quote(.file)
    )]
    ChecksumNotFound {
        /// The file name.
        file: String,
    },
    /// `migrate set --in-flight` without the version whose statement was in flight.
    #[error(
        "migrate set --in-flight needs the version whose statement was in flight: the one apply's error names"
    )]
    InFlightVersion,
    /// `migrate set V --in-flight …`, but V's revision names no statement in flight.
    #[error(
        "revision {} records no statement in flight ({detail}): there is nothing for --in-flight to settle; \
         'migrate set' without it rewrites the history",
        go_quote(.version)
    )]
    NoInFlight {
        /// The requested version.
        version: String,
        /// What the table holds instead.
        detail: String,
    },
    /// `migrate set V --in-flight …`, but the statement recorded as in flight is not the file's statement at that
    /// place any more.
    #[error(
        "statement {statement} of {} is not the statement that was in flight (recorded as {}): the file changed \
         since; restore it as it was when the run stopped, then run migrate set again",
        go_quote(.file),
        go_quote(.recorded)
    )]
    InFlightChanged {
        /// The file name.
        file: String,
        /// 1-based index of the statement.
        statement: u64,
        /// The statement text the marker recorded.
        recorded: String,
    },
    /// A file's directives could not be read (needed to tell checkpoints apart).
    #[error(transparent)]
    Dir(#[from] DirError),
}

fn out_of_order_message(files: &[String]) -> String {
    let subject = match files {
        [one] => format!("file {one} was"),
        many => format!("files {} were", many.join(", ")),
    };
    format!("migration {subject} added out of order. See: {NON_LINEAR_HELP_URL}")
}
