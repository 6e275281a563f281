//! Statement hashes of a file (`partial_hashes`) and the check before resuming a partially applied file.
//!
//! One SHA-256 state runs over the statement texts of a file and is never reset; after statement `i` its
//! digest, base64-encoded, is `sums[i]`. While a file is partially applied its revision stores `"h1:" +
//! sums[i]` for every applied statement, and the next attempt resumes only if those still match.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use super::PlanError;
use crate::revision::Revision;

/// Prefix of every stored partial hash.
pub const PARTIAL_HASH_PREFIX: &str = "h1:";

/// The running hashes of a file's statements: entry `i` covers statements `0..=i`. Base64, without `h1:`.
///
/// Feed the statement texts exactly as the scanner returned them.
pub fn statement_sums<'s>(statements: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let mut h = Sha256::new();
    statements
        .into_iter()
        .map(|stmt| {
            h.update(stmt.as_bytes());
            B64.encode(h.clone().finalize())
        })
        .collect()
}

/// The stored form of one sum: `"h1:" + sum`, as appended to `partial_hashes` after a statement succeeds.
pub fn stored_partial_hash(sum: &str) -> String {
    format!("{PARTIAL_HASH_PREFIX}{sum}")
}

/// Checks that the statements a partial revision already applied are unchanged, and returns how many
/// statements to skip (the revision's `applied`).
///
/// For each `i < applied`, `partial_hashes[i]` (without its `h1:`) must equal `sums[i]`, else
/// `sql/migrate: history changed: statement <i+1> from file "<file>" changed`. Unlike Atlas, a file that now
/// has fewer statements than were applied, or a revision with fewer stored hashes than `applied`, is reported
/// the same way instead of crashing.
pub fn check_resume(file: &str, sums: &[String], revision: &Revision) -> Result<usize, PlanError> {
    let applied = usize::try_from(revision.applied).unwrap_or(usize::MAX);
    let stored = revision.partial_hashes.as_deref().unwrap_or_default();
    for i in 0..applied {
        let matches = match (sums.get(i), stored.get(i)) {
            (Some(now), Some(then)) => {
                then.strip_prefix(PARTIAL_HASH_PREFIX).unwrap_or(then) == now
            }
            _ => false,
        };
        if !matches {
            return Err(PlanError::HistoryChanged {
                file: file.to_owned(),
                statement: i + 1,
            });
        }
    }
    Ok(applied)
}
