//! PostgreSQL's one-round-trip paths (`begin_execute`, `upsert_commit`, the single catalog query of
//! `ensure_revisions_table`) behave exactly like the step-by-step calls they replace.

use crate::common::connect;
use sqlx::{AssertSqlSafe, Connection as _};
use strata_driver::{DriverError, Durability, Revision, RevisionsLocation};

use crate::common::revision;
use crate::pg_db;

async fn rows(db_url: &str, sql: &str) -> Vec<String> {
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

/// Every stored column of the row but `version`, as text.
async fn stored(db_url: &str, version: &str) -> String {
    let got = rows(
        db_url,
        &format!(
            "SELECT (to_jsonb(r) - 'version')::text FROM atlas_schema_revisions.atlas_schema_revisions r \
             WHERE version = '{version}'"
        ),
    )
    .await;
    assert_eq!(got.len(), 1, "row {version}");
    got[0].clone()
}

fn awkward(version: &str) -> Vec<Revision> {
    let mut a = revision(version);
    a.description = "it's a \\ back'slash \\' and ünïcödé ✓ $$ $1 E'x'".into();
    a.error = "line1\nline2\ttab \\n not a newline".into();
    a.error_stmt = "INSERT INTO t VALUES ('a''b', E'c\\'d');".into();
    // Sub-microsecond digits are truncated as the bound value truncates them.
    a.executed_at_unix_nanos = 1_705_400_430_123_456_789;
    let mut b = revision(version);
    b.partial_hashes = None;
    b.error.clear();
    b.error_stmt.clear();
    // Before 2000 and before 1970: truncation is toward zero from 2000-01-01.
    b.executed_at_unix_nanos = 915_148_800_000_000_999;
    let mut c = revision(version);
    c.executed_at_unix_nanos = -1_000_001;
    c.execution_time_nanos = i64::MAX;
    c.applied = i64::MAX as u64;
    c.partial_hashes = Some(vec![]);
    let mut d = revision(version);
    d.executed_at_unix_nanos = 946_684_799_999_999_500;
    d.kind = strata_driver::RevisionType(6);
    vec![a, b, c, d]
}

#[tokio::test]
async fn upsert_commit_writes_the_row_the_bound_upsert_writes() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    for (i, (bound, fast)) in awkward("x").into_iter().zip(awkward("x")).enumerate() {
        let (bv, fv) = (format!("b{i}"), format!("f{i}"));
        let bound = Revision {
            version: bv.clone(),
            ..bound
        };
        let fast = Revision {
            version: fv.clone(),
            ..fast
        };
        d.begin().await.unwrap();
        d.upsert_revision(&loc, &bound).await.unwrap();
        d.commit().await.unwrap();
        d.begin().await.unwrap();
        d.upsert_commit(&loc, &fast, Durability::Deferred)
            .await
            .unwrap();
        assert!(!d.in_transaction());
        assert_eq!(
            stored(&db.url, &bv).await,
            stored(&db.url, &fv).await,
            "case {i}"
        );
        assert_eq!(
            d.read_revision(&loc, &bv)
                .await
                .unwrap()
                .map(|r| r.executed_at_unix_nanos),
            d.read_revision(&loc, &fv)
                .await
                .unwrap()
                .map(|r| r.executed_at_unix_nanos),
        );
    }
    // Update of an existing row: the same columns change.
    let mut upd = awkward("b0").remove(0);
    upd.description = "changed".into();
    upd.applied = 9;
    upd.error.clear();
    d.begin().await.unwrap();
    d.upsert_revision(
        &loc,
        &Revision {
            version: "b0".into(),
            ..upd.clone()
        },
    )
    .await
    .unwrap();
    d.commit().await.unwrap();
    d.begin().await.unwrap();
    d.upsert_commit(
        &loc,
        &Revision {
            version: "f0".into(),
            ..upd
        },
        Durability::Durable,
    )
    .await
    .unwrap();
    assert_eq!(stored(&db.url, "b0").await, stored(&db.url, "f0").await);
}

#[tokio::test]
async fn upsert_commit_errors_match_the_two_steps() {
    upsert_commit_errors(Durability::Durable).await;
}

#[tokio::test]
async fn deferred_upsert_commit_errors_match_the_two_steps() {
    upsert_commit_errors(Durability::Deferred).await;
}

