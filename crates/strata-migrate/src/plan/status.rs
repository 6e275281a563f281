//! `migrate status` (compat §11.1).

use std::fmt;

use super::pending::{Failure, compute};
use super::text::Paint;
use super::{PendingOptions, PlanError, visible};
use crate::dir::MigrationFile;
use crate::revision::{Revision, RevisionType};

/// `Current Version` when every available file is pending.
pub const NO_MIGRATION_APPLIED_YET: &str = "No migration applied yet";
/// `Next Version` when nothing is pending.
pub const ALREADY_AT_LATEST_VERSION: &str = "Already at latest version";

/// The status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// Nothing is pending.
    Ok,
    /// Something is pending (or the history is not linear).
    Pending,
}

impl StatusWord {
    /// `OK` or `PENDING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Pending => "PENDING",
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `migrate status` report, field for field Atlas's `MigrateStatus` (so a JSON rendering can follow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<'a> {
    /// `OK` or `PENDING`.
    pub status: StatusWord,
    /// The files status compares against: every file when revisions exist, else the pending ones.
    pub available: Vec<&'a MigrationFile>,
    /// Pending files (out-of-order ones excluded when the history is not linear).
    pub pending: Vec<&'a MigrationFile>,
    /// Files added out of order, when the `linear` exec order stops the computation.
    pub out_of_order: Vec<&'a MigrationFile>,
    /// The revisions, in table order.
    pub applied: Vec<&'a Revision>,
    /// The last revision's version, or [`NO_MIGRATION_APPLIED_YET`].
    pub current: String,
    /// The first pending version, [`ALREADY_AT_LATEST_VERSION`], or empty (`UNKNOWN`) when the history is
    /// not linear.
    pub next: String,
    /// Statements the partially applied last revision ran; 0 unless [`Status::total`] is positive.
    pub count: i64,
    /// Statements in the partially applied file (as it is now); 0 when the last revision is not partial.
    pub total: i64,
    /// The last attempt's error (newlines as spaces), or the out-of-order error.
    pub error: String,
    /// The statement that failed (newlines as spaces).
    pub sql: String,
    /// Whether the first file to run on this database is a checkpoint.
    pub from_checkpoint: bool,
    /// First run with `--baseline`: the file apply will record as the baseline.
    pub baseline: Option<&'a MigrationFile>,
}

impl Status<'_> {
    /// Statements left in the partially applied file.
    pub fn left(&self) -> i64 {
        self.total - self.count
    }

    /// The current version, `None` when nothing is applied yet.
    pub fn current_version(&self) -> Option<&str> {
        (self.current != NO_MIGRATION_APPLIED_YET).then_some(self.current.as_str())
    }

    /// The next version to apply, `None` when up to date or unknown.
    pub fn next_version(&self) -> Option<&str> {
        (!self.next.is_empty() && self.next != ALREADY_AT_LATEST_VERSION)
            .then_some(self.next.as_str())
    }

    /// Whether the last revision is partially applied (the `statements applied` / `left` details show).
    pub fn is_partial(&self) -> bool {
        self.total > 0
    }

    /// The text block Atlas prints by default, byte for byte; `color` adds Atlas's terminal colours.
    pub fn render(&self, color: bool) -> String {
        self.summary().render(color)
    }

    /// What the text block shows, without the files (counts instead), for reports that own their data.
    pub fn summary(&self) -> StatusSummary {
        StatusSummary {
            status: self.status,
            current: self.current.clone(),
            next: self.next.clone(),
            count: self.count,
            total: self.total,
            executed: self.applied.len(),
            pending: self.pending.len(),
            out_of_order: self.out_of_order.len(),
            error: self.error.clone(),
            sql: self.sql.clone(),
            from_checkpoint: self.from_checkpoint,
        }
    }
}

/// The scalars of a [`Status`] and the sizes of its lists: everything its text block shows. The one home of
/// that text: [`Status::render`] and the engine's status report both render through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSummary {
    /// `OK` or `PENDING`.
    pub status: StatusWord,
    /// [`Status::current`].
    pub current: String,
    /// [`Status::next`].
    pub next: String,
    /// [`Status::count`].
    pub count: i64,
    /// [`Status::total`].
    pub total: i64,
    /// How many revisions there are (`Executed Files`).
    pub executed: usize,
    /// How many files are pending, out-of-order ones excluded.
    pub pending: usize,
    /// How many files were added out of order.
    pub out_of_order: usize,
    /// [`Status::error`].
    pub error: String,
    /// [`Status::sql`].
    pub sql: String,
    /// [`Status::from_checkpoint`].
    pub from_checkpoint: bool,
}

impl StatusSummary {
    /// Statements left in the partially applied file.
    pub fn left(&self) -> i64 {
        self.total - self.count
    }

    /// Whether the last revision is partially applied.
    pub fn is_partial(&self) -> bool {
        self.total > 0
    }

