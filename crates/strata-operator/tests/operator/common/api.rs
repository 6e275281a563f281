//! A scripted Kubernetes API server (the controller-rs `tower_test` pattern): the test takes each request the
//! client sends, asserts what it must be and answers it; a request that never comes fails after 10 s.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use strata_operator::AtlasMigration;
use strata_operator::controller::{Context, FIELD_MANAGER, Settings};
use strata_operator::metrics::Metrics;

pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;
pub type Responder = tower_test::mock::SendResponse<Response<Body>>;

/// The server side of a mocked client.
pub struct ApiServer {
    /// The raw request stream.
    pub handle: Handle,
    /// The object the server holds: the answer to a GET of it and, with the patched status, to a status write.
    pub served: AtlasMigration,
}

/// A client whose requests go to the returned server, which holds `served`.
pub fn mock_client(served: AtlasMigration) -> (Client, ApiServer) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(svc, "default"), ApiServer { handle, served })
}

/// A controller context on a mocked client (SQLite lock files under `lock_root`), and its server.
pub fn context(lock_root: &Path, served: AtlasMigration) -> (Arc<Context>, ApiServer) {
    let (client, api) = mock_client(served);
    let settings = Settings {
        sqlite_lock_root: Some(lock_root.to_owned()),
        ..Settings::default()
    };
    let ctx = Context::new(client, settings, Arc::new(Metrics::default()));
    (Arc::new(ctx), api)
}

/// A request's JSON body (`null` when it has none).
pub async fn body_json(req: Request<Body>) -> Value {
    let bytes = req.into_body().collect_bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// Answers with `code` and the JSON `body`.
pub fn respond(send: Responder, code: u16, body: Value) {
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
    );
}

/// An API `Status` failure object.
pub fn api_status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

impl ApiServer {
    /// The next request, with its responder.
    pub async fn next(&mut self) -> (Request<Body>, Responder) {
        tokio::time::timeout(Duration::from_secs(10), self.handle.next_request())
            .await
            .expect("timed out waiting for an API request")
            .expect("service not called")
    }

    /// Expects a status apply-patch and answers `code`; returns the patch body.
    pub async fn status_patch(&mut self, code: u16) -> Value {
        let (req, send) = self.next().await;
        assert_eq!(req.method(), Method::PATCH);
        let uri = req.uri().to_string();
        assert!(
            uri.starts_with(
                "/apis/db.atlasgo.io/v1alpha1/namespaces/apps/atlasmigrations/app/status?"
            ),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("fieldManager={FIELD_MANAGER}")),
            "{uri}"
        );
        assert!(uri.contains("force=true"), "{uri}");
        assert_eq!(
            req.headers()["content-type"],
            "application/apply-patch+yaml"
        );
        let body = body_json(req).await;
        assert_eq!(body["apiVersion"], "db.atlasgo.io/v1alpha1");
        assert_eq!(body["kind"], "AtlasMigration");
        if code == 200 {
            let mut obj = serde_json::to_value(&self.served).unwrap();
            obj["status"] = body["status"].clone();
            respond(send, 200, obj);
        } else {
            respond(
                send,
                code,
                api_status(code, "Conflict", "the object has been modified"),
            );
        }
        body
    }

    /// Expects an event; returns it.
    pub async fn event(&mut self) -> Value {
        let (req, send) = self.next().await;
        assert_eq!(req.method(), Method::POST);
        assert_eq!(
            req.uri().path(),
            "/apis/events.k8s.io/v1/namespaces/apps/events"
        );
        let body = body_json(req).await;
        respond(send, 201, body.clone());
        body
    }

    /// Expects an event create (POST) or series update (PATCH); returns the method, the event's name and the body.
    pub async fn any_event(&mut self) -> (Method, String, Value) {
        let (req, send) = self.next().await;
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        assert!(
            path.starts_with("/apis/events.k8s.io/v1/namespaces/apps/events"),
            "{method} {path}"
        );
        let body = body_json(req).await;
        let name = if method == Method::POST {
            body["metadata"]["name"].as_str().unwrap().to_owned()
        } else {
            path.rsplit('/').next().unwrap().to_owned()
        };
        respond(
            send,
            if method == Method::POST { 201 } else { 200 },
            body.clone(),
        );
        (method, name, body)
    }

    /// Expects a GET of Secret `apps/db`; answers with `data` (base64-encoded), or 404 for `None`.
    pub async fn get_secret(&mut self, data: Option<BTreeMap<&str, &str>>) {
        let (req, send) = self.next().await;
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri().path(), "/api/v1/namespaces/apps/secrets/db");
        match data {
            Some(d) => {
                use base64::Engine as _;
                let enc: BTreeMap<&str, String> = d
                    .iter()
                    .map(|(k, v)| (*k, base64::engine::general_purpose::STANDARD.encode(v)))
                    .collect();
                respond(
                    send,
                    200,
                    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "apps"}, "data": enc}),
                );
            }
            None => respond(
                send,
                404,
                api_status(404, "NotFound", "secrets \"db\" not found"),
            ),
        }
    }

    /// Expects a GET of the served object; answers with it.
    pub async fn get_object(&mut self) {
        let (req, send) = self.next().await;
        assert_eq!(req.method(), Method::GET);
        assert_eq!(
            req.uri().path(),
            "/apis/db.atlasgo.io/v1alpha1/namespaces/apps/atlasmigrations/app"
        );
        respond(send, 200, serde_json::to_value(&self.served).unwrap());
    }

    /// Answers the next request, which must be a LIST of the resources, with `items` at resource version `rv`;
    /// returns when it came.
    pub async fn answer_list(
        &mut self,
        rv: &str,
        items: Vec<AtlasMigration>,
    ) -> tokio::time::Instant {
        let (req, send) = self.next().await;
        let at = tokio::time::Instant::now();
        let uri = req.uri().to_string();
        assert_eq!(req.method(), Method::GET);
        assert!(
            uri.starts_with("/apis/db.atlasgo.io/v1alpha1/namespaces/apps/atlasmigrations?")
                && !uri.contains("watch=true"),
            "expected a list, got {uri}"
        );
        respond(
            send,
            200,
            json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigrationList",
                   "metadata": {"resourceVersion": rv}, "items": items}),
        );
        at
    }

    /// Takes the next request, which must be a WATCH; returns its responder and when it came.
    pub async fn next_watch(&mut self) -> (Responder, tokio::time::Instant) {
        let (req, send) = self.next().await;
        let uri = req.uri().to_string();
        assert!(uri.contains("watch=true"), "expected a watch, got {uri}");
        (send, tokio::time::Instant::now())
    }
}
