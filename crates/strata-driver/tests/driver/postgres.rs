use std::time::{Duration, Instant};

use crate::common::connect;
use strata_driver::postgres::PostgresDriver;
use strata_driver::{Driver, DriverError, RevisionsLocation, url};

use crate::common::revision;
use crate::pg_db;

async fn pg_scalar(db_url: &str, sql: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut c = sqlx::PgConnection::connect(db_url).await.unwrap();
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
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    assert_eq!(
        loc,
        RevisionsLocation::new("atlas_schema_revisions"),
        "unbound URL → dedicated schema"
    );
    assert!(!d.revisions_table_exists(&loc).await.unwrap());
    d.ensure_revisions_table(&loc).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap(); // idempotent
    assert!(d.revisions_table_exists(&loc).await.unwrap());
    let cols = pg_scalar(
        &db.url,
        "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '-') \
         FROM information_schema.columns WHERE table_schema = 'atlas_schema_revisions' \
         AND table_name = 'atlas_schema_revisions' ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        cols,
        [
            "version character varying NO -",
            "description character varying NO -",
            "type bigint NO 2",
            "applied bigint NO 0",
            "total bigint NO 0",
            "executed_at timestamp with time zone NO -",
            "execution_time bigint NO -",
            "error text YES -",
            "error_stmt text YES -",
            "hash character varying NO -",
            "partial_hashes jsonb YES -",
            "operator_version character varying NO -",
        ]
    );
    let pk = pg_scalar(
        &db.url,
        "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
         AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'atlas_schema_revisions.atlas_schema_revisions'::regclass \
         AND i.indisprimary",
    )
    .await;
    assert_eq!(pk, ["version"]);
    d.close().await.unwrap();
}

#[tokio::test]
async fn location_rules_and_ambiguity_guard() {
    let db = pg_db!();
    // Bound to public: the table goes there.
    let mut bound = connect(&db.url_with_search_path("public")).await.unwrap();
    assert_eq!(bound.bound_schema(), Some("public"));
    assert_eq!(
        bound.revisions_location(None).await.unwrap(),
        RevisionsLocation::new("public")
    );
    // The flag wins and its schema is created.
    let custom = bound.revisions_location(Some("custom_rev")).await.unwrap();
    assert_eq!(custom, RevisionsLocation::new("custom_rev"));
    bound.ensure_revisions_table(&custom).await.unwrap();
    assert!(
        bound
            .table_exists("custom_rev", "atlas_schema_revisions")
            .await
            .unwrap()
    );

    // An old table in atlas_schema_revisions and none in the bound schema: ambiguous.
    let mut unbound = connect(&db.url).await.unwrap();
    let old = unbound.revisions_location(None).await.unwrap();
    unbound.ensure_revisions_table(&old).await.unwrap();
    let err = bound.revisions_location(None).await.unwrap_err();
    assert!(
        matches!(err, DriverError::AmbiguousRevisionTable { .. }),
        "{err}"
    );
    assert_eq!(err.to_string(), "ambiguous revision table");
    assert!(err.help().unwrap().contains("--revisions-schema"));
    // With the flag there is no ambiguity.
    assert_eq!(
        bound
            .revisions_location(Some("atlas_schema_revisions"))
            .await
            .unwrap(),
        RevisionsLocation::new("atlas_schema_revisions")
    );
    // Once the bound schema has its own table, no ambiguity either.
    bound
        .ensure_revisions_table(&RevisionsLocation::new("public"))
        .await
        .unwrap();
    assert_eq!(
        bound.revisions_location(None).await.unwrap(),
        RevisionsLocation::new("public")
    );
}

