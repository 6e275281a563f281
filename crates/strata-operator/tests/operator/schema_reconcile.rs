//! `AtlasSchema`'s reconcile against real SQLite, PostgreSQL and MariaDB targets (operator-spec §5, §9.3, and
//! Strata's approval gate): first apply, a changed desired schema (Ready False, then True), destructive plans
//! refused on the first run and under `policy.lint.destructive.error`, the approval annotation (right hash applies,
//! a wrong one does not), `policy.diff.skip`, a SQL error in the desired state, a refused throw-away dev database,
//! and the unchanged re-check that computes the drift without applying it.

use std::collections::BTreeMap;
use std::time::Duration;

use strata_driver::testing::{self, TestDb};
use strata_engine::schema::InspectOptions;
use strata_operator::atlas_schema::crd::{
    APPROVE_ANNOTATION, AtlasSchemaSpec, CheckConfig, DiffSkip, Policy, PolicyDiff, PolicyLint,
    SchemaSource, new_schema,
};
use strata_operator::atlas_schema::devdb::{DevDbReport, DevDbState, DevDbs, Engine};
use strata_operator::atlas_schema::reconcile::{FIRST_RUN_MESSAGE, SCHEMA_CHANGED};
use strata_operator::atlas_schema::{AtlasSchema, SchemaOutcome, reconcile_schema};
use strata_operator::crd::KeyRef;
use strata_operator::drift::{self, Check, DriftEnv, DriftMetrics, DriftSettings, Schedule};
use strata_operator::resolve::StaticObjects;
use strata_operator::{DatabaseLocks, Env, RegistryClient, Requeue, ResolveSettings};

use crate::common::objects::{NS, secret_ref};

const USERS: &str = "CREATE TABLE users (id int NOT NULL, name varchar(100), PRIMARY KEY (id));\n";
const POSTS: &str = "CREATE TABLE posts (id int NOT NULL, title varchar(100), PRIMARY KEY (id));\n";
const USERS_NO_NAME: &str = "CREATE TABLE users (id int NOT NULL, PRIMARY KEY (id));\n";

/// A target: its name in messages, the database, and the dev database to name in `devURL` (MariaDB: its test
/// user may not create databases, so no throw-away one).
struct Target {
    label: &'static str,
    db: TestDb,
    dev: Option<TestDb>,
}

async fn targets() -> Vec<Target> {
    let mut v = vec![Target {
        label: "sqlite",
        db: testing::sqlite(),
        dev: None,
    }];
    if let Some(pg) = testing::postgres().await {
        v.push(Target {
            label: "postgres",
            db: pg,
            dev: None,
        });
    }
    if let (Some(db), Some(dev)) = (testing::mysql().await, testing::mysql().await) {
        v.push(Target {
            label: "mariadb",
            db,
            dev: Some(dev),
        });
    }
    v
}

struct Harness {
    objects: StaticObjects,
    settings: ResolveSettings,
    locks: DatabaseLocks,
}

impl Harness {
    fn new(t: &Target) -> Self {
        Self::with_objects(StaticObjects::default().with_secret(NS, "db", &[("url", &t.db.url)]))
    }

    fn with_objects(objects: StaticObjects) -> Self {
        Self {
            objects,
            settings: ResolveSettings::default(),
            locks: DatabaseLocks::default(),
        }
    }

    async fn step(&self, obj: &mut AtlasSchema) -> SchemaOutcome {
        let env = Env {
            objects: &self.objects,
            registry: &RegistryClient,
            settings: &self.settings,
            locks: &self.locks,
            sqlite_lock_root: None,
            lock_timeout: Duration::from_secs(2),
            cancel: Default::default(),
            dev_dbs: None,
        };
        let out = reconcile_schema(obj, &env).await;
        let visible = format!("{:?} {:?}", out.status, out.events);
        assert!(!visible.contains("pw_"), "a password leaked: {visible}");
        obj.status = Some(out.status.clone());
        out
    }

    async fn settle(&self, obj: &mut AtlasSchema) -> Vec<SchemaOutcome> {
        let mut outs = Vec::new();
        for _ in 0..5 {
            let out = self.step(obj).await;
            let again = out.requeue == Requeue::Now;
            outs.push(out);
            if !again {
                break;
            }
        }
        outs
    }
}

