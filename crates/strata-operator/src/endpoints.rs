//! The operator's HTTP endpoints — `/healthz` and `/readyz` on the health address, `/metrics` on the metrics
//! address — served with hyper directly (no web framework): `GET` or `HEAD` of a known path answers, another method
//! on it is `405` with `Allow: GET,HEAD`, any other path is `404` with an empty body.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::controller::AtlasReady;
use crate::metrics::Metrics;

/// Content type of the health answers.
pub const TEXT: &str = "text/plain; charset=utf-8";
/// Content type of `/metrics`.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One address's endpoints.
#[derive(Clone)]
pub enum Endpoints {
    /// `/healthz` always answers 200 `ok`; `/readyz` 200 `ok` once the controller runs (503 `starting` before).
    Health(Arc<AtlasReady>),
    /// `/metrics`: the OpenMetrics text.
    Metrics(Arc<Metrics>),
}

impl Endpoints {
    /// The answer to `method` on `path` (the request target without its query).
    pub fn respond(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let known = matches!(
            (self, path),
            (Self::Health(_), "/healthz" | "/readyz") | (Self::Metrics(_), "/metrics")
        );
        if !known {
            return reply(StatusCode::NOT_FOUND, None, Bytes::new());
        }
        if !matches!(*method, Method::GET | Method::HEAD) {
            let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, None, Bytes::new());
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET,HEAD"));
            return r;
        }
        let (status, content_type, body) = match self {
            Self::Health(ready) => {
                if path == "/healthz" || ready.0.load(Ordering::SeqCst) {
                    (StatusCode::OK, TEXT, Bytes::from_static(b"ok"))
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        TEXT,
                        Bytes::from_static(b"starting"),
                    )
                }
            }
            Self::Metrics(m) => (StatusCode::OK, OPENMETRICS, Bytes::from(m.render())),
        };
        // hyper leaves out the body of an answer to HEAD.
        reply(status, Some(content_type), body)
    }
}

fn reply(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    r
}

/// Binds `addr` and serves `endpoints` on it (HTTP/1.1) until the task is dropped or aborted. Only the bind can
/// fail; a failed accept (e.g. out of file descriptors) is logged and retried after a second, a failed connection
/// only ends that connection.
pub async fn serve(addr: SocketAddr, endpoints: Endpoints) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_on(listener, endpoints).await
}

/// [`serve`] on a bound listener (tests bind port 0).
pub async fn serve_on(listener: TcpListener, endpoints: Endpoints) -> std::io::Result<()> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection to the health or metrics endpoint");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let answer = endpoints.respond(req.method(), req.uri().path());
                async move { Ok::<_, Infallible>(answer) }
            });
            // A timer makes hyper enforce its header read timeout (30 s), so a silent client does not hold a
            // connection forever.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "health or metrics connection");
            }
        });
    }
}
