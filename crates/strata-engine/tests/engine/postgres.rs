//! PostgreSQL.

use strata_driver::DriverError;
use strata_engine::EngineError;
use strata_migrate::noop_memo;
use strata_migrate::snapshot::Stamp;

use crate::common::{Db, dir, sum_of};
use crate::scenario_tests;
use crate::scenarios::{F1, F2};

scenario_tests!(Db::postgres().await;
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

const CONCURRENTLY: &str = "CREATE TABLE big (id int NOT NULL, a int, b int);\n\
INSERT INTO big SELECT g, g % 7, g % 11 FROM generate_series(1, 1000) AS g;\n\
CREATE INDEX CONCURRENTLY big_a ON big (a);\n\
CREATE INDEX CONCURRENTLY big_b ON big (b);\n\
CREATE UNIQUE INDEX CONCURRENTLY big_id ON big (id);\n";

/// (4) `-- atlas:txmode none` lets `CREATE INDEX CONCURRENTLY` run; the indexes are valid.
#[tokio::test]
async fn txmode_none_create_index_concurrently() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    // Without the directive the file runs in a transaction, which PostgreSQL refuses; nothing persists.
    let d = dir(&[("1_a.sql", F1), ("2_idx.sql", CONCURRENTLY)]);
    let err = db.apply(&d).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
        "{err}"
    );
    assert!(!db.has_table("big").await);

    let file = format!("-- atlas:txmode none\n\n{CONCURRENTLY}");
    let d = dir(&[("1_a.sql", F1), ("2_idx.sql", &file)]);
    let r = db.apply(&d).await.unwrap();
    assert_eq!(r.applied[0].applied.len(), 5);
    let valid = db
        .query(
            "SELECT c.relname::text, i.indisvalid::text, i.indisready::text FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'public.big'::regclass ORDER BY 1",
        )
        .await;
    let want: Vec<Vec<Option<String>>> = ["big_a", "big_b", "big_id"]
        .iter()
        .map(|n| {
            vec![
                Some(n.to_string()),
                Some("true".into()),
                Some("true".into()),
            ]
        })
        .collect();
    assert_eq!(valid, want);
    let rows = db.rows().await;
    let row = &rows[1];
    assert_eq!((row.applied, row.total, row.kind), (5, 5, 2));
    assert_eq!(row.partial_hashes.as_deref(), Some("null"));
    assert_eq!(row.hash, sum_of(&d, "2_idx.sql"));
}

/// (11) Where the revisions table goes: the flag, else the URL's `search_path`, else `atlas_schema_revisions`.
#[tokio::test]
async fn revisions_table_placement() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let d = dir(&[("1_a.sql", F1)]);
    db.apply(&d).await.unwrap();
    assert!(
        db.table_in("atlas_schema_revisions", "atlas_schema_revisions")
            .await
    );
    assert!(db.table_in("public", "t1").await);
    assert!(!db.table_in("public", "atlas_schema_revisions").await);

    // Bound to a schema without a table while the default schema has one: Atlas's safety guard.
    let app = db.test.url_with_search_path("app");
    let err = strata_engine::apply(
        &d,
        &app.parse::<strata_driver::DbUrl>().unwrap(),
        &db.apply_opts(),
        &mut strata_engine::Quiet,
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Driver(DriverError::AmbiguousRevisionTable { .. })
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "ambiguous revision table");
    assert!(!db.schema_exists("app").await);
    let st = strata_engine::status(
        &d,
        &app.parse::<strata_driver::DbUrl>().unwrap(),
        &db.status_opts(),
    )
    .await
    .unwrap_err();
    assert_eq!(st.to_string(), "ambiguous revision table");
}

