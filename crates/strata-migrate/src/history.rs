//! Refuses to run when files that were already applied changed or disappeared — even after a re-hash made
//! `atlas.sum` agree with them.
//!
//! Every executed revision stores the file's `atlas.sum` hash. Because sums are cumulative, a file's hash changes
//! when it or any earlier file changes, so the first applied file whose stored hash differs from today's sum is the
//! earliest edited one. Legitimate changes shift the hashes of every later file, so checking stops at them:
//! files older than the last checkpoint may be deleted (as may files behind rows that were never executed here),
//! a file may be added below the first revision (Atlas ignores it), and with `linear-skip` / `non-linear` a file
//! may be inserted before applied ones — also once `non-linear` has applied it: then a later file's stored hash
//! is what the directory without the inserted files sums to.

use std::collections::{HashMap, HashSet};

use thiserror::Error;

use crate::dir::MigrationFile;
use crate::revision::{Revision, RevisionType};
use crate::sum::SumFile;

/// Why the applied history no longer matches the directory. Each variant names the file (or the version whose
/// file is gone) so a caller can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The file of an executed revision is no longer in the directory (and is not older than the last
    /// checkpoint).
    #[error(
        "migration file for applied version \"{version}\" ({}) was removed from the directory; restore it, or run \
         'strata migrate set' to rewrite the revision history if the removal is deliberate",
        or_no_description(.description)
    )]
    Removed {
        /// The revision's version.
        version: String,
        /// The revision's description (may be empty).
        description: String,
    },
    /// An applied file's `atlas.sum` hash differs from the one stored when it was applied.
    #[error(
        "migration file {file} was changed after it was applied (its hash in atlas_schema_revisions differs from \
         atlas.sum); restore the applied content and put the change in a new migration ('strata migrate new')"
    )]
    Changed {
        /// The file's name, e.g. `20240116000001_init.sql`.
        file: String,
        /// The file's version.
        version: String,
    },
}

fn or_no_description(description: &str) -> &str {
    if description.is_empty() {
        "no description"
    } else {
        description
    }
}

/// Checks applied revisions against the directory.
///
/// Linear in the number of files and revisions (lookups go through hash maps built once), so a no-op run over
/// a long history stays cheap.
pub fn check(
    files: &[MigrationFile],
    revisions: &[Revision],
    sum: &SumFile,
) -> Result<(), HistoryError> {
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
            return Err(HistoryError::Removed {
                version: r.version.clone(),
                description: r.description.clone(),
            });
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
    // The smallest version of a row whose file is gone (allowed above when older than a checkpoint): every file
    // after it was hashed with the deleted file in front, so nothing from there on can be compared.
    let first_deleted = revisions
        .iter()
        .map(|r| r.version.as_str())
        .filter(|v| !file_versions.contains(v))
        .min();
    for (pos, (f, is_checkpoint)) in files.iter().zip(checkpoints).enumerate() {
        if is_checkpoint {
            continue;
        }
        if first_deleted.is_some_and(|d| d < f.version()) {
            break;
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
                if inserted_before(files, revisions, pos, r) {
                    break;
                }
                return Err(HistoryError::Changed {
                    file: f.name().to_owned(),
                    version: f.version().to_owned(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the stored hash of `files[pos]` is what the directory summed to before files now in front of it were
/// added: files applied after it (`non-linear`) certainly were; files never applied here, or applied in the same
/// clock tick (MySQL keeps seconds), may have been, so their combinations are tried (a few, not all: past
/// [`MAX_UNSURE`] such files only "all kept" and "all dropped" are).
fn inserted_before(
    files: &[MigrationFile],
    revisions: &[Revision],
    pos: usize,
    r: &Revision,
) -> bool {
    let t = r.executed_at_unix_nanos;
    let mut later = vec![false; pos];
    let mut unsure = Vec::new();
    for (i, f) in files[..pos].iter().enumerate() {
        match revisions.iter().find(|x| x.version == f.version()) {
            Some(x) if x.executed_at_unix_nanos < t => {}
            Some(x) if x.executed_at_unix_nanos > t => later[i] = true,
            _ => unsure.push(i),
        }
    }
    let masks: Vec<u32> = if unsure.len() <= MAX_UNSURE {
        (0..1u32 << unsure.len()).collect()
    } else {
        vec![0, u32::MAX]
    };
    let any_later = later.contains(&true);
    masks.into_iter().any(|mask| {
        if mask == 0 && !any_later {
            return false; // the directory as it is, already compared
        }
        let mut drop = later.clone();
        for (bit, &i) in unsure.iter().enumerate() {
            drop[i] = mask & (1 << bit.min(31)) != 0;
        }
        let kept: Vec<MigrationFile> = files[..pos]
            .iter()
            .zip(&drop)
            .filter(|(_, d)| !**d)
            .map(|(f, _)| f.clone())
            .chain(std::iter::once(files[pos].clone()))
            .collect();
        SumFile::compute(&kept).hash_of(files[pos].name()) == Some(r.hash.as_str())
    })
}

/// How many files of unknown order [`inserted_before`] combines exhaustively.
const MAX_UNSURE: usize = 6;