async fn upsert_commit_errors(durability: Durability) {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();

    // A value Postgres text cannot hold: the same error as the bound value, and the transaction is left open
    // (and failed) for the caller to roll back.
    let mut nul = revision("n");
    nul.error = "a\0b".into();
    d.begin().await.unwrap();
    let bound = d.upsert_revision(&loc, &nul).await.unwrap_err();
    d.rollback().await.unwrap();
    d.begin().await.unwrap();
    let fast = d.upsert_commit(&loc, &nul, durability).await.unwrap_err();
    assert!(d.in_transaction());
    d.rollback().await.unwrap();
    assert_eq!(bound.to_string(), fast.to_string());
    let DriverError::Sql { code, .. } = &fast else {
        panic!("{fast:?}")
    };
    assert_eq!(code.as_deref(), Some("22021"));

    // The cloud row is refused before anything is sent.
    let mut cloud = revision(".atlas_cloud_identifier");
    cloud.partial_hashes = None;
    d.begin().await.unwrap();
    assert!(matches!(
        d.upsert_commit(&loc, &cloud, durability).await,
        Err(DriverError::CloudIdentifier(_))
    ));
    d.rollback().await.unwrap();

    // A failed transaction: the write fails, nothing is committed.
    d.begin().await.unwrap();
    d.execute("CREATE TABLE t (id int)").await.unwrap();
    assert!(d.execute("SELEC 1").await.is_err());
    let err = d
        .upsert_commit(&loc, &revision("x"), durability)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("current transaction is aborted"),
        "{err}"
    );
    assert!(d.in_transaction());
    d.rollback().await.unwrap();
    assert!(!d.table_exists("public", "t").await.unwrap());

    // A failing COMMIT (deferred constraint): no transaction is left, nothing is committed.
    d.execute(
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .unwrap();
    d.begin().await.unwrap();
    d.execute("INSERT INTO c VALUES (1)").await.unwrap();
    let err = d
        .upsert_commit(&loc, &revision("y"), durability)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("foreign key"), "{err}");
    assert!(!d.in_transaction());
    assert_eq!(d.read_revision(&loc, "y").await.unwrap(), None);

    // Without a transaction: written, then the commit's own error.
    let err = d
        .upsert_commit(&loc, &revision("z"), durability)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("without an open transaction"),
        "{err}"
    );
    assert!(d.read_revision(&loc, "z").await.unwrap().is_some());
}

#[tokio::test]
async fn begin_execute_is_begin_then_execute() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();

    d.begin_execute("CREATE TABLE a (id int)")
        .await
        .unwrap()
        .unwrap();
    assert!(d.in_transaction());
    d.rollback().await.unwrap();
    assert!(
        !d.table_exists("public", "a").await.unwrap(),
        "ran inside the transaction"
    );

    // A statement error inside the open transaction.
    let err = d
        .begin_execute("INSERT INTO nope VALUES (1)")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.to_string(), "relation \"nope\" does not exist");
    assert!(d.in_transaction());
    d.rollback().await.unwrap();

    // A syntax error fails the whole text before BEGIN runs; it is still reported as the statement's, with the
    // transaction open as after begin + execute.
    let err = d.begin_execute("SELEC 1").await.unwrap().unwrap_err();
    let DriverError::Sql { message, code } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(message, "syntax error at or near \"SELEC\"");
    assert_eq!(code.as_deref(), Some("42601"));
    assert!(d.in_transaction());
    assert!(d.commit().await.is_err(), "the transaction is failed");

    // Statements that refuse transaction blocks refuse this one too.
    let err = d
        .begin_execute("CREATE INDEX CONCURRENTLY i ON nope (id)")
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot run inside a transaction block"),
        "{err}"
    );
    d.rollback().await.unwrap();

    // Already in a transaction: the BEGIN's error, nothing run.
    d.begin().await.unwrap();
    assert!(matches!(
        d.begin_execute("CREATE TABLE b (id int)").await,
        Err(DriverError::Transaction(_))
    ));
    d.commit().await.unwrap();
    assert!(!d.table_exists("public", "b").await.unwrap());
}

