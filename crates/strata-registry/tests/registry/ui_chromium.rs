//! The web UI in a real headless Chromium (Debian package `chromium`): each page renders its expected content
//! and a screenshot is saved under `target/tmp/registry-screenshots/`. The pages of directory `shop` (what runs
//! where, a version with its lint report, a diff, a deployment, a schema with its ER diagram) show what the
//! client crate pushed and reported through the real HTTP API. Chromium cannot send an `Authorization`
//! header from the command line, so it browses through a tiny proxy that adds the read token — exactly what a
//! reverse proxy in front of the registry could do. A second test logs in and out through the registry's own
//! forms, served with all their headers (CSP included), and has a page of another site try to log the browser in
//! and out. Skipped when Chromium is not installed (set `STRATA_REQUIRE_CHROMIUM=1` to make that a failure).

use std::path::PathBuf;
use std::process::Command;

use crate::common::*;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use strata_registry::server::{self, AppState};

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output()
            && out.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    None
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    token: String,
    http: reqwest::Client,
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    match p
        .http
        .get(format!("{}{path}", p.upstream))
        .bearer_auth(&p.token)
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            let ctype = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/plain")
                .to_owned();
            let body = r.bytes().await.unwrap_or_default();
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", ctype)],
                body,
            )
                .into_response()
        }
        Err(e) => (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

fn run_chromium(bin: &PathBuf, args: &[&str], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_in_headless_chromium() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var("STRATA_REQUIRE_CHROMIUM").is_err(),
            "chromium is not installed (apt-get install chromium)"
        );
        eprintln!("chromium not installed: skipped");
        return;
    };
    let (_app, state, t, digest, _dir) = app().await;
    // A second directory version and a failed deployment, so the pages have something to show.
    let store = state.store_for_tests();
    store
        .push(
            "app",
            "app",
            &validated(&[
                ("1_init.sql", "CREATE TABLE secret_app_table (id int);\n"),
                (
                    "2_more.sql",
                    "ALTER TABLE secret_app_table ADD COLUMN name text;\n",
                ),
            ]),
            &["prod".into()],
        )
        .await
        .unwrap();
    store
        .add_deployment(
            "app",
            &serde_json::from_value(serde_json::json!({
                "dir": "app", "target": "postgres://db/staging", "status": "failed", "error": "relation exists",
                "from_version": "1", "to_version": "2",
                "started_at": "2026-01-02T00:00:00Z", "finished_at": "2026-01-02T00:00:01Z"
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let srv = tokio::spawn(server::serve(listener, AppState::clone(&state), async {
        let _ = stop_rx.await;
    }));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let filled = crate::ui_pages::fill_through_the_api(&upstream, &t).await;
    let proxy = Proxy {
        upstream,
        token: t.read.clone(),
        http: reqwest::Client::new(),
    };
    let plistener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", plistener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        axum::serve(plistener, app).await
    });

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("registry-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let pages: Vec<(&str, String, Vec<&str>)> = vec![
        ("login", "/login".into(), vec!["Log in", "name=\"token\""]),
        ("index", "/".into(), vec!["Projects", "/projects/app"]),
        (
            "project",
            "/projects/app".into(),
            vec!["Directory app", "prod", "latest", "v1", &digest[..12]],
        ),
        (
            "version",
            format!("/projects/app/dirs/app/versions/{digest}"),
            vec![
                "atlas.sum",
                "h1:",
                "<span class=\"kw\">CREATE</span> <span class=\"kw\">TABLE</span> <span class=\"id\">secret_app_table</span>",
                "1_init.sql",
                "No lint report was pushed with this version",
            ],
        ),
        (
            "overview",
            "/overview".into(),
            vec![
                "What runs where",
                "postgres://db/shop",
                &filled.v1[..12],
                "<span class=\"tag\">v1</span>",
                "drifted",
                "column \"nickname\" added outside migrations",
            ],
        ),
        (
            "version-lint",
            format!("/projects/app/dirs/shop/versions/{}", filled.v1),
            vec![
                "<span class=\"kw\">REFERENCES</span>",
                "id=\"lint-report\"",
                "DS102",
                "Dropping table \"products\"",
            ],
        ),
        (
            "diff",
            format!(
                "/projects/app/dirs/shop/diff?from={}&to={}",
                filled.v1, filled.v2
            ),
            vec![
                "3_evil.sql",
                "4_more.sql",
                "added",
                "changed",
                "<span class=\"del\">- DROP TABLE products;</span>",
            ],
        ),
        (
            "deployment",
            format!("/projects/app/deployments/{}", filled.deployment),
            vec![
                "2_shop.sql",
                "applied",
                "30 ms",
                "failed",
                "already exists",
                "id=\"deployment-files\"",
            ],
        ),
        (
            "schema",
            format!("/projects/app/dirs/shop/versions/{}/schema", filled.v1),
            vec![
                "ER diagram",
                "<path class=\"er-fk\" data-from=\"orders\" data-to=\"users\"",
                "<path class=\"er-fk\" data-from=\"order_items\" data-to=\"orders\"",
                "<path class=\"er-fk\" data-from=\"order_items\" data-to=\"products\"",
                "<g class=\"er-table\" data-table=\"order_items\">",
            ],
        ),
        (
            "deployments",
            "/projects/app/deployments".into(),
            vec![
                "postgres://db/staging",
                "postgres://db/prod",
                "failed",
                "relation exists",
                "succeeded",
            ],
        ),
    ];
    for (name, path, want) in pages {
        let url = format!("{base}{path}");
        let bin2 = bin.clone();
        let url2 = url.clone();
        let dom = tokio::task::spawn_blocking(move || run_chromium(&bin2, &["--dump-dom"], &url2))
            .await
            .unwrap();
        let html = String::from_utf8_lossy(&dom.stdout).into_owned();
        assert!(
            !html.contains("<script>") && !html.contains("<img src=x>"),
            "{name}: user data rendered as markup:\n{html}"
        );
        if name == "schema" {
            // Every table is a box, every foreign key an edge, as the browser parsed them.
            assert_eq!(html.matches("<g class=\"er-table\"").count(), 5, "{html}");
            assert_eq!(html.matches("<path class=\"er-fk\"").count(), 3, "{html}");
        }
        for w in want {
            assert!(
                html.contains(w),
                "{name}: {w:?} missing from the rendered page:\n{html}\n{}",
                String::from_utf8_lossy(&dom.stderr)
            );
        }
        let png = shots.join(format!("{name}.png"));
        let arg = format!("--screenshot={}", png.display());
        let bin2 = bin.clone();
        let out = tokio::task::spawn_blocking(move || run_chromium(&bin2, &[&arg], &url))
            .await
            .unwrap();
        let meta = std::fs::metadata(&png).unwrap_or_else(|e| {
            panic!(
                "{name}: no screenshot ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert!(meta.len() > 1000, "{name}: screenshot too small");
    }
    let _ = stop_tx.send(());
    srv.await.unwrap().unwrap();
}

/// What the driver page reports: `key=value` lines.
type Report = std::sync::Arc<tokio::sync::Mutex<Option<tokio::sync::oneshot::Sender<String>>>>;

/// A real browser logs in through the registry's login form, browses, and logs out with the Log out button,
/// while the registry's pages run no script (their CSP allows none) and still get their stylesheet. Scripts run
/// only in the test's own pages: a driver page of the registry's origin that fills and clicks the forms of the
/// registry page it opened (as a user would), and pages of another site (`localhost` against `127.0.0.1`) that
/// post forged login and logout forms, which the browser sends with its real `Origin`, `Sec-Fetch-Site` and
/// cookies. The forged posts are refused and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_logs_in_and_out_and_cross_site_forms_are_refused() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var("STRATA_REQUIRE_CHROMIUM").is_err(),
            "chromium is not installed (apt-get install chromium)"
        );
        eprintln!("chromium not installed: skipped");
        return;
    };
    use axum::routing::{get, post};
    let (app, state, t, _digest, _dir) = app().await;
    // The attacker's own login form values: a token of another project and a CSRF pair of its own.
    let res = call(&app, "GET", "/login", None, None, vec![]).await;
    let html = res.text();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let attacker_csrf = html[at..].split('"').next().unwrap().to_owned();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let registry = format!("http://127.0.0.1:{port}");
    let evil_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil = format!(
        "http://localhost:{}",
        evil_listener.local_addr().unwrap().port()
    );

    // The registry, plus the driver page and its report endpoint on the same origin.
    let (report_tx, report_rx) = tokio::sync::oneshot::channel::<String>();
    let report: Report = std::sync::Arc::new(tokio::sync::Mutex::new(Some(report_tx)));
    let driver = DRIVER.replace("TOKEN", &t.read).replace("EVIL", &evil);
    let site = server::router(AppState::clone(&state))
        .route(
            "/test-driver",
            get(move || async move { axum::response::Html(driver) }),
        )
        .route(
            "/test-report",
            post(move |body: String| async move {
                if let Some(tx) = report.lock().await.take() {
                    let _ = tx.send(body);
                }
            }),
        );
    let srv = tokio::spawn(async move {
        axum::serve(
            listener,
            site.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    // The other site: pages that post forged forms to the registry as soon as they load.
    let forge = |action: &str, fields: &[(&str, &str)]| {
        let inputs: String = fields
            .iter()
            .map(|(k, v)| format!("<input name=\"{k}\" value=\"{v}\">"))
            .collect();
        format!(
            "<!doctype html><form id=\"f\" method=\"post\" action=\"{registry}{action}\">{inputs}</form>\
             <script>document.getElementById('f').submit()</script>"
        )
    };
    let evil_login = forge("/login", &[("token", &t.other), ("csrf", &attacker_csrf)]);
    let evil_logout = forge("/logout", &[("csrf", "guessed")]);
    let evil_app = axum::Router::new()
        .route(
            "/login",
            get(move || async move { axum::response::Html(evil_login) }),
        )
        .route(
            "/logout",
            get(move || async move { axum::response::Html(evil_logout) }),
        );
    let evil_srv = tokio::spawn(async move { axum::serve(evil_listener, evil_app).await });

    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(&bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-popup-blocking",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{registry}/test-driver"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromium");
    let got = tokio::time::timeout(std::time::Duration::from_secs(90), report_rx).await;
    let _ = child.kill();
    let _ = child.wait();
    srv.abort();
    evil_srv.abort();
    let text = got
        .expect("the driver page reported within 90 s")
        .expect("report");
    let lines: std::collections::HashMap<&str, &str> = text
        .split_terminator('\n')
        .filter_map(|l| l.split_once('='))
        .collect();
    let line = |k: &str| {
        *lines
            .get(k)
            .unwrap_or_else(|| panic!("no {k} in the driver's report:\n{text}"))
    };
    assert!(!lines.contains_key("error"), "{text}");
    // The forged login landed on the registry's refusal, and the browser holds no session from it.
    assert!(
        line("evil_login").contains("Login refused: the form was sent from another site"),
        "{text}"
    );
    assert!(line("after_evil_login").contains("Log in"), "{text}");
    // The real login through the form, with the stylesheet applied under the CSP.
    assert_eq!(line("logged_in"), "Project app", "{text}");
    assert_eq!(line("header_background"), "rgb(29, 35, 48)", "{text}");
    // The forged logout was refused and the session survived it.
    assert!(
        line("evil_logout").contains("Logout refused: the form was sent from another site"),
        "{text}"
    );
    assert_eq!(line("after_evil_logout"), "Project app", "{text}");
    // The Log out button ends the session.
    assert_eq!(line("logged_out"), "Log in", "{text}");
    assert_eq!(line("after_logout"), "Log in", "{text}");
    // Only the real login created a session, and the logout removed it.
    assert_eq!(
        state
            .store_for_tests()
            .purge_sessions(strata_registry::model::Millis(i64::MAX))
            .await
            .unwrap(),
        0,
        "no session is left"
    );
}

/// The driver page (the test's own, served on the registry's origin): it opens registry pages in a named window
/// and acts on them through the DOM, as a user would, then posts what it saw to `/test-report`.
const DRIVER: &str = r#"<!doctype html><title>driver</title><script>
const report = [];
const log = (k, v) => report.push(k + '=' + String(v).replace(/\s+/g, ' ').trim());
const sleep = ms => new Promise(r => setTimeout(r, ms));
// Waits (up to 20 s) until window w shows a loaded document of the registry at `path` (and, optionally, containing
// `text`). Timers of this page are throttled while another window has the focus, so time is measured, not ticks.
async function at(w, path, text) {
  const start = Date.now();
  while (Date.now() - start < 20000) {
    await sleep(50);
    try {
      if (w.location.origin === location.origin && w.location.pathname === path
          && w.document.readyState === 'complete' && w.document.body
          && (!text || w.document.body.innerText.includes(text))) return true;
    } catch (e) { /* another site's document: not readable yet */ }
  }
  let where = '?';
  try { where = w.location.href + ' ' + w.document.body.innerText; } catch (e) {}
  throw new Error('never reached ' + path + ' (' + (text || '') + '): ' + where);
}
const body = w => w.document.body.innerText;
const h1 = w => w.document.querySelector('h1').textContent;
(async () => {
  try {
    // Another site posts a login form with its own token: refused, no session.
    const e1 = window.open('EVIL/login', 'evil1');
    await at(e1, '/login', 'refused');
    log('evil_login', body(e1));
    e1.close();
    const w = window.open('/', 'ui');
    await at(w, '/', 'Log in');
    log('after_evil_login', h1(w));
    // The user logs in with the registry's form.
    w.location = '/login';
    await at(w, '/login', 'Paste a token');
    w.document.getElementById('token').value = 'TOKEN';
    w.document.querySelector('form[action="/login"] button').click();
    await at(w, '/projects/app', 'Directory');
    log('logged_in', h1(w));
    log('header_background', w.getComputedStyle(w.document.querySelector('header')).backgroundColor);
    // Another site posts the logout form: refused, still logged in.
    const e2 = window.open('EVIL/logout', 'evil2');
    await at(e2, '/logout', 'refused');
    log('evil_logout', body(e2));
    e2.close();
    w.location = '/projects/app?again';
    await at(w, '/projects/app', 'Directory');
    log('after_evil_logout', h1(w));
    // The Log out button.
    w.document.querySelector('form[action="/logout"] button').click();
    await at(w, '/login', 'Paste a token');
    log('logged_out', h1(w));
    // The cookie is gone: the page asks for a login.
    w.location = '/projects/app';
    await at(w, '/projects/app', 'Paste a token');
    log('after_logout', h1(w));
  } catch (e) {
    log('error', e.message);
  }
  await fetch('/test-report', { method: 'POST', body: report.join('\n') });
})();
</script>"#;
