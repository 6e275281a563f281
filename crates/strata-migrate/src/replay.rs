//! What replaying a directory on a dev database runs, and the content addresses of its prefixes.
//!
//! A replay (`migrate diff`, `migrate validate --dev-url`, a migration directory as a desired state) runs the
//! files from the last checkpoint on (Atlas: a checkpoint file holds the whole schema up to it, so nothing before
//! it needs to run): [`start`].
//!
//! The schema a replay ends with depends only on the files it ran and on the database it ran them on. So the
//! schema after the files `start..=i` can be cached under a key that covers exactly that: [`prefix_keys`]
//! chains one SHA-256 state over a context (the caller's description of the database: dialect, server version,
//! bound schema, Strata's version) and, per file, its name and raw bytes, each preceded by its length so no two
//! different inputs feed the same bytes. Key `i` is the digest after file `i`. Like `atlas.sum`'s running hash,
//! editing, adding, removing or renaming any earlier file changes every later key, so an edited history never
//! matches a cached one. Unlike `atlas.sum`, files marked `atlas:sum ignore` are covered too (their bytes never
//! enter `atlas.sum`, but they do run).

use sha2::{Digest as _, Sha256};

use crate::dir::MigrationFile;
use crate::error::DirError;

/// The index of the first file a replay runs: the last checkpoint file, or `0` without one.
pub fn start(files: &[MigrationFile]) -> Result<usize, DirError> {
    let mut start = 0;
    for (i, f) in files.iter().enumerate() {
        if f.is_checkpoint()? {
            start = i;
        }
    }
    Ok(start)
}

/// The content address of a replay prefix: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefixKey(String);

impl PrefixKey {
    /// The key as hex text (a file name).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PrefixKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn feed(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// One key per file of `files` (the files a replay runs, in order): key `i` addresses the schema after running
/// `files[..=i]` on a database described by `context`.
pub fn prefix_keys(context: &[u8], files: &[MigrationFile]) -> Vec<PrefixKey> {
    let mut h = Sha256::new();
    h.update(b"strata replay prefix v1\0");
    feed(&mut h, context);
    files
        .iter()
        .map(|f| {
            feed(&mut h, f.name().as_bytes());
            feed(&mut h, f.bytes());
            PrefixKey(hex(&h.clone().finalize()))
        })
        .collect()
}

/// Whether a statement only creates something new, whatever exists already: `CREATE` of a table, index, type,
/// sequence, schema or database (MySQL), neither `CREATE OR REPLACE` nor `… IF NOT EXISTS`. Such a statement
/// either fails without the objects it refers to or creates exactly what it would create among them (or clashes
/// with an existing name, which the caller checks). Views, triggers and routines are left out: some databases
/// accept them over objects that do not exist and only complain when they run. Leading comments (the scanner
/// attaches them to the statement) are skipped.
pub fn is_plain_create(stmt: &str) -> bool {
    let mut rest = stmt.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let words: Vec<String> = rest
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_ascii_uppercase)
        .collect();
    const KINDS: [&str; 6] = ["TABLE", "INDEX", "TYPE", "SEQUENCE", "SCHEMA", "DATABASE"];
    // `CREATE [UNIQUE] INDEX`, `CREATE [UNLOGGED] TABLE`: the kind is the second or third word.
    let kind = words
        .get(1..3)
        .is_some_and(|w| w.iter().any(|w| KINDS.contains(&w.as_str())))
        || words.get(1).is_some_and(|w| KINDS.contains(&w.as_str()));
    words.first().is_some_and(|w| w == "CREATE")
        && words.get(1).is_some_and(|w| w != "OR")
        && kind
        && !words
            .windows(3)
            .any(|w| w[0] == "IF" && w[1] == "NOT" && w[2] == "EXISTS")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<MigrationFile> {
        list.iter()
            .map(|(n, c)| MigrationFile::new(*n, c.as_bytes()))
            .collect()
    }

