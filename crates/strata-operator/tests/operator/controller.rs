//! The controller's API interactions against a scripted API server (the controller-rs `tower_test` pattern): status
//! patches (server-side apply, one field manager), events, Secret reads, conflict retry, watch mapping, and the
//! health / metrics endpoints.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Response, StatusCode};
use kube::client::Body;
use kube::runtime::controller::Action;
use serde_json::{Value, json};
use strata_operator::controller::{self, Context, dependents};
use strata_operator::crd::{Dir, LocalObjectReference};
use strata_operator::endpoints::{self, Endpoints};
use strata_operator::metrics::Metrics;
use strata_operator::resolve::RefKind;
use strata_operator::{AtlasMigration, conditions};

use crate::common::api::{self, ApiServer, api_status, body_json, respond};
use crate::common::objects::{local, local_migration, stored};

const T1: (&str, &str) = ("1_t.sql", "CREATE TABLE t (id int);\n");
const T2: (&str, &str) = ("2_u.sql", "CREATE TABLE u (id int);\n");

/// `apps/app` as the API server stores it: one file, its URL from Secret `db`.
fn migration() -> AtlasMigration {
    stored(local_migration(&[T1]))
}

/// A controller context on the scripted API server, which serves [`migration`].
fn context(lock_root: &std::path::Path) -> (Arc<Context>, ApiServer) {
    api::context(lock_root, migration())
}

fn reconciling() -> AtlasMigration {
    let mut m = migration();
    m.status = Some(conditions::reconciling(
        Default::default(),
        1,
        conditions::RECONCILING,
    ));
    m
}

#[tokio::test]
async fn first_pass_patches_reconciling_status_and_requeues_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile(Arc::new(migration()), ctx));
    let patch = api.status_patch(200).await;
    let conds = &patch["status"]["conditions"];
    assert_eq!(conds[0]["type"], "Ready");
    assert_eq!(conds[0]["status"], "False");
    assert_eq!(conds[0]["reason"], "Reconciling");
    assert_eq!(conds[1]["status"], "True");
    assert_eq!(patch["status"]["observedGeneration"], 1);
    assert_eq!(patch["status"]["failed"], 0);
    assert_eq!(run.await.unwrap().unwrap(), Action::requeue(Duration::ZERO));
}

#[tokio::test]
async fn apply_reads_the_secret_patches_ready_and_publishes_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile(Arc::new(reconciling()), ctx.clone()));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = api.status_patch(200).await;
    assert_eq!(patch["status"]["conditions"][0]["status"], "True");
    assert_eq!(patch["status"]["conditions"][0]["reason"], "Applied");
    assert_eq!(patch["status"]["lastAppliedVersion"], "1");
    assert_eq!(patch["status"]["observed_hash"].as_str().unwrap().len(), 64);
    let ev = api.event().await;
    assert_eq!(ev["type"], "Normal");
    assert_eq!(ev["reason"], "Applied");
    assert_eq!(ev["note"], "Version 1 applied");
    assert_eq!(ev["reportingController"], "atlasmigration-controller");
    assert_eq!(ev["regarding"]["kind"], "AtlasMigration");
    assert_eq!(ev["regarding"]["name"], "app");
    assert_eq!(run.await.unwrap().unwrap(), Action::await_change());
    let text = ctx.metrics.render();
    assert!(
        text.contains("strata_operator_migrations_applied_total 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "strata_operator_resource_ready{namespace=\"apps\",name=\"app\",kind=\"AtlasMigration\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_secret_is_a_failure_with_a_warning_event_and_backoff() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile(Arc::new(reconciling()), ctx.clone()));
    api.get_secret(None).await;
    let patch = api.status_patch(200).await;
    let ready = &patch["status"]["conditions"][0];
    assert_eq!(ready["reason"], "ReadingMigrationData");
    assert_eq!(ready["message"], "secrets \"db\" not found");
    assert_eq!(patch["status"]["failed"], 1);
    let ev = api.event().await;
    assert_eq!(
        (ev["type"].as_str(), ev["reason"].as_str()),
        (Some("Warning"), Some("TransientErr"))
    );
    let action = run.await.unwrap().unwrap();
    // 5 s plus up to 10% jitter.
    let dbg = format!("{action:?}");
    assert!(dbg.contains("requeue_after: Some(5."), "{dbg}");
    assert!(
        ctx.metrics
            .render()
            .contains("strata_operator_failures_total{reason=\"ReadingMigrationData\"} 1")
    );
}

#[tokio::test]
async fn a_conflicting_status_write_is_retried_after_a_re_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile(Arc::new(migration()), ctx));
    let first = api.status_patch(409).await;
    api.get_object().await;
    let second = api.status_patch(200).await;
    assert_eq!(first, second, "the same status is written again");
    assert_eq!(run.await.unwrap().unwrap(), Action::requeue(Duration::ZERO));
}

