//! `examples/gitops`: every document parses as the object it claims to be, the AtlasMigrations pass validation,
//! and the ConfigMap variant really migrates a PostgreSQL database through the reconcile code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use serde_json::Value;
use strata_operator::resolve::{StaticObjects, validate};
use strata_operator::{AtlasMigration, DatabaseLocks, Env, NoRegistry, Requeue, ResolveSettings};

fn gitops() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/gitops")
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("\n---\n")
        .map(|d| {
            serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn all_docs() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for sub in ["argocd", "manifests", "remote"] {
        let mut paths: Vec<_> = std::fs::read_dir(gitops().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for p in paths {
            for d in docs(&p) {
                out.push((p.display().to_string(), d));
            }
        }
    }
    out
}

fn typed<T: serde::de::DeserializeOwned>(file: &str, v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_document_is_the_object_it_claims_to_be() {
    let mut kinds = Vec::new();
    for (file, d) in all_docs() {
        let kind = d["kind"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "AtlasMigration" => {
                let m: AtlasMigration = typed(&file, &d);
                validate(&m.spec, false).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            "ConfigMap" => drop(typed::<ConfigMap>(&file, &d)),
            "Secret" => drop(typed::<Secret>(&file, &d)),
            "Service" => drop(typed::<Service>(&file, &d)),
            "StatefulSet" => drop(typed::<StatefulSet>(&file, &d)),
            "Deployment" => drop(typed::<Deployment>(&file, &d)),
            "Application" => {
                assert_eq!(d["apiVersion"], "argoproj.io/v1alpha1", "{file}");
                assert!(d["spec"]["source"]["path"].is_string(), "{file}");
            }
            other => panic!("{file}: unexpected kind {other:?}"),
        }
        if d["metadata"]["namespace"].as_str() != Some("argocd") {
            let wave = d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str();
            let want = match kind.as_str() {
                "StatefulSet" | "Service" | "Secret" => "0",
                "ConfigMap" | "AtlasMigration" => "1",
                "Deployment" => "2",
                _ => unreachable!(),
            };
            assert_eq!(wave, Some(want), "{file}: {kind} sync wave");
        }
        kinds.push(kind);
    }
    for k in [
        "Application",
        "AtlasMigration",
        "ConfigMap",
        "Secret",
        "Deployment",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} in the examples");
    }
}

#[tokio::test]
async fn the_config_map_variant_migrates_a_real_database() {
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let file = gitops().join("manifests/10-migration-configmap.yaml");
    let d = docs(&file);
    let cm: ConfigMap = typed("cm", &d[0]);
    let mut m: AtlasMigration = typed("m", &d[1]);
    m.metadata.namespace = Some("app".into());
    m.metadata.generation = Some(1);
    let data: Vec<(&str, &str)> = cm
        .data
        .as_ref()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let objects = StaticObjects::default()
        .with_config_map("app", "app-migrations", &data)
        .with_secret("app", "postgres-credentials", &[("url", &db.url)]);
    let env = Env {
        objects: &objects,
        registry: &NoRegistry,
        settings: &ResolveSettings::default(),
        locks: &DatabaseLocks::default(),
        sqlite_lock_root: None,
        lock_timeout: Duration::from_secs(5),
        cancel: Default::default(),
    };
    for _ in 0..3 {
        let out = strata_operator::reconcile(&m, &env).await;
        m.status = Some(out.status);
        if out.requeue != Requeue::Now {
            break;
        }
    }
    let st = m.status.unwrap();
    assert!(st.is_ready(), "{:?}", st.conditions);
    assert_eq!(st.last_applied_version, "20240102000000");
}
