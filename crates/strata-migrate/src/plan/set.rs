//! `migrate set [version]` (compat §12).

use super::partial::{check_resume, stored_partial_hash};
use super::text::Paint;
use super::{PlanError, RowStamp, new_row, visible};
use crate::dir::MigrationFile;
use crate::inflight::Marker;
use crate::revision::{Revision, RevisionType};
use crate::sum::SumFile;

/// What happened to one revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// Written: marked applied (type 4) or resolved (type 6).
    Set,
    /// Deleted.
    Removed,
}

/// One line of the `migrate set` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetChange {
    /// Set or removed.
    pub op: SetOp,
    /// The revision's version.
    pub version: String,
    /// The revision's description (omitted from the line when empty).
    pub description: String,
}

/// What `migrate set` does, in one transaction: delete [`SetPlan::delete`], then upsert [`SetPlan::upsert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPlan {
    /// The target version; empty when the directory is empty and no version was given (the table is emptied).
    pub target: String,
    /// Versions of the revisions to delete (every one above the target), in table order.
    pub delete: Vec<String>,
    /// Rows to upsert: the target revision turned into type 6 (applied + manually set) when it has an error or
    /// stopped part-way, then one type-4 row per file between the last remaining revision and the target.
    pub upsert: Vec<Revision>,
    /// Every change, in the order made.
    pub changes: Vec<SetChange>,
    /// The version of the last revision once the edit is done; `None` when the table ends empty.
    pub current: Option<String>,
}

impl SetPlan {
    /// Whether the table stays as it is.
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
    }

    /// `1 set, 2 removed`, as in the output header.
    pub fn summary(&self) -> String {
        summary(&self.changes)
    }

    /// The text Atlas prints, byte for byte; `color` adds Atlas's terminal colours. Empty when nothing changed.
    /// See [`render`].
    pub fn render(&self, color: bool) -> String {
        render(&self.changes, self.current.as_deref(), color)
    }
}

/// `1 set, 2 removed` for `changes`, as in the output header.
pub fn summary(changes: &[SetChange]) -> String {
    let set = changes.iter().filter(|c| c.op == SetOp::Set).count();
    let removed = changes.len() - set;
    let mut parts = Vec::new();
    if set > 0 {
        parts.push(format!("{set} set"));
    }
    if removed > 0 {
        parts.push(format!("{removed} removed"));
    }
    parts.join(", ")
}