fn schema(t: &Target, sql: &str) -> AtlasSchema {
    new_schema(
        "app",
        NS,
        AtlasSchemaSpec {
            url_from: secret_ref("db", "url"),
            dev_url: t.dev.as_ref().map(|d| d.url.clone()).unwrap_or_default(),
            schema: SchemaSource {
                sql: Some(sql.into()),
                ..SchemaSource::default()
            },
            ..AtlasSchemaSpec::default()
        },
    )
}

fn set_sql(obj: &mut AtlasSchema, sql: &str) {
    obj.spec.schema.sql = Some(sql.into());
    obj.metadata.generation = Some(obj.metadata.generation.unwrap_or(1) + 1);
}

/// The Ready condition: (status, reason, message).
fn ready(o: &SchemaOutcome) -> (String, String, String) {
    let c = o.status.condition("Ready").expect("Ready condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

fn cond(o: &SchemaOutcome, t: &str) -> (String, String) {
    let c = o.status.condition(t).expect("condition");
    (c.status.clone(), c.message.clone())
}

fn events(o: &SchemaOutcome) -> Vec<String> {
    o.events.iter().map(ToString::to_string).collect()
}

/// `table.column` of every column in the database.
async fn columns(url: &str) -> Vec<String> {
    let realm = strata_engine::schema::inspect(&url.parse().unwrap(), &InspectOptions::default())
        .await
        .unwrap();
    let mut out = Vec::new();
    for s in &realm.schemas {
        for t in &s.tables {
            for c in &t.columns {
                out.push(format!("{}.{}", t.name, c.name));
            }
        }
    }
    out.sort();
    out
}

async fn execute(url: &str, sql: &str) {
    let mut drv = strata_driver::connect(&url.parse().unwrap()).await.unwrap();
    drv.execute(sql).await.unwrap();
    drv.close().await.unwrap();
}

fn annotate(obj: &mut AtlasSchema, value: &str) {
    obj.metadata.annotations = Some(BTreeMap::from([(
        APPROVE_ANNOTATION.to_owned(),
        value.to_owned(),
    )]));
}

#[tokio::test]
async fn first_apply_then_a_changed_schema_flips_ready_then_applies() {
    for t in targets().await {
        let h = Harness::new(&t);
        let mut obj = schema(&t, USERS);
        let outs = h.settle(&mut obj).await;
        assert_eq!(outs.len(), 2, "{}: first pass, then apply", t.label);
        assert_eq!(
            ready(&outs[0]),
            ("False".into(), "Reconciling".into(), "Reconciling".into())
        );
        let done = &outs[1];
        let (status, reason, message) = ready(done);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("True", "Applied"),
            "{}: {message}",
            t.label
        );
        assert!(
            message.starts_with("The schema has been applied successfully. Apply response: {"),
            "{message}"
        );
        assert!(message.contains("CREATE TABLE"), "{message}");
        assert_eq!(events(done), ["Normal Applied Applied schema"]);
        let st = &done.status;
        assert_eq!(st.failed, 0);
        assert!(st.last_applied > 1_600_000_000);
        assert_eq!(st.observed_hash.len(), 64);
        assert!(done.applied_statements >= 1);
        assert_eq!(
            columns(&t.db.url).await,
            ["users.id", "users.name"],
            "{}",
            t.label
        );
        let json = serde_json::to_value(st).unwrap();
        for k in [
            "observed_hash",
            "last_applied",
            "planURL",
            "planLink",
            "failed",
        ] {
            assert!(
                json.get(k).is_some(),
                "status.{k} is always written: {json}"
            );
        }

        // Unchanged: nothing applied, nothing written, the (empty) drift computed.
        let again = h.step(&mut obj).await;
        assert_eq!(again.status, *st, "{}", t.label);
        assert!(again.events.is_empty());
        assert!(
            again.drift.as_ref().unwrap().is_empty(),
            "{}: {:?}",
            t.label,
            again.drift
        );

        // A changed desired schema: Ready False (Reconciling) before the database is touched, then True.
        set_sql(&mut obj, &format!("{USERS}{POSTS}"));
        let flip = h.step(&mut obj).await;
        assert_eq!(
            ready(&flip),
            ("False".into(), "Reconciling".into(), "Reconciling".into())
        );
        assert_eq!(
            cond(&flip, "Reconciling"),
            ("True".into(), SCHEMA_CHANGED.into())
        );
        assert_eq!(flip.requeue, Requeue::Now);
        assert_eq!(
            columns(&t.db.url).await.len(),
            2,
            "{}: not applied yet",
            t.label
        );
        let done = h.step(&mut obj).await;
        assert_eq!(ready(&done).0, "True", "{}: {:?}", t.label, ready(&done));
        assert_eq!(done.status.observed_generation, 2);
        assert_eq!(
            columns(&t.db.url).await,
            ["posts.id", "posts.title", "users.id", "users.name"]
        );

        // Drift: a column added by hand shows in the re-check's plan and is not undone.
        execute(
            &t.db.url,
            "ALTER TABLE users ADD COLUMN nickname varchar(10)",
        )
        .await;
        let mut check = h.step(&mut obj).await;
        assert_eq!(ready(&check).0, "True");
        let drift = check.drift.clone().expect("drift computed");
        assert!(!drift.is_empty(), "{}", t.label);
        assert!(
            columns(&t.db.url)
                .await
                .contains(&"users.nickname".to_owned())
        );
        // The drift step (what the controller runs after the reconcile): AtlasSchema checks are on by default,
        // so the condition names the column, a Warning Event says so, and the resource comes back after the
        // period; Ready stays True and nothing is applied.
        let settings = DriftSettings::default();
        let (schedule, metrics) = (Schedule::default(), DriftMetrics::default());
        let denv = DriftEnv {
            settings: &settings,
            schedule: &schedule,
            metrics: &metrics,
        };
        let found = drift::check_schema(&obj, &denv, &mut check);
        let line = "table \"users\": column \"nickname\" added outside the desired schema";
        assert_eq!(
            found,
            Some(Check::Drifted(vec![
                "table \"users\": column \"nickname\" added".into()
            ])),
            "{}",
            t.label
        );
        let c = check.status.condition(drift::DRIFTED).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
            ("True", "Drifted", line)
        );
        assert_eq!(events(&check), [format!("Warning Drifted {line}")]);
        assert_eq!(check.requeue, Requeue::After(Duration::from_secs(600)));
        assert_eq!(ready(&check).0, "True");
        assert!(
            columns(&t.db.url)
                .await
                .contains(&"users.nickname".to_owned()),
            "drift is never corrected by itself"
        );
    }
}