#[tokio::test]
async fn revisions_table_follows_search_path() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let d = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let app = db.test.url_with_search_path("app");
    let r = strata_engine::apply(
        &d,
        &app.parse::<strata_driver::DbUrl>().unwrap(),
        &db.apply_opts(),
        &mut strata_engine::Quiet,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.url.as_ref().unwrap().schema, "app");
    assert!(db.table_in("app", "atlas_schema_revisions").await);
    assert!(
        db.table_in("app", "t1").await,
        "the files run in the bound schema"
    );
    assert!(!db.table_in("public", "t1").await);
    assert!(!db.schema_exists("atlas_schema_revisions").await);
    assert_eq!(db.rows_in("app").await.len(), 2);
    let st = strata_engine::status(
        &d,
        &app.parse::<strata_driver::DbUrl>().unwrap(),
        &db.status_opts(),
    )
    .await
    .unwrap();
    assert!(st.ok, "{}", st.to_text());
    assert_eq!(st.to_json()["Env"]["URL"]["Schema"], "app");
}

#[tokio::test]
async fn revisions_schema_flag_wins() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let d = dir(&[("1_a.sql", F1)]);
    let mut o = db.apply_opts();
    o.revisions_schema = Some("custom".into());
    db.apply_with(&d, &o).await.unwrap();
    assert!(db.table_in("custom", "atlas_schema_revisions").await);
    assert!(!db.schema_exists("atlas_schema_revisions").await);
    assert_eq!(db.rows_in("custom").await.len(), 1);
    // Without the flag the history is not found: the database looks dirty.
    let err = db.apply(&d).await.unwrap_err();
    assert!(
        err.to_string().contains("connected database is not clean"),
        "{err}"
    );
    let mut s = db.status_opts();
    s.revisions_schema = Some("custom".into());
    let st = strata_engine::status(&d, &db.db_url(), &s).await.unwrap();
    assert!(st.ok, "{}", st.to_text());

    // Flag and search_path together: the flag decides.
    db.exec("CREATE SCHEMA app").await;
    let app = db.test.url_with_search_path("app");
    let d2 = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let r = strata_engine::apply(
        &d2,
        &app.parse::<strata_driver::DbUrl>().unwrap(),
        &o,
        &mut strata_engine::Quiet,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(crate::common::ran(&r), ["2"]);
    assert_eq!(db.rows_in("custom").await.len(), 2);
    assert!(!db.table_in("app", "atlas_schema_revisions").await);
}

/// A deferred constraint fails at COMMIT: still an execution error naming the file; nothing of it persisted.
#[tokio::test]
async fn commit_failure_names_the_file() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let d = dir(&[
        (
            "1_a.sql",
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (pid int REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);\n",
        ),
        ("2_b.sql", "INSERT INTO c (pid) VALUES (5);\n"),
    ]);
    let err = db.apply(&d).await.unwrap_err();
    crate::scenarios::assert_commit_failure(&db, &err, "violates foreign key constraint").await;
}