/// The text Atlas prints for `changes` ending at `current`, byte for byte; `color` adds Atlas's terminal colours.
/// Empty when nothing changed.
///
/// ```text
/// Current version is 1 (1 set, 2 removed):
///
///   + 1 (baseline)
///   - 20220318104614 (initial)
///   - 20220318104615 (second)
///
/// ```
pub fn render(changes: &[SetChange], current: Option<&str>, color: bool) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let p = Paint::new(color);
    let mut out = match current {
        None => format!("All revisions deleted ({} in total):\n", changes.len()),
        Some(v) => format!("Current version is {} ({}):\n", p.cyan(v), summary(changes)),
    };
    out.push('\n');
    let mut lines: Vec<&SetChange> = changes.iter().collect();
    lines.sort_by(|a, b| a.version.as_bytes().cmp(b.version.as_bytes()));
    for c in lines {
        let sign = match c.op {
            SetOp::Set => p.green("+"),
            SetOp::Removed => p.red("-"),
        };
        out += &format!("  {sign} {}", c.version);
        if !c.description.is_empty() {
            out += &format!(" ({})", c.description);
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Plans `migrate set` as Atlas does.
///
/// `args` are the command's positional arguments. No argument with existing revisions targets the last file
/// (an empty directory empties the table); no argument on an empty table is `accepts 1 arg(s), received 0`;
/// a version no file has is `migration with version "<v>" not found`. Revisions above the target are deleted;
/// the target revision becomes type 6 when it has an error or `applied != total`; when the target is beyond
/// the last remaining revision, every file up to it gets a type-4 row `{hash from sum, applied = total = 0}`.
///
/// `sum` must be the directory's checksum computed from its files (`SumFile::compute`), as Atlas computes it.
pub fn set(
    files: &[MigrationFile],
    revisions: &[Revision],
    sum: &SumFile,
    args: &[&str],
    stamp: &RowStamp,
) -> Result<SetPlan, PlanError> {
    let revs = visible(revisions);
    let target = match args {
        [] if !revs.is_empty() => files
            .last()
            .map(|f| f.version().to_owned())
            .unwrap_or_default(),
        [v] => {
            if !files.iter().any(|f| f.version() == *v) {
                return Err(PlanError::SetVersionNotFound {
                    version: (*v).to_owned(),
                });
            }
            (*v).to_owned()
        }
        more => {
            return Err(PlanError::SetArgs {
                received: more.len(),
            });
        }
    };
    let mut plan = SetPlan {
        target,
        delete: Vec::new(),
        upsert: Vec::new(),
        changes: Vec::new(),
        current: None,
    };
    // What the table holds after each step, in table order.
    let mut kept: Vec<Revision> = Vec::new();
    for &r in &revs {
        if r.version.as_str() > plan.target.as_str() {
            plan.changes.push(SetChange {
                op: SetOp::Removed,
                version: r.version.clone(),
                description: r.description.clone(),
            });
            plan.delete.push(r.version.clone());
        } else if r.version == plan.target && (!r.error.is_empty() || r.total != r.applied) {
            let mut fixed = r.clone();
            fixed.kind = RevisionType::EXECUTED.with(RevisionType::RESOLVED);
            plan.changes.push(SetChange {
                op: SetOp::Set,
                version: fixed.version.clone(),
                description: fixed.description.clone(),
            });
            plan.upsert.push(fixed.clone());
            kept.push(fixed);
        } else {
            kept.push(r.clone());
        }
    }
    let mut mark: Vec<&MigrationFile> = Vec::new();
    match kept.last() {
        None => {
            for f in files {
                if f.version() > plan.target.as_str() {
                    break;
                }
                mark.push(f);
            }
        }
        Some(last) if plan.target.as_str() > last.version.as_str() => {
            for f in files {
                if f.version() <= last.version.as_str() {
                    continue;
                }
                if f.version() > plan.target.as_str() {
                    break;
                }
                mark.push(f);
            }
        }
        Some(_) => {}
    }
    for f in mark {
        let hash = sum
            .hash_of(f.name())
            .ok_or_else(|| PlanError::ChecksumNotFound {
                file: f.name().to_owned(),
            })?;
        let row = new_row(f, RevisionType::RESOLVED, hash, stamp);
        plan.changes.push(SetChange {
            op: SetOp::Set,
            version: row.version.clone(),
            description: row.description.clone(),
        });
        plan.upsert.push(row.clone());
        kept.push(row);
    }
    plan.current = kept
        .iter()
        .map(|r| r.version.as_str())
        .max_by(|a, b| a.as_bytes().cmp(b.as_bytes()))
        .map(str::to_owned);
    Ok(plan)
}

/// What became of a statement an interrupted apply left in flight, as a person who checked the database says
/// (`migrate set VERSION --in-flight applied|pending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InFlightOutcome {
    /// It took effect: count it as applied, so apply continues after it.
    Applied,
    /// It did not take effect (or its effect was reverted): apply runs it.
    Pending,
}

/// Plans `migrate set VERSION --in-flight <outcome>`: settles the statement the revision `version` names as in
/// flight, touching nothing else. The row becomes type 6 (applied + manually set, as Atlas marks rows a person
/// resolved), loses its marker, and with [`InFlightOutcome::Applied`] counts the statement as applied — its
/// partial hash appended, or, when it was the file's last, the row complete with `hash` (today's `atlas.sum`
/// entry, as apply writes on completion).
///
/// `file` is the revision's migration file; `statements` its statement texts and `sums` their running hashes
/// ([`statement_sums`](super::statement_sums)). The statements already applied must be unchanged, and the one in
/// flight must be the recorded text.
pub fn set_in_flight(
    file: &MigrationFile,
    statements: &[&str],
    sums: &[String],
    hash: &str,
    revisions: &[Revision],
    outcome: InFlightOutcome,
) -> Result<SetPlan, PlanError> {
    let revs = visible(revisions);
    let version = file.version();
    let no = |detail: String| PlanError::NoInFlight {
        version: version.to_owned(),
        detail,
    };
    let row = revs
        .iter()
        .find(|r| r.version == version)
        .ok_or_else(|| no("it has no revision".into()))?;
    let marker = Marker::parse(&row.error).ok_or_else(|| {
        no(format!(
            "{} of {} statements applied, {}",
            row.applied,
            row.total,
            if row.error.is_empty() {
                "no error".to_owned()
            } else {
                format!("error {}", super::go_quote(&row.error))
            }
        ))
    })?;
    if marker.statement != row.applied + 1 {
        return Err(no(format!(
            "its marker names statement {} but {} statements are applied; the row was edited",
            marker.statement, row.applied
        )));
    }
    check_resume(file.name(), sums, row)?;
    let idx = usize::try_from(row.applied).unwrap_or(usize::MAX);
    if statements.get(idx).copied() != Some(row.error_stmt.as_str()) {
        return Err(PlanError::InFlightChanged {
            file: file.name().to_owned(),
            statement: marker.statement,
            recorded: row.error_stmt.clone(),
        });
    }
    let mut fixed = (*row).clone();
    fixed.kind = fixed.kind.with(RevisionType::RESOLVED);
    fixed.error.clear();
    fixed.error_stmt.clear();
    if outcome == InFlightOutcome::Applied {
        fixed.applied += 1;
        if idx + 1 == statements.len() {
            fixed.total = fixed.applied;
            fixed.partial_hashes = None;
            fixed.hash = hash.to_owned();
        } else {
            fixed
                .partial_hashes
                .get_or_insert_with(Vec::new)
                .push(stored_partial_hash(&sums[idx]));
        }
    }
    Ok(SetPlan {
        target: version.to_owned(),
        delete: Vec::new(),
        upsert: vec![fixed],
        changes: vec![SetChange {
            op: SetOp::Set,
            version: version.to_owned(),
            description: row.description.clone(),
        }],
        current: revs
            .iter()
            .map(|r| r.version.as_str())
            .max_by(|a, b| a.as_bytes().cmp(b.as_bytes()))
            .map(str::to_owned),
    })
}