#[tokio::test]
async fn upsert_read_round_trip() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let r1 = revision("20240116000002");
    let mut r0 = revision("20240116000001");
    r0.partial_hashes = None;
    r0.error.clear();
    r0.error_stmt.clear();
    d.upsert_revision(&loc, &r1).await.unwrap();
    d.upsert_revision(&loc, &r0).await.unwrap();
    assert_eq!(
        d.read_revisions(&loc).await.unwrap(),
        vec![r0.clone(), r1.clone()]
    );

    // Update: every column except version, description and executed_at changes.
    let mut upd = r1.clone();
    upd.description = "changed".into();
    upd.executed_at_unix_nanos += 1_000_000_000;
    upd.applied = 3;
    upd.partial_hashes = None;
    upd.error.clear();
    upd.kind = strata_driver::RevisionType(6);
    d.upsert_revision(&loc, &upd).await.unwrap();
    let got = d.read_revision(&loc, &r1.version).await.unwrap().unwrap();
    let mut want = upd.clone();
    want.description = r1.description.clone();
    want.executed_at_unix_nanos = r1.executed_at_unix_nanos;
    assert_eq!(got, want);
    // partial_hashes None is stored as JSON null, like Atlas.
    let stored = pg_scalar(
        &db.url,
        "SELECT (partial_hashes IS NULL)::text || ' ' || partial_hashes::text FROM \
         atlas_schema_revisions.atlas_schema_revisions WHERE version = '20240116000002'",
    )
    .await;
    assert_eq!(stored, ["false null"]);
    let stored = pg_scalar(
        &db.url,
        "SELECT partial_hashes::text FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = '20240116000001'",
    )
    .await;
    assert_eq!(stored, ["null"]);

    d.delete_revision(&loc, &r0.version).await.unwrap();
    assert_eq!(d.read_revisions(&loc).await.unwrap(), vec![want]);
    assert_eq!(d.read_revision(&loc, "nope").await.unwrap(), None);
}

#[tokio::test]
async fn reads_atlas_written_rows_and_hides_cloud_row() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.execute(
        "INSERT INTO atlas_schema_revisions.atlas_schema_revisions (version, description, type, applied, total, \
         executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version) VALUES \
         ('20220318104615', 'second', 2, 1, 2, '2022-03-18 11:46:15.5+01', 42, 'pq: boom', 'ALTER TABLE x', 'hB', \
          '[\"h1:abc\"]', 'Atlas CLI v0.12.0'), \
         ('.atlas_cloud_identifier', '7f0c1d5e-6d7c-4d1e-9c38-1b6f7f0e2a11', 2, 0, 0, now(), 0, NULL, NULL, '', \
          NULL, 'Atlas CLI v0.12.0'), \
         ('20220318104614', 'initial', 2, 1, 1, '2022-03-18 10:46:14.123456+00', 12345678, '', '', 'hA', 'null', \
          'Atlas CLI v0.12.0'), \
         ('1', '', 1, 0, 0, '2022-03-18 10:00:00+00', 0, NULL, NULL, '', NULL, 'Atlas CLI v0.12.0')",
    )
    .await
    .unwrap();
    let revs = d.read_revisions(&loc).await.unwrap();
    let versions: Vec<&str> = revs.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["1", "20220318104614", "20220318104615"]);
    assert_eq!(revs[0].kind, strata_driver::RevisionType::BASELINE);
    assert_eq!(revs[0].error, "");
    assert_eq!(revs[0].partial_hashes, None);
    assert_eq!(revs[1].executed_at_unix_nanos, 1_647_600_374_123_456_000);
    assert_eq!(revs[1].execution_time_nanos, 12_345_678);
    assert_eq!(revs[2].executed_at_unix_nanos, 1_647_600_375_500_000_000);
    assert_eq!(revs[2].partial_hashes, Some(vec!["h1:abc".to_string()]));
    assert_eq!(revs[2].error, "pq: boom");
    assert_eq!(revs[2].operator_version, "Atlas CLI v0.12.0");

    assert_eq!(
        d.read_revision(&loc, ".atlas_cloud_identifier")
            .await
            .unwrap(),
        None
    );
    let cloud = strata_driver::Revision {
        version: ".atlas_cloud_identifier".into(),
        ..revision("x")
    };
    assert!(matches!(
        d.upsert_revision(&loc, &cloud).await,
        Err(DriverError::CloudIdentifier(_))
    ));
    assert!(matches!(
        d.delete_revision(&loc, ".atlas_cloud_identifier").await,
        Err(DriverError::CloudIdentifier(_))
    ));
    let still = pg_scalar(
        &db.url,
        "SELECT description FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = '.atlas_cloud_identifier'",
    )
    .await;
    assert_eq!(still, ["7f0c1d5e-6d7c-4d1e-9c38-1b6f7f0e2a11"]);
}

