//! The typed result of a lint run, rendered by [`crate::render`].

use std::time::Duration;

use serde::Serialize;

use crate::rule::{Analyzer, Severity};

/// One finding: a rule fired on a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, as the report names it.
    pub file: String,
    /// 1-based line of the statement's start.
    pub line: usize,
    /// Byte offset of the statement's start.
    pub pos: usize,
    /// The rule's code (`DS102`).
    pub code: &'static str,
    /// The rule's name (`drop-table`).
    pub name: &'static str,
    /// The analyzer it reports under.
    pub analyzer: Analyzer,
    /// Whether it fails the run.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do instead, when the rule knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What a report's first line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// `Analyzing changes from version A to B (N migrations in total):`.
    Range {
        /// The last version before the linted files.
        from: String,
        /// The last linted version.
        to: String,
        /// How many files are linted.
        count: usize,
    },
    /// `Analyzing changes until version V (N migrations in total):` (no file before the linted ones).
    Until {
        /// The last linted version.
        to: String,
        /// How many files are linted.
        count: usize,
    },
    /// `Analyzing changes:` (`strata lint` on loose files).
    Plain,
}

/// How a linted file is named in the text layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Title {
    /// `-- analyzing version V` (a migration directory).
    Version(String),
    /// `-- analyzing NAME` (a loose file).
    File,
}

/// The report of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file's name as findings carry it.
    pub name: String,
    /// How the text layout names it.
    pub title: Title,
    /// The file body (Atlas's JSON carries it).
    pub text: String,
    /// Findings in statement order.
    pub findings: Vec<Finding>,
    /// Why the file could not be analysed (scanner, directive or replay failure), with its line.
    pub error: Option<FileError>,
    /// Schema changes the file made, when it was replayed.
    pub changes: Option<usize>,
    /// Time spent on the file.
    pub duration: Duration,
}

/// A file that could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// 1-based line.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl FileReport {
    /// Whether the file fails the run: an error-level finding or a file error.
    pub fn has_errors(&self) -> bool {
        self.error.is_some() || self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The first line.
    pub header: Header,
    /// The files in order.
    pub files: Vec<FileReport>,
    /// Time spent in total.
    pub duration: Duration,
}

impl Report {
    /// Whether the run fails (exit code 1).
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(FileReport::has_errors)
    }

    /// Every finding of every file.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.files.iter().flat_map(|f| f.findings.iter())
    }
}
