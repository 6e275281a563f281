//! `migrate new`: a new, empty migration file named `<UTC timestamp>[_name].sql` in a directory on disk, and
//! `atlas.sum` rewritten to include it. The front end decides what happens in between (an editor, later
//! `migrate diff` writing the statements) and when to [`rehash`].

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::dir::{MigrationDir, SUM_FILE};
use crate::error::DirError;
use crate::sum;

/// Why a new migration file could not be made.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NewError {
    /// The name would not stay a plain file name in the directory.
    #[error(
        "invalid migration name {name:?}: use letters, digits, `_` or `-` (no path separators)"
    )]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// The file could not be created (most often: one with the same second's timestamp exists).
    #[error("creating {} (if it exists, wait a second and run again): {source}", .path.display())]
    Create {
        /// The file that was to be created.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `atlas.sum` could not be written.
    #[error("writing {}: {source}", .path.display())]
    WriteSum {
        /// The `atlas.sum` path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory could not be read back.
    #[error(transparent)]
    Dir(#[from] DirError),
}

/// Refuses names that are empty or contain a path separator or NUL.
pub fn check_name(name: &str) -> Result<(), NewError> {
    if name.is_empty() || name.contains(['/', '\\', '\0']) {
        return Err(NewError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The version of a file created at `at`: its UTC time as `YYYYMMDDhhmmss` (times before 1970 count as 1970).
pub fn version_at(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// `<version>[_name].sql`.
pub fn file_name(version: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{version}_{n}.sql"),
        None => format!("{version}.sql"),
    }
}

/// Creates the empty file `<version_at(at)>[_name].sql` in the directory at `path`, never overwriting one, and
/// returns its path. `atlas.sum` is not touched: call [`rehash`] once the file has its content.
pub fn create(path: &Path, name: Option<&str>, at: SystemTime) -> Result<PathBuf, NewError> {
    create_with(path, name, at, b"")
}

/// Creates the file `<version_at(at)>[_name].sql` holding `content` in the directory at `path`, never
/// overwriting one, and returns its path (`migrate diff` writes its plan this way). `atlas.sum` is not touched:
/// call [`rehash`] next.
pub fn create_with(
    path: &Path,
    name: Option<&str>,
    at: SystemTime,
    content: &[u8],
) -> Result<PathBuf, NewError> {
    use std::io::Write as _;
    if let Some(n) = name {
        check_name(n)?;
    }
    let file = path.join(file_name(&version_at(at), name));
    let err = |source| NewError::Create {
        path: file.clone(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(err)?;
    if !content.is_empty() {
        f.write_all(content).map_err(err)?;
    }
    Ok(file)
}

/// Reads the directory at `path` again and rewrites its `atlas.sum` (as `migrate hash` does).
pub fn rehash(path: &Path) -> Result<MigrationDir, NewError> {
    let d = MigrationDir::open(path)?;
    sum::write(path, &d).map_err(|source| NewError::WriteSum {
        path: path.join(SUM_FILE),
        source,
    })?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn versions_are_utc_timestamps() {
        assert_eq!(version_at(at(0)), "19700101000000");
        assert_eq!(version_at(at(1_705_363_200)), "20240116000000");
        // A leap day and the last second of a year.
        assert_eq!(version_at(at(1_709_210_096)), "20240229123456");
        assert_eq!(version_at(at(1_735_689_599)), "20241231235959");
        assert_eq!(version_at(at(4_102_444_800)), "21000101000000");
        assert_eq!(
            version_at(UNIX_EPOCH - Duration::from_secs(5)),
            "19700101000000"
        );
    }

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        for bad in ["", "../escape", "a/b", "a\\b", "a\0b"] {
            let e = check_name(bad).unwrap_err();
            assert!(
                matches!(&e, NewError::InvalidName { name } if name == bad),
                "{e:?}"
            );
        }
        assert_eq!(
            check_name("../escape").unwrap_err().to_string(),
            "invalid migration name \"../escape\": use letters, digits, `_` or `-` (no path separators)"
        );
        check_name("add_users-2").unwrap();
    }

    #[test]
    fn create_never_overwrites_and_rehash_includes_the_file() {
        let t = tempfile::tempdir().unwrap();
        let f = create(t.path(), Some("init"), at(1_705_363_200)).unwrap();
        assert_eq!(f, t.path().join("20240116000000_init.sql"));
        assert_eq!(std::fs::read(&f).unwrap(), b"");
        let again = create(t.path(), Some("init"), at(1_705_363_200)).unwrap_err();
        assert!(
            again.to_string().starts_with(&format!(
                "creating {} (if it exists, wait a second and run again): ",
                f.display()
            )),
            "{again}"
        );
        let d = rehash(t.path()).unwrap();
        assert_eq!(d.files().len(), 1);
        assert!(sum::validate(&MigrationDir::open(t.path()).unwrap()).is_ok());
        assert_eq!(
            create(t.path(), None, at(1_705_363_201)).unwrap(),
            t.path().join("20240116000001.sql")
        );
    }

    #[test]
    fn create_with_writes_the_content_once() {
        let t = tempfile::tempdir().unwrap();
        let body = b"-- Create \"t\" table\nCREATE TABLE t (c int);\n";
        let f = create_with(t.path(), Some("add_t"), at(1_705_363_200), body).unwrap();
        assert_eq!(f, t.path().join("20240116000000_add_t.sql"));
        assert_eq!(std::fs::read(&f).unwrap(), body);
        assert!(create_with(t.path(), Some("add_t"), at(1_705_363_200), b"x").is_err());
        assert_eq!(std::fs::read(&f).unwrap(), body, "never overwritten");
        assert!(matches!(
            create_with(t.path(), Some("a/b"), at(0), b"x"),
            Err(NewError::InvalidName { .. })
        ));
    }
}
