//! `strata-operator reconcile -f FILE…` as a black box: manifests and Secrets from YAML files, a real PostgreSQL
//! target, a local directory and a remote one from a real registry; failures on stdout without credentials.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::common::harness::has_table;
use crate::common::objects::local;
use crate::common::registry::TestRegistry;

const PASSWORD: &str = "hunter2-not-printed";

fn reconcile(files: &[&Path], extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata-operator"));
    c.arg("reconcile").args(["-n", "app", "-o", "json"]);
    for f in files {
        c.arg("-f").arg(f);
    }
    c.args(extra)
        .env_remove("KUBECONFIG")
        .env_remove("STRATA_REGISTRY_URL")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap()
}

/// The statuses printed on stdout.
fn statuses(out: &Output) -> Vec<Value> {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn ready(status: &Value) -> (String, String) {
    let c = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap();
    (
        c["status"].as_str().unwrap().to_owned(),
        c["reason"].as_str().unwrap().to_owned(),
    )
}

/// Writes `docs` as one multi-document YAML file.
fn write_yaml(path: &Path, docs: &[Value]) {
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap())
        .collect();
    std::fs::write(path, text.join("---\n")).unwrap();
}

/// The test database's URL with a password (PostgreSQL's trust authentication ignores it), to prove it is never
/// printed.
fn with_password(url: &str) -> String {
    url.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1)
}

fn secret(name: &str, key: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {key: value}})
}

fn local_migration(files: &[(&str, &str)]) -> Value {
    json!({
        "apiVersion": "db.atlasgo.io/v1alpha1",
        "kind": "AtlasMigration",
        "metadata": {"name": "app"},
        "spec": {
            "urlFrom": {"secretKeyRef": {"name": "db", "key": "url"}},
            "dir": {"local": local(files)},
        },
    })
}

const F1: (&str, &str) = ("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n");
const F2: (&str, &str) = ("2_posts.sql", "CREATE TABLE posts (id int PRIMARY KEY);\n");

