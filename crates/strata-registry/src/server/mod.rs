//! The HTTP server: REST API under `/api`, its OpenAPI document at `/api/openapi.json`, the web UI, `/healthz`
//! and Prometheus `/metrics`.
//!
//! Every `/api/projects/…` endpoint and every UI page checks the caller's token: no token is `401`, a token of
//! another project gets the same `404` as a project that does not exist (so nothing about other projects leaks),
//! and a token without the needed scope is `403`. `/healthz`, `/metrics` and `/api/openapi.json` are public and
//! reveal no project data (metrics are labelled by route template, never by project).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use crate::auth::{self, Principal};
use crate::error::RegistryError;
use crate::model::Scope;
use crate::store::Store;
use crate::upload::Limits;

pub mod api;
mod budget;
mod cache;
mod metrics;
mod throttle;
mod ui;

pub use metrics::Metrics;

/// Name of the UI's session cookie: it holds a random session id, never a token (`HttpOnly`, `SameSite=Strict`;
/// see [`auth::create_session`]).
pub const COOKIE: &str = "strata_session";

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Push size limits (`--max-upload-bytes` sets `max_upload_bytes`).
    pub limits: Limits,
    /// Mark the session cookie `Secure` (when served over HTTPS behind a proxy).
    pub secure_cookies: bool,
    /// How long a verified token is trusted before it is checked against the database again
    /// (`--token-cache-ttl`, default [`TOKEN_CACHE_TTL`]). A token revoked through another replica, or directly
    /// on the database, is refused here at the latest this long after the revocation; zero checks every request.
    pub token_cache_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            secure_cookies: false,
            token_cache_ttl: TOKEN_CACHE_TTL,
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: Config,
    metrics: Metrics,
    cache: cache::Cache,
    login_throttle: throttle::LoginThrottle,
    uploads: budget::UploadBudget,
}

impl AppState {
    /// State over a store.
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                metrics: Metrics::default(),
                cache: cache::Cache::new(config.token_cache_ttl),
                login_throttle: throttle::LoginThrottle::default(),
                uploads: budget::UploadBudget::new(config.limits.max_upload_bytes_in_flight),
                config,
            }),
        }
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The store (for tests and tools built on the server).
    pub fn store_for_tests(&self) -> &dyn Store {
        self.store()
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn cache(&self) -> &cache::Cache {
        &self.inner.cache
    }

    pub(crate) fn login_throttle(&self) -> &throttle::LoginThrottle {
        &self.inner.login_throttle
    }

    pub(crate) fn uploads(&self) -> &budget::UploadBudget {
        &self.inner.uploads
    }

    /// The caller, from `Authorization: Bearer` (or, when `cookie` is allowed, the UI's session cookie, checked
    /// against the database on every request so that logout and revocation end it at once on every replica).
    /// The cookie may hold a session per project ([`session_ids`]): the one of `project` (any valid one when
    /// `None`) answers; without one, an ended session is the error, else the first valid one answers (and
    /// [`check`] refuses it for `project`).
    /// `Ok(None)`: no token was sent; a token that does not verify is an error.
    pub(crate) async fn principal(
        &self,
        headers: &HeaderMap,
        cookie: bool,
        project: Option<&str>,
    ) -> Result<Option<Principal>, ApiError> {
        let token = match headers.get(header::AUTHORIZATION) {
            Some(v) => {
                let v = v.to_str().unwrap_or_default().trim();
                let Some(t) = v
                    .strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                else {
                    return Err(ApiError::from(RegistryError::Unauthorized(
                        "the Authorization header must be 'Bearer <token>'".into(),
                    )));
                };
                t.trim().to_owned()
            }
            None if cookie => {
                let mut valid = Vec::new();
                let mut first_err = None;
                for s in self.sessions(headers).await {
                    match s {
                        Ok(p) => valid.push(p),
                        Err(e) => {
                            first_err.get_or_insert(e);
                        }
                    }
                }
                let wanted = match project {
                    Some(p) => valid.iter().find(|s| s.project == p),
                    None => valid.first(),
                };
                // No session of the project asked for: an ended one says "log in again"; else the first valid
                // one, which `check` refuses for that project as for one that does not exist.
                return match (wanted.cloned(), first_err, valid.first()) {
                    (Some(p), _, _) => Ok(Some(p)),
                    (None, Some(e), _) => Err(ApiError::from(e)),
                    (None, None, other) => Ok(other.cloned()),
                };
            }
            None => return Ok(None),
        };
        if let Some(p) = self.cache().principal(&token) {
            return Ok(Some(p));
        }
        let p = auth::verify(self.store(), &token).await?;
        self.cache().remember_principal(&token, &p);
        Ok(Some(p))
    }

    /// Every session the browser's cookie holds, verified (one per project it logged in to).
    pub(crate) async fn sessions(
        &self,
        headers: &HeaderMap,
    ) -> Vec<Result<Principal, RegistryError>> {
        let mut out = Vec::new();
        for id in session_ids(headers) {
            out.push(auth::session(self.store(), &id).await);
        }
        out
    }

    /// Checks that the caller may do `scope` in `project`.
    pub(crate) async fn authorize(
        &self,
        headers: &HeaderMap,
        project: &str,
        scope: Scope,
        cookie: bool,
    ) -> Result<Principal, ApiError> {
        let p = self.principal(headers, cookie, Some(project)).await?.ok_or_else(|| {
            ApiError::from(RegistryError::Unauthorized(
                "a token is required: send 'Authorization: Bearer <token>' (create one with 'strata registry token create')"
                    .into(),
            ))
        })?;
        check(&p, project, scope)?;
        Ok(p)
    }
}

