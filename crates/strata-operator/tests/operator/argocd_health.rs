//! `deploy/argocd/health.lua` run by a real Lua 5.1 interpreter (Argo CD embeds gopher-lua, a Lua 5.1) against the
//! fixtures in `deploy/argocd/health_test.yaml`, and against statuses the reconcile code really writes.
//!
//! Without `lua5.1` the test is skipped (with `CI=true` it fails); `scripts/test` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use strata_operator::conditions;
use strata_operator::crd::{AtlasMigrationSpec, new_migration};

fn argocd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/argocd")
}

fn lua_binary() -> Option<&'static str> {
    for bin in ["lua5.1", "lua"] {
        if Command::new(bin).arg("-v").output().is_ok() {
            return Some(bin);
        }
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("lua5.1 is required under CI (apt-get install lua5.1)");
    }
    eprintln!("skipped: no lua5.1 interpreter");
    None
}

/// A JSON value as a Lua table constructor.
fn lua_literal(v: &Value) -> String {
    match v {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(a) => format!(
            "{{{}}}",
            a.iter().map(lua_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!(
                    "[{}] = {}",
                    lua_literal(&Value::String(k.clone())),
                    lua_literal(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Runs health.lua on `obj`, returning `(status, message)`.
fn health(lua: &str, obj: &Value) -> (String, String) {
    let script = std::fs::read_to_string(argocd_dir().join("health.lua")).unwrap();
    let program = format!(
        "obj = {}\nlocal function check()\n{script}\nend\nlocal hs = check()\nio.write(hs.status, \"\\n\", hs.message or \"\")\n",
        lua_literal(obj)
    );
    let out = Command::new(lua).arg("-e").arg(&program).output().unwrap();
    assert!(
        out.status.success(),
        "lua failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (s, m) = text.split_once('\n').unwrap();
    (s.to_owned(), m.to_owned())
}

#[test]
fn health_lua_matches_the_fixtures() {
    let Some(lua) = lua_binary() else { return };
    let tests: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(argocd_dir().join("health_test.yaml")).unwrap(),
    )
    .unwrap();
    let cases = tests["tests"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    for case in cases {
        let path = case["inputPath"].as_str().unwrap();
        let obj: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(argocd_dir().join(path)).unwrap())
                .unwrap();
        let want = &case["healthStatus"];
        let got = health(lua, &obj);
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            (
                want["status"].as_str().unwrap(),
                want["message"].as_str().unwrap()
            ),
            "{path}"
        );
    }
}

#[test]
fn statuses_the_operator_writes_map_to_the_intended_health() {
    let Some(lua) = lua_binary() else { return };
    let mut obj = new_migration("m", "ns", AtlasMigrationSpec::default());
    let check =
        |obj: &strata_operator::AtlasMigration| health(lua, &serde_json::to_value(obj).unwrap());

    assert_eq!(check(&obj).0, "Progressing", "no status yet");
    let first = conditions::reconciling(Default::default(), 1, conditions::RECONCILING);
    obj.status = Some(first.clone());
    assert_eq!(check(&obj), ("Progressing".into(), "Reconciling".into()));
    let waiting = conditions::not_ready(
        first.clone(),
        1,
        conditions::RECONCILING,
        "waiting for the lock",
    );
    obj.status = Some(waiting);
    assert_eq!(
        check(&obj).0,
        "Progressing",
        "in-progress phases are not Degraded"
    );
    let retrying = conditions::retrying(first.clone(), 1, "Migrating", "connecting to …: refused");
    obj.status = Some(retrying.clone());
    assert_eq!(
        check(&obj),
        ("Progressing".into(), "Migrating".into()),
        "a transient failure being retried is not Degraded"
    );
    let used_up = conditions::not_ready(retrying, 1, "Migrating", "connecting to …: refused");
    obj.status = Some(used_up);
    assert_eq!(check(&obj), ("Degraded".into(), "Migrating".into()));
    let failed = conditions::not_ready(first, 1, "Migrating", "checksum mismatch");
    obj.status = Some(failed);
    assert_eq!(check(&obj), ("Degraded".into(), "Migrating".into()));
    let ok = conditions::ready(&Default::default(), 1, "h", "1", 1);
    obj.status = Some(ok.clone());
    assert_eq!(check(&obj), ("Healthy".into(), "Applied".into()));
    let flipped = conditions::reconciling(ok, 2, conditions::DATA_CHANGED);
    obj.status = Some(flipped);
    assert_eq!(check(&obj), ("Progressing".into(), "Reconciling".into()));
}

/// The statuses the `AtlasSchema` reconcile really writes (SQLite target): first pass and approval pending are
/// Progressing, success Healthy, a refused first run Degraded.
#[tokio::test]
async fn atlas_schema_statuses_map_to_the_intended_health() {
    use strata_operator::atlas_schema::crd::{AtlasSchemaSpec, SchemaSource, new_schema};
    use strata_operator::atlas_schema::reconcile_schema;
    use strata_operator::resolve::StaticObjects;
    use strata_operator::{DatabaseLocks, Env, RegistryClient, ResolveSettings};

    let Some(lua) = lua_binary() else { return };
    let db = strata_driver::testing::sqlite();
    let objects = StaticObjects::default();
    let settings = ResolveSettings::default();
    let locks = DatabaseLocks::default();
    let env = Env {
        objects: &objects,
        registry: &RegistryClient,
        settings: &settings,
        locks: &locks,
        sqlite_lock_root: None,
        lock_timeout: std::time::Duration::from_secs(2),
        cancel: Default::default(),
        dev_dbs: None,
    };
    let mut obj = new_schema(
        "s",
        "ns",
        AtlasSchemaSpec {
            url: Some(db.url.clone()),
            schema: SchemaSource {
                sql: Some("CREATE TABLE a (id int NOT NULL, b int, PRIMARY KEY (id));".into()),
                ..SchemaSource::default()
            },
            ..AtlasSchemaSpec::default()
        },
    );
    let check = |obj: &strata_operator::atlas_schema::AtlasSchema| {
        health(lua, &serde_json::to_value(obj).unwrap())
    };
    let step = async |obj: &mut strata_operator::atlas_schema::AtlasSchema| {
        let out = reconcile_schema(obj, &env).await;
        obj.status = Some(out.status);
    };
    step(&mut obj).await;
    assert_eq!(check(&obj), ("Progressing".into(), "Reconciling".into()));
    step(&mut obj).await;
    assert_eq!(check(&obj), ("Healthy".into(), "Applied".into()));
    obj.spec.schema.sql = Some("CREATE TABLE a (id int NOT NULL, PRIMARY KEY (id));".into());
    step(&mut obj).await;
    assert_eq!(check(&obj), ("Progressing".into(), "Reconciling".into()));
    step(&mut obj).await;
    assert_eq!(
        check(&obj),
        ("Progressing".into(), "ApprovalPending".into())
    );
    // A destructive first run (a fresh status) is refused: Degraded.
    obj.status = None;
    step(&mut obj).await;
    step(&mut obj).await;
    assert_eq!(
        check(&obj),
        ("Degraded".into(), "FirstRunDestructive".into())
    );
}