#[tokio::test]
async fn destructive_plans_are_refused_under_the_policy_and_wait_for_the_right_approval() {
    for t in targets().await {
        let h = Harness::new(&t);
        let mut obj = schema(&t, USERS);
        h.settle(&mut obj).await;
        assert!(obj.status.as_ref().unwrap().is_ready(), "{}", t.label);

        // policy.lint.destructive.error: refused, naming the statement.
        obj.spec.policy = Some(Policy {
            lint: Some(PolicyLint {
                destructive: Some(CheckConfig { error: true }),
                review: None,
            }),
            diff: None,
        });
        set_sql(&mut obj, USERS_NO_NAME);
        let outs = h.settle(&mut obj).await;
        let refused = outs.last().unwrap();
        let (status, reason, message) = ready(refused);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "LintPolicyError"),
            "{}: {message}",
            t.label
        );
        assert!(
            message.starts_with("destructive changes detected:\n- "),
            "{message}"
        );
        assert!(message.to_lowercase().contains("name"), "{message}");
        assert_eq!(cond(refused, "Stalled").0, "True");
        assert_eq!(refused.status.failed, 1);
        assert!(matches!(refused.requeue, Requeue::After(_)));
        assert!(columns(&t.db.url).await.contains(&"users.name".to_owned()));

        // Without the policy: pending, with the plan and its hash in the status.
        obj.spec.policy = None;
        obj.metadata.generation = Some(obj.metadata.generation.unwrap() + 1);
        let pending = h.step(&mut obj).await;
        assert_eq!(
            ready(&pending),
            (
                "False".into(),
                "ApprovalPending".into(),
                "Reconciling".into()
            ),
            "{}",
            t.label
        );
        let plan = pending.status.pending_plan.clone().expect("pendingPlan");
        assert_eq!(plan.hash.len(), 16);
        assert!(!plan.statements.is_empty());
        assert!(!plan.destructive.is_empty());
        let (rec, detail) = cond(&pending, "Reconciling");
        assert_eq!(rec, "True");
        assert!(detail.contains(&plan.hash), "{detail}");
        assert_eq!(
            pending.status.failed, 1,
            "pending does not count as a failure"
        );
        assert!(columns(&t.db.url).await.contains(&"users.name".to_owned()));

        // A wrong hash: still pending, and the condition says why.
        annotate(&mut obj, "0123456789abcdef");
        let wrong = h.step(&mut obj).await;
        assert_eq!(ready(&wrong).1, "ApprovalPending");
        assert!(
            cond(&wrong, "Reconciling").1.contains(
                "annotation (\"0123456789abcdef\") does not match the current plan's hash"
            ),
            "{:?}",
            cond(&wrong, "Reconciling")
        );
        assert!(columns(&t.db.url).await.contains(&"users.name".to_owned()));

        // The right hash: applied.
        annotate(&mut obj, &plan.hash);
        let done = h.step(&mut obj).await;
        assert_eq!(ready(&done).0, "True", "{}: {:?}", t.label, ready(&done));
        assert!(done.status.pending_plan.is_none());
        assert_eq!(done.status.failed, 0);
        assert_eq!(
            events(&done)[0],
            format!(
                "Normal ApprovalPending plan {} approved by the strata.dev/approve annotation",
                plan.hash
            )
        );
        assert_eq!(columns(&t.db.url).await, ["users.id"], "{}", t.label);
    }
}

