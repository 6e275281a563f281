//! Atlas's JSON shape (`--format '{{ json . }}'`, what atlas-action and atlasexec read): per file
//! `{Name, Text, Reports[{Text, Diagnostics[{Pos, Text, Code, SuggestedFixes[{Message}]}]}], Error?}`. The file's
//! `Error` is its scan or replay error, or else the report texts of the analyzers whose findings fail the run,
//! joined with `"; "`, as Atlas sets it. `migrate lint` adds `Env`, `Steps` and `Schema` around [`files`].

use serde_json::{Value, json};

use crate::report::{FileReport, Report};
use crate::rule::{Analyzer, Severity};

/// One file in Atlas's shape.
pub fn file(f: &FileReport) -> Value {
    let mut reports = Vec::new();
    let mut failing = Vec::new();
    for a in Analyzer::ALL {
        let group: Vec<_> = f.findings.iter().filter(|d| d.analyzer == a).collect();
        if group.is_empty() {
            continue;
        }
        if group.iter().any(|d| d.severity == Severity::Error) {
            failing.push(a.report_text());
        }
        let diagnostics: Vec<Value> = group
            .iter()
            .map(|d| {
                let mut v = json!({ "Pos": d.pos, "Text": d.message, "Code": d.code });
                if let Some(fix) = &d.fix {
                    v["SuggestedFixes"] = json!([{ "Message": fix }]);
                }
                v
            })
            .collect();
        reports.push(json!({ "Text": a.report_text(), "Diagnostics": diagnostics }));
    }
    let mut v = json!({ "Name": f.name, "Text": f.text, "Reports": reports });
    let error = match &f.error {
        Some(e) => Some(format!("{}:{}: {}", f.name, e.line, e.message)),
        None if !failing.is_empty() => Some(failing.join("; ")),
        None => None,
    };
    if let Some(e) = error {
        v["Error"] = Value::String(e);
    }
    v
}

/// The files of a report.
pub fn files(report: &Report) -> Value {
    Value::Array(report.files.iter().map(file).collect())
}

/// `{"Files": […]}`, one line (`strata lint --format json`).
pub fn render(report: &Report) -> String {
    let mut s = json!({ "Files": files(report) }).to_string();
    s.push('\n');
    s
}
