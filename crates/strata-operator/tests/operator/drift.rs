//! Drift detection of `AtlasMigration` (`strata_operator::drift`): the check after a Ready reconcile against real
//! SQLite and PostgreSQL targets (a column added by hand is reported as `Drifted` with its line, and nothing is
//! written to the database), and through the controller against the scripted API server (the status patch
//! carrying the condition, the Warning Event, the metrics, the requeue after the period).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use strata_engine::schema::InspectOptions;
use strata_operator::drift::{
    self, ANNOTATION, Check, DriftEnv, DriftMetrics, DriftSettings, Schedule, check_migration,
};
use strata_operator::{AtlasMigration, Outcome, Requeue, conditions, controller};

use crate::common::api;
use crate::common::harness::{Harness, events, ready, targets};
use crate::common::objects::{F1, F2, local_migration, stored};

fn with_interval(mut obj: AtlasMigration, v: &str) -> AtlasMigration {
    obj.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(ANNOTATION.into(), v.into());
    obj
}

/// The `Drifted` condition: (status, reason, message).
fn drifted(o: &Outcome) -> Option<(String, String, String)> {
    o.status
        .condition(drift::DRIFTED)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// What a write could change: the catalog with the revisions table, and the revisions rows.
async fn snapshot(url: &str) -> String {
    let u: strata_driver::DbUrl = url.parse().unwrap();
    let realm = strata_engine::schema::inspect(
        &u,
        &InspectOptions::default().include_revisions_table(true),
    )
    .await
    .unwrap();
    let mut drv = strata_driver::connect(&u).await.unwrap();
    let loc = drv.revisions_location(None).await.unwrap();
    let revs = drv.read_revisions(&loc).await.unwrap();
    drv.close().await.unwrap();
    format!("{}\n{revs:?}", serde_json::to_string(&realm).unwrap())
}

async fn exec(url: &str, sql: &str) {
    let mut drv = strata_driver::connect(&url.parse().unwrap()).await.unwrap();
    drv.execute(sql).await.unwrap();
    drv.close().await.unwrap();
}

#[tokio::test]
async fn a_column_added_by_hand_is_drift_and_nothing_is_written() {
    for (_, db) in targets().await {
        let h = Harness::local(&db.url);
        let cache = tempfile::tempdir().unwrap();
        let settings = DriftSettings {
            migration: None,
            cache_dir: Some(cache.path().to_owned()),
            ..DriftSettings::default()
        };
        let metrics = DriftMetrics::default();
        let mut obj = with_interval(local_migration(&[F1, F2]), "1m");
        h.settle(&mut obj).await;
        assert!(obj.status.as_ref().unwrap().is_ready());

        // In sync: False / InSync, no Event, back after the period.
        let schedule = Schedule::default();
        let denv = DriftEnv {
            settings: &settings,
            schedule: &schedule,
            metrics: &metrics,
        };
        let out = h.step(&mut obj).await;
        let (out, check) = check_migration(&obj, &h.env(), &denv, out).await;
        assert_eq!(check, Some(Check::InSync));
        assert_eq!(
            drifted(&out),
            Some(("False".into(), "InSync".into(), String::new()))
        );
        assert!(out.events.is_empty());
        assert_eq!(out.requeue, Requeue::After(Duration::from_secs(60)));
        let cached = std::fs::read_dir(cache.path().join("replay"))
            .unwrap()
            .count();
        assert!(
            cached >= 1,
            "the replayed directory is cached for the next check"
        );
        obj.status = Some(out.status.clone());

        // Not due yet: no check, the requeue says when.
        let out = h.step(&mut obj).await;
        let (out, check) = check_migration(&obj, &h.env(), &denv, out).await;
        assert_eq!(check, None);
        assert!(
            matches!(out.requeue, Requeue::After(d) if d <= Duration::from_secs(60) && d > Duration::from_secs(50))
        );

        // A column added by hand: Drifted True with the line, a Warning Event, Ready untouched, nothing written.
        exec(&db.url, "ALTER TABLE users ADD COLUMN nickname varchar(20)").await;
        let before = snapshot(&db.url).await;
        let schedule = Schedule::default();
        let denv = DriftEnv {
            settings: &settings,
            schedule: &schedule,
            metrics: &metrics,
        };
        let out = h.step(&mut obj).await;
        let (out, check) = check_migration(&obj, &h.env(), &denv, out).await;
        assert_eq!(
            check,
            Some(Check::Drifted(vec![
                "table \"users\": column \"nickname\" added".into()
            ]))
        );
        assert_eq!(
            drifted(&out),
            Some((
                "True".into(),
                "Drifted".into(),
                "table \"users\": column \"nickname\" added outside migrations".into()
            ))
        );
        assert_eq!(
            events(&out),
            ["Warning Drifted table \"users\": column \"nickname\" added outside migrations"]
        );
        assert_eq!(
            ready(&out),
            ("True".into(), "Applied".into(), String::new())
        );
        assert_eq!(
            snapshot(&db.url).await,
            before,
            "the drift check wrote to the database"
        );
        obj.status = Some(out.status.clone());

        // The same drift next period: the condition stays, no second Event.
        let schedule = Schedule::default();
        let denv = DriftEnv {
            settings: &settings,
            schedule: &schedule,
            metrics: &metrics,
        };
        let out = h.step(&mut obj).await;
        let (out, _) = check_migration(&obj, &h.env(), &denv, out).await;
        assert_eq!(drifted(&out).unwrap().0, "True");
        assert!(out.events.is_empty(), "{:?}", events(&out));
        obj.status = Some(out.status.clone());

        // Checks turned off by the annotation: the condition goes, and nothing is checked.
        obj = with_interval(obj, "off");
        let out = h.step(&mut obj).await;
        let (out, check) = check_migration(&obj, &h.env(), &denv, out).await;
        assert_eq!(check, None);
        assert_eq!(drifted(&out), None);
        assert_eq!(out.requeue, Requeue::Never);

        // A bad annotation is named in the condition, and Ready stays.
        obj = with_interval(obj, "soon");
        let out = h.step(&mut obj).await;
        let (out, _) = check_migration(&obj, &h.env(), &denv, out).await;
        let (status, reason, message) = drifted(&out).unwrap();
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("Unknown", "InvalidDriftInterval")
        );
        assert!(
            message.starts_with(
                "annotation strata.dev/drift-interval: invalid drift interval \"soon\""
            ),
            "{message}"
        );
        assert_eq!(ready(&out).0, "True");
    }
}

