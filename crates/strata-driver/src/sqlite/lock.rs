//! The migration lock, one per database: an OS file lock (`flock`) on a lock file named after the database file's
//! canonical path, in the temporary directory. Atlas's host-wide lock file is read, not taken: a running Atlas
//! migration found there is waited for.
//!
//! Why not Atlas's lock: Atlas names its SQLite lock file after the lock name alone
//! (`<tmp>/atlas_migrate_execute.lock`), so every SQLite database on a host shares one lock, and unrelated
//! databases migrated at once (parallel CI jobs) wait on each other until they time out. Strata keys the lock by
//! the database, so only runs on the same file exclude each other; the OS lock dies with its process, so a killed
//! holder never blocks the next run (the file it leaves behind is free).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::lock::{Backoff, human};
use crate::url::{DbIdentity, DbUrl};

impl SqliteDriver {
    /// Uses `dir` instead of the OS temporary directory for lock files (tests; Atlas always uses the latter).
    pub fn with_lock_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_dir = dir.into();
        self
    }

    /// The lock file [`Driver::lock`](crate::Driver::lock) holds for `name` on this database
    /// ([`lock_file_for`] in this session's lock directory).
    pub fn lock_path(&self, name: &str) -> PathBuf {
        lock_file_for(&self.lock_dir, name, &self.url)
    }

    /// Atlas's lock file for `name` (host-wide: `<temp dir>/<name>[_<suffix>].lock`), which Strata reads to wait
    /// for a running Atlas migration but does not take.
    pub fn atlas_lock_path(&self, name: &str) -> PathBuf {
        lock_file_path(&self.lock_dir, name, self.lock_suffix.as_deref())
    }

    /// [`Driver::lock`](crate::Driver::lock) on this dialect.
    pub(super) async fn acquire(
        &mut self,
        name: &str,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        if self.locks.contains_key(name) {
            return Ok(());
        }
        let path = self.lock_path(name);
        let atlas = self.atlas_lock_path(name);
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(100 * 365 * 86_400));
        let mut backoff = Backoff::new();
        loop {
            let busy = match LockFile::try_acquire(&path)? {
                Some(held) => match atlas_expiry(&atlas)? {
                    None => {
                        self.locks.insert(name.to_string(), held);
                        return Ok(());
                    }
                    // Atlas is migrating some SQLite database on this host, maybe this one: wait for it without
                    // holding our lock.
                    Some(expires_unix_nanos) => {
                        held.release()?;
                        FileLockBusy::Atlas { expires_unix_nanos }
                    }
                },
                None => FileLockBusy::Strata,
            };
            if Instant::now() < deadline {
                tokio::time::sleep(backoff.next_delay(deadline)).await;
                continue;
            }
            let waited = start.elapsed();
            let (file, who) = match busy {
                FileLockBusy::Strata => (
                    &path,
                    "a running Strata process holds it (its OS lock on the file is taken)"
                        .to_string(),
                ),
                FileLockBusy::Atlas { expires_unix_nanos } => {
                    let left = expires_unix_nanos - now_unix_nanos();
                    (
                        &atlas,
                        format!(
                            "Atlas holds it for another {} (expiry written in the file); if no Atlas migration is \
                             running, delete the file",
                            human(Duration::from_nanos(
                                u64::try_from(left.max(0)).unwrap_or(u64::MAX)
                            ))
                        ),
                    )
                }
            };
            return Err(E::LockTimeout {
                name: name.to_string(),
                waited,
                detail: format!(
                    "sql/sqlite: lock on {name:?} for {} already taken: lock file {}: {who}; gave up after {} \
                     (--lock-timeout {}). Wait for the other migration to finish or raise --lock-timeout",
                    self.url.redacted,
                    file.display(),
                    human(waited),
                    human(timeout)
                ),
            });
        }
    }

    /// [`Driver::unlock`](crate::Driver::unlock) on this dialect.
    pub(super) async fn release(&mut self, name: &str) -> Result<(), DriverError> {
        match self.locks.remove(name) {
            Some(l) => l.release(),
            None => Err(E::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            }),
        }
    }
}

/// The per-database lock file for lock `name` on the SQLite database `db`, in `dir`:
/// `<dir>/<name>-<16 hex digits>.lock`, the digits a hash of the database file's canonical path
/// ([`DbUrl::identity`]: symbolic links, `.` and `..` resolved, so every spelling of one file shares the lock), or
/// of the name of an in-memory database.
pub fn lock_file_for(dir: &Path, name: &str, db: &DbUrl) -> PathBuf {
    let key = match db.identity() {
        DbIdentity::SqliteFile(path) => {
            let mut key = b"file:".to_vec();
            key.extend_from_slice(path.as_os_str().as_encoded_bytes());
            key
        }
        DbIdentity::SqliteMemory(name) => format!("memory:{name}").into_bytes(),
        // Another dialect's URL: its identity still tells databases apart.
        other => format!("{other:?}").into_bytes(),
    };
    dir.join(format!("{name}-{:016x}.lock", fnv1a64(&key)))
}

