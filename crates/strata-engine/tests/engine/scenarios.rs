//! Scenarios that run the same way on every dialect; `postgres.rs`, `mysql.rs` and `sqlite.rs` instantiate them.
//! Where a dialect must behave differently (MariaDB commits DDL implicitly) the scenario says so explicitly.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde_json::Value;
use strata_engine::report::{AppliedFile, FileRef};
use strata_engine::{
    Cancel, EngineError, ExecOrder, Limit, MigrationDir, Observer, PlanError, TxMode,
};
use strata_migrate::plan::statement_sums;

use crate::common::{Db, Kind, Recorder, dir, now_secs, ran, sum_of};

pub const F1: &str = "CREATE TABLE t1 (id int NOT NULL);\nCREATE TABLE t2 (id int NOT NULL);\n";
pub const F2: &str = "CREATE TABLE t3 (id int NOT NULL);\nINSERT INTO t3 (id) VALUES (1);\nCREATE TABLE t4 (id int NOT NULL);\n";
pub const F3: &str = "CREATE TABLE t5 (id int NOT NULL);\n";
/// Fails at statement 3 (line 3).
pub const BAD: &str = "CREATE TABLE t3 (id int NOT NULL);\nCREATE TABLE t4 (id int NOT NULL);\nINSERT INTO missing (id) VALUES (1);\nCREATE TABLE t5 (id int NOT NULL);\n";
pub const BAD_STMT: &str = "INSERT INTO missing (id) VALUES (1);";
/// `BAD` with the failing statement fixed.
pub const FIXED: &str = "CREATE TABLE t3 (id int NOT NULL);\nCREATE TABLE t4 (id int NOT NULL);\nINSERT INTO t3 (id) VALUES (1);\nCREATE TABLE t5 (id int NOT NULL);\n";

fn status_text(current: &str, next: &str, executed: &str, pending: &str, word: &str) -> String {
    format!(
        "Migration Status: {word}\n  -- Current Version: {current}\n  -- Next Version:    {next}\n  -- Executed Files:  {executed}\n  -- Pending Files:   {pending}\n"
    )
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn driver_name(k: Kind) -> &'static str {
    match k {
        Kind::Postgres => "postgres",
        Kind::Mysql => "mysql",
        Kind::Sqlite => "sqlite3",
    }
}

fn versions(files: &[FileRef]) -> Vec<&str> {
    files.iter().map(|f| f.version.as_str()).collect()
}

/// The password in a URL, if it has one.
pub fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    Some(userinfo.split_once(':')?.1.to_string())
}

/// (1) First apply, re-apply and status before, between and after, byte for byte as Atlas prints them.
pub async fn first_apply_reapply_and_status(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);

    let st = db.status(&d).await.unwrap();
    assert_eq!(
        st.to_text(),
        status_text("No migration applied yet", "1", "0", "2", "PENDING")
    );
    assert!(!st.ok);
    assert_eq!(
        (st.current.as_deref(), st.next.as_deref()),
        (None, Some("1"))
    );
    assert_eq!(versions(&st.pending), ["1", "2"]);
    assert_eq!(
        keys(&st.to_json()),
        ["Env", "Available", "Pending", "Current", "Next", "Status"]
    );
    assert_eq!(keys(&st.to_json()["Env"]), ["Driver", "URL", "Dir"]);
    assert_eq!(st.to_json()["Env"]["Driver"], driver_name(db.kind));
    assert_eq!(st.to_json()["Env"]["Dir"], "file://migrations");
    assert_eq!(
        keys(&st.to_json()["Env"]["URL"]),
        [
            "Scheme",
            "Opaque",
            "User",
            "Host",
            "Path",
            "RawPath",
            "OmitHost",
            "ForceQuery",
            "RawQuery",
            "Fragment",
            "RawFragment",
            "Schema"
        ]
    );
    assert_eq!(st.to_json()["Current"], "No migration applied yet");
    assert_eq!(st.to_json()["Next"], "1");
    assert_eq!(st.to_json()["Status"], "PENDING");
    assert_eq!(
        keys(&st.to_json()["Available"][0]),
        ["Name", "Version", "Description"]
    );
    assert_eq!(st.to_json()["Available"][0]["Name"], "1_a.sql");
    assert_eq!(st.to_json()["Available"][0]["Description"], "a");
    if let Some(pw) = password_of(db.url()) {
        assert!(!st.to_json().to_string().contains(&pw), "{}", st.to_json());
        assert_eq!(st.to_json()["Env"]["URL"]["User"], serde_json::json!({}));
    }
    // Status is read-only.
    assert!(!db.has_revisions_table().await);

    // One file first: the upstream golden's middle state.
    let mut one = db.apply_opts();
    one.limit = Limit::Amount(NonZeroUsize::new(1).unwrap());
    let r = db.apply_with(&d, &one).await.unwrap();
    assert_eq!(ran(&r), ["1"]);
    assert_eq!((r.current.as_str(), r.target.as_str()), ("", "1"));
    let text = r.to_text();
    assert!(
        text.starts_with(
            "Migrating to version 1 (1 migrations in total):\n\n  -- migrating version 1\n    -> CREATE TABLE t1 (id int NOT NULL);\n    -> CREATE TABLE t2 (id int NOT NULL);\n  -- ok ("
        ),
        "{text}"
    );
    assert!(
        text.ends_with("  -- 1 migration\n  -- 2 sql statements\n"),
        "{text}"
    );
    assert_eq!(
        r.message.as_deref(),
        Some("Migrated to version 1 from  (1 migrations in total)")
    );
    let st = db.status(&d).await.unwrap();
    assert_eq!(st.to_text(), status_text("1", "2", "1", "1", "PENDING"));

    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
    assert_eq!(
        r.applied[0].applied,
        [
            "CREATE TABLE t3 (id int NOT NULL);",
            "INSERT INTO t3 (id) VALUES (1);",
            "CREATE TABLE t4 (id int NOT NULL);"
        ]
    );
    assert_eq!(
        r.message.as_deref(),
        Some("Migrated to version 2 from 1 (1 migrations in total)")
    );
    let text = r.to_text();
    assert!(
        text.starts_with("Migrating to version 2 from 1 (1 migrations in total):\n"),
        "{text}"
    );
    assert!(
        text.ends_with("  -- 1 migration\n  -- 3 sql statements\n"),
        "{text}"
    );
    assert!(db.has_table("t4").await);

    // Re-apply: nothing pending, nothing written.
    let rows_before = db.rows().await;
    let r = db.apply(&d).await.unwrap();
    assert!(r.applied.is_empty() && r.pending.is_empty(), "{r:?}");
    assert_eq!(r.to_text(), "No migration files to execute\n");
    assert_eq!(r.message.as_deref(), Some("No migration files to execute"));
    assert_eq!(db.rows().await, rows_before);

    let st = db.status(&d).await.unwrap();
    assert_eq!(
        st.to_text(),
        status_text("2", "Already at latest version", "2", "0", "OK")
    );
    assert!(st.ok);
    assert_eq!(
        keys(&st.to_json()),
        ["Env", "Available", "Applied", "Current", "Next", "Status"]
    );
    assert_eq!(st.to_json()["Status"], "OK");
    assert_eq!(st.to_json()["Current"], "2");
    assert_eq!(st.to_json()["Next"], "Already at latest version");
    let applied = &st.to_json()["Applied"][1];
    assert_eq!(
        keys(applied),
        [
            "Version",
            "Description",
            "Type",
            "Applied",
            "Total",
            "ExecutedAt",
            "ExecutionTime",
            "OperatorVersion"
        ]
    );
    assert_eq!(applied["Version"], "2");
    assert_eq!(applied["Type"], "applied");
    assert_eq!(
        (applied["Applied"].as_u64(), applied["Total"].as_u64()),
        (Some(3), Some(3))
    );
    let at = applied["ExecutedAt"].as_str().unwrap();
    let at: jiff::Timestamp = at.parse().unwrap_or_else(|e| panic!("{at}: {e}"));
    assert!((at.as_second() - now_secs()).abs() < 120, "{at}");
}