#[tokio::test]
async fn diff_skip_is_honoured_and_the_first_run_must_not_destroy() {
    for t in targets().await {
        // First run on a database holding a table the desired state lacks: refused.
        execute(
            &t.db.url,
            "CREATE TABLE legacy (id int NOT NULL, PRIMARY KEY (id))",
        )
        .await;
        let h = Harness::new(&t);
        let mut obj = schema(&t, USERS);
        let outs = h.settle(&mut obj).await;
        let first = outs.last().unwrap();
        let (status, reason, message) = ready(first);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "FirstRunDestructive"),
            "{}: {message}",
            t.label
        );
        assert!(message.ends_with(FIRST_RUN_MESSAGE), "{message}");
        assert!(message.contains("legacy"), "{message}");
        assert_eq!(cond(first, "Stalled").0, "True");
        assert_eq!(
            events(first)[0].split(' ').take(2).collect::<Vec<_>>(),
            ["Warning", "FirstRunDestructive"]
        );
        assert!(columns(&t.db.url).await.contains(&"legacy.id".to_owned()));

        // policy.diff.skip.drop_table: the table the desired state lacks stays, the rest applies.
        obj.spec.policy = Some(Policy {
            lint: None,
            diff: Some(PolicyDiff {
                skip: Some(DiffSkip {
                    drop_table: true,
                    ..DiffSkip::default()
                }),
                concurrent_index: None,
            }),
        });
        obj.metadata.generation = Some(2);
        let done = h.settle(&mut obj).await;
        let done = done.last().unwrap();
        assert_eq!(ready(done).0, "True", "{}: {:?}", t.label, ready(done));
        assert_eq!(
            columns(&t.db.url).await,
            ["legacy.id", "users.id", "users.name"],
            "{}",
            t.label
        );
    }
}

#[tokio::test]
async fn a_sql_error_in_the_desired_state_is_a_clear_condition() {
    for t in targets().await {
        let h = Harness::new(&t);
        let mut obj = schema(
            &t,
            &format!("{USERS}CREATE TABLE broken (id int NOT NULL,);\n"),
        );
        let outs = h.settle(&mut obj).await;
        let bad = outs.last().unwrap();
        let (status, reason, message) = ready(bad);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "ReadSchema"),
            "{}: {message}",
            t.label
        );
        assert!(
            message.contains("spec.schema.sql:2"),
            "{}: {message}",
            t.label
        );
        assert_eq!(cond(bad, "Stalled").0, "True");
        assert_eq!(bad.status.failed, 1);
        assert!(
            columns(&t.db.url).await.is_empty(),
            "{}: nothing applied",
            t.label
        );
    }
}

