//! The CRD: canonical manifests deserialize unchanged, the schema carries the spec's defaults and validation, and
//! the committed copies do not drift from the generated one.

use serde_json::{Value, json};
use strata_operator::crd::ExecOrder;
use strata_operator::{AtlasMigration, crd, crd_yaml};

const CANONICAL: &str = r#"
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata:
  name: migration
spec:
  urlFrom:
    secretKeyRef: {key: url, name: postgres-credentials}
  cloud:
    project: "atlasdemo"
    tokenFrom:
      secretKeyRef: {name: atlas-credentials, key: token}
  dir:
    remote: {name: "atlasdemo", tag: "1d579be616db48803bb21713fd836a9165030f18"}
"#;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Deserialises as `AtlasMigration`, serialises back, and compares with the manifest as plain JSON, ignoring
/// `devURL` (always serialised, as upstream).
fn round_trip(yaml: &str) {
    let typed: AtlasMigration = serde_saphyr::from_str(yaml).expect("manifest deserialises");
    let raw: Value = serde_saphyr::from_str(yaml).unwrap();
    let mut back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back["spec"]["devURL"], json!(""));
    back["spec"].as_object_mut().unwrap().remove("devURL");
    assert_eq!(back, raw, "the manifest must survive unchanged");
}

#[test]
fn canonical_manifest_is_accepted_unchanged() {
    round_trip(CANONICAL);
    let m: AtlasMigration = serde_saphyr::from_str(CANONICAL).unwrap();
    let r = m.spec.url_from.unwrap().secret_key_ref.unwrap();
    assert_eq!(
        (r.name.as_str(), r.key.as_str()),
        ("postgres-credentials", "url")
    );
    assert_eq!(
        m.spec.dir.remote.unwrap().tag,
        "1d579be616db48803bb21713fd836a9165030f18"
    );
    assert_eq!(m.spec.cloud.unwrap().project.as_deref(), Some("atlasdemo"));
    // Defaults from the spec apply in code when the API server has not filled them.
    assert_eq!(m.spec.env_name.as_deref(), None);
}

#[test]
fn a_manifest_using_every_field_round_trips() {
    round_trip(
        r#"
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata: {name: full, namespace: apps}
spec:
  url: "postgres://u:p@h:5432/db?sslmode=disable"
  urlFrom: {secretKeyRef: {name: db, key: url, optional: true}}
  credentials:
    scheme: postgres
    user: root
    userFrom: {secretKeyRef: {name: c, key: user}}
    password: pw
    passwordFrom: {secretKeyRef: {name: c, key: password}}
    host: db.svc
    hostFrom: {secretKeyRef: {name: c, key: host}}
    port: 5432
    database: app
    parameters: {sslmode: disable}
  config: "env \"kubernetes\" {}"
  configFrom: {secretKeyRef: {name: cfg, key: atlas.hcl}}
  envName: prod
  vars:
  - {key: a, value: b}
  - key: c
    valueFrom: {secretKeyRef: {name: s, key: k}, configMapKeyRef: {name: m, key: k}}
  devDB:
    spec:
      containers: [{name: pg, image: "postgres:16"}]
  cloud: {url: "https://registry.example", project: p, tokenFrom: {secretKeyRef: {name: t, key: token}}}
  dir:
    local: {"1_a.sql": "CREATE TABLE a (id int);\n", atlas.sum: "h1:x\n"}
    configMapRef: {name: migrations}
  devURLFrom: {secretKeyRef: {name: d, key: url}}
  revisionsSchema: atlas
  baseline: "1"
  execOrder: non-linear
  protectedFlows: {migrateDown: {allow: true, autoApprove: true}}
  backoffLimit: 0
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "True", reason: Applied, message: "", observedGeneration: 3, lastTransitionTime: "2024-01-01T00:00:00Z"}
  lastAppliedVersion: "20231206075118"
  lastDeploymentUrl: "https://x"
  approvalUrl: "https://y"
  observed_hash: "0000000000000000000000000000000000000000000000000000000000000000"
  lastApplied: 1700124387
  failed: 2
"#,
    );
}

