//! A directory snapshot: the bytes of a migration directory's files as last read, each with the file's stamp (device,
//! inode, size, modification and change times) at that read, kept in the user's cache so that a re-run of
//! `migrate apply` over a large directory checks each file with one `stat` instead of opening and reading it.
//!
//! A file is taken from the snapshot only when its stamp now is exactly the recorded one. Any write to a file
//! moves its change time (which no user call can set back), a replaced file has another inode, so a changed file
//! never matches — except within the file system's timestamp granularity: a write in the same clock tick as the
//! read that recorded the stamp would leave it unchanged. As git's index does for "racily clean" entries, a file
//! whose modification or change time is not older than [`RACY_WINDOW`] when the snapshot is written is left out
//! of it, and read again next time. What comes out of a snapshot is then checked like everything read from disk
//! (`atlas.sum` is validated over it), and a snapshot that is unreadable, truncated or fails its checksum is
//! ignored: it can only cost a read.
//!
//! A snapshot can also spare the listing. A directory's modification and change times move whenever an entry is
//! created, removed or renamed in it, and a replaced directory is another inode: when every entry the listing
//! found was a regular file and is recorded, the snapshot keeps the directory's own stamp ([`Snapshot::listing`]),
//! and a later open whose directory still has exactly that stamp takes the names from the snapshot instead of
//! reading the directory (each file is still checked by its stamp). Symbolic links are never covered: what a link
//! leads to can change without its directory changing. The racy window applies to the directory's times too.
//!
//! Where a snapshot is kept is the caller's choice ([`crate::dir::MigrationDir::open_with_snapshot`] takes the
//! previous one's bytes and hands back the next one's). The format (all integers little-endian): the line
//! `strata-dir-snapshot 3\n`, the body's SHA-256 (32 bytes), the body: the length (u64) and bytes of the `atlas.sum`
//! computed over exactly the recorded `*.sql` files (length 0: none), one byte saying whether the directory's stamp
//! follows (1) or not (0) and then that stamp, then per file in byte order of the names its name's length (u32) and
//! bytes, five i128 stamp fields, the content's length (u64) and bytes.
//!
//! The computed `atlas.sum` spares a re-run hashing every file: when every `*.sql` file comes from the snapshot,
//! what they sum to is known (the snapshot's checksum covers it and the bytes it was computed from).

use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

const MAGIC: &[u8] = b"strata-dir-snapshot 3\n";

/// How old a file's modification and change times must be for the file to be recorded (see the module
/// documentation).
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// Directories with fewer `*.sql` files are read whole and get no snapshot: the reads cost less than the bookkeeping.
pub const MIN_FILES: usize = 64;

/// A file's identity and state as `stat` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Device.
    pub dev: i128,
    /// Inode.
    pub ino: i128,
    /// Size in bytes.
    pub size: i128,
    /// Last modification, in nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// Last change of the inode (content or metadata), in nanoseconds since the Unix epoch.
    pub ctime_ns: i128,
}