/// (2) The rows Strata writes are the rows Atlas writes.
pub async fn revision_rows_match_atlas(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let before = now_secs();
    db.apply(&d).await.unwrap();
    let after = now_secs();
    let rows = db.rows().await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, (name, version, desc, n)) in rows
        .iter()
        .zip([("1_a.sql", "1", "a", 2), ("2_b.sql", "2", "b", 3)])
    {
        assert_eq!(row.version, version);
        assert_eq!(row.description, desc);
        assert_eq!(row.kind, 2, "{row:?}");
        assert_eq!((row.applied, row.total), (n, n), "{row:?}");
        assert_eq!(row.hash, sum_of(&d, name), "{row:?}");
        assert_eq!(
            row.partial_hashes.as_deref(),
            Some("null"),
            "partial_hashes is JSON null once a file completes: {row:?}"
        );
        assert_eq!(row.error.as_deref(), Some(""), "{row:?}");
        assert_eq!(row.error_stmt.as_deref(), Some(""), "{row:?}");
        assert_eq!(
            row.operator_version,
            strata_migrate::revision::operator_version()
        );
        assert!(row.operator_version.starts_with("Strata v"), "{row:?}");
        assert!(
            row.executed_at >= before - 2 && row.executed_at <= after + 2,
            "executed_at {} not within [{before}, {after}]",
            row.executed_at
        );
        assert!(
            row.execution_time > 0 && row.execution_time < 60_000_000_000,
            "execution_time is in nanoseconds: {row:?}"
        );
    }
}

/// (3) A failing statement in the middle of a file: the report names file, version and statement; what persists
/// depends on whether DDL is transactional.
pub async fn failure_mid_file(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", BAD)]);
    let err = db.apply(&d).await.unwrap_err();
    let EngineError::Execution(report) = &err else {
        panic!("want an execution error, got {err:?}")
    };
    assert_eq!(ran(report), ["1", "2"]);
    let failed = &report.applied[1];
    assert_eq!(failed.file.name, "2_b.sql");
    assert_eq!(failed.file.version, "2");
    let e = failed
        .error
        .as_ref()
        .expect("the failed file carries its error");
    assert_eq!(e.stmt, BAD_STMT);
    assert!(e.text.contains("missing"), "{}", e.text);
    assert_eq!(
        failed.applied.last().map(String::as_str),
        Some(BAD_STMT),
        "the failing statement is listed last"
    );
    assert_eq!(failed.applied.len(), 3);
    let msg = err.to_string();
    assert_eq!(msg, report.error);
    assert!(
        msg.starts_with(&format!(
            "sql/migrate: executing statement \"{BAD_STMT}\" from version \"2\": "
        )),
        "{msg}"
    );
    assert!(msg.contains("2_b.sql:3"), "file and line: {msg}");
    assert!(report.message.is_none());
    let text = report.to_text();
    assert!(
        text.contains(&format!("    -> {BAD_STMT}\n    {}\n", e.text)),
        "{text}"
    );
    assert!(
        text.ends_with(
            "  -- 1 migration ok, 1 with errors\n  -- 4 sql statements ok, 1 with errors\n"
        ),
        "{text}"
    );

    assert!(db.has_table("t1").await && db.has_table("t2").await);
    let rows = db.rows().await;
    assert_eq!(rows[0].version, "1");
    assert_eq!((rows[0].applied, rows[0].total), (2, 2));

    if db.kind == Kind::Mysql {
        mysql_partial_then_resume(db, &d).await;
        return;
    }
    // Transactional DDL: nothing of the failed file persisted, no row, no table.
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(!db.has_table("t3").await && !db.has_table("t4").await);
    let st = db.status(&d).await.unwrap();
    assert_eq!(st.to_text(), status_text("1", "2", "1", "1", "PENDING"));

    // Fixed and re-hashed: the file runs again from its first statement.
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", FIXED)]);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
    assert_eq!(r.applied[0].skipped, 0);
    assert_eq!(r.applied[0].applied.len(), 4);
    let rows = db.rows().await;
    assert_eq!((rows[1].applied, rows[1].total), (4, 4));
    assert_eq!(rows[1].hash, sum_of(&d, "2_b.sql"));
}