#[test]
fn exec_order_accepts_the_three_values_only() {
    for (s, v) in [
        ("linear", ExecOrder::Linear),
        ("linear-skip", ExecOrder::LinearSkip),
        ("non-linear", ExecOrder::NonLinear),
    ] {
        assert_eq!(serde_json::from_value::<ExecOrder>(json!(s)).unwrap(), v);
    }
    assert!(serde_json::from_value::<ExecOrder>(json!("random")).is_err());
}

#[test]
fn status_json_names_are_the_contract() {
    let s = strata_operator::AtlasMigrationStatus {
        observed_generation: 1,
        conditions: vec![strata_operator::crd::Condition {
            type_: "Ready".into(),
            status: "True".into(),
            observed_generation: 1,
            last_transition_time: "2024-01-01T00:00:00Z".into(),
            reason: "Applied".into(),
            message: String::new(),
        }],
        last_applied_version: "1".into(),
        observed_hash: "ab".into(),
        last_applied: 7,
        ..Default::default()
    };
    let v = serde_json::to_value(&s).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "observedGeneration",
            "conditions",
            "lastAppliedVersion",
            "observed_hash",
            "lastApplied",
            "failed"
        ]
    );
    // observed_hash, lastApplied and failed are always serialised.
    let empty = serde_json::to_value(strata_operator::AtlasMigrationStatus::default()).unwrap();
    assert_eq!(
        empty,
        json!({"observed_hash": "", "lastApplied": 0, "failed": 0})
    );
}

#[test]
fn crd_has_the_names_columns_defaults_and_validation() {
    let v = serde_json::to_value(crd()).unwrap();
    assert_eq!(v["metadata"]["name"], "atlasmigrations.db.atlasgo.io");
    let spec = &v["spec"];
    assert_eq!(spec["group"], "db.atlasgo.io");
    assert_eq!(spec["scope"], "Namespaced");
    assert_eq!(spec["names"]["plural"], "atlasmigrations");
    assert_eq!(spec["names"]["kind"], "AtlasMigration");
    let ver = &spec["versions"][0];
    assert_eq!(ver["name"], "v1alpha1");
    assert_eq!(ver["subresources"]["status"], json!({}));
    assert_eq!(
        ver["additionalPrinterColumns"],
        json!([
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Reason", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].reason"},
        ])
    );
    let schema = &ver["schema"]["openAPIV3Schema"];
    let status = &schema["properties"]["status"];
    assert_eq!(status["default"], json!({"observedGeneration": -1}));
    assert_eq!(status["properties"]["failed"]["default"], 0);
    assert!(status["properties"]["observed_hash"].is_object());
    assert!(status["properties"]["lastApplied"].is_object());
    let s = &schema["properties"]["spec"];
    assert_eq!(s["required"], json!(["dir"]));
    let p = &s["properties"];
    assert_eq!(p["backoffLimit"]["default"], 20);
    assert_eq!(p["envName"]["default"], "kubernetes");
    assert_eq!(
        p["execOrder"]["enum"],
        json!(["linear", "linear-skip", "non-linear"])
    );
    let md = &p["protectedFlows"]["properties"]["migrateDown"]["properties"];
    assert_eq!(md["allow"]["default"], false);
    assert_eq!(md["autoApprove"]["default"], false);
    assert_eq!(
        p["devDB"]["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
    for f in [
        "url",
        "urlFrom",
        "credentials",
        "config",
        "configFrom",
        "vars",
        "cloud",
        "dir",
        "devURL",
        "devURLFrom",
        "revisionsSchema",
        "baseline",
        "protectedFlows",
    ] {
        assert!(p[f].is_object(), "spec.{f} missing");
    }
    let dir = &p["dir"]["properties"];
    for f in ["local", "configMapRef", "remote"] {
        assert!(dir[f].is_object(), "spec.dir.{f} missing");
    }
    let cond = &status["properties"]["conditions"]["items"];
    assert_eq!(
        cond["properties"]["status"]["enum"],
        json!(["True", "False", "Unknown"])
    );
    assert_eq!(
        cond["required"],
        json!(["lastTransitionTime", "message", "reason", "status", "type"])
    );
    // Small enough for client-side apply (the reference needs server-side apply at ~618 KB).
    assert!(crd_yaml().len() < 64 * 1024, "{} bytes", crd_yaml().len());
}

fn check_copy(rel: &str) {
    let path = root().join(rel);
    let generated = crd_yaml();
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{rel}: {e}; run `strata operator crds > {rel}`"));
    assert!(
        committed == generated,
        "{rel} drifted from the generated CRD; regenerate it with `strata operator crds > {rel}` \
         (or STRATA_BLESS=1 cargo test -p strata-operator --test operator -- crd::)"
    );
}

/// The generated CRD as a reviewable snapshot (`snapshots/`): a change to the CRD types shows here as a diff of
/// the YAML users apply, and under `CI=true` an unreviewed change fails. The committed copies are checked below.
#[test]
fn crd_yaml_snapshot() {
    insta::assert_snapshot!("crd_yaml", crd_yaml());
}

#[test]
fn committed_crd_does_not_drift() {
    check_copy("deploy/crds/db.atlasgo.io_atlasmigrations.yaml");
}

#[test]
fn chart_crd_does_not_drift() {
    check_copy("deploy/helm/strata-operator/crds/db.atlasgo.io_atlasmigrations.yaml");
}

// ---- AtlasSchema ----

/// An `AtlasSchema` as written for the Atlas Operator (target from a Secret, inline SQL, policies, exclude).
const SCHEMA_CANONICAL: &str = r#"
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasSchema
metadata:
  name: app-schema
spec:
  urlFrom:
    secretKeyRef: {key: url, name: mysql-credentials}
  policy:
    lint:
      destructive: {error: true}
    diff:
      skip: {drop_column: true}
  schema:
    sql: |
      create table accounts (
        id int not null auto_increment,
        email varchar(255) unique not null,
        primary key (id)
      );
  exclude:
  - scratch_*
"#;

/// Deserialises as `AtlasSchema`, serialises back, and compares with the manifest as plain JSON, ignoring `devURL`
/// (always serialised, as upstream).
fn schema_round_trip(yaml: &str) {
    use strata_operator::atlas_schema::AtlasSchema;
    let typed: AtlasSchema = serde_saphyr::from_str(yaml).expect("manifest deserialises");
    let raw: Value = serde_saphyr::from_str(yaml).unwrap();
    let mut back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back["spec"]["devURL"], json!(""));
    back["spec"].as_object_mut().unwrap().remove("devURL");
    assert_eq!(back, raw, "the manifest must survive unchanged");
}

