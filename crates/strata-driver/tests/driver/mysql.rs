use std::time::{Duration, Instant};

use crate::common::connect;
use strata_driver::testing::unique_name;
use strata_driver::{DriverError, RevisionsLocation};

use crate::common::{defer_file, deferring_session, revision, whole_seconds};
use crate::my_db;

async fn my_strings(db_url: &str, sql: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut c = sqlx::MySqlConnection::connect(db_url).await.unwrap();
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
}

#[tokio::test]
async fn revisions_table_ddl_matches_atlas() {
    let db = my_db!();
    let mut d = connect(&db.url).await.unwrap();
    assert!(!d.transactional_ddl());
    let loc = d.revisions_location(None).await.unwrap();
    assert_eq!(
        loc,
        RevisionsLocation::new(db.name.clone()),
        "bound database holds the table"
    );
    d.ensure_revisions_table(&loc).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let cols = my_strings(
        &db.url,
        &format!(
            "SELECT CAST(CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE, ' ', IS_NULLABLE, ' ', COALESCE(COLUMN_DEFAULT, '-'), \
             ' ', COALESCE(COLLATION_NAME, '-')) AS CHAR) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = '{}' \
             AND TABLE_NAME = 'atlas_schema_revisions' ORDER BY ORDINAL_POSITION",
            db.name
        ),
    )
    .await;
    let mariadb = d.server_version().to_ascii_lowercase().contains("mariadb");
    let json = if mariadb {
        "partial_hashes longtext YES NULL utf8mb4_bin"
    } else {
        "partial_hashes json YES - -"
    };
    let (long_null, no_default) = if mariadb { ("NULL", "-") } else { ("-", "-") };
    assert_eq!(
        cols,
        [
            format!("version varchar(255) NO {no_default} utf8mb4_bin"),
            format!("description varchar(255) NO {no_default} utf8mb4_bin"),
            "type bigint(20) unsigned NO 2 -"
                .replace("bigint(20)", if mariadb { "bigint(20)" } else { "bigint" }),
            "applied bigint(20) NO 0 -"
                .replace("bigint(20)", if mariadb { "bigint(20)" } else { "bigint" }),
            "total bigint(20) NO 0 -"
                .replace("bigint(20)", if mariadb { "bigint(20)" } else { "bigint" }),
            "executed_at timestamp NO - -".to_string(),
            "execution_time bigint(20) NO - -"
                .replace("bigint(20)", if mariadb { "bigint(20)" } else { "bigint" }),
            format!("error longtext YES {long_null} utf8mb4_bin"),
            format!("error_stmt longtext YES {long_null} utf8mb4_bin"),
            format!("hash varchar(255) NO {no_default} utf8mb4_bin"),
            json.to_string(),
            format!("operator_version varchar(255) NO {no_default} utf8mb4_bin"),
        ]
    );
    let opts = my_strings(
        &db.url,
        &format!(
            "SELECT CAST(TABLE_COLLATION AS CHAR) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = '{}' \
             AND TABLE_NAME = 'atlas_schema_revisions'",
            db.name
        ),
    )
    .await;
    assert_eq!(opts, ["utf8mb4_bin"]);
}

