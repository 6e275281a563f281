//! Registry hardening: one test per finding of the review of the registry's API (method floods, refusals in the
//! API's JSON shape, names with control characters, negative counts, the bound on request bodies in flight).
//! The OpenAPI document has its own file (`openapi.rs`), the fail-fast connection is in `store.rs`.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use axum::http::StatusCode;
use strata_registry::server::Config;
use strata_registry::upload::Limits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn metrics(app: &axum::Router) -> String {
    call(app, "GET", "/metrics", None, None, vec![])
        .await
        .text()
}

/// A log sink for the test's own subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Requests with made-up methods of 16,000 characters each used to add a metrics series per method, never freed
/// (`/metrics` grew to 139 MB), and to log each whole method at info. The method is now a label from a closed
/// set (`OTHER` for anything unknown) and the route the matched template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_made_up_methods_adds_no_series_and_logs_no_method_text() {
    let (app, _s, _t, _, _dir) = app().await;
    // The process-wide subscriber (a thread's own misses events while other tests run): it sees the other tests'
    // requests too, none of which has a long method.
    let logs = Logs::default();
    let sink = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .finish(),
    )
    .expect("no other test of this file sets a subscriber");
    let n = 300;
    for i in 0..n {
        let method = format!("M{i:05}{}", "X".repeat(16_000));
        for (path, status) in [("/api/projects/app", 405), ("/no/such/endpoint", 404)] {
            let r = call(&app, &method, path, None, None, vec![]).await;
            assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text());
        }
    }
    let text = metrics(&app).await;
    let series: Vec<&str> = text
        .split_terminator('\n')
        .filter(|l| l.starts_with("strata_registry_http_requests_total{"))
        .collect();
    assert!(
        series.len() <= 3,
        "{} request series after {} made-up methods (want the OTHER ones only): {:?}",
        series.len(),
        2 * n,
        &series[..series.len().min(5)]
    );
    assert!(
        text.contains(&format!(
            "strata_registry_http_requests_total{{method=\"OTHER\",route=\"/api/projects/{{project}}\",status=\"405\"}} {n}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "strata_registry_http_requests_total{{method=\"OTHER\",route=\"unmatched\",status=\"404\"}} {n}"
        )),
        "{text}"
    );
    assert!(text.len() < 32 << 10, "/metrics has {} bytes", text.len());
    let logged = logs.0.lock().unwrap().clone();
    let logged = String::from_utf8_lossy(&logged);
    assert!(
        logged.contains("method=\"OTHER\"") || logged.contains("method=OTHER"),
        "the requests are logged with their method label: {}",
        &logged[..logged.len().min(2000)]
    );
    assert!(
        !logged.contains("XXXXXXXX"),
        "a request's method text reached the log ({} bytes of log)",
        logged.len()
    );
}

/// A known endpoint asked with a method it does not serve answered 405 with an empty body; it is now the API's
/// JSON error, with the `Allow` header listing the methods it does serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_not_allowed_is_a_json_error_with_allow() {
    let (app, _s, t, _, _dir) = app().await;
    for (method, path, allow) in [
        ("PUT", "/api/projects/app", "GET,HEAD,PATCH"),
        ("DELETE", "/api/projects/app/dirs", "GET,HEAD"),
        ("BREW", "/api/projects/app/deployments", "GET,HEAD,POST"),
    ] {
        let r = call(&app, method, path, Some(&t.admin), None, vec![]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["allow"], allow, "{method} {path}");
        let j = r.json();
        assert_eq!(j["code"], "method_not_allowed", "{j}");
        assert!(j["message"].as_str().unwrap().contains("Allow"), "{j}");
    }
}

/// A path segment that is not UTF-8 once percent-decoded got axum's `text/plain` 400; it is now the API's JSON
/// error naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_utf8_path_is_a_json_400_naming_the_parameter() {
    let (app, _s, t, _, _dir) = app().await;
    for (path, param) in [
        ("/api/projects/%FF", "project"),
        ("/api/projects/app/dirs/%C3%28/versions", "dir"),
        ("/api/projects/app/dirs/app/tags/%FF%FE", "tag"),
        ("/api/projects/app/tokens/%80", "id"),
    ] {
        let method = if param == "id" { "DELETE" } else { "GET" };
        let r = call(&app, method, path, Some(&t.admin), None, vec![]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text());
        assert_eq!(r.headers["content-type"], "application/json", "{path}");
        let j = r.json();
        assert_eq!(j["code"], "invalid_path", "{j}");
        assert!(
            j["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{param:?}")),
            "{path}: {j}"
        );
    }
}