#[tokio::test]
async fn an_unchanged_status_is_not_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    // Lock wait is not involved; a missing Secret twice gives the same reason, but failed counts up, so use the
    // ready path: apply once, then reconcile the Ready object again.
    let db = tmp.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    let run = tokio::spawn(controller::reconcile(Arc::new(reconciling()), ctx.clone()));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = api.status_patch(200).await;
    api.event().await;
    run.await.unwrap().unwrap();
    let mut ready = migration();
    ready.status = Some(serde_json::from_value(patch["status"].clone()).unwrap());
    let run = tokio::spawn(controller::reconcile(Arc::new(ready), ctx));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    assert_eq!(run.await.unwrap().unwrap(), Action::await_change());
    // No further request: the mock would hang the next call, and the handle has nothing queued.
    if let Ok(Some((req, _))) =
        tokio::time::timeout(Duration::from_millis(100), api.handle.next_request()).await
    {
        let uri = req.uri().to_string();
        panic!(
            "unexpected request {uri}: {} (first write: {patch})",
            body_json(req).await
        );
    }
}

fn ready_line(ns: &str, name: &str) -> String {
    format!(
        "strata_operator_resource_ready{{namespace=\"{ns}\",name=\"{name}\",kind=\"AtlasMigration\"}}"
    )
}

#[tokio::test]
async fn a_resource_deleted_during_its_reconcile_loses_its_ready_gauge() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile(Arc::new(reconciling()), ctx.clone()));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    api.status_patch(200).await;
    api.event().await;
    run.await.unwrap().unwrap();
    assert!(ctx.metrics.render().contains(&ready_line("apps", "app")));

    // The next status write finds the object gone (404): the gauge goes, no event is published.
    let run = tokio::spawn(controller::reconcile(Arc::new(migration()), ctx.clone()));
    api.status_patch(404).await;
    assert_eq!(run.await.unwrap().unwrap(), Action::await_change());
    let text = ctx.metrics.render();
    assert!(!text.contains(&ready_line("apps", "app")), "{text}");
    // A late reconcile of the same (deleted) object cannot bring it back.
    ctx.metrics.set_ready(
        strata_operator::drift::Kind::Migration,
        "apps",
        "app",
        migration().metadata.uid.as_deref().unwrap(),
        true,
    );
    assert!(!ctx.metrics.render().contains(&ready_line("apps", "app")));
}

#[test]
fn watch_deletions_and_relists_remove_ready_gauges() {
    use kube::runtime::watcher::Event;
    let metrics = Metrics::default();
    let (store, mut writer) = kube::runtime::reflector::store::<AtlasMigration>();
    let named = |name: &str, ns: &str| {
        let mut m = migration();
        m.metadata.name = Some(name.into());
        m.metadata.namespace = Some(ns.into());
        m.metadata.uid = Some(format!("uid-{ns}-{name}"));
        m
    };
    for (name, ns) in [
        ("app", "apps"),
        ("kept", "apps"),
        ("stale", "apps"),
        ("x", "team-b"),
    ] {
        metrics.set_ready(
            strata_operator::drift::Kind::Migration,
            ns,
            name,
            &format!("uid-{ns}-{name}"),
            true,
        );
    }
    let watch = |writer: &mut kube::runtime::reflector::store::Writer<AtlasMigration>,
                 ev: Event<AtlasMigration>| {
        writer.apply_watcher_event(&ev);
        controller::on_watch_event(
            &metrics,
            strata_operator::drift::Kind::Migration,
            &store,
            Some("apps"),
            &ev,
        );
    };

    watch(&mut writer, Event::Apply(named("app", "apps")));
    watch(&mut writer, Event::Delete(named("app", "apps")));
    let text = metrics.render();
    assert!(!text.contains(&ready_line("apps", "app")), "{text}");
    assert!(text.contains(&ready_line("apps", "stale")), "{text}");

    // A re-list that no longer has `stale` (deleted while the watch was down) drops it; other namespaces stay.
    watch(&mut writer, Event::Init);
    watch(&mut writer, Event::InitApply(named("kept", "apps")));
    watch(&mut writer, Event::InitDone);
    let text = metrics.render();
    assert!(!text.contains(&ready_line("apps", "stale")), "{text}");
    assert!(text.contains(&ready_line("apps", "kept")), "{text}");
    assert!(text.contains(&ready_line("team-b", "x")), "{text}");
}

