//! The migration lock: Atlas's lock file in the temporary directory, held with an OS file lock as well.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::lock::{Backoff, FileLockBusy, LockFile, human, lock_file_path};

impl SqliteDriver {
    /// Uses `dir` instead of the OS temporary directory for lock files (tests; Atlas always uses the latter).
    pub fn with_lock_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_dir = dir.into();
        self
    }

    /// The lock file [`Driver::lock`] uses for `name`.
    pub fn lock_path(&self, name: &str) -> PathBuf {
        lock_file_path(&self.lock_dir, name, self.lock_suffix.as_deref())
    }

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

    pub(super) async fn release(&mut self, name: &str) -> Result<(), DriverError> {
        match self.locks.remove(name) {
            Some(l) => l.release(),
            None => Err(E::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            }),
        }
    }
}
