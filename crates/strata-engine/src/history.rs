//! Refuses to run when files that were already applied changed or disappeared — even after a re-hash made
//! `atlas.sum` agree with them.
//!
//! Every executed revision stores the file's `atlas.sum` hash. Because sums are cumulative, a file's hash changes
//! when it or any earlier file changes, so the first applied file whose stored hash differs from today's sum is the
//! earliest edited one. Two legitimate changes are allowed: files older than the last checkpoint may be deleted,
//! and with `linear-skip` / `non-linear` a file may be inserted before applied ones (which shifts the hashes of
//! everything after it, so checking stops there).

use std::collections::{HashMap, HashSet};

use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationFile, Revision, RevisionType};

use crate::EngineError;

/// Checks applied revisions against the directory.
///
/// Linear in the number of files and revisions (lookups go through hash maps built once), so a no-op run over
/// a long history stays cheap.
pub fn check(
    files: &[MigrationFile],
    revisions: &[Revision],
    sum: &SumFile,
) -> Result<(), EngineError> {
    // Directives are parsed once per file.
    let checkpoints: Vec<bool> = files
        .iter()
        .map(|f| f.is_checkpoint().unwrap_or(false))
        .collect();
    let checkpoint = files
        .iter()
        .zip(&checkpoints)
        .rev()
        .find(|(_, c)| **c)
        .map(|(f, _)| f.version());
    let first_revision = revisions.iter().map(|r| r.version.as_str()).min();
    let last_revision = revisions.iter().map(|r| r.version.as_str()).max();
    let file_versions: HashSet<&str> = files.iter().map(|f| f.version()).collect();
    for r in revisions
        .iter()
        .filter(|r| r.kind.has(RevisionType::EXECUTED))
    {
        let present = file_versions.contains(r.version.as_str());
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
    // The first revision of each version, as a scan in table order would find it.
    let mut by_version: HashMap<&str, &Revision> = HashMap::with_capacity(revisions.len());
    for r in revisions {
        by_version.entry(r.version.as_str()).or_insert(r);
    }
    let hashes: HashMap<&str, &str> = sum
        .entries()
        .iter()
        .rev()
        .map(|e| (e.name.as_str(), e.hash.as_str()))
        .collect();
    for (f, is_checkpoint) in files.iter().zip(checkpoints) {
        if is_checkpoint {
            continue;
        }
        let rev = by_version.get(f.version()).copied();
        match rev {
            // Older than any revision (before a baseline): never applied here, nothing to compare.
            None if first_revision.is_some_and(|first| f.version() < first) => {}
            // Inserted among applied files: every later hash shifted, so stop comparing.
            None if last_revision.is_some_and(|last| f.version() < last) => break,
            Some(r)
                if r.kind.has(RevisionType::EXECUTED)
                    && !r.is_partial()
                    && !r.hash.is_empty()
                    && hashes.get(f.name()).is_some_and(|h| *h != r.hash) =>
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
