//! The dev-database Deployment through the scripted API server: looked up, created (owned by the resource, with
//! its connection template), scaled up from zero, replaced when its engine no longer matches, and a Ready pod's
//! IP turned into the dev URL.

use http::Method;
use serde_json::json;
use strata_operator::atlas_schema::AtlasSchema;
use strata_operator::atlas_schema::crd::{AtlasSchemaSpec, new_schema};
use strata_operator::atlas_schema::devdb::{
    CONNTMPL, DevDbReport, DevDbState, DevDbs, Engine, KubeDevDbs,
};
use strata_operator::resolve::LookupError;

use crate::common::api::{self, ApiServer, api_status, body_json, respond};
use crate::common::objects::{NS, local_migration};

const PATH: &str = "/apis/apps/v1/namespaces/apps/deployments/app-atlas-dev-db";

type Call = tokio::task::JoinHandle<(Result<Option<DevDbReport>, LookupError>, KubeDevDbs)>;

/// `dbs.dev_db(o, engine, create)` on a task (the test answers its requests meanwhile); gives `dbs` back.
fn call(dbs: KubeDevDbs, o: &AtlasSchema, engine: Engine, create: bool) -> Call {
    let o = o.clone();
    tokio::spawn(async move {
        let r = dbs.dev_db(&o, engine, create).await;
        (r, dbs)
    })
}

fn obj() -> AtlasSchema {
    let mut o = new_schema("app", NS, AtlasSchemaSpec::default());
    o.metadata.uid = Some("uid-app".into());
    o
}

async fn get_deployment(api: &mut ApiServer, answer: Option<serde_json::Value>) {
    let (req, send) = api.next().await;
    assert_eq!((req.method(), req.uri().path()), (&Method::GET, PATH));
    match answer {
        Some(d) => respond(send, 200, d),
        None => respond(send, 404, api_status(404, "NotFound", "not found")),
    }
}

fn existing(engine: &str, replicas: i32) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "app-atlas-dev-db", "namespace": NS, "labels": {"atlasgo.io/engine": engine}},
           "spec": {"replicas": replicas, "selector": {}, "template": {}}})
}

async fn list_pods(api: &mut ApiServer, pods: serde_json::Value) {
    let (req, send) = api.next().await;
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri().path(), "/api/v1/namespaces/apps/pods");
    let q = req
        .uri()
        .query()
        .unwrap_or_default()
        .replace("%3D", "=")
        .replace("%2C", ",");
    assert!(
        q.contains("app.kubernetes.io/name=atlas-dev-db,app.kubernetes.io/instance=app")
            || q.contains("app.kubernetes.io%2Fname=atlas-dev-db"),
        "{q}"
    );
    respond(
        send,
        200,
        json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": pods}),
    );
}

#[tokio::test]
async fn the_deployment_is_found_created_scaled_and_its_ready_pod_gives_the_url() {
    let (client, mut api) = api::mock_client(local_migration(&[]));
    let dbs = KubeDevDbs::new(client);
    let o = obj();

    // None there and no creating: nothing.
    let c = call(dbs, &o, Engine::Postgres, false);
    get_deployment(&mut api, None).await;
    let (r, dbs) = c.await.unwrap();
    let r = r.unwrap();
    assert!(r.is_none());

    // None there, creating: a POST of the owned Deployment, then Starting.
    let c = call(dbs, &o, Engine::Postgres, true);
    get_deployment(&mut api, None).await;
    let (req, send) = api.next().await;
    assert_eq!(req.method(), Method::POST);
    assert_eq!(
        req.uri().path(),
        "/apis/apps/v1/namespaces/apps/deployments"
    );
    let body = body_json(req).await;
    assert_eq!(body["metadata"]["name"], "app-atlas-dev-db");
    assert_eq!(body["metadata"]["ownerReferences"][0]["uid"], "uid-app");
    assert_eq!(
        body["metadata"]["ownerReferences"][0]["kind"],
        "AtlasSchema"
    );
    assert_eq!(body["metadata"]["labels"]["atlasgo.io/engine"], "postgres");
    let tmpl = body["spec"]["template"]["metadata"]["annotations"][CONNTMPL]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        tmpl.starts_with("postgres://root:") && tmpl.contains("@localhost:5432/"),
        "{tmpl}"
    );
    respond(send, 201, body.clone());
    let (r, dbs) = c.await.unwrap();
    let r = r.unwrap();
    let r = r.unwrap();
    assert!(r.created && !r.scaled_up);
    assert_eq!(r.state, DevDbState::Starting);

    // Scaled to zero: patched back to one replica, Starting.
    let c = call(dbs, &o, Engine::Postgres, false);
    get_deployment(&mut api, Some(existing("postgres", 0))).await;
    let (req, send) = api.next().await;
    assert_eq!((req.method(), req.uri().path()), (&Method::PATCH, PATH));
    assert_eq!(body_json(req).await, json!({"spec": {"replicas": 1}}));
    respond(send, 200, existing("postgres", 1));
    let (r, dbs) = c.await.unwrap();
    let r = r.unwrap();
    let r = r.unwrap();
    assert!(r.scaled_up && r.state == DevDbState::Starting);

    // Running with a Ready pod: its IP in the template.
    let c = call(dbs, &o, Engine::Postgres, false);
    get_deployment(&mut api, Some(existing("postgres", 1))).await;
    list_pods(
        &mut api,
        json!([{"metadata": {"name": "app-atlas-dev-db-1", "annotations": {CONNTMPL: tmpl}},
                "status": {"phase": "Running", "podIP": "10.1.2.3",
                           "conditions": [{"type": "Ready", "status": "True"}]}}]),
    )
    .await;
    let (r, dbs) = c.await.unwrap();
    let r = r.unwrap();
    let DevDbState::Ready(url) = r.unwrap().state else {
        panic!("not ready")
    };
    assert!(
        url.expose().contains("@10.1.2.3:5432/postgres"),
        "{}",
        url.redacted()
    );
    assert_eq!(url.query_param("strata_dev").as_deref(), Some("scratch"));

    // Another engine's Deployment (the target changed kind): deleted, and without creating, none.
    let c = call(dbs, &o, Engine::Mysql, false);
    get_deployment(&mut api, Some(existing("postgres", 1))).await;
    let (req, send) = api.next().await;
    assert_eq!((req.method(), req.uri().path()), (&Method::DELETE, PATH));
    respond(send, 200, existing("postgres", 1));
    assert!(c.await.unwrap().0.unwrap().is_none());
}

#[tokio::test]
async fn an_api_error_names_the_deployment() {
    let (client, mut api) = api::mock_client(local_migration(&[]));
    let dbs = KubeDevDbs::new(client);
    let o = obj();
    let c = call(dbs, &o, Engine::Mariadb, true);
    let (req, send) = api.next().await;
    assert_eq!(req.method(), Method::GET);
    respond(
        send,
        403,
        api_status(403, "Forbidden", "deployments.apps is forbidden"),
    );
    let err = c.await.unwrap().0.unwrap_err();
    assert!(
        err.0
            .contains("dev-database Deployment apps/app-atlas-dev-db"),
        "{}",
        err.0
    );
    assert!(err.0.contains("forbidden"), "{}", err.0);
}
