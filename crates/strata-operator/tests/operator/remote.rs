//! Remote directories end to end: a real registry server (in-process, SQLite store), directories pushed over HTTP,
//! `AtlasMigration`s with `dir.remote` + `cloud.tokenFrom` reconciled against real SQLite and PostgreSQL targets,
//! and the runs visible through the registry's list-deployments API. Refusals (token, scope, tag, URL) must be
//! clear reasons that never contain the token.

use strata_driver::testing::{self, TestDb};
use strata_operator::{AtlasMigration, Outcome, Requeue};
use tracing::instrument::WithSubscriber as _;

use crate::common::harness::{Harness, events, has_table, ready, visible};
use crate::common::objects::{F1, F2, F3, PROJECT, remote_migration};
use crate::common::registry::{LogBuffer, TestRegistry};

/// Fails on every dialect: `users` exists after F1.
const BAD: (&str, &str) = ("2_again.sql", "CREATE TABLE users (id int PRIMARY KEY);\n");

/// SQLite, and PostgreSQL (when reachable) with a password in the URL that trust auth ignores.
async fn targets() -> Vec<(&'static str, String, TestDb)> {
    let mut v = Vec::new();
    for (schema, db) in crate::common::harness::targets().await {
        let url = if schema == "public" {
            let url = db
                .url
                .replacen("postgres://postgres@", "postgres://postgres:s3cretpw@", 1);
            assert!(url.contains("s3cretpw"), "{url}");
            url
        } else {
            db.url.clone()
        };
        v.push((schema, url, db));
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_directory_applies_reports_and_follows_a_moved_tag() {
    for (i, (schema, url, _db)) in targets().await.into_iter().enumerate() {
        let reg = TestRegistry::start().await;
        let v1 = reg.push(PROJECT, "atlasdemo", &[F1, F2], &["v1"]).await;
        let token = reg.token(PROJECT, "read,report").await;
        // SQLite finds the registry through the operator's --registry, PostgreSQL through spec.cloud.url.
        let (h, mut obj) = if i == 0 {
            (
                Harness::remote(&url, &token, Some(&reg.base)),
                remote_migration("v1", None),
            )
        } else {
            (
                Harness::remote(&url, &token, Some("http://127.0.0.1:9")),
                remote_migration("v1", Some(&reg.base)),
            )
        };
        let mut seen = Vec::new();

        let outs = h.settle(&mut obj).await;
        let done = outs.last().unwrap();
        assert_eq!(
            ready(done),
            ("True".into(), "Applied".into(), "".into()),
            "{schema}"
        );
        assert_eq!(done.status.last_applied_version, "2");
        assert_eq!(events(done), ["Normal Applied Version 2 applied"]);
        assert_eq!(done.applied_files, 2);
        assert!(has_table(&url, schema, "posts").await);
        seen.extend(outs.iter().map(visible));

        let deps = reg.deployments(PROJECT).await;
        assert_eq!(deps.len(), 1, "{deps:?}");
        let d = &deps[0];
        assert_eq!(d["status"], "succeeded");
        assert_eq!(d["dir"], "atlasdemo");
        assert_eq!(d["tag"], "v1");
        assert_eq!(d["version"], v1.as_str());
        assert_eq!(
            (d["from_version"].as_str(), d["to_version"].as_str()),
            (Some(""), Some("2"))
        );
        assert_eq!(d["statements"], 2);
        let target = d["target"].as_str().unwrap();
        if i == 0 {
            assert!(target.starts_with("sqlite://"), "{target}");
        } else {
            assert!(target.starts_with("postgres://127.0.0.1:5432/"), "{target}");
        }

        // A re-check with nothing pending stays Ready and reports nothing.
        let again = h.step(&mut obj).await;
        assert_eq!(ready(&again).0, "True");
        assert!(again.events.is_empty());
        assert_eq!(reg.deployments(PROJECT).await.len(), 1);

        // The tag moves to a new version: Ready flips before the database is touched, then the new file applies.
        let v2 = reg.push(PROJECT, "atlasdemo", &[F1, F2, F3], &["v1"]).await;
        assert_ne!(v1, v2);
        let flip = h.step(&mut obj).await;
        assert_eq!(
            ready(&flip),
            (
                "False".into(),
                "Reconciling".into(),
                "Current migration data has changed".into()
            )
        );
        assert_eq!(flip.requeue, Requeue::Now);
        assert!(!has_table(&url, schema, "comments").await);
        let done = h.step(&mut obj).await;
        assert_eq!(ready(&done), ("True".into(), "Applied".into(), "".into()));
        assert_eq!(done.status.last_applied_version, "3");
        assert_eq!(events(&done), ["Normal Applied Version 3 applied"]);
        assert!(has_table(&url, schema, "comments").await);
        seen.extend([visible(&flip), visible(&done)]);

        let deps = reg.deployments(PROJECT).await;
        assert_eq!(deps.len(), 2, "{deps:?}");
        assert_eq!(deps[0]["version"], v2.as_str());
        assert_eq!(deps[0]["status"], "succeeded");
        assert_eq!(
            (
                deps[0]["from_version"].as_str(),
                deps[0]["to_version"].as_str()
            ),
            (Some("2"), Some("3"))
        );

        // No credential anywhere a user looks.
        let all = format!("{seen:?} {}", serde_json::to_string(&deps).unwrap());
        assert!(!all.contains("s3cretpw"), "password leaked: {all}");
        assert!(!all.contains(&token), "token leaked: {all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_is_reported_as_a_failed_deployment() {
    for (_, url, _db) in targets().await {
        let reg = TestRegistry::start().await;
        let version = reg.push(PROJECT, "atlasdemo", &[F1, BAD], &["v1"]).await;
        let token = reg.token(PROJECT, "read,report").await;
        let h = Harness::remote(&url, &token, Some(&reg.base));
        let mut obj = remote_migration("v1", None);
        let last = h.settle(&mut obj).await.pop().unwrap();
        let (status, reason, message) = ready(&last);
        assert_eq!((status.as_str(), reason.as_str()), ("False", "Migrating"));
        assert!(message.contains("already exists"), "{message}");
        assert_eq!(last.status.failed, 1);

        let deps = reg.deployments(PROJECT).await;
        assert_eq!(deps.len(), 1, "{deps:?}");
        let d = &deps[0];
        assert_eq!(d["status"], "failed");
        assert_eq!(d["version"], version.as_str());
        assert_eq!(d["tag"], "v1");
        assert!(
            d["error"].as_str().unwrap().contains("already exists"),
            "{d}"
        );
        let files = d["files"].as_array().unwrap();
        assert!(
            files
                .iter()
                .any(|f| f["name"] == "2_again.sql" && f["error"].as_str().is_some()),
            "{d}"
        );
        let all = serde_json::to_string(&deps).unwrap() + &visible(&last);
        assert!(!all.contains("s3cretpw") && !all.contains(&token), "{all}");
    }
}

/// One reconcile past the first pass for a spec; returns the outcome.
async fn refused(h: &Harness, mut obj: AtlasMigration) -> Outcome {
    h.settle(&mut obj).await.pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_refusals_are_clear_reasons_without_the_token() {
    let db = testing::sqlite();
    let reg = TestRegistry::start().await;
    reg.push(PROJECT, "atlasdemo", &[F1], &["v1"]).await;
    let port_in_base = reg.base.rsplit(':').next().unwrap().to_owned();

    let check = |o: &Outcome, token: &str, reason: &str, event: &str, wants: &[&str]| {
        let (status, r, message) = ready(o);
        assert_eq!(
            (status.as_str(), r.as_str()),
            ("False", reason),
            "{message}"
        );
        for w in wants {
            assert!(message.contains(w), "{w:?} missing from: {message}");
        }
        assert!(!visible(o).contains(token), "token leaked: {}", visible(o));
        assert_eq!(events(o), [format!("Warning {event} {message}")]);
        assert_eq!(o.status.failed, 1);
        assert!(matches!(o.requeue, Requeue::After(_)));
    };

    // An unknown token (well-formed, never issued).
    let wrong = "strata_abcdefghijkl_thisisnotavalidsecretvalue000000";
    let h = Harness::remote(&db.url, wrong, Some(&reg.base));
    let o = refused(&h, remote_migration("v1", None)).await;
    check(
        &o,
        wrong,
        "ReadingMigrationData",
        "Error",
        &[
            &format!("registry {} refused the token", reg.base),
            "not valid",
            "secret apps/atlas-credentials key \"token\"",
            "strata registry token create --project atlasdemo",
        ],
    );
    assert_eq!(o.status.condition("Stalled").unwrap().status, "True");
    assert!(
        !visible(&o).contains("--token"),
        "CLI hints do not apply here"
    );

    // A token without the read scope.
    let push_only = reg.token(PROJECT, "push").await;
    let h = Harness::remote(&db.url, &push_only, Some(&reg.base));
    let o = refused(&h, remote_migration("v1", None)).await;
    check(
        &o,
        &push_only,
        "ReadingMigrationData",
        "Error",
        &["lacks the 'read' scope", "needs the read and report scopes"],
    );

    // A token of another project sees the project as missing.
    let other = reg.token("other", "read").await;
    let h = Harness::remote(&db.url, &other, Some(&reg.base));
    let o = refused(&h, remote_migration("v1", None)).await;
    check(
        &o,
        &other,
        "ReadingMigrationData",
        "TransientErr",
        &[
            "project \"atlasdemo\" not found",
            "belongs to project \"atlasdemo\"",
        ],
    );

    // An unknown tag.
    let token = reg.token(PROJECT, "read,report").await;
    let h = Harness::remote(&db.url, &token, Some(&reg.base));
    let o = refused(&h, remote_migration("nope", None)).await;
    check(
        &o,
        &token,
        "ReadingMigrationData",
        "TransientErr",
        &[
            "tag \"nope\" of directory \"atlasdemo\" not found in project \"atlasdemo\"",
            "strata migrate push atlasdemo/atlasdemo:nope",
        ],
    );

    // No registry URL at all.
    let h = Harness::remote(&db.url, &token, None);
    let o = refused(&h, remote_migration("v1", None)).await;
    check(
        &o,
        &token,
        "ReadingMigrationData",
        "Error",
        &["set spec.cloud.url, or start the operator with --registry"],
    );
    assert_eq!(o.status.condition("Stalled").unwrap().status, "True");

    // Nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = refused(
        &h,
        remote_migration("v1", Some(&format!("http://127.0.0.1:{closed}"))),
    )
    .await;
    check(
        &o,
        &token,
        "ReadingMigrationData",
        "TransientErr",
        &[&format!(
            "cannot reach the registry at http://127.0.0.1:{closed}"
        )],
    );

    // Credentials in the registry URL are refused, and not repeated.
    let o = refused(
        &h,
        remote_migration(
            "v1",
            Some(&format!("http://admin:hunter2@127.0.0.1:{port_in_base}")),
        ),
    )
    .await;
    check(
        &o,
        &token,
        "ReadingMigrationData",
        "Error",
        &["carries credentials", "spec.cloud.url"],
    );
    assert!(!visible(&o).contains("hunter2"));

    // The database was never touched by any of these.
    assert!(!has_table(&db.url, "main", "users").await);
    assert!(reg.deployments(PROJECT).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_fails_is_logged_and_does_not_fail_the_reconcile() {
    let db = testing::sqlite();
    let reg = TestRegistry::start().await;
    reg.push(PROJECT, "atlasdemo", &[F1], &[]).await;
    // Read but not report: the fetch works, the report is refused.
    let token = reg.token(PROJECT, "read").await;
    let h = Harness::remote(&db.url, &token, Some(&reg.base));
    let mut obj = remote_migration("", None); // empty tag = latest
    let logs = LogBuffer::default();
    let outs = h.settle(&mut obj).with_subscriber(logs.subscriber()).await;
    let done = outs.last().unwrap();
    assert_eq!(ready(done), ("True".into(), "Applied".into(), "".into()));
    assert_eq!(done.status.last_applied_version, "1");
    assert!(has_table(&db.url, "main", "users").await);
    assert!(reg.deployments(PROJECT).await.is_empty());
    let log = logs.text();
    assert!(
        log.contains("the run was not reported to the registry"),
        "{log}"
    );
    assert!(log.contains("lacks the 'report' scope"), "{log}");
    assert!(log.contains(&reg.base), "{log}");
    assert!(!log.contains(&token), "token in the log: {log}");
}
