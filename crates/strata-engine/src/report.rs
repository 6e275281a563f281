//! Structured results of `apply`, in the shape Atlas's JSON output has (the Go SDK, the GitHub action and the
//! Terraform provider parse it), and their text rendering in Atlas's layout.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::godur;

/// A migration file as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FileRef {
    /// File name.
    pub name: String,
    /// Version part of the name.
    pub version: String,
    /// Description part of the name.
    pub description: String,
}

impl FileRef {
    /// The reference for a directory file.
    pub fn of(f: &strata_migrate::MigrationFile) -> Self {
        Self {
            name: f.name().into(),
            version: f.version().into(),
            description: f.description().into(),
        }
    }
}

/// The target URL as Atlas serialises it: the exported fields of Go's `net/url.URL` plus `Schema`. Credentials
/// never appear: `User` is `{}` when the URL has one (as in Go) and `RawQuery` is redacted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UrlInfo {
    /// Scheme, e.g. `postgres`.
    pub scheme: String,
    /// Always empty.
    pub opaque: String,
    /// `{}` when the URL names a user, `null` otherwise.
    #[serde(serialize_with = "user_json")]
    pub user: bool,
    /// Host and port.
    pub host: String,
    /// Path, e.g. `/app`.
    pub path: String,
    /// Always empty.
    pub raw_path: String,
    /// Always false.
    pub omit_host: bool,
    /// Always false.
    pub force_query: bool,
    /// Query string without the `?`, secrets redacted.
    pub raw_query: String,
    /// Always empty.
    pub fragment: String,
    /// Always empty.
    pub raw_fragment: String,
    /// The schema the URL binds, if any.
    pub schema: String,
}

fn user_json<S: Serializer>(has_user: &bool, s: S) -> Result<S::Ok, S::Error> {
    if *has_user {
        serde_json::Map::new().serialize(s)
    } else {
        s.serialize_none()
    }
}

/// A failed statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StmtError {
    /// The statement text; empty when the file's transaction failed at COMMIT (e.g. a deferred constraint).
    pub stmt: String,
    /// The database's error text.
    pub text: String,
}

/// One file of an apply run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppliedFile {
    /// The file.
    #[serde(flatten)]
    pub file: FileRef,
    /// When it started.
    #[serde(serialize_with = "time_json")]
    pub start: Timestamp,
    /// When it ended.
    #[serde(serialize_with = "time_json")]
    pub end: Timestamp,
    /// Statements skipped because an earlier attempt applied them (partial resume).
    pub skipped: usize,
    /// Statements run, in order; with an error, the last one is the one that failed.
    pub applied: Vec<String>,
    /// The failure, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StmtError>,
}

/// The outcome of `migrate apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApplyReport {
    /// Driver name: `postgres`, `mysql` or `sqlite`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// The target, redacted.
    #[serde(rename = "URL", skip_serializing_if = "Option::is_none")]
    pub url: Option<UrlInfo>,
    /// The directory location.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dir: String,
    /// Files that were pending when the run started (after `amount` / `--to-version`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<FileRef>,
    /// Files run, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<AppliedFile>,
    /// Version before the run (empty on a first run).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub current: String,
    /// Version the run aims at.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Start of the run (after the lock and revisions-table setup).
    #[serde(serialize_with = "time_json")]
    pub start: Timestamp,
    /// End of the run.
    #[serde(serialize_with = "time_json")]
    pub end: Timestamp,
    /// The error that stopped the run, if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Summary line; absent when `Error` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// RFC 3339 with nanoseconds and trailing zeros trimmed, as Go's `time.Time` marshals.
fn time_json<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

fn plural(n: usize, word: &str) -> String {
    if n > 1 {
        format!("{n} {word}s")
    } else {
        format!("{n} {word}")
    }
}

/// Atlas's summary shapes: `<n> x`, `<n> x ok, <m> with errors`, `<m> x with errors` (plural only above one).
fn tally(ok: usize, failed: usize, word: &str) -> String {
    match (ok, failed) {
        (ok, 0) => plural(ok, word),
        (0, failed) => format!("{} with errors", plural(failed, word)),
        (ok, failed) => format!("{} ok, {failed} with errors", plural(ok, word)),
    }
}

/// Indents every line after the first by `n` spaces (Atlas's `indent_ln`).
fn indent_ln(s: &str, n: usize) -> String {
    s.replace('\n', &format!("\n{}", " ".repeat(n)))
}

fn elapsed(start: Timestamp, end: Timestamp) -> Duration {
    Duration::try_from(end.duration_since(start)).unwrap_or_default()
}

impl ApplyReport {
    /// The `Message` Atlas computes: `Migrated to version <target> from <current> (<N> migrations in total)`,
    /// or `No migration files to execute`.
    pub fn summary_message(&self) -> String {
        if self.applied.is_empty() {
            "No migration files to execute".into()
        } else {
            format!(
                "Migrated to version {} from {} ({} migrations in total)",
                self.target,
                self.current,
                self.pending.len()
            )
        }
    }

    /// Fills `Message` (unless there is an error), as the JSON output expects.
    pub fn finish(&mut self) {
        self.message = self.error.is_empty().then(|| self.summary_message());
    }

