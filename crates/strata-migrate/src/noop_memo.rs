//! A no-op memo: what a `migrate apply` that found nothing to do leaves in the user's cache, so that the next run
//! over the same directory and the same revisions table can say so without reading the table or planning again.
//!
//! What `apply` decides is a function of the directory's files, the revisions table's rows and the plan's options.
//! A memo holds a [`key`] over all three and the version the database was at. The rows enter the key through the
//! table's *fingerprint*, which the driver reads from the server in one small answer; equal fingerprints mean equal
//! rows (on PostgreSQL: the server's start, the columns read, and the creating transaction and place of every
//! visible row; see the driver). The files enter through the validated `atlas.sum`, whose entries cover every
//! file's name and, except for `atlas:sum ignore` files, its bytes; those are hashed here. So a memo is used
//! only when everything `apply` would look at is as it was when the memo was written, and the next run's answer
//! is the one planning would give.
//!
//! A memo also keeps the SHA-256 of the `atlas.sum` bytes it was made with ([`sum_digest`]): a caller that can read
//! `atlas.sum` before the directory is loaded and validated learns early that the memo cannot match (the directory
//! changed), and reads the table right away instead of asking for its fingerprint first. It also keeps the stamp
//! `atlas.sum` had when the memo was kept ([`NoopMemo::sum_stamp`]): a file with that stamp now is taken to be
//! unchanged without reading and hashing it. Both are hints: whichever way they point, the key decides.
//!
//! The format (all integers little-endian): the line `strata-noop-memo 3\n`, the body's SHA-256 (32 bytes), then
//! the body: the key (32 bytes), the `atlas.sum` digest (32 bytes), one byte saying whether `atlas.sum`'s stamp
//! follows (1) or not (0) and then that stamp (80 bytes, as a directory snapshot writes it), and the current
//! version's length (u64) and UTF-8 bytes. Anything else (a damaged,
//! truncated or older memo) is ignored, which only costs a read.

use sha2::{Digest as _, Sha256};

use crate::dir::MigrationDir;
use crate::snapshot::{Stamp, seal, unseal};
use crate::sum::SumFile;

const MAGIC: &[u8] = b"strata-noop-memo 3\n";

/// A decoded memo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoopMemo {
    /// The [`key`] of the run that found nothing to do.
    pub key: [u8; 32],
    /// [`sum_digest`] of the directory's `atlas.sum` then.
    pub sum_digest: [u8; 32],
    /// The stamp of the directory's `atlas.sum` when the memo was kept, when known.
    pub sum_stamp: Option<Stamp>,
    /// The version the database was at (the last revision's), as that run reported it.
    pub current: String,
}

/// What a run's verdict depends on: the revisions table's `fingerprint`, the directory (`sum` must be `dir`'s
/// validated `atlas.sum`) and `options`, the plan's options as the caller spells them. Also this crate's version,
/// which decides how they are planned.
pub fn key(fingerprint: &str, dir: &MigrationDir, sum: &SumFile, options: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"strata-noop-key 1");
    part(env!("CARGO_PKG_VERSION").as_bytes());
    part(fingerprint.as_bytes());
    part(options.as_bytes());
    // The validated atlas.sum: its entries are what the files hash to (its bytes may only differ in ways that
    // change no entry, which costs a memo, not a wrong answer).
    part(dir.sum_bytes().unwrap_or_default());
    // Files the sum leaves out (`atlas:sum ignore`): the sum has their names but not their bytes.
    // The sum's entries follow the files' order, so the files without one are found in one pass.
    if sum.entries().len() != dir.files().len() {
        let mut entries = sum.entries().iter().peekable();
        for f in dir.files() {
            if entries.peek().is_some_and(|e| e.name == f.name()) {
                entries.next();
            } else {
                part(f.name().as_bytes());
                part(f.bytes());
            }
        }
    }
    h.finalize().into()
}

/// The SHA-256 of an `atlas.sum`'s bytes (of nothing when there is none).
pub fn sum_digest(sum_bytes: Option<&[u8]>) -> [u8; 32] {
    Sha256::digest(sum_bytes.unwrap_or_default()).into()
}

