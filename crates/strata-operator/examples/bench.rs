//! Benchmark: N `AtlasMigration` resources (local directories of M migrations, one SQLite database each)
//! reconciled through the controller code path (`controller::reconcile`: resolve, engine status + apply, status
//! write by server-side apply, events, metrics) against an in-process API server that answers every request.
//! Reports the time until all are Ready and the peak RSS.
//!
//! ```text
//! cargo run --release -p strata-operator --example bench -- [resources=500] [migrations=20] [concurrency=16]
//! ```

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use kube::runtime::controller::Action;
use serde_json::{Value, json};
use strata_operator::controller::{self, Context, Settings};
use strata_operator::crd::{AtlasMigrationSpec, Dir, KeyRef, ValueFrom, new_migration};
use strata_operator::metrics::Metrics;
use strata_operator::resolve::StaticObjects;

type Statuses = Arc<std::sync::Mutex<std::collections::HashMap<String, Value>>>;

/// Answers every request: status patches echo the object with the new status, events are accepted.
async fn api_server(
    mut handle: tower_test::mock::Handle<Request<Body>, Response<Body>>,
    statuses: Statuses,
) {
    while let Some((req, send)) = handle.next_request().await {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let bytes = req.into_body().collect_bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let (code, reply) = if method == Method::PATCH && path.ends_with("/status") {
            let name = path.rsplit('/').nth(1).unwrap_or_default();
            statuses
                .lock()
                .unwrap()
                .insert(name.to_owned(), body["status"].clone());
            (
                200,
                json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigration",
                         "metadata": {"name": name, "namespace": "bench"}, "spec": {"dir": {}},
                         "status": body["status"]}),
            )
        } else if method == Method::POST {
            (201, body)
        } else {
            (
                404,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}),
            )
        };
        send.send_response(
            Response::builder()
                .status(code)
                .body(Body::from(serde_json::to_vec(&reply).unwrap()))
                .unwrap(),
        );
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let n = args.first().copied().unwrap_or(500);
    let migrations = args.get(1).copied().unwrap_or(20);
    let concurrency = args.get(2).copied().unwrap_or(16);
    let tmp = tempfile::tempdir().unwrap();

    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let statuses = Statuses::default();
    tokio::spawn(api_server(handle, statuses.clone()));
    let client = Client::new(svc, "default");
    let mut objects = StaticObjects::default();
    let local = common::dir(migrations);
    let mut resources = Vec::with_capacity(n);
    for i in 0..n {
        let secret = format!("db-{i}");
        let url = format!("sqlite://{}/db-{i}.sqlite", tmp.path().display());
        objects = objects.with_secret("bench", &secret, &[("url", &url)]);
        resources.push(new_migration(
            &format!("m-{i}"),
            "bench",
            AtlasMigrationSpec {
                url_from: Some(ValueFrom {
                    secret_key_ref: Some(KeyRef {
                        name: secret,
                        key: "url".into(),
                        optional: None,
                    }),
                }),
                dir: Dir {
                    local: Some(local.clone()),
                    ..Dir::default()
                },
                ..AtlasMigrationSpec::default()
            },
        ));
    }
    let settings = Settings {
        sqlite_lock_root: Some(tmp.path().join("locks")),
        ..Settings::default()
    };
    let mut ctx = Context::new(client, settings, Arc::new(Metrics::default()));
    ctx.objects = Arc::new(objects);
    let ctx = Arc::new(ctx);

    let start = Instant::now();
    let ready = futures::stream::iter(resources)
        .map(|mut m| {
            let ctx = ctx.clone();
            let statuses = statuses.clone();
            async move {
                // As the controller would: reconcile, take the written status, requeue "now" at once.
                for _ in 0..4 {
                    let action = controller::reconcile(Arc::new(m.clone()), ctx.clone())
                        .await
                        .expect("reconcile");
                    // As the watch would deliver it: the object with the status the API server stored.
                    let written = statuses
                        .lock()
                        .unwrap()
                        .get(&m.metadata.name.clone().unwrap())
                        .cloned();
                    if let Some(s) = written {
                        m.status = Some(serde_json::from_value(s).unwrap());
                    }
                    if action != Action::requeue(Duration::ZERO) {
                        break;
                    }
                }
                m.status.as_ref().is_some_and(|s| s.is_ready())
            }
        })
        .buffer_unordered(concurrency)
        .filter(|r| futures::future::ready(*r))
        .count()
        .await;
    let took = start.elapsed();
    let text = ctx.metrics.render();
    let applied = text
        .split_terminator('\n')
        .find(|l| l.starts_with("strata_operator_migrations_applied_total "))
        .unwrap_or_default()
        .to_owned();
    // The benchmark's result line, for BENCHMARKS.md: this program's stdout is its report.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "resources={n} migrations={migrations} concurrency={concurrency} ready={ready} all_ready_after={:.2}s peak_rss={:.1}MiB {applied}",
            took.as_secs_f64(),
            common::peak_rss_kib("self") as f64 / 1024.0
        );
    }
    assert_eq!(ready, n, "every resource must end Ready");
}
