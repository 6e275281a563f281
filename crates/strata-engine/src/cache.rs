//! The user's cache folder: where it is, how an entry is written, how the folder is kept small; and its users
//! outside the schema engine: migration directory snapshots ([`open_dir`]) and no-op memos ([`MemoSlot`]).
//!
//! **Where**: `$STRATA_CACHE_DIR` when set (an empty value turns the cache off), else `$XDG_CACHE_HOME/strata`,
//! else `~/.cache/strata` (`%LOCALAPPDATA%\strata` on Windows). Each kind of entry has its folder in it
//! (`replay/`, `dirs/`, `revisions/`); nothing is ever written into a migration directory. Nothing cached is
//! required for correctness: every failure to read or write only costs work.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};
use strata_driver::{DbUrl, RevisionsLocation};
use strata_migrate::MigrationDir;
use strata_migrate::noop_memo::{self, NoopMemo};

/// The variable naming the cache folder (empty: no cache).
pub const CACHE_DIR_ENV: &str = "STRATA_CACHE_DIR";

/// How many entries each folder of the cache keeps.
pub const MAX_ENTRIES: usize = 64;

/// The user's cache folder (see the module documentation), or `None` when it is turned off or has no place.
pub fn root() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(v) = std::env::var_os(CACHE_DIR_ENV) {
        return (!v.is_empty()).then(|| PathBuf::from(v));
    }
    if let Some(x) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Some(x.join("strata"));
    }
    if cfg!(windows) {
        return var("LOCALAPPDATA").map(|d| d.join("strata"));
    }
    var("HOME").map(|h| h.join(".cache").join("strata"))
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Writes `bytes` as `folder/name` through a temporary file renamed into place (creating the folder), so a reader
/// never sees half an entry and two writers leave one whole entry; then trims the folder's `*.ext` entries to
/// [`MAX_ENTRIES`].
pub(crate) fn write_entry(
    folder: &Path,
    name: &str,
    ext: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(
        ".{name}.{}.{:x}.tmp",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
        std::fs::rename(&tmp, folder.join(format!("{name}.{ext}")))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    trim(folder, ext);
    Ok(())
}

/// Marks an entry as recently used (kept longest by [`trim`]). Failing to say so changes nothing.
pub(crate) fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Removes the least recently used `*.ext` entries of `folder` beyond [`MAX_ENTRIES`] (and temporary files a
/// killed writer left over an hour ago).
fn trim(folder: &Path, ext: &str) {
    let Ok(dir) = std::fs::read_dir(folder) else {
        return;
    };
    let now = SystemTime::now();
    let suffix = format!(".{ext}");
    let mut entries = Vec::new();
    for e in dir.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let modified = e
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        if name.ends_with(".tmp") {
            let old = now
                .duration_since(modified)
                .is_ok_and(|d| d.as_secs() > 3600);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        } else if name.ends_with(&suffix) {
            entries.push((modified, e.path()));
        }
    }
    if entries.len() <= MAX_ENTRIES {
        return;
    }
    entries.sort();
    let excess = entries.len() - MAX_ENTRIES;
    for (_, p) in entries.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
}

/// Reads a migration directory from disk as [`MigrationDir::open`] does, taking the files that did not change
/// since the last run from its snapshot in the cache's `dirs/` folder (see [`strata_migrate::snapshot`]): a
/// re-run over a thousand applied files costs a `stat` per file instead of reading each. Without a cache it is
/// `MigrationDir::open`.
pub fn open_dir(path: &Path) -> Result<MigrationDir, strata_migrate::DirError> {
    match root() {
        Some(root) => open_dir_in(&root, path).map(|(d, _)| d),
        None => MigrationDir::open(path),
    }
}

/// [`open_dir`] with the cache at `root`; also says where the files came from.
pub fn open_dir_in(
    root: &Path,
    path: &Path,
) -> Result<(MigrationDir, strata_migrate::dir::OpenStats), strata_migrate::DirError> {
    let folder = root.join("dirs");
    // One snapshot per directory path as given (made absolute); another path to the same directory only has its
    // own snapshot.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let name = hex(&Sha256::digest(absolute.as_os_str().as_encoded_bytes())[..16]);
    let file = folder.join(format!("{name}.snap"));
    let previous = std::fs::read(&file).unwrap_or_default();
    let (dir, stats, next) = MigrationDir::open_with_snapshot(path, &previous)?;
    match next {
        // A snapshot that cannot be written only costs reads next time.
        Some(next) => {
            let _ = write_entry(&folder, &name, "snap", &next);
        }
        None if !previous.is_empty() => touch(&file),
        None => {}
    }
    Ok((dir, stats))
}

/// Where the no-op memo ([`strata_migrate::noop_memo`]) of one revisions table is kept: the cache's `revisions/`
/// folder, one entry per URL (without credentials) and table location. A memo only counts when its key matches
/// the run's, which the server's answer decides, so two URLs naming one database merely keep two memos.
#[derive(Debug, Clone)]
pub(crate) struct MemoSlot {
    folder: PathBuf,
    name: String,
}

impl MemoSlot {
    /// The slot of the table at `loc` of the database `url` names, in the cache at `root`.
    pub(crate) fn new(root: &Path, url: &DbUrl, loc: &RevisionsLocation) -> Self {
        let mut key = Sha256::new();
        for part in [url.without_credentials().as_str(), &loc.schema, &loc.table] {
            key.update((part.len() as u64).to_le_bytes());
            key.update(part.as_bytes());
        }
        Self {
            folder: root.join("revisions"),
            name: hex(&key.finalize()[..16]),
        }
    }

    /// The memo kept here, if there is an intact one.
    pub(crate) fn load(&self) -> Option<NoopMemo> {
        let file = self.folder.join(format!("{}.memo", self.name));
        let memo = noop_memo::decode(&std::fs::read(&file).ok()?)?;
        touch(&file);
        Some(memo)
    }

    /// Keeps `memo`. A memo that cannot be written only costs a read next time.
    pub(crate) fn store(&self, memo: &NoopMemo) {
        let _ = write_entry(&self.folder, &self.name, "memo", &noop_memo::encode(memo));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_served_from_its_snapshot_once_its_files_are_old_enough() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        std::fs::create_dir(&dir).unwrap();
        for i in 0..100 {
            std::fs::write(dir.join(format!("{i:03}_f.sql")), format!("SELECT {i};\n")).unwrap();
        }
        let root = tmp.path().join("cache");
        // Written just now: racy, so read again until they are older than the window.
        let (first, stats) = open_dir_in(&root, &dir).unwrap();
        assert_eq!(stats.read, 100);
        std::thread::sleep(
            strata_migrate::snapshot::RACY_WINDOW + std::time::Duration::from_millis(100),
        );
        let (_, stats) = open_dir_in(&root, &dir).unwrap();
        assert_eq!(stats.read, 100, "recorded only now");
        let (again, stats) = open_dir_in(&root, &dir).unwrap();
        assert_eq!((stats.read, stats.from_snapshot), (0, 100));
        assert_eq!(again, first);
        assert_eq!(std::fs::read_dir(root.join("dirs")).unwrap().count(), 1);
    }

    #[test]
    fn folders_keep_the_most_recently_used_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("f");
        for i in 0..MAX_ENTRIES + 3 {
            write_entry(&folder, &format!("e{i}"), "x", b"1").unwrap();
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i as u64);
            let f = std::fs::File::options()
                .append(true)
                .open(folder.join(format!("e{i}.x")))
                .unwrap();
            f.set_modified(t).unwrap();
        }
        touch(&folder.join("e3.x"));
        write_entry(&folder, "last", "x", b"1").unwrap();
        let names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), MAX_ENTRIES);
        assert!(names.contains(&"e3.x".to_owned()), "touched entries stay");
        for gone in ["e0.x", "e1.x", "e2.x", "e4.x"] {
            assert!(!names.contains(&gone.to_owned()), "{gone} should be gone");
        }
    }
}
