//! The reconcile function against real SQLite and PostgreSQL targets (operator-spec §9.1): first apply, new files,
//! checksum mismatch, missing Secret / key, database down then up, baseline on a non-empty database.

use std::time::Duration;

use strata_driver::testing;
use strata_operator::Requeue;
use strata_operator::crd::Dir;
use strata_operator::resolve::StaticObjects;

use crate::common::harness::{Harness, events, has_table, ready, targets};
use crate::common::objects::{F1, F2, F3, NS, local, local_migration as migration};

#[tokio::test]
async fn first_apply_then_new_files_flip_ready_then_apply() {
    for (schema, db) in targets().await {
        let h = Harness::local(&db.url);
        let mut obj = migration(&[F1, F2]);

        let outs = h.settle(&mut obj).await;
        assert_eq!(outs.len(), 2, "first pass writes Reconciling, then applies");
        assert_eq!(
            ready(&outs[0]),
            ("False".into(), "Reconciling".into(), "Reconciling".into())
        );
        assert_eq!(outs[0].requeue, Requeue::Now);
        let done = &outs[1];
        assert_eq!(ready(done), ("True".into(), "Applied".into(), "".into()));
        assert_eq!(events(done), ["Normal Applied Version 2 applied"]);
        let st = &done.status;
        assert_eq!(st.last_applied_version, "2");
        assert_eq!(st.failed, 0);
        assert_eq!(st.observed_generation, 1);
        assert!(st.last_applied > 1_600_000_000, "{}", st.last_applied);
        assert_eq!(st.observed_hash.len(), 64);
        assert!(st.conditions.iter().all(|c| c.observed_generation == 1));
        assert_eq!(done.applied_files, 2);
        assert!(has_table(&db.url, schema, "posts").await);

        // A reconcile without changes re-checks the database and stays Ready, silently.
        let again = h.step(&mut obj).await;
        assert_eq!(ready(&again).0, "True");
        assert!(again.events.is_empty());
        assert_eq!(again.status.last_applied_version, "2");
        assert_eq!(again.status.observed_hash, st.observed_hash);

        // New files: Ready goes False (Reconciling, data changed) before the database is touched, then True.
        obj.spec.dir.local = Some(local(&[F1, F2, F3]));
        obj.metadata.generation = Some(2);
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
        assert_eq!(flip.status.condition("Reconciling").unwrap().status, "True");
        assert!(!has_table(&db.url, schema, "comments").await);
        let done = h.step(&mut obj).await;
        assert_eq!(ready(&done).0, "True");
        assert_eq!(done.status.last_applied_version, "3");
        assert_eq!(done.status.observed_generation, 2);
        assert_eq!(events(&done), ["Normal Applied Version 3 applied"]);
        assert!(has_table(&db.url, schema, "comments").await);
    }
}

#[tokio::test]
async fn checksum_mismatch_is_a_clear_failure_and_leaves_the_database_untouched() {
    for (schema, db) in targets().await {
        let h = Harness::local(&db.url);
        let mut obj = migration(&[F1]);
        h.settle(&mut obj).await;
        assert!(obj.status.as_ref().unwrap().is_ready());

        // Add a file but keep the old atlas.sum.
        let mut files = local(&[F1, F2]);
        files.insert("atlas.sum".into(), local(&[F1])["atlas.sum"].clone());
        obj.spec.dir.local = Some(files);
        let outs = h.settle(&mut obj).await;
        let last = outs.last().unwrap();
        let (status, reason, message) = ready(last);
        assert_eq!((status.as_str(), reason.as_str()), ("False", "Migrating"));
        assert!(message.starts_with("checksum mismatch"), "{message}");
        assert!(message.contains("2_posts.sql"), "names the file: {message}");
        assert_eq!(last.status.failed, 1);
        assert_eq!(last.status.condition("Stalled").unwrap().status, "True");
        assert_eq!(last.requeue, Requeue::After(Duration::from_secs(5)));
        assert_eq!(events(last), [format!("Warning Error {message}")]);
        assert!(!has_table(&db.url, schema, "posts").await);

        // The next failure doubles the delay and counts on.
        let next = h.step(&mut obj).await;
        assert_eq!(next.status.failed, 2);
        assert_eq!(next.requeue, Requeue::After(Duration::from_secs(10)));
    }
}