/// MariaDB committed the DDL before the failure: the row is partial; a fixed file resumes where it stopped, an
/// edit to an applied statement is refused.
async fn mysql_partial_then_resume(db: &Db, d: &MigrationDir) {
    let rows = db.rows().await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let p = &rows[1];
    assert_eq!((p.version.as_str(), p.kind), ("2", 2));
    assert_eq!((p.applied, p.total), (2, 4), "{p:?}");
    assert!(
        p.error.as_deref().is_some_and(|e| e.contains("missing")),
        "{p:?}"
    );
    assert_eq!(p.error_stmt.as_deref(), Some(BAD_STMT));
    assert_eq!(p.hash, sum_of(d, "2_b.sql"));
    let sums = statement_sums([
        "CREATE TABLE t3 (id int NOT NULL);",
        "CREATE TABLE t4 (id int NOT NULL);",
    ]);
    let want: Vec<String> = sums.iter().map(|s| format!("h1:{s}")).collect();
    let got: Vec<String> =
        serde_json::from_str(p.partial_hashes.as_deref().expect("partial_hashes set"))
            .expect("a JSON array");
    assert_eq!(got, want);
    assert!(db.has_table("t3").await && db.has_table("t4").await);
    let first_attempt = p.executed_at;

    let st = db.status(d).await.unwrap();
    assert_eq!(
        st.to_text(),
        format!(
            "Migration Status: PENDING\n  -- Current Version: 2 (2 statements applied)\n  -- Next Version:    2 (2 statements left)\n  -- Executed Files:  2 (last one partially)\n  -- Pending Files:   1\n\nLast migration attempt had errors:\n  -- SQL:   {BAD_STMT}\n  -- ERROR: {}\n",
            p.error.as_deref().unwrap()
        )
    );
    assert_eq!(st.to_json()["Count"], 2);
    assert_eq!(st.to_json()["Total"], 4);
    assert_eq!(st.to_json()["SQL"], BAD_STMT);

    // Editing a statement that already ran is refused, nothing changes.
    let edited = BAD.replace(
        "CREATE TABLE t4 (id int NOT NULL);",
        "CREATE TABLE t4 (id bigint NOT NULL);",
    );
    let e = dir(&[("1_a.sql", F1), ("2_b.sql", &edited)]);
    let err = db.apply(&e).await.unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Plan(PlanError::HistoryChanged { statement: 2, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "sql/migrate: history changed: statement 2 from file \"2_b.sql\" changed"
    );
    assert_eq!(db.rows().await, rows);

    // The failing statement fixed and re-hashed: resumes at statement 3 and completes.
    let f = dir(&[("1_a.sql", F1), ("2_b.sql", FIXED)]);
    let r = db.apply(&f).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
    assert_eq!(r.applied[0].skipped, 2);
    assert_eq!(
        r.applied[0].applied,
        [
            "INSERT INTO t3 (id) VALUES (1);",
            "CREATE TABLE t5 (id int NOT NULL);"
        ]
    );
    assert_eq!(r.current, "2");
    let rows = db.rows().await;
    let done = &rows[1];
    assert_eq!((done.applied, done.total), (4, 4), "{done:?}");
    assert_eq!(done.error.as_deref(), Some(""));
    assert_eq!(done.error_stmt.as_deref(), Some(""));
    assert_eq!(done.partial_hashes.as_deref(), Some("null"));
    assert_eq!(done.hash, sum_of(&f, "2_b.sql"));
    assert_eq!(
        done.executed_at, first_attempt,
        "executed_at keeps the first attempt"
    );
    assert_eq!(db.count("t3").await, 1);
    assert!(db.has_table("t5").await);
    let st = db.status(&f).await.unwrap();
    assert!(st.ok, "{}", st.to_text());
}

/// `txmode none`: every statement commits on its own, the row records progress, and a fixed file resumes.
pub async fn txmode_none_failure_leaves_partial_row_and_resumes(db: &Db) {
    let bad = format!("-- atlas:txmode none\n\n{BAD}");
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", &bad)]);
    let err = db.apply(&d).await.unwrap_err();
    assert!(matches!(err, EngineError::Execution(_)), "{err:?}");
    assert!(err.to_string().contains("2_b.sql:5"), "{err}");
    let rows = db.rows().await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[1].applied, rows[1].total), (2, 4), "{:?}", rows[1]);
    assert_eq!(rows[1].error_stmt.as_deref(), Some(BAD_STMT));
    assert!(db.has_table("t4").await);

    let fixed = format!("-- atlas:txmode none\n\n{FIXED}");
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", &fixed)]);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(r.applied[0].skipped, 2);
    let rows = db.rows().await;
    assert_eq!((rows[1].applied, rows[1].total), (4, 4));
    assert_eq!(rows[1].partial_hashes.as_deref(), Some("null"));
    assert_eq!(rows[1].error.as_deref(), Some(""));
    assert!(db.has_table("t5").await);
}

/// (5) tx-mode `all`: a failure in the second file rolls back the first (transactional DDL only).
pub async fn txmode_all_rolls_back_earlier_files(db: &Db) {
    let mut all = db.apply_opts();
    all.tx_mode = TxMode::All;
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", BAD)]);
    let err = db.apply_with(&d, &all).await.unwrap_err();
    let EngineError::Execution(report) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(ran(report), ["1", "2"]);
    assert!(db.rows().await.is_empty(), "file 1 rolled back with file 2");
    assert!(!db.has_table("t1").await && !db.has_table("t3").await);

    // A file directive other than `all` under global `all` is refused before anything runs.
    let with_directive = format!("-- atlas:txmode none\n\n{F2}");
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", &with_directive)]);
    let err = db.apply_with(&d, &all).await.unwrap_err();
    assert!(matches!(err, EngineError::TxModeConflict { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot set txmode directive to \"none\" in \"2_b.sql\" when txmode \"all\" is set globally"
    );
    assert!(!db.has_table("t1").await);

    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let r = db.apply_with(&d, &all).await.unwrap();
    assert_eq!(ran(&r), ["1", "2"]);
    let rows = db.rows().await;
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[1].applied, rows[1].total, rows[1].kind), (3, 3, 2));
}

