use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::connect;
use strata_driver::sqlite::SqliteDriver;
use strata_driver::testing::{sqlite as sqlite_db, unique_name};
use strata_driver::{Driver, DriverError, RevisionsLocation, url};

use crate::common::{defer_file, deferring_session, revision};

fn file_rows(path: &str, sql: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut c)
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                r.try_get::<Option<String>, _>(0)
                    .unwrap()
                    .unwrap_or_else(|| "<NULL>".into())
            })
            .collect()
    })
}

async fn rows(path: &str, sql: &str) -> Vec<String> {
    let (p, s) = (path.to_string(), sql.to_string());
    tokio::task::spawn_blocking(move || file_rows(&p, &s))
        .await
        .unwrap()
}

#[tokio::test]
async fn revisions_table_ddl_matches_atlas() {
    let db = sqlite_db();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    assert_eq!(loc, RevisionsLocation::new("main"));
    assert_eq!(d.revisions_location(Some("main")).await.unwrap(), loc);
    let err = d.revisions_location(Some("other")).await.unwrap_err();
    assert!(
        matches!(err, DriverError::SqliteRevisionsSchema { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("\"main\""), "{err}");
    d.ensure_revisions_table(&loc).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let cols = rows(
        &db.name,
        "SELECT name || ' ' || lower(type) || ' ' || \"notnull\" || ' ' || COALESCE(dflt_value, '-') || ' ' || pk \
         FROM pragma_table_info('atlas_schema_revisions') ORDER BY cid",
    )
    .await;
    assert_eq!(
        cols,
        [
            "version text 1 - 1",
            "description text 1 - 0",
            "type integer 1 2 0",
            "applied integer 1 0 0",
            "total integer 1 0 0",
            "executed_at datetime 1 - 0",
            "execution_time integer 1 - 0",
            "error text 0 - 0",
            "error_stmt text 0 - 0",
            "hash text 1 - 0",
            "partial_hashes json 0 - 0",
            "operator_version text 1 - 0",
        ]
    );
}

#[tokio::test]
async fn round_trip_and_atlas_rows() {
    let db = sqlite_db();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let mut r = revision("20240116000002");
    r.executed_at_unix_nanos = 1_705_400_430_123_456_789; // nanoseconds survive on SQLite
    d.upsert_revision(&loc, &r).await.unwrap();
    assert_eq!(d.read_revisions(&loc).await.unwrap(), vec![r.clone()]);
    let stored = rows(
        &db.name,
        "SELECT executed_at || ' ' || typeof(partial_hashes) || ' ' || CAST(partial_hashes AS TEXT) FROM atlas_schema_revisions",
    )
    .await;
    assert_eq!(
        stored,
        [
            "2024-01-16 10:20:30.123456789+00:00 blob [\"h1:FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc=\"]"
        ],
        "the text and blob mattn/go-sqlite3 stores for Atlas"
    );
    let mut upd = r.clone();
    upd.description = "x".into();
    upd.executed_at_unix_nanos = 0;
    upd.partial_hashes = None;
    upd.applied = 3;
    d.upsert_revision(&loc, &upd).await.unwrap();
    let got = d.read_revision(&loc, &r.version).await.unwrap().unwrap();
    assert_eq!(
        (got.description.as_str(), got.executed_at_unix_nanos),
        (r.description.as_str(), r.executed_at_unix_nanos)
    );
    assert_eq!((got.applied, got.partial_hashes), (3, None));

    // Rows as Atlas writes them through mattn/go-sqlite3 (local offsets, blobs, NULLs, the cloud row).
    d.execute(
        "INSERT INTO atlas_schema_revisions (version, description, type, applied, total, executed_at, execution_time, \
         error, error_stmt, hash, partial_hashes, operator_version) VALUES \
         ('20220318104614', 'initial', 2, 1, 1, '2022-03-18 12:46:14.5+02:00', 9, '', '', 'hA', CAST('null' AS BLOB), 'Atlas CLI v0.12.0'), \
         ('20220318104615', 'second', 2, 1, 2, '2022-03-18 10:46:15', 10, 'table t already exists', 'CREATE TABLE t (c int);', 'hB', CAST('[\"h1:q\"]' AS BLOB), 'Atlas CLI v0.12.0'), \
         ('.atlas_cloud_identifier', 'uuid', 2, 0, 0, '2022-03-18 10:46:15.1+00:00', 0, NULL, NULL, '', NULL, 'Atlas CLI v0.12.0')",
    )
    .await
    .unwrap();
    let revs = d.read_revisions(&loc).await.unwrap();
    let versions: Vec<&str> = revs.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(
        versions,
        ["20220318104614", "20220318104615", "20240116000002"]
    );
    assert_eq!(revs[0].executed_at_unix_nanos, 1_647_600_374_500_000_000);
    assert_eq!(revs[0].partial_hashes, None);
    assert_eq!(revs[1].executed_at_unix_nanos, 1_647_600_375_000_000_000);
    assert_eq!(revs[1].partial_hashes, Some(vec!["h1:q".to_string()]));
    assert_eq!(revs[1].error, "table t already exists");
    assert!(matches!(
        d.delete_revision(&loc, ".atlas_cloud_identifier").await,
        Err(DriverError::CloudIdentifier(_))
    ));
}

#[tokio::test]
async fn clean_check() {
    let db = sqlite_db();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    assert_eq!(d.check_clean(&loc).await.unwrap(), None);
    d.ensure_revisions_table(&loc).await.unwrap();
    assert_eq!(d.check_clean(&loc).await.unwrap(), None);
    d.execute("CREATE TABLE t (id int)").await.unwrap();
    assert_eq!(
        d.check_clean(&loc).await.unwrap().as_deref(),
        Some("found multiple tables: 2")
    );
    d.execute("DROP TABLE atlas_schema_revisions")
        .await
        .unwrap();
    assert_eq!(
        d.check_clean(&loc).await.unwrap().as_deref(),
        Some("found table \"t\"")
    );
}

#[tokio::test]
async fn transactions_roll_back_and_check_foreign_keys() {
    let db = sqlite_db();
    let mut d = connect(&format!("{}?_fk=1", db.url)).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.begin().await.unwrap();
    d.execute("CREATE TABLE t1 (id int)").await.unwrap();
    d.upsert_revision(&loc, &revision("1")).await.unwrap();
    d.rollback().await.unwrap();
    assert!(!d.table_exists("main", "t1").await.unwrap());
    assert!(d.read_revisions(&loc).await.unwrap().is_empty());

    d.execute(
        "CREATE TABLE p (id integer PRIMARY KEY); CREATE TABLE c (pid integer REFERENCES p(id))",
    )
    .await
    .unwrap();
    // Foreign keys are off inside the transaction (Atlas's table-copy recipes rely on it) …
    d.begin().await.unwrap();
    d.execute("INSERT INTO c VALUES (42)").await.unwrap();
    // … and checked before commit.
    let err = d.commit().await.unwrap_err();
    assert!(
        matches!(err, DriverError::ForeignKeyViolation { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("sql/sqlite: foreign key mismatch"),
        "{err}"
    );
    assert_eq!(
        rows(&db.name, "SELECT CAST(COUNT(*) AS TEXT) FROM c").await,
        ["0"]
    );
    // Back on after the transaction.
    let err = d.execute("INSERT INTO c VALUES (43)").await.unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");

    d.begin().await.unwrap();
    d.execute("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1)")
        .await
        .unwrap();
    d.commit().await.unwrap();
    assert_eq!(
        rows(&db.name, "SELECT CAST(COUNT(*) AS TEXT) FROM c").await,
        ["1"]
    );
}

#[tokio::test]
async fn ddl_limits_and_memory_databases() {
    let db = sqlite_db();
    let mut d = connect(&db.url).await.unwrap();
    let err = d
        .set_ddl_limits(Some(Duration::from_secs(1)), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not supported on SQLite"), "{err}");
    d.set_ddl_limits(None, Some(Duration::from_millis(1234)))
        .await
        .unwrap();

    let mut m = connect("sqlite://strata_mem?mode=memory").await.unwrap();
    m.execute("CREATE TABLE t (id int)").await.unwrap();
    assert!(m.table_exists("main", "t").await.unwrap());
    let mut other = connect("sqlite://strata_mem?mode=memory").await.unwrap();
    assert!(
        !other.table_exists("main", "t").await.unwrap(),
        "private in-memory database"
    );
}

async fn sqlite_driver(url_: &str, lock_dir: &std::path::Path) -> SqliteDriver {
    SqliteDriver::connect(url::parse(url_).unwrap())
        .await
        .unwrap()
        .with_lock_dir(lock_dir)
}

#[tokio::test]
async fn lock_file_between_handles_and_with_atlas() {
    let db = sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("atlas_migrate_execute");
    let mut a = sqlite_driver(&db.url, dir.path()).await;
    let mut b = sqlite_driver(&db.url, dir.path()).await;
    let path = a.lock_path(&name);
    assert_eq!(path.parent(), Some(dir.path()));
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        file.starts_with(&format!("{name}-")) && file.ends_with(".lock"),
        "{file}"
    );
    a.lock(&name, Duration::from_secs(10)).await.unwrap();
    assert!(path.exists());
    assert!(
        !a.atlas_lock_path(&name).exists(),
        "Atlas's host-wide file is not taken"
    );

    let start = Instant::now();
    let err = b.lock(&name, Duration::from_millis(300)).await.unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    let msg = err.to_string();
    assert!(
        msg.starts_with("sql/schema: lock is held by other session"),
        "{msg}"
    );
    assert!(
        msg.contains("already taken") && msg.contains("Strata process"),
        "{msg}"
    );
    a.unlock(&name).await.unwrap();
    assert!(!path.exists(), "removed on unlock");
    b.lock(&name, Duration::ZERO).await.unwrap();
    b.unlock(&name).await.unwrap();

    // A lock file written by Atlas (host-wide, no OS lock) is respected until it expires.
    let atlas = b.atlas_lock_path(&name);
    assert_eq!(atlas, dir.path().join(format!("{name}.lock")));
    let future = time::OffsetDateTime::now_utc().unix_timestamp_nanos() + 600_000_000_000;
    std::fs::write(&atlas, future.to_string()).unwrap();
    let err = b.lock(&name, Duration::from_millis(100)).await.unwrap_err();
    assert!(err.to_string().contains("Atlas holds it"), "{err}");
    assert!(!path.exists(), "not held while waiting for Atlas");
    let past = time::OffsetDateTime::now_utc().unix_timestamp_nanos() - 1;
    std::fs::write(&atlas, past.to_string()).unwrap();
    b.lock(&name, Duration::ZERO).await.unwrap();
    Box::new(b).close().await.unwrap();
    assert!(!path.exists(), "close releases held locks");
}

#[tokio::test]
async fn lock_is_per_database_file() {
    let (one, two) = (sqlite_db(), sqlite_db());
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("atlas_migrate_execute");
    let mut a = sqlite_driver(&one.url, dir.path()).await;
    let mut b = sqlite_driver(&two.url, dir.path()).await;
    assert_ne!(a.lock_path(&name), b.lock_path(&name));
    a.lock(&name, Duration::ZERO).await.unwrap();
    b.lock(&name, Duration::ZERO)
        .await
        .expect("another database's lock is free");

    // The same file under another spelling (a symbolic link to its directory, `..`) shares the lock.
    #[cfg(unix)]
    {
        let file = std::path::Path::new(&one.name);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(file.parent().unwrap(), &link).unwrap();
        let other = format!(
            "sqlite://{}/x/../{}",
            link.display(),
            file.file_name().unwrap().to_string_lossy()
        );
        let mut c = sqlite_driver(&other, dir.path()).await;
        assert_eq!(c.lock_path(&name), a.lock_path(&name));
        let err = c.lock(&name, Duration::ZERO).await.unwrap_err();
        assert!(err.to_string().contains("Strata process"), "{err}");
    }
    a.unlock(&name).await.unwrap();
    b.unlock(&name).await.unwrap();
}

/// Not a test on its own: run by `lock_survives_kill_9` in a child process to hold a lock and wait to be killed.
#[tokio::test]
async fn lock_holder_child() {
    let (Ok(dir), Ok(name), Ok(db)) = (
        std::env::var("STRATA_LOCK_CHILD_DIR"),
        std::env::var("STRATA_LOCK_CHILD_NAME"),
        std::env::var("STRATA_LOCK_CHILD_DB"),
    ) else {
        return;
    };
    let mut d = sqlite_driver(&db, std::path::Path::new(&dir)).await;
    d.lock(&name, Duration::from_secs(60)).await.unwrap();
    std::fs::write(std::path::Path::new(&dir).join("child-ready"), "1").unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test]
async fn lock_survives_kill_9() {
    let db = sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("atlas_migrate_execute");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sqlite::lock_holder_child", "--test-threads=1"])
        .env("STRATA_LOCK_CHILD_DIR", dir.path())
        .env("STRATA_LOCK_CHILD_NAME", &name)
        .env("STRATA_LOCK_CHILD_DB", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = dir.path().join("child-ready");
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "child never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut d = sqlite_driver(&db.url, dir.path()).await;
    let err = d.lock(&name, Duration::from_millis(200)).await.unwrap_err();
    assert!(
        err.to_string().contains("Strata process"),
        "another process holds it: {err}"
    );
    child.kill().unwrap(); // SIGKILL: no cleanup runs in the child
    child.wait().unwrap();
    assert!(
        d.lock_path(&name).exists(),
        "the killed holder left its file behind"
    );
    // The file's expiry is a minute away, but its OS lock died with the process: it is stale.
    d.lock(&name, Duration::from_millis(500)).await.unwrap();
    d.unlock(&name).await.unwrap();
}

#[tokio::test]
async fn connect_with_lock_dir() {
    let db = sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let opts = strata_driver::ConnectOptions::default().sqlite_lock_dir(dir.path());
    let mut d = strata_driver::connect_with(&db.url.parse().unwrap(), &opts)
        .await
        .unwrap();
    let path = strata_driver::sqlite::lock_file_for(
        dir.path(),
        "atlas_migrate_execute",
        &db.url.parse().unwrap(),
    );
    d.lock("atlas_migrate_execute", Duration::ZERO)
        .await
        .unwrap();
    assert!(path.exists());
    d.unlock("atlas_migrate_execute").await.unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn a_nul_byte_is_refused_rather_than_spun_on() {
    // SQLite stops reading SQL at a NUL byte (with sqlx, the loop over a text's statements then never got past it
    // and `execute` spun forever). Every text with a NUL byte is refused before it reaches SQLite.
    let db = sqlite_db();
    let mut d = connect(&db.url).await.unwrap();
    async fn refused(d: &mut Box<dyn Driver>, sql: &str) {
        let run = tokio::time::timeout(Duration::from_secs(20), d.execute(sql))
            .await
            .unwrap_or_else(|_| panic!("execute hung on {sql:?}"));
        let e = run.expect_err(sql);
        assert!(
            matches!(e, DriverError::Sql { .. }) && e.to_string().contains("NUL byte"),
            "{sql:?}: {e}"
        );
    }
    for sql in [
        "CREATE TABLE b (id int);\n\0",
        "\0",
        "SELECT 1\0; CREATE TABLE c (id int)",
        "CREATE TABLE d (x text DEFAULT '\0')",
    ] {
        refused(&mut d, sql).await;
    }
    for t in ["b", "c", "d"] {
        assert!(!d.table_exists("main", t).await.unwrap(), "{t} was created");
    }
    // Inside a transaction too; the session stays usable.
    d.begin().await.unwrap();
    refused(&mut d, "INSERT INTO x VALUES ('\0')").await;
    d.rollback().await.unwrap();
    d.execute("CREATE TABLE ok (id int)").await.unwrap();
    assert!(d.table_exists("main", "ok").await.unwrap());
    // The URL's pragmas are SQL text sent on connect: `?_journal=WAL%00x` spun there with sqlx.
    for (query, field) in [
        ("_journal=WAL%00x", "_journal_mode"),
        ("_sync=%00", "_sync"),
        ("_locking=x%00", "_locking_mode"),
    ] {
        let url = format!("{}?{query}", db.url);
        let run = tokio::time::timeout(Duration::from_secs(20), connect(&url))
            .await
            .unwrap_or_else(|_| panic!("connect hung on {query}"));
        let e = run.expect_err(query);
        assert!(
            matches!(&e, DriverError::InvalidUrl { field: f, .. } if f == field)
                && e.to_string().contains("NUL byte"),
            "{query}: {e}"
        );
    }
}

/// Every column of every row, with its storage class, as SQLite holds it.
const ALL_COLUMNS: &str = "SELECT quote(version) || quote(description) || quote(type) || quote(applied) || quote(total) \
     || quote(executed_at) || quote(execution_time) || quote(error) || quote(error_stmt) || quote(hash) \
     || quote(partial_hashes) || typeof(partial_hashes) || quote(operator_version) FROM atlas_schema_revisions";

#[tokio::test]
async fn the_row_written_with_commit_is_the_bound_write_s_row() {
    let (one, two) = (sqlite_db(), sqlite_db());
    let mut a = connect(&one.url).await.unwrap();
    let mut b = connect(&two.url).await.unwrap();
    let loc = a.revisions_location(None).await.unwrap();
    a.ensure_revisions_table(&loc).await.unwrap();
    b.ensure_revisions_table(&loc).await.unwrap();
    for partial in [Some(vec!["h1:x".to_string(), "h1:'y'".to_string()]), None] {
        let mut r = revision("20240116000002");
        r.executed_at_unix_nanos = 1_705_400_430_123_456_789;
        r.error = "it's 'quoted'\nand on two lines".into();
        r.error_stmt = "INSERT INTO t VALUES ('a');".into();
        r.partial_hashes = partial;
        a.begin().await.unwrap();
        a.upsert_commit(&loc, &r, strata_driver::Durability::Durable)
            .await
            .unwrap();
        assert!(!a.in_transaction());
        b.upsert_revision(&loc, &r).await.unwrap();
        let (ra, rb) = (
            rows(&one.name, ALL_COLUMNS).await,
            rows(&two.name, ALL_COLUMNS).await,
        );
        assert_eq!(ra, rb);
        assert_eq!(a.read_revisions(&loc).await.unwrap(), vec![r.clone()]);
    }
}

#[tokio::test]
async fn begin_with_the_statement_attributes_errors_and_keeps_the_foreign_key_check() {
    let db = sqlite_db();
    let mut d = connect(&db.url).await.unwrap();
    d.execute("CREATE TABLE p (id int PRIMARY KEY)")
        .await
        .unwrap();
    d.execute("CREATE TABLE c (p int REFERENCES p (id))")
        .await
        .unwrap();
    // Foreign keys off (the URL's default): BEGIN travels with the statement; the statement's error is the inner
    // one, with the transaction open.
    let inner = d
        .begin_execute("INSERT INTO nope VALUES (1)")
        .await
        .unwrap();
    assert!(inner.unwrap_err().to_string().contains("no such table"));
    assert!(d.in_transaction());
    d.rollback().await.unwrap();
    d.begin_execute("INSERT INTO c VALUES (1)")
        .await
        .unwrap()
        .unwrap();
    d.commit().await.unwrap();
    // A statement outside a transaction turns foreign keys on: the next transaction checks them before COMMIT.
    d.execute("PRAGMA Foreign_Keys = ON").await.unwrap();
    d.begin_execute("INSERT INTO c VALUES (2)")
        .await
        .unwrap()
        .unwrap();
    let err = d.commit().await.unwrap_err();
    assert!(
        matches!(err, DriverError::ForeignKeyViolation { .. }),
        "{err}"
    );
    let fk = rows(&db.name, "SELECT CAST(count(*) AS TEXT) FROM c").await;
    assert_eq!(fk, ["1"], "the violating row was rolled back");
}

/// SQLite runs on the calling thread; on a multi-threaded runtime (the operator's, the registry's) each call goes
/// through `block_in_place`, which must work from a spawned task and from the runtime's `block_on` alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_works_on_a_multi_threaded_runtime() {
    let db = sqlite_db();
    let url = db.url.clone();
    let spawned = tokio::spawn(async move {
        let mut d = connect(&url).await.unwrap();
        let loc = d.revisions_location(None).await.unwrap();
        d.ensure_revisions_table(&loc).await.unwrap();
        d.begin().await.unwrap();
        d.execute("CREATE TABLE t (id int)").await.unwrap();
        d.upsert_commit(&loc, &revision("1"), strata_driver::Durability::Durable)
            .await
            .unwrap();
        let realm = d
            .inspector()
            .unwrap()
            .inspect(&Default::default())
            .await
            .unwrap();
        d.close().await.unwrap();
        realm
    });
    let realm = spawned.await.unwrap();
    assert_eq!(realm.schemas[0].tables[0].name, "t");
    // Directly in the runtime's block_on (the test body), too.
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    let revs = d.read_revisions(&loc).await.unwrap();
    assert_eq!(
        revs.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
        ["1"]
    );
    d.close().await.unwrap();
}

/// Tables and revision rows another connection sees: what is committed.
async fn committed(path: &str) -> (Vec<String>, Vec<String>) {
    let tables = rows(
        path,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'atlas%' ORDER BY name",
    )
    .await;
    let versions = rows(
        path,
        "SELECT version FROM atlas_schema_revisions ORDER BY version",
    )
    .await;
    (tables, versions)
}

/// A deferred file is not committed: it waits in a transaction the next files share, and the next durable commit
/// commits them all (one sync instead of one per file).
#[tokio::test]
async fn deferred_files_share_a_transaction_until_a_durable_commit() {
    use strata_driver::Durability::{Deferred, Durable};
    let db = sqlite_db();
    let (mut d, loc) = deferring_session(&db.url, "").await;
    assert!(d.defers_commits());
    defer_file(&mut *d, &loc, "1", "CREATE TABLE a (id int)").await;
    assert!(!d.in_transaction(), "the file's transaction is over");
    assert_eq!(committed(&db.name).await, (vec![], vec![]));
    d.begin_execute("CREATE TABLE b (id int)")
        .await
        .unwrap()
        .unwrap();
    d.upsert_commit(&loc, &revision("2"), Deferred)
        .await
        .unwrap();
    assert_eq!(committed(&db.name).await, (vec![], vec![]));
    d.begin().await.unwrap();
    d.execute("CREATE TABLE c (id int)").await.unwrap();
    d.upsert_commit(&loc, &revision("3"), Durable)
        .await
        .unwrap();
    assert_eq!(
        committed(&db.name).await,
        (
            vec!["a".into(), "b".into(), "c".into()],
            vec!["1".into(), "2".into(), "3".into()]
        )
    );
    assert!(d.take_rolled_back().is_empty());
}

/// A file that fails in a group rolls back to its savepoint; the files before it stay and a write outside a file's
/// transaction (the run's settle) commits them.
#[tokio::test]
async fn a_failing_file_rolls_back_alone_and_the_group_commits_after_it() {
    let db = sqlite_db();
    let (mut d, loc) = deferring_session(&db.url, "").await;
    defer_file(&mut *d, &loc, "1", "CREATE TABLE a (id int)").await;
    d.begin().await.unwrap();
    d.execute("CREATE TABLE b (id int)").await.unwrap();
    let err = d.execute("INSERT INTO nope VALUES (1)").await.unwrap_err();
    assert!(err.to_string().contains("no such table"), "{err}");
    assert!(d.in_transaction());
    d.rollback().await.unwrap();
    assert!(!d.in_transaction());
    assert_eq!(committed(&db.name).await, (vec![], vec![]));
    d.upsert_revision(&loc, &revision("1")).await.unwrap();
    assert_eq!(
        committed(&db.name).await,
        (vec!["a".into()], vec!["1".into()])
    );
    assert!(d.take_rolled_back().is_empty());
    // The session is clean: the next file gets a transaction of its own.
    d.begin_execute("CREATE TABLE c (id int)")
        .await
        .unwrap()
        .unwrap();
    d.commit().await.unwrap();
    assert_eq!(committed(&db.name).await.0, ["a", "c"]);
}

/// When SQLite rolls back the whole transaction (`INSERT OR ROLLBACK`), the deferred files go with it: the
/// driver names them, writes nothing for them afterwards, and the session starts clean.
#[tokio::test]
async fn a_whole_transaction_rollback_names_the_deferred_files_it_took() {
    let db = sqlite_db();
    let (mut d, loc) = deferring_session(
        &db.url,
        "CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1)",
    )
    .await;
    for v in ["1", "2"] {
        defer_file(&mut *d, &loc, v, &format!("CREATE TABLE t{v} (id int)")).await;
    }
    d.begin().await.unwrap();
    let err = d
        .execute("INSERT OR ROLLBACK INTO u VALUES (1)")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    assert!(!d.in_transaction(), "SQLite ended the transaction");
    assert_eq!(d.take_rolled_back(), ["1", "2"]);
    assert!(d.take_rolled_back().is_empty(), "named once");
    assert_eq!(committed(&db.name).await, (vec!["u".into()], vec![]));
    d.begin_execute("CREATE TABLE t3 (id int)")
        .await
        .unwrap()
        .unwrap();
    d.commit().await.unwrap();
    assert_eq!(committed(&db.name).await.0, ["t3", "u"]);
}

/// With foreign keys on (`_fk=1`), each file of a group is checked on its own: a violating file fails and rolls
/// back alone, and foreign keys are on again once the group commits.
#[tokio::test]
async fn foreign_keys_are_checked_per_file_inside_a_group() {
    use strata_driver::Durability::Deferred;
    let db = sqlite_db();
    let (mut d, loc) = deferring_session(&format!("{}?_fk=1", db.url), "").await;
    d.begin().await.unwrap();
    d.execute("CREATE TABLE p (id int PRIMARY KEY)")
        .await
        .unwrap();
    d.execute("CREATE TABLE c (pid int REFERENCES p (id))")
        .await
        .unwrap();
    d.execute("INSERT INTO c VALUES (1)").await.unwrap();
    d.execute("INSERT INTO p VALUES (1)").await.unwrap();
    d.upsert_commit(&loc, &revision("1"), Deferred)
        .await
        .unwrap();
    d.begin().await.unwrap();
    d.execute("INSERT INTO c VALUES (7)").await.unwrap();
    let err = d
        .upsert_commit(&loc, &revision("2"), Deferred)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DriverError::ForeignKeyViolation { .. }),
        "{err}"
    );
    assert!(!d.in_transaction());
    d.upsert_revision(&loc, &revision("1")).await.unwrap();
    assert_eq!(
        committed(&db.name).await,
        (vec!["c".into(), "p".into()], vec!["1".into()])
    );
    assert_eq!(
        rows(&db.name, "SELECT CAST(pid AS TEXT) FROM c").await,
        ["1"]
    );
    let fk = d
        .query_first_column("PRAGMA foreign_keys", &[])
        .await
        .unwrap();
    assert_eq!(fk, [Some("1".to_string())]);
}