#[tokio::test]
async fn missing_secret_or_key_is_a_clear_reason() {
    let db = testing::sqlite();
    let mut h = Harness::local(&db.url);
    h.objects.secrets.clear();
    let mut obj = migration(&[F1]);
    let last = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(
        ready(&last),
        (
            "False".into(),
            "ReadingMigrationData".into(),
            "secrets \"db\" not found".into()
        )
    );
    assert_eq!(
        events(&last),
        ["Warning TransientErr secrets \"db\" not found"]
    );

    h.objects = StaticObjects::default().with_secret(NS, "db", &[("uri", &db.url)]);
    let last = h.step(&mut obj).await;
    assert_eq!(
        ready(&last).2,
        "secret apps/db does not contain key \"url\""
    );
    assert_eq!(last.status.failed, 2);

    // Once the Secret is right, it recovers.
    h.objects = StaticObjects::default().with_secret(NS, "db", &[("url", &db.url)]);
    let last = h.step(&mut obj).await;
    assert_eq!(ready(&last).0, "True");
    assert_eq!(last.status.failed, 0);
}

#[tokio::test]
async fn backoff_limit_stops_retries() {
    let db = testing::sqlite();
    let mut h = Harness::local(&db.url);
    h.objects.secrets.clear();
    let mut obj = migration(&[F1]);
    obj.spec.backoff_limit = Some(2);
    let outs = h.settle(&mut obj).await;
    assert_eq!(outs.last().unwrap().status.failed, 1);
    let o = h.step(&mut obj).await;
    assert_eq!(o.status.failed, 2);
    assert!(matches!(o.requeue, Requeue::After(_)));
    let o = h.step(&mut obj).await;
    assert_eq!(o.status.failed, 3);
    assert_eq!(o.requeue, Requeue::Never);
    assert_eq!(
        events(&o).last().unwrap(),
        "Warning BackoffLimitExceeded backoff limit exceeded"
    );

    // 0 = retry forever.
    obj.spec.backoff_limit = Some(0);
    let o = h.step(&mut obj).await;
    assert_eq!(o.status.failed, 4);
    assert_eq!(o.requeue, Requeue::After(Duration::from_secs(40)));
}

#[tokio::test]
async fn sqlite_database_down_then_up_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not-yet");
    let url = format!("sqlite://{}/app.db", dir.display());
    let h = Harness::local(&url);
    let mut obj = migration(&[F1]);
    let last = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(ready(&last).1, "Migrating");
    assert_eq!(events(&last)[0].split(' ').nth(1), Some("TransientErr"));
    assert!(matches!(last.requeue, Requeue::After(_)));

    std::fs::create_dir_all(&dir).unwrap();
    let o = h.step(&mut obj).await;
    assert_eq!(ready(&o).0, "True", "{:?}", ready(&o));
    assert_eq!(o.status.last_applied_version, "1");
}

/// A loopback TCP forwarder that can be stopped and started on the same port: "the database is down" without
/// touching the server.
struct Proxy {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn reserve() -> Self {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        Self { port, task: None }
    }

    async fn start(&mut self, upstream: &'static str) {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut s) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut c, &mut s).await;
                    }
                });
            }
        }));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

