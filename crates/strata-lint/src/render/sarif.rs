//! SARIF 2.1.0 (code scanning): one run of the tool `strata`, the rules that fired as `reportingDescriptor`s, one
//! result per finding located at its file and line, and files that could not be analysed as tool execution
//! notifications (with `executionSuccessful: false`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::report::Report;
use crate::rule::Severity;
use crate::rules;

/// A path as a URI reference: bytes outside the unreserved set and `/` percent-encoded.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The SARIF log as a value; `version` is the tool's version.
pub fn log(report: &Report, version: &str) -> Value {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for d in report.findings() {
        let n = index.len();
        index.entry(d.code).or_insert(n);
    }
    let mut descriptors: Vec<(usize, Value)> = index
        .iter()
        .filter_map(|(code, i)| {
            let r = rules::find(code)?;
            let mut d = json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "properties": { "analyzer": r.analyzer.name() },
            });
            if let Some(url) = r.url() {
                d["helpUri"] = url.into();
            }
            Some((*i, d))
        })
        .collect();
    descriptors.sort_by_key(|(i, _)| *i);
    let results: Vec<Value> = report
        .findings()
        .map(|d| {
            let text = match &d.fix {
                Some(fix) => format!("{} Suggested fix: {fix}", d.message),
                None => d.message.clone(),
            };
            json!({
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&d.file) },
                        "region": { "startLine": d.line },
                    }
                }],
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .files
        .iter()
        .filter_map(|f| {
            let e = f.error.as_ref()?;
            Some(json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.name) },
                        "region": { "startLine": e.line },
                    }
                }],
            }))
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "strata",
                    "version": version,
                    "informationUri": "https://atlasgo.io/lint/analyzers",
                    "rules": descriptors.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
                }
            },
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

/// The SARIF log, pretty-printed.
pub fn render(report: &Report, version: &str) -> String {
    let mut s = serde_json::to_string_pretty(&log(report, version)).unwrap_or_default();
    s.push('\n');
    s
}