/// 64-bit FNV-1a: lock-file names from canonical paths. A collision between two databases only makes them share a
/// lock (they wait on each other), never lets two runs on one database in at once.
fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Adler-32 checksum (Go's `hash/adler32`).
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Who holds the lock when an attempt did not succeed.
enum FileLockBusy {
    /// Another Strata process holds the OS lock on the database's lock file.
    Strata,
    /// An unexpired Atlas lock, until this Unix-nanosecond time.
    Atlas { expires_unix_nanos: i128 },
}

/// A held lock file. Dropping it releases the lock (removes the file, then lets go of the OS lock).
#[derive(Debug)]
pub(crate) struct LockFile {
    path: PathBuf,
    file: Option<File>,
}

/// The path Atlas uses: `<temp dir>/<name>[_<suffix>].lock`.
pub(crate) fn lock_file_path(dir: &Path, name: &str, suffix: Option<&str>) -> PathBuf {
    let base = match suffix {
        Some(s) => format!("{name}_{s}"),
        None => name.to_string(),
    };
    dir.join(format!("{base}.lock"))
}

/// Where a Strata version before the per-database lock recorded that it wrote Atlas's lock file.
fn owner_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".strata");
    PathBuf::from(p)
}

fn now_unix_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> DriverError {
    DriverError::LockFile {
        path: path.display().to_string(),
        reason: format!("{what}: {e}; check that the temporary directory is writable"),
    }
}

/// The expiry in Atlas's lock file at `path` when Atlas holds it: the file holds an unexpired expiry (Unix
/// nanoseconds) that no Strata process wrote (an earlier Strata version wrote the same text to `<path>.strata`).
/// Read only: no file is created, locked or changed.
fn atlas_expiry(path: &Path) -> Result<Option<i128>, DriverError> {
    let content = match std::fs::read(path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, "reading", e)),
    };
    let content = String::from_utf8_lossy(&content);
    let content = content.trim_end_matches('\0');
    if content.is_empty() {
        return Ok(None);
    }
    let expires: i128 = content.parse().map_err(|_| DriverError::LockFile {
        path: path.display().to_string(),
        reason: format!(
            "invalid Atlas lock file (expected an expiry in Unix nanoseconds, found {:?}); if no Atlas migration is \
             running, delete the file",
            content.chars().take(40).collect::<String>()
        ),
    })?;
    let strata_wrote = std::fs::read_to_string(owner_path(path)).is_ok_and(|o| o == content);
    Ok((expires > now_unix_nanos() && !strata_wrote).then_some(expires))
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

impl LockFile {
    /// One attempt at the OS lock on the lock file at `path` (created when missing); `None` when another process
    /// (or another session of this one) holds it.
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<LockFile>, DriverError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_err(path, "opening", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(io_err(path, "locking", e)),
        }
        // The holder before us removes the file before letting go of its lock, and may have done so between our
        // open and our lock: the file we hold is then not the one at `path`, so try again.
        if !same_file(&file, path) {
            return Ok(None);
        }
        Ok(Some(LockFile {
            path: path.to_path_buf(),
            file: Some(file),
        }))
    }

    /// Removes the lock file, then releases the OS lock.
    pub(crate) fn release(mut self) -> Result<(), DriverError> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<(), DriverError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let res = match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.path, "removing", e)),
        };
        drop(file);
        res
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_matches_go() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"dev"), 0x026f_0140);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn fnv1a64_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn lock_file_names() {
        let dir = Path::new("/tmp");
        assert_eq!(
            lock_file_path(dir, "atlas_migrate_execute", None),
            Path::new("/tmp/atlas_migrate_execute.lock")
        );
        assert_eq!(
            lock_file_path(dir, "x", Some("26f0140")),
            Path::new("/tmp/x_26f0140.lock")
        );
    }

    #[test]
    fn lock_file_exclusion_and_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.lock");
        let held = LockFile::try_acquire(&path).unwrap().unwrap();
        // A second handle (another open file description) sees the OS lock.
        assert!(LockFile::try_acquire(&path).unwrap().is_none());
        held.release().unwrap();
        assert!(!path.exists());
        // A file left behind (its holder was killed) is free: only the OS lock counts.
        std::fs::write(&path, "").unwrap();
        let l = LockFile::try_acquire(&path).unwrap().unwrap();
        drop(l);
        assert!(!path.exists());
    }

    #[test]
    fn atlas_lock_is_read_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atlas_migrate_execute.lock");
        assert_eq!(atlas_expiry(&path).unwrap(), None, "no file: free");
        assert!(!path.exists(), "reading creates nothing");
        std::fs::write(&path, "").unwrap();
        assert_eq!(atlas_expiry(&path).unwrap(), None, "empty: free");
        let future = now_unix_nanos() + 60_000_000_000;
        std::fs::write(&path, future.to_string()).unwrap();
        assert_eq!(atlas_expiry(&path).unwrap(), Some(future), "Atlas holds it");
        std::fs::write(&path, (now_unix_nanos() - 1).to_string()).unwrap();
        assert_eq!(atlas_expiry(&path).unwrap(), None, "expired");
        // Written by an earlier Strata version (its owner record matches): not Atlas's.
        std::fs::write(&path, future.to_string()).unwrap();
        std::fs::write(owner_path(&path), future.to_string()).unwrap();
        assert_eq!(atlas_expiry(&path).unwrap(), None);
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(
            atlas_expiry(&path),
            Err(DriverError::LockFile { .. })
        ));
    }
}