#[tokio::test]
async fn a_refused_scratch_database_says_to_set_dev_url() {
    // The MariaDB test user may use its own database only: CREATE DATABASE is refused.
    let Some(db) = testing::mysql().await else {
        return;
    };
    let t = Target {
        label: "mariadb",
        db,
        dev: None,
    };
    let h = Harness::new(&t);
    let mut obj = schema(&t, USERS);
    let outs = h.settle(&mut obj).await;
    let (status, reason, message) = ready(outs.last().unwrap());
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "GettingDevDB"),
        "{message}"
    );
    assert!(message.contains("set spec.devURL"), "{message}");
    assert_eq!(cond(outs.last().unwrap(), "Stalled").0, "True");
}

#[tokio::test]
async fn desired_state_sources_and_their_errors() {
    let t = Target {
        label: "sqlite",
        db: testing::sqlite(),
        dev: None,
    };
    let cm = |key: &str| SchemaSource {
        config_map_key_ref: Some(KeyRef {
            name: "schema".into(),
            key: key.into(),
            optional: None,
        }),
        ..SchemaSource::default()
    };
    let objects = StaticObjects::default()
        .with_secret(NS, "db", &[("url", &t.db.url)])
        .with_config_map(
            NS,
            "schema",
            &[
                ("schema.hcl", "schema \"main\" {}\ntable \"t\" {\n  schema = schema.main\n  column \"id\" {\n    type = int\n  }\n}\n"),
                ("schema.txt", "x"),
            ],
        );
    let h = Harness::with_objects(objects);
    let run = |source: SchemaSource| {
        let mut obj = schema(&t, "");
        obj.spec.schema = source;
        obj
    };
    // A ConfigMap key must end in .sql or .hcl (Atlas's text).
    let mut obj = run(cm("schema.txt"));
    let out = h.settle(&mut obj).await;
    assert_eq!(
        ready(out.last().unwrap()).2,
        "configmaps key \"schema.txt\" must be ending with .sql or .hcl, received \".txt\""
    );
    let mut obj = run(cm("other.sql"));
    let out = h.settle(&mut obj).await;
    assert_eq!(
        ready(out.last().unwrap()).2,
        "configmaps apps/schema does not contain key \"other.sql\""
    );
    // schema.url: only atlas://.
    let mut obj = run(SchemaSource {
        url: Some("https://example.com/schema.sql".into()),
        ..SchemaSource::default()
    });
    let out = h.settle(&mut obj).await;
    assert_eq!(
        ready(out.last().unwrap()).2,
        "unsupported URL schema \"https\""
    );
    // HCL from the ConfigMap applies; configMapKeyRef wins over sql.
    let mut obj = run(cm("schema.hcl"));
    obj.spec.schema.sql = Some(POSTS.into());
    let out = h.settle(&mut obj).await;
    assert_eq!(
        ready(out.last().unwrap()).0,
        "True",
        "{:?}",
        ready(out.last().unwrap())
    );
    assert_eq!(columns(&t.db.url).await, ["t.id"]);
    // An HCL error names the ConfigMap key, line and column.
    let mut obj = run(SchemaSource {
        hcl: Some("table \"x\" {\n  schema = schema.nope\n}\n".into()),
        ..SchemaSource::default()
    });
    let out = h.settle(&mut obj).await;
    let (_, reason, message) = ready(out.last().unwrap());
    assert_eq!(reason, "ReadSchema");
    assert!(
        message.starts_with("spec.schema.hcl: spec.schema.hcl:2:"),
        "{message}"
    );
}

