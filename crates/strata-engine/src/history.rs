//! Refuses to run when files that were already applied changed or disappeared — even after a re-hash made
//! `atlas.sum` agree with them.
//!
//! Every executed revision stores the file's `atlas.sum` hash. Because sums are cumulative, a file's hash changes
//! when it or any earlier file changes, so the first applied file whose stored hash differs from today's sum is the
//! earliest edited one. Two legitimate changes are allowed: files older than the last checkpoint may be deleted,
//! and with `linear-skip` / `non-linear` a file may be inserted before applied ones (which shifts the hashes of
//! everything after it, so checking stops there).

use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationFile, Revision, RevisionType};

use crate::EngineError;

/// Checks applied revisions against the directory.
pub fn check(
    files: &[MigrationFile],
    revisions: &[Revision],
    sum: &SumFile,
) -> Result<(), EngineError> {
    let checkpoint = files
        .iter()
        .rev()
        .find(|f| f.is_checkpoint().unwrap_or(false))
        .map(|f| f.version());
    let first_revision = revisions.iter().map(|r| r.version.as_str()).min();
    let last_revision = revisions.iter().map(|r| r.version.as_str()).max();
    for r in revisions
        .iter()
        .filter(|r| r.kind.has(RevisionType::EXECUTED))
    {
        let present = files.iter().any(|f| f.version() == r.version);
        let before_checkpoint = checkpoint.is_some_and(|c| r.version.as_str() < c);
        if !present && !before_checkpoint {
            return Err(EngineError::History(format!(
                "migration file for applied version \"{}\" ({}) was removed from the directory; restore it, or run \
                 'strata migrate set' to rewrite the revision history if the removal is deliberate",
                r.version,
                if r.description.is_empty() {
                    "no description".to_owned()
                } else {
                    r.description.clone()
                }
            )));
        }
    }
    for f in files {
        if f.is_checkpoint().unwrap_or(false) {
            continue;
        }
        let rev = revisions.iter().find(|r| r.version == f.version());
        match rev {
            // Older than any revision (before a baseline): never applied here, nothing to compare.
            None if first_revision.is_some_and(|first| f.version() < first) => {}
            // Inserted among applied files: every later hash shifted, so stop comparing.
            None if last_revision.is_some_and(|last| f.version() < last) => break,
            Some(r)
                if r.kind.has(RevisionType::EXECUTED)
                    && !r.is_partial()
                    && !r.hash.is_empty()
                    && sum.hash_of(f.name()).is_some_and(|h| h != r.hash) =>
            {
                return Err(EngineError::History(format!(
                    "migration file {} was changed after it was applied (its hash in atlas_schema_revisions \
                     differs from atlas.sum); restore the applied content and put the change in a new migration \
                     ('strata migrate new')",
                    f.name()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}
