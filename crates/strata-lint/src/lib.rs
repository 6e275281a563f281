//! Migration lint, no I/O.
//!
//! - [`source`]: a file split into statements as `migrate apply` splits it ([`strata_migrate::scan`], so lines
//!   match), each parsed once with `sqlparser`, with its `atlas:nolint` / `atlas:txmode` directives;
//! - [`rules`]: one rule per file, registered in [`rules::ALL`]: change rules over the typed
//!   [`strata_schema::Changes`] a replay found per statement (Atlas's DS/MF/MY/LT/CD codes and words), statement
//!   rules over the syntax trees (renames BC101/BC102, MY102, PostgreSQL PG1xx/PG3xx, squawk's rules as ST1xx,
//!   naming NM1xx);
//! - [`check::lint`]: runs them with the [`Config`] (per analyzer and per rule `error` / `warning` / `off`);
//! - [`report`] and [`render`]: the typed report and its formats (Atlas's text layout, JSON, GitHub workflow
//!   commands, SARIF 2.1.0).
//!
//! `strata lint FILE…` runs the statement rules alone ([`lint_file`]); `migrate lint` adds the replay's changes
//! through [`check::Input`].
#![warn(missing_docs)]

pub mod check;
pub mod config;
pub mod names;
pub mod render;
pub mod report;
pub mod rule;
pub mod rules;
pub mod source;
pub mod state;

use std::time::Duration;

pub use check::{Input, lint};
pub use config::{Config, ConfigError, NameKind};
pub use report::{FileError, FileReport, Finding, Header, Report, Title};
pub use rule::{Analyzer, Level, Rule, Severity};
pub use source::{SourceError, SourceFile};
pub use strata_migrate::Dialect;

/// Lints one loose file with the statement rules (`strata lint`): a file the scanner or a directive refuses is
/// reported as the file's error, with its line.
pub fn lint_file(dialect: Dialect, name: &str, content: &str, config: &Config) -> FileReport {
    let (findings, error) = match SourceFile::parse(dialect, name, content) {
        Ok(file) => (lint(&file, &Input::default(), config), None),
        Err(e) => (
            Vec::new(),
            Some(FileError {
                line: e.line(),
                message: e.message(),
            }),
        ),
    };
    FileReport {
        name: name.to_owned(),
        title: Title::File,
        text: content.to_owned(),
        findings,
        error,
        changes: None,
        duration: Duration::ZERO,
    }
}
