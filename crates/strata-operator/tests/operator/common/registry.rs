//! A real Strata registry for the operator's tests: the axum server on an ephemeral loopback port over a SQLite
//! store in a temp dir, with tokens created through the store API and directories pushed over HTTP.

use std::sync::{Arc, Mutex};

use strata_registry::Store;
use strata_registry::server::{AppState, Config};
use strata_registry_client::Client;

use super::objects::migration_dir;

/// A running registry; the server stops when this is dropped.
pub struct TestRegistry {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The store behind the server.
    pub store: Arc<dyn Store>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestRegistry {
    /// Starts a registry on `127.0.0.1:0`.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("registry.db").display());
        let store = strata_registry::open_store(&url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(store.clone(), Config::default());
        let task = tokio::spawn(async move {
            let _ = strata_registry::server::serve(listener, state, std::future::pending()).await;
        });
        Self {
            base,
            store,
            task,
            _dir: dir,
        }
    }

    /// A new token of `project` with `scopes` (`read,report`, …).
    pub async fn token(&self, project: &str, scopes: &str) -> String {
        strata_registry::auth::create_token(
            self.store.as_ref(),
            project,
            "test",
            scopes.parse().unwrap(),
        )
        .await
        .unwrap()
        .1
    }

    /// Pushes `(name, sql)` files (with a computed `atlas.sum`) as `project/dir` under `tags`; returns the version id.
    pub async fn push(
        &self,
        project: &str,
        dir: &str,
        files: &[(&str, &str)],
        tags: &[&str],
    ) -> String {
        let token = self.token(project, "push").await;
        let c = Client::new(&self.base, Some(token)).unwrap();
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        c.push(project, dir, &migration_dir(files), &tags)
            .await
            .unwrap()
            .version
            .id
    }

    /// The deployments of `project` through the list-deployments API, newest first.
    pub async fn deployments(&self, project: &str) -> Vec<serde_json::Value> {
        let token = self.token(project, "read").await;
        Client::new(&self.base, Some(token))
            .unwrap()
            .deployments(project)
            .await
            .unwrap()
    }

    /// The project's latest drift checks, through the API.
    pub async fn drifts(&self, project: &str) -> Vec<serde_json::Value> {
        let token = self.token(project, "read").await;
        Client::new(&self.base, Some(token))
            .unwrap()
            .drifts(project)
            .await
            .unwrap()
    }
}

/// Collects log output (a `tracing` writer).
#[derive(Clone, Default)]
pub struct LogBuffer(pub Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// A subscriber writing plain lines (no colour) into this buffer.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let buf = self.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || buf.clone())
            .finish()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