#[tokio::test]
async fn ensure_sees_columns_as_information_schema_does() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = RevisionsLocation::new("atlas_schema_revisions");
    // An older table: two columns missing, one dropped.
    d.execute(
        "CREATE SCHEMA atlas_schema_revisions; CREATE TABLE atlas_schema_revisions.atlas_schema_revisions (\
         version character varying NOT NULL PRIMARY KEY, description character varying NOT NULL, \
         type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, \
         executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, error text NULL, \
         error_stmt text NULL, hash character varying NOT NULL, operator_version int); \
         ALTER TABLE atlas_schema_revisions.atlas_schema_revisions DROP COLUMN operator_version",
    )
    .await
    .unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    let cols = rows(
        &db.url,
        "SELECT column_name || ' ' || data_type FROM information_schema.columns \
         WHERE table_schema = 'atlas_schema_revisions' AND table_name = 'atlas_schema_revisions' \
         ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        cols,
        [
            "version character varying",
            "description character varying",
            "type bigint",
            "applied bigint",
            "total bigint",
            "executed_at timestamp with time zone",
            "execution_time bigint",
            "error text",
            "error_stmt text",
            "hash character varying",
            "partial_hashes jsonb",
            "operator_version character varying",
        ]
    );
    assert!(d.ensure_revisions_table_existed(&loc).await.unwrap());
    // Names that need quoting as literals.
    let odd = RevisionsLocation::new("o'dd \\ schema");
    assert!(!d.ensure_revisions_table_existed(&odd).await.unwrap());
    assert!(d.ensure_revisions_table_existed(&odd).await.unwrap());
    assert!(d.revisions_table_exists(&odd).await.unwrap());
    d.upsert_revision(&odd, &revision("1")).await.unwrap();
    assert_eq!(d.read_revisions(&odd).await.unwrap().len(), 1);
}

#[tokio::test]
async fn upsert_execute_is_upsert_then_execute() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();

    // Both run, in order, inside the transaction.
    d.begin().await.unwrap();
    let rows_before = "SELECT count(*) FROM atlas_schema_revisions.atlas_schema_revisions";
    d.upsert_execute(
        &loc,
        &awkward("a").remove(0),
        &format!("CREATE TABLE seen AS {rows_before}"),
    )
    .await
    .unwrap()
    .unwrap();
    d.commit().await.unwrap();
    assert_eq!(rows(&db.url, "SELECT count::text FROM seen").await, ["1"]);
    let bound = awkward("a").remove(0);
    d.begin().await.unwrap();
    d.upsert_revision(
        &loc,
        &Revision {
            version: "b".into(),
            ..bound.clone()
        },
    )
    .await
    .unwrap();
    d.commit().await.unwrap();
    let b = stored(&db.url, "b").await;
    assert_eq!(
        stored(&db.url, "a").await,
        b,
        "the same row as the bound upsert"
    );

    // The statement's errors are the statement's, whether it fails to parse or to run.
    for (sql, want) in [
        ("SELEC 1", "syntax error at or near \"SELEC\""),
        (
            "INSERT INTO nope VALUES (1)",
            "relation \"nope\" does not exist",
        ),
        ("SELECT 1; SELEC 2", "syntax error at or near \"SELEC\""),
    ] {
        d.begin().await.unwrap();
        let err = d
            .upsert_execute(&loc, &revision("c"), sql)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.to_string(), want, "{sql}");
        d.rollback().await.unwrap();
    }

    // The write's errors are the write's, and the statement does not run.
    d.execute(
        "CREATE FUNCTION no_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no rows today'; END $$; \
         CREATE TRIGGER no_rows BEFORE INSERT ON atlas_schema_revisions.atlas_schema_revisions \
         FOR EACH ROW EXECUTE FUNCTION no_rows()",
    )
    .await
    .unwrap();
    d.begin().await.unwrap();
    let err = d
        .upsert_execute(&loc, &revision("d"), "CREATE TABLE never (id int)")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no rows today");
    d.rollback().await.unwrap();
    // A NUL is rejected by the write, as a bound value is.
    d.execute("DROP TRIGGER no_rows ON atlas_schema_revisions.atlas_schema_revisions")
        .await
        .unwrap();
    let mut nul = revision("e");
    nul.error_stmt = "a\0b".into();
    d.begin().await.unwrap();
    let err = d
        .upsert_execute(&loc, &nul, "CREATE TABLE never (id int)")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("0x00"), "{err}");
    d.rollback().await.unwrap();
    assert!(!d.table_exists("public", "never").await.unwrap());
}

