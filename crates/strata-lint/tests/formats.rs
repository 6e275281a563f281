//! The report formats on one report with findings of both severities and a file that could not be read: snapshots
//! of each, the SARIF log validated against the SARIF 2.1.0 JSON schema (OASIS, errata 01, committed as test data),
//! and every GitHub line checked against the workflow-command syntax.

use std::time::Duration;

use strata_lint::render::{github, json, sarif, text};
use strata_lint::{Config, Dialect, Header, Report, lint_file};

fn report() -> Report {
    let cfg = Config::default();
    let a = lint_file(
        Dialect::Postgres,
        "migrations/2_index, users.sql",
        "-- atlas:txmode none\n\nCREATE INDEX users_email ON users (email);\nDROP DATABASE app;\nALTER TABLE users ADD CONSTRAINT c CHECK (a > 0); -- 100% sure: yes\n",
        &cfg,
    );
    let b = lint_file(
        Dialect::Postgres,
        "migrations/3_bad.sql",
        "SELECT 1;\nSELECT 'open;\n",
        &cfg,
    );
    Report {
        header: Header::Plain,
        files: vec![a, b],
        duration: Duration::ZERO,
    }
}

#[test]
fn text_json_and_github_snapshots() {
    let r = report();
    assert!(r.has_errors());
    insta::assert_snapshot!("text", text::render(&r, &|_| "DUR".into()));
    insta::assert_snapshot!("json", json::render(&r));
    insta::assert_snapshot!("github", github::render(&r));
}

#[test]
fn github_lines_are_workflow_commands() {
    let syntax = regex::Regex::new(
        r"^::(error|warning|notice) file=[^,:\r\n]+,line=[0-9]+,title=[^,:\r\n]+::[^\r\n]+$",
    )
    .unwrap();
    let out = github::render(&report());
    let lines: Vec<&str> = out.split_terminator('\n').collect();
    assert_eq!(lines.len(), 7, "{out}");
    for l in &lines {
        assert!(syntax.is_match(l), "not a workflow command: {l}");
    }
    // Escapes decode back to the original text.
    assert!(out.contains("file=migrations/2_index%2C users.sql,"));
    assert!(out.contains("%0A%0ADetails: https://squawkhq.com/docs/ban-drop-database"));
    assert_eq!(github::escape_data("100% a\r\nb"), "100%25 a%0D%0Ab");
    assert_eq!(github::escape_property("a:b,c"), "a%3Ab%2Cc");
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let log = sarif::log(&report(), "0.1.0");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A log that breaks the schema is caught (the validator is not vacuous).
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
    insta::assert_snapshot!("sarif", sarif::render(&report(), "0.1.0"));
}
