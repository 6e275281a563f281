//! The HTTP API through the router (no sockets): the authorization matrix, push/fetch round trips, refusals,
//! OpenAPI, metrics and request ids.

use crate::common::*;
use axum::http::StatusCode;
use strata_registry::server::Config;
use strata_registry::upload::Limits;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    None,
    Other,
    Read,
    Push,
    Report,
    Admin,
}

/// Method, path, content type, body, and what it needs: a scope, `public`, `any` valid token, or a UI page.
type Endpoint = (
    &'static str,
    String,
    Option<&'static str>,
    Vec<u8>,
    &'static str,
);

const WHO: [Who; 6] = [
    Who::None,
    Who::Other,
    Who::Read,
    Who::Push,
    Who::Report,
    Who::Admin,
];

/// Every endpoint × every caller → the right status, and nothing of project `app` in a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_sqlite() {
    authorization_matrix(Backend::Sqlite).await;
}

/// The same on PostgreSQL (skipped without a server, failing under CI=true).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_postgres() {
    authorization_matrix(Backend::Postgres).await;
}

async fn authorization_matrix(backend: Backend) {
    let Some((app, state, tokens, digest, _dir)) = app_on(backend, Config::default()).await else {
        return;
    };
    let token = |w: Who| match w {
        Who::None => None,
        Who::Other => Some(tokens.other.as_str()),
        Who::Read => Some(tokens.read.as_str()),
        Who::Push => Some(tokens.push.as_str()),
        Who::Report => Some(tokens.report.as_str()),
        Who::Admin => Some(tokens.admin.as_str()),
    };
    let push_body = json_body(&[("1_init.sql", "CREATE TABLE secret_app_table (id int);\n")]);
    let report_body = serde_json::json!({
        "dir": "app", "target": "postgres://u:pw@db/x", "status": "noop",
        "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z"
    })
    .to_string()
    .into_bytes();
    let v = format!("/api/projects/app/dirs/app/versions/{digest}");
    // (method, path, content type, body, scope needed: "read"|"push"|"report"|"admin"|"public"|"ui")
    let endpoints: Vec<Endpoint> = vec![
        ("GET", "/healthz".into(), None, vec![], "public"),
        ("GET", "/metrics".into(), None, vec![], "public"),
        ("GET", "/api/openapi.json".into(), None, vec![], "public"),
        ("GET", "/api/projects".into(), None, vec![], "any"),
        ("GET", "/api/projects/app".into(), None, vec![], "read"),
        (
            "PATCH",
            "/api/projects/app".into(),
            Some("application/json"),
            b"{\"immutable_tags\":false}".to_vec(),
            "admin",
        ),
        ("GET", "/api/projects/app/dirs".into(), None, vec![], "read"),
        (
            "GET",
            "/api/projects/app/dirs/app/versions".into(),
            None,
            vec![],
            "read",
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions?tag=v1".into(),
            Some("application/json"),
            push_body,
            "push",
        ),
        ("GET", v.clone(), None, vec![], "read"),
        ("GET", format!("{v}/archive"), None, vec![], "read"),
        (
            "GET",
            "/api/projects/app/dirs/app/tags".into(),
            None,
            vec![],
            "read",
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags/v1".into(),
            None,
            vec![],
            "read",
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags/v1/archive".into(),
            None,
            vec![],
            "read",
        ),
        (
            "GET",
            "/api/projects/app/deployments".into(),
            None,
            vec![],
            "read",
        ),
        (
            "POST",
            "/api/projects/app/deployments".into(),
            Some("application/json"),
            report_body,
            "report",
        ),
        (
            "GET",
            "/api/projects/app/tokens".into(),
            None,
            vec![],
            "admin",
        ),
        (
            "POST",
            "/api/projects/app/tokens".into(),
            Some("application/json"),
            b"{\"name\":\"x\",\"scopes\":[\"read\"]}".to_vec(),
            "admin",
        ),
        (
            "DELETE",
            "/api/projects/app/tokens/{sacrificial}".into(),
            None,
            vec![],
            "admin",
        ),
        ("GET", "/".into(), None, vec![], "ui-any"),
        ("GET", "/projects/app".into(), None, vec![], "ui"),
        (
            "GET",
            format!("/projects/app/dirs/app/versions/{digest}"),
            None,
            vec![],
            "ui",
        ),
        (
            "GET",
            "/projects/app/deployments".into(),
            None,
            vec![],
            "ui",
        ),
    ];
    let secrets = [digest.as_str(), "secret_app_table", "postgres://db/prod"];
    let mut checked = 0;
    for (method, path, ctype, body, need) in &endpoints {
        for who in WHO {
            let mut path = path.clone();
            if path.contains("{sacrificial}") {
                let (info, _) = strata_registry::auth::create_token(
                    state_store(&state),
                    "app",
                    "sacrificial",
                    "read".parse().unwrap(),
                )
                .await
                .unwrap();
                path = path.replace("{sacrificial}", &info.id);
            }
            let res = call(&app, method, &path, token(who), *ctype, body.clone()).await;
            let granted = match (*need, who) {
                ("public", _) => true,
                (_, Who::Admin) => true,
                ("any", w) => w != Who::None,
                // The index lists the caller's own project: another project's admin token sees its own.
                ("ui-any", Who::Other) => true,
                ("read" | "ui" | "ui-any", Who::Read) => true,
                ("push", Who::Push) => true,
                ("report", Who::Report) => true,
                _ => false,
            };
            let expected: &[u16] = match (granted, who) {
                (true, _) => &[200, 201, 204],
                (false, Who::None) => &[401],
                (false, Who::Other) => &[404],
                (false, _) => &[403],
            };
            assert!(
                expected.contains(&res.status.as_u16()),
                "{method} {path} as {who:?}: got {} (want {expected:?}): {}",
                res.status,
                res.text()
            );
            if !granted || who == Who::Other {
                let text = res.text();
                for s in secrets {
                    assert!(
                        !text.contains(s),
                        "{method} {path} as {who:?} leaked {s}: {text}"
                    );
                }
                if *need != "ui" && *need != "ui-any" && res.status.as_u16() >= 400 {
                    let j = res.json();
                    assert!(
                        !j["message"].as_str().unwrap_or_default().is_empty(),
                        "{method} {path}: message"
                    );
                }
            }
            if res.status == StatusCode::UNAUTHORIZED && !need.starts_with("ui") {
                assert!(res.headers.contains_key("www-authenticate"));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, endpoints.len() * WHO.len());
    // The other project's token sees only its own project.
    let res = call(
        &app,
        "GET",
        "/api/projects",
        Some(&tokens.other),
        None,
        vec![],
    )
    .await;
    assert_eq!(
        res.json(),
        serde_json::json!([{"name": "other", "immutable_tags": false, "created_at": res.json()[0]["created_at"]}])
    );
    // A nonexistent project answers exactly like another project's.
    let a = call(
        &app,
        "GET",
        "/api/projects/nope/dirs",
        Some(&tokens.read),
        None,
        vec![],
    )
    .await;
    let b = call(
        &app,
        "GET",
        "/api/projects/other/dirs",
        Some(&tokens.read),
        None,
        vec![],
    )
    .await;
    assert_eq!(a.status, b.status);
    assert_eq!(
        a.json()["message"].as_str().unwrap().replace("nope", "X"),
        b.json()["message"].as_str().unwrap().replace("other", "X")
    );
    // Malformed and revoked tokens are 401.
    let r = call(
        &app,
        "GET",
        "/api/projects/app",
        Some("strata_garbage"),
        None,
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

fn state_store(s: &strata_registry::server::AppState) -> &dyn strata_registry::Store {
    s.store_for_tests()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_fetch_round_trip_is_byte_identical_sqlite() {
    push_fetch_round_trip_is_byte_identical(Backend::Sqlite).await;
}

/// The same on PostgreSQL (skipped without a server, failing under CI=true).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_fetch_round_trip_is_byte_identical_postgres() {
    push_fetch_round_trip_is_byte_identical(Backend::Postgres).await;
}

async fn push_fetch_round_trip_is_byte_identical(backend: Backend) {
    let Some((app, _state, t, _, _dir)) = app_on(backend, Config::default()).await else {
        return;
    };
    // Content that is not UTF-8 and has CRLF, to prove bytes are kept exactly.
    let pairs = [
        ("1_a.sql", "CREATE TABLE a (id int);\r\n"),
        ("2_b.sql", "-- ü\nSELECT 1;\n"),
    ];
    let sent = files(&pairs);
    for (ctype, body) in [
        ("application/x-tar", tar_body(&pairs)),
        ("application/json", json_body(&pairs)),
    ] {
        let res = call(
            &app,
            "POST",
            "/api/projects/app/dirs/core/versions?tag=rt&tag=abc",
            Some(&t.push),
            Some(ctype),
            body,
        )
        .await;
        assert!(res.status.is_success(), "{}", res.text());
        let j = res.json();
        assert_eq!(j["tags"], serde_json::json!(["abc", "latest", "rt"]));
        let id = j["version"]["id"].as_str().unwrap().to_owned();
        // JSON listing by tag.
        let l = call(
            &app,
            "GET",
            "/api/projects/app/dirs/core/tags/rt",
            Some(&t.read),
            None,
            vec![],
        )
        .await;
        assert_eq!(l.headers["x-strata-version"], id.as_str());
        let listed: Vec<(String, Vec<u8>)> = l.json()["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["text"].as_str().unwrap().as_bytes().to_vec(),
                )
            })
            .collect();
        for (name, bytes) in &sent {
            assert!(listed.contains(&(name.clone(), bytes.clone())), "{name}");
        }
        // Archive by version: byte-identical files.
        let a = call(
            &app,
            "GET",
            &format!("/api/projects/app/dirs/core/versions/{id}/archive"),
            Some(&t.read),
            None,
            vec![],
        )
        .await;
        assert_eq!(a.headers["content-type"], "application/x-tar");
        let mut ar = tar::Archive::new(a.body.as_slice());
        let mut got = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut b).unwrap();
            got.push((name, b));
        }
        got.sort();
        let mut want = sent.clone();
        want.sort();
        assert_eq!(got, want);
        // The archive pushes back to the same version.
        let again = call(
            &app,
            "POST",
            "/api/projects/app/dirs/core/versions",
            Some(&t.push),
            Some("application/x-tar"),
            a.body,
        )
        .await;
        assert_eq!(
            again.status,
            StatusCode::OK,
            "identical content: 200, not 201"
        );
        assert_eq!(again.json()["version"]["id"], id.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_pushes_say_why() {
    let (app, _s, t, _, _dir) = app_with(Config {
        limits: Limits {
            max_upload_bytes: 4096,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let push = |ctype: &'static str, body: Vec<u8>| {
        let app = app.clone();
        let tok = t.push.clone();
        async move {
            call(
                &app,
                "POST",
                "/api/projects/app/dirs/app/versions",
                Some(&tok),
                Some(ctype),
                body,
            )
            .await
        }
    };
    let mut bad_sum = json_body(&[("1_a.sql", "select 1;\n")]);
    let s = String::from_utf8(bad_sum.clone())
        .unwrap()
        .replace("select 1", "select 2");
    let _ = &mut bad_sum;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "application/json",
            s.replace("c2VsZWN0IDE7Cg==", "c2VsZWN0IDI7Cg==")
                .into_bytes(),
            400,
            "checksum mismatch",
        ),
        (
            "application/json",
            b"{".to_vec(),
            400,
            "not a valid JSON upload",
        ),
        ("application/json", vec![b'x'; 5000], 413, "limit"),
        ("text/plain", b"x".to_vec(), 415, "Content-Type"),
        ("application/x-tar", b"not a tar".to_vec(), 400, "tar"),
    ];
    for (ctype, body, status, want) in cases {
        let r = push(ctype, body).await;
        assert_eq!(r.status.as_u16(), status, "{}", r.text());
        let m = r.json()["message"].as_str().unwrap().to_owned();
        assert!(m.contains(want), "{m:?} should mention {want:?}");
    }
    let r = call(
        &app,
        "POST",
        "/api/projects/app/dirs/app/versions?tag=a%20b",
        Some(&t.push),
        Some("application/json"),
        json_body(&[("1.sql", "")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Immutable tags: 409 with the reason.
    call(
        &app,
        "PATCH",
        "/api/projects/app",
        Some(&t.admin),
        Some("application/json"),
        b"{\"immutable_tags\":true}".to_vec(),
    )
    .await;
    let r = call(
        &app,
        "POST",
        "/api/projects/app/dirs/app/versions?tag=v1",
        Some(&t.push),
        Some("application/json"),
        json_body(&[("1.sql", "x")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("immutable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_never_store_credentials() {
    let (app, _s, t, _, _dir) = app().await;
    let body = serde_json::json!({
        "dir": "app", "target": "postgres://admin:hunter2@db:5432/x?password=hunter3", "status": "failed",
        "error": "boom", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:02Z",
        "files": [{"name": "1.sql", "statements": 1, "error": "boom"}], "statements": 1, "duration_ms": 2000
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
    let l = call(
        &app,
        "GET",
        "/api/projects/app/deployments?target=x&dir=app",
        Some(&t.read),
        None,
        vec![],
    )
    .await;
    assert_eq!(l.json(), serde_json::json!([]));
    let l = call(
        &app,
        "GET",
        "/api/projects/app/deployments",
        Some(&t.read),
        None,
        vec![],
    )
    .await;
    assert!(!l.text().contains("hunter"), "{}", l.text());
    assert_eq!(l.json()[0]["status"], "failed");
    let page = call(
        &app,
        "GET",
        "/projects/app/deployments",
        Some(&t.read),
        None,
        vec![],
    )
    .await;
    assert!(page.text().contains("boom") && !page.text().contains("hunter"));
    for bad in [
        serde_json::json!({"dir": "app", "target": "x", "status": "weird", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z"}),
        serde_json::json!({"dir": "../x", "target": "x", "status": "noop", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z"}),
        serde_json::json!({"dir": "app", "target": "x", "status": "noop", "started_at": "yesterday", "finished_at": "2026-01-01T00:00:00Z"}),
    ] {
        let r = call(
            &app,
            "POST",
            "/api/projects/app/deployments",
            Some(&t.report),
            Some("application/json"),
            bad.to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_health_and_request_ids() {
    let (app, _s, t, _, _dir) = app().await;
    let doc = call(&app, "GET", "/api/openapi.json", None, None, vec![])
        .await
        .json();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/projects/{project}/dirs/{dir}/versions",
        "/api/projects/{project}/dirs/{dir}/tags/{tag}/archive",
        "/api/projects/{project}/deployments",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let r = call(
        &app,
        "GET",
        "/api/projects/app/dirs/app/tags/v1",
        Some(&t.read),
        None,
        vec![],
    )
    .await;
    assert!(r.headers.contains_key("x-request-id"));
    let m = call(&app, "GET", "/metrics", None, None, vec![])
        .await
        .text();
    assert!(m.contains("strata_registry_http_requests_total{method=\"GET\",route=\"/api/projects/{project}/dirs/{dir}/tags/{tag}\",status=\"200\"} 1"), "{m}");
    assert!(m.contains("strata_registry_versions 1"));
    assert!(
        !m.contains("app\""),
        "metrics are labelled by route templates, not projects"
    );
    assert_eq!(
        call(&app, "GET", "/healthz", None, None, vec![])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_login_sets_cookie_and_pages_render() {
    let (app, _s, t, digest, _dir) = app().await;
    let r = call(&app, "GET", "/", None, None, vec![]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.text()
            .contains("<form method=\"post\" action=\"/login\">")
    );
    // The login form comes with its CSRF cookie and field (see `ui.rs` for the refusals).
    let form = call(&app, "GET", "/login", None, None, vec![]).await;
    let csrf_cookie = form.headers["set-cookie"].to_str().unwrap();
    let csrf_cookie = csrf_cookie.split(';').next().unwrap().to_owned();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_owned();
    assert!(
        form.text()
            .contains(&format!("name=\"csrf\" value=\"{csrf}\""))
    );
    let login = |token: String| {
        let app = app.clone();
        let csrf_cookie = csrf_cookie.clone();
        let csrf = csrf.clone();
        async move {
            use tower::ServiceExt as _;
            let req = axum::http::Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", csrf_cookie)
                .body(axum::body::Body::from(format!("token={token}&csrf={csrf}")))
                .unwrap();
            app.oneshot(req).await.unwrap()
        }
    };
    let r = login(t.read.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = Res {
        status: r.status(),
        headers: r.headers().clone(),
        body: vec![],
    };
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let get = |path: String| {
        let app = app.clone();
        let pair = pair.clone();
        async move {
            use tower::ServiceExt as _;
            let req = axum::http::Request::get(path)
                .header("cookie", pair)
                .body(axum::body::Body::empty())
                .unwrap();
            let res = app.oneshot(req).await.unwrap();
            let s = res.status();
            (
                s,
                String::from_utf8(
                    axum::body::to_bytes(res.into_body(), usize::MAX)
                        .await
                        .unwrap()
                        .to_vec(),
                )
                .unwrap(),
            )
        }
    };
    let (s, html) = get("/".into()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("/projects/app"));
    let (_, html) = get("/projects/app".into()).await;
    assert!(html.contains(&digest[..12]) && html.contains("v1") && html.contains("latest"));
    let (_, html) = get(format!("/projects/app/dirs/app/versions/{digest}")).await;
    assert!(
        html.contains(
            "<span class=\"kw\">CREATE</span> <span class=\"kw\">TABLE</span> <span class=\"id\">secret_app_table</span>"
        ) && html.contains("atlas-sum")
            && html.contains("h1:")
    );
    let (_, html) = get("/projects/app/deployments".into()).await;
    assert!(html.contains("postgres://db/prod") && html.contains("succeeded"));
    // A push-only token cannot log in.
    let r = login(t.push.clone()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Template output is escaped.
    let (_, html) = get("/projects/app/deployments?dir=%3Cscript%3E".into()).await;
    assert!(!html.contains("<script>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_pushes_of_one_tag_leave_one_consistent_tag_sqlite() {
    ten_concurrent_pushes_of_one_tag_leave_one_consistent_tag(Backend::Sqlite).await;
}

/// The same on PostgreSQL (skipped without a server, failing under CI=true).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_pushes_of_one_tag_leave_one_consistent_tag_postgres() {
    ten_concurrent_pushes_of_one_tag_leave_one_consistent_tag(Backend::Postgres).await;
}

async fn ten_concurrent_pushes_of_one_tag_leave_one_consistent_tag(backend: Backend) {
    let Some((app, _s, t, _, _dir)) = app_on(backend, Config::default()).await else {
        return;
    };
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = app.clone();
        let tok = t.push.clone();
        tasks.push(tokio::spawn(async move {
            let sql = format!("CREATE TABLE t{i} (id int);\n");
            let body = json_body(&[("1_init.sql", sql.as_str())]);
            call(
                &app,
                "POST",
                "/api/projects/app/dirs/c/versions?tag=prod",
                Some(&tok),
                Some("application/json"),
                body,
            )
            .await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["version"]["id"].as_str().unwrap().to_owned());
    }
    let l = call(
        &app,
        "GET",
        "/api/projects/app/dirs/c/tags/prod",
        Some(&t.read),
        None,
        vec![],
    )
    .await
    .json();
    let id = l["version"]["id"].as_str().unwrap();
    assert!(ids.iter().any(|i| i == id));
    let latest = call(
        &app,
        "GET",
        "/api/projects/app/dirs/c/tags/latest",
        Some(&t.read),
        None,
        vec![],
    )
    .await
    .json();
    assert!(
        ids.iter()
            .any(|i| i == latest["version"]["id"].as_str().unwrap())
    );
    assert_eq!(
        l["files"].as_array().unwrap().len(),
        2,
        "atlas.sum and its one file"
    );
    let versions = call(
        &app,
        "GET",
        "/api/projects/app/dirs/c/versions",
        Some(&t.read),
        None,
        vec![],
    )
    .await
    .json();
    assert_eq!(versions.as_array().unwrap().len(), 10);
}