/// `schema.url: atlas://<repo>?tag=<tag>`: a directory pushed to a real registry is the desired state (its files
/// replayed on the dev database); moving the tag flips Ready, then applies the new version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_url_is_the_desired_state_and_a_moved_tag_applies() {
    use crate::common::objects::{F1, F2, PROJECT};
    use crate::common::registry::TestRegistry;
    use strata_operator::atlas_schema::crd::SchemaCloud;

    let reg = TestRegistry::start().await;
    reg.push(PROJECT, "atlasdemo", &[F1], &["v1"]).await;
    let token = reg.token(PROJECT, "read").await;
    let t = Target {
        label: "sqlite",
        db: testing::sqlite(),
        dev: None,
    };
    let mut h = Harness::with_objects(
        StaticObjects::default()
            .with_secret(NS, "db", &[("url", &t.db.url)])
            .with_secret(NS, "atlas-credentials", &[("token", &token)]),
    );
    h.settings.registry = Some(reg.base.clone());
    let mut obj = schema(&t, "");
    obj.spec.schema = SchemaSource {
        url: Some("atlas://atlasdemo?tag=v1".into()),
        ..SchemaSource::default()
    };
    obj.spec.cloud = Some(SchemaCloud {
        repo: None,
        token_from: secret_ref("atlas-credentials", "token"),
    });
    let outs = h.settle(&mut obj).await;
    assert_eq!(
        ready(outs.last().unwrap()).0,
        "True",
        "{:?}",
        ready(outs.last().unwrap())
    );
    assert_eq!(columns(&t.db.url).await, ["users.id"]);
    let visible = format!(
        "{:?} {:?}",
        outs.last().unwrap().status,
        outs.last().unwrap().events
    );
    assert!(!visible.contains(&token), "the token leaked: {visible}");

    // The tag moves to a version with one more file: Ready flips, then the new table is created.
    reg.push(PROJECT, "atlasdemo", &[F1, F2], &["v1"]).await;
    let flip = h.step(&mut obj).await;
    assert_eq!(
        cond(&flip, "Reconciling"),
        ("True".into(), SCHEMA_CHANGED.into())
    );
    let done = h.step(&mut obj).await;
    assert_eq!(ready(&done).0, "True", "{:?}", ready(&done));
    assert_eq!(columns(&t.db.url).await, ["posts.id", "users.id"]);

    // Without a token reference: a clear spec error.
    obj.spec.cloud = None;
    obj.metadata.generation = Some(5);
    let out = h.step(&mut obj).await;
    let (_, reason, message) = ready(&out);
    assert_eq!(reason, "ReadSchema");
    assert!(message.contains("set spec.cloud.tokenFrom"), "{message}");
}

/// `examples/gitops/schema/atlasschema.yaml` unchanged, against a real PostgreSQL: Ready, the table there.
#[tokio::test]
async fn the_gitops_example_applies_to_a_real_database() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/gitops/schema/atlasschema.yaml");
    let mut obj: AtlasSchema =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    obj.metadata.namespace = Some("app".into());
    obj.metadata.generation = Some(1);
    let h = Harness::with_objects(StaticObjects::default().with_secret(
        "app",
        "postgres-credentials",
        &[("url", &db.url)],
    ));
    let outs = h.settle(&mut obj).await;
    assert_eq!(
        ready(outs.last().unwrap()).0,
        "True",
        "{:?}",
        ready(outs.last().unwrap())
    );
    assert_eq!(columns(&db.url).await, ["accounts.email", "accounts.id"]);
    let again = h.step(&mut obj).await;
    assert!(again.drift.unwrap().is_empty(), "the example converges");
}

/// `policy.diff.concurrent_index`: on PostgreSQL a new index of an existing table is built `CONCURRENTLY` (which
/// only succeeds outside a transaction block, so Ready proves where it ran) and an old one dropped the same way;
/// the other dialects have no such statement and apply their plain plan.
#[tokio::test]
async fn concurrent_index_policy_builds_and_drops_indexes_concurrently() {
    use strata_operator::atlas_schema::crd::ConcurrentIndex;
    for t in targets().await {
        let h = Harness::new(&t);
        let with_old = format!("{USERS}CREATE INDEX users_old ON users (id, name);\n");
        let mut obj = schema(&t, &with_old);
        let done = h.settle(&mut obj).await;
        assert_eq!(ready(done.last().unwrap()).0, "True", "{}", t.label);
        execute(
            &t.db.url,
            "INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b')",
        )
        .await;

        obj.spec.policy = Some(Policy {
            lint: None,
            diff: Some(PolicyDiff {
                skip: None,
                concurrent_index: Some(ConcurrentIndex {
                    create: true,
                    drop: true,
                }),
            }),
        });
        set_sql(
            &mut obj,
            &format!("{USERS}CREATE INDEX users_name ON users (name);\n"),
        );
        let outs = h.settle(&mut obj).await;
        let done = outs.last().unwrap();
        let (status, reason, message) = ready(done);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("True", "Applied"),
            "{}: {message}",
            t.label
        );
        let concurrently = message.contains("CREATE INDEX CONCURRENTLY")
            && message.contains("DROP INDEX CONCURRENTLY");
        assert_eq!(
            concurrently,
            t.label == "postgres",
            "{}: {message}",
            t.label
        );
        assert!(message.contains("users_name"), "{message}");
        let realm =
            strata_engine::schema::inspect(&t.db.url.parse().unwrap(), &InspectOptions::default())
                .await
                .unwrap();
        let users = realm
            .schemas
            .iter()
            .flat_map(|s| &s.tables)
            .find(|t| t.name == "users")
            .unwrap();
        let names: Vec<&str> = users.indexes.iter().map(|i| i.name.as_str()).collect();
        assert!(
            names.contains(&"users_name") && !names.contains(&"users_old"),
            "{}: {names:?}",
            t.label
        );
    }
}