    #[test]
    fn replay_starts_at_the_last_checkpoint() {
        let plain = files(&[
            ("1_a.sql", "CREATE TABLE a (x int);"),
            ("2_b.sql", "SELECT 1;"),
        ]);
        assert_eq!(start(&plain).unwrap(), 0);
        let with = files(&[
            ("1_a.sql", "CREATE TABLE a (x int);"),
            ("2_c.sql", "-- atlas:checkpoint\n\nCREATE TABLE a (x int);"),
            ("3_b.sql", "SELECT 1;"),
            (
                "4_c.sql",
                "-- atlas:checkpoint v2\n\nCREATE TABLE a (x int);",
            ),
            ("5_d.sql", "SELECT 2;"),
        ]);
        assert_eq!(start(&with).unwrap(), 3);
        assert_eq!(start(&[]).unwrap(), 0);
    }

    #[test]
    fn plain_creates_are_told_apart() {
        for yes in [
            "CREATE TABLE t (id int)",
            "create unique index i on t (c);",
            "-- Create \"t\" table\nCREATE TABLE t(id int)",
            "/* x */ CREATE SEQUENCE s",
            "CREATE TABLE t (c text DEFAULT 'IF NOT EXISTS')",
            "CREATE UNLOGGED TABLE t (id int)",
            "CREATE TYPE e AS ENUM ('a')",
        ] {
            assert!(is_plain_create(yes), "{yes}");
        }
        for no in [
            "CREATE OR REPLACE VIEW v AS SELECT 1",
            "CREATE VIEW v AS SELECT * FROM missing",
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
            "CREATE TABLE IF NOT EXISTS t (id int)",
            "create index if not exists i on t (c)",
            "ALTER TABLE t ADD COLUMN c int",
            "DROP TABLE IF EXISTS t",
            "INSERT INTO t VALUES (1)",
            "CREATE",
            "",
            "-- only a comment",
        ] {
            assert!(!is_plain_create(no), "{no}");
        }
    }

    #[test]
    fn keys_chain_every_earlier_file_and_the_context() {
        let base = files(&[("1.sql", "a"), ("2.sql", "b"), ("3.sql", "c")]);
        let k = prefix_keys(b"postgres 16", &base);
        assert_eq!(k.len(), 3);
        assert_eq!(k[0].as_str().len(), 64);
        assert!(k[0].as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        // Deterministic.
        assert_eq!(k, prefix_keys(b"postgres 16", &base));
        // Another database: every key differs.
        let other = prefix_keys(b"postgres 17", &base);
        assert!(k.iter().zip(&other).all(|(a, b)| a != b));
        // Editing the first file changes every key; editing the last changes only the last.
        let edited_first = files(&[("1.sql", "a "), ("2.sql", "b"), ("3.sql", "c")]);
        let e = prefix_keys(b"postgres 16", &edited_first);
        assert!(k.iter().zip(&e).all(|(a, b)| a != b));
        let edited_last = files(&[("1.sql", "a"), ("2.sql", "b"), ("3.sql", "c2")]);
        let e = prefix_keys(b"postgres 16", &edited_last);
        assert_eq!(k[..2], e[..2]);
        assert_ne!(k[2], e[2]);
        // A renamed file is another history.
        let renamed = files(&[("1.sql", "a"), ("2x.sql", "b"), ("3.sql", "c")]);
        assert_ne!(prefix_keys(b"postgres 16", &renamed)[1], k[1]);
        // Lengths separate name and content: ("1.sqla", "") is not ("1.sql", "a").
        let shifted = files(&[("1.sqla", "")]);
        assert_ne!(prefix_keys(b"postgres 16", &shifted)[0], k[0]);
        // A sum-ignored file still counts.
        let ignored = files(&[("1.sql", "-- atlas:sum ignore\nx"), ("2.sql", "b")]);
        let ignored2 = files(&[("1.sql", "-- atlas:sum ignore\ny"), ("2.sql", "b")]);
        assert_ne!(
            prefix_keys(b"", &ignored)[1],
            prefix_keys(b"", &ignored2)[1]
        );
    }
}