/// (6) A dry run writes nothing at all, yet reports every statement; the lock is gone afterwards.
pub async fn dry_run_writes_nothing(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let mut opts = db.apply_opts();
    opts.dry_run = true;
    let mut rec = Recorder::default();
    let r = strata_engine::apply(&d, &db.db_url(), &opts, &mut rec, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(ran(&r), ["1", "2"]);
    let stmts: Vec<&str> = r
        .applied
        .iter()
        .flat_map(|f| f.applied.iter().map(String::as_str))
        .collect();
    assert_eq!(
        stmts,
        [
            "CREATE TABLE t1 (id int NOT NULL);",
            "CREATE TABLE t2 (id int NOT NULL);",
            "CREATE TABLE t3 (id int NOT NULL);",
            "INSERT INTO t3 (id) VALUES (1);",
            "CREATE TABLE t4 (id int NOT NULL);"
        ]
    );
    assert_eq!(rec.statements, stmts);
    assert_eq!(rec.planned, Some((2, 5)));
    assert!(!db.has_revisions_table().await, "no revisions table");
    assert!(!db.has_table("t1").await, "no schema change");
    if db.kind == Kind::Postgres {
        assert!(
            !db.schema_exists("atlas_schema_revisions").await,
            "no revisions schema"
        );
        let locks = db
            .scalar(
                "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await;
        assert_eq!(locks.as_deref(), Some("0"));
    }
    if db.kind == Kind::Sqlite {
        let left: Vec<_> = std::fs::read_dir(db.lock_dir.path()).unwrap().collect();
        assert!(left.is_empty(), "lock file left behind: {left:?}");
    }
    // The status still says everything is pending.
    let st = db.status(&d).await.unwrap();
    assert_eq!(versions(&st.pending), ["1", "2"]);

    // The lock is free: a real apply gets it at once (MySQL's named locks are server-wide, and parallel tests
    // share them, so there the wait stays bounded but not zero).
    let mut real = db.apply_opts();
    if db.kind != Kind::Mysql {
        real.lock_timeout = Duration::ZERO;
    }
    let r = db.apply_with(&d, &real).await.unwrap();
    assert_eq!(ran(&r), ["1", "2"]);
    assert_eq!(db.rows().await.len(), 2);

    // Dry run with nothing pending.
    let r = db.apply_with(&d, &opts).await.unwrap();
    assert!(r.applied.is_empty());
}

/// (7) The clean check, `--baseline` and `--allow-dirty`, with status agreeing with apply (Atlas issue 3795).
pub async fn clean_check_and_baseline(db: &Db) {
    db.exec("CREATE TABLE legacy (id int)").await;
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2), ("3_c.sql", F3)]);

    let err = db.apply(&d).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Plan(PlanError::NotClean { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("sql/migrate: connected database is not clean: ")
            && msg.ends_with(". baseline version or allow-dirty is required"),
        "{msg}"
    );
    // Atlas's reasons, word for word: Postgres without a bound schema names the schema; MySQL names the first
    // table of the bound schema by name, which is the revisions table Atlas (and Strata) created just before.
    let reason = match db.kind {
        Kind::Postgres => "found schema \"public\"".to_string(),
        Kind::Mysql => format!(
            "found table \"atlas_schema_revisions\" in schema \"{}\"",
            db.test.name
        ),
        Kind::Sqlite => "found multiple tables: 2".to_string(),
    };
    assert!(msg.contains(&reason), "want {reason}: {msg}");
    let serr = db.status(&d).await.unwrap_err();
    assert_eq!(serr.to_string(), msg, "status refuses exactly as apply");
    assert!(db.rows().await.is_empty());

    let mut sopts = db.status_opts();
    sopts.baseline = Some("1".into());
    let st = strata_engine::status(&d, &db.db_url(), &sopts)
        .await
        .unwrap();
    assert_eq!(versions(&st.pending), ["2", "3"]);
    assert_eq!(
        st.to_text(),
        status_text("No migration applied yet", "2", "0", "2", "PENDING")
    );

    // Dry run with a baseline: no baseline row, no table.
    let mut aopts = db.apply_opts();
    aopts.baseline = Some("1".into());
    aopts.dry_run = true;
    let r = db.apply_with(&d, &aopts).await.unwrap();
    assert_eq!(ran(&r), ["2", "3"]);
    assert_eq!(r.current, "1");
    if db.has_revisions_table().await {
        assert!(db.rows().await.is_empty(), "dry run wrote a baseline row");
    }
    assert!(!db.has_table("t3").await);

    // Unknown baseline and the exclusive flags: the same errors from both.
    for (baseline, dirty, want) in [
        (Some("9"), false, "baseline version \"9\" not found"),
        (
            Some("1"),
            true,
            "sql/migrate: baseline and allow-dirty are mutually exclusive",
        ),
    ] {
        let mut a = db.apply_opts();
        a.baseline = baseline.map(Into::into);
        a.allow_dirty = dirty;
        let mut s = db.status_opts();
        s.baseline = baseline.map(Into::into);
        s.allow_dirty = dirty;
        assert_eq!(db.apply_with(&d, &a).await.unwrap_err().to_string(), want);
        let e = strata_engine::status(&d, &db.db_url(), &s)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), want);
    }

    aopts.dry_run = false;
    let r = db.apply_with(&d, &aopts).await.unwrap();
    assert_eq!(
        versions(&r.pending),
        versions(&st.pending),
        "status predicted the run"
    );
    assert_eq!(ran(&r), ["2", "3"]);
    assert_eq!(r.current, "1");
    let rows = db.rows().await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let b = &rows[0];
    assert_eq!(
        (b.version.as_str(), b.description.as_str(), b.kind),
        ("1", "a", 1)
    );
    assert_eq!((b.applied, b.total, b.hash.as_str()), (0, 0, ""));
    assert_eq!((rows[1].kind, rows[2].kind), (2, 2));
    assert!(!db.has_table("t1").await, "the baseline file never runs");
    assert!(db.has_table("t5").await);
    let st = db.status(&d).await.unwrap();
    assert!(st.ok, "{}", st.to_text());
    assert_eq!(st.to_json()["Applied"][0]["Type"], "baseline");
}