/// A stand-in for the API server's dev-database Deployments whose "pod" is the real MariaDB server (as root, so a
/// throw-away database may be created there): none until asked to create, then starting for `starting` more
/// looks, then Ready.
struct PodIsTheServer {
    url: String,
    created: std::sync::Mutex<Option<u32>>,
    calls: std::sync::Mutex<Vec<(Engine, bool)>>,
}

#[async_trait::async_trait]
impl DevDbs for PodIsTheServer {
    async fn dev_db(
        &self,
        _obj: &AtlasSchema,
        engine: Engine,
        create: bool,
    ) -> Result<Option<DevDbReport>, strata_operator::resolve::LookupError> {
        self.calls.lock().unwrap().push((engine, create));
        let mut starting = self.created.lock().unwrap();
        let report = |state, created| DevDbReport {
            state,
            created,
            scaled_up: false,
        };
        Ok(match *starting {
            None if !create => None,
            None => {
                *starting = Some(1);
                Some(report(DevDbState::Starting, true))
            }
            Some(0) => Some(report(
                DevDbState::Ready(Box::new(self.url.parse().unwrap())),
                false,
            )),
            Some(n) => {
                *starting = Some(n - 1);
                Some(report(DevDbState::Starting, false))
            }
        })
    }
}

/// The target's server refuses a throw-away database and no devURL is set (a `mysql://` URL: the `mysql` engine): with dev-database Deployments on, one
/// is created (Normal CreatedDevDB), the resource waits in progress (GettingDevDB, Reconciling, not Stalled, back
/// in 5 s), and once its pod is Ready the desired state loads there and the schema applies.
#[tokio::test]
async fn a_refused_scratch_database_falls_back_to_a_dev_database_deployment() {
    let Some(db) = testing::mysql().await else {
        return;
    };
    let root = std::env::var("STRATA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| testing::DEFAULT_MYSQL_URL.to_owned());
    let sep = if root.contains('?') { '&' } else { '?' };
    let stand_in = PodIsTheServer {
        url: format!("{root}{sep}strata_dev=scratch"),
        created: Default::default(),
        calls: Default::default(),
    };
    let t = Target {
        label: "mariadb",
        db,
        dev: None,
    };
    let h = Harness::new(&t);
    let env = Env {
        objects: &h.objects,
        registry: &RegistryClient,
        settings: &h.settings,
        locks: &h.locks,
        sqlite_lock_root: None,
        lock_timeout: Duration::from_secs(2),
        cancel: Default::default(),
        dev_dbs: Some(&stand_in),
    };
    let env = &env;
    let mut obj = schema(&t, USERS);
    let first = reconcile_schema(&obj, env).await;
    obj.status = Some(first.status.clone());
    let waiting = reconcile_schema(&obj, env).await;
    obj.status = Some(waiting.status.clone());
    let (status, reason, message) = ready(&waiting);
    assert_eq!(
        (status.as_str(), reason.as_str(), message.as_str()),
        ("False", "GettingDevDB", "Reconciling")
    );
    assert_eq!(cond(&waiting, "Reconciling").0, "True");
    assert_eq!(cond(&waiting, "Stalled").0, "False");
    assert_eq!(waiting.requeue, Requeue::After(Duration::from_secs(5)));
    let ev = events(&waiting);
    assert!(
        ev[0].starts_with("Normal CreatedDevDB created dev-database Deployment app-atlas-dev-db"),
        "{ev:?}"
    );
    assert!(
        ev[1].starts_with("Warning GettingDevDB waiting for a Ready pod"),
        "{ev:?}"
    );
    assert!(
        columns(&t.db.url).await.is_empty(),
        "nothing applied while waiting"
    );

    // Still starting, then Ready: applied with the desired state loaded on the pod's server.
    let still = reconcile_schema(&obj, env).await;
    obj.status = Some(still.status.clone());
    assert_eq!(ready(&still).1, "GettingDevDB");
    let done = reconcile_schema(&obj, env).await;
    let (status, reason, message) = ready(&done);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "Applied"),
        "{message}"
    );
    assert_eq!(columns(&t.db.url).await, ["users.id", "users.name"]);
    assert!(
        !format!("{:?} {:?}", done.status, done.events).contains("strata_dev"),
        "the dev URL stays inside"
    );
    // The existing Deployment is looked up before the scratch attempt from then on; it was created once.
    let calls = stand_in.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            (Engine::Mysql, false),
            (Engine::Mysql, true),
            (Engine::Mysql, false),
            (Engine::Mysql, false)
        ],
        "{calls:?}"
    );
}

