//! The pending files of `migrate apply` (compat §7).

use std::cmp::Ordering;
use std::num::NonZeroUsize;

use super::{ExecOrder, PlanError, RowStamp, new_row, visible};
use crate::dir::MigrationFile;
use crate::error::DirError;
use crate::revision::{Revision, RevisionType};

/// Atlas's sentinel error text when nothing is pending. Strata does not fail with it: an empty [`Plan`] is a
/// normal outcome, and this text is for callers that report it as Atlas's library does.
pub const NO_PENDING_MIGRATION_FILES: &str = "sql/migrate: no pending migration files";

/// What `migrate apply` prints (and puts in its JSON `Message`) when nothing is pending.
pub const NO_MIGRATION_FILES_TO_EXECUTE: &str = "No migration files to execute";

/// The inputs to the pending computation besides the files and the revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingOptions {
    /// `--baseline V`: on the first run, record `V` as applied (a baseline row) and start after it. An empty
    /// string means no baseline, as in Atlas.
    pub baseline: Option<String>,
    /// `--allow-dirty`: on the first run, start even though the database holds other objects.
    pub allow_dirty: bool,
    /// `--exec-order`.
    pub exec_order: ExecOrder,
    /// The clean check's finding, which the driver computes only when the revisions table is empty (or
    /// missing): `None` when the database holds nothing but the revisions table, else the reason, e.g.
    /// `found table "t" in connected schema`. Ignored when revisions exist.
    pub dirty_reason: Option<String>,
}

impl PendingOptions {
    fn baseline(&self) -> Option<&str> {
        self.baseline.as_deref().filter(|b| !b.is_empty())
    }
}

/// A partially applied revision whose file is pending: execution of that file resumes at statement
/// `revision.applied`, after [`check_resume`](super::check_resume).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume<'a> {
    /// The partial revision (the last one in the table).
    pub revision: &'a Revision,
    /// Position of its file in [`Plan::pending`].
    pub index: usize,
}

/// What `migrate apply` will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    /// The files to execute, in order. Empty means "no pending migration files" (not a failure: Atlas prints
    /// [`NO_MIGRATION_FILES_TO_EXECUTE`] and exits 0).
    pub pending: Vec<&'a MigrationFile>,
    /// First run with `--baseline`: the file to record as a baseline row before anything runs (see
    /// [`Plan::baseline_revision`]). Set even when nothing is pending after it, as Atlas writes the row then too.
    pub baseline: Option<&'a MigrationFile>,
    /// The last revision is partially applied and its file is pending: resume it.
    pub resume: Option<Resume<'a>>,
    /// With `non-linear`: the files added out of order, which lead [`Plan::pending`].
    pub out_of_order: Vec<&'a MigrationFile>,
    files: &'a [MigrationFile],
    revisions: Vec<&'a Revision>,
}

/// How much of the pending list to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Limit {
    /// Every pending file.
    #[default]
    All,
    /// `migrate apply [amount]`: the first `n` pending files (all of them when fewer are pending).
    Amount(NonZeroUsize),
    /// `--to-version V`: pending files up to and including the last one with version `V`.
    ToVersion(String),
}

impl<'a> Plan<'a> {
    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The revisions read from the table (without the cloud-identifier row), in table order.
    pub fn revisions(&self) -> &[&'a Revision] {
        &self.revisions
    }