#[tokio::test]
async fn lock_waits_names_holder_and_releases() {
    let db = pg_db!();
    let parsed = url::parse(&db.url).unwrap();
    let mut a = PostgresDriver::connect(parsed.clone()).await.unwrap();
    let mut b = connect(&db.url).await.unwrap();
    a.lock("atlas_migrate_execute", Duration::from_secs(1))
        .await
        .unwrap();
    let ids = pg_scalar(
        &db.url,
        "SELECT objid::text FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .await;
    assert_eq!(ids, ["2686470616"], "FNV-1 id bound as bigint");

    let start = Instant::now();
    let err = b
        .lock("atlas_migrate_execute", Duration::from_millis(400))
        .await
        .unwrap_err();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let msg = err.to_string();
    assert!(err.is_lock_timeout(), "{msg}");
    assert!(
        msg.starts_with("sql/schema: lock is held by other session"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("pid {}", a.backend_pid().await.unwrap())),
        "{msg}"
    );
    assert!(msg.contains("application_name \"strata\""), "{msg}");
    assert!(msg.contains("connected since"), "{msg}");
    assert!(msg.contains("--lock-timeout"), "{msg}");

    // Zero timeout: one attempt.
    let start = Instant::now();
    assert!(
        b.lock("atlas_migrate_execute", Duration::ZERO)
            .await
            .unwrap_err()
            .is_lock_timeout()
    );
    assert!(start.elapsed() < Duration::from_secs(1));

    // Released: B gets it while polling.
    let waiter = tokio::spawn(async move {
        b.lock("atlas_migrate_execute", Duration::from_secs(5))
            .await
            .map(|()| b)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.unlock("atlas_migrate_execute").await.unwrap();
    let mut b = waiter.await.unwrap().unwrap();
    b.unlock("atlas_migrate_execute").await.unwrap();
    assert!(
        b.unlock("atlas_migrate_execute").await.is_err(),
        "double unlock is an error"
    );
    // Other names do not conflict.
    a.lock("atlas_migrate_diff", Duration::ZERO).await.unwrap();
    b.lock("atlas_lint", Duration::ZERO).await.unwrap();
    Box::new(a).close().await.unwrap();
    b.close().await.unwrap();
}

/// Closing a session frees its locks (the server ends the session; the driver sends no unlock first): a waiter
/// gets the lock.
#[tokio::test]
async fn closing_frees_the_lock() {
    let db = pg_db!();
    let mut a = connect(&db.url).await.unwrap();
    let mut b = connect(&db.url).await.unwrap();
    a.lock("atlas_migrate_execute", Duration::ZERO)
        .await
        .unwrap();
    assert!(
        b.lock("atlas_migrate_execute", Duration::ZERO)
            .await
            .unwrap_err()
            .is_lock_timeout()
    );
    a.close().await.unwrap();
    b.lock("atlas_migrate_execute", Duration::from_secs(5))
        .await
        .unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn clean_check_rules() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    assert_eq!(d.check_clean(&loc).await.unwrap(), None, "fresh database");
    d.ensure_revisions_table(&loc).await.unwrap();
    assert_eq!(
        d.check_clean(&loc).await.unwrap(),
        None,
        "only the revisions table"
    );
    d.execute("CREATE TABLE public.t (id int)").await.unwrap();
    assert_eq!(
        d.check_clean(&loc).await.unwrap().as_deref(),
        Some("found schema \"public\"")
    );

    let mut bound = connect(&db.url_with_search_path("app")).await.unwrap();
    let bloc = RevisionsLocation::new("app");
    assert_eq!(
        bound.check_clean(&bloc).await.unwrap(),
        None,
        "bound schema does not exist yet"
    );
    bound.ensure_revisions_table(&bloc).await.unwrap();
    assert_eq!(
        bound.check_clean(&bloc).await.unwrap(),
        None,
        "bound schema holds only the revisions table"
    );
    bound
        .execute("CREATE TABLE app.users (id int)")
        .await
        .unwrap();
    assert_eq!(
        bound.check_clean(&bloc).await.unwrap().as_deref(),
        Some("found table \"atlas_schema_revisions\" in schema \"app\"")
    );
}

#[tokio::test]
async fn transactions_roll_back_statements_and_revisions() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    assert!(d.transactional_ddl());
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.begin().await.unwrap();
    assert!(d.in_transaction());
    d.execute("CREATE TABLE t1 (id int)").await.unwrap();
    d.upsert_revision(&loc, &revision("1")).await.unwrap();
    d.rollback().await.unwrap();
    assert!(!d.table_exists("public", "t1").await.unwrap());
    assert!(d.read_revisions(&loc).await.unwrap().is_empty());

    d.begin().await.unwrap();
    d.execute("CREATE TABLE t2 (id int)").await.unwrap();
    d.upsert_revision(&loc, &revision("2")).await.unwrap();
    d.commit().await.unwrap();
    assert!(d.table_exists("public", "t2").await.unwrap());
    assert_eq!(d.read_revisions(&loc).await.unwrap().len(), 1);

    // A failed statement: commit reports the failure instead of a silent rollback.
    d.begin().await.unwrap();
    d.execute("CREATE TABLE t3 (id int)").await.unwrap();
    let err = d.execute("CREATE TABLE t2 (id int)").await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(d.commit().await.is_err());
    assert!(!d.in_transaction());
    assert!(!d.table_exists("public", "t3").await.unwrap());
    assert!(d.commit().await.is_err(), "commit without begin");
}

#[tokio::test]
async fn execute_runs_text_as_is() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    d.execute("CREATE TABLE t (id int, v text)").await.unwrap();
    d.execute("CREATE INDEX CONCURRENTLY t_v ON t (v)")
        .await
        .unwrap();
    d.execute("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;")
        .await
        .unwrap();
    let err = d.execute("SELEC 1").await.unwrap_err();
    let DriverError::Sql { message, code } = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("syntax error"), "{message}");
    assert_eq!(code.as_deref(), Some("42601"));
}