#[test]
fn secret_and_config_map_changes_map_to_their_dependents_only() {
    let mut a = migration();
    a.metadata.name = Some("a".into());
    let mut b = migration();
    b.metadata.name = Some("b".into());
    b.spec.dir = Dir {
        config_map_ref: Some(LocalObjectReference {
            name: "files".into(),
        }),
        ..Dir::default()
    };
    b.spec
        .url_from
        .as_mut()
        .unwrap()
        .secret_key_ref
        .as_mut()
        .unwrap()
        .name = "other".into();
    let mut elsewhere = migration();
    elsewhere.metadata.namespace = Some("team-b".into());
    let store = vec![Arc::new(a), Arc::new(b), Arc::new(elsewhere)];
    let names = |v: Vec<kube::runtime::reflector::ObjectRef<AtlasMigration>>| {
        v.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(dependents(&store, RefKind::Secret, "apps", "db")),
        ["a"]
    );
    assert_eq!(
        names(dependents(&store, RefKind::Secret, "apps", "other")),
        ["b"]
    );
    assert_eq!(
        names(dependents(&store, RefKind::ConfigMap, "apps", "files")),
        ["b"]
    );
    assert!(dependents(&store, RefKind::Secret, "apps", "files").is_empty());
    assert_eq!(
        names(dependents(&store, RefKind::Secret, "team-b", "db")),
        ["app"]
    );
}

/// `GET path` over a real connection to an endpoints server: status, content type and body.
async fn http_get(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
) -> (StatusCode, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    conn.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let content_type = lines
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    (
        StatusCode::from_bytes(status.as_bytes()).unwrap(),
        content_type,
        body.to_owned(),
    )
}

/// Serves `endpoints` on an ephemeral loopback port.
async fn serve_endpoints(e: Endpoints) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(endpoints::serve_on(listener, e));
    addr
}

#[tokio::test]
async fn health_and_metrics_endpoints() {
    let ready = Arc::new(controller::AtlasReady::default());
    let health = serve_endpoints(Endpoints::Health(ready.clone())).await;
    let get = |path: &'static str| async move { http_get(health, "GET", path).await.0 };
    assert_eq!(get("/healthz").await, StatusCode::OK);
    assert_eq!(get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE);
    ready.0.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(get("/readyz").await, StatusCode::OK);

    let metrics = Arc::new(Metrics::default());
    metrics.reconciled("ready", Duration::from_millis(3));
    let addr = serve_endpoints(Endpoints::Metrics(metrics)).await;
    let (status, _, text) = http_get(addr, "GET", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("strata_operator_reconciles_total{result=\"ready\"} 1"),
        "{text}"
    );
}

