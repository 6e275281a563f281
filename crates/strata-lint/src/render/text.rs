//! Atlas's text layout (`migrate lint`'s default template), also used by `strata lint`:
//!
//! ```text
//! Analyzing changes from version 1 to 2 (1 migration in total):
//!
//!   -- analyzing version 2
//!     -- destructive changes detected:
//!       -- L1: Dropping table "users" https://atlasgo.io/lint/analyzers#DS102
//!     -- suggested fix:
//!       -> Add a pre-migration check to ensure table "users" is empty before dropping it
//!   -- ok (1.2ms)
//!
//!   -------------------------
//!   -- 3.4ms
//!   -- 1 version with errors
//!   -- 1 schema change
//!   -- 1 diagnostic
//! ```
//!
//! Diagnostics are grouped by analyzer (in [`Analyzer::ALL`] order), the group's fixes collected after it
//! (`suggested fixes:` when more than one). A diagnostic's text and link are packed word by word into lines of at
//! most 85 characters after the `L<line>:` prefix, continuation lines indented by 9 spaces. Durations are formatted by the
//! caller (Go's duration format, as Atlas prints them).

use std::fmt::Write as _;
use std::time::Duration;

use crate::report::{FileReport, Header, Report, Title};
use crate::rule::Analyzer;
use crate::rules;

/// The widest a diagnostic line gets, indentation aside.
const WIDTH: usize = 85;

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Packs `text` into lines of at most [`WIDTH`] characters, continuation lines prefixed by `indent`.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut len = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = word.chars().count();
        if len == 0 {
        } else if len + 1 + w <= WIDTH {
            out.push(' ');
            len += 1;
        } else {
            out.push('\n');
            out.push_str(indent);
            len = 0;
        }
        out.push_str(word);
        len += w;
    }
    out
}

/// Renders the report; `duration` formats times (the CLI passes Go's format; tests a fixed text).
pub fn render(report: &Report, duration: &dyn Fn(Duration) -> String) -> String {
    let mut s = String::new();
    let (one, many) = match report.files.first().map(|f| &f.title) {
        Some(Title::File) => ("file", "files"),
        _ => ("version", "versions"),
    };
    match &report.header {
        Header::Range { from, to, count } => {
            let _ = writeln!(
                s,
                "Analyzing changes from version {from} to {to} ({} in total):",
                plural(*count, "migration", "migrations")
            );
        }
        Header::Until { to, count } => {
            let _ = writeln!(
                s,
                "Analyzing changes until version {to} ({} in total):",
                plural(*count, "migration", "migrations")
            );
        }
        Header::Plain => s.push_str("Analyzing changes:\n"),
    }
    let (mut ok, mut warned, mut failed, mut changes, mut diagnostics) = (0, 0, 0, None, 0);
    for f in &report.files {
        file(&mut s, f, duration);
        if f.has_errors() {
            failed += 1;
        } else if f.findings.is_empty() {
            ok += 1;
        } else {
            warned += 1;
        }
        if let Some(n) = f.changes {
            *changes.get_or_insert(0) += n;
        }
        diagnostics += f.findings.len();
    }
    s.push_str("\n  -------------------------\n");
    let _ = writeln!(s, "  -- {}", duration(report.duration));
    if ok > 0 {
        let _ = writeln!(s, "  -- {} ok", plural(ok, one, many));
    }
    if warned > 0 {
        let _ = writeln!(s, "  -- {} with warnings", plural(warned, one, many));
    }
    if failed > 0 {
        let _ = writeln!(s, "  -- {} with errors", plural(failed, one, many));
    }
    if let Some(n) = changes {
        let _ = writeln!(s, "  -- {}", plural(n, "schema change", "schema changes"));
    }
    if diagnostics > 0 {
        let _ = writeln!(
            s,
            "  -- {}",
            plural(diagnostics, "diagnostic", "diagnostics")
        );
    }
    s
}

fn file(s: &mut String, f: &FileReport, duration: &dyn Fn(Duration) -> String) {
    s.push('\n');
    match &f.title {
        Title::Version(v) => {
            let _ = writeln!(s, "  -- analyzing version {v}");
        }
        Title::File => {
            let _ = writeln!(s, "  -- analyzing {}", f.name);
        }
    }
    if let Some(e) = &f.error {
        // A version's heading does not name its file: the error does (`2_add.sql:3:`), as the JSON `Error` does.
        match &f.title {
            Title::Version(_) => {
                let _ = writeln!(s, "    -- Error: {}:{}: {}", f.name, e.line, e.message);
            }
            Title::File => {
                let _ = writeln!(s, "    -- Error: L{}: {}", e.line, e.message);
            }
        }
    } else if f.findings.is_empty() {
        s.push_str("    -- no diagnostics found\n");
    }
    for a in Analyzer::ALL {
        let group: Vec<_> = f.findings.iter().filter(|d| d.analyzer == a).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(s, "    -- {}:", a.report_text());
        for d in &group {
            let text = match rules::find(d.code).and_then(|r| r.url()) {
                Some(url) => format!("{} {url}", d.message),
                None => d.message.clone(),
            };
            let _ = writeln!(s, "      -- L{}: {}", d.line, wrap(&text, "         "));
        }
        let fixes: Vec<&str> = group.iter().filter_map(|d| d.fix.as_deref()).collect();
        if !fixes.is_empty() {
            let _ = writeln!(
                s,
                "    -- {}:",
                if fixes.len() == 1 {
                    "suggested fix"
                } else {
                    "suggested fixes"
                }
            );
            for fix in fixes {
                let _ = writeln!(s, "      -> {fix}");
            }
        }
    }
    let status = if f.error.is_some() { "error" } else { "ok" };
    let _ = writeln!(s, "  -- {status} ({})", duration(f.duration));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_packs_words_into_85_columns() {
        let t = r#"Adding a non-nullable "integer" column "oid" will fail in case table "users" is not empty https://atlasgo.io/lint/analyzers#MF103"#;
        assert_eq!(
            wrap(t, "         "),
            "Adding a non-nullable \"integer\" column \"oid\" will fail in case table \"users\" is not\n         empty https://atlasgo.io/lint/analyzers#MF103"
        );
        let t = r#"Adding a non-nullable "character varying(20)" column "oid" will fail in case table "users" is not empty https://atlasgo.io/lint/analyzers#MF103"#;
        assert_eq!(
            wrap(t, "         "),
            "Adding a non-nullable \"character varying(20)\" column \"oid\" will fail in case table\n         \"users\" is not empty https://atlasgo.io/lint/analyzers#MF103"
        );
    }
}