/// Pushed file names with control characters (an ANSI escape) or invisible formatting characters (a
/// right-to-left override that makes `x_gpj.sql` display as `x_lqs.jpg`) were accepted and shown as they came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_control_or_invisible_characters_are_refused() {
    let (app, _s, t, _, _dir) = app().await;
    for (name, code_point) in [
        ("1_\u{1b}[31mred.sql", "U+001B"),
        ("2_\u{202e}gpj.sql", "U+202E"),
        ("3_zero\u{200b}width.sql", "U+200B"),
        ("4_bell\u{7}.sql", "U+0007"),
        ("5_c1\u{9b}.sql", "U+009B"),
    ] {
        let pairs = [(name, "SELECT 1;\n")];
        for (ctype, body) in [
            ("application/json", json_body(&pairs)),
            ("application/x-tar", tar_body(&pairs)),
        ] {
            let r = call(
                &app,
                "POST",
                "/api/projects/app/dirs/app/versions",
                Some(&t.push),
                Some(ctype),
                body,
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{name:?} as {ctype}: {}",
                r.text()
            );
            let j = r.json();
            assert_eq!(j["code"], "invalid_upload", "{j}");
            let m = j["message"].as_str().unwrap();
            assert!(m.contains(code_point), "{m}");
            assert!(
                !m.chars()
                    .any(|c| c.is_control() || c == '\u{202e}' || c == '\u{200b}'),
                "the refusal shows the name escaped: {m:?}"
            );
        }
        // The names of a deployment report's files too.
        let report = serde_json::json!({
            "dir": "app", "target": "postgres://db/prod", "status": "succeeded",
            "files": [{"name": name, "statements": 1}],
            "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"
        });
        let r = call(
            &app,
            "POST",
            "/api/projects/app/deployments",
            Some(&t.report),
            Some("application/json"),
            report.to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name:?}: {}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains(code_point));
    }
    // Ordinary non-ASCII names stay accepted.
    let r = call(
        &app,
        "POST",
        "/api/projects/app/dirs/app/versions",
        Some(&t.push),
        Some("application/json"),
        json_body(&[("1_café.sql", "SELECT 1;\n")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

/// Negative `statements` and `duration_ms` were accepted in deployment reports. They are refused now; an integer
/// written as `34.0` (the same number in JSON, and an `integer` for JSON Schema) is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_counts_in_a_report_are_refused() {
    let (app, _s, t, _, _dir) = app().await;
    let report = |patch: serde_json::Value| {
        let mut r = serde_json::json!({
            "dir": "app", "target": "postgres://db/prod", "status": "succeeded",
            "files": [{"name": "1_init.sql", "statements": 1}], "statements": 1, "duration_ms": 10,
            "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"
        });
        for (k, v) in patch.as_object().unwrap() {
            r[k] = v.clone();
        }
        r.to_string().into_bytes()
    };
    let post = |body: Vec<u8>| {
        let app = app.clone();
        let tok = t.report.clone();
        async move {
            call(
                &app,
                "POST",
                "/api/projects/app/deployments",
                Some(&tok),
                Some("application/json"),
                body,
            )
            .await
        }
    };
    for patch in [
        serde_json::json!({"statements": -1}),
        serde_json::json!({"duration_ms": -5}),
        serde_json::json!({"files": [{"name": "1_init.sql", "statements": -1}]}),
        serde_json::json!({"statements": 1.5}),
        serde_json::json!({"duration_ms": 1e300}),
    ] {
        let r = post(report(patch.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{patch}: {}", r.text());
        assert_eq!(r.json()["code"], "invalid_body");
    }
    let r = post(report(
        serde_json::json!({"statements": 34.0, "files": [{"name": "1_init.sql", "statements": 2.0}]}),
    ))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["statements"], 34);
    assert_eq!(r.json()["files"][0]["statements"], 2);
}

/// Writes a push's request head and the first `sent` bytes of `body` on a new connection.
async fn start_push(
    addr: std::net::SocketAddr,
    token: &str,
    body: &[u8],
    sent: usize,
) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = Vec::new();
    write!(
        head,
        "POST /api/projects/app/dirs/app/versions HTTP/1.1\r\nHost: registry\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&head).await.unwrap();
    s.write_all(&body[..sent]).await.unwrap();
    s
}

/// Sends the rest of the body and reads the response's status.
async fn finish_push(mut s: tokio::net::TcpStream, rest: &[u8]) -> u16 {
    s.write_all(rest).await.unwrap();
    let mut res = Vec::new();
    s.read_to_end(&mut res).await.unwrap();
    let res = String::from_utf8_lossy(&res);
    res.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {res:?}"))
}

/// Eight concurrent pushes of 29 MiB each peaked at 567 MB: nothing bounded the bodies read and decoded at once.
/// Now each request reserves its body's size against `max_upload_bytes_in_flight` before reading it, and one that
/// does not fit waits. Here the budget holds the large push or the small one, not both: while the large one is
/// half sent, the small one waits; it completes once the large one is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushes_wait_while_their_bodies_would_exceed_the_budget_in_flight() {
    let padding = "-- padding\n".repeat(30_000);
    let large = json_body(&[("1_large.sql", padding.as_str())]);
    let small = json_body(&[("1_small.sql", "CREATE TABLE s (id int);\n")]);
    let config = Config {
        limits: Limits {
            max_upload_bytes_in_flight: large.len() + small.len() - 1,
            ..Limits::default()
        },
        ..Config::default()
    };
    let (app, state, t, _, _dir) = app_with(config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(strata_registry::server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let half = large.len() / 2;
    let a = start_push(addr, &t.push, &large, half).await;
    // The server reserves the announced size before reading the body.
    let want = format!("strata_registry_upload_bytes_in_flight {}", large.len());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !metrics(&app).await.contains(&want) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b = {
        let token = t.push.clone();
        let small = small.clone();
        tokio::spawn(async move {
            let s = start_push(addr, &token, &small, 0).await;
            finish_push(s, &small).await
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !b.is_finished(),
        "the small push completed while the large one held the budget: bodies in flight are not bounded"
    );
    assert!(metrics(&app).await.contains(&want));
    assert_eq!(finish_push(a, &large[half..]).await, 201);
    assert_eq!(
        b.await.unwrap(),
        201,
        "the small push runs once there is room"
    );
    assert!(
        metrics(&app)
            .await
            .contains("strata_registry_upload_bytes_in_flight 0")
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A push whose `Content-Length` is over the limit is refused at once, before its body is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_oversized_push_is_refused_before_its_body_is_read() {
    let config = Config {
        limits: Limits::with_max_upload_bytes(1 << 20),
        ..Config::default()
    };
    let (_app, state, t, _, _dir) = app_with(config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(strata_registry::server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let body = vec![b' '; (1 << 20) + 1];
    // Nothing of the body is sent: the answer must not wait for it.
    let s = start_push(addr, &t.push, &body, 0).await;
    let status = tokio::time::timeout(Duration::from_secs(10), finish_push(s, &[]))
        .await
        .expect("answered without the body");
    assert_eq!(status, 413);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// Serde builds a struct from an array of its fields too, so `[true]` changed a project's settings as if it were
/// `{"immutable_tags": true}`. Every JSON body must be an object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_must_be_objects() {
    let (app, _s, t, _, _dir) = app().await;
    for (path, token, body) in [
        ("/api/projects/app", &t.admin, "[true]"),
        ("/api/projects/app/tokens", &t.admin, r#"["x", ["admin"]]"#),
        (
            "/api/projects/app/deployments",
            &t.report,
            r#"["app", "postgres://db/x", null, null, "", "", "noop", null, [], 0, 0,
               "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]"#,
        ),
        (
            "/api/projects/app/dirs/app/versions",
            &t.push,
            r#"[[{"name": "1.sql", "text": "SELECT 1;"}]]"#,
        ),
    ] {
        let method = if path == "/api/projects/app" {
            "PATCH"
        } else {
            "POST"
        };
        let r = call(
            &app,
            method,
            path,
            Some(token),
            Some("application/json"),
            body.into(),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            r.text()
        );
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("JSON object"),
            "{}",
            r.text()
        );
    }
    let p = call(
        &app,
        "GET",
        "/api/projects/app",
        Some(&t.read),
        None,
        vec![],
    )
    .await;
    assert_eq!(p.json()["project"]["immutable_tags"], false, "unchanged");
}

/// A refusal sent before a large body was read (here: a push to another project) closed the connection without
/// saying so, and a client that sent its next request on it saw the connection drop (schemathesis: "Remote end
/// closed connection without response"). Such answers now carry `Connection: close`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_of_requests_with_a_body_close_the_connection_openly() {
    let (_app, state, t, _, _dir) = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(strata_registry::server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let body = vec![b' '; 300_000];
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/projects/other/dirs/app/versions HTTP/1.1\r\nHost: registry\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        t.push,
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let _ = s.write_all(&body).await;
    let mut res = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut res)).await;
    let res = String::from_utf8_lossy(&res).to_ascii_lowercase();
    assert!(res.starts_with("http/1.1 404"), "{res}");
    assert!(res.contains("\r\nconnection: close\r\n"), "{res}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
