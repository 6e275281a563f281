//! No credential of a target URL reaches the registry (issue 10, item 8): not what the server stores and shows
//! for a report, whatever password the URL held, written unencoded (`/`, `?`, `#`, `@` included). The client's
//! side (deployment records, error texts) is `strata-registry-client/tests/credentials.rs`.

use crate::common::*;
use axum::http::StatusCode;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

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

/// HTML text as a reader sees it (the UI escapes what it shows).
fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn assert_absent(pw: &str, what: &str, v: &serde_json::Value) {
    for s in strings(v) {
        assert!(!s.contains(pw), "{what} holds the password {pw:?}: {s:?}");
    }
}

/// The server side, against an older client that sends the URL whole: the stored row, the API and the web UI.
#[test]
fn stored_deployments_never_hold_the_password() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, state, t, _, _guard) = rt.block_on(app());
    let mut runner = TestRunner::new(RunnerConfig::with_cases(48));
    runner
        .run(&PASSWORD, |pw| {
            rt.block_on(async {
                let url = format!("postgres://admin:{pw}@db:5432/x?sslmode=disable");
                let enc: String = url::form_urlencoded::byte_serialize(pw.as_bytes()).collect();
                let body = serde_json::json!({
                    "dir": "app", "target": url, "status": "failed",
                    "error": format!("invalid database URL {url}: port: {pw:?} is not a port number"),
                    "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:02Z",
                    "files": [{"name": "1.sql", "statements": 1, "error": format!("{enc} / {pw}")}],
                    "statements": 1, "duration_ms": 2000
                });
                let r = call(
                    &app,
                    "POST",
                    "/api/projects/app/deployments",
                    Some(&t.report),
                    Some("application/json"),
                    body.to_string().into_bytes(),
                )
                .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
                assert_absent(&pw, "the POST answer", &r.json());
                assert_eq!(r.json()["target"], "postgres://db:5432/x?sslmode=disable");

                let rows = state
                    .store_for_tests()
                    .deployments("app", &Default::default())
                    .await
                    .unwrap();
                assert_absent(&pw, "the stored rows", &serde_json::to_value(&rows).unwrap());
                let api = call(
                    &app,
                    "GET",
                    "/api/projects/app/deployments",
                    Some(&t.read),
                    None,
                    vec![],
                )
                .await;
                assert_absent(&pw, "the API", &api.json());
                let page = call(
                    &app,
                    "GET",
                    "/projects/app/deployments",
                    Some(&t.read),
                    None,
                    vec![],
                )
                .await;
                assert_eq!(page.status, StatusCode::OK);
                assert!(
                    !unescape_html(&page.text()).contains(pw.as_str()),
                    "the UI shows {pw:?}"
                );
            });
            Ok(())
        })
        .unwrap();
}

/// The cases of the issue, one by one: the old server kept `postgres://admin:S3cr/3tPW@db:5432/x` as it came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_a_slash_in_its_password_is_stored_without_it() {
    let (app, _state, t, _, _guard) = app().await;
    for (target, stored) in [
        (
            "postgres://admin:S3cr/3tPW@db:5432/x",
            "postgres://db:5432/x",
        ),
        ("mysql://root:S3cr?3tPW@db:3306/x", "mysql://db:3306/x"),
        ("postgres://admin:S3cr#3tPW@db/x", "postgres://db/x"),
        ("postgres:/admin:S3cr/3tPW@db/x", "db/x"),
    ] {
        let body = serde_json::json!({
            "dir": "app", "target": target, "status": "failed",
            "error": format!("invalid database URL {target}: port: \"S3cr\" is not a port number"),
            "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:02Z",
        });
        let r = call(
            &app,
            "POST",
            "/api/projects/app/deployments",
            Some(&t.report),
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let d = r.json();
        assert_eq!(d["target"], stored, "{d}");
        let error = d["error"].as_str().unwrap();
        assert!(!error.contains("3tPW"), "{error}");
    }
}