#[tokio::test]
async fn postgres_down_then_up_recovers_and_never_leaks_the_password() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let mut proxy = Proxy::reserve().await;
    // Same database through the proxy port, with a password (trust auth ignores it).
    let url = format!(
        "postgres://postgres:s3cr3t-pw@127.0.0.1:{}/{}?sslmode=disable",
        proxy.port, db.name
    );
    let h = Harness::local(&url);
    let mut obj = migration(&[F1, F2]);
    let down = h.settle(&mut obj).await.pop().unwrap();
    let (status, reason, message) = ready(&down);
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Migrating"));
    assert!(message.contains("connect"), "{message}");
    let everything = format!("{:?} {:?}", down.status, down.events);
    assert!(
        !everything.contains("s3cr3t-pw"),
        "password leaked: {everything}"
    );
    assert_eq!(events(&down)[0].split(' ').nth(1), Some("TransientErr"));
    let again = h.step(&mut obj).await;
    assert_eq!(again.status.failed, 2);

    proxy.start("127.0.0.1:5432").await;
    let up = h.step(&mut obj).await;
    assert_eq!(ready(&up), ("True".into(), "Applied".into(), "".into()));
    assert_eq!(up.status.failed, 0);
    assert_eq!(up.status.last_applied_version, "2");
    assert!(has_table(&db.url, "public", "posts").await);
}

#[tokio::test]
async fn baseline_on_a_non_empty_database_works_in_status_and_apply() {
    for (schema, db) in targets().await {
        // The database already has what 1 and 2 create, and no revisions table.
        let mut drv = strata_driver::connect(&db.url.parse::<strata_driver::DbUrl>().unwrap())
            .await
            .unwrap();
        drv.execute("CREATE TABLE users (id int PRIMARY KEY)")
            .await
            .unwrap();
        drv.execute("CREATE TABLE posts (id int PRIMARY KEY)")
            .await
            .unwrap();
        drv.close().await.unwrap();

        let h = Harness::local(&db.url);
        // Without a baseline the non-empty database is refused.
        let mut plain = migration(&[F1, F2, F3]);
        let refused = h.settle(&mut plain).await.pop().unwrap();
        assert_eq!(ready(&refused).1, "Migrating");
        assert!(!has_table(&db.url, schema, "comments").await);

        let mut obj = migration(&[F1, F2, F3]);
        obj.spec.baseline = Some("2".into());
        let done = h.settle(&mut obj).await.pop().unwrap();
        assert_eq!(ready(&done), ("True".into(), "Applied".into(), "".into()));
        assert_eq!(done.status.last_applied_version, "3");
        assert_eq!(done.applied_files, 1);
        assert!(has_table(&db.url, schema, "comments").await);

        // Status with the baseline: nothing pending, stays Ready.
        let again = h.step(&mut obj).await;
        assert_eq!(ready(&again).0, "True");
        assert!(again.events.is_empty());
    }
}

#[tokio::test]
async fn baseline_only_is_ready_without_apply_events() {
    let db = testing::sqlite();
    let mut drv = strata_driver::connect(&db.url.parse::<strata_driver::DbUrl>().unwrap())
        .await
        .unwrap();
    drv.execute("CREATE TABLE users (id int PRIMARY KEY)")
        .await
        .unwrap();
    drv.close().await.unwrap();
    let h = Harness::local(&db.url);
    let mut obj = migration(&[F1]);
    obj.spec.baseline = Some("1".into());
    let done = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(ready(&done).0, "True");
    assert_eq!(done.status.last_applied_version, "1");
    assert!(done.events.is_empty(), "no file ran: {:?}", done.events);
    assert!(has_table(&db.url, "main", "atlas_schema_revisions").await);
    let again = h.step(&mut obj).await;
    assert_eq!(again.status.last_applied_version, "1");
    assert!(again.status.last_applied > 0);
}

#[tokio::test]
async fn revisions_schema_is_honoured() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let h = Harness::local(&db.url);
    let mut obj = migration(&[F1]);
    obj.spec.revisions_schema = Some("strata_revs".into());
    let done = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(ready(&done).0, "True", "{:?}", ready(&done));
    assert!(has_table(&db.url, "strata_revs", "atlas_schema_revisions").await);
    // Status reads the same table: ready, nothing applied again.
    let again = h.step(&mut obj).await;
    assert_eq!(ready(&again).0, "True");
    assert!(again.events.is_empty());
}