#[test]
fn canonical_atlas_schema_is_accepted_unchanged() {
    use strata_operator::atlas_schema::AtlasSchema;
    schema_round_trip(SCHEMA_CANONICAL);
    let s: AtlasSchema = serde_saphyr::from_str(SCHEMA_CANONICAL).unwrap();
    assert!(s.spec.destructive_error());
    assert!(s.spec.diff_skip().drop_column);
    assert_eq!(
        s.spec.diff_skip().kinds(),
        [strata_engine::schema::SkipKind::DropColumn]
    );
    assert_eq!(s.spec.backoff_limit(), 20);
    assert_eq!(
        s.spec.tx_mode(),
        strata_operator::atlas_schema::crd::SchemaTxMode::File
    );
}

#[test]
fn an_atlas_schema_using_every_field_round_trips() {
    schema_round_trip(
        r#"
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasSchema
metadata: {name: full, namespace: apps}
spec:
  url: "postgres://u:p@h:5432/db?sslmode=disable"
  urlFrom: {secretKeyRef: {name: db, key: url}}
  credentials: {scheme: postgres, user: root, passwordFrom: {secretKeyRef: {name: c, key: password}}, host: db.svc, port: 5432, database: app}
  vars:
  - {key: tenant, value: acme}
  schema:
    sql: "CREATE TABLE t (id int);"
    hcl: "schema \"public\" {}"
    url: "atlas://app?tag=v1"
    configMapKeyRef: {name: schema, key: schema.sql}
  cloud: {repo: app, tokenFrom: {secretKeyRef: {name: t, key: token}}}
  devURLFrom: {secretKeyRef: {name: d, key: url}}
  exclude: ["tmp_*"]
  schemas: [public, audit]
  txMode: none
  policy:
    lint: {destructive: {error: true}, review: WARNING}
    diff:
      concurrent_index: {create: true, drop: true}
      skip:
        add_schema: true
        drop_schema: true
        modify_schema: true
        add_table: true
        drop_table: true
        modify_table: true
        add_column: true
        drop_column: true
        modify_column: true
        add_index: true
        drop_index: true
        modify_index: true
        add_foreign_key: true
        drop_foreign_key: true
        modify_foreign_key: true
  backoffLimit: 0
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: ApprovalPending, message: Reconciling, observedGeneration: 2, lastTransitionTime: "2024-01-01T00:00:00Z"}
  observed_hash: "ab"
  last_applied: 1700124387
  planURL: ""
  planLink: ""
  failed: 0
  pendingPlan: {hash: "0123456789abcdef", statements: ["ALTER TABLE t DROP COLUMN c"], destructive: ["drop column \"c\" of table \"t\""]}
"#,
    );
}

