//! A pushed lint report (`strata migrate lint --format json`: `{"Files": [{"Name", "Text", "Reports":
//! [{"Text", "Diagnostics": [{"Pos", "Code", "Text", "SuggestedFixes"}]}], "Error"}]}`) as rows for the version
//! page. The report was checked when pushed (an object with named files); anything else in it is read leniently.

use serde_json::Value;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line of the statement in the file (from the byte position and the file text), when known.
    pub line: Option<usize>,
    /// The analyzer's heading (`destructive changes detected`).
    pub analyzer: String,
    /// The rule's code (`DS102`).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub fix: Option<String>,
}

/// One linted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The file name.
    pub name: String,
    /// Why the file fails (an error-level finding's analyzer, or a file error).
    pub error: Option<String>,
    /// Its findings.
    pub findings: Vec<Finding>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The files of a lint report; `file_text` gives a file's text when the report carries none.
pub fn files(report: &Value, file_text: impl Fn(&str) -> Option<String>) -> Vec<File> {
    let empty = Vec::new();
    report
        .get("Files")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(|f| {
            let name = text(f, "Name");
            let body = f
                .get("Text")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| file_text(&name));
            let mut findings = Vec::new();
            for r in f.get("Reports").and_then(Value::as_array).unwrap_or(&empty) {
                for d in r
                    .get("Diagnostics")
                    .and_then(Value::as_array)
                    .unwrap_or(&empty)
                {
                    let line = d
                        .get("Pos")
                        .and_then(Value::as_u64)
                        .zip(body.as_deref())
                        .map(|(pos, b)| {
                            let pos = (pos as usize).min(b.len());
                            b.as_bytes()[..pos].iter().filter(|&&c| c == b'\n').count() + 1
                        });
                    findings.push(Finding {
                        line,
                        analyzer: text(r, "Text"),
                        code: text(d, "Code"),
                        message: text(d, "Text"),
                        fix: d
                            .get("SuggestedFixes")
                            .and_then(Value::as_array)
                            .and_then(|a| a.first())
                            .map(|x| text(x, "Message"))
                            .filter(|m| !m.is_empty()),
                    });
                }
            }
            File {
                error: f.get("Error").and_then(Value::as_str).map(str::to_owned),
                name,
                findings,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn findings_get_their_lines() {
        let report = json!({"Files": [
            {"Name": "2_drop.sql", "Text": "-- x\nDROP TABLE users;\n", "Reports": [
                {"Text": "destructive changes detected", "Diagnostics": [
                    {"Pos": 5, "Code": "DS102", "Text": "Dropping table \"users\"",
                     "SuggestedFixes": [{"Message": "Add a pre-migration check"}]}]}],
             "Error": "destructive changes detected"},
            {"Name": "3_ok.sql", "Reports": []}
        ]});
        let f = files(&report, |_| None);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].findings,
            [Finding {
                line: Some(2),
                analyzer: "destructive changes detected".into(),
                code: "DS102".into(),
                message: "Dropping table \"users\"".into(),
                fix: Some("Add a pre-migration check".into()),
            }]
        );
        assert_eq!(f[0].error.as_deref(), Some("destructive changes detected"));
        assert!(f[1].findings.is_empty() && f[1].error.is_none());
    }

    #[test]
    fn the_version_text_is_used_when_the_report_has_none() {
        let report = json!({"Files": [{"Name": "a.sql", "Reports": [{"Text": "t", "Diagnostics": [
            {"Pos": 999, "Code": "X", "Text": "m"}]}]}]});
        let f = files(&report, |_| Some("a\nb\nc".into()));
        assert_eq!(f[0].findings[0].line, Some(3));
    }
}