/// Files in their own transactions commit without waiting for the disk except the last, whose durable commit
/// flushes the earlier ones; a run that stops early writes its last deferred row again, durably, before it
/// reports. A trigger on the revisions table records the `synchronous_commit` each write's transaction ran with.
#[tokio::test]
async fn only_the_last_commit_of_a_run_waits_for_the_disk() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let first = dir(&[("1_a.sql", F1)]);
    db.apply(&first).await.unwrap();
    db.exec(&format!(
        "CREATE TABLE public.seen (n serial, version text, op text, sync text); \
         CREATE FUNCTION public.note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO public.seen (version, op, sync) VALUES (NEW.version, TG_OP, current_setting('synchronous_commit')); \
         RETURN NEW; END $$; \
         CREATE TRIGGER note AFTER INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION public.note()",
        db.rev_table()
    ))
    .await;
    let seen = || async {
        db.query("SELECT version || ' ' || op || ' ' || sync FROM public.seen ORDER BY n")
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect::<Vec<_>>()
    };
    let files = [
        ("1_a.sql", F1),
        ("2_b.sql", "CREATE TABLE b (id int);\n"),
        ("3_c.sql", "CREATE TABLE c (id int);\n"),
        ("4_d.sql", "CREATE TABLE d (id int);\n"),
    ];
    let r = db.apply(&dir(&files)).await.unwrap();
    assert_eq!(r.applied.len(), 3);
    assert_eq!(
        seen().await,
        ["2 INSERT off", "3 INSERT off", "4 INSERT on"]
    );

    // 5 and 6 commit deferred, 7 fails: 6's row is written again, durably, before the error is reported.
    db.exec("DELETE FROM public.seen").await;
    let mut more = files.to_vec();
    more.extend([
        ("5_e.sql", "CREATE TABLE e (id int);\n"),
        ("6_f.sql", "CREATE TABLE f (id int);\n"),
        (
            "7_g.sql",
            "CREATE TABLE g (id int);\nINSERT INTO nope VALUES (1);\n",
        ),
        ("8_h.sql", "CREATE TABLE h (id int);\n"),
    ]);
    let err = db.apply(&dir(&more)).await.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    assert_eq!(
        seen().await,
        ["5 INSERT off", "6 INSERT off", "6 UPDATE on"]
    );
    let rows = db.rows().await;
    assert_eq!(rows.len(), 6, "1-6 applied, 7 rolled back");
    assert!(db.has_table("f").await && !db.has_table("g").await);

    // Only a deferred commit needs settling: a run whose last applied file committed durably writes nothing more.
    db.exec("DELETE FROM public.seen").await;
    let mut fixed = more.clone();
    fixed[6].1 = "CREATE TABLE g (id int);\n";
    fixed.truncate(7);
    let r = db.apply(&dir(&fixed)).await.unwrap();
    assert_eq!(r.applied.len(), 1);
    assert_eq!(seen().await, ["7 INSERT on"]);
}

/// A re-run plans from the revisions it reads with the lock, without proving the table complete: whatever is to be
/// written waits for the catalog check. So a view in the table's place answers a run with nothing to do, and a run
/// with a file to apply is refused before the file runs.
#[tokio::test]
async fn a_view_in_place_of_the_revisions_table_is_refused_before_anything_runs() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let d1 = dir(&[("1_a.sql", F1)]);
    db.apply(&d1).await.unwrap();
    let t = db.rev_table();
    db.exec(&format!(
        "CREATE SCHEMA moved; ALTER TABLE {t} SET SCHEMA moved; \
         CREATE VIEW {t} AS SELECT * FROM moved.atlas_schema_revisions"
    ))
    .await;
    assert!(db.apply(&d1).await.unwrap().applied.is_empty());
    let d2 = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    let err = db.apply(&d2).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(!db.has_table("t3").await, "2_b.sql must not have run");
}