#[test]
fn a_local_directory_is_applied_to_postgres_then_a_failure_is_reported_without_credentials() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    assert!(db.url.contains("postgres@"), "{}", db.url);
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path().join("secrets.yaml");
    let manifest = tmp.path().join("migration.yaml");
    write_yaml(&secrets, &[secret("db", "url", &with_password(&db.url))]);
    write_yaml(&manifest, &[local_migration(&[F1, F2])]);

    let out = reconcile(&[&manifest, &secrets], &[]);
    assert!(out.status.success(), "{out:?}");
    let st = statuses(&out);
    assert_eq!(st.len(), 1);
    assert_eq!(st[0]["kind"], "AtlasMigration");
    assert_eq!(
        st[0]["metadata"],
        json!({"name": "app", "namespace": "app"})
    );
    assert_eq!(ready(&st[0]["status"]), ("True".into(), "Applied".into()));
    assert_eq!(st[0]["status"]["lastAppliedVersion"], "2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "AtlasMigration app/app: Normal Applied Version 2 applied"
    );
    assert!(rt.block_on(has_table(&db.url, "public", "posts")));

    // Again: already there, nothing applied, no event.
    let out = reconcile(&[&manifest, &secrets], &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ready(&statuses(&out)[0]["status"]).0, "True");
    assert!(out.stderr.is_empty(), "{out:?}");

    // A failing statement: exit 1, the reason in the status (YAML by default), no password anywhere.
    write_yaml(
        &manifest,
        &[local_migration(&[
            F1,
            F2,
            ("3_bad.sql", "CREATE TABLE users (id int PRIMARY KEY);\n"),
        ])],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_strata-operator"))
        .args(["reconcile", "-n", "app", "-f"])
        .arg(&manifest)
        .arg("-f")
        .arg(&secrets)
        .args(["--timeout", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let y: Value = serde_saphyr::from_str(&stdout).unwrap();
    assert_eq!(ready(&y["status"]), ("False".into(), "Migrating".into()));
    assert!(stdout.contains("already exists"), "{stdout}");
    assert!(stderr.contains("Warning Error"), "{stderr}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

/// The canonical remote manifest (examples/gitops/remote/migration.yaml) with its tag replaced, the Secrets of
/// manifests/01-secrets.yaml with this test's values, and a real registry: Ready at the pushed version, the run
/// recorded in the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_directory_comes_from_a_real_registry_and_the_run_is_reported() {
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let reg = TestRegistry::start().await;
    let version = reg
        .push("atlasdemo", "atlasdemo", &[F1, F2], &["c0ffee"])
        .await;
    let token = reg.token("atlasdemo", "read,report").await;
    let tmp = tempfile::tempdir().unwrap();
    let canonical = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/gitops/remote/migration.yaml"),
    )
    .unwrap();
    let manifest = tmp.path().join("migration.yaml");
    std::fs::write(
        &manifest,
        canonical.replace("1d579be616db48803bb21713fd836a9165030f18", "c0ffee"),
    )
    .unwrap();
    let secrets = tmp.path().join("secrets.yaml");
    write_yaml(
        &secrets,
        &[
            secret("postgres-credentials", "url", &with_password(&db.url)),
            secret("atlas-credentials", "token", &token),
        ],
    );
    let files = [manifest.as_path(), secrets.as_path()];

    // No registry anywhere: a clear reason, exit 1.
    let out = tokio::task::block_in_place(|| reconcile(&files, &["--timeout", "0"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let st = statuses(&out);
    assert_eq!(
        ready(&st[0]["status"]),
        ("False".into(), "ReadingMigrationData".into())
    );

    let out = tokio::task::block_in_place(|| reconcile(&files, &["--registry", &reg.base]));
    assert!(out.status.success(), "{out:?}");
    let st = statuses(&out);
    assert_eq!(ready(&st[0]["status"]).0, "True");
    assert_eq!(st[0]["status"]["lastAppliedVersion"], "2");
    let all = format!("{out:?}");
    assert!(!all.contains(&token) && !all.contains(PASSWORD), "{all}");
    let deps = reg.deployments("atlasdemo").await;
    assert_eq!(deps.len(), 1, "{deps:?}");
    assert_eq!(deps[0]["status"], "succeeded");
    assert_eq!(deps[0]["version"], version.as_str());
    assert_eq!(deps[0]["tag"], "c0ffee");
}

#[test]
fn an_unknown_kind_or_a_missing_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("app.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasWhatever\nmetadata: {name: x}\n",
    )
    .unwrap();
    let out = reconcile(&[&f], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        format!(
            "Error: {}:5: kind \"AtlasWhatever\" (apiVersion \"db.atlasgo.io/v1alpha1\") is not supported here; `reconcile -f` reads AtlasMigration and AtlasSchema (db.atlasgo.io/v1alpha1), Secret and ConfigMap documents",
            f.display()
        )
    );
    let missing = tmp.path().join("nope.yaml");
    let out = reconcile(&[&missing], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("Error: {}: ", missing.display())),
        "{err}"
    );
}

/// What a user sees when the directory is refused: the status as YAML on stdout (transition times masked), the
/// Warning event on stderr, exit 1.
#[test]
fn a_refused_directory_prints_its_status_as_yaml_and_the_event() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("app.yaml");
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());
    std::fs::write(
        &f,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData: {{url: \"{url}\"}}\n---\n\
             apiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasMigration\nmetadata: {{name: app}}\nspec:\n  \
             urlFrom: {{secretKeyRef: {{name: db, key: url}}}}\n  dir:\n    local:\n      \
             1_a.sql: \"CREATE TABLE a (id int);\\n\"\n      atlas.sum: \"edited\"\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strata-operator"))
        .args(["reconcile", "--timeout", "0", "-f"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split('\n')
        .map(|l| match l.split_once("lastTransitionTime: ") {
            Some((indent, _)) => format!("{indent}lastTransitionTime: <time>"),
            None => l.to_owned(),
        })
        .collect();
    insta::assert_snapshot!("refused_directory_status", stdout.join("\n"));
    insta::assert_snapshot!(
        "refused_directory_events",
        String::from_utf8(out.stderr).unwrap()
    );
}

fn atlas_schema(sql: &str) -> Value {
    json!({
        "apiVersion": "db.atlasgo.io/v1alpha1",
        "kind": "AtlasSchema",
        "metadata": {"name": "app-schema"},
        "spec": {
            "urlFrom": {"secretKeyRef": {"name": "db", "key": "url"}},
            "schema": {"sql": sql},
        },
    })
}

/// An `AtlasSchema` through `reconcile -f`: the declared schema applied to PostgreSQL (planned on a throw-away
/// database of the same server), a safe edit applied, a destructive one refused as on a first run and nothing
/// dropped; the password never printed.
#[test]
fn an_atlas_schema_is_applied_and_a_destructive_edit_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path().join("secrets.yaml");
    let manifest = tmp.path().join("schema.yaml");
    write_yaml(&secrets, &[secret("db", "url", &with_password(&db.url))]);
    let users = "CREATE TABLE users (id int PRIMARY KEY, name text);\n";
    let posts = "CREATE TABLE posts (id int PRIMARY KEY);\n";

    write_yaml(&manifest, &[atlas_schema(users)]);
    let out = reconcile(&[&manifest, &secrets], &[]);
    assert!(out.status.success(), "{out:?}");
    let s = statuses(&out);
    assert_eq!(s[0]["kind"], "AtlasSchema");
    assert_eq!(ready(&s[0]["status"]), ("True".into(), "Applied".into()));
    assert!(s[0]["status"]["last_applied"].as_i64().unwrap() > 0);
    assert!(rt.block_on(has_table(&db.url, "public", "users")));

    write_yaml(&manifest, &[atlas_schema(&format!("{users}{posts}"))]);
    let out = reconcile(&[&manifest, &secrets], &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(rt.block_on(has_table(&db.url, "public", "posts")));

    write_yaml(&manifest, &[atlas_schema(posts)]);
    let out = reconcile(&[&manifest, &secrets], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let s = statuses(&out);
    assert_eq!(
        ready(&s[0]["status"]),
        ("False".into(), "FirstRunDestructive".into())
    );
    assert!(
        rt.block_on(has_table(&db.url, "public", "users")),
        "nothing dropped"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("FirstRunDestructive").count(),
        1,
        "refused once, not retried: {stderr}"
    );
    let all = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    assert!(!all.contains(PASSWORD), "{all}");
}
