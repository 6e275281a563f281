//! No credential of a target URL reaches the registry (issue 10, item 8), the client's side: its deployment
//! records and error texts, whatever password the URL held, written unencoded (`/`, `?`, `#`, `@` included). The
//! server's side (what it stores and shows for a report) is `strata-registry/tests/credentials.rs`.
#![cfg(feature = "engine")]

use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use strata_engine::report::{AppliedFile, ApplyReport, FileRef, StmtError};
use strata_registry_client::{self as client, Client};

/// A password as typed into a URL by hand: any printable ASCII, unencoded.
const PASSWORD: &str = "[ -~]{8,32}";

/// Every string inside a JSON value (so a password is found even where JSON escapes it).
fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(strings(v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn assert_absent(pw: &str, what: &str, v: &serde_json::Value) {
    for s in strings(v) {
        assert!(!s.contains(pw), "{what} holds the password {pw:?}: {s:?}");
    }
}

/// An apply that failed on its first statement, the database's error echoing the URL as an older client could.
fn failed_report(url: &str) -> ApplyReport {
    let now = jiff::Timestamp::now();
    let file = FileRef {
        name: "1_init.sql".into(),
        version: "1".into(),
        description: "init".into(),
    };
    ApplyReport {
        driver: "postgres".into(),
        url: None,
        dir: "strata://app".into(),
        pending: vec![file.clone()],
        applied: vec![AppliedFile {
            file,
            start: now,
            end: now,
            skipped: 0,
            applied: vec!["SELECT 1;".into()],
            error: Some(StmtError {
                stmt: "SELECT 1;".into(),
                text: format!("cannot use {url}"),
            }),
        }],
        current: String::new(),
        target: "1".into(),
        start: now,
        end: now,
        error: format!("sql/migrate: connecting to {url}: refused"),
        message: None,
    }
}

/// The client side: the target and the error texts of both kinds of deployment record, and every message about
/// a registry URL holding a password.
#[test]
fn client_records_and_messages_never_hold_the_password() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(RunnerConfig::with_cases(128));
    runner
        .run(&PASSWORD, |pw| {
            let url = format!("postgres://u:{pw}@127.0.0.1:1/x?sslmode=disable");
            // What the CLI sends after a failure before any statement: the engine's error text.
            let error = match strata_driver::url::parse(&url) {
                Err(e) => e.to_string(),
                Ok(u) => format!("connecting to {u}: connection refused"),
            };
            for (what, d) in [
                (
                    "failed_deployment",
                    client::failed_deployment("app", &url, Some("v1"), None, &error),
                ),
                (
                    "failed_deployment (raw URL in the error)",
                    client::failed_deployment("app", &url, None, None, &format!("at {url}")),
                ),
                (
                    "deployment_from_report",
                    client::deployment_from_report("app", &url, None, None, &failed_report(&url)),
                ),
            ] {
                assert_absent(&pw, what, &serde_json::to_value(&d).unwrap());
            }
            assert!(!client::target_of(&url).contains(&pw));

            // A registry URL with a password: refused, or unreachable; neither message shows it.
            let base = format!("http://ci:{pw}@127.0.0.1:1");
            let message = match Client::new(&base, Some("strata_tok".into())) {
                Err(e) => e.to_string(),
                Ok(c) => {
                    assert!(!format!("{c:?}").contains(&pw), "{c:?}");
                    let fetched =
                        rt.block_on(c.fetch("app", "app", &client::Ref::Tag("v1".into())));
                    fetched.expect_err("nothing listens on port 1").to_string()
                }
            };
            assert!(!message.contains(&pw), "{message}");
            Ok(())
        })
        .unwrap();
}
