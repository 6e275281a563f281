//! The storage suite, run against both backends: every test below exists as `sqlite::<name>` and
//! `postgres::<name>` (the latter skipped without a server, failing under `CI=true`).

use std::sync::Arc;

use crate::common::*;
use strata_registry::model::{DeployStatus, DeploymentFilter, NewDeployment, Ref};
use strata_registry::{RegistryError, Scopes, Store, auth};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = super::sqlite_store().await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some((store, _db)) = super::pg_store().await else { return };
                    super::$name(store).await;
                }
            )*
        }
    };
}

both!(
    push_stores_once_and_round_trips,
    tags_move_and_latest_follows,
    immutable_tags_refuse_moves_atomically,
    projects_are_isolated,
    deployments_are_recorded_and_filtered,
    tokens_hash_verify_revoke,
    sessions_expire_end_and_follow_their_token,
    concurrent_pushes_leave_one_consistent_tag,
    attachments_belong_to_the_version_not_its_id,
    drift_keeps_the_latest_check_per_target,
    one_deployment_by_id_and_the_latest_per_target,
);

async fn attachments_belong_to_the_version_not_its_id(s: Arc<dyn Store>) {
    use strata_registry::model::AttachmentKind::{LintReport, Schema};
    s.ensure_project("app").await.unwrap();
    let plain = version(2);
    let mut with = plain.clone();
    with.attachments = vec![
        (LintReport, r#"{"Files":[{"Name":"001_step.sql"}]}"#.into()),
        (Schema, r#"{"dialect":"sqlite","schemas":[]}"#.into()),
    ];
    let a = s.push("app", "app", &plain, &[]).await.unwrap();
    assert_eq!(
        s.attachment("app", "app", &a.version.id, LintReport)
            .await
            .unwrap(),
        None
    );
    let b = s.push("app", "app", &with, &["ci".into()]).await.unwrap();
    assert_eq!(
        b.version.id, a.version.id,
        "attachments never change the id"
    );
    assert!(!b.created);
    let lint = s
        .attachment("app", "app", &a.version.id, LintReport)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lint.json, r#"{"Files":[{"Name":"001_step.sql"}]}"#);
    // A later push that carries a new report replaces it; one that carries none keeps it.
    let mut newer = plain.clone();
    newer.attachments = vec![(LintReport, r#"{"Files":[]}"#.into())];
    s.push("app", "app", &newer, &[]).await.unwrap();
    s.push("app", "app", &plain, &[]).await.unwrap();
    let got = |k| {
        let s = s.clone();
        let id = a.version.id.clone();
        async move {
            s.attachment("app", "app", &id, k)
                .await
                .unwrap()
                .map(|a| a.json)
        }
    };
    assert_eq!(got(LintReport).await.as_deref(), Some(r#"{"Files":[]}"#));
    assert_eq!(
        got(Schema).await.as_deref(),
        Some(r#"{"dialect":"sqlite","schemas":[]}"#)
    );
    // Another directory's version of the same files has its own.
    s.push("app", "other", &plain, &[]).await.unwrap();
    assert_eq!(
        s.attachment("app", "other", &a.version.id, LintReport)
            .await
            .unwrap(),
        None
    );
}

async fn drift_keeps_the_latest_check_per_target(s: Arc<dyn Store>) {
    use strata_registry::model::NewDrift;
    s.ensure_project("app").await.unwrap();
    s.ensure_project("other").await.unwrap();
    let d = |target: &str, lines: &[&str], at: &str| NewDrift {
        dir: "app".into(),
        target: target.into(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
        checked_at: at.into(),
    };
    s.report_drift(
        "app",
        &d(
            "postgres://db/prod",
            &["table \"users\": column \"nickname\" added"],
            "2026-01-01T00:00:00Z",
        ),
    )
    .await
    .unwrap();
    s.report_drift(
        "app",
        &d("postgres://db/staging", &[], "2026-01-01T00:00:00Z"),
    )
    .await
    .unwrap();
    s.report_drift("app", &d("postgres://db/prod", &[], "2026-01-02T00:00:00Z"))
        .await
        .unwrap();
    let list = s.drifts("app").await.unwrap();
    let shown: Vec<_> = list
        .iter()
        .map(|x| (x.target.as_str(), x.lines.len(), x.checked_at.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("postgres://db/prod", 0, "2026-01-02T00:00:00Z"),
            ("postgres://db/staging", 0, "2026-01-01T00:00:00Z"),
        ]
    );
    assert!(s.drifts("other").await.unwrap().is_empty());
}

async fn one_deployment_by_id_and_the_latest_per_target(s: Arc<dyn Store>) {
    s.ensure_project("app").await.unwrap();
    s.ensure_project("other").await.unwrap();
    let a = s
        .add_deployment("app", &deployment("app", "pg://a", DeployStatus::Failed))
        .await
        .unwrap();
    assert_eq!(s.deployment("app", a.id).await.unwrap(), Some(a.clone()));
    // The latest per directory and target, whatever came between.
    let b = s
        .add_deployment("app", &deployment("app", "pg://b", DeployStatus::Succeeded))
        .await
        .unwrap();
    for _ in 0..3 {
        s.add_deployment("app", &deployment("other", "pg://a", DeployStatus::Noop))
            .await
            .unwrap();
    }
    let c = s
        .add_deployment("app", &deployment("app", "pg://a", DeployStatus::Succeeded))
        .await
        .unwrap();
    let latest: Vec<_> = s
        .latest_deployments("app")
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.report.dir, d.report.target, d.id))
        .collect();
    assert_eq!(
        latest,
        [
            ("app".to_owned(), "pg://a".to_owned(), c.id),
            ("app".to_owned(), "pg://b".to_owned(), b.id),
            ("other".to_owned(), "pg://a".to_owned(), c.id - 1),
        ]
    );
    assert!(s.latest_deployments("other").await.unwrap().is_empty());
    assert_eq!(s.deployment("other", a.id).await.unwrap(), None);
    assert_eq!(s.deployment("app", a.id + 1000).await.unwrap(), None);
}

async fn push_stores_once_and_round_trips(s: Arc<dyn Store>) {
    s.ensure_project("app").await.unwrap();
    let v1 = version(3);
    let out = s.push("app", "app", &v1, &["v1".into()]).await.unwrap();
    assert!(out.created);
    assert_eq!(out.tags, ["latest", "v1"]);
    assert_eq!(out.version.id, v1.digest);
    assert_eq!(out.version.files, 3);
    assert_eq!(out.version.last_migration, "003");
    assert_eq!(out.version.sum, v1.header);

    let again = s.push("app", "app", &v1, &[]).await.unwrap();
    assert!(!again.created, "identical content is stored once");
    assert_eq!(again.version.id, v1.digest);

    let c = s
        .content("app", "app", &Ref::Tag("v1".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.files, v1.files, "files come back byte for byte, in order");
    assert_eq!(c.sum, v1.sum);

    // A second version sharing three files stores only the new file (plus its atlas.sum).
    let before = s.stats().await.unwrap();
    s.push("app", "app", &version(4), &[]).await.unwrap();
    let after = s.stats().await.unwrap();
    assert_eq!(after.blobs - before.blobs, 2, "{before:?} -> {after:?}");
    assert_eq!(after.versions, 2);

    // Unknown refs are None, not errors.
    assert!(
        s.content("app", "app", &Ref::Tag("nope".into()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.resolve("app", "other", &Ref::Tag("latest".into()))
            .await
            .unwrap()
            .is_none()
    );
}

async fn tags_move_and_latest_follows(s: Arc<dyn Store>) {
    s.ensure_project("app").await.unwrap();
    let (v1, v2) = (version(1), version(2));
    s.push("app", "app", &v1, &["prod".into()]).await.unwrap();
    s.push("app", "app", &v2, &["prod".into(), "abc123".into()])
        .await
        .unwrap();
    let tags = s.tags("app", "app").await.unwrap();
    let find = |n: &str| tags.iter().find(|t| t.name == n).unwrap().version.clone();
    assert_eq!(find("prod"), v2.digest);
    assert_eq!(find("latest"), v2.digest);
    assert_eq!(find("abc123"), v2.digest);
    // Pushing an old version again moves latest back to it.
    s.push("app", "app", &v1, &[]).await.unwrap();
    let latest = s
        .resolve("app", "app", &Ref::Tag("latest".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, v1.digest);
    let versions = s.versions("app", "app").await.unwrap();
    assert_eq!(versions.len(), 2);
    let v1_info = versions.iter().find(|v| v.id == v1.digest).unwrap();
    assert_eq!(v1_info.tags, ["latest"]);
    let dirs = s.directories("app").await.unwrap();
    assert_eq!(dirs.len(), 1);
    assert_eq!((dirs[0].versions, dirs[0].tags), (2, 3));
    // Bad tag names are refused before anything is written.
    let e = s
        .push("app", "app", &v2, &["a b".into()])
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::InvalidName { .. }), "{e}");
}

async fn immutable_tags_refuse_moves_atomically(s: Arc<dyn Store>) {
    s.ensure_project("app").await.unwrap();
    let p = s.set_immutable_tags("app", true).await.unwrap();
    assert!(p.immutable_tags);
    let (v1, v2) = (version(1), version(2));
    s.push("app", "app", &v1, &["rel".into()]).await.unwrap();
    // Re-pushing the same content under the tag is fine.
    s.push("app", "app", &v1, &["rel".into()]).await.unwrap();
    let e = s
        .push("app", "app", &v2, &["rel".into()])
        .await
        .unwrap_err();
    match &e {
        RegistryError::TagImmutable { tag, existing, .. } => {
            assert_eq!(tag, "rel");
            assert_eq!(existing, &v1.digest);
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("immutable"));
    // The refused push left nothing behind: no v2, latest unchanged.
    assert_eq!(s.versions("app", "app").await.unwrap().len(), 1);
    let latest = s
        .resolve("app", "app", &Ref::Tag("latest".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, v1.digest);
    // latest itself always moves.
    s.push("app", "app", &v2, &["rel2".into()]).await.unwrap();
    let latest = s
        .resolve("app", "app", &Ref::Tag("latest".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, v2.digest);
}

async fn projects_are_isolated(s: Arc<dyn Store>) {
    s.ensure_project("a").await.unwrap();
    s.ensure_project("b").await.unwrap();
    let v = version(2);
    s.push("a", "app", &v, &[]).await.unwrap();
    assert!(
        s.resolve("b", "app", &Ref::Version(v.digest.clone()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.content("b", "app", &Ref::Tag("latest".into()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.versions("b", "app").await.unwrap().is_empty());
    assert!(s.directories("b").await.unwrap().is_empty());
    // Same content in b is a separate version record, sharing blobs.
    let before = s.stats().await.unwrap();
    let out = s.push("b", "app", &v, &[]).await.unwrap();
    assert!(out.created);
    assert_eq!(s.stats().await.unwrap().blobs, before.blobs);
    let e = s.push("nope", "app", &v, &[]).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound(_)), "{e}");
    assert_eq!(
        s.projects()
            .await
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
}

fn deployment(dir: &str, target: &str, status: DeployStatus) -> NewDeployment {
    NewDeployment {
        dir: dir.into(),
        target: target.into(),
        tag: Some("v1".into()),
        version: Some("ab".repeat(32)),
        from_version: "".into(),
        to_version: "003".into(),
        status,
        error: (status == DeployStatus::Failed).then(|| "boom".into()),
        files: vec![strata_registry::model::DeployedFile::new(
            "001_step.sql",
            2,
            None,
        )],
        statements: 2,
        duration_ms: 12,
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:00:01Z".into(),
    }
}

async fn deployments_are_recorded_and_filtered(s: Arc<dyn Store>) {
    s.ensure_project("app").await.unwrap();
    s.ensure_project("other").await.unwrap();
    let a = s
        .add_deployment(
            "app",
            &deployment("app", "postgres://u:xxxxx@db/a", DeployStatus::Succeeded),
        )
        .await
        .unwrap();
    s.add_deployment(
        "app",
        &deployment("app", "postgres://db/b", DeployStatus::Failed),
    )
    .await
    .unwrap();
    s.add_deployment(
        "app",
        &deployment("web", "postgres://db/b", DeployStatus::Noop),
    )
    .await
    .unwrap();
    s.add_deployment(
        "other",
        &deployment("app", "postgres://db/a", DeployStatus::Noop),
    )
    .await
    .unwrap();
    let all = s
        .deployments("app", &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[0].id > all[1].id, "newest first");
    assert_eq!(all[2], a);
    assert_eq!(all[1].report.error.as_deref(), Some("boom"));
    assert_eq!(all[2].report.files[0].statements, 2);
    let f = DeploymentFilter {
        target: Some("postgres://db/b".into()),
        ..Default::default()
    };
    assert_eq!(s.deployments("app", &f).await.unwrap().len(), 2);
    let f = DeploymentFilter {
        dir: Some("app".into()),
        limit: Some(1),
        ..Default::default()
    };
    let one = s.deployments("app", &f).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].report.status, DeployStatus::Failed);
}

async fn tokens_hash_verify_revoke(s: Arc<dyn Store>) {
    let scopes: Scopes = "read,push".parse().unwrap();
    let (info, token) = auth::create_token(s.as_ref(), "app", "ci", scopes)
        .await
        .unwrap();
    assert!(token.starts_with(&format!("strata_{}_", info.id)));
    let p = auth::verify(s.as_ref(), &token).await.unwrap();
    assert_eq!((p.project.as_str(), p.scopes), ("app", scopes));
    // Only the hash is stored.
    let stored = s.token(&info.id).await.unwrap().unwrap();
    assert_ne!(stored.hash, token);
    assert!(!stored.hash.contains(&token[20..]));
    // A wrong secret with a right id, garbage and an unknown id are refused alike.
    let mut wrong = token.clone();
    wrong.pop();
    wrong.push(if token.ends_with('A') { 'B' } else { 'A' });
    for bad in [
        wrong.as_str(),
        "garbage",
        "strata_",
        "strata_zzzzzzzzzzzz_x",
    ] {
        let e = auth::verify(s.as_ref(), bad).await.unwrap_err();
        assert!(matches!(e, RegistryError::Unauthorized(_)), "{bad}: {e}");
    }
    let listed = s.tokens("app").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(s.revoke_token("app", &info.id).await.unwrap());
    assert!(
        !s.revoke_token("app", &info.id).await.unwrap(),
        "already revoked"
    );
    assert!(auth::verify(s.as_ref(), &token).await.is_err());
    assert!(s.tokens("app").await.unwrap()[0].revoked_at.is_some());
    // Revoking through another project does nothing.
    let (info2, _) = auth::create_token(s.as_ref(), "app", "x", scopes)
        .await
        .unwrap();
    s.ensure_project("evil").await.unwrap();
    assert!(!s.revoke_token("evil", &info2.id).await.unwrap());
}

/// Web UI sessions: stored by hash only, refused once expired, ended or their token revoked, purged when
/// expired or revoked (and only then), and granting `read` whatever the token's scopes.
async fn sessions_expire_end_and_follow_their_token(s: Arc<dyn Store>) {
    use std::time::Duration;
    use strata_registry::model::Millis;
    let scopes: Scopes = "admin".parse().unwrap();
    let (info, token) = auth::create_token(s.as_ref(), "app", "ui", scopes)
        .await
        .unwrap();
    let p = auth::verify(s.as_ref(), &token).await.unwrap();
    let id = auth::create_session(s.as_ref(), &p, auth::SESSION_TTL)
        .await
        .unwrap();
    let got = auth::session(s.as_ref(), &id).await.unwrap();
    assert_eq!(got.project, "app");
    assert_eq!(got.token_id, info.id);
    assert_eq!(got.scopes, "read".parse().unwrap(), "a session only reads");
    // Looked up by hash: the id itself is not a key.
    let hash = strata_registry::upload::sha256_hex(id.as_bytes());
    let row = s
        .session(&hash)
        .await
        .unwrap()
        .expect("stored under its hash");
    assert!(s.session(&id).await.unwrap().is_none());
    assert_eq!(row.token.id, info.id);
    let ttl = row.expires_at.0 - row.created_at.0;
    assert_eq!(ttl, auth::SESSION_TTL.as_millis() as i64);
    // Expired: refused, then purged; a live one is kept.
    let expired = auth::create_session(s.as_ref(), &p, Duration::ZERO)
        .await
        .unwrap();
    let e = auth::session(s.as_ref(), &expired).await.unwrap_err();
    assert!(
        matches!(&e, RegistryError::Unauthorized(m) if m.contains("log in again")),
        "{e}"
    );
    assert_eq!(s.purge_sessions(Millis::now()).await.unwrap(), 1);
    let expired_hash = strata_registry::upload::sha256_hex(expired.as_bytes());
    assert!(s.session(&expired_hash).await.unwrap().is_none());
    assert!(
        s.session(&hash).await.unwrap().is_some(),
        "live session kept"
    );
    // Ended (logout): refused; ending it again, or a malformed id, does nothing.
    let other = auth::create_session(s.as_ref(), &p, auth::SESSION_TTL)
        .await
        .unwrap();
    auth::end_session(s.as_ref(), &other).await.unwrap();
    assert!(auth::session(s.as_ref(), &other).await.is_err());
    auth::end_session(s.as_ref(), &other).await.unwrap();
    auth::end_session(s.as_ref(), "not a session")
        .await
        .unwrap();
    assert!(auth::session(s.as_ref(), &id).await.is_ok());
    for bad in ["", "x", token.as_str(), &id[1..], &format!("{id}=")] {
        assert!(auth::session(s.as_ref(), bad).await.is_err(), "{bad:?}");
    }
    // The token revoked: its sessions are refused at once and purged.
    assert!(s.revoke_token("app", &info.id).await.unwrap());
    assert!(auth::session(s.as_ref(), &id).await.is_err());
    assert_eq!(s.purge_sessions(Millis::now()).await.unwrap(), 1);
    assert!(s.session(&hash).await.unwrap().is_none());
}

async fn concurrent_pushes_leave_one_consistent_tag(s: Arc<dyn Store>) {
    s.ensure_project("app").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            // Half the clients push the same content, half different content, all to the same tag.
            let v = version(1 + i % 5);
            s.push("app", "app", &v, &["prod".into()])
                .await
                .map(|o| o.version.id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().expect("every push succeeds"));
    }
    let versions = s.versions("app", "app").await.unwrap();
    assert_eq!(versions.len(), 5, "identical pushes made one version each");
    let prod = s
        .content("app", "app", &Ref::Tag("prod".into()))
        .await
        .unwrap()
        .unwrap();
    assert!(ids.contains(&prod.info.id));
    // The tagged version is complete: as many files as it claims, and atlas.sum verifies.
    assert_eq!(prod.files.len() as i64, prod.info.files);
    let again = strata_registry::upload::finish(
        prod.files
            .iter()
            .cloned()
            .chain([("atlas.sum".to_string(), prod.sum.clone())])
            .collect(),
    )
    .unwrap();
    assert_eq!(again.digest, prod.info.id);
}

/// `--db` pointing at a PostgreSQL server that is not there used to wait 30 s and then say only "pool timed
/// out"; opening the store now fails at once with the connection's own error, and without the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_fails_fast_with_the_connection_error() {
    // Nothing listens on port 1 of the loopback: the connection is refused at once.
    let url = "postgres://registry:hunter2@127.0.0.1:1/registry";
    let start = std::time::Instant::now();
    let err = match strata_registry::open_store(url).await {
        Ok(_) => panic!("opened a store on a closed port"),
        Err(e) => e.to_string(),
    };
    let took = start.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "took {took:?} to fail: {err}"
    );
    assert!(err.contains("cannot connect to"), "{err}");
    assert!(err.contains("127.0.0.1:1"), "names the server: {err}");
    assert!(
        err.to_lowercase().contains("refused"),
        "gives the connection's error: {err}"
    );
    assert!(!err.contains("pool timed out"), "{err}");
    assert!(!err.contains("hunter2"), "leaks the password: {err}");
}