#[tokio::test]
async fn round_trip_atlas_rows_and_cloud_row() {
    let db = my_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let r = whole_seconds(revision("20240116000002"));
    d.upsert_revision(&loc, &r).await.unwrap();
    assert_eq!(d.read_revisions(&loc).await.unwrap(), vec![r.clone()]);
    let mut upd = r.clone();
    upd.description = "ignored".into();
    upd.executed_at_unix_nanos += 5_000_000_000;
    upd.applied = 3;
    upd.partial_hashes = None;
    d.upsert_revision(&loc, &upd).await.unwrap();
    let got = d.read_revision(&loc, &r.version).await.unwrap().unwrap();
    assert_eq!(got.description, r.description);
    assert_eq!(
        got.executed_at_unix_nanos, r.executed_at_unix_nanos,
        "executed_at never updated"
    );
    assert_eq!((got.applied, got.partial_hashes.clone()), (3, None));
    let raw = my_strings(
        &db.url,
        &format!(
            "SELECT CAST(partial_hashes AS CHAR) FROM `{}`.atlas_schema_revisions",
            db.name
        ),
    )
    .await;
    assert_eq!(raw, ["null"], "JSON null, as Atlas writes it");

    // Rows as Atlas (go-sql-driver, UTC) writes them; binary ordering of versions.
    d.execute(&format!(
        "INSERT INTO `{}`.atlas_schema_revisions (version, description, type, applied, total, executed_at, \
         execution_time, error, error_stmt, hash, partial_hashes, operator_version) VALUES \
         ('B1', 'upper', 2, 1, 1, '2022-03-18 10:46:14', 7, '', '', 'h', 'null', 'Atlas CLI v0.12.0'), \
         ('a1', 'lower', 2, 0, 2, '2022-03-18 10:46:15', 8, 'Error 1050: exists', 'CREATE TABLE t', 'h2', \
          '[\"h1:x\"]', 'Atlas CLI v0.12.0'), \
         ('.atlas_cloud_identifier', 'uuid', 2, 0, 0, NOW(), 0, NULL, NULL, '', NULL, 'Atlas CLI v0.12.0')",
        db.name
    ))
    .await
    .unwrap();
    let revs = d.read_revisions(&loc).await.unwrap();
    let versions: Vec<&str> = revs.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["20240116000002", "B1", "a1"]);
    assert_eq!(revs[1].executed_at_unix_nanos, 1_647_600_374_000_000_000);
    assert_eq!(revs[2].partial_hashes, Some(vec!["h1:x".to_string()]));
    assert_eq!(revs[2].error, "Error 1050: exists");
    let cloud = strata_driver::Revision {
        version: ".atlas_cloud_identifier".into(),
        ..revision("x")
    };
    assert!(matches!(
        d.upsert_revision(&loc, &cloud).await,
        Err(DriverError::CloudIdentifier(_))
    ));
    d.delete_revision(&loc, "B1").await.unwrap();
    assert_eq!(d.read_revisions(&loc).await.unwrap().len(), 2);
}