#[tokio::test]
async fn ddl_limits_and_session_settings() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    d.set_ddl_limits(
        Some(Duration::from_millis(100)),
        Some(Duration::from_millis(20)),
    )
    .await
    .unwrap();
    let err = d.execute("SELECT pg_sleep(2)").await.unwrap_err();
    assert!(err.to_string().contains("statement timeout"), "{err}");
    d.set_ddl_limits(None, None).await.unwrap();
    d.execute("SELECT pg_sleep(0.2)").await.unwrap();

    // lock_timeout applies to DDL waiting on a lock held by another session.
    let mut other = connect(&db.url).await.unwrap();
    other.execute("CREATE TABLE busy (id int)").await.unwrap();
    other.begin().await.unwrap();
    other
        .execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    d.set_ddl_limits(None, Some(Duration::from_millis(100)))
        .await
        .unwrap();
    let err = d
        .execute("ALTER TABLE busy ADD COLUMN x int")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lock timeout"), "{err}");
    other.rollback().await.unwrap();

    let app = pg_scalar(&db.url, "SELECT application_name::text FROM pg_stat_activity WHERE application_name = 'strata' LIMIT 1").await;
    assert_eq!(app, ["strata"]);
}

#[tokio::test]
async fn connect_errors_name_the_url_and_hide_the_password() {
    let db = pg_db!();
    let missing = db
        .url
        .replace(&db.name, "strata_no_such_db")
        .replace("postgres@", "postgres:Sup3rSecret@");
    let err = connect(&missing).await.unwrap_err();
    let (msg, dbg) = (err.to_string(), format!("{err:?}"));
    assert!(matches!(err, DriverError::Connect { .. }), "{msg}");
    assert!(
        msg.contains("does not exist") && msg.contains("create the database"),
        "{msg}"
    );
    assert!(msg.contains("postgres:xxxxx@"), "{msg}");
    assert!(
        !msg.contains("Sup3rSecret") && !dbg.contains("Sup3rSecret"),
        "{msg} / {dbg}"
    );

    let err = connect("postgres://postgres:Sup3rSecret@127.0.0.1:1/x?sslmode=disable")
        .await
        .unwrap_err();
    let (msg, dbg) = (err.to_string(), format!("{err:?}"));
    assert!(
        msg.contains("check that PostgreSQL is running and reachable at 127.0.0.1:1"),
        "{msg}"
    );
    assert!(
        !msg.contains("Sup3rSecret") && !dbg.contains("Sup3rSecret"),
        "{msg} / {dbg}"
    );
}

#[tokio::test]
async fn unlock_reports_a_lost_session_lock() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    d.lock("atlas_migrate_execute", Duration::ZERO)
        .await
        .unwrap();
    // As if a pooler had handed the statement to another backend: the lock is gone from this session.
    d.execute("SELECT pg_advisory_unlock(2686470616::bigint)")
        .await
        .unwrap();
    let err = d.unlock("atlas_migrate_execute").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("sql/postgres: failed releasing lock 2686470616"),
        "{msg}"
    );
    assert!(msg.contains("PgBouncer"), "{msg}");
}

/// The errors of the three ways a run reads revisions, each of which must fail.
async fn every_read_fails(
    d: &mut dyn Driver,
    loc: &RevisionsLocation,
    version: &str,
) -> [DriverError; 3] {
    [
        d.read_revisions(loc).await.unwrap_err(),
        d.read_revisions_if_ready(loc).await.unwrap_err(),
        d.read_revision(loc, version).await.unwrap_err(),
    ]
}

