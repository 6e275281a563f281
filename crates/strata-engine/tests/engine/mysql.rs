//! MariaDB / MySQL.

use crate::common::{Db, dir, ran};
use crate::scenario_tests;
use crate::scenarios::{BAD, BAD_STMT, F1, F2, FIXED};

scenario_tests!(Db::mysql().await;
    first_apply_reapply_and_status,
    revision_rows_match_atlas,
    failure_mid_file,
    failure_line_of_a_repeated_statement,
    txmode_none_failure_leaves_partial_row_and_resumes,
    dry_run_writes_nothing,
    clean_check_and_baseline,
    allow_dirty_status_matches_apply,
    tampering_is_refused,
    legitimate_directory_changes_are_accepted,
    continues_atlas_history,
    reads_atlas_rows_with_sql_nulls,
    set_middle_and_beyond,
    set_resolves_partial_revision,
    cancellation,
    lock_held_elsewhere_times_out_before_touching_anything,
    empty_and_comment_only_files,
    scan_error_in_a_later_file_applies_nothing,
    concurrent_applies_run_each_file_once,
    upgrades_an_older_atlas_revisions_table,
    cancellation_mid_file,
);

/// DML before the failing statement is still inside the file's transaction: it rolls back, and so does the
/// revision row written in that transaction — nothing of the file persists, no half-truth row either.
#[tokio::test]
async fn dml_failure_rolls_back_the_whole_file() {
    let Some(db) = Db::mysql().await else { return };
    let d = dir(&[("1_a.sql", F1)]);
    db.apply(&d).await.unwrap();
    let dml = "INSERT INTO t1 (id) VALUES (1);\nINSERT INTO t1 (id) VALUES (2);\nINSERT INTO missing (id) VALUES (3);\n";
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", dml)]);
    let err = db.apply(&d).await.unwrap_err();
    assert!(err.to_string().contains("2_b.sql:3"), "{err}");
    assert_eq!(db.count("t1").await, 0);
    let rows = db.rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let st = db.status(&d).await.unwrap();
    assert_eq!(st.next.as_deref(), Some("2"));
    assert!(
        !st.to_text().contains("Last migration attempt"),
        "{}",
        st.to_text()
    );
}

/// (11) The URL's database holds the table unless `--revisions-schema` names another.
#[tokio::test]
async fn revisions_table_placement() {
    let Some(mut db) = Db::mysql().await else {
        return;
    };
    let d = dir(&[("1_a.sql", F1)]);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(r.url.as_ref().unwrap().schema, db.test.name);
    let name = db.test.name.clone();
    assert!(db.table_in(&name, "atlas_schema_revisions").await);
    assert!(db.table_in(&name, "t1").await);

    let other = format!("{name}_rev");
    db.test.mysql_grant_schema(&other).await;
    let mut o = db.apply_opts();
    o.revisions_schema = Some(other.clone());
    // The bound database already holds t1: with a fresh history elsewhere it is dirty.
    let d2 = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let err = db.apply_with(&d2, &o).await.unwrap_err();
    assert!(
        err.to_string().contains("connected database is not clean"),
        "{err}"
    );
    o.baseline = Some("1".into());
    let r = db.apply_with(&d2, &o).await.unwrap();
    assert_eq!(ran(&r), ["2"]);
    assert!(db.table_in(&other, "atlas_schema_revisions").await);
    assert!(
        db.table_in(&name, "t3").await,
        "files run in the URL's database"
    );
    let rows = db.rows_in(&other).await;
    assert_eq!((rows.len(), rows[0].kind, rows[1].kind), (2, 1, 2));
    assert_eq!(
        db.rows().await.len(),
        1,
        "the bound database's history is untouched"
    );
}

/// tx-mode `all` cannot undo DDL on MariaDB: what was committed stays, and the failed file's row records the
/// error exactly as under tx-mode `file`, so status explains it and a fixed file resumes.
#[tokio::test]
async fn txmode_all_keeps_committed_ddl_and_records_the_error() {
    let Some(db) = Db::mysql().await else { return };
    let mut all = db.apply_opts();
    all.tx_mode = strata_engine::TxMode::All;
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", BAD)]);
    let err = db.apply_with(&d, &all).await.unwrap_err();
    assert!(err.to_string().contains("2_b.sql:3"), "{err}");
    let rows = db.rows().await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].applied, rows[0].total), (2, 2));
    let p = &rows[1];
    assert_eq!((p.applied, p.total), (2, 4), "{p:?}");
    assert_eq!(p.error_stmt.as_deref(), Some(BAD_STMT), "{p:?}");
    assert!(
        p.error.as_deref().is_some_and(|e| e.contains("missing")),
        "{p:?}"
    );
    let st = db.status(&d).await.unwrap();
    assert!(
        st.to_text().contains(&format!("  -- SQL:   {BAD_STMT}\n")),
        "{}",
        st.to_text()
    );

    let d = dir(&[("1_a.sql", F1), ("2_b.sql", FIXED)]);
    let r = db.apply_with(&d, &all).await.unwrap();
    assert_eq!(r.applied[0].skipped, 2);
    assert!(db.status(&d).await.unwrap().ok);
}