/// What the axum routers answered, kept exactly: bodies, content types, 503 before ready, 404 for other paths
/// (also another address's path), 405 for other methods, HEAD without a body.
#[tokio::test]
async fn endpoints_answer_exactly_as_before() {
    let text = "text/plain; charset=utf-8";
    let ready = Arc::new(controller::AtlasReady::default());
    let health = serve_endpoints(Endpoints::Health(ready.clone())).await;
    assert_eq!(
        http_get(health, "GET", "/healthz").await,
        (StatusCode::OK, text.into(), "ok".into())
    );
    assert_eq!(
        http_get(health, "GET", "/readyz").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            text.into(),
            "starting".into()
        )
    );
    ready.0.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        http_get(health, "GET", "/readyz?verbose").await,
        (StatusCode::OK, text.into(), "ok".into())
    );
    assert_eq!(
        http_get(health, "HEAD", "/healthz").await,
        (StatusCode::OK, text.into(), String::new())
    );
    for path in ["/metrics", "/", "/healthz/", "/nope"] {
        assert_eq!(
            http_get(health, "GET", path).await,
            (StatusCode::NOT_FOUND, String::new(), String::new()),
            "{path}"
        );
    }
    assert_eq!(
        http_get(health, "POST", "/healthz").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );

    let metrics = serve_endpoints(Endpoints::Metrics(Arc::new(Metrics::default()))).await;
    let (status, content_type, body) = http_get(metrics, "GET", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(
        http_get(metrics, "GET", "/healthz").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        http_get(metrics, "DELETE", "/metrics").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn a_second_applied_version_within_the_window_is_its_own_event_with_its_own_note() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let secret = || Some(BTreeMap::from([("url", url.as_str())]));
    let (ctx, mut api) = context(tmp.path());

    // Version 1 applied.
    let run = tokio::spawn(controller::reconcile(Arc::new(reconciling()), ctx.clone()));
    api.get_secret(secret()).await;
    let patch = api.status_patch(200).await;
    let (method, _, ev) = api.any_event().await;
    assert_eq!(
        (method, ev["note"].as_str()),
        (Method::POST, Some("Version 1 applied"))
    );
    run.await.unwrap().unwrap();

    // A second file: the flip to Ready=False, then the apply of version 2, seconds later (inside the window).
    let mut obj = migration();
    obj.spec.dir.local = Some(local(&[T1, T2]));
    obj.status = Some(serde_json::from_value(patch["status"].clone()).unwrap());
    let run = tokio::spawn(controller::reconcile(Arc::new(obj.clone()), ctx.clone()));
    api.get_secret(secret()).await;
    let flip = api.status_patch(200).await;
    run.await.unwrap().unwrap();
    obj.status = Some(serde_json::from_value(flip["status"].clone()).unwrap());
    let run = tokio::spawn(controller::reconcile(Arc::new(obj), ctx.clone()));
    api.get_secret(secret()).await;
    let done = api.status_patch(200).await;
    assert_eq!(done["status"]["lastAppliedVersion"], "2");
    let (method, _, ev) = api.any_event().await;
    assert_eq!(
        (method, ev["reason"].as_str(), ev["note"].as_str()),
        (Method::POST, Some("Applied"), Some("Version 2 applied")),
        "the current version, not a repeat of the first message: {ev}"
    );
    assert_eq!(ev["series"], Value::Null);
    run.await.unwrap().unwrap();
}

#[tokio::test]
async fn event_notes_are_never_frozen_and_repeats_of_one_note_are_aggregated() {
    use strata_operator::{Event, EventType};
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let reference = kube::Resource::object_ref(&migration(), &());
    let warn = |note: &str| Event {
        type_: EventType::Warning,
        reason: "TransientErr".into(),
        note: note.into(),
    };
    let first = warn("secrets \"db\" not found");
    let second = warn("secret apps/db does not contain key \"url\"");
    let events = ctx.events.clone();
    let (a, b) = (first.clone(), second.clone());
    let r = reference.clone();
    let publish = tokio::spawn(async move {
        for ev in [&a, &a, &b, &a, &b] {
            events.publish(ev, &r).await.unwrap();
        }
    });
    // 1st: created with its note.
    let (m1, name1, ev1) = api.any_event().await;
    assert_eq!(
        (m1, ev1["note"].as_str()),
        (Method::POST, Some(first.note.as_str()))
    );
    assert_eq!(ev1["action"], "Reconcile");
    assert_eq!(ev1["type"], "Warning");
    // 2nd, same note: the same Event counts on.
    let (m2, name2, ev2) = api.any_event().await;
    assert_eq!((m2, &name2), (Method::PATCH, &name1));
    assert_eq!(ev2["series"]["count"], 2);
    // 3rd, a new note under the same reason: a new Event with the new text.
    let (m3, name3, ev3) = api.any_event().await;
    assert_eq!(
        (m3, ev3["note"].as_str()),
        (Method::POST, Some(second.note.as_str()))
    );
    assert_ne!(name3, name1);
    // The first note again: its own series (3), the second's too (2).
    let (m4, name4, ev4) = api.any_event().await;
    assert_eq!(
        (m4, &name4, &ev4["series"]["count"]),
        (Method::PATCH, &name1, &json!(3))
    );
    let (m5, name5, ev5) = api.any_event().await;
    assert_eq!(
        (m5, &name5, &ev5["series"]["count"]),
        (Method::PATCH, &name3, &json!(2))
    );
    publish.await.unwrap();
    assert_eq!(ctx.events.remembered(), 2);
}

#[tokio::test]
async fn an_aggregated_event_the_server_dropped_is_created_again() {
    use strata_operator::{Event, EventType};
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let reference = kube::Resource::object_ref(&migration(), &());
    let ev = Event {
        type_: EventType::Normal,
        reason: "Applied".into(),
        note: "Version 1 applied".into(),
    };
    let events = ctx.events.clone();
    let publish = tokio::spawn(async move {
        events.publish(&ev, &reference).await.unwrap();
        events.publish(&ev, &reference).await.unwrap();
    });
    let (m, _, _) = api.any_event().await;
    assert_eq!(m, Method::POST);
    let (req, send) = api.next().await;
    assert_eq!(req.method(), Method::PATCH);
    respond(send, 404, api_status(404, "NotFound", "events not found"));
    let (m, _, body) = api.any_event().await;
    assert_eq!(
        (m, body["note"].as_str()),
        (Method::POST, Some("Version 1 applied"))
    );
    publish.await.unwrap();
}

fn conds(patch: &Value) -> Vec<(String, String, String)> {
    patch["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("type"), s("status"), s("reason"))
        })
        .collect()
}