impl Stamp {
    /// The stamp of the file at `path` (following a symbolic link, as reading does); `None` where stamps are not
    /// taken (not Unix) or `stat` fails.
    pub fn of(path: &std::path::Path) -> Option<Stamp> {
        #[cfg(unix)]
        {
            rustix::fs::stat(path).ok().map(|st| Stamp::from_stat(&st))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }

    /// A stamp from what `stat` returned.
    #[cfg(unix)]
    pub(crate) fn from_stat(st: &rustix::fs::Stat) -> Stamp {
        let ns = |s: i128, n: i128| s * 1_000_000_000 + n;
        Stamp {
            dev: i128::from(st.st_dev),
            ino: i128::from(st.st_ino),
            size: i128::from(st.st_size),
            mtime_ns: ns(i128::from(st.st_mtime), i128::from(st.st_mtime_nsec)),
            ctime_ns: ns(i128::from(st.st_ctime), i128::from(st.st_ctime_nsec)),
        }
    }

    /// Whether the file changed too recently to be recorded at `now` (see [`RACY_WINDOW`]).
    pub fn is_racy(&self, now: SystemTime, window: Duration) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return true;
        };
        let limit = i128::try_from(now.saturating_sub(window).as_nanos()).unwrap_or(i128::MAX);
        self.mtime_ns >= limit || self.ctime_ns >= limit
    }

    /// Appends `stamp` as an optional field: one byte 0, or 1 followed by its 80 bytes (how a snapshot keeps the
    /// directory's stamp and a no-op memo the `atlas.sum`'s).
    pub(crate) fn put_optional(out: &mut Vec<u8>, stamp: Option<&Stamp>) {
        match stamp {
            Some(stamp) => {
                out.push(1);
                out.extend_from_slice(&stamp.to_bytes());
            }
            None => out.push(0),
        }
    }

    /// Reads a field [`Stamp::put_optional`] wrote at the start of `bytes`, and what follows it; `None` when it is
    /// not one.
    pub(crate) fn take_optional(bytes: &[u8]) -> Option<(Option<Stamp>, &[u8])> {
        match bytes.split_first()? {
            (0, rest) => Some((None, rest)),
            (1, rest) => {
                let (stamp, rest) = rest.split_first_chunk::<80>()?;
                Some((Some(Stamp::from_bytes(stamp)), rest))
            }
            _ => None,
        }
    }

    fn to_bytes(self) -> [u8; 80] {
        let mut out = [0; 80];
        for (i, v) in [self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns]
            .into_iter()
            .enumerate()
        {
            out[i * 16..(i + 1) * 16].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    fn from_bytes(b: &[u8; 80]) -> Self {
        let field = |i: usize| {
            let mut a = [0; 16];
            a.copy_from_slice(&b[i * 16..(i + 1) * 16]);
            i128::from_le_bytes(a)
        };
        Stamp {
            dev: field(0),
            ino: field(1),
            size: field(2),
            mtime_ns: field(3),
            ctime_ns: field(4),
        }
    }
}

/// A file as recorded: its name, stamp and content (borrowed from the snapshot's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded<'a> {
    /// The file's name in the directory.
    pub name: &'a str,
    /// The stamp when it was read.
    pub stamp: Stamp,
    /// The bytes read.
    pub bytes: &'a [u8],
}

/// A decoded snapshot, borrowing from the snapshot file's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot<'a> {
    /// The recorded files, in byte order of their names (no name twice).
    pub files: Vec<Recorded<'a>>,
    /// The `atlas.sum` computed over exactly the recorded `*.sql` files, when it was recorded.
    pub computed_sum: Option<&'a [u8]>,
    /// The directory's stamp when its listing found exactly the recorded files, all regular (see the module
    /// documentation).
    pub listing: Option<Stamp>,
}

impl<'a> Snapshot<'a> {
    /// The recorded file with this name.
    pub fn file(&self, name: &str) -> Option<&Recorded<'a>> {
        self.files
            .binary_search_by(|f| f.name.as_bytes().cmp(name.as_bytes()))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// Encodes `files` (already filtered by the caller, any order) as a snapshot file's bytes, with the `atlas.sum`
/// computed over exactly the `*.sql` files among them, if the caller has it, and the directory's stamp when its
/// listing found exactly `files`, all regular.
pub fn encode<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a Stamp, &'a [u8])>,
    computed_sum: Option<&[u8]>,
    listing: Option<&Stamp>,
) -> Vec<u8> {
    let mut body = Vec::new();
    let computed_sum = computed_sum.unwrap_or_default();
    body.extend_from_slice(&(computed_sum.len() as u64).to_le_bytes());
    body.extend_from_slice(computed_sum);
    Stamp::put_optional(&mut body, listing);
    let mut files: Vec<_> = files.into_iter().collect();
    files.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (name, stamp, bytes) in files {
        let Ok(name_len) = u32::try_from(name.len()) else {
            continue;
        };
        body.extend_from_slice(&name_len.to_le_bytes());
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(&stamp.to_bytes());
        body.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        body.extend_from_slice(bytes);
    }
    seal(MAGIC, &body)
}

/// A cache file's bytes: the `magic` line, the SHA-256 of `body` (32 bytes), then `body` (the snapshot's and the
/// no-op memo's framing).
pub(crate) fn seal(magic: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(magic.len() + 32 + body.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&Sha256::digest(body));
    out.extend_from_slice(body);
    out
}

/// The body of a file [`seal`]ed with `magic`; `None` when the bytes have another magic, are cut short or fail the
/// checksum.
pub(crate) fn unseal<'a>(magic: &[u8], bytes: &'a [u8]) -> Option<&'a [u8]> {
    let rest = bytes.strip_prefix(magic)?;
    let (sum, body) = rest.split_at_checked(32)?;
    (Sha256::digest(body).as_slice() == sum).then_some(body)
}