#[tokio::test]
async fn unreadable_rows_are_errors_naming_the_row() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let insert = |version: &str, executed_at: &str| {
        format!(
            "INSERT INTO atlas_schema_revisions.atlas_schema_revisions (version, description, type, applied, total, \
             executed_at, execution_time, hash, operator_version) VALUES \
             ('{version}', 'd', 2, 1, 1, {executed_at}, 0, 'h', 'Atlas CLI v0.12.0')"
        )
    };
    // Timestamps PostgreSQL stores but Strata cannot represent: an error, not a panic (sqlx's decoder panics on
    // 'infinity').
    for (executed_at, reason) in [
        ("'infinity'", "executed_at is 'infinity'"),
        ("'-infinity'", "executed_at is '-infinity'"),
        ("'10000-01-01 00:00:00+00'", "outside years -9999 to 9999"),
    ] {
        d.execute("DELETE FROM atlas_schema_revisions.atlas_schema_revisions")
            .await
            .unwrap();
        d.execute(&insert("20240101000001", executed_at))
            .await
            .unwrap();
        for err in every_read_fails(&mut *d, &loc, "20240101000001").await {
            let msg = err.to_string();
            assert!(
                matches!(err, DriverError::BadRevision { ref version, .. } if version == "20240101000001"),
                "{msg}"
            );
            assert!(msg.contains(reason), "{msg}");
        }
    }
    // The last representable microsecond and a date before 1970 read back exactly.
    d.execute("DELETE FROM atlas_schema_revisions.atlas_schema_revisions")
        .await
        .unwrap();
    d.execute(&insert("1", "'9999-12-31 23:59:59.999999+00'"))
        .await
        .unwrap();
    d.execute(&insert("2", "'1969-12-31 23:59:59.999999+00'"))
        .await
        .unwrap();
    let revs = d.read_revisions(&loc).await.unwrap();
    assert_eq!(revs[0].executed_at_unix_nanos, 253_402_300_799_999_999_000);
    assert_eq!(revs[1].executed_at_unix_nanos, -1_000);
}

#[tokio::test]
async fn a_column_of_another_type_is_named_with_the_fix() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.upsert_revision(&loc, &revision("20240101000001"))
        .await
        .unwrap();
    d.execute("ALTER TABLE atlas_schema_revisions.atlas_schema_revisions ALTER COLUMN applied TYPE integer")
        .await
        .unwrap();
    for err in every_read_fails(&mut *d, &loc, "20240101000001").await {
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                DriverError::RevisionColumnType {
                    column: "applied",
                    expected: "bigint",
                    ..
                }
            ),
            "{msg}"
        );
        assert!(msg.contains("has type int4"), "{msg}");
        assert!(
            msg.contains("ALTER TABLE \"atlas_schema_revisions\".\"atlas_schema_revisions\" ALTER COLUMN \"applied\" TYPE bigint"),
            "{msg}"
        );
    }
    // Other text types read as text (sqlx's String decoder accepted them too).
    d.execute("ALTER TABLE atlas_schema_revisions.atlas_schema_revisions ALTER COLUMN applied TYPE bigint, ALTER COLUMN description TYPE text")
        .await
        .unwrap();
    // A new session: this one's prepared statement has the old result type.
    let mut d = connect(&db.url).await.unwrap();
    assert_eq!(
        d.read_revisions(&loc).await.unwrap(),
        vec![revision("20240101000001")]
    );
}

#[tokio::test]
async fn connecting_sends_no_query_and_the_lock_learns_the_session() {
    let db = pg_db!();
    let app = format!("strata-test-{}", std::process::id());
    let url_with_app = format!(
        "{}{}application_name={app}",
        db.url,
        if db.url.contains('?') { '&' } else { '?' }
    );
    let mut d = PostgresDriver::connect(url::parse(&url_with_app).unwrap())
        .await
        .unwrap();
    let activity = |what: &'static str| {
        let (url, app) = (db.url.clone(), app.clone());
        async move {
            pg_scalar(
                &url,
                &format!("SELECT {what} FROM pg_stat_activity WHERE application_name = '{app}'"),
            )
            .await
        }
    };
    // A new backend's last query is empty until the client sends one.
    assert_eq!(activity("query").await, [""]);
    assert!(
        d.server_version()
            .split('.')
            .all(|p| p.parse::<u32>().is_ok()),
        "{}",
        d.server_version()
    );
    d.lock("atlas_migrate_execute", Duration::ZERO)
        .await
        .unwrap();
    let [pid] = <[String; 1]>::try_from(activity("pid::text").await).unwrap();
    let queries_before = activity("query").await;
    // Known from the lock's own query: asking costs no round trip.
    assert_eq!(d.backend_pid().await.unwrap().to_string(), pid);
    assert_eq!(activity("query").await, queries_before);
    d.unlock("atlas_migrate_execute").await.unwrap();
}
