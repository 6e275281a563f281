//! Deferred commits held in an open transaction (SQLite, MySQL/MariaDB; see [`crate::Durability`]).
//!
//! Where a database has no commit that returns before it is durable, a file committed with
//! [`crate::Durability::Deferred`] is not committed: its transaction is left open for the files after it, each
//! of which runs in a savepoint of its own (`SAVEPOINT strata_file`), and the next durable commit commits them
//! together — one sync instead of one per file. A [`Group`] is what such a session holds: since when, and which
//! versions. A file that fails rolls back to its savepoint; the files before it stay for the next commit. Should
//! the database roll back the whole transaction (SQLite: `OR ROLLBACK`, a full disk; MySQL: a deadlock, a lost
//! connection), the group's versions are handed to the run through [`crate::Driver::take_rolled_back`].

use std::time::{Duration, Instant};

/// How long files may share one transaction: the first file to find the group older commits durably, with the
/// group. Bounds how long the transaction holds its locks and what a crash can take back.
pub(crate) const GROUP_WINDOW: Duration = Duration::from_millis(200);

/// Files whose commits were deferred, in the session's open transaction.
#[derive(Debug)]
pub(crate) struct Group {
    since: Instant,
    versions: Vec<String>,
}

impl Group {
    pub(crate) fn new() -> Self {
        Self {
            since: Instant::now(),
            versions: Vec::new(),
        }
    }

    /// Whether a file may still join (the group is younger than [`GROUP_WINDOW`]).
    pub(crate) fn young(&self) -> bool {
        self.since.elapsed() < GROUP_WINDOW
    }

    pub(crate) fn push(&mut self, version: &str) {
        self.versions.push(version.to_owned());
    }

    /// The versions, for [`crate::Driver::take_rolled_back`] when the transaction is lost.
    pub(crate) fn into_versions(self) -> Vec<String> {
        self.versions
    }
}

/// Whether a file ending now with a deferred commit may join `group` (none open yet, or a young one).
pub(crate) fn may_join(group: Option<&Group>) -> bool {
    group.is_none_or(Group::young)
}