fn triple(t: &str, s: &str, r: &str) -> (String, String, String) {
    (t.to_owned(), s.to_owned(), r.to_owned())
}

#[tokio::test]
async fn an_unreachable_database_is_reconciling_not_stalled() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        tmp.path().join("not-mounted-yet/app.db").display()
    );
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile(Arc::new(reconciling()), ctx));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = api.status_patch(200).await;
    assert_eq!(
        conds(&patch),
        [
            triple("Ready", "False", "Migrating"),
            triple("Reconciling", "True", "Migrating"),
            triple("Stalled", "False", "Migrating"),
        ]
    );
    let message = patch["status"]["conditions"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.starts_with("connecting to sqlite://"), "{message}");
    assert_eq!(patch["status"]["conditions"][1]["message"], message);
    assert_eq!(patch["status"]["failed"], 1);
    let ev = api.event().await;
    assert_eq!(
        (ev["type"].as_str(), ev["reason"].as_str()),
        (Some("Warning"), Some("TransientErr"))
    );
    let dbg = format!("{:?}", run.await.unwrap().unwrap());
    assert!(dbg.contains("requeue_after: Some(5."), "retried: {dbg}");
}

#[tokio::test]
async fn transient_failures_stall_once_the_backoff_limit_is_used_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let mut obj = reconciling();
    obj.spec.backoff_limit = Some(1);
    obj.status.as_mut().unwrap().failed = 1;
    let run = tokio::spawn(controller::reconcile(Arc::new(obj), ctx));
    api.get_secret(None).await;
    let patch = api.status_patch(200).await;
    assert_eq!(
        conds(&patch),
        [
            triple("Ready", "False", "ReadingMigrationData"),
            triple("Reconciling", "False", "ReadingMigrationData"),
            triple("Stalled", "True", "ReadingMigrationData"),
        ]
    );
    assert_eq!(patch["status"]["failed"], 2);
    assert_eq!(api.event().await["reason"], "TransientErr");
    assert_eq!(api.event().await["reason"], "BackoffLimitExceeded");
    assert_eq!(run.await.unwrap().unwrap(), Action::await_change());
}