/// (7) `--allow-dirty`: status and apply agree.
pub async fn allow_dirty_status_matches_apply(db: &Db) {
    db.exec("CREATE TABLE legacy (id int)").await;
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let mut s = db.status_opts();
    s.allow_dirty = true;
    let st = strata_engine::status(&d, &db.db_url(), &s).await.unwrap();
    assert_eq!(versions(&st.pending), ["1", "2"]);
    assert_eq!(
        st.to_text(),
        status_text("No migration applied yet", "1", "0", "2", "PENDING")
    );
    let mut a = db.apply_opts();
    a.allow_dirty = true;
    let r = db.apply_with(&d, &a).await.unwrap();
    assert_eq!(ran(&r), versions(&st.pending));
    assert!(db.has_table("legacy").await && db.has_table("t4").await);
    assert!(db.status(&d).await.unwrap().ok);
}

/// (8) Applied files that changed or vanished are refused; files added below applied ones follow the exec order.
pub async fn tampering_is_refused(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("3_c.sql", F3)]);
    db.apply(&d).await.unwrap();
    let rows = db.rows().await;

    let extra = "CREATE TABLE t9 (id int NOT NULL);\n";
    for (edited, name) in [
        (
            dir(&[("1_a.sql", &format!("{F1}{extra}")), ("3_c.sql", F3)]),
            "1_a.sql",
        ),
        (
            dir(&[("1_a.sql", F1), ("3_c.sql", &format!("{F3}{extra}"))]),
            "3_c.sql",
        ),
        (
            dir(&[
                ("1_a.sql", F1),
                ("3_c.sql", &format!("{F3}{extra}")),
                ("4_d.sql", extra),
            ]),
            "3_c.sql",
        ),
    ] {
        let err = db.apply(&edited).await.unwrap_err();
        assert!(matches!(err, EngineError::History(_)), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "migration file {name} was changed after it was applied"
            )),
            "{msg}"
        );
    }
    for (remaining, version) in [(("1_a.sql", F1), "3"), (("3_c.sql", F3), "1")] {
        let removed = dir(&[remaining]);
        let err = db.apply(&removed).await.unwrap_err();
        assert!(matches!(err, EngineError::History(_)), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("migration file for applied version \"{version}\"")),
            "{msg}"
        );
    }
    assert!(!db.has_table("t9").await);
    assert_eq!(db.rows().await, rows, "refusals write nothing");

    // A file added below the applied ones.
    let added = dir(&[("1_a.sql", F1), ("2_b.sql", F2), ("3_c.sql", F3)]);
    let err = db.apply(&added).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Plan(PlanError::OutOfOrder { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "migration file 2_b.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
    );
    let st = db.status(&added).await.unwrap();
    assert_eq!(
        st.to_text(),
        "Migration Status: PENDING\n  -- Current Version: 3\n  -- Next Version:    UNKNOWN\n  -- Executed Files:  2\n  -- Pending Files:   1 (out of order)\n\n  ERROR: migration file 2_b.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"
    );
    let mut skip = db.apply_opts();
    skip.exec_order = ExecOrder::LinearSkip;
    let r = db.apply_with(&added, &skip).await.unwrap();
    assert!(r.applied.is_empty(), "linear-skip ignores it");

    let added = dir(&[
        ("1_a.sql", F1),
        ("2_b.sql", F2),
        ("3_c.sql", F3),
        ("4_d.sql", "CREATE TABLE t6 (id int NOT NULL);\n"),
    ]);
    let mut nl = db.apply_opts();
    nl.exec_order = ExecOrder::NonLinear;
    let r = db.apply_with(&added, &nl).await.unwrap();
    assert_eq!(ran(&r), ["2", "4"], "non-linear runs the added file first");
    let rows = db.rows().await;
    let vs: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(vs, ["1", "2", "3", "4"]);
    assert_eq!(rows[1].hash, sum_of(&added, "2_b.sql"));
    assert!(db.has_table("t4").await && db.has_table("t6").await);
    // An applied file edited after the insertion is still caught.
    let edited = dir(&[
        ("1_a.sql", F1),
        ("2_b.sql", F2),
        ("3_c.sql", &format!("{F3}{extra}")),
        ("4_d.sql", "CREATE TABLE t6 (id int NOT NULL);\n"),
    ]);
    let err = db.apply_with(&edited, &nl).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("migration file 3_c.sql was changed after it was applied"),
        "{err}"
    );
    // Once applied, the new history is consistent.
    assert!(db.apply_with(&added, &nl).await.unwrap().applied.is_empty());
    assert!(db.apply(&added).await.unwrap().applied.is_empty());
}

/// (8) Legitimate directory changes are not tampering: deleting files older than the last checkpoint, and adding
/// a file below the first revision (Atlas ignores such files).
pub async fn legitimate_directory_changes_are_accepted(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    db.apply(&d).await.unwrap();
    let ckpt = "-- atlas:checkpoint\n\nCREATE TABLE t1 (id int NOT NULL);\nCREATE TABLE t2 (id int NOT NULL);\nCREATE TABLE t3 (id int NOT NULL);\nCREATE TABLE t4 (id int NOT NULL);\n";
    let d = dir(&[
        ("1_a.sql", F1),
        ("2_b.sql", F2),
        ("3_ckpt.sql", ckpt),
        ("4_d.sql", F3),
    ]);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(
        ran(&r),
        ["4"],
        "a checkpoint never runs on a database with history"
    );

    // The files the checkpoint squashes are deleted and the directory re-hashed.
    let squashed = dir(&[("3_ckpt.sql", ckpt), ("4_d.sql", F3)]);
    let r = db.apply(&squashed).await.unwrap();
    assert!(r.applied.is_empty(), "{r:?}");
    let squashed = dir(&[
        ("3_ckpt.sql", ckpt),
        ("4_d.sql", F3),
        ("5_e.sql", "CREATE TABLE t6 (id int NOT NULL);\n"),
    ]);
    let r = db.apply(&squashed).await.unwrap();
    assert_eq!(ran(&r), ["5"]);

    // A file below every revision: Atlas neither runs it nor calls it out of order.
    let below = dir(&[
        ("0_z.sql", "CREATE TABLE t0 (id int NOT NULL);\n"),
        ("3_ckpt.sql", ckpt),
        ("4_d.sql", F3),
        ("5_e.sql", "CREATE TABLE t6 (id int NOT NULL);\n"),
    ]);
    let r = db.apply(&below).await.unwrap();
    assert!(r.applied.is_empty(), "{r:?}");
    assert!(!db.has_table("t0").await);
}

