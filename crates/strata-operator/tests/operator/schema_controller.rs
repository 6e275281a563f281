//! The `AtlasSchema` controller's API interactions against the scripted API server: status patches (server-side
//! apply under the operator's field manager, kind `AtlasSchema`), events reported by `atlasschema-controller`,
//! the approval gate's pending status, and the Secret/ConfigMap watch mapping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use kube::runtime::controller::Action;
use serde_json::{Value, json};
use strata_operator::atlas_schema::crd::{AtlasSchemaSpec, SchemaSource, new_schema};
use strata_operator::atlas_schema::{AtlasSchema, AtlasSchemaStatus};
use strata_operator::controller::{
    self, Context, FIELD_MANAGER, SchemaContext, Settings, schema_dependents,
};
use strata_operator::crd::{Condition, KeyRef};
use strata_operator::metrics::Metrics;
use strata_operator::resolve::RefKind;

use crate::common::api::{self, ApiServer, body_json, respond};
use crate::common::objects::{NS, local_migration, secret_ref};

/// `apps/app` as the API server stores it: its URL from Secret `db`, one table.
fn schema() -> AtlasSchema {
    let mut s = new_schema(
        "app",
        NS,
        AtlasSchemaSpec {
            url_from: secret_ref("db", "url"),
            schema: SchemaSource {
                sql: Some("CREATE TABLE t (id int NOT NULL, PRIMARY KEY (id));\n".into()),
                ..SchemaSource::default()
            },
            ..AtlasSchemaSpec::default()
        },
    );
    s.metadata.uid = Some("uid-app".into());
    s.metadata.resource_version = Some("1".into());
    s
}

/// A status as a first pass leaves it (the conditions only matter for "not the first pass").
fn reconciling(last_applied: i64) -> AtlasSchemaStatus {
    let cond = |t: &str, v: &str| Condition {
        type_: t.into(),
        status: v.into(),
        observed_generation: 1,
        last_transition_time: "2024-01-01T00:00:00Z".into(),
        reason: "Reconciling".into(),
        message: "Reconciling".into(),
    };
    AtlasSchemaStatus {
        observed_generation: 1,
        conditions: vec![
            cond("Ready", "False"),
            cond("Reconciling", "True"),
            cond("Stalled", "False"),
        ],
        last_applied,
        ..AtlasSchemaStatus::default()
    }
}

fn context(lock_root: &std::path::Path) -> (Arc<SchemaContext>, ApiServer) {
    let (client, api) = api::mock_client(local_migration(&[]));
    let settings = Settings {
        sqlite_lock_root: Some(lock_root.to_owned()),
        ..Settings::default()
    };
    let base = Arc::new(Context::new(client, settings, Arc::new(Metrics::default())));
    (Arc::new(SchemaContext::new(base)), api)
}

/// Expects a status apply-patch of `apps/app` (kind AtlasSchema) and answers 200; returns the patch body.
async fn status_patch(api: &mut ApiServer) -> Value {
    let (req, send) = api.next().await;
    assert_eq!(req.method(), Method::PATCH);
    let uri = req.uri().to_string();
    assert!(
        uri.starts_with("/apis/db.atlasgo.io/v1alpha1/namespaces/apps/atlasschemas/app/status?"),
        "{uri}"
    );
    assert!(
        uri.contains(&format!("fieldManager={FIELD_MANAGER}")),
        "{uri}"
    );
    assert!(uri.contains("force=true"), "{uri}");
    let body = body_json(req).await;
    assert_eq!(body["apiVersion"], "db.atlasgo.io/v1alpha1");
    assert_eq!(body["kind"], "AtlasSchema");
    let mut obj = serde_json::to_value(schema()).unwrap();
    obj["status"] = body["status"].clone();
    respond(send, 200, obj);
    body
}

#[tokio::test]
async fn first_pass_patches_reconciling_and_requeues_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (ctx, mut api) = context(tmp.path());
    let run = tokio::spawn(controller::reconcile_atlas_schema(Arc::new(schema()), ctx));
    let patch = status_patch(&mut api).await;
    let st = &patch["status"];
    assert_eq!(st["conditions"][0]["type"], "Ready");
    assert_eq!(st["conditions"][0]["reason"], "Reconciling");
    assert_eq!(st["conditions"][0]["message"], "Reconciling");
    assert_eq!(st["conditions"][1]["status"], "True");
    for k in [
        "observed_hash",
        "last_applied",
        "planURL",
        "planLink",
        "failed",
    ] {
        assert!(st.get(k).is_some(), "status.{k}: {st}");
    }
    assert_eq!(run.await.unwrap().unwrap(), Action::requeue(Duration::ZERO));
}

