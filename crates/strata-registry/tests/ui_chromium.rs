//! The web UI in a real headless Chromium (Debian package `chromium`): each page renders its expected content
//! and a screenshot is saved under `target/tmp/registry-screenshots/`. Chromium cannot send an `Authorization`
//! header from the command line, so it browses through a tiny proxy that adds the read token — exactly what a
//! reverse proxy in front of the registry could do. Skipped when Chromium is not installed (set
//! `STRATA_REQUIRE_CHROMIUM=1` to make that a failure).

mod common;

use std::path::PathBuf;
use std::process::Command;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use common::*;
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
                "CREATE TABLE secret_app_table",
                "1_init.sql",
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
