//! GitHub Actions workflow commands, so findings show on the pull request's lines:
//! `::warning file=<path>,line=<n>,title=<report text>::<message> (<CODE>)%0A%0ADetails: <url>` (`::error` for a
//! finding that fails the run), and `::error file=<path>,line=<n>,title=…::<error>` for a file that could not be
//! analysed. Escaping follows the runner's rules: in the message `%`, CR and LF; in property values also `:` and
//! `,`.

use std::fmt::Write as _;

use crate::report::Report;
use crate::rule::Severity;
use crate::rules;

/// Escapes a command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One command per finding and per file error.
pub fn render(report: &Report) -> String {
    let mut s = String::new();
    for f in &report.files {
        let file = escape_property(&f.name);
        if let Some(e) = &f.error {
            let _ = writeln!(
                s,
                "::error file={file},line={},title={}::{}",
                e.line,
                escape_property("file could not be analyzed"),
                escape_data(&e.message)
            );
        }
        for d in &f.findings {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut message = format!("{} ({})", d.message, d.code);
            if let Some(url) = rules::find(d.code).and_then(|r| r.url()) {
                let _ = write!(message, "\n\nDetails: {url}");
            }
            if let Some(fix) = &d.fix {
                let _ = write!(message, "\nSuggested fix: {fix}");
            }
            let _ = writeln!(
                s,
                "::{level} file={file},line={},title={}::{}",
                d.line,
                escape_property(d.analyzer.report_text()),
                escape_data(&message)
            );
        }
    }
    s
}