    /// The version the database is at before the run, as `migrate apply` reports it (`from …`): the last
    /// revision's version, or the baseline's on a first run with `--baseline`; `None` on a first run.
    pub fn current_version(&self) -> Option<&'a str> {
        match (self.baseline, self.revisions.last()) {
            (Some(b), _) => Some(b.version()),
            (None, Some(r)) => Some(r.version.as_str()),
            (None, None) => None,
        }
    }

    /// The version the run ends at (`Migrating to version …`): the last pending file's.
    pub fn target_version(&self) -> Option<&'a str> {
        self.pending.last().map(|f| f.version())
    }

    /// The baseline row to write before executing anything, `{version, description, type 1}` with the other
    /// columns empty, as Atlas writes it.
    pub fn baseline_revision(&self, stamp: &RowStamp) -> Option<Revision> {
        self.baseline
            .map(|f| new_row(f, RevisionType::BASELINE, "", stamp))
    }

    /// Keeps the part of the pending list that `limit` asks for.
    ///
    /// `Amount(n)` keeps the first `n` files. `ToVersion(v)` keeps the files up to and including the last
    /// pending one with version `v`; it fails when no file in the directory has that version, when the
    /// database already ran it, or when it is otherwise not pending. With nothing pending at all, a known
    /// `v` is not an error: the plan stays empty.
    pub fn limit(mut self, limit: &Limit) -> Result<Self, PlanError> {
        let keep = match limit {
            Limit::All => return Ok(self),
            Limit::Amount(n) => n.get().min(self.pending.len()),
            Limit::ToVersion(v) => self.to_version_len(v)?,
        };
        self.pending.truncate(keep);
        self.out_of_order.truncate(keep);
        if self.resume.is_some_and(|r| r.index >= keep) {
            self.resume = None;
        }
        Ok(self)
    }

    fn to_version_len(&self, version: &str) -> Result<usize, PlanError> {
        if !self.files.iter().any(|f| f.version() == version) {
            return Err(PlanError::ToVersionNotFound {
                version: version.to_owned(),
            });
        }
        if let Some(i) = self.pending.iter().rposition(|f| f.version() == version) {
            return Ok(i + 1);
        }
        if self.pending.is_empty() {
            return Ok(0);
        }
        if self.revisions.iter().any(|r| r.version == version) {
            return Err(PlanError::ToVersionApplied {
                version: version.to_owned(),
                current: self.current_version().unwrap_or_default().to_owned(),
            });
        }
        Err(PlanError::ToVersionNotPending {
            version: version.to_owned(),
            pending: self
                .pending
                .iter()
                .map(|f| f.version().to_owned())
                .collect(),
        })
    }
}

/// Parses the `[amount]` argument of `migrate apply` as Atlas does (Go's `strconv.Atoi`, then `>= 1`).
pub fn parse_amount(arg: &str) -> Result<NonZeroUsize, PlanError> {
    let invalid = |reason| PlanError::InvalidAmount {
        arg: arg.to_owned(),
        reason,
    };
    let (negative, digits) = match arg.as_bytes().first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("invalid syntax"));
    }
    let magnitude: i128 = digits.parse().unwrap_or(i128::MAX);
    let value = if negative { -magnitude } else { magnitude };
    let amount = i64::try_from(value).map_err(|_| invalid("value out of range"))?;
    usize::try_from(amount)
        .ok()
        .and_then(NonZeroUsize::new)
        .ok_or(PlanError::AmountTooSmall { amount })
}

/// Computes what `migrate apply` runs, exactly as Atlas's executor does (compat §7).
///
/// 1. `--baseline` with `--allow-dirty` is an error.
/// 2. No revisions (first run): a dirty database needs one of the flags; with `--baseline V` the last
///    non-checkpoint file with version `V` becomes the baseline and the files after it are pending; otherwise
///    every file from the last checkpoint (inclusive) is pending.
/// 3. The last revision is partially applied and belongs to a checkpoint: that checkpoint and every later
///    non-checkpoint file.
/// 4. Otherwise the non-checkpoint files after the last one at or below the last revision's version (from the
///    partial file itself when the last revision is partial), after the out-of-order check.
///
/// Nothing pending is an empty plan, not an error.
pub fn pending<'a>(
    files: &'a [MigrationFile],
    revisions: &'a [Revision],
    opts: &PendingOptions,
) -> Result<Plan<'a>, PlanError> {
    match compute(files, revisions, opts) {
        Ok(plan) => Ok(plan),
        Err(Failure::Plan(e)) => Err(e),
        Err(Failure::OutOfOrder {
            out_of_order,
            pending,
        }) => Err(PlanError::OutOfOrder {
            out_of_order: out_of_order.iter().map(|f| f.name().to_owned()).collect(),
            pending: pending.iter().map(|f| f.name().to_owned()).collect(),
        }),
    }
}

/// A failure of the pending computation that `status` reports instead of failing with.
pub(super) enum Failure<'a> {
    Plan(PlanError),
    OutOfOrder {
        out_of_order: Vec<&'a MigrationFile>,
        pending: Vec<&'a MigrationFile>,
    },
}

impl From<PlanError> for Failure<'_> {
    fn from(e: PlanError) -> Self {
        Self::Plan(e)
    }
}

impl From<DirError> for Failure<'_> {
    fn from(e: DirError) -> Self {
        Self::Plan(e.into())
    }
}

/// A file and whether it is a checkpoint.
#[derive(Clone, Copy)]
struct Entry<'a> {
    file: &'a MigrationFile,
    checkpoint: bool,
}