#[tokio::test]
async fn a_noop_memo_answers_only_for_the_same_directory_table_and_options() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let opts = strata_engine::ApplyOptions {
        memo_cache: Some(cache.path().to_path_buf()),
        ..db.apply_opts()
    };
    let memos = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(cache.path().join("revisions"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "memo"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let read = |path: &std::path::Path| noop_memo::decode(&std::fs::read(path).unwrap()).unwrap();
    let d1 = dir(&[("1_a.sql", F1)]);
    assert_eq!(db.apply_with(&d1, &opts).await.unwrap().applied.len(), 1);
    assert!(memos().is_empty(), "a run that writes keeps no memo");
    let first = db.apply_with(&d1, &opts).await.unwrap();
    assert!(first.applied.is_empty());
    assert_eq!(first.current, "1");
    let [memo_file] = memos()
        .try_into()
        .expect("one memo after a run with nothing to do");
    let memo = read(&memo_file);
    assert_eq!(memo.current, "1");

    // While its key matches, the memo is the answer: nothing is read or planned (a memo saying another current
    // version is believed).
    let forge = |current: &str| {
        let forged = noop_memo::NoopMemo {
            current: current.into(),
            ..memo.clone()
        };
        std::fs::write(&memo_file, noop_memo::encode(&forged)).unwrap();
    };
    forge("forged");
    let again = db.apply_with(&d1, &opts).await.unwrap();
    assert_eq!(again.current, "forged");
    assert_eq!(again.to_text(), first.to_text());
    assert_eq!(
        (
            again.pending.len(),
            again.target.as_str(),
            again.url,
            again.dir
        ),
        (0, "", first.url.clone(), first.dir.clone())
    );
    // Given the directory's folder, the memo is passed over without asking the server when its atlas.sum is not
    // the memo's (the directory changed), and used when it is.
    let folder = tempfile::tempdir().unwrap();
    let with_folder = strata_engine::ApplyOptions {
        memo_dir: Some(folder.path().to_path_buf()),
        ..opts.clone()
    };
    std::fs::write(folder.path().join("atlas.sum"), "h1:other\n").unwrap();
    assert_eq!(db.apply_with(&d1, &with_folder).await.unwrap().current, "1");
    forge("forged");
    std::fs::write(folder.path().join("atlas.sum"), d1.sum_bytes().unwrap()).unwrap();
    assert_eq!(
        db.apply_with(&d1, &with_folder).await.unwrap().current,
        "forged"
    );
    // An atlas.sum with the stamp the memo keeps is taken to be the memo's without being read: a memo whose
    // digest says otherwise is consulted all the same (its key decides), and passed over without the stamp.
    let sum_path = folder.path().join("atlas.sum");
    let hinted = |stamp| {
        let forged = noop_memo::NoopMemo {
            current: "hinted".into(),
            sum_digest: [0; 32],
            sum_stamp: stamp,
            ..memo.clone()
        };
        std::fs::write(&memo_file, noop_memo::encode(&forged)).unwrap();
    };
    hinted(Stamp::of(&sum_path));
    assert_eq!(
        db.apply_with(&d1, &with_folder).await.unwrap().current,
        "hinted"
    );
    hinted(None);
    assert_eq!(db.apply_with(&d1, &with_folder).await.unwrap().current, "1");
    let kept = read(&memo_file);
    assert_eq!(
        kept.sum_stamp,
        Stamp::of(&sum_path),
        "the memo keeps the stamp"
    );
    assert!(kept.sum_stamp.is_some());
    // Other options than the memo's run: planned again (and, finding nothing either, a memo for them).
    let other = strata_engine::ApplyOptions {
        limit: strata_migrate::plan::Limit::ToVersion("1".into()),
        ..opts.clone()
    };
    assert_eq!(db.apply_with(&d1, &other).await.unwrap().current, "1");
    forge("forged");
    // Any write to the table, even of the same values, makes it read the table and plan again.
    let t = db.rev_table();
    db.exec(&format!("UPDATE {t} SET description = description"))
        .await;
    assert_eq!(db.apply_with(&d1, &opts).await.unwrap().current, "1");
    assert_eq!(
        read(&memo_file).current,
        "1",
        "a new memo for the new state"
    );
    // So does another directory: a new file is applied, then its no-op remembered.
    forge("forged");
    let d2 = dir(&[("1_a.sql", F1), ("2_b.sql", F2)]);
    assert_eq!(db.apply_with(&d2, &opts).await.unwrap().applied.len(), 1);
    assert!(db.has_table("t3").await);
    assert_eq!(
        read(&memo_file).current,
        "forged",
        "a run that writes leaves the memo"
    );
    assert_eq!(db.apply_with(&d2, &opts).await.unwrap().current, "2");
    assert_eq!(read(&memo_file).current, "2");
    // An edited applied file is caught although the table is unchanged.
    let edited = dir(&[("1_a.sql", F1), ("2_b.sql", &format!("{F2}-- edited\n"))]);
    let err = db.apply_with(&edited, &opts).await.unwrap_err();
    assert!(
        err.to_string().contains("was changed after it was applied"),
        "{err}"
    );
    // Without a cache folder nothing is kept.
    let plain = db.apply_opts();
    assert_eq!(plain.memo_cache, None);
    std::fs::remove_file(&memo_file).unwrap();
    assert!(db.apply_with(&d2, &plain).await.unwrap().applied.is_empty());
    assert!(memos().is_empty());
}