/// The decision of [`AppState::authorize`] for a known caller.
pub(crate) fn check(p: &Principal, project: &str, scope: Scope) -> Result<(), ApiError> {
    if p.project != project {
        // The same answer as for a project that does not exist.
        return Err(ApiError::from(crate::store::not_found_project(project)));
    }
    if !p.scopes.grants(scope) {
        return Err(ApiError::from(RegistryError::Forbidden(format!(
            "the token lacks the '{scope}' scope for project {project:?}; create a token with --scope {scope}"
        ))));
    }
    Ok(())
}

/// Sessions one browser keeps at most: one per project it logged in to.
pub(crate) const MAX_SESSIONS: usize = 16;

/// The session ids in the [`COOKIE`] cookie: `id` or `id.id…` (ids are URL-safe base64, without dots).
pub(crate) fn session_ids(headers: &HeaderMap) -> Vec<String> {
    cookie_value(headers, COOKIE)
        .map(|v| {
            v.split('.')
                .filter(|s| !s.is_empty())
                .take(MAX_SESSIONS)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// An error as the API returns it: a status and `{"code": "...", "message": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<strata_registry_client::InvalidName> for ApiError {
    fn from(e: strata_registry_client::InvalidName) -> Self {
        RegistryError::from(e).into()
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        use RegistryError as E;
        let (status, code) = match &e {
            E::InvalidUpload(_) => (StatusCode::BAD_REQUEST, "invalid_upload"),
            E::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            E::InvalidName(_) => (StatusCode::BAD_REQUEST, "invalid_name"),
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::TagImmutable { .. } => (StatusCode::CONFLICT, "tag_immutable"),
            E::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            E::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            E::Database(_) | E::DatabaseUrl(_) | E::Http(_) => {
                tracing::error!(error = %e, "internal error");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error in the registry; the server log has the details (search for this request's id)",
                );
            }
        };
        Self::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message });
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"strata\""),
            );
        }
        r
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ui::routes())
        .route("/healthz", axum::routing::get(healthz))
        .route("/metrics", axum::routing::get(metrics::render))
        // After every route: it applies to the routes present when called.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    // "-" is not a valid project name, so this is a cheap round trip that never matches.
    match state.store().project("-").await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "registry database unreachable\n",
            )
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /api/openapi.json",
    )
}

/// A known path with a method it does not serve (the router adds the `Allow` header).
async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not serve this method; the Allow header lists those it does (see /api/openapi.json)",
    )
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

fn request_id(headers: &HeaderMap) -> String {
    if let Some(v) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
        && !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return v.to_owned();
    }
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-{n:06}", std::process::id())
}

/// Request ids, structured access logs and metrics for every request.
async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request_id(req.headers());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    // Bounded labels only: the method from a closed set (a client may send any token as its method), the route
    // as the matched template, never the raw path.
    let method = metrics::method_label(req.method());
    let is_read = matches!(method, "GET" | "HEAD");
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let span = tracing::info_span!("request", request_id = %id, method, route = %route);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        // Successful reads are the bulk of the traffic: log them at debug (RUST_LOG=strata_registry=debug shows
        // every request); writes, refusals and errors at info or above.
        if status >= 500 {
            tracing::error!(status, latency_ms, "request");
        } else if status < 400 && is_read {
            tracing::debug!(status, latency_ms, "request");
        } else {
            tracing::info!(status, latency_ms, "request");
        }
    });
    state.inner.metrics.observe(method, &route, status, elapsed);
    // A refusal may come before the body was read (no token, another project, an announced size over the
    // limit); the connection then cannot carry another request, and without this header a client would send
    // its next one on it and see the connection drop.
    if has_body && status >= 400 {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Serves until `shutdown` completes, then finishes the requests in flight (graceful shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(addr = ?addr, backend = state.store().backend(), "registry listening");
    // The peer address is what failed logins are throttled by.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The default of [`Config::token_cache_ttl`]: how long a verified token is trusted before it is checked against
/// the database again (so a revocation reaches every replica within this time).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// Installs the log subscriber for `strata registry serve`: `RUST_LOG` filters (default `info`), one line per
/// event, JSON when `json` is set. Every request's events carry its `request_id`.
pub fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Opens the store at `db` and serves on `addr` until Ctrl-C or SIGTERM.
pub async fn run(addr: &str, db: &str, config: Config) -> Result<(), RegistryError> {
    let store = crate::store::open(db).await?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        RegistryError::Http(format!(
            "cannot listen on {addr}: {e}; choose another --addr"
        ))
    })?;
    let shutdown = async {
        strata_signal::shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
    };
    serve(listener, AppState::new(store, config), shutdown)
        .await
        .map_err(|e| RegistryError::Http(format!("server error: {e}")))
}
