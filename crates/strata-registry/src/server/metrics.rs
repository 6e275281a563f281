//! Prometheus metrics in the text exposition format: request counts and latency histograms by method, route
//! template and status, plus store-wide gauges.
//!
//! Every label is taken from a closed set, never from the request's own text: the method is one of the standard
//! methods or `OTHER` ([`method_label`]), the route is the template the router matched (or `unmatched`), and the
//! status is the one the server sent. So no client can grow the number of series, whatever it sends.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, header};
use axum::response::IntoResponse;

use super::AppState;

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The method as a metrics label and log field: the standard methods by name, anything else `OTHER`. The method
/// is client-chosen text of any length (HTTP allows extension methods), so it is never used as it came.
pub(crate) fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// Counts one request. `method` comes from [`method_label`] and `route` is a matched route template (or
    /// `unmatched`): both from closed sets.
    pub(crate) fn observe(
        &self,
        method: &'static str,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method, route.to_owned(), status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_owned()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.buckets[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP strata_registry_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE strata_registry_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "strata_registry_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP strata_registry_http_request_duration_seconds Request latency by route.\n",
        );
        out.push_str("# TYPE strata_registry_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let r = escape(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "strata_registry_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                        h.buckets[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "strata_registry_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "strata_registry_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "strata_registry_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    h.count
                );
            }
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub(crate) async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.inner.metrics.text();
    let _ = writeln!(
        text,
        "# HELP strata_registry_upload_bytes_in_flight Request-body bytes reserved now against --max-upload-bytes-in-flight.\n\
         # TYPE strata_registry_upload_bytes_in_flight gauge\n\
         strata_registry_upload_bytes_in_flight {}",
        state.uploads().in_flight()
    );
    match state.store().stats().await {
        Ok(s) => {
            for (name, help, v) in [
                ("projects", "Projects.", s.projects),
                ("versions", "Stored directory versions.", s.versions),
                ("blobs", "Distinct file contents stored.", s.blobs),
                (
                    "blob_bytes",
                    "Bytes of distinct file contents.",
                    s.blob_bytes,
                ),
                ("deployments", "Deployments recorded.", s.deployments),
            ] {
                let _ = writeln!(text, "# HELP strata_registry_{name} {help}");
                let _ = writeln!(text, "# TYPE strata_registry_{name} gauge");
                let _ = writeln!(text, "strata_registry_{name} {v}");
            }
            text.push_str("strata_registry_up 1\n");
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics: store unreachable");
            text.push_str("strata_registry_up 0\n");
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
