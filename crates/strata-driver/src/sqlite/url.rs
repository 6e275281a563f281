//! SQLite URLs: `sqlite://relative/file.db`, `sqlite:///absolute/file.db`, `sqlite://name?mode=memory`
//! (see [`crate::url`]).

use std::time::Duration;

use crate::error::DriverError;
use std::path::{Path, PathBuf};

use crate::url::{DbIdentity, invalid, parse_bool};

/// Parts of a SQLite URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SqliteUrl {
    /// The file path as written (or the memory database's name).
    pub path: String,
    /// `mode=memory`.
    pub in_memory: bool,
    /// `mode=ro`.
    pub read_only: bool,
    /// Whether a missing file is created (`mode=rwc`, the default).
    pub create: bool,
    /// `_fk` / `_foreign_keys`.
    pub foreign_keys: bool,
    /// `_busy_timeout` / `_timeout` (default 5s as in mattn/go-sqlite3).
    pub busy_timeout: Duration,
    /// `_journal_mode` / `_journal`.
    pub journal_mode: Option<String>,
    /// `_sync` / `_synchronous`.
    pub synchronous: Option<String>,
    /// `_locking_mode` / `_locking`.
    pub locking_mode: Option<String>,
    /// `cache=shared`.
    pub shared_cache: bool,
    /// Suffix of Atlas's lock-file name: `Some(adler32 hex)` only for `file:` databases (in-memory ones), as
    /// Atlas computes it.
    pub lock_suffix: Option<String>,
}

impl SqliteUrl {
    /// See [`crate::DbUrl::identity`].
    pub fn identity(&self) -> DbIdentity {
        if self.in_memory {
            return DbIdentity::SqliteMemory(self.path.clone());
        }
        DbIdentity::SqliteFile(canonical_path(&self.path))
    }
}

/// The absolute path of `path` with `.`, `..` and symbolic links resolved: the file's own when it exists, else its
/// directory's joined with the file name, else the lexical form.
fn canonical_path(path: &str) -> PathBuf {
    let given = Path::new(path);
    if let Ok(real) = std::fs::canonicalize(given) {
        return real;
    }
    let absolute = match std::env::current_dir() {
        Ok(cwd) if given.is_relative() => cwd.join(given),
        _ => given.to_path_buf(),
    };
    let lexical = PathBuf::from(go_clean(&absolute.to_string_lossy()));
    match (lexical.parent(), lexical.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(lexical.clone()),
        _ => lexical,
    }
}

pub(crate) fn parse(rest: &str, redacted: &str) -> Result<SqliteUrl, DriverError> {
    let rest = rest.split_once('#').map(|(a, _)| a).unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(invalid(
            redacted,
            "path",
            "missing database file: use sqlite://relative/file.db, sqlite:///absolute/file.db or sqlite://name?mode=memory",
        ));
    }
    let mut out = SqliteUrl {
        path: path.to_string(),
        create: true,
        busy_timeout: Duration::from_secs(5),
        ..SqliteUrl::default()
    };
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "mode" => match v.as_ref() {
                "memory" => out.in_memory = true,
                "ro" => {
                    out.read_only = true;
                    out.create = false;
                }
                "rw" => out.create = false,
                "rwc" => out.create = true,
                other => {
                    return Err(invalid(
                        redacted,
                        "mode",
                        format!("unknown value {other:?}; use one of ro, rw, rwc, memory"),
                    ));
                }
            },
            "_fk" | "_foreign_keys" => {
                out.foreign_keys = parse_bool(&v).ok_or_else(|| {
                    invalid(redacted, &k, format!("{v:?} is not a boolean (use 1 or 0)"))
                })?
            }
            "_busy_timeout" | "_timeout" => {
                let ms: u64 = v.parse().map_err(|_| {
                    invalid(
                        redacted,
                        &k,
                        format!("{v:?} is not a whole number of milliseconds"),
                    )
                })?;
                out.busy_timeout = Duration::from_millis(ms);
            }
            "_journal_mode" | "_journal" => out.journal_mode = Some(v.to_ascii_uppercase()),
            "_sync" | "_synchronous" => out.synchronous = Some(v.to_ascii_uppercase()),
            "_locking_mode" | "_locking" => out.locking_mode = Some(v.to_ascii_uppercase()),
            "cache" => out.shared_cache = v == "shared",
            // mattn/go-sqlite3 ignores what it does not know; so do we.
            _ => {}
        }
    }
    if out.in_memory {
        // Atlas prefixes memory DSNs with "file:", which makes its lock name carry a checksum of host+path.
        out.lock_suffix = Some(format!(
            "{:x}",
            super::lock::adler32(go_clean(path).as_bytes())
        ));
    }
    Ok(out)
}

/// Go's `filepath.Clean` for the joined host and path (enough for lock-file names).
pub(crate) fn go_clean(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::{Target, parse};
    use strata_migrate::Dialect;

    #[test]
    fn sqlite_urls() {
        let u = parse("sqlite://file.db?_fk=1").unwrap();
        assert_eq!(u.dialect(), Dialect::Sqlite);
        assert_eq!(u.bound_schema(), Some("main"));
        let Target::Sqlite(s) = &u.target else {
            panic!()
        };
        assert_eq!(s.path, "file.db");
        assert!(s.foreign_keys && s.create && !s.in_memory);
        assert_eq!(s.lock_suffix, None);

        let u = parse("sqlite3:///var/lib/app/app.db").unwrap();
        let Target::Sqlite(s) = &u.target else {
            panic!()
        };
        assert_eq!(s.path, "/var/lib/app/app.db");
        assert!(!s.foreign_keys);

        let u = parse("sqlite://dev?mode=memory&_fk=1").unwrap();
        let Target::Sqlite(s) = &u.target else {
            panic!()
        };
        assert!(s.in_memory);
        // adler32("dev") = 0x026f0140
        assert_eq!(s.lock_suffix.as_deref(), Some("26f0140"));

        assert!(matches!(
            parse("sqlite://"),
            Err(DriverError::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse("sqlite://x.db?mode=weird"),
            Err(DriverError::InvalidUrl { .. })
        ));
    }
}