#[tokio::test]
async fn a_checksum_mismatch_is_stalled() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let (ctx, mut api) = context(tmp.path());
    let mut obj = reconciling();
    let mut files = local(&[T1]);
    files.insert("1_t.sql".into(), "CREATE TABLE changed (id int);\n".into());
    obj.spec.dir.local = Some(files);
    let run = tokio::spawn(controller::reconcile(Arc::new(obj), ctx));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = api.status_patch(200).await;
    assert_eq!(
        conds(&patch),
        [
            triple("Ready", "False", "Migrating"),
            triple("Reconciling", "False", "Migrating"),
            triple("Stalled", "True", "Migrating"),
        ]
    );
    let message = patch["status"]["conditions"][2]["message"]
        .as_str()
        .unwrap();
    assert!(message.starts_with("checksum mismatch"), "{message}");
    assert_eq!(api.event().await["reason"], "Error");
    run.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn watches_retry_within_the_cap_and_relist_at_once_after_410() {
    use futures::StreamExt;
    use kube::runtime::watcher::Event;
    use strata_operator::watch;

    let (client, mut api) = api::mock_client(migration());
    let resources: kube::Api<AtlasMigration> = kube::Api::namespaced(client, "apps");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut s = std::pin::pin!(watch::objects(resources, Default::default()));
        while let Some(ev) = s.next().await {
            let label = match ev {
                Ok(Event::InitApply(o)) => format!("InitApply {}", o.metadata.name.unwrap()),
                Ok(Event::InitDone) => "InitDone".into(),
                Ok(_) => continue,
                Err(e) => format!("Err {e}"),
            };
            let _ = tx.send(label);
        }
    });

    api.answer_list("1", vec![]).await;
    assert_eq!(rx.recv().await.unwrap(), "InitDone");

    // The API server goes away: twelve refused connections (kube's default back-off reaches 30 s + jitter here).
    let (send, mut last) = api.next_watch().await;
    send.send_error(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    ));
    let mut gaps = Vec::new();
    for _ in 0..11 {
        let (send, at) = api.next_watch().await;
        gaps.push(at - last);
        last = at;
        send.send_error(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
    }
    assert!(
        gaps.iter().all(|g| *g <= watch::BACKOFF_CAP),
        "every retry within {:?}: {gaps:?}",
        watch::BACKOFF_CAP
    );
    assert!(
        gaps.last().unwrap() >= &(watch::BACKOFF_CAP / 2),
        "it does back off: {gaps:?}"
    );

    // Back, with the old resource version expired: the watch answers 410 Gone, and the re-list follows at once.
    let (send, at) = api.next_watch().await;
    assert!(at - last <= watch::BACKOFF_CAP, "{:?}", at - last);
    let gone = json!({"type": "ERROR", "object": api_status(410, "Expired", "too old resource version: 1 (9)")});
    send.send_response(
        Response::builder()
            .status(200)
            .body(Body::from(format!("{gone}\n").into_bytes()))
            .unwrap(),
    );
    let relisted = api.answer_list("9", vec![migration()]).await;
    assert!(
        relisted - at < Duration::from_millis(100),
        "re-list {:?} after the 410",
        relisted - at
    );
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("InitDone") {
        seen.push(rx.recv().await.unwrap());
    }
    assert!(seen.iter().any(|l| l == "InitApply app"), "{seen:?}");
    assert!(
        seen.iter().filter(|l| l.starts_with("Err")).count() == 13,
        "{seen:?}"
    );

    // After the successful list the back-off starts over: the next failure waits at most the first delay.
    let (send, at) = api.next_watch().await;
    send.send_error(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    ));
    let (_send, again) = api.next_watch().await;
    assert!(again - at <= watch::BACKOFF_FIRST, "{:?}", again - at);
    driver.abort();
}