/// Decodes a snapshot file's bytes without copying the files' contents; `None` for anything that is not a whole,
/// intact snapshot.
pub fn decode(bytes: &[u8]) -> Option<Snapshot<'_>> {
    let body = unseal(MAGIC, bytes)?;
    let (len, rest) = body.split_first_chunk::<8>()?;
    let (computed_sum, rest) =
        rest.split_at_checked(usize::try_from(u64::from_le_bytes(*len)).ok()?)?;
    let (listing, mut body) = Stamp::take_optional(rest)?;
    let mut files: Vec<Recorded<'_>> = Vec::new();
    while !body.is_empty() {
        let (len, rest) = body.split_first_chunk::<4>()?;
        let (name, rest) =
            rest.split_at_checked(usize::try_from(u32::from_le_bytes(*len)).ok()?)?;
        let (stamp, rest) = rest.split_first_chunk::<80>()?;
        let (len, rest) = rest.split_first_chunk::<8>()?;
        let (content, rest) =
            rest.split_at_checked(usize::try_from(u64::from_le_bytes(*len)).ok()?)?;
        let name = std::str::from_utf8(name).ok()?;
        // Written in byte order of the names, each once: anything else was not written by `encode`.
        if files
            .last()
            .is_some_and(|prev| prev.name.as_bytes() >= name.as_bytes())
        {
            return None;
        }
        files.push(Recorded {
            name,
            stamp: Stamp::from_bytes(stamp),
            bytes: content,
        });
        body = rest;
    }
    Some(Snapshot {
        files,
        computed_sum: (!computed_sum.is_empty()).then_some(computed_sum),
        listing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(n: i128) -> Stamp {
        Stamp {
            dev: 1,
            ino: n,
            size: 3,
            mtime_ns: 10 * n,
            ctime_ns: 20 * n,
        }
    }

    #[test]
    fn a_snapshot_reads_back_and_any_damage_is_refused() {
        let (a, b) = (stamp(1), stamp(2));
        let listing = stamp(9);
        // Given out of order: recorded in byte order of the names.
        let bytes = encode(
            [("2_b.sql", &b, &b""[..]), ("1_a.sql", &a, &b"one"[..])],
            Some(b"h1:x\n"),
            Some(&listing),
        );
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.computed_sum, Some(&b"h1:x\n"[..]));
        assert_eq!(decoded.listing, Some(listing));
        let names: Vec<_> = decoded.files.iter().map(|f| f.name).collect();
        assert_eq!(names, ["1_a.sql", "2_b.sql"]);
        assert_eq!(decoded.file("1_a.sql").unwrap().stamp, a);
        assert_eq!(decoded.file("1_a.sql").unwrap().bytes, b"one");
        assert_eq!(decoded.file("2_b.sql").unwrap().bytes, b"");
        assert_eq!(decoded.file("3_c.sql"), None);
        // Truncated anywhere, one bit flipped anywhere, another magic: nothing is trusted.
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(decode(&bad).is_none(), "flipped at {at}");
        }
        // Without a computed sum or a listing.
        let bytes = encode([("1_a.sql", &a, &b"one"[..])], None, None);
        let decoded = decode(&bytes).unwrap();
        assert_eq!((decoded.computed_sum, decoded.listing), (None, None));
        // A name twice, or names out of order, are not a snapshot `encode` wrote.
        let twice = encode([("1_a.sql", &a, &b"one"[..])], None, None);
        let body = unseal(MAGIC, &twice).unwrap();
        let entry = &body[9..];
        let mut doubled = body.to_vec();
        doubled.extend_from_slice(entry);
        assert!(decode(&seal(MAGIC, &doubled)).is_none());
    }

    #[test]
    fn recent_files_are_racy() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let at = |secs: i128| Stamp {
            mtime_ns: secs * 1_000_000_000,
            ctime_ns: secs * 1_000_000_000,
            ..stamp(1)
        };
        assert!(!at(97).is_racy(now, RACY_WINDOW));
        assert!(
            at(98).is_racy(now, RACY_WINDOW),
            "exactly the window is racy"
        );
        assert!(at(100).is_racy(now, RACY_WINDOW));
        assert!(
            at(200).is_racy(now, RACY_WINDOW),
            "a time in the future is racy"
        );
        let changed_late = Stamp {
            ctime_ns: 99 * 1_000_000_000,
            ..at(50)
        };
        assert!(
            changed_late.is_racy(now, RACY_WINDOW),
            "a recent change time alone is racy"
        );
        assert!(!at(99).is_racy(now, Duration::ZERO));
    }
}