/// The columns `read_revisions_if_ready` leaves out of a completely applied row without error.
fn planning_view(mut r: Revision) -> Revision {
    r.execution_time_nanos = 0;
    r.error_stmt.clear();
    r.partial_hashes = None;
    r.operator_version.clear();
    r
}

#[tokio::test]
async fn read_revisions_if_ready_reads_what_planning_needs() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = RevisionsLocation::new("atlas_schema_revisions");
    // No schema, no table.
    assert_eq!(d.read_revisions_if_ready(&loc).await.unwrap(), None);
    d.ensure_revisions_table(&loc).await.unwrap();
    // Empty (or only the cloud row): take the full path.
    assert_eq!(d.read_revisions_if_ready(&loc).await.unwrap(), None);
    d.execute(
        "INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES \
         ('.atlas_cloud_identifier', '', 2, 0, 0, now(), 0, NULL, NULL, '', NULL, '')",
    )
    .await
    .unwrap();
    assert_eq!(d.read_revisions_if_ready(&loc).await.unwrap(), None);
    for v in ["2", "1"] {
        // Completely applied, without error.
        let mut r = revision(v);
        r.applied = r.total;
        r.error.clear();
        r.error_stmt.clear();
        r.execution_time_nanos = 1_234;
        r.partial_hashes = Some(vec!["h1:x".into()]);
        d.upsert_revision(&loc, &r).await.unwrap();
    }
    let all = d.read_revisions(&loc).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].execution_time_nanos, 1_234);
    assert!(!all[0].operator_version.is_empty());
    // Complete rows without error: the planning columns only.
    let planning: Vec<Revision> = all.iter().cloned().map(planning_view).collect();
    assert_ne!(planning, all);
    assert_eq!(
        d.read_revisions_if_ready(&loc).await.unwrap(),
        Some(planning.clone())
    );
    assert!(!d.in_transaction());

    // A row partly applied, or holding an error, is read whole (with every other row): resuming reads its
    // statement hashes and failed statement.
    let mut partial = revision("3");
    partial.error.clear();
    partial.error_stmt.clear();
    assert!(partial.is_partial());
    d.upsert_revision(&loc, &partial).await.unwrap();
    let whole = d.read_revisions(&loc).await.unwrap();
    assert_eq!(whole.len(), 3);
    assert_eq!(d.read_revisions_if_ready(&loc).await.unwrap(), Some(whole));
    let mut failed = revision("3");
    failed.applied = failed.total;
    failed.error_stmt = "SELECT boom".into();
    assert!(!failed.error.is_empty());
    d.upsert_revision(&loc, &failed).await.unwrap();
    let whole = d.read_revisions(&loc).await.unwrap();
    assert_eq!(whole[2].error_stmt, "SELECT boom");
    assert_eq!(d.read_revisions_if_ready(&loc).await.unwrap(), Some(whole));
    d.delete_revision(&loc, "3").await.unwrap();

    // The read proves only the columns it reads: a table lacking one that only status shows still answers (the
    // engine ensures the table before writing, which adds it).
    let old = RevisionsLocation::new("o");
    d.execute(
        "CREATE SCHEMA o; CREATE TABLE o.atlas_schema_revisions AS \
         SELECT * FROM atlas_schema_revisions.atlas_schema_revisions; \
         ALTER TABLE o.atlas_schema_revisions DROP COLUMN operator_version",
    )
    .await
    .unwrap();
    assert_eq!(
        d.read_revisions_if_ready(&old).await.unwrap(),
        Some(planning.clone())
    );
    // Lacking a planning column: no answer.
    d.execute("ALTER TABLE o.atlas_schema_revisions DROP COLUMN executed_at")
        .await
        .unwrap();
    assert_eq!(d.read_revisions_if_ready(&old).await.unwrap(), None);
    // The session is usable after the failed attempt.
    d.begin().await.unwrap();
    d.commit().await.unwrap();
}