#[tokio::test]
async fn named_lock_times_out_and_releases() {
    let db = my_db!();
    let name = unique_name("strata_lock");
    let mut a = connect(&db.url).await.unwrap();
    let mut b = connect(&db.url).await.unwrap();
    a.lock(&name, Duration::from_secs(1)).await.unwrap();
    let start = Instant::now();
    let err = b.lock(&name, Duration::from_secs(1)).await.unwrap_err();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "GET_LOCK waits the whole seconds"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("sql/schema: lock is held by other session"),
        "{msg}"
    );
    assert!(msg.contains("held by connection"), "{msg}");
    assert!(msg.contains(db.mysql_user().unwrap()), "{msg}");
    a.unlock(&name).await.unwrap();
    b.lock(&name, Duration::ZERO).await.unwrap();
    b.close().await.unwrap();
    a.lock(&name, Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn clean_check_bound_and_unbound() {
    let mut db = my_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    assert_eq!(d.check_clean(&loc).await.unwrap(), None);
    d.ensure_revisions_table(&loc).await.unwrap();
    assert_eq!(d.check_clean(&loc).await.unwrap(), None);
    d.execute("CREATE TABLE t (id int)").await.unwrap();
    assert_eq!(
        d.check_clean(&loc).await.unwrap(),
        Some(format!(
            "found table \"atlas_schema_revisions\" in schema \"{}\"",
            db.name
        ))
    );

    // Not bound: the user sees only its database, which is not the revisions schema.
    let rev_schema = unique_name("strata_rev");
    db.mysql_grant_schema(&rev_schema).await;
    let mut u = connect(&db.url_unbound()).await.unwrap();
    assert_eq!(u.bound_schema(), None);
    let uloc = u.revisions_location(Some(&rev_schema)).await.unwrap();
    assert_eq!(
        u.check_clean(&uloc).await.unwrap(),
        Some(format!("found schema \"{}\"", db.name))
    );
    u.ensure_revisions_table(&uloc).await.unwrap();
    assert!(
        u.revisions_table_exists(&uloc).await.unwrap(),
        "flag schema created"
    );
    assert_eq!(
        u.check_clean(&uloc).await.unwrap(),
        Some("found multiple schemas: 2".to_string())
    );
}

#[tokio::test]
async fn wrong_password_is_reported_without_it() {
    let db = my_db!();
    let pw = db
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    let bad = db.url.replace(&format!(":{pw}@"), ":Wr0ngSecret@");
    assert_ne!(bad, db.url);
    let err = connect(&bad).await.unwrap_err();
    let (msg, dbg) = (err.to_string(), format!("{err:?}"));
    assert!(matches!(err, DriverError::Connect { .. }), "{msg}");
    assert!(msg.contains("check the user name and password"), "{msg}");
    assert!(msg.contains(":xxxxx@"), "{msg}");
    assert!(
        !msg.contains("Wr0ngSecret") && !dbg.contains("Wr0ngSecret"),
        "{msg} / {dbg}"
    );
    // The real password never shows either.
    let good = connect(&db.url).await.unwrap();
    assert!(!good.url_redacted().contains(&pw));
}

#[tokio::test]
async fn ddl_limits() {
    let db = my_db!();
    let mut d = connect(&db.url).await.unwrap();
    let mariadb = d.server_version().to_ascii_lowercase().contains("mariadb");
    if mariadb {
        d.set_ddl_limits(
            Some(Duration::from_millis(200)),
            Some(Duration::from_secs(2)),
        )
        .await
        .unwrap();
        let start = Instant::now();
        let err = d.execute("SELECT SLEEP(3)").await.unwrap_err();
        assert!(err.to_string().contains("max_statement_time"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
    } else {
        assert!(matches!(
            d.set_ddl_limits(Some(Duration::from_secs(1)), None).await,
            Err(DriverError::Unsupported { .. })
        ));
    }
    d.set_ddl_limits(None, Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    // A metadata lock held by another session makes DDL give up after lock_wait_timeout.
    let mut other = connect(&db.url).await.unwrap();
    other.execute("CREATE TABLE busy (id int)").await.unwrap();
    other.execute("LOCK TABLES busy WRITE").await.unwrap();
    let start = Instant::now();
    let err = d
        .execute("ALTER TABLE busy ADD COLUMN x int")
        .await
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("lock wait timeout"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    other.execute("UNLOCK TABLES").await.unwrap();
    d.set_ddl_limits(None, None).await.unwrap();
}

/// The catalog look-ups behind in-flight recovery: every kind of object, present and absent, names qualified or
/// not, compared by the server's rules (table names exactly, column/index/constraint names without case); the
/// session's id and whether a session is still there.
#[tokio::test]
async fn objects_exist_and_sessions() {
    use strata_driver::Object;
    use strata_migrate::inflight::Name;
    let db = my_db!();
    let mut d = connect(&db.url).await.unwrap();
    for sql in [
        "CREATE TABLE Tbl (id int PRIMARY KEY, Col int, CONSTRAINT Ck CHECK (id > 0), KEY Idx (Col))",
        "CREATE TABLE child (id int, tbl_id int, CONSTRAINT fk FOREIGN KEY (tbl_id) REFERENCES Tbl (id))",
        "CREATE VIEW v AS SELECT 1 AS x",
    ] {
        d.execute(sql).await.unwrap();
    }
    let n = |name: &str| Name {
        schema: None,
        name: name.into(),
    };
    let q = |name: &str| Name {
        schema: Some(db.name.clone()),
        name: name.into(),
    };
    let col = |t: Name, c: &str| Object::Column {
        table: t,
        column: c.into(),
    };
    let idx = |t: Name, i: &str| Object::Index {
        table: t,
        index: i.into(),
    };
    let con = |t: Name, c: &str| Object::Constraint {
        table: t,
        constraint: c.into(),
    };
    let cases = [
        (Object::Schema(db.name.clone()), true),
        (Object::Schema(format!("{}_none", db.name)), false),
        (Object::Table(n("Tbl")), true),
        (Object::Table(q("Tbl")), true),
        (Object::Table(n("tbl")), false),
        (Object::Table(n("v")), false),
        (Object::View(n("v")), true),
        (Object::View(n("Tbl")), false),
        (Object::Relation(n("v")), true),
        (Object::Relation(n("Tbl")), true),
        (Object::Relation(n("none")), false),
        (col(n("Tbl"), "col"), true),
        (col(q("Tbl"), "Col"), true),
        (col(n("Tbl"), "other"), false),
        (col(n("none"), "Col"), false),
        (idx(n("Tbl"), "idx"), true),
        (idx(n("Tbl"), "PRIMARY"), true),
        (idx(n("child"), "PRIMARY"), false),
        (idx(n("Tbl"), "Col"), false),
        (con(n("Tbl"), "ck"), true),
        (con(n("child"), "fk"), true),
        (con(n("child"), "Ck"), false),
    ];
    let objects: Vec<Object> = cases.iter().map(|(o, _)| o.clone()).collect();
    let found = d.objects_exist(&objects).await.unwrap();
    for ((o, want), got) in cases.iter().zip(found) {
        assert_eq!(got, Some(*want), "{o}");
    }

    // Without a database in the URL, an unqualified name has no schema to look in: the driver cannot tell.
    let mut unbound = connect(&db.url_unbound()).await.unwrap();
    assert_eq!(
        unbound
            .objects_exist(&[Object::Table(n("Tbl")), Object::Table(q("Tbl"))])
            .await
            .unwrap(),
        [None, Some(true)]
    );

    let id = d.session_id().expect("MySQL knows its connection id");
    assert_ne!(unbound.session_id(), Some(id));
    assert_eq!(unbound.session_alive(id).await.unwrap(), Some(true));
    d.close().await.unwrap();
    let start = Instant::now();
    while unbound.session_alive(id).await.unwrap() == Some(true) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the session stays"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Rows of `t` and revision versions another session sees: what is committed.
async fn my_committed(db_url: &str) -> (Vec<String>, Vec<String>) {
    (
        my_strings(db_url, "SELECT CAST(id AS CHAR) FROM t ORDER BY id").await,
        my_strings(
            db_url,
            "SELECT version FROM atlas_schema_revisions ORDER BY version",
        )
        .await,
    )
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A deferred file whose statements stayed in the transaction waits there for the next commit: an explicit one
/// (the run's last file) or a DDL's implicit one. A file ending in DDL has its row committed by the next round trip:
/// first, when that trip's statement stays in the transaction; by the statement's own implicit commit otherwise.
#[tokio::test]
async fn deferred_files_wait_for_the_next_commit_explicit_or_implicit() {
    use strata_driver::Durability::{Deferred, Durable};
    let db = my_db!();
    let (mut d, loc) = deferring_session(&db.url, "CREATE TABLE t (id int PRIMARY KEY)").await;
    assert!(d.defers_commits());
    defer_file(&mut *d, &loc, "1", "INSERT INTO t VALUES (1)").await;
    assert!(!d.in_transaction());
    assert_eq!(my_committed(&db.url).await, (vec![], vec![]));
    // A DDL commits implicitly, and the deferred file with it.
    d.begin().await.unwrap();
    d.execute("INSERT INTO t VALUES (2)").await.unwrap();
    d.execute("CREATE TABLE u (id int)").await.unwrap();
    assert_eq!(
        my_committed(&db.url).await,
        (strings(&["1", "2"]), strings(&["1"]))
    );
    // Its last statement committed implicitly: its row waits for the next round trip, which commits it before
    // a statement that stays in the transaction.
    d.upsert_commit(&loc, &revision("2"), Deferred)
        .await
        .unwrap();
    assert_eq!(my_committed(&db.url).await.1, ["1"]);
    defer_file(&mut *d, &loc, "3", "INSERT INTO t VALUES (3)").await;
    assert_eq!(my_committed(&db.url).await.1, ["1", "2"]);
    // A file ending in DDL, then one starting with DDL: the second's implicit commit takes the first's row.
    defer_file(&mut *d, &loc, "4", "CREATE TABLE v (id int)").await;
    assert_eq!(my_committed(&db.url).await.1, ["1", "2", "3"]);
    d.begin().await.unwrap();
    d.execute("CREATE TABLE w (id int)").await.unwrap();
    assert_eq!(my_committed(&db.url).await.1, ["1", "2", "3", "4"]);
    d.execute("INSERT INTO t VALUES (5)").await.unwrap();
    d.upsert_commit(&loc, &revision("5"), Durable)
        .await
        .unwrap();
    assert_eq!(
        my_committed(&db.url).await,
        (
            strings(&["1", "2", "3", "5"]),
            strings(&["1", "2", "3", "4", "5"])
        )
    );
    assert!(d.take_rolled_back().is_empty());
}

/// A file failing behind deferred files rolls back to its savepoint; they stay, and the next write outside a
/// file's transaction (the run's settle) commits them.
#[tokio::test]
async fn a_failing_file_behind_deferred_files_rolls_back_alone() {
    let db = my_db!();
    let (mut d, loc) = deferring_session(&db.url, "CREATE TABLE t (id int PRIMARY KEY)").await;
    defer_file(&mut *d, &loc, "1", "INSERT INTO t VALUES (1)").await;
    d.begin().await.unwrap();
    d.execute("INSERT INTO t VALUES (2)").await.unwrap();
    let err = d.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    assert!(err.to_string().contains("Duplicate"), "{err}");
    d.rollback().await.unwrap();
    assert!(!d.in_transaction());
    assert_eq!(my_committed(&db.url).await, (vec![], vec![]));
    d.upsert_revision(&loc, &revision("1")).await.unwrap();
    assert_eq!(
        my_committed(&db.url).await,
        (strings(&["1"]), strings(&["1"]))
    );
    assert!(d.take_rolled_back().is_empty());
}

/// A DDL statement commits implicitly before it runs, even when it then fails: the file's savepoint is gone, yet
/// the deferred files before it are committed, not lost.
#[tokio::test]
async fn a_ddl_failing_after_its_implicit_commit_keeps_the_deferred_files() {
    let db = my_db!();
    let (mut d, loc) = deferring_session(&db.url, "CREATE TABLE t (id int PRIMARY KEY)").await;
    defer_file(&mut *d, &loc, "1", "INSERT INTO t VALUES (1)").await;
    d.begin().await.unwrap();
    let err = d.execute("CREATE TABLE t (id int)").await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    d.rollback().await.unwrap();
    assert!(d.take_rolled_back().is_empty(), "committed, not lost");
    assert_eq!(
        my_committed(&db.url).await,
        (strings(&["1"]), strings(&["1"]))
    );
}

/// A deadlock rolls back the whole transaction, and the deferred files in it: the driver names them.
#[tokio::test]
async fn a_deadlock_names_the_deferred_files_it_rolled_back() {
    use sqlx::Connection;
    let db = my_db!();
    let (mut d, loc) =
        deferring_session(&db.url, "CREATE TABLE t (id int PRIMARY KEY, n int)").await;
    d.execute("CREATE TABLE bulk (id int PRIMARY KEY)")
        .await
        .unwrap();
    d.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
        .await
        .unwrap();
    defer_file(&mut *d, &loc, "1", "UPDATE t SET n = 1 WHERE id = 1").await;
    // Another session, heavier (so InnoDB picks ours as the victim), takes row 2 and waits for row 1.
    let mut other = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "SET autocommit = 0; INSERT INTO bulk SELECT seq FROM seq_1_to_200; UPDATE t SET n = 2 WHERE id = 2",
    )
    .execute(&mut other)
    .await
    .unwrap();
    let waiter = tokio::spawn(async move {
        let r = sqlx::raw_sql("UPDATE t SET n = 2 WHERE id = 1")
            .execute(&mut other)
            .await;
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut other).await;
        r.map(|_| ())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.begin().await.unwrap();
    let err = d
        .execute("UPDATE t SET n = 1 WHERE id = 2")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Deadlock"), "{err}");
    d.rollback().await.unwrap();
    assert_eq!(d.take_rolled_back(), ["1"]);
    waiter.await.unwrap().unwrap();
    assert_eq!(
        my_strings(&db.url, "SELECT CAST(n AS CHAR) FROM t ORDER BY id").await,
        ["0", "0"]
    );
    assert!(my_committed(&db.url).await.1.is_empty());
    // The session goes on cleanly.
    d.upsert_revision(&loc, &revision("9")).await.unwrap();
    assert_eq!(my_committed(&db.url).await.1, ["9"]);
}

/// A lost connection takes the deferred files with it: the driver names them.
#[tokio::test]
async fn a_lost_connection_names_the_deferred_files() {
    use strata_driver::Durability::Deferred;
    let db = my_db!();
    let (mut d, loc) = deferring_session(&db.url, "CREATE TABLE t (id int PRIMARY KEY)").await;
    for v in ["1", "2"] {
        d.begin().await.unwrap();
        d.execute(&format!("INSERT INTO t VALUES ({v})"))
            .await
            .unwrap();
        d.upsert_commit(&loc, &revision(v), Deferred).await.unwrap();
    }
    let id = d.session_id().unwrap();
    my_strings(&db.url, &format!("KILL {id}")).await;
    d.begin().await.unwrap();
    assert!(d.execute("INSERT INTO t VALUES (3)").await.is_err());
    let _ = d.rollback().await;
    assert_eq!(d.take_rolled_back(), ["1", "2"]);
    assert_eq!(my_committed(&db.url).await, (vec![], vec![]));
}