    /// The text block Atlas prints by default, byte for byte; `color` adds Atlas's terminal colours.
    pub fn render(&self, color: bool) -> String {
        let p = Paint::new(color);
        let dash = p.yellow("--");
        let mut out = String::from("Migration Status:");
        match self.status {
            StatusWord::Ok => out += &format!(" {}", p.green("OK")),
            StatusWord::Pending => out += &format!(" {}", p.yellow("PENDING")),
        }
        out += &format!("\n  {dash} Current Version: {}", p.cyan(&self.current));
        if self.is_partial() {
            out += &format!(
                " ({} statements applied)",
                p.yellow(&self.count.to_string())
            );
        }
        out += &format!("\n  {dash} Next Version:    ");
        if self.next.is_empty() {
            out += "UNKNOWN";
        } else {
            out += &p.cyan(&self.next);
            if self.from_checkpoint {
                out += " (checkpoint)";
            }
        }
        if self.is_partial() {
            out += &format!(" ({} statements left)", p.yellow(&self.left().to_string()));
        }
        out += &format!("\n  {dash} Executed Files:  {}", self.executed);
        if self.is_partial() {
            out += " (last one partially)";
        }
        out += &format!(
            "\n  {dash} Pending Files:   {}",
            self.pending + self.out_of_order
        );
        if self.out_of_order > 0 {
            if self.pending == 0 {
                out += " (out of order)";
            } else {
                out += &format!(" ({} out of order)", self.out_of_order);
            }
        }
        if self.is_partial() {
            out += &format!(
                "\n\nLast migration attempt had errors:\n  {dash} SQL:   {}\n  {dash} {} {}",
                self.sql,
                p.red("ERROR:"),
                self.error
            );
        } else if self.out_of_order > 0 && !self.error.is_empty() {
            out += &format!("\n\n  {} {}", p.red("ERROR:"), self.error);
        }
        out.push('\n');
        out
    }
}

/// Computes the `migrate status` report with the same pending computation as `migrate apply`, so status and
/// apply never disagree: `--baseline`, `--allow-dirty`, the exec order and the clean check all apply (pass an
/// empty `revisions` for a missing revisions table, and the clean check's finding in `opts`). An out-of-order
/// history is reported (`Next Version: UNKNOWN` and the error) rather than failing; other errors fail as apply
/// would.
///
/// On a first run with `--baseline`, the baseline row is not written yet, so the report says
/// `No migration applied yet` with the files after the baseline pending (as Atlas's own data flow would);
/// [`Status::baseline`] names the file apply will record.
///
/// When the last revision is partially applied, `count_statements` is called once with its file to learn how
/// many statements the file holds now (the driver scans it with the dialect's scanner).
pub fn status<'a, E>(
    files: &'a [MigrationFile],
    revisions: &'a [Revision],
    opts: &PendingOptions,
    count_statements: impl FnOnce(&'a MigrationFile) -> Result<usize, E>,
) -> Result<Status<'a>, E>
where
    E: From<PlanError>,
{
    let applied = visible(revisions);
    let mut st = Status {
        status: StatusWord::Pending,
        available: Vec::new(),
        pending: Vec::new(),
        out_of_order: Vec::new(),
        applied,
        current: String::new(),
        next: String::new(),
        count: 0,
        total: 0,
        error: String::new(),
        sql: String::new(),
        from_checkpoint: false,
        baseline: None,
    };
    match compute(files, revisions, opts) {
        Ok(plan) => {
            st.pending = plan.pending;
            st.baseline = plan.baseline;
        }
        Err(Failure::Plan(e)) => return Err(e.into()),
        Err(Failure::OutOfOrder {
            out_of_order,
            pending,
        }) => {
            st.error = PlanError::OutOfOrder {
                out_of_order: out_of_order.iter().map(|f| f.name().to_owned()).collect(),
                pending: Vec::new(),
            }
            .to_string();
            st.pending = pending;
            st.out_of_order = out_of_order;
            // Files can only be out of order behind applied ones.
            st.current = st
                .applied
                .last()
                .map(|r| r.version.clone())
                .unwrap_or_default();
            return Ok(st);
        }
    }
    st.available = if st.applied.is_empty() {
        st.pending.clone()
    } else {
        files.iter().collect()
    };
    st.current = match st.applied.last() {
        Some(last) if st.pending.len() != st.available.len() => last.version.clone(),
        _ => NO_MIGRATION_APPLIED_YET.to_owned(),
    };
    if let Some(first) = st.pending.first() {
        st.status = StatusWord::Pending;
        st.next = first.version().to_owned();
        st.from_checkpoint =
            st.applied.is_empty() && first.is_checkpoint().map_err(PlanError::from)?;
    } else {
        st.status = StatusWord::Ok;
        st.next = ALREADY_AT_LATEST_VERSION.to_owned();
    }
    if let Some(&last) = st.applied.last()
        && !last.kind.has(RevisionType::RESOLVED)
        && last.applied < last.total
    {
        st.sql = last.error_stmt.replace('\n', " ");
        st.error = last.error.replace('\n', " ");
        st.count = i64::try_from(last.applied).unwrap_or(i64::MAX);
        let file = st
            .available
            .iter()
            .rposition(|f| f.version() == last.version)
            .map(|i| st.available[i])
            .ok_or_else(|| PlanError::StatusFileNotFound {
                version: last.version.clone(),
            })?;
        st.total = i64::try_from(count_statements(file)?).unwrap_or(i64::MAX);
    }
    Ok(st)
}
