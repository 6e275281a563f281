//! SQLite.

use strata_driver::DriverError;
use strata_engine::EngineError;

use crate::common::{Db, dir};
use crate::scenario_tests;
use crate::scenarios::F1;

scenario_tests!(Db::sqlite();
    first_apply_reapply_and_status,
    revision_rows_match_atlas,
    failure_mid_file,
    failure_line_of_a_repeated_statement,
    txmode_none_failure_leaves_partial_row_and_resumes,
    txmode_all_rolls_back_earlier_files,
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

/// (11) SQLite keeps the revisions table in `main`; another schema is refused before anything runs.
#[tokio::test]
async fn revisions_schema_must_be_main() {
    let db = Db::sqlite().unwrap();
    let d = dir(&[("1_a.sql", F1)]);
    let mut o = db.apply_opts();
    o.revisions_schema = Some("other".into());
    let err = db.apply_with(&d, &o).await.unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Driver(DriverError::SqliteRevisionsSchema { .. })
        ),
        "{err:?}"
    );
    assert!(!db.has_table("t1").await);
    o.revisions_schema = Some("main".into());
    db.apply_with(&d, &o).await.unwrap();
    assert_eq!(db.rows().await.len(), 1);
}

/// With `_fk=1` a foreign-key violation is found before COMMIT (as Atlas checks): an execution error naming the
/// file; nothing of it persisted.
#[tokio::test]
async fn foreign_key_check_failure_names_the_file() {
    let db = Db::sqlite().unwrap();
    let d = dir(&[
        (
            "1_a.sql",
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (pid int REFERENCES p (id));\n",
        ),
        ("2_b.sql", "INSERT INTO c (pid) VALUES (5);\n"),
    ]);
    let url = format!("{}?_fk=1", db.url());
    let err = strata_engine::apply(
        &d,
        &url.parse::<strata_driver::DbUrl>().unwrap(),
        &db.apply_opts(),
        &mut strata_engine::Quiet,
        &Default::default(),
    )
    .await
    .unwrap_err();
    crate::scenarios::assert_commit_failure(&db, &err, "foreign key").await;
}

/// Files before the last commit together (deferred, see `Durability`); when SQLite itself rolls back the whole
/// transaction (`INSERT OR ROLLBACK` on a conflict), the files applied earlier in it go too: the error names them,
/// the report does not count them as applied, nothing of them persisted, and the next run applies them.
#[tokio::test]
async fn a_whole_transaction_rollback_is_reported_with_the_files_it_took() {
    let db = Db::sqlite().unwrap();
    let mut files = vec![
        (
            "1_u.sql",
            "CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1);\n",
        ),
        ("2_a.sql", "CREATE TABLE a (id int);\n"),
        ("3_b.sql", "CREATE TABLE b (id int);\n"),
        (
            "4_c.sql",
            "CREATE TABLE c (id int);\nINSERT OR ROLLBACK INTO u VALUES (1);\n",
        ),
        ("5_d.sql", "CREATE TABLE d (id int);\n"),
    ];
    let err = db.apply(&dir(&files)).await.unwrap_err();
    let EngineError::Execution(report) = &err else {
        panic!("want an execution error, got {err:?}")
    };
    let msg = err.to_string();
    assert!(
        msg.contains("executing statement") && msg.contains("UNIQUE"),
        "{msg}"
    );
    assert!(
        msg.contains(r#"the transaction holding version(s) "1", "2", "3", applied earlier in this run, ended without a commit"#),
        "{msg}"
    );
    let reported: Vec<&str> = report
        .applied
        .iter()
        .map(|a| a.file.version.as_str())
        .collect();
    assert_eq!(reported, ["4"], "only the failing file is reported");
    assert!(db.rows().await.is_empty());
    for t in ["u", "a", "b", "c"] {
        assert!(!db.has_table(t).await, "{t} rolled back");
    }
    files[3].1 = "CREATE TABLE c (id int);\n";
    let report = db.apply(&dir(&files)).await.unwrap();
    assert_eq!(report.applied.len(), 5);
    assert_eq!(db.rows().await.len(), 5);
}