pub(super) fn compute<'a>(
    files: &'a [MigrationFile],
    revisions: &'a [Revision],
    opts: &PendingOptions,
) -> Result<Plan<'a>, Failure<'a>> {
    let baseline = opts.baseline();
    if baseline.is_some() && opts.allow_dirty {
        return Err(PlanError::BaselineAndAllowDirty.into());
    }
    let all = files
        .iter()
        .map(|file| {
            Ok(Entry {
                file,
                checkpoint: file.is_checkpoint()?,
            })
        })
        .collect::<Result<Vec<_>, DirError>>()?;
    let migrations: Vec<&MigrationFile> = all
        .iter()
        .filter(|e| !e.checkpoint)
        .map(|e| e.file)
        .collect();
    let revs = visible(revisions);
    let mut plan = Plan {
        pending: Vec::new(),
        baseline: None,
        resume: None,
        out_of_order: Vec::new(),
        files,
        revisions: revs.clone(),
    };

    let Some(&last) = revs.last() else {
        // First run.
        if let Some(reason) = &opts.dirty_reason
            && !opts.allow_dirty
            && baseline.is_none()
        {
            return Err(PlanError::NotClean {
                reason: reason.clone(),
            }
            .into());
        }
        if let Some(version) = baseline {
            let idx = migrations
                .iter()
                .rposition(|f| f.version() == version)
                .ok_or_else(|| PlanError::BaselineNotFound {
                    version: version.to_owned(),
                })?;
            plan.baseline = Some(migrations[idx]);
            plan.pending = migrations[idx + 1..].to_vec();
        } else {
            let start = all.iter().rposition(|e| e.checkpoint).unwrap_or(0);
            plan.pending = all[start..].iter().map(|e| e.file).collect();
        }
        return Ok(plan);
    };

    let partial = last.applied != last.total;
    if partial && !all.is_empty() {
        // A checkpoint can only be the first file a database runs, so a partial checkpoint is followed by
        // every later regular file. Atlas finds it by binary search over directory order; so do we, probe
        // for probe, so unusual version orders behave the same.
        let (i, found) = go_binary_search(all.len(), |h| all[h].file.version().cmp(&last.version));
        if found && all[i].checkpoint {
            plan.pending = std::iter::once(all[i].file)
                .chain(all[i..].iter().filter(|e| !e.checkpoint).map(|e| e.file))
                .collect();
            plan.resume = Some(Resume {
                revision: last,
                index: 0,
            });
            return Ok(plan);
        }
    }
    if migrations.is_empty() {
        return Ok(plan);
    }
    let found = if partial {
        migrations.iter().rposition(|f| f.version() == last.version)
    } else {
        migrations
            .iter()
            .rposition(|f| f.version() <= last.version.as_str())
    };
    let idx = match found {
        Some(i) if partial => i,
        Some(i) => i + 1,
        None if partial => {
            return Err(PlanError::MissingMigration {
                version: last.version.clone(),
                description: last.description.clone(),
            }
            .into());
        }
        None => {
            // Every file is above the last revision.
            plan.pending = migrations;
            return Ok(plan);
        }
    };
    plan.pending = migrations[idx..].to_vec();
    if partial {
        plan.resume = Some(Resume {
            revision: last,
            index: 0,
        });
    }
    if opts.exec_order == ExecOrder::LinearSkip {
        return Ok(plan);
    }
    // Files between the first revision and the resume point that never ran were added out of order.
    let first = revs[0].version.as_str();
    let Some(from) = migrations[..idx].iter().position(|f| f.version() >= first) else {
        return Ok(plan);
    };
    let skipped: Vec<&MigrationFile> = migrations[from..idx]
        .iter()
        .copied()
        .filter(|f| !go_binary_search(revs.len(), |h| revs[h].version.as_str().cmp(f.version())).1)
        .collect();
    if skipped.is_empty() {
        return Ok(plan);
    }
    match opts.exec_order {
        ExecOrder::NonLinear => {
            if let Some(r) = &mut plan.resume {
                r.index = skipped.len();
            }
            plan.pending.splice(0..0, skipped.iter().copied());
            plan.out_of_order = skipped;
            Ok(plan)
        }
        _ => Err(Failure::OutOfOrder {
            out_of_order: skipped,
            pending: plan.pending,
        }),
    }
}

/// Go's `slices.BinarySearchFunc` over `n` elements, with its exact probe sequence: the smallest index whose
/// element does not compare `Less` to the target, and whether that element compares `Equal`. `cmp(h)`
/// compares element `h` with the target.
fn go_binary_search(n: usize, cmp: impl Fn(usize) -> Ordering) -> (usize, bool) {
    let (mut i, mut j) = (0, n);
    while i < j {
        let h = i + (j - i) / 2;
        if cmp(h) == Ordering::Less {
            i = h + 1;
        } else {
            j = h;
        }
    }
    (i, i < n && cmp(i) == Ordering::Equal)
}