#[tokio::test]
async fn fewer_files_than_revisions_is_the_protected_down_flow() {
    let db = testing::sqlite();
    let h = Harness::local(&db.url);
    let mut obj = migration(&[F1, F2]);
    h.settle(&mut obj).await;
    obj.spec.dir.local = Some(local(&[F1]));
    let last = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(
        ready(&last),
        (
            "False".into(),
            "ProtectedFlowError".into(),
            "migrate down is not allowed, set `migrateDown.allow` to true to allow downgrade"
                .into()
        )
    );
    assert!(has_table(&db.url, "main", "posts").await);
}

#[tokio::test]
async fn exec_order_non_linear_applies_an_older_file() {
    let db = testing::sqlite();
    let h = Harness::local(&db.url);
    let mut obj = migration(&[F1, F3]);
    h.settle(&mut obj).await;
    obj.spec.dir.local = Some(local(&[F1, F2, F3]));
    let linear = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(
        ready(&linear).1,
        "Migrating",
        "linear refuses an out-of-order file"
    );
    assert!(!has_table(&db.url, "main", "posts").await);
    obj.spec.exec_order = Some(strata_operator::crd::ExecOrder::NonLinear);
    let done = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(ready(&done).0, "True", "{:?}", ready(&done));
    assert!(has_table(&db.url, "main", "posts").await);
}

#[tokio::test]
async fn config_map_directory_is_read() {
    let db = testing::sqlite();
    let mut h = Harness::local(&db.url);
    let files = local(&[F1, F2]);
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    h.objects = h.objects.clone().with_config_map(NS, "migrations", &pairs);
    let mut obj = migration(&[]);
    obj.spec.dir = Dir {
        config_map_ref: Some(strata_operator::crd::LocalObjectReference {
            name: "migrations".into(),
        }),
        ..Dir::default()
    };
    let done = h.settle(&mut obj).await.pop().unwrap();
    assert_eq!(ready(&done).0, "True", "{:?}", ready(&done));
    assert_eq!(done.status.last_applied_version, "2");

    // The same files inline give the same hash (the directory sum, not the source, is hashed).
    let mut inline = migration(&[F1, F2]);
    let inline_done = h.settle(&mut inline).await.pop().unwrap();
    assert_eq!(inline_done.status.observed_hash, done.status.observed_hash);
}

fn lock_dirs(h: &Harness) -> Vec<String> {
    std::fs::read_dir(h.lock_root.path())
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn sqlite_lock_directories_are_not_left_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/shared.db", tmp.path().display());
    let h = Harness::local(&url);
    // Two resources on one database, reconciled at once (serialised by the in-process lock), and a failing one.
    let mut a = migration(&[F1, F2]);
    let mut b = migration(&[F1, F2]);
    b.metadata.name = Some("other".into());
    let (ra, rb) = tokio::join!(h.settle(&mut a), h.settle(&mut b));
    assert_eq!(ready(ra.last().unwrap()).0, "True");
    assert_eq!(ready(rb.last().unwrap()).0, "True");
    assert_eq!(
        lock_dirs(&h),
        Vec::<String>::new(),
        "nothing left after success"
    );

    let mut bad = migration(&[F1, F2, F3]);
    let mut files = local(&[F1, F2, F3]);
    files.insert("atlas.sum".into(), local(&[F1, F2])["atlas.sum"].clone());
    bad.spec.dir.local = Some(files);
    let out = h.settle(&mut bad).await.pop().unwrap();
    assert_eq!(ready(&out).1, "Migrating");
    assert_eq!(
        lock_dirs(&h),
        Vec::<String>::new(),
        "nothing left after a failure"
    );

    // A file that is not ours (another process's lock) keeps its directory.
    let key =
        strata_operator::reconcile::database_key(&url.parse::<strata_driver::DbUrl>().unwrap());
    let dir = h.lock_root.path().join(&key);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("foreign.lock"), "").unwrap();
    let mut c = migration(&[F1, F2]);
    c.metadata.name = Some("third".into());
    h.settle(&mut c).await;
    assert_eq!(lock_dirs(&h), [key]);
}