#[test]
fn atlas_schema_status_json_names_are_the_contract() {
    let empty =
        serde_json::to_value(strata_operator::atlas_schema::AtlasSchemaStatus::default()).unwrap();
    assert_eq!(
        empty,
        json!({"observed_hash": "", "last_applied": 0, "planURL": "", "planLink": "", "failed": 0})
    );
}

#[test]
fn atlas_schema_crd_has_the_names_columns_defaults_and_validation() {
    use strata_operator::atlas_schema::crd::{crd, crd_yaml};
    let v = serde_json::to_value(crd()).unwrap();
    assert_eq!(v["metadata"]["name"], "atlasschemas.db.atlasgo.io");
    let spec = &v["spec"];
    assert_eq!(spec["scope"], "Namespaced");
    assert_eq!(spec["names"]["kind"], "AtlasSchema");
    let ver = &spec["versions"][0];
    assert_eq!(ver["name"], "v1alpha1");
    assert_eq!(ver["subresources"]["status"], json!({}));
    assert_eq!(
        ver["additionalPrinterColumns"][1]["jsonPath"],
        ".status.conditions[?(@.type==\"Ready\")].reason"
    );
    let schema = &ver["schema"]["openAPIV3Schema"];
    let status = &schema["properties"]["status"];
    assert_eq!(status["default"], json!({"observedGeneration": -1}));
    assert_eq!(status["properties"]["failed"]["default"], 0);
    for f in [
        "observed_hash",
        "last_applied",
        "planURL",
        "planLink",
        "pendingPlan",
    ] {
        assert!(status["properties"][f].is_object(), "status.{f} missing");
    }
    let s = &schema["properties"]["spec"];
    assert_eq!(s["required"], json!(["schema"]));
    let p = &s["properties"];
    assert_eq!(p["backoffLimit"]["default"], 20);
    assert_eq!(p["txMode"]["enum"], json!(["file", "all", "none"]));
    assert_eq!(
        p["policy"]["properties"]["lint"]["properties"]["review"]["enum"],
        json!(["ALWAYS", "WARNING", "ERROR"])
    );
    let skip = &p["policy"]["properties"]["diff"]["properties"]["skip"]["properties"];
    assert_eq!(skip.as_object().unwrap().len(), 15);
    for f in ["sql", "hcl", "url", "configMapKeyRef"] {
        assert!(p["schema"]["properties"][f].is_object(), "spec.schema.{f}");
    }
    assert!(crd_yaml().len() < 64 * 1024, "{} bytes", crd_yaml().len());
}

fn check_schema_copy(rel: &str) {
    let path = root().join(rel);
    let generated = strata_operator::atlas_schema::crd::crd_yaml();
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{rel}: {e}; regenerate with STRATA_BLESS=1 cargo test -p strata-operator --test operator -- crd::")
    });
    assert!(
        committed == generated,
        "{rel} drifted from the generated CRD; regenerate it with \
         STRATA_BLESS=1 cargo test -p strata-operator --test operator -- crd::"
    );
}

#[test]
fn atlas_schema_crd_yaml_snapshot() {
    insta::assert_snapshot!(
        "atlas_schema_crd_yaml",
        strata_operator::atlas_schema::crd::crd_yaml()
    );
}

#[test]
fn committed_atlas_schema_crd_does_not_drift() {
    check_schema_copy("deploy/crds/db.atlasgo.io_atlasschemas.yaml");
}

#[test]
fn chart_atlas_schema_crd_does_not_drift() {
    check_schema_copy("deploy/helm/strata-operator/crds/db.atlasgo.io_atlasschemas.yaml");
}