/// A remote directory's check goes to its registry too: the "what runs where" overview reads it from there. In
/// sync is reported as no lines; a column added by hand as its line; neither carries a credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_directory_check_is_reported_to_its_registry() {
    use crate::common::objects::{PROJECT, remote_migration};
    use crate::common::registry::TestRegistry;
    for (_, db) in targets().await {
        let reg = TestRegistry::start().await;
        reg.push(PROJECT, "atlasdemo", &[F1, F2], &["v1"]).await;
        let token = reg.token(PROJECT, "read,report").await;
        let h = Harness::remote(&db.url, &token, Some(&reg.base));
        let cache = tempfile::tempdir().unwrap();
        let settings = DriftSettings {
            cache_dir: Some(cache.path().to_owned()),
            ..DriftSettings::default()
        };
        let metrics = DriftMetrics::default();
        let mut obj = with_interval(remote_migration("v1", None), "1m");
        h.settle(&mut obj).await;
        assert!(obj.status.as_ref().unwrap().is_ready());

        let check = |obj: AtlasMigration| {
            let (h, settings, metrics) = (&h, &settings, &metrics);
            async move {
                let schedule = Schedule::default();
                let denv = DriftEnv {
                    settings,
                    schedule: &schedule,
                    metrics,
                };
                let mut obj = obj;
                let out = h.step(&mut obj).await;
                check_migration(&obj, &h.env(), &denv, out).await.1
            }
        };
        assert_eq!(check(obj.clone()).await, Some(Check::InSync));
        let drifts = reg.drifts(PROJECT).await;
        assert_eq!(drifts.len(), 1, "{drifts:?}");
        assert_eq!(drifts[0]["dir"], "atlasdemo");
        assert_eq!(drifts[0]["lines"], serde_json::json!([]));
        let deps = reg.deployments(PROJECT).await;
        assert_eq!(
            drifts[0]["target"], deps[0]["target"],
            "drift and deployments name the target alike, so the overview joins them"
        );

        exec(&db.url, "ALTER TABLE users ADD COLUMN nickname varchar(20)").await;
        assert!(matches!(check(obj.clone()).await, Some(Check::Drifted(_))));
        let drifts = reg.drifts(PROJECT).await;
        assert_eq!(drifts.len(), 1, "the latest check per target: {drifts:?}");
        assert_eq!(
            drifts[0]["lines"],
            serde_json::json!(["table \"users\": column \"nickname\" added outside migrations"])
        );
        let all = serde_json::to_string(&drifts).unwrap();
        assert!(!all.contains(&token), "{all}");
    }
}

