//! `examples/gitops`: every document parses as the object it claims to be, the AtlasMigrations pass validation,
//! and both the ConfigMap variant and the remote variant (the canonical manifest, through a real registry) really
//! migrate a PostgreSQL database through the reconcile code.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use serde_json::Value;
use strata_operator::resolve::{StaticObjects, validate};
use strata_operator::{AtlasMigration, ResolveSettings};

use crate::common::harness::Harness;
use crate::common::registry::TestRegistry;

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
    let outs = Harness::new(objects, ResolveSettings::default())
        .settle(&mut m)
        .await;
    assert!(outs.len() <= 3, "settled within three reconciles");
    let st = m.status.unwrap();
    assert!(st.is_ready(), "{:?}", st.conditions);
    assert_eq!(st.last_applied_version, "20240102000000");
}

/// The canonical `AtlasMigration` (operator-spec §1, `remote/migration.yaml`) unchanged, against a real registry
/// holding `atlasdemo` at its tag and a real PostgreSQL: Ready at the pushed version, the run in the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_variant_migrates_a_real_database_through_a_registry() {
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let d = docs(&gitops().join("manifests/10-migration-configmap.yaml"));
    let cm: ConfigMap = typed("cm", &d[0]);
    let files: Vec<(&str, &str)> = cm
        .data
        .as_ref()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.ends_with(".sql"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut m: AtlasMigration = typed("m", &docs(&gitops().join("remote/migration.yaml"))[0]);
    let remote = m.spec.dir.remote.clone().unwrap();
    assert_eq!(
        (remote.name.as_str(), remote.tag.as_str()),
        ("atlasdemo", "1d579be616db48803bb21713fd836a9165030f18")
    );
    assert_eq!(
        m.spec.cloud.as_ref().unwrap().project.as_deref(),
        Some("atlasdemo")
    );
    m.metadata.namespace = Some("app".into());
    m.metadata.generation = Some(1);

    let reg = TestRegistry::start().await;
    let version = reg
        .push("atlasdemo", "atlasdemo", &files, &[remote.tag.as_str()])
        .await;
    let token = reg.token("atlasdemo", "read,report").await;
    // The Secrets of manifests/01-secrets.yaml, with this test's values.
    let objects = StaticObjects::default()
        .with_secret("app", "postgres-credentials", &[("url", &db.url)])
        .with_secret("app", "atlas-credentials", &[("token", &token)]);
    let settings = ResolveSettings {
        registry: Some(reg.base.clone()),
        ..ResolveSettings::default()
    };
    let outs = Harness::new(objects, settings).settle(&mut m).await;
    assert!(outs.len() <= 3, "settled within three reconciles");
    let st = m.status.unwrap();
    assert!(st.is_ready(), "{:?}", st.conditions);
    assert_eq!(st.last_applied_version, "20240102000000");
    let deps = reg.deployments("atlasdemo").await;
    assert_eq!(deps.len(), 1, "{deps:?}");
    assert_eq!(deps[0]["status"], "succeeded");
    assert_eq!(deps[0]["version"], version.as_str());
    assert_eq!(deps[0]["tag"], remote.tag.as_str());
    assert_eq!(deps[0]["to_version"], "20240102000000");
}