/// (9) A history Atlas wrote (its DDL, its encodings, a partial row, the cloud row) continues under Strata.
pub async fn continues_atlas_history(db: &Db) {
    let broken = "CREATE TABLE t3 (id int NOT NULL);\nINSERT INTO nope (id) VALUES (1);\nCREATE TABLE t4 (id int NOT NULL);\n";
    let before = dir(&[("1_a.sql", F1), ("2_b.sql", broken)]);
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2), ("3_c.sql", F3)]);

    // What Atlas leaves behind: file 1 applied, file 2 failed at statement 2 after statement 1 committed.
    db.create_atlas_revisions_table().await;
    db.exec(F1).await;
    db.exec("CREATE TABLE t3 (id int NOT NULL)").await;
    let json_null = Some("null");
    db.insert_atlas_row(
        "1",
        "a",
        2,
        2,
        2,
        "",
        "",
        &sum_of(&before, "1_a.sql"),
        json_null,
    )
    .await;
    let sums = statement_sums(["CREATE TABLE t3 (id int NOT NULL);"]);
    let partial = format!("[\"h1:{}\"]", sums[0]);
    let atlas_error = match db.kind {
        Kind::Mysql => "Error 1146 (42S02): Table 'x.nope' doesn't exist",
        Kind::Postgres => "pq: relation \"nope\" does not exist",
        Kind::Sqlite => "no such table: nope",
    };
    db.insert_atlas_row(
        "2",
        "b",
        2,
        1,
        3,
        atlas_error,
        "INSERT INTO nope (id) VALUES (1);",
        &sum_of(&before, "2_b.sql"),
        Some(&partial),
    )
    .await;
    db.insert_atlas_row(
        ".atlas_cloud_identifier",
        "8d8f6a1c-1d2b-4d35-9c4e-0c2f3c7a9b10",
        2,
        0,
        0,
        "",
        "",
        "",
        None,
    )
    .await;
    let atlas_rows = db.rows().await;
    assert_eq!(atlas_rows.len(), 3);

    let st = db.status(&d).await.unwrap();
    assert_eq!(
        st.to_text(),
        format!(
            "Migration Status: PENDING\n  -- Current Version: 2 (1 statements applied)\n  -- Next Version:    2 (2 statements left)\n  -- Executed Files:  2 (last one partially)\n  -- Pending Files:   2\n\nLast migration attempt had errors:\n  -- SQL:   INSERT INTO nope (id) VALUES (1);\n  -- ERROR: {atlas_error}\n"
        )
    );

    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["2", "3"]);
    assert_eq!(
        r.applied[0].skipped, 1,
        "resumes after Atlas's applied statement"
    );
    assert_eq!((r.current.as_str(), r.target.as_str()), ("2", "3"));

    let rows = db.rows().await;
    let vs: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(vs, [".atlas_cloud_identifier", "1", "2", "3"]);
    assert_eq!(rows[0], atlas_rows[0], "the cloud row is left alone");
    assert_eq!(rows[1], atlas_rows[1], "Atlas's complete row is left alone");
    let two = &rows[2];
    assert_eq!((two.applied, two.total), (3, 3), "{two:?}");
    assert_eq!(two.error.as_deref(), Some(""));
    assert_eq!(two.partial_hashes.as_deref(), Some("null"));
    assert_eq!(two.hash, sum_of(&d, "2_b.sql"));
    assert_eq!(
        two.executed_at, atlas_rows[2].executed_at,
        "first attempt's start kept"
    );
    assert_eq!(rows[3].hash, sum_of(&d, "3_c.sql"));
    assert!(db.has_table("t4").await && db.has_table("t5").await);
    assert!(db.status(&d).await.unwrap().ok);
}

/// (9) Atlas rows with SQL NULL in the nullable columns (older Atlas versions, hand-made baselines).
pub async fn reads_atlas_rows_with_sql_nulls(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    db.create_atlas_revisions_table().await;
    db.exec(F1).await;
    db.insert_atlas_row("1", "a", 2, 2, 2, "", "", &sum_of(&d, "1_a.sql"), None)
        .await;
    db.exec(&format!(
        "UPDATE {} SET error = NULL, error_stmt = NULL",
        db.rev_table()
    ))
    .await;
    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
    assert_eq!(r.current, "1");
}

/// (10) `migrate set`: back to a version in the middle, forward beyond the last revision, and the exact text.
pub async fn set_middle_and_beyond(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2), ("3_c.sql", F3)]);
    let set = |v: Option<&'static str>| db.set(&d, v);
    let err = set(None).await.unwrap_err();
    assert_eq!(err.to_string(), "accepts 1 arg(s), received 0");
    db.apply(&d).await.unwrap();

    let r = set(Some("2")).await.unwrap();
    assert_eq!(
        r.to_text(),
        "Current version is 2 (1 removed):\n\n  - 3 (c)\n\n"
    );
    assert_eq!((r.target.as_str(), r.set, r.removed), ("2", 0, 1));
    let vs: Vec<String> = db.rows().await.into_iter().map(|r| r.version).collect();
    assert_eq!(vs, ["1", "2"]);
    let st = db.status(&d).await.unwrap();
    assert_eq!(st.to_text(), status_text("2", "3", "2", "1", "PENDING"));

    let r = set(Some("1")).await.unwrap();
    assert_eq!(
        r.to_text(),
        "Current version is 1 (1 removed):\n\n  - 2 (b)\n\n"
    );

    let r = set(Some("3")).await.unwrap();
    assert_eq!(
        r.to_text(),
        "Current version is 3 (2 set):\n\n  + 2 (b)\n  + 3 (c)\n\n"
    );
    let rows = db.rows().await;
    assert_eq!(rows.len(), 3);
    for (row, name) in rows[1..].iter().zip(["2_b.sql", "3_c.sql"]) {
        assert_eq!(row.kind, 4, "{row:?}");
        assert_eq!((row.applied, row.total), (0, 0), "{row:?}");
        assert_eq!(row.hash, sum_of(&d, name));
        assert_eq!(row.partial_hashes.as_deref(), Some("null"));
        assert!(row.operator_version.starts_with("Strata v"));
    }
    let st = db.status(&d).await.unwrap();
    assert!(st.ok, "{}", st.to_text());
    assert_eq!(st.to_json()["Applied"][2]["Type"], "manually set");
    assert!(db.apply(&d).await.unwrap().applied.is_empty());

    // Already there: nothing to do, nothing printed.
    let r = set(None).await.unwrap();
    assert_eq!((r.to_text().as_str(), r.set, r.removed), ("", 0, 0));
    let err = set(Some("9")).await.unwrap_err();
    assert_eq!(err.to_string(), "migration with version \"9\" not found");

    let empty = MigrationDir::from_parts("file://migrations", Vec::new(), None).unwrap();
    let r = db.set(&empty, None).await.unwrap();
    assert_eq!(
        r.to_text(),
        "All revisions deleted (3 in total):\n\n  - 1 (a)\n  - 2 (b)\n  - 3 (c)\n\n"
    );
    assert!(db.rows().await.is_empty());
}