/// A deferred commit sets `synchronous_commit = off` for its own transaction only: a trigger on the revisions table
/// sees the setting each commit's transaction runs with, and the session keeps its own.
#[tokio::test]
async fn a_deferred_commit_relaxes_its_own_transaction_only() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = d.revisions_location(None).await.unwrap();
    d.ensure_revisions_table(&loc).await.unwrap();
    d.execute(
        "CREATE TABLE seen (version text, sync text); \
         CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO seen VALUES (NEW.version, current_setting('synchronous_commit')); RETURN NEW; END $$; \
         CREATE TRIGGER note AFTER INSERT OR UPDATE ON atlas_schema_revisions.atlas_schema_revisions \
         FOR EACH ROW EXECUTE FUNCTION note()",
    )
    .await
    .unwrap();
    assert!(d.defers_commits());
    for (version, durability) in [
        ("1", Durability::Deferred),
        ("2", Durability::Durable),
        ("3", Durability::Deferred),
    ] {
        d.begin().await.unwrap();
        d.upsert_commit(&loc, &revision(version), durability)
            .await
            .unwrap();
        assert!(!d.in_transaction());
    }
    // Outside a transaction (the two-step fallback) nothing is relaxed: the upsert commits on its own.
    d.upsert_revision(&loc, &revision("4")).await.unwrap();
    assert_eq!(
        rows(
            &db.url,
            "SELECT version || ' ' || sync FROM seen ORDER BY version"
        )
        .await,
        ["1 off", "2 on", "3 off", "4 on"]
    );
    assert_eq!(
        rows(
            &db.url,
            "SELECT count(*)::text FROM atlas_schema_revisions.atlas_schema_revisions"
        )
        .await,
        ["4"]
    );
    // The session's own setting is untouched.
    d.execute("CREATE TABLE after_commit AS SELECT current_setting('synchronous_commit') AS s")
        .await
        .unwrap();
    assert_eq!(rows(&db.url, "SELECT s FROM after_commit").await, ["on"]);
}

/// The fingerprint now, checked against the one a read of the same state comes with, and the read's rows against
/// the plain read's.
async fn fingerprint(d: &mut Box<dyn strata_driver::Driver>, loc: &RevisionsLocation) -> String {
    let now = d
        .revisions_fingerprint(loc)
        .await
        .unwrap()
        .expect("a fingerprint");
    let (rows, read) = d.read_revisions_fingerprinted(loc).await.unwrap();
    assert_eq!(
        read.as_ref(),
        Some(&now),
        "a read's fingerprint is the table's"
    );
    assert!(rows.is_some());
    assert_eq!(rows, d.read_revisions_if_ready(loc).await.unwrap());
    now
}