/// `policy.lint.review` without a registry: the plan's lint findings go into `status.pendingPlan.lint`, and the
/// plan waits for the approval annotation — every plan under `ALWAYS`, plans with findings under `WARNING`, plans
/// with errors under `ERROR` (PostgreSQL: a plain `CREATE INDEX` on an existing table is PG101, a warning).
#[tokio::test]
async fn the_review_policy_gates_plans_by_their_lint_findings() {
    use strata_operator::atlas_schema::crd::LintReview;
    let review = |r| {
        Some(Policy {
            lint: Some(PolicyLint {
                destructive: None,
                review: Some(r),
            }),
            diff: None,
        })
    };
    for t in targets()
        .await
        .into_iter()
        .filter(|t| t.label == "postgres")
    {
        let h = Harness::new(&t);
        let mut obj = schema(&t, USERS);
        h.settle(&mut obj).await;
        assert!(obj.status.as_ref().unwrap().is_ready());

        // WARNING: a plain index on an existing table has a finding; it waits, then applies once approved.
        obj.spec.policy = review(LintReview::Warning);
        let with_index = format!("{USERS}CREATE INDEX users_name ON users (name);\n");
        set_sql(&mut obj, &with_index);
        let outs = h.settle(&mut obj).await;
        let waiting = outs.last().unwrap();
        let (status, reason, message) = ready(waiting);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "ApprovalPending"),
            "{message}"
        );
        let detail = cond(waiting, "Reconciling").1;
        assert!(
            detail.contains("has lint findings (policy.lint.review: WARNING)"),
            "{detail}"
        );
        let pending = waiting.status.pending_plan.clone().unwrap();
        assert!(
            pending
                .lint
                .iter()
                .any(|l| l.starts_with("statement 1: PG101 ")),
            "{:?}",
            pending.lint
        );
        assert!(pending.destructive.is_empty());
        annotate(&mut obj, &pending.hash);
        let done = h.step(&mut obj).await;
        assert_eq!(ready(&done).1, "Applied", "{:?}", ready(&done));

        // ERROR: the same kind of finding is only a warning, so the next index applies without approval.
        obj.spec.policy = review(LintReview::Error);
        set_sql(
            &mut obj,
            &format!("{with_index}CREATE INDEX users_id_name ON users (id, name);\n"),
        );
        let outs = h.settle(&mut obj).await;
        assert_eq!(ready(outs.last().unwrap()).1, "Applied");

        // ALWAYS: every plan waits, whatever its findings; a wrong hash does not apply it.
        obj.spec.policy = review(LintReview::Always);
        obj.metadata.annotations = None;
        set_sql(
            &mut obj,
            &format!("{with_index}CREATE INDEX users_id_name ON users (id, name);\n{POSTS}"),
        );
        let outs = h.settle(&mut obj).await;
        let waiting = outs.last().unwrap();
        assert_eq!(ready(waiting).1, "ApprovalPending");
        let detail = cond(waiting, "Reconciling").1;
        assert!(
            detail.contains("needs review (policy.lint.review: ALWAYS)"),
            "{detail}"
        );
        annotate(&mut obj, "0123456789abcdef");
        let still = h.step(&mut obj).await;
        assert_eq!(ready(&still).1, "ApprovalPending");
        assert!(!columns(&t.db.url).await.contains(&"posts.id".to_owned()));
    }
}