/// (10) `migrate set` on a partially applied revision marks it resolved (type 6).
pub async fn set_resolves_partial_revision(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    db.create_atlas_revisions_table().await;
    db.insert_atlas_row(
        "1",
        "a",
        2,
        2,
        2,
        "",
        "",
        &sum_of(&d, "1_a.sql"),
        Some("null"),
    )
    .await;
    db.insert_atlas_row(
        "2",
        "b",
        2,
        1,
        3,
        "boom",
        "INSERT INTO t3 (id) VALUES (1);",
        &sum_of(&d, "2_b.sql"),
        Some("[]"),
    )
    .await;
    let r = db.set(&d, Some("2")).await.unwrap();
    assert_eq!(
        r.to_text(),
        "Current version is 2 (1 set):\n\n  + 2 (b)\n\n"
    );
    let rows = db.rows().await;
    assert_eq!(rows[1].kind, 6);
    assert_eq!((rows[1].applied, rows[1].total), (1, 3));
    let st = db.status(&d).await.unwrap();
    assert_eq!(st.to_json()["Applied"][1]["Type"], "applied + manually set");
    assert!(
        !st.to_text().contains("Last migration attempt had errors"),
        "{}",
        st.to_text()
    );
}

/// An observer that cancels the run once the first file finished.
struct CancelAfterFirst(Cancel);

impl Observer for CancelAfterFirst {
    fn file_finished(&mut self, _file: &AppliedFile) {
        self.0.cancel();
    }
}

/// (13) Cancellation: before the run nothing is applied; between files the finished ones stay recorded.
pub async fn cancellation(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let c = Cancel::new();
    c.cancel();
    let mut rec = Recorder::default();
    let err = strata_engine::apply(&d, &db.db_url(), &db.apply_opts(), &mut rec, &c)
        .await
        .unwrap_err();
    let EngineError::Cancelled { version, report } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(version, "1");
    assert!(report.applied.is_empty());
    assert!(rec.files.is_empty() && rec.statements.is_empty());
    assert!(!db.has_table("t1").await);
    if db.has_revisions_table().await {
        assert!(db.rows().await.is_empty());
    }
    assert!(err.to_string().contains("cancelled"), "{err}");

    let c = Cancel::new();
    let err = strata_engine::apply(
        &d,
        &db.db_url(),
        &db.apply_opts(),
        &mut CancelAfterFirst(c.clone()),
        &c,
    )
    .await
    .unwrap_err();
    let EngineError::Cancelled { version, report } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(version, "2");
    assert_eq!(ran(report), ["1"]);
    let vs: Vec<String> = db.rows().await.into_iter().map(|r| r.version).collect();
    assert_eq!(vs, ["1"]);
    assert!(db.has_table("t1").await && !db.has_table("t3").await);

    // The lock was released: the next run continues at once.
    let mut again = db.apply_opts();
    if db.kind != Kind::Mysql {
        again.lock_timeout = Duration::ZERO;
    }
    let r = db.apply_with(&d, &again).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
}

/// An observer that cancels the run when it sees a given statement (which then still runs: the hook comes first).
struct CancelAt(Cancel, &'static str);

impl Observer for CancelAt {
    fn statement(&mut self, text: &str) {
        if text == self.1 {
            self.0.cancel();
        }
    }
}

/// (13) Cancellation stops at the next statement boundary: a file in a transaction rolls back; where statements
/// commit on their own (MariaDB DDL) the row records the progress and the next run resumes there.
pub async fn cancellation_mid_file(db: &Db) {
    let three = "CREATE TABLE t1 (id int NOT NULL);\nCREATE TABLE t2 (id int NOT NULL);\nCREATE TABLE t3 (id int NOT NULL);\n";
    let d = dir(&[("1_a.sql", three), ("2_b.sql", F3)]);
    let c = Cancel::new();
    let err = strata_engine::apply(
        &d,
        &db.db_url(),
        &db.apply_opts(),
        &mut CancelAt(c.clone(), "CREATE TABLE t2 (id int NOT NULL);"),
        &c,
    )
    .await
    .unwrap_err();
    let EngineError::Cancelled { version, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(version, "1", "stopped inside the first file");
    assert!(
        !db.has_table("t3").await,
        "the statement after the boundary never ran"
    );
    assert!(!db.has_table("t5").await);
    let rows = db.rows().await;
    if db.kind == Kind::Mysql {
        assert!(db.has_table("t2").await);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!((rows[0].applied, rows[0].total), (2, 3), "{rows:?}");
        assert_eq!(rows[0].error.as_deref(), Some(""));
    } else {
        assert!(
            rows.is_empty(),
            "the file's transaction rolled back: {rows:?}"
        );
        assert!(!db.has_table("t1").await);
    }
    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["1", "2"]);
    let skipped = if db.kind == Kind::Mysql { 2 } else { 0 };
    assert_eq!(r.applied[0].skipped, skipped);
    let rows = db.rows().await;
    assert_eq!((rows[0].applied, rows[0].total), (3, 3));
}

/// A file whose transaction failed at COMMIT (`1_a.sql` fine, `2_b.sql` failing): reported like a failed statement.
pub async fn assert_commit_failure(db: &Db, err: &EngineError, text: &str) {
    let EngineError::Execution(report) = err else {
        panic!("want an execution error naming the file, got {err:?}")
    };
    assert_eq!(
        ran(report),
        ["1", "2"],
        "the report keeps the committed file"
    );
    let failed = &report.applied[1];
    let e = failed.error.as_ref().unwrap();
    assert!(e.text.contains(text), "{}", e.text);
    let msg = err.to_string();
    assert!(
        msg.starts_with("sql/migrate: committing version \"2\": ")
            && msg.ends_with(" [at 2_b.sql]"),
        "{msg}"
    );
    assert!(msg.contains(text), "{msg}");
    assert!(report.to_text().contains(&format!("    {}\n", e.text)));
    let rows = db.rows().await;
    let vs: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(vs, ["1"]);
    assert_eq!(db.count("c").await, 0);
}

/// (3) The reported line is the failing statement's, also when an identical statement ran before it.
pub async fn failure_line_of_a_repeated_statement(db: &Db) {
    let d = dir(&[(
        "1_a.sql",
        "CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u (id) VALUES (1);\n\nINSERT INTO u (id) VALUES (1);\n",
    )]);
    let err = db.apply(&d).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.ends_with(" [at 1_a.sql:4:1]"), "{msg}");
}