#[tokio::test]
async fn a_fingerprint_changes_whenever_the_rows_may_have() {
    let db = pg_db!();
    let mut d = connect(&db.url).await.unwrap();
    let loc = RevisionsLocation::new("atlas_schema_revisions");
    let t = "atlas_schema_revisions.atlas_schema_revisions";
    // No table, no rows: nothing to fingerprint.
    assert_eq!(d.revisions_fingerprint(&loc).await.unwrap(), None);
    assert_eq!(
        d.read_revisions_fingerprinted(&loc).await.unwrap(),
        (None, None)
    );
    d.ensure_revisions_table(&loc).await.unwrap();
    assert_eq!(d.revisions_fingerprint(&loc).await.unwrap(), None);
    assert_eq!(
        d.read_revisions_fingerprinted(&loc).await.unwrap(),
        (None, None)
    );
    for v in ["1", "2", "3"] {
        let mut r = revision(v);
        r.applied = r.total;
        r.error.clear();
        d.upsert_revision(&loc, &r).await.unwrap();
    }
    let mut before = fingerprint(&mut d, &loc).await;
    assert!(before.starts_with("postgres 1\nserver "), "{before}");

    // What leaves the visible rows as they were keeps the fingerprint: another session's write not yet
    // committed, a write rolled back.
    let mut other_session = sqlx::PgConnection::connect(&db.url.to_string())
        .await
        .unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!(
        "BEGIN; UPDATE {t} SET hash = 'uncommitted' WHERE version = '1'"
    )))
    .execute(&mut other_session)
    .await
    .unwrap();
    d.execute(&format!(
        "BEGIN; UPDATE {t} SET hash = 'x' WHERE version = '2'; ROLLBACK"
    ))
    .await
    .unwrap();
    assert_eq!(fingerprint(&mut d, &loc).await, before);

    // Every committed change is another fingerprint, even one that writes back the same values.
    sqlx::raw_sql("COMMIT")
        .execute(&mut other_session)
        .await
        .unwrap();
    sqlx::Connection::close(other_session).await.unwrap();
    let changes = [
        String::new(), // the other session's commit
        format!("UPDATE {t} SET description = description WHERE version = '2'"),
        format!("DELETE FROM {t} WHERE version = '3'"),
        format!(
            "INSERT INTO {t} SELECT '4', description, type, applied, total, executed_at, execution_time, error, \
             error_stmt, hash, partial_hashes, operator_version FROM {t} WHERE version = '1'"
        ),
        // A rewrite that changes values.
        format!("ALTER TABLE {t} ALTER COLUMN description TYPE text USING upper(description)"),
        // Two columns of one type swap names: the same rows mean something else.
        format!(
            "ALTER TABLE {t} ALTER COLUMN hash TYPE text; ALTER TABLE {t} RENAME COLUMN hash TO h; \
             ALTER TABLE {t} RENAME COLUMN description TO hash; ALTER TABLE {t} RENAME COLUMN h TO description"
        ),
    ];
    let mut seen = vec![before.clone()];
    for change in changes {
        if !change.is_empty() {
            d.execute(&change).await.unwrap();
        }
        // A new session: this one's prepared reads would fail after a change of column types.
        d.close().await.unwrap();
        d = connect(&db.url).await.unwrap();
        let now = fingerprint(&mut d, &loc).await;
        assert!(!seen.contains(&now), "{change:?} kept a fingerprint");
        seen.push(now.clone());
        before = now;
    }
    // The swap is what the reads see: row 1's hash (the other session's write) now reads as its description.
    let rows = d.read_revisions_if_ready(&loc).await.unwrap().unwrap();
    assert_eq!(
        (rows[0].hash.as_str(), rows[0].description.as_str()),
        ("DESC_1", "uncommitted")
    );
    // A rewrite that keeps every row keeps the rows (and, having moved none, the fingerprint).
    d.execute(&format!("VACUUM FULL {t}")).await.unwrap();
    assert_eq!(
        d.read_revisions_if_ready(&loc).await.unwrap().unwrap(),
        rows
    );
    assert_eq!(fingerprint(&mut d, &loc).await, before);

    // A partly applied row makes the read read every column, and it vouches for no fingerprint then.
    let partial = revision("5");
    assert!(partial.is_partial());
    d.upsert_revision(&loc, &partial).await.unwrap();
    assert_eq!(
        d.read_revisions_fingerprinted(&loc).await.unwrap(),
        (Some(d.read_revisions(&loc).await.unwrap()), None)
    );
    d.delete_revision(&loc, "5").await.unwrap();

    // A view has no fingerprint, and is read as before.
    d.execute(&format!(
        "CREATE SCHEMA v; CREATE VIEW v.atlas_schema_revisions AS SELECT * FROM {t}"
    ))
    .await
    .unwrap();
    let view = RevisionsLocation::new("v");
    assert_eq!(d.revisions_fingerprint(&view).await.unwrap(), None);
    let (rows, none) = d.read_revisions_fingerprinted(&view).await.unwrap();
    assert_eq!((rows.as_ref().map(Vec::len), none), (Some(3), None));
    assert_eq!(rows, d.read_revisions_if_ready(&view).await.unwrap());
    // No table yet: nothing read, no fingerprint (the full path creates it).
    let missing = RevisionsLocation::new("no_such_schema");
    assert_eq!(
        d.read_revisions_fingerprinted(&missing).await.unwrap(),
        (None, None)
    );
    // A copy of the table with the same rows is another table.
    d.execute(&format!(
        "CREATE SCHEMA c; CREATE TABLE c.atlas_schema_revisions (LIKE {t}); \
         INSERT INTO c.atlas_schema_revisions SELECT * FROM {t}"
    ))
    .await
    .unwrap();
    let copy = fingerprint(&mut d, &RevisionsLocation::new("c")).await;
    assert_ne!(copy, fingerprint(&mut d, &loc).await);
    assert!(!d.in_transaction());
    d.close().await.unwrap();
}