/// Encodes a memo's bytes.
pub fn encode(memo: &NoopMemo) -> Vec<u8> {
    let mut body = Vec::with_capacity(64 + 81 + 8 + memo.current.len());
    body.extend_from_slice(&memo.key);
    body.extend_from_slice(&memo.sum_digest);
    Stamp::put_optional(&mut body, memo.sum_stamp.as_ref());
    body.extend_from_slice(&(memo.current.len() as u64).to_le_bytes());
    body.extend_from_slice(memo.current.as_bytes());
    seal(MAGIC, &body)
}

/// Decodes a memo's bytes; `None` for anything that is not a whole, intact memo.
pub fn decode(bytes: &[u8]) -> Option<NoopMemo> {
    let body = unseal(MAGIC, bytes)?;
    let (key, rest) = body.split_first_chunk::<32>()?;
    let (sum_digest, rest) = rest.split_first_chunk::<32>()?;
    let (sum_stamp, rest) = Stamp::take_optional(rest)?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    if usize::try_from(u64::from_le_bytes(*len)).ok()? != rest.len() {
        return None;
    }
    Some(NoopMemo {
        key: *key,
        sum_digest: *sum_digest,
        sum_stamp,
        current: std::str::from_utf8(rest).ok()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MigrationFile;

    fn dir(files: &[(&str, &str)]) -> (MigrationDir, SumFile) {
        let files: Vec<MigrationFile> = files
            .iter()
            .map(|(n, c)| MigrationFile::new(*n, c.as_bytes().to_vec()))
            .collect();
        let sum = SumFile::compute(&files);
        let dir = MigrationDir::from_parts("mem://m", files, Some(sum.to_bytes())).unwrap();
        (dir, sum)
    }

    #[test]
    fn a_memo_reads_back_and_any_damage_is_refused() {
        let stamp = Stamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: 4,
            ctime_ns: 5,
        };
        let without = NoopMemo {
            key: [7; 32],
            sum_digest: [9; 32],
            sum_stamp: None,
            current: "20240101000000".into(),
        };
        assert_eq!(decode(&encode(&without)), Some(without.clone()));
        let memo = NoopMemo {
            sum_stamp: Some(stamp),
            ..without
        };
        let bytes = encode(&memo);
        assert_eq!(decode(&bytes), Some(memo));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x04;
            assert!(decode(&bad).is_none(), "flipped at {at}");
        }
        let mut longer = bytes.clone();
        longer.push(b'x');
        assert!(decode(&longer).is_none());
    }

    #[test]
    fn the_key_changes_with_anything_a_plan_reads() {
        let files = [("1_a.sql", "SELECT 1;\n"), ("2_b.sql", "SELECT 2;\n")];
        let (d, s) = dir(&files);
        let base = key("fp", &d, &s, "opts");
        assert_eq!(base, key("fp", &d, &s, "opts"), "deterministic");
        assert_ne!(base, key("fp2", &d, &s, "opts"), "another table state");
        assert_ne!(base, key("fp", &d, &s, "opts2"), "other options");
        let (edited, edited_sum) = dir(&[files[0], ("2_b.sql", "SELECT 3;\n")]);
        assert_ne!(
            base,
            key("fp", &edited, &edited_sum, "opts"),
            "a file's bytes"
        );
        let (renamed, renamed_sum) = dir(&[files[0], ("3_b.sql", "SELECT 2;\n")]);
        assert_ne!(
            base,
            key("fp", &renamed, &renamed_sum, "opts"),
            "a file's name"
        );
        let (more, more_sum) = dir(&[files[0], files[1], ("3_c.sql", "SELECT 3;\n")]);
        assert_ne!(base, key("fp", &more, &more_sum, "opts"), "a new file");
        // A file the sum ignores: its bytes are not in the sum, yet they change the key.
        let ignored = |body: &str| format!("-- atlas:sum ignore\n{body}");
        let (a, a_sum) = dir(&[files[0], ("2_b.sql", &ignored("SELECT 2;\n"))]);
        let (b, b_sum) = dir(&[files[0], ("2_b.sql", &ignored("SELECT 9;\n"))]);
        assert_eq!(a_sum.entries().len(), 1, "the sum leaves the file out");
        assert_eq!(a_sum.dir_sum(), b_sum.dir_sum());
        assert_ne!(key("fp", &a, &a_sum, "o"), key("fp", &b, &b_sum, "o"));
    }
}