/// Two applies at once on one database: the migration lock makes every file run exactly once.
pub async fn concurrent_applies_run_each_file_once(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2), ("3_c.sql", F3)]);
    let (a, b) = tokio::join!(db.apply(&d), db.apply(&d));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut all: Vec<&str> = ran(&a).into_iter().chain(ran(&b)).collect();
    all.sort_unstable();
    assert_eq!(all, ["1", "2", "3"], "{a:?}\n{b:?}");
    let rows = db.rows().await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.applied == r.total && r.kind == 2),
        "{rows:?}"
    );
    assert_eq!(db.count("t3").await, 1);
}

/// (9) An older Atlas table without `partial_hashes` and `operator_version`: the missing columns are added (only
/// to that table) and the history continues.
pub async fn upgrades_an_older_atlas_revisions_table(db: &Db) {
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    db.create_atlas_revisions_table().await;
    db.exec(F1).await;
    db.insert_atlas_row(
        "1",
        "a",
        2,
        2,
        2,
        "",
        "",
        &sum_of(&d, "1_a.sql"),
        Some("null"),
    )
    .await;
    let t = db.rev_table();
    for col in ["partial_hashes", "operator_version"] {
        db.exec(&format!("ALTER TABLE {t} DROP COLUMN {col}")).await;
    }
    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
    let rows = db.rows().await;
    assert_eq!(
        rows[0].operator_version, "",
        "the added column defaults to empty"
    );
    assert_eq!(rows[1].partial_hashes.as_deref(), Some("null"));
    assert!(rows[1].operator_version.starts_with("Strata v"));
}

/// Files with no statements (`migrate new` writes empty files) get a row like any other: applied = total = 0.
pub async fn empty_and_comment_only_files(db: &Db) {
    let d = dir(&[
        ("1_empty.sql", ""),
        ("2_comments.sql", "-- nothing to do yet\n/* really */\n"),
        ("3_c.sql", F3),
    ]);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["1", "2", "3"]);
    assert!(r.applied[0].applied.is_empty() && r.applied[1].applied.is_empty());
    let rows = db.rows().await;
    let shape: Vec<(&str, i64, i64, i64)> = rows
        .iter()
        .map(|r| (r.version.as_str(), r.kind, r.applied, r.total))
        .collect();
    assert_eq!(shape, [("1", 2, 0, 0), ("2", 2, 0, 0), ("3", 2, 1, 1)]);
    assert!(db.status(&d).await.unwrap().ok);
    assert!(db.apply(&d).await.unwrap().applied.is_empty());
}

/// Every pending file is scanned before anything runs: an unscannable later file applies nothing.
pub async fn scan_error_in_a_later_file_applies_nothing(db: &Db) {
    let d = dir(&[
        ("1_a.sql", F1),
        (
            "2_b.sql",
            "CREATE TABLE t3 (id int NOT NULL);\nINSERT INTO t3 VALUES ('unclosed);\n",
        ),
    ]);
    let err = db.apply(&d).await.unwrap_err();
    assert!(matches!(err, EngineError::Scan(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("sql/migrate: scanning statements from \"2_b.sql\": "),
        "{msg}"
    );
    assert!(!db.has_table("t1").await);
    if db.has_revisions_table().await {
        assert!(db.rows().await.is_empty());
    }
}

/// The migration lock is taken before anything touches the target: while another session holds it, apply waits
/// `lock_timeout` and fails with Atlas's error, having written nothing; `set` does not wait at all.
pub async fn lock_held_elsewhere_times_out_before_touching_anything(db: &Db) {
    let d = dir(&[("1_a.sql", F1)]);
    let mut holder = strata_driver::connect_with(&db.db_url(), &db.connect())
        .await
        .unwrap();
    holder
        .lock("atlas_migrate_execute", Duration::from_secs(30))
        .await
        .unwrap();
    let mut o = db.apply_opts();
    // MySQL's GET_LOCK takes whole seconds (Atlas passes the truncated value too).
    let wait = if db.kind == Kind::Mysql { 1000 } else { 300 };
    o.lock_timeout = Duration::from_millis(wait);
    let started = std::time::Instant::now();
    let err = db.apply_with(&d, &o).await.unwrap_err();
    let waited = started.elapsed();
    holder.unlock("atlas_migrate_execute").await.unwrap();
    holder.close().await.unwrap();
    assert!(
        matches!(&err, EngineError::Lock(e) if e.is_lock_timeout()),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("acquiring database lock: sql/schema: lock is held by other session"),
        "{err}"
    );
    assert!(
        waited >= Duration::from_millis(wait - 50),
        "gave up too early: {waited:?}"
    );
    assert!(
        !db.has_revisions_table().await,
        "nothing touched before the lock"
    );
    assert!(!db.has_table("t1").await);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(ran(&r), ["1"]);
}