#[tokio::test]
async fn an_unreachable_dev_database_is_a_failed_check_without_credentials() {
    let db = strata_driver::testing::sqlite();
    let h = Harness::local(&db.url);
    let settings = DriftSettings {
        migration: Some(Duration::from_secs(30)),
        cache_dir: None,
        ..DriftSettings::default()
    };
    let schedule = Schedule::default();
    let metrics = DriftMetrics::default();
    let denv = DriftEnv {
        settings: &settings,
        schedule: &schedule,
        metrics: &metrics,
    };
    let mut obj = local_migration(&[F1]);
    obj.spec.dev_url = "postgres://u:hunter2@127.0.0.1:1/dev".into();
    h.settle(&mut obj).await;
    let out = h.step(&mut obj).await;
    let (out, check) = check_migration(&obj, &h.env(), &denv, out).await;
    assert!(matches!(check, Some(Check::Failed(_))), "{check:?}");
    let (status, reason, message) = drifted(&out).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("Unknown", "CheckFailed")
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert_eq!(events(&out).len(), 1);
    assert!(!events(&out)[0].contains("hunter2"));
    assert_eq!(ready(&out).0, "True");
}

#[tokio::test]
async fn the_controller_patches_drifted_publishes_the_event_and_counts_the_check() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    let secret = || Some(BTreeMap::from([("url", url.as_str())]));
    let obj = || {
        let mut m = stored(with_interval(local_migration(&[F1]), "1m"));
        m.status = Some(conditions::reconciling(
            Default::default(),
            1,
            conditions::RECONCILING,
        ));
        m
    };
    // The apply, then the first check (in sync): one patch with Ready and Drifted False, the Applied Event.
    let (ctx, mut api) = api::context(tmp.path(), obj());
    let run = tokio::spawn(controller::reconcile(Arc::new(obj()), ctx.clone()));
    api.get_secret(secret()).await; // the reconcile's inputs
    api.get_secret(secret()).await; // the drift check's inputs
    let patch = api.status_patch(200).await;
    let conds = patch["status"]["conditions"].as_array().unwrap();
    let d = conds
        .iter()
        .find(|c| c["type"] == "Drifted")
        .expect("Drifted condition");
    assert_eq!(
        (d["status"].as_str(), d["reason"].as_str()),
        (Some("False"), Some("InSync"))
    );
    assert_eq!(api.event().await["reason"], "Applied");
    let action = format!("{:?}", run.await.unwrap().unwrap());
    assert!(action.contains("requeue_after: Some(6"), "{action}");
    let status = patch["status"].clone();

    // Changed by hand; the next due check (a new controller, so its schedule is empty) reports it.
    exec(&url, "ALTER TABLE users ADD COLUMN nickname varchar(20)").await;
    let (ctx, mut api) = api::context(tmp.path(), obj());
    let mut ready_obj = obj();
    ready_obj.status = Some(serde_json::from_value(status).unwrap());
    let run = tokio::spawn(controller::reconcile(Arc::new(ready_obj), ctx.clone()));
    api.get_secret(secret()).await;
    api.get_secret(secret()).await;
    let patch = api.status_patch(200).await;
    let conds = patch["status"]["conditions"].as_array().unwrap();
    assert_eq!(conds[0]["type"], "Ready");
    assert_eq!(conds[0]["status"], "True");
    let d = conds.iter().find(|c| c["type"] == "Drifted").unwrap();
    assert_eq!(d["status"], "True");
    assert_eq!(d["reason"], "Drifted");
    assert_eq!(
        d["message"],
        "table \"users\": column \"nickname\" added outside migrations"
    );
    let ev = api.event().await;
    assert_eq!(
        (ev["type"].as_str(), ev["reason"].as_str()),
        (Some("Warning"), Some("Drifted"))
    );
    assert_eq!(
        ev["note"],
        "table \"users\": column \"nickname\" added outside migrations"
    );
    run.await.unwrap().unwrap();
    let text = ctx.metrics.render();
    for want in [
        "strata_operator_drifted{kind=\"AtlasMigration\",namespace=\"apps\",name=\"app\"} 1",
        "strata_operator_drift_checks_total{kind=\"AtlasMigration\",result=\"drifted\"} 1",
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
}