    /// Atlas's text layout (colour-free; the CLI adds colour on a terminal).
    pub fn to_text(&self) -> String {
        if self.pending.is_empty() {
            return "No migration files to execute\n".into();
        }
        let mut s = format!("Migrating to version {}", self.target);
        if !self.current.is_empty() {
            s.push_str(&format!(" from {}", self.current));
        }
        s.push_str(&format!(" ({} migrations in total):\n", self.pending.len()));
        let (mut files_ok, mut files_failed, mut stmts_ok, mut stmts_failed) = (0, 0, 0, 0);
        for f in &self.applied {
            s.push_str(&format!("\n  -- migrating version {}\n", f.file.version));
            for stmt in &f.applied {
                s.push_str(&format!("    -> {}\n", indent_ln(stmt, 7)));
            }
            match &f.error {
                Some(e) => {
                    s.push_str(&format!("    {}\n", e.text));
                    files_failed += 1;
                    stmts_failed += 1;
                    stmts_ok += f.applied.len().saturating_sub(1);
                }
                None => {
                    s.push_str(&format!(
                        "  -- ok ({})\n",
                        godur::format(elapsed(f.start, f.end))
                    ));
                    files_ok += 1;
                    stmts_ok += f.applied.len();
                }
            }
        }
        s.push_str("\n  -------------------------\n");
        s.push_str(&format!(
            "  -- {}\n",
            godur::format(elapsed(self.start, self.end))
        ));
        s.push_str(&format!(
            "  -- {}\n",
            tally(files_ok, files_failed, "migration")
        ));
        s.push_str(&format!(
            "  -- {}\n",
            tally(stmts_ok, stmts_failed, "sql statement")
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(1_705_363_200_000 + ms).unwrap()
    }

    fn file(v: &str) -> FileRef {
        FileRef {
            name: format!("{v}.sql"),
            version: v.into(),
            description: String::new(),
        }
    }

    fn golden_report() -> ApplyReport {
        ApplyReport {
            driver: "postgres".into(),
            url: Some(UrlInfo {
                scheme: "postgres".into(),
                user: true,
                host: "localhost:5432".into(),
                path: "/app".into(),
                raw_query: "sslmode=disable".into(),
                ..UrlInfo::default()
            }),
            dir: "file://migrations".into(),
            pending: vec![file("20240116000002"), file("20240116000003")],
            applied: vec![
                AppliedFile {
                    file: file("20240116000002"),
                    start: t(0),
                    end: t(1),
                    skipped: 0,
                    applied: vec![
                        "CREATE TABLE t1 (id int NOT NULL);".into(),
                        "CREATE TABLE t2 (id int NOT NULL);".into(),
                    ],
                    error: None,
                },
                AppliedFile {
                    file: file("20240116000003"),
                    start: t(1),
                    end: t(9),
                    skipped: 0,
                    applied: vec![
                        "CREATE TABLE t3 (id int NOT NULL);".into(),
                        "CREATE TABLE t4 (id int NOT NULL);".into(),
                    ],
                    error: Some(StmtError {
                        stmt: "CREATE TABLE t4 (id int NOT NULL);".into(),
                        text: "table t4 already exists".into(),
                    }),
                },
            ],
            current: "20240116000001".into(),
            target: "20240116000003".into(),
            start: t(0),
            end: t(10),
            error: "table t4 already exists".into(),
            message: None,
        }
    }

    #[test]
    fn text_matches_the_atlas_golden() {
        let want =
            "Migrating to version 20240116000003 from 20240116000001 (2 migrations in total):

  -- migrating version 20240116000002
    -> CREATE TABLE t1 (id int NOT NULL);
    -> CREATE TABLE t2 (id int NOT NULL);
  -- ok (1ms)

  -- migrating version 20240116000003
    -> CREATE TABLE t3 (id int NOT NULL);
    -> CREATE TABLE t4 (id int NOT NULL);
    table t4 already exists

  -------------------------
  -- 10ms
  -- 1 migration ok, 1 with errors
  -- 3 sql statements ok, 1 with errors
";
        assert_eq!(golden_report().to_text(), want);
    }

    #[test]
    fn text_shapes_without_errors_and_multiline_statements() {
        let mut r = golden_report();
        r.applied.truncate(1);
        r.applied[0].applied[1] = "CREATE TABLE t2 (\n  id int\n);".into();
        r.current.clear();
        r.error.clear();
        let text = r.to_text();
        assert!(
            text.starts_with("Migrating to version 20240116000003 (2 migrations in total):\n"),
            "{text}"
        );
        assert!(
            text.contains("    -> CREATE TABLE t2 (\n         id int\n       );\n"),
            "{text}"
        );
        assert!(
            text.ends_with("  -- 1 migration\n  -- 2 sql statements\n"),
            "{text}"
        );
        r.pending.clear();
        assert_eq!(r.to_text(), "No migration files to execute\n");
    }

    #[test]
    fn json_has_atlas_keys_and_no_credentials() {
        let mut r = golden_report();
        r.finish();
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Driver", "URL", "Dir", "Pending", "Applied", "Current", "Target", "Start", "End",
                "Error"
            ]
        );
        assert_eq!(v["URL"]["User"], serde_json::json!({}));
        assert_eq!(
            v["Applied"][1]["Error"]["Stmt"],
            "CREATE TABLE t4 (id int NOT NULL);"
        );
        assert_eq!(v["Applied"][0]["Name"], "20240116000002.sql");
        assert_eq!(v["Start"], "2024-01-16T00:00:00Z");
        assert_eq!(v["Applied"][0]["End"], "2024-01-16T00:00:00.001Z");
        r.error.clear();
        r.current.clear();
        r.finish();
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        // Atlas emits two spaces after "from" on a first run; keep it for parsers that match it.
        assert_eq!(
            v["Message"],
            "Migrated to version 20240116000003 from  (2 migrations in total)"
        );
    }

    #[test]
    fn tallies_pluralise_only_above_one() {
        assert_eq!(tally(1, 0, "migration"), "1 migration");
        assert_eq!(tally(2, 0, "migration"), "2 migrations");
        assert_eq!(tally(0, 1, "migration"), "1 migration with errors");
        assert_eq!(
            tally(3, 1, "sql statement"),
            "3 sql statements ok, 1 with errors"
        );
    }
}