#[tokio::test]
async fn a_requeue_that_outruns_the_watch_continues_from_the_written_status() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let (ctx, mut api) = context(tmp.path());
    let stale = Arc::new(migration());
    let run = tokio::spawn(controller::reconcile(stale.clone(), ctx.clone()));
    api.status_patch(200).await;
    assert_eq!(run.await.unwrap().unwrap(), Action::requeue(Duration::ZERO));
    assert_eq!(ctx.written.len(), 1);

    // Requeued at once, while the store still has the object from before the write: no second first-pass write,
    // the reconcile goes on (Secret, apply, Ready).
    let run = tokio::spawn(controller::reconcile(stale, ctx.clone()));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = api.status_patch(200).await;
    assert_eq!(patch["status"]["conditions"][0]["reason"], "Applied");
    api.event().await;
    assert_eq!(run.await.unwrap().unwrap(), Action::await_change());
    assert!(ctx.written.is_empty(), "nothing kept once Ready");

    // A newer version from the watch wins over a remembered status.
    let run = tokio::spawn(controller::reconcile(Arc::new(migration()), ctx.clone()));
    api.status_patch(200).await;
    run.await.unwrap().unwrap();
    let mut newer = reconciling();
    newer.metadata.resource_version = Some("2".into());
    newer.spec.backoff_limit = Some(3);
    let run = tokio::spawn(controller::reconcile(Arc::new(newer), ctx.clone()));
    api.get_secret(None).await;
    let patch = api.status_patch(200).await;
    assert_eq!(
        patch["status"]["conditions"][0]["reason"],
        "ReadingMigrationData"
    );
    api.event().await;
    run.await.unwrap().unwrap();
    assert!(ctx.written.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_controller_reconciles_within_seconds_after_the_api_server_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, api) = context(tmp.path());
    let mut handle = api.handle;
    let outage = Duration::from_secs(40);
    let start = tokio::time::Instant::now();
    let back = start + outage;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(controller::run_controller(
        ctx,
        Some("apps".into()),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let refused =
        || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    let mut quiet_watches = Vec::new();
    let patched_at = loop {
        let (req, send) = tokio::time::timeout(Duration::from_secs(300), handle.next_request())
            .await
            .expect("the controller stopped asking")
            .unwrap();
        let now = tokio::time::Instant::now();
        let uri = req.uri().to_string();
        let watch = uri.contains("watch=true");
        let ours = uri.starts_with("/apis/db.atlasgo.io/v1alpha1/namespaces/apps/atlasmigrations");
        if req.method() == Method::PATCH {
            assert!(now >= back, "{uri}");
            respond(send, 200, serde_json::to_value(migration()).unwrap());
            break now;
        }
        let down = now > start && now < back;
        if !watch && ours {
            assert!(uri.contains("limit=100"), "lists in pages of 100: {uri}");
        }
        if !watch {
            // Lists: the first ones (before the outage) find nothing; during it they are refused; after it ours
            // finds the resource, created meanwhile.
            if down {
                send.send_error(refused());
                continue;
            }
            let body = if !ours {
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                       "metadata": {"resourceVersion": "1"}, "items": []})
            } else if now == start {
                json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigrationList",
                       "metadata": {"resourceVersion": "1"}, "items": []})
            } else if !uri.contains("continue=") {
                // The re-list comes in two pages, the resource in the first.
                json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigrationList",
                       "metadata": {"resourceVersion": "50", "continue": "page-2"}, "items": [migration()]})
            } else {
                json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigrationList",
                       "metadata": {"resourceVersion": "50"}, "items": []})
            };
            respond(send, 200, body);
        } else if down || now == start {
            // The API server goes down right after the first lists: every watch (and retry) is refused.
            send.send_error(refused());
        } else if ours && (uri.contains("resourceVersion=1&") || uri.ends_with("resourceVersion=1"))
        {
            // Back, with the history gone: the old resource version is expired.
            let gone = json!({"type": "ERROR", "object": api_status(410, "Expired", "too old resource version: 1 (40)")});
            send.send_response(
                Response::builder()
                    .status(200)
                    .body(Body::from(format!("{gone}\n").into_bytes()))
                    .unwrap(),
            );
        } else {
            quiet_watches.push(send); // an open watch with nothing to say
        }
    };
    let _ = stop_tx.send(());
    controller.abort();
    let after = patched_at - back;
    assert!(
        after <= Duration::from_secs(10),
        "reconciled {after:?} after the API server returned"
    );
    assert!(
        after <= strata_operator::watch::BACKOFF_CAP + Duration::from_secs(1),
        "within the watch back-off cap: {after:?}"
    );
}

#[test]
fn the_store_keeps_no_managed_fields_or_last_applied_manifest() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
    let mut m = migration();
    m.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
        manager: Some("kubectl-client-side-apply".into()),
        ..ManagedFieldsEntry::default()
    }]);
    m.metadata.annotations = Some(BTreeMap::from([
        (
            "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
            serde_json::to_string(&m.spec).unwrap(),
        ),
        ("team".to_owned(), "db".to_owned()),
    ]));
    let spec = m.spec.clone();
    controller::strip_for_store(&mut m);
    assert_eq!(m.metadata.managed_fields, None);
    assert_eq!(
        m.metadata.annotations,
        Some(BTreeMap::from([("team".to_owned(), "db".to_owned())]))
    );
    assert_eq!(m.spec, spec);
    m.metadata.annotations = Some(BTreeMap::from([(
        "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
        "{}".to_owned(),
    )]));
    controller::strip_for_store(&mut m);
    assert_eq!(m.metadata.annotations, None);
}
