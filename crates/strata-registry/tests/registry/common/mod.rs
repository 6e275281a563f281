//! Helpers shared by the registry's integration tests.

use std::sync::Arc;

use strata_migrate::MigrationFile;
use strata_migrate::sum::SumFile;
use strata_registry::Store;
use strata_registry::upload::{self, ValidatedDir};

/// A directory's files (`atlas.sum` included) from `(name, content)` pairs.
pub fn files(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let migrations: Vec<_> = pairs
        .iter()
        .map(|(n, b)| MigrationFile::new(*n, b.as_bytes()))
        .collect();
    let mut out: Vec<_> = pairs
        .iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect();
    out.push(("atlas.sum".into(), SumFile::compute(&migrations).to_bytes()));
    out
}

/// A validated directory.
pub fn validated(pairs: &[(&str, &str)]) -> ValidatedDir {
    upload::finish(files(pairs)).expect("valid directory")
}

/// Version `n` of a directory: `n` files.
pub fn version(n: usize) -> ValidatedDir {
    let pairs: Vec<(String, String)> = (1..=n)
        .map(|i| {
            (
                format!("{i:03}_step.sql"),
                format!("CREATE TABLE t{i} (id int);\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    validated(&refs)
}

/// A fresh SQLite store in a temp dir.
pub async fn sqlite_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    (strata_registry::open_store(&url).await.unwrap(), dir)
}

/// A fresh PostgreSQL store (None when no server is reachable).
pub async fn pg_store() -> Option<(Arc<dyn Store>, strata_driver::testing::TestDb)> {
    let db = strata_driver::testing::postgres().await?;
    let store = strata_registry::open_store(&db.url).await.unwrap();
    Some((store, db))
}

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use strata_registry::server::{AppState, Config};
use tower::ServiceExt as _;

/// A response, read whole.
pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request through the router (no sockets).
pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Res {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if let Some(c) = content_type {
        b = b.header("content-type", c);
    }
    let res = app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Res {
        status,
        headers,
        body,
    }
}

/// A JSON push body for `(name, content)` pairs (atlas.sum computed).
pub fn json_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    use base64::Engine as _;
    let files: Vec<_> = files(pairs)
        .into_iter()
        .map(|(n, b)| serde_json::json!({"name": n, "base64": base64::engine::general_purpose::STANDARD.encode(b)}))
        .collect();
    serde_json::json!({ "files": files })
        .to_string()
        .into_bytes()
}

/// A tar push body.
pub fn tar_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (n, bytes) in files(pairs) {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, &n, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// Tokens of the test application.
pub struct Tokens {
    pub read: String,
    pub push: String,
    pub report: String,
    pub admin: String,
    pub other: String,
}

/// A router over a fresh SQLite store with project `app` (one pushed version, tag `v1`, one deployment) and
/// project `other`, and tokens for each scope.
/// Keeps a test database alive.
pub enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(strata_driver::testing::TestDb),
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub async fn app_with(config: Config) -> (Router, AppState, Tokens, String, Guard) {
    app_on(Backend::Sqlite, config).await.expect("sqlite")
}

/// The test application on a backend (None: PostgreSQL unreachable, test skipped).
pub async fn app_on(
    backend: Backend,
    config: Config,
) -> Option<(Router, AppState, Tokens, String, Guard)> {
    use strata_registry::auth::create_token;
    let (store, dir) = match backend {
        Backend::Sqlite => {
            let (s, d) = sqlite_store().await;
            (s, Guard::Sqlite(d))
        }
        Backend::Postgres => {
            let (s, d) = pg_store().await?;
            (s, Guard::Postgres(d))
        }
    };
    let t = |s: &str| s.parse().unwrap();
    let tokens = Tokens {
        read: create_token(store.as_ref(), "app", "r", t("read"))
            .await
            .unwrap()
            .1,
        push: create_token(store.as_ref(), "app", "p", t("push"))
            .await
            .unwrap()
            .1,
        report: create_token(store.as_ref(), "app", "rep", t("report"))
            .await
            .unwrap()
            .1,
        admin: create_token(store.as_ref(), "app", "a", t("admin"))
            .await
            .unwrap()
            .1,
        other: create_token(store.as_ref(), "other", "o", t("admin"))
            .await
            .unwrap()
            .1,
    };
    let v = validated(&[("1_init.sql", "CREATE TABLE secret_app_table (id int);\n")]);
    store.push("app", "app", &v, &["v1".into()]).await.unwrap();
    store
        .add_deployment(
            "app",
            &serde_json::from_value(serde_json::json!({
                "dir": "app", "target": "postgres://db/prod", "status": "succeeded",
                "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let state = AppState::new(store, config);
    Some((
        strata_registry::server::router(state.clone()),
        state,
        tokens,
        v.digest,
        dir,
    ))
}

pub async fn app() -> (Router, AppState, Tokens, String, Guard) {
    app_with(Config::default()).await
}
