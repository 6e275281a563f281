//! Benchmark: N `AtlasSchema` resources, each targeting its own PostgreSQL database on the local server, with one
//! desired schema of T tables, reconciled through the controller code path (`controller::reconcile_atlas_schema`:
//! resolve, dev database, inspect, plan, apply, status write by server-side apply, events, metrics) against an
//! in-process API server that answers every request. Reports the time until all are Ready, the time of a
//! no-change re-reconcile of all of them, and the peak RSS. The databases are created before and dropped after.
//!
//! ```text
//! cargo run --release -p strata-operator --example bench_schema -- [resources=200] [tables=20] [concurrency=16]
//! ```
//! `STRATA_BENCH_POSTGRES_URL` names the server (default `postgres://postgres@127.0.0.1:5432/postgres`).

#[allow(dead_code)] // `common::dir` is for the AtlasMigration benchmarks.
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use kube::runtime::controller::Action;
use serde_json::{Value, json};
use strata_operator::atlas_schema::AtlasSchema;
use strata_operator::atlas_schema::crd::{AtlasSchemaSpec, SchemaSource, new_schema};
use strata_operator::controller::{self, Context, SchemaContext, Settings};
use strata_operator::crd::{KeyRef, ValueFrom};
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
                json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasSchema",
                         "metadata": {"name": name, "namespace": "bench"}, "spec": {"schema": {}},
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

/// `tables` tables, each referencing the first.
fn desired_sql(tables: usize) -> String {
    let mut sql = String::new();
    for j in 0..tables {
        let fk = if j == 0 {
            String::new()
        } else {
            ", owner_id bigint REFERENCES t0 (id)".to_owned()
        };
        sql.push_str(&format!(
            "CREATE TABLE t{j} (id bigint NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(){fk}, PRIMARY KEY (id));\nCREATE INDEX t{j}_name ON t{j} (name);\n"
        ));
    }
    sql
}

async fn admin(url: &str, sql: &str) {
    let mut drv = strata_driver::connect(&url.parse().unwrap()).await.unwrap();
    drv.execute(sql).await.unwrap();
    drv.close().await.unwrap();
}

/// Drives each resource as the controller would (reconcile, feed the written status back, requeue "now" at once);
/// returns how many ended Ready.
async fn drive(
    resources: &mut [AtlasSchema],
    ctx: &Arc<SchemaContext>,
    statuses: &Statuses,
    concurrency: usize,
) -> usize {
    let done: Vec<AtlasSchema> = futures::stream::iter(resources.iter().cloned())
        .map(|mut m| {
            let ctx = ctx.clone();
            let statuses = statuses.clone();
            async move {
                for _ in 0..4 {
                    let action =
                        controller::reconcile_atlas_schema(Arc::new(m.clone()), ctx.clone())
                            .await
                            .expect("reconcile");
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
                m
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let ready = done
        .iter()
        .filter(|m| m.status.as_ref().is_some_and(|s| s.is_ready()))
        .count();
    for m in done {
        if let Some(slot) = resources
            .iter_mut()
            .find(|r| r.metadata.name == m.metadata.name)
        {
            *slot = m;
        }
    }
    ready
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let n = args.first().copied().unwrap_or(200);
    let tables = args.get(1).copied().unwrap_or(20);
    let concurrency = args.get(2).copied().unwrap_or(16);
    let server = std::env::var("STRATA_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(b, _)| b)
        .to_owned();
    let prefix = format!("strata_bench_{}", std::process::id());
    for i in 0..n {
        admin(&server, &format!("CREATE DATABASE {prefix}_{i}")).await;
    }

    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let statuses = Statuses::default();
    tokio::spawn(api_server(handle, statuses.clone()));
    let client = Client::new(svc, "default");
    let mut objects = StaticObjects::default();
    let sql = desired_sql(tables);
    let mut resources = Vec::with_capacity(n);
    for i in 0..n {
        let secret = format!("db-{i}");
        let url = format!("{base}/{prefix}_{i}");
        objects = objects.with_secret("bench", &secret, &[("url", &url)]);
        let mut s = new_schema(
            &format!("s-{i}"),
            "bench",
            AtlasSchemaSpec {
                url_from: Some(ValueFrom {
                    secret_key_ref: Some(KeyRef {
                        name: secret,
                        key: "url".into(),
                        optional: None,
                    }),
                }),
                schema: SchemaSource {
                    sql: Some(sql.clone()),
                    ..SchemaSource::default()
                },
                ..AtlasSchemaSpec::default()
            },
        );
        s.metadata.uid = Some(format!("uid-{i}"));
        resources.push(s);
    }
    let mut ctx = Context::new(client, Settings::default(), Arc::new(Metrics::default()));
    ctx.objects = Arc::new(objects);
    let ctx = Arc::new(SchemaContext::new(Arc::new(ctx)));

    let start = Instant::now();
    let ready = drive(&mut resources, &ctx, &statuses, concurrency).await;
    let took = start.elapsed();
    let start = Instant::now();
    let still = drive(&mut resources, &ctx, &statuses, concurrency).await;
    let again = start.elapsed();
    let rss = common::peak_rss_kib("self") as f64 / 1024.0;

    for i in 0..n {
        admin(&server, &format!("DROP DATABASE {prefix}_{i}")).await;
    }
    // The benchmark's result line, for BENCHMARKS.md: this program's stdout is its report.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "resources={n} tables={tables} concurrency={concurrency} ready={ready} all_ready_after={:.2}s \
             unchanged_rereconcile={:.2}s still_ready={still} peak_rss={rss:.1}MiB",
            took.as_secs_f64(),
            again.as_secs_f64(),
        );
    }
    assert_eq!(ready, n, "every resource must end Ready");
    assert_eq!(still, n, "every resource must stay Ready");
}
