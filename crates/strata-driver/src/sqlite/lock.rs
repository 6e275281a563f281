//! The migration lock: Atlas's lock file in the temporary directory, held with an OS file lock as well.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::lock::{Backoff, human};

impl SqliteDriver {
    /// Uses `dir` instead of the OS temporary directory for lock files (tests; Atlas always uses the latter).
    pub fn with_lock_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_dir = dir.into();
        self
    }

    /// The lock file [`Driver::lock`](crate::Driver::lock) uses for `name`.
    pub fn lock_path(&self, name: &str) -> PathBuf {
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
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(100 * 365 * 86_400));
        let mut backoff = Backoff::new();
        loop {
            match LockFile::try_acquire(&path, timeout)? {
                Ok(held) => {
                    self.locks.insert(name.to_string(), held);
                    return Ok(());
                }
                Err(busy) if Instant::now() >= deadline => {
                    let waited = start.elapsed();
                    let who = match busy {
                        FileLockBusy::Strata => {
                            "a running Strata process holds it (its OS lock on the file is taken)"
                                .to_string()
                        }
                        FileLockBusy::Atlas { expires_unix_nanos } => {
                            let left = expires_unix_nanos
                                - time::OffsetDateTime::now_utc().unix_timestamp_nanos();
                            format!(
                                "Atlas holds it for another {} (expiry written in the file); if no Atlas migration \
                                 is running, delete the file",
                                human(Duration::from_nanos(
                                    u64::try_from(left.max(0)).unwrap_or(u64::MAX)
                                ))
                            )
                        }
                    };
                    let base = match &self.lock_suffix {
                        Some(s) => format!("{name}_{s}"),
                        None => name.to_string(),
                    };
                    return Err(E::LockTimeout {
                        name: name.to_string(),
                        waited,
                        detail: format!(
                            "sql/sqlite: lock on {base:?} already taken: lock file {}: {who}; gave up after {} \
                             (--lock-timeout {}). Wait for the other migration to finish or raise --lock-timeout",
                            path.display(),
                            human(waited),
                            human(timeout)
                        ),
                    });
                }
                Err(_) => tokio::time::sleep(backoff.next_delay(deadline)).await,
            }
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

/// Why a lock-file attempt did not succeed.
pub(crate) enum FileLockBusy {
    /// Another Strata process holds the OS lock on the file.
    Strata,
    /// An unexpired Atlas lock (no OS lock held on it) until this Unix-nanosecond time.
    Atlas { expires_unix_nanos: i128 },
}

/// A held SQLite lock file. Dropping it releases the lock (removes the files).
#[derive(Debug)]
pub(crate) struct LockFile {
    path: PathBuf,
    owner_path: PathBuf,
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
    /// One attempt at taking the lock file at `path` with Atlas's content (expiry = now + `lease`, Unix nanos).
    ///
    /// The file is ours when we hold its OS lock and either it is empty, its expiry has passed, or its content
    /// matches our owner record (a Strata holder that died without cleaning up: its OS lock was released by the
    /// kernel). An unexpired file without our owner record was written by Atlas and is respected until it expires.
    pub(crate) fn try_acquire(
        path: &Path,
        lease: Duration,
    ) -> Result<Result<LockFile, FileLockBusy>, DriverError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_err(path, "opening", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Err(FileLockBusy::Strata)),
            Err(TryLockError::Error(e)) => return Err(io_err(path, "locking", e)),
        }
        // The holder before us may have removed the file between our open and our lock: start over then.
        if !same_file(&file, path) {
            return Ok(Err(FileLockBusy::Strata));
        }
        let mut file = file;
        let mut content = String::new();
        file.read_to_string(&mut content)
            .map_err(|e| io_err(path, "reading", e))?;
        let content = content.trim_end_matches('\0');
        let owner = owner_path(path);
        if !content.is_empty() {
            let expires: i128 = content.parse().map_err(|_| DriverError::LockFile {
                path: path.display().to_string(),
                reason: format!(
                    "invalid lock file format (expected an expiry in Unix nanoseconds, found {:?}); if no migration \
                     is running, delete the file",
                    content.chars().take(40).collect::<String>()
                ),
            })?;
            let ours_stale = std::fs::read_to_string(&owner).is_ok_and(|o| o == content);
            if expires > now_unix_nanos() && !ours_stale {
                return Ok(Err(FileLockBusy::Atlas {
                    expires_unix_nanos: expires,
                }));
            }
        }
        let expiry = now_unix_nanos() + lease.as_nanos() as i128;
        let text = expiry.to_string();
        // Order matters for a holder killed half-way: an empty lock file is free, and an unexpired expiry is only
        // recognised as a dead Strata holder's when the owner record holds the same text. So empty the file, write
        // the owner record, and only then the expiry: every intermediate state is free for the next run. (Writing
        // the expiry first left, for a kill before the owner record, a lock that looked like Atlas's and blocked
        // until the lease ran out.)
        file.set_len(0).map_err(|e| io_err(path, "truncating", e))?;
        std::fs::write(&owner, &text).map_err(|e| io_err(&owner, "writing", e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| io_err(path, "writing", e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| io_err(path, "writing", e))?;
        file.flush().map_err(|e| io_err(path, "writing", e))?;
        Ok(Ok(LockFile {
            path: path.to_path_buf(),
            owner_path: owner,
            file: Some(file),
        }))
    }

    /// Removes the lock file (and our owner record), then releases the OS lock.
    pub(crate) fn release(mut self) -> Result<(), DriverError> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<(), DriverError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        // Empty the file first (free), so a kill before the removals below leaves nothing that blocks: removing
        // the owner record first would leave, for a moment, an unexpired expiry without its owner record.
        let _ = file.set_len(0);
        let _ = std::fs::remove_file(&self.owner_path);
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
    fn lock_file_exclusion_and_staleness() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.lock");
        let held = LockFile::try_acquire(&path, Duration::from_secs(60))
            .unwrap()
            .ok()
            .unwrap();
        // A second handle (another open file description) sees the OS lock.
        assert!(matches!(
            LockFile::try_acquire(&path, Duration::from_secs(60)).unwrap(),
            Err(FileLockBusy::Strata)
        ));
        held.release().unwrap();
        assert!(!path.exists());

        // An Atlas-written, unexpired lock is respected; an expired one is taken over.
        let future = now_unix_nanos() + 60_000_000_000;
        std::fs::write(&path, future.to_string()).unwrap();
        assert!(matches!(
            LockFile::try_acquire(&path, Duration::from_secs(1)).unwrap(),
            Err(FileLockBusy::Atlas { expires_unix_nanos }) if expires_unix_nanos == future
        ));
        std::fs::write(&path, (now_unix_nanos() - 1).to_string()).unwrap();
        let l = LockFile::try_acquire(&path, Duration::from_secs(5))
            .unwrap()
            .ok()
            .unwrap();
        let content: i128 = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        assert!(content > now_unix_nanos());
        drop(l);
        assert!(!path.exists());

        // A Strata holder that died: unexpired content, owner record matches, OS lock free.
        std::fs::write(&path, future.to_string()).unwrap();
        std::fs::write(owner_path(&path), future.to_string()).unwrap();
        let l = LockFile::try_acquire(&path, Duration::from_secs(5))
            .unwrap()
            .ok()
            .unwrap();
        drop(l);

        // A holder killed while taking or releasing the lock leaves an empty file, with or without an owner
        // record: free.
        std::fs::write(&path, "").unwrap();
        std::fs::write(owner_path(&path), future.to_string()).unwrap();
        let l = LockFile::try_acquire(&path, Duration::from_secs(5))
            .unwrap()
            .ok()
            .unwrap();
        drop(l);
        assert!(!path.exists() && !owner_path(&path).exists());

        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(
            LockFile::try_acquire(&path, Duration::from_secs(5)),
            Err(DriverError::LockFile { .. })
        ));
    }
}