#[tokio::test]
async fn apply_patches_ready_and_publishes_applied_as_atlasschema_controller() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    let (ctx, mut api) = context(tmp.path());
    let mut obj = schema();
    obj.status = Some(reconciling(0));
    let run = tokio::spawn(controller::reconcile_atlas_schema(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = status_patch(&mut api).await;
    let ready = &patch["status"]["conditions"][0];
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("True"), Some("Applied"))
    );
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .starts_with("The schema has been applied successfully. Apply response: "),
        "{ready}"
    );
    assert_eq!(patch["status"]["observed_hash"].as_str().unwrap().len(), 64);
    assert!(patch["status"]["last_applied"].as_i64().unwrap() > 1_600_000_000);
    let ev = api.event().await;
    assert_eq!(ev["type"], "Normal");
    assert_eq!(ev["reason"], "Applied");
    assert_eq!(ev["note"], "Applied schema");
    assert_eq!(ev["reportingController"], "atlasschema-controller");
    assert_eq!(ev["regarding"]["kind"], "AtlasSchema");
    assert_eq!(ev["regarding"]["name"], "app");
    // Drift checks are on for AtlasSchema by default (10 minutes): just applied, it is in sync, and the
    // resource comes back after the period (with the controller's jitter).
    let drifted = patch["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Drifted")
        .expect("a Drifted condition");
    assert_eq!(
        (drifted["status"].as_str(), drifted["reason"].as_str()),
        (Some("False"), Some("InSync"))
    );
    let after = run.await.unwrap().unwrap();
    let secs = format!("{after:?}");
    assert!(
        after != Action::await_change() && secs.contains("requeue_after: Some(6"),
        "{secs}"
    );
    assert!(
        ctx.base
            .metrics
            .render()
            .contains("strata_operator_reconciles_total{result=\"ready\"} 1"),
        "{}",
        ctx.base.metrics.render()
    );
    // The Ready gauge of the AtlasSchema, labelled with its kind.
    assert!(
        ctx.base.metrics.render().contains(
            "strata_operator_resource_ready{namespace=\"apps\",name=\"app\",kind=\"AtlasSchema\"} 1"
        ),
        "{}",
        ctx.base.metrics.render()
    );
}

#[tokio::test]
async fn a_destructive_plan_is_patched_pending_with_its_hash_and_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    {
        let mut drv = strata_driver::connect(&url.parse().unwrap()).await.unwrap();
        drv.execute("CREATE TABLE old (id int)").await.unwrap();
        drv.close().await.unwrap();
    }
    let (ctx, mut api) = context(tmp.path());
    let mut obj = schema();
    // Not the first run: the destructive plan waits for approval instead of being refused.
    obj.status = Some(reconciling(1_700_000_000));
    let run = tokio::spawn(controller::reconcile_atlas_schema(Arc::new(obj), ctx));
    api.get_secret(Some(BTreeMap::from([("url", url.as_str())])))
        .await;
    let patch = status_patch(&mut api).await;
    let st = &patch["status"];
    assert_eq!(st["conditions"][0]["reason"], "ApprovalPending");
    assert_eq!(st["conditions"][0]["message"], "Reconciling");
    let hash = st["pendingPlan"]["hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16);
    assert_eq!(
        st["pendingPlan"]["destructive"],
        json!(["drop table \"old\""])
    );
    assert!(
        st["conditions"][1]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("strata.dev/approve={hash}"))
    );
    let ev = api.event().await;
    assert_eq!(
        (ev["type"].as_str(), ev["reason"].as_str()),
        (Some("Warning"), Some("ApprovalPending"))
    );
    let action = format!("{:?}", run.await.unwrap().unwrap());
    assert!(action.contains("requeue_after: Some(6"), "{action}");
}

#[test]
fn secret_and_config_map_changes_map_to_the_atlasschemas_that_reference_them() {
    let mut cm = schema();
    cm.metadata.name = Some("from-cm".into());
    cm.spec.schema = SchemaSource {
        config_map_key_ref: Some(KeyRef {
            name: "desired".into(),
            key: "schema.sql".into(),
            optional: None,
        }),
        ..SchemaSource::default()
    };
    cm.spec.dev_url_from = secret_ref("dev", "url");
    let store = vec![Arc::new(schema()), Arc::new(cm)];
    let names = |v: Vec<kube::runtime::reflector::ObjectRef<AtlasSchema>>| {
        v.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(schema_dependents(&store, RefKind::Secret, "apps", "db")),
        ["app", "from-cm"]
    );
    assert_eq!(
        names(schema_dependents(
            &store,
            RefKind::ConfigMap,
            "apps",
            "desired"
        )),
        ["from-cm"]
    );
    assert_eq!(
        names(schema_dependents(&store, RefKind::Secret, "apps", "dev")),
        ["from-cm"]
    );
    assert!(schema_dependents(&store, RefKind::Secret, "other", "db").is_empty());
}
