//! The controller's API interactions against a scripted API server (the controller-rs `tower_test` pattern): status
//! patches (server-side apply, one field manager), events, Secret reads, conflict retry, watch mapping, and the
//! health / metrics endpoints.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use kube::runtime::controller::Action;
use serde_json::{Value, json};
use strata_migrate::MigrationFile;
use strata_migrate::sum::SumFile;
use strata_operator::controller::{self, Context, FIELD_MANAGER, Settings, dependents};
use strata_operator::crd::{
    AtlasMigrationSpec, Dir, KeyRef, LocalObjectReference, ValueFrom, new_migration,
};
use strata_operator::metrics::Metrics;
use strata_operator::resolve::RefKind;
use strata_operator::{AtlasMigration, conditions};
use tower::ServiceExt;

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

struct ApiServer(Handle);

async fn body_json(req: Request<Body>) -> Value {
    let bytes = req.into_body().collect_bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn respond(send: tower_test::mock::SendResponse<Response<Body>>, code: u16, body: Value) {
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
    );
}

fn api_status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

impl ApiServer {
    async fn next(
        &mut self,
    ) -> (
        Request<Body>,
        tower_test::mock::SendResponse<Response<Body>>,
    ) {
        tokio::time::timeout(Duration::from_secs(10), self.0.next_request())
            .await
            .expect("timed out waiting for an API request")
            .expect("service not called")
    }

    /// Expects a status apply-patch and answers `code`; returns the patch body.
    async fn status_patch(&mut self, code: u16) -> Value {
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
            let mut obj = serde_json::to_value(migration()).unwrap();
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
    async fn event(&mut self) -> Value {
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

    async fn get_secret(&mut self, data: Option<BTreeMap<&str, &str>>) {
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

    async fn get_object(&mut self) {
        let (req, send) = self.next().await;
        assert_eq!(req.method(), Method::GET);
        assert_eq!(
            req.uri().path(),
            "/apis/db.atlasgo.io/v1alpha1/namespaces/apps/atlasmigrations/app"
        );
        respond(send, 200, serde_json::to_value(migration()).unwrap());
    }
}

fn local_dir() -> BTreeMap<String, String> {
    let f = MigrationFile::new("1_t.sql", b"CREATE TABLE t (id int);\n".to_vec());
    let sum = String::from_utf8(SumFile::compute(std::slice::from_ref(&f)).to_bytes()).unwrap();
    BTreeMap::from([
        (
            "1_t.sql".to_owned(),
            "CREATE TABLE t (id int);\n".to_owned(),
        ),
        ("atlas.sum".to_owned(), sum),
    ])
}

fn migration() -> AtlasMigration {
    let mut m = new_migration(
        "app",
        "apps",
        AtlasMigrationSpec {
            url_from: Some(ValueFrom {
                secret_key_ref: Some(KeyRef {
                    name: "db".into(),
                    key: "url".into(),
                    optional: None,
                }),
            }),
            dir: Dir {
                local: Some(local_dir()),
                ..Dir::default()
            },
            ..AtlasMigrationSpec::default()
        },
    );
    m.metadata.uid = Some("7b5c3c8e-0000-4000-8000-000000000001".into());
    m.metadata.resource_version = Some("1".into());
    m
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

fn context(lock_root: &std::path::Path) -> (Arc<Context>, ApiServer) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let settings = Settings {
        sqlite_lock_root: Some(lock_root.to_owned()),
        ..Settings::default()
    };
    let ctx = Context::new(client, settings, Arc::new(Metrics::default()));
    (Arc::new(ctx), ApiServer(handle))
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
        text.contains("strata_operator_resource_ready{namespace=\"apps\",name=\"app\"} 1"),
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
        tokio::time::timeout(Duration::from_millis(100), api.0.next_request()).await
    {
        let uri = req.uri().to_string();
        panic!(
            "unexpected request {uri}: {} (first write: {patch})",
            body_json(req).await
        );
    }
}

fn ready_line(ns: &str, name: &str) -> String {
    format!("strata_operator_resource_ready{{namespace=\"{ns}\",name=\"{name}\"}}")
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
        metrics.set_ready(ns, name, &format!("uid-{ns}-{name}"), true);
    }
    let watch = |writer: &mut kube::runtime::reflector::store::Writer<AtlasMigration>,
                 ev: Event<AtlasMigration>| {
        writer.apply_watcher_event(&ev);
        controller::on_watch_event(&metrics, &store, Some("apps"), &ev);
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

#[tokio::test]
async fn health_and_metrics_endpoints() {
    let ready = Arc::new(controller::AtlasReady::default());
    let app = controller::health_router(ready.clone());
    let get = |app: axum::Router, path: &str| {
        let req = Request::get(path).body(axum::body::Body::empty()).unwrap();
        async move { app.oneshot(req).await.unwrap().status() }
    };
    assert_eq!(get(app.clone(), "/healthz").await, StatusCode::OK);
    assert_eq!(
        get(app.clone(), "/readyz").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    ready.0.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(get(app, "/readyz").await, StatusCode::OK);

    let metrics = Arc::new(Metrics::default());
    metrics.reconciled("ready", Duration::from_millis(3));
    let res = controller::metrics_router(metrics)
        .oneshot(
            Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        text.contains("strata_operator_reconciles_total{result=\"ready\"} 1"),
        "{text}"
    );
}
