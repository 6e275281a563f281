//! Table tests for `strata_migrate::plan`: every rule and message of compat §6, §7, §8 (resume), §11.1 and §12,
//! with Atlas's upstream goldens where they exist.

use std::num::NonZeroUsize;

use strata_migrate::plan::{
    self, ExecOrder, Limit, PendingOptions, PlanError, RowStamp, SetChange, SetOp, SetPlan,
    StatusWord,
};
use strata_migrate::revision::CLOUD_IDENTIFIER_VERSION;
use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationDir, MigrationFile, Revision, RevisionType};

// ---------------------------------------------------------------------------------------------------------
// Helpers

/// A regular migration file with one statement per `;`.
fn f(name: &str) -> MigrationFile {
    MigrationFile::new(
        name,
        format!("CREATE TABLE {}(c int);\n", name.replace('.', "_")),
    )
}

/// A checkpoint file.
fn ck(name: &str) -> MigrationFile {
    MigrationFile::new(
        name,
        "-- atlas:checkpoint\n\nCREATE TABLE t1(c int);\nCREATE TABLE t2(c int);\n",
    )
}

/// Files in directory order.
fn dir(files: Vec<MigrationFile>) -> Vec<MigrationFile> {
    MigrationDir::from_parts("test", files, None)
        .unwrap()
        .files()
        .to_vec()
}

/// A fully applied revision (type 2).
fn rev(version: &str) -> Revision {
    rev_partial(version, 1, 1)
}

fn rev_partial(version: &str, applied: u64, total: u64) -> Revision {
    Revision {
        version: version.into(),
        description: String::new(),
        kind: RevisionType::EXECUTED,
        applied,
        total,
        executed_at_unix_nanos: 1_700_000_000_000_000_000,
        execution_time_nanos: 1000,
        error: String::new(),
        error_stmt: String::new(),
        hash: "hash".into(),
        partial_hashes: None,
        operator_version: "Atlas CLI v0.30.0".into(),
    }
}

fn opts() -> PendingOptions {
    PendingOptions::default()
}

fn names(files: &[&MigrationFile]) -> Vec<String> {
    files.iter().map(|f| f.name().to_owned()).collect()
}

fn pending_names(files: &[MigrationFile], revs: &[Revision], o: &PendingOptions) -> Vec<String> {
    names(&plan::pending(files, revs, o).unwrap().pending)
}

fn pending_err(files: &[MigrationFile], revs: &[Revision], o: &PendingOptions) -> String {
    plan::pending(files, revs, o).unwrap_err().to_string()
}

fn stamp() -> RowStamp {
    RowStamp {
        executed_at_unix_nanos: 42,
        operator_version: "Strata v0.1.0".into(),
    }
}

/// Counts statements the way the test files are written: one per `;`.
fn count(f: &MigrationFile) -> Result<usize, PlanError> {
    Ok(f.bytes().iter().filter(|b| **b == b';').count())
}

// ---------------------------------------------------------------------------------------------------------
// ExecOrder

#[test]
fn exec_order_parses_flag_values() {
    for (s, want) in [
        ("", ExecOrder::Linear),
        ("linear", ExecOrder::Linear),
        ("linear-skip", ExecOrder::LinearSkip),
        ("non-linear", ExecOrder::NonLinear),
    ] {
        assert_eq!(s.parse::<ExecOrder>().unwrap(), want, "{s}");
    }
    assert_eq!(
        "linear_skip".parse::<ExecOrder>().unwrap_err().to_string(),
        r#"unknown execution order: "linear_skip""#
    );
    assert_eq!(
        "Linear".parse::<ExecOrder>().unwrap_err().to_string(),
        r#"unknown execution order: "Linear""#
    );
    assert_eq!(ExecOrder::default(), ExecOrder::Linear);
    assert_eq!(ExecOrder::NonLinear.to_string(), "non-linear");
}

#[test]
fn exec_order_from_config_lowercases_and_dashes() {
    assert_eq!(
        ExecOrder::from_config("LINEAR_SKIP").unwrap(),
        ExecOrder::LinearSkip
    );
    assert_eq!(
        ExecOrder::from_config("Non_Linear").unwrap(),
        ExecOrder::NonLinear
    );
    assert_eq!(ExecOrder::from_config("linear").unwrap(), ExecOrder::Linear);
    assert_eq!(
        ExecOrder::from_config("Bad_Order").unwrap_err().to_string(),
        r#"unknown execution order: "bad-order""#
    );
}

// ---------------------------------------------------------------------------------------------------------
// Pending: first run

#[test]
fn first_run_clean_takes_every_file() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let plan = plan::pending(&files, &[], &opts()).unwrap();
    assert_eq!(names(&plan.pending), ["1.sql", "2.sql", "3.sql"]);
    assert_eq!(plan.baseline, None);
    assert_eq!(plan.resume, None);
    assert_eq!(plan.current_version(), None);
    assert_eq!(plan.target_version(), Some("3"));
}

#[test]
fn first_run_starts_at_the_last_checkpoint() {
    let files = dir(vec![
        f("1.sql"),
        ck("2_ck.sql"),
        f("3.sql"),
        ck("4_ck.sql"),
        f("5.sql"),
        f("6.sql"),
    ]);
    assert_eq!(
        pending_names(&files, &[], &opts()),
        ["4_ck.sql", "5.sql", "6.sql"]
    );
    // A checkpoint as the last file: only it.
    let files = dir(vec![f("1.sql"), f("2.sql"), ck("3_checkpoint.sql")]);
    assert_eq!(pending_names(&files, &[], &opts()), ["3_checkpoint.sql"]);
}

#[test]
fn first_run_on_a_dirty_database_needs_a_flag() {
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let dirty = PendingOptions {
        dirty_reason: Some(r#"found table "t" in connected schema"#.into()),
        ..opts()
    };
    assert_eq!(
        pending_err(&files, &[], &dirty),
        r#"sql/migrate: connected database is not clean: found table "t" in connected schema. baseline version or allow-dirty is required"#
    );
    // --allow-dirty: from the last checkpoint, like a clean run.
    let allow = PendingOptions {
        allow_dirty: true,
        ..dirty.clone()
    };
    assert_eq!(pending_names(&files, &[], &allow), ["1.sql", "2.sql"]);
    // --baseline: the files after it.
    let baseline = PendingOptions {
        baseline: Some("1".into()),
        ..dirty.clone()
    };
    let plan = plan::pending(&files, &[], &baseline).unwrap();
    assert_eq!(names(&plan.pending), ["2.sql"]);
    assert_eq!(plan.baseline.map(|f| f.name()), Some("1.sql"));
    // The dirty reason only matters on a first run.
    assert_eq!(pending_names(&files, &[rev("1")], &dirty), ["2.sql"]);
}

#[test]
fn baseline_writes_a_type_1_row_and_skips_through_it() {
    let files = dir(vec![f("1_init.sql"), f("2_second.sql"), f("3_third.sql")]);
    let o = PendingOptions {
        baseline: Some("2".into()),
        ..opts()
    };
    let plan = plan::pending(&files, &[], &o).unwrap();
    assert_eq!(names(&plan.pending), ["3_third.sql"]);
    assert_eq!(plan.current_version(), Some("2"));
    let row = plan.baseline_revision(&stamp()).unwrap();
    assert_eq!(
        row,
        Revision {
            version: "2".into(),
            description: "second".into(),
            kind: RevisionType::BASELINE,
            applied: 0,
            total: 0,
            executed_at_unix_nanos: 42,
            execution_time_nanos: 0,
            error: String::new(),
            error_stmt: String::new(),
            hash: String::new(),
            partial_hashes: None,
            operator_version: "Strata v0.1.0".into(),
        }
    );
}

#[test]
fn baseline_at_the_last_file_leaves_nothing_pending_but_still_writes_the_row() {
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let o = PendingOptions {
        baseline: Some("2".into()),
        ..opts()
    };
    let plan = plan::pending(&files, &[], &o).unwrap();
    assert!(plan.is_empty());
    assert!(plan.baseline_revision(&stamp()).is_some());
}

#[test]
fn baseline_takes_the_last_file_with_that_version_and_ignores_checkpoints() {
    let files = dir(vec![
        f("1_a.sql"),
        f("1_b.sql"),
        f("2.sql"),
        ck("3_ck.sql"),
        f("4.sql"),
    ]);
    let o = PendingOptions {
        baseline: Some("1".into()),
        ..opts()
    };
    let plan = plan::pending(&files, &[], &o).unwrap();
    assert_eq!(plan.baseline.map(|f| f.name()), Some("1_b.sql"));
    // Checkpoint files are never pending after a baseline.
    assert_eq!(names(&plan.pending), ["2.sql", "4.sql"]);
    let o = PendingOptions {
        baseline: Some("3".into()),
        ..opts()
    };
    assert_eq!(
        pending_err(&files, &[], &o),
        r#"baseline version "3" not found"#
    );
}

#[test]
fn baseline_not_found() {
    let files = dir(vec![f("1.sql")]);
    let o = PendingOptions {
        baseline: Some("7".into()),
        ..opts()
    };
    assert_eq!(
        pending_err(&files, &[], &o),
        r#"baseline version "7" not found"#
    );
}

#[test]
fn baseline_is_ignored_once_revisions_exist_and_empty_means_none() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let o = PendingOptions {
        baseline: Some("2".into()),
        ..opts()
    };
    let revs = [rev("1")];
    let plan = plan::pending(&files, &revs, &o).unwrap();
    assert_eq!(names(&plan.pending), ["2.sql", "3.sql"]);
    assert_eq!(plan.baseline, None);
    let empty = PendingOptions {
        baseline: Some(String::new()),
        allow_dirty: true,
        ..opts()
    };
    assert_eq!(
        pending_names(&files, &[], &empty),
        ["1.sql", "2.sql", "3.sql"]
    );
}

#[test]
fn baseline_and_allow_dirty_are_mutually_exclusive() {
    let files = dir(vec![f("1.sql")]);
    let o = PendingOptions {
        baseline: Some("1".into()),
        allow_dirty: true,
        ..opts()
    };
    let want = "sql/migrate: baseline and allow-dirty are mutually exclusive";
    assert_eq!(pending_err(&files, &[], &o), want);
    assert_eq!(pending_err(&files, &[rev("1")], &o), want);
}

// ---------------------------------------------------------------------------------------------------------
// Pending: with revisions

#[test]
fn applied_files_are_not_pending() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    assert_eq!(
        pending_names(&files, &[rev("1")], &opts()),
        ["2.sql", "3.sql"]
    );
    let revs = [rev("1"), rev("2"), rev("3")];
    let plan = plan::pending(&files, &revs, &opts()).unwrap();
    assert!(plan.is_empty());
    assert_eq!(plan.current_version(), Some("3"));
    assert_eq!(plan.target_version(), None);
    assert_eq!(
        plan::NO_PENDING_MIGRATION_FILES,
        "sql/migrate: no pending migration files"
    );
    assert_eq!(
        plan::NO_MIGRATION_FILES_TO_EXECUTE,
        "No migration files to execute"
    );
}

#[test]
fn versions_compare_as_strings() {
    // "10" < "9": with 9 applied, 10 sorts before it and is out of order, not pending after it.
    let files = dir(vec![f("8.sql"), f("9.sql"), f("10.sql")]);
    assert_eq!(
        names(&files.iter().collect::<Vec<_>>()),
        ["10.sql", "8.sql", "9.sql"]
    );
    assert_eq!(pending_names(&files, &[rev("8")], &opts()), ["9.sql"]);
    assert_eq!(
        pending_err(&files, &[rev("10"), rev("9")], &opts()),
        "migration file 8.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
    );
}

#[test]
fn revisions_below_every_file_make_everything_pending() {
    let files = dir(vec![f("2.sql"), f("3.sql")]);
    assert_eq!(
        pending_names(&files, &[rev("1")], &opts()),
        ["2.sql", "3.sql"]
    );
}

#[test]
fn revisions_and_an_empty_directory_mean_nothing_pending() {
    assert!(plan::pending(&[], &[rev("1")], &opts()).unwrap().is_empty());
    // Even a partial last revision: nothing to resume from.
    assert!(
        plan::pending(&[], &[rev_partial("1", 1, 2)], &opts())
            .unwrap()
            .is_empty()
    );
    // Only checkpoints, last revision fully applied.
    let files = dir(vec![ck("1_ck.sql")]);
    assert!(
        plan::pending(&files, &[rev("1")], &opts())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn checkpoints_are_not_pending_once_revisions_exist() {
    let files = dir(vec![
        f("1.sql"),
        f("2.sql"),
        ck("3_checkpoint.sql"),
        f("4.sql"),
    ]);
    // Started from the checkpoint (upstream TestReporter_FromCheckpoint).
    assert!(
        plan::pending(&files[..3], &[rev("3")], &opts())
            .unwrap()
            .is_empty()
    );
    assert_eq!(pending_names(&files, &[rev("3")], &opts()), ["4.sql"]);
    // Started before it: the checkpoint is skipped.
    assert_eq!(
        pending_names(&files, &[rev("1"), rev("2")], &opts()),
        ["4.sql"]
    );
}

#[test]
fn partially_applied_last_revision_is_resumed() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let revs = [rev("1"), rev_partial("2", 1, 3)];
    let plan = plan::pending(&files, &revs, &opts()).unwrap();
    assert_eq!(names(&plan.pending), ["2.sql", "3.sql"]);
    let resume = plan.resume.unwrap();
    assert_eq!(resume.index, 0);
    assert_eq!(resume.revision.version, "2");
    assert_eq!(plan.current_version(), Some("2"));
}

#[test]
fn applied_greater_than_total_also_counts_as_partial() {
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let revs = [rev_partial("1", 3, 2)];
    let plan = plan::pending(&files, &revs, &opts()).unwrap();
    assert_eq!(names(&plan.pending), ["1.sql", "2.sql"]);
    assert!(plan.resume.is_some());
}

#[test]
fn manually_set_partial_revision_is_still_partial_for_pending() {
    // §12 note: `migrate set` turns a partial revision into type 6 without touching applied/total.
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let mut r = rev_partial("1", 1, 2);
    r.kind = RevisionType::EXECUTED.with(RevisionType::RESOLVED);
    let revs = [r];
    let plan = plan::pending(&files, &revs, &opts()).unwrap();
    assert_eq!(names(&plan.pending), ["1.sql", "2.sql"]);
    assert_eq!(plan.resume.unwrap().revision.applied, 1);
}

#[test]
fn partially_applied_checkpoint_is_resumed_with_every_later_regular_file() {
    let files = dir(vec![
        f("1.sql"),
        ck("2_ck.sql"),
        f("3.sql"),
        ck("4_ck.sql"),
        f("5.sql"),
    ]);
    let revs = [rev_partial("2", 1, 2)];
    let plan = plan::pending(&files, &revs, &opts()).unwrap();
    assert_eq!(names(&plan.pending), ["2_ck.sql", "3.sql", "5.sql"]);
    assert_eq!(plan.resume.unwrap().index, 0);
}

#[test]
fn missing_file_for_a_partial_revision() {
    let files = dir(vec![f("1.sql"), f("3.sql")]);
    let mut r = rev_partial("2", 1, 3);
    r.description = "add_users".into();
    assert_eq!(
        pending_err(&files, &[rev("1"), r], &opts()),
        r#"sql/migrate: missing migration: revision "2_add_users.sql" is partially applied but migration file was not found"#
    );
    // Atlas joins version and description with `_` even when the description is empty.
    assert_eq!(
        pending_err(&files, &[rev("1"), rev_partial("2", 0, 3)], &opts()),
        r#"sql/migrate: missing migration: revision "2_.sql" is partially applied but migration file was not found"#
    );
}

#[test]
fn out_of_order_files_per_exec_order() {
    let files = dir(vec![
        f("1.sql"),
        f("1.5.sql"),
        f("1.6.sql"),
        f("2.sql"),
        f("3.sql"),
    ]);
    let revs = [rev("1"), rev("2")];
    // linear: an error naming every file, one or several.
    assert_eq!(
        pending_err(&files, &revs, &opts()),
        "migration files 1.5.sql, 1.6.sql were added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
    );
    let one = dir(vec![f("1.sql"), f("1.5.sql"), f("2.sql")]);
    assert_eq!(
        pending_err(&one, &revs, &opts()),
        "migration file 1.5.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
    );
    match plan::pending(&files, &revs, &opts()).unwrap_err() {
        PlanError::OutOfOrder {
            out_of_order,
            pending,
        } => {
            assert_eq!(out_of_order, ["1.5.sql", "1.6.sql"]);
            assert_eq!(pending, ["3.sql"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    // linear-skip: ignored.
    let skip = PendingOptions {
        exec_order: ExecOrder::LinearSkip,
        ..opts()
    };
    assert_eq!(pending_names(&files, &revs, &skip), ["3.sql"]);
    // non-linear: prepended.
    let non = PendingOptions {
        exec_order: ExecOrder::NonLinear,
        ..opts()
    };
    let plan = plan::pending(&files, &revs, &non).unwrap();
    assert_eq!(names(&plan.pending), ["1.5.sql", "1.6.sql", "3.sql"]);
    assert_eq!(names(&plan.out_of_order), ["1.5.sql", "1.6.sql"]);
    // Only out-of-order files: nothing else pending.
    let only = dir(vec![f("1.sql"), f("1.5.sql"), f("2.sql")]);
    assert_eq!(pending_names(&only, &revs, &non), ["1.5.sql"]);
    assert!(plan::pending(&only, &revs, &skip).unwrap().is_empty());
}

#[test]
fn files_before_the_first_revision_are_not_out_of_order() {
    // A baseline at 2: file 1 precedes the first revision, so it is neither pending nor out of order.
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let mut base = rev("2");
    base.kind = RevisionType::BASELINE;
    assert_eq!(pending_names(&files, &[base], &opts()), ["3.sql"]);
}

#[test]
fn out_of_order_with_a_partial_last_revision() {
    let files = dir(vec![f("1.sql"), f("1.5.sql"), f("2.sql"), f("3.sql")]);
    let revs = [rev("1"), rev_partial("2", 1, 2)];
    assert_eq!(
        pending_err(&files, &revs, &opts()),
        "migration file 1.5.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error"
    );
    let non = PendingOptions {
        exec_order: ExecOrder::NonLinear,
        ..opts()
    };
    let plan = plan::pending(&files, &revs, &non).unwrap();
    assert_eq!(names(&plan.pending), ["1.5.sql", "2.sql", "3.sql"]);
    // The partial file moved behind the prepended one.
    assert_eq!(plan.resume.unwrap().index, 1);
}

#[test]
fn the_cloud_identifier_row_is_invisible() {
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let mut cloud = rev(CLOUD_IDENTIFIER_VERSION);
    cloud.description = "0f2b8c3e-uuid".into();
    // Alone it does not count as a revision: this is still a first run.
    let dirty = PendingOptions {
        dirty_reason: Some("x".into()),
        ..opts()
    };
    assert!(pending_err(&files, std::slice::from_ref(&cloud), &dirty).contains("not clean"));
    assert_eq!(
        pending_names(&files, &[cloud.clone(), rev("1")], &opts()),
        ["2.sql"]
    );
    assert_eq!(
        pending_names(&files, &[rev("1"), cloud], &opts()),
        ["2.sql"]
    );
}

#[test]
fn unreadable_directives_fail_the_plan() {
    let files = dir(vec![MigrationFile::new(
        "1.sql",
        "-- atlas:bogus\n\nSELECT 1;\n",
    )]);
    let err = plan::pending(&files, &[], &opts()).unwrap_err();
    assert!(matches!(err, PlanError::Dir(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------------------
// Limits: [amount] and --to-version

#[test]
fn amount_takes_a_prefix() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let p = |n| {
        let plan = plan::pending(&files, &[], &opts()).unwrap();
        names(
            &plan
                .limit(&Limit::Amount(NonZeroUsize::new(n).unwrap()))
                .unwrap()
                .pending,
        )
    };
    assert_eq!(p(1), ["1.sql"]);
    assert_eq!(p(2), ["1.sql", "2.sql"]);
    assert_eq!(p(10), ["1.sql", "2.sql", "3.sql"]);
    let all = plan::pending(&files, &[], &opts())
        .unwrap()
        .limit(&Limit::All)
        .unwrap();
    assert_eq!(all.pending.len(), 3);
}

#[test]
fn amount_keeps_or_drops_the_resume_point() {
    let files = dir(vec![f("1.sql"), f("1.5.sql"), f("2.sql"), f("3.sql")]);
    let non = PendingOptions {
        exec_order: ExecOrder::NonLinear,
        ..opts()
    };
    let revs = [rev("1"), rev_partial("2", 1, 2)];
    let one = NonZeroUsize::new(1).unwrap();
    let plan = plan::pending(&files, &revs, &non)
        .unwrap()
        .limit(&Limit::Amount(one))
        .unwrap();
    assert_eq!(names(&plan.pending), ["1.5.sql"]);
    assert_eq!(plan.resume, None);
    let two = NonZeroUsize::new(2).unwrap();
    let plan = plan::pending(&files, &revs, &non)
        .unwrap()
        .limit(&Limit::Amount(two))
        .unwrap();
    assert_eq!(plan.resume.unwrap().index, 1);
}

#[test]
fn amount_argument_parses_like_atlas() {
    assert_eq!(plan::parse_amount("2").unwrap().get(), 2);
    assert_eq!(plan::parse_amount("+3").unwrap().get(), 3);
    assert_eq!(plan::parse_amount("007").unwrap().get(), 7);
    for (arg, msg) in [
        (
            "abc",
            r#"invalid amount argument "abc" (invalid syntax). Omit the argument or pass a valid integer instead"#,
        ),
        (
            "",
            r#"invalid amount argument "" (invalid syntax). Omit the argument or pass a valid integer instead"#,
        ),
        (
            "1.5",
            r#"invalid amount argument "1.5" (invalid syntax). Omit the argument or pass a valid integer instead"#,
        ),
        (
            "-",
            r#"invalid amount argument "-" (invalid syntax). Omit the argument or pass a valid integer instead"#,
        ),
        (
            "99999999999999999999",
            r#"invalid amount argument "99999999999999999999" (value out of range). Omit the argument or pass a valid integer instead"#,
        ),
        ("0", "cannot apply '0' migration files"),
        ("-1", "cannot apply '-1' migration files"),
    ] {
        assert_eq!(
            plan::parse_amount(arg).unwrap_err().to_string(),
            msg,
            "{arg:?}"
        );
    }
}

#[test]
fn to_version_applies_up_to_and_including_it() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql"), f("4.sql")]);
    let to = |v: &str, revs: &[Revision]| {
        plan::pending(&files, revs, &opts())
            .unwrap()
            .limit(&Limit::ToVersion(v.into()))
            .map(|p| names(&p.pending))
    };
    assert_eq!(to("1", &[]).unwrap(), ["1.sql"]);
    assert_eq!(to("3", &[rev("1")]).unwrap(), ["2.sql", "3.sql"]);
    assert_eq!(to("4", &[rev("1")]).unwrap(), ["2.sql", "3.sql", "4.sql"]);
    assert_eq!(
        to("9", &[]).unwrap_err().to_string(),
        r#"sql/migrate: migration with version "9" not found"#
    );
    assert_eq!(
        to("1", &[rev("1"), rev("2")]).unwrap_err().to_string(),
        r#"sql/migrate: migration with version "1" is already applied (the database is at version "2"); pass a pending version to --to-version, or omit it to apply everything pending"#
    );
    // Nothing pending: a known version is a no-op, an unknown one still an error.
    let all = [rev("1"), rev("2"), rev("3"), rev("4")];
    assert!(to("2", &all).unwrap().is_empty());
    assert!(to("5", &all).is_err());
}

#[test]
fn to_version_that_exists_but_is_not_pending() {
    let files = dir(vec![f("1.sql"), f("2.sql"), ck("3_ck.sql"), f("4.sql")]);
    let revs = [rev("1")];
    let plan = plan::pending(&files, &revs, &opts()).unwrap();
    assert_eq!(
        plan.limit(&Limit::ToVersion("3".into()))
            .unwrap_err()
            .to_string(),
        r#"sql/migrate: migration with version "3" is not pending (pending files: 2, 4); pass one of the pending versions to --to-version"#
    );
}

#[test]
fn to_version_takes_the_last_pending_file_with_that_version() {
    let files = dir(vec![f("1_a.sql"), f("1_b.sql"), f("2.sql")]);
    let plan = plan::pending(&files, &[], &opts()).unwrap();
    let plan = plan.limit(&Limit::ToVersion("1".into())).unwrap();
    assert_eq!(names(&plan.pending), ["1_a.sql", "1_b.sql"]);
}

// ---------------------------------------------------------------------------------------------------------
// Partial hashes and resume (§6, §8 step 4)

#[test]
fn statement_sums_run_over_every_statement() {
    let sums = plan::statement_sums(["CREATE TABLE t1(c int);", "CREATE TABLE t2(c int);"]);
    assert_eq!(
        sums,
        [
            "VwX6XjZo/IhrsKqz0c9WTQYF1/ruL+e4wXPazWsNIvI=",
            "jQceal9jzOOV0XhGvAZ1RFWJdQfczKKTzlMezOLaiuQ="
        ]
    );
    assert_eq!(
        plan::stored_partial_hash(&sums[0]),
        "h1:VwX6XjZo/IhrsKqz0c9WTQYF1/ruL+e4wXPazWsNIvI="
    );
    assert!(plan::statement_sums(std::iter::empty::<&str>()).is_empty());
}

#[test]
fn resume_check() {
    let stmts = [
        "CREATE TABLE a(c int);",
        "CREATE TABLE b(c int);",
        "BROKEN;",
    ];
    let sums = plan::statement_sums(stmts);
    let mut r = rev_partial("3", 2, 3);
    r.partial_hashes = Some(
        sums[..2]
            .iter()
            .map(|s| plan::stored_partial_hash(s))
            .collect(),
    );
    assert_eq!(plan::check_resume("3_x.sql", &sums, &r).unwrap(), 2);

    // The second statement changed.
    let changed = plan::statement_sums([
        "CREATE TABLE a(c int);",
        "CREATE TABLE b(c bigint);",
        "FIXED;",
    ]);
    assert_eq!(
        plan::check_resume("3_x.sql", &changed, &r)
            .unwrap_err()
            .to_string(),
        r#"sql/migrate: history changed: statement 2 from file "3_x.sql" changed"#
    );
    // Only the not-yet-applied statement changed: fine.
    let fixed =
        plan::statement_sums(["CREATE TABLE a(c int);", "CREATE TABLE b(c int);", "FIXED;"]);
    assert_eq!(plan::check_resume("3_x.sql", &fixed, &r).unwrap(), 2);
    // The file shrank below the applied count: reported, not a crash.
    let shorter = plan::statement_sums(["CREATE TABLE a(c int);"]);
    assert_eq!(
        plan::check_resume("3_x.sql", &shorter, &r)
            .unwrap_err()
            .to_string(),
        r#"sql/migrate: history changed: statement 2 from file "3_x.sql" changed"#
    );
    assert!(matches!(
        plan::check_resume("3_x.sql", &[], &r),
        Err(PlanError::HistoryChanged { statement: 1, .. })
    ));
    // Stored hashes without the prefix are accepted (Atlas trims it if present).
    r.partial_hashes = Some(sums[..2].to_vec());
    assert_eq!(plan::check_resume("3_x.sql", &sums, &r).unwrap(), 2);
    // Fewer stored hashes than applied statements: reported, not a crash.
    r.partial_hashes = Some(vec![plan::stored_partial_hash(&sums[0])]);
    assert!(matches!(
        plan::check_resume("3_x.sql", &sums, &r),
        Err(PlanError::HistoryChanged { statement: 2, .. })
    ));
    r.partial_hashes = None;
    assert!(matches!(
        plan::check_resume("3_x.sql", &sums, &r),
        Err(PlanError::HistoryChanged { statement: 1, .. })
    ));
    // Nothing applied yet: nothing to check.
    assert_eq!(
        plan::check_resume("3_x.sql", &sums, &rev_partial("3", 0, 3)).unwrap(),
        0
    );
}

#[test]
fn resume_check_quotes_names_like_go() {
    let r = rev_partial("1", 1, 2);
    assert_eq!(
        plan::check_resume("1_\"odd\".sql", &[], &r)
            .unwrap_err()
            .to_string(),
        r#"sql/migrate: history changed: statement 1 from file "1_\"odd\".sql" changed"#
    );
}

// ---------------------------------------------------------------------------------------------------------
// Status (§11.1)

fn status_text(files: &[MigrationFile], revs: &[Revision], o: &PendingOptions) -> String {
    plan::status(files, revs, o, count).unwrap().render(false)
}

#[test]
fn status_golden_two_files() {
    // §11.1: the upstream golden, two files `1` and `2`.
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    assert_eq!(
        status_text(&files, &[], &opts()),
        "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    1\n  -- Executed Files:  0\n  -- Pending Files:   2\n"
    );
    assert_eq!(
        status_text(&files, &[rev("1")], &opts()),
        "Migration Status: PENDING\n  -- Current Version: 1\n  -- Next Version:    2\n  -- Executed Files:  1\n  -- Pending Files:   1\n"
    );
    assert_eq!(
        status_text(&files, &[rev("1"), rev("2")], &opts()),
        "Migration Status: OK\n  -- Current Version: 2\n  -- Next Version:    Already at latest version\n  -- Executed Files:  2\n  -- Pending Files:   0\n"
    );
}

#[test]
fn status_golden_partial_then_fixed() {
    // Upstream TestReporter_Status: the third file fails at its second statement, then is fixed.
    let broken = MigrationFile::new(
        "3.sql",
        "CREATE TABLE t3(c int);\nTHIS LINE ADDS A SYNTAX ERROR;\n",
    );
    let files = dir(vec![f("1.sql"), f("2.sql"), broken]);
    let mut third = rev_partial("3", 1, 2);
    third.error = "near \"THIS\": syntax error".into();
    third.error_stmt = "THIS LINE ADDS A SYNTAX ERROR;".into();
    let revs = [rev("1"), rev("2"), third];
    let st = plan::status(&files, &revs, &opts(), count).unwrap();
    assert_eq!(st.status, StatusWord::Pending);
    assert_eq!((st.count, st.total, st.left()), (1, 2, 1));
    assert!(st.is_partial());
    assert_eq!(
        st.render(false),
        r#"Migration Status: PENDING
  -- Current Version: 3 (1 statements applied)
  -- Next Version:    3 (1 statements left)
  -- Executed Files:  3 (last one partially)
  -- Pending Files:   1

Last migration attempt had errors:
  -- SQL:   THIS LINE ADDS A SYNTAX ERROR;
  -- ERROR: near "THIS": syntax error
"#
    );
    let done = [rev("1"), rev("2"), rev("3")];
    assert_eq!(
        status_text(&files, &done, &opts()),
        "Migration Status: OK\n  -- Current Version: 3\n  -- Next Version:    Already at latest version\n  -- Executed Files:  3\n  -- Pending Files:   0\n"
    );
}

#[test]
fn status_partial_replaces_newlines_and_uses_the_file_as_it_is_now() {
    let files = dir(vec![MigrationFile::new("1.sql", "A;\nB;\nC;\nD;\n")]);
    let mut r = rev_partial("1", 2, 3);
    r.error = "line one\nline two".into();
    r.error_stmt = "SELECT\n1;".into();
    let revs = [r];
    let st = plan::status(&files, &revs, &opts(), count).unwrap();
    // Total is the file's statement count now (4), not the stored total (3).
    assert_eq!((st.count, st.total), (2, 4));
    assert_eq!(st.sql, "SELECT 1;");
    assert_eq!(st.error, "line one line two");
    assert!(st.render(false).contains("(2 statements left)"));
}

#[test]
fn status_ignores_a_resolved_partial_revision() {
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let mut r = rev_partial("1", 1, 2);
    r.kind = RevisionType::EXECUTED.with(RevisionType::RESOLVED);
    r.error = "boom".into();
    let revs = [r];
    let st = plan::status(&files, &revs, &opts(), |_| -> Result<usize, PlanError> {
        panic!("not needed")
    })
    .unwrap();
    assert!(!st.is_partial());
    // Pending still resumes it (§12 note).
    assert_eq!(names(&st.pending), ["1.sql", "2.sql"]);
    assert_eq!(
        st.render(false),
        "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    1\n  -- Executed Files:  1\n  -- Pending Files:   2\n"
    );
}

#[test]
fn status_golden_from_checkpoint() {
    // Upstream TestReporter_FromCheckpoint.
    let mut files = dir(vec![f("1.sql"), f("2.sql"), ck("3_checkpoint.sql")]);
    let st = plan::status(&files, &[], &opts(), count).unwrap();
    assert!(st.from_checkpoint);
    assert_eq!(
        st.render(false),
        "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    3 (checkpoint)\n  -- Executed Files:  0\n  -- Pending Files:   1\n"
    );
    assert_eq!(
        status_text(&files, &[rev("3")], &opts()),
        "Migration Status: OK\n  -- Current Version: 3\n  -- Next Version:    Already at latest version\n  -- Executed Files:  1\n  -- Pending Files:   0\n"
    );
    files.push(f("4.sql"));
    assert_eq!(
        status_text(&files, &[rev("3")], &opts()),
        "Migration Status: PENDING\n  -- Current Version: 3\n  -- Next Version:    4\n  -- Executed Files:  1\n  -- Pending Files:   1\n"
    );
    assert_eq!(
        status_text(&files, &[rev("3"), rev("4")], &opts()),
        "Migration Status: OK\n  -- Current Version: 4\n  -- Next Version:    Already at latest version\n  -- Executed Files:  2\n  -- Pending Files:   0\n"
    );
}

#[test]
fn status_golden_out_of_order() {
    // Upstream TestReporter_OutOfOrder.
    let revs = [rev("1"), rev("2")];
    let files = dir(vec![f("1.sql"), f("2.sql"), f("1.5.sql")]);
    let st = plan::status(&files, &revs, &opts(), count).unwrap();
    assert_eq!(st.next_version(), None);
    assert_eq!(st.out_of_order.len(), 1);
    assert_eq!(
        st.render(false),
        "Migration Status: PENDING\n  -- Current Version: 2\n  -- Next Version:    UNKNOWN\n  -- Executed Files:  2\n  -- Pending Files:   1 (out of order)\n\n  ERROR: migration file 1.5.sql was added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"
    );
    let files = dir(vec![f("1.sql"), f("2.sql"), f("1.5.sql"), f("1.6.sql")]);
    assert_eq!(
        status_text(&files, &revs, &opts()),
        "Migration Status: PENDING\n  -- Current Version: 2\n  -- Next Version:    UNKNOWN\n  -- Executed Files:  2\n  -- Pending Files:   2 (out of order)\n\n  ERROR: migration files 1.5.sql, 1.6.sql were added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"
    );
    let files = dir(vec![
        f("1.sql"),
        f("2.sql"),
        f("1.5.sql"),
        f("1.6.sql"),
        f("3.sql"),
    ]);
    assert_eq!(
        status_text(&files, &revs, &opts()),
        "Migration Status: PENDING\n  -- Current Version: 2\n  -- Next Version:    UNKNOWN\n  -- Executed Files:  2\n  -- Pending Files:   3 (2 out of order)\n\n  ERROR: migration files 1.5.sql, 1.6.sql were added out of order. See: https://atlasgo.io/versioned/apply#non-linear-error\n"
    );
    // With non-linear, status shows what apply will do: the out-of-order files are simply pending.
    let non = PendingOptions {
        exec_order: ExecOrder::NonLinear,
        ..opts()
    };
    assert_eq!(
        status_text(&files, &revs, &non),
        "Migration Status: PENDING\n  -- Current Version: 2\n  -- Next Version:    1.5\n  -- Executed Files:  2\n  -- Pending Files:   3\n"
    );
}

#[test]
fn status_uses_the_same_first_run_rules_as_apply() {
    // §15.2: status honours the clean check, --baseline and --allow-dirty, also for an existing empty table.
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let dirty = PendingOptions {
        dirty_reason: Some(r#"found table "users" in connected schema"#.into()),
        ..opts()
    };
    let err = plan::status(&files, &[], &dirty, count).unwrap_err();
    assert_eq!(err.to_string(), pending_err(&files, &[], &dirty));
    let baseline = PendingOptions {
        baseline: Some("2".into()),
        ..dirty.clone()
    };
    let st = plan::status(&files, &[], &baseline, count).unwrap();
    assert_eq!(st.baseline.map(|f| f.name()), Some("2.sql"));
    assert_eq!(
        st.render(false),
        "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    3\n  -- Executed Files:  0\n  -- Pending Files:   1\n"
    );
    let baseline_last = PendingOptions {
        baseline: Some("3".into()),
        ..dirty.clone()
    };
    assert_eq!(
        status_text(&files, &[], &baseline_last),
        "Migration Status: OK\n  -- Current Version: No migration applied yet\n  -- Next Version:    Already at latest version\n  -- Executed Files:  0\n  -- Pending Files:   0\n"
    );
    let allow = PendingOptions {
        allow_dirty: true,
        ..dirty
    };
    assert_eq!(
        status_text(&files, &[], &allow),
        "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    1\n  -- Executed Files:  0\n  -- Pending Files:   3\n"
    );
}

#[test]
fn status_fails_like_apply_on_other_errors() {
    let files = dir(vec![f("1.sql")]);
    let revs = [rev("1"), rev_partial("2", 1, 2)];
    let err = plan::status(&files, &revs, &opts(), count).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("sql/migrate: missing migration"),
        "{err}"
    );
}

#[test]
fn status_counter_errors_propagate() {
    #[derive(Debug)]
    enum DriverError {
        Plan(PlanError),
        Scan(String),
    }
    impl From<PlanError> for DriverError {
        fn from(e: PlanError) -> Self {
            Self::Plan(e)
        }
    }
    let files = dir(vec![f("1.sql")]);
    let revs = [rev_partial("1", 0, 1)];
    let err = plan::status(&files, &revs, &opts(), |_| {
        Err(DriverError::Scan("bad".into()))
    })
    .unwrap_err();
    assert!(matches!(err, DriverError::Scan(ref m) if m == "bad"));
    let unknown_baseline = PendingOptions {
        baseline: Some("x".into()),
        ..opts()
    };
    let err = plan::status(&files, &[], &unknown_baseline, |_| Ok(0)).unwrap_err();
    assert!(matches!(
        err,
        DriverError::Plan(PlanError::BaselineNotFound { .. })
    ));
}

#[test]
fn status_renders_colours_like_atlas() {
    let files = dir(vec![f("1.sql"), f("2.sql")]);
    let revs = [rev("1")];
    let st = plan::status(&files, &revs, &opts(), count).unwrap();
    assert_eq!(
        st.render(true),
        "Migration Status: \x1b[33mPENDING\x1b[0m\n  \x1b[33m--\x1b[0m Current Version: \x1b[36m1\x1b[0m\n  \x1b[33m--\x1b[0m Next Version:    \x1b[36m2\x1b[0m\n  \x1b[33m--\x1b[0m Executed Files:  1\n  \x1b[33m--\x1b[0m Pending Files:   1\n"
    );
    let revs = [rev("1"), rev("2")];
    let st = plan::status(&files, &revs, &opts(), count).unwrap();
    assert!(
        st.render(true)
            .starts_with("Migration Status: \x1b[92mOK\x1b[0m\n")
    );
    assert_eq!(st.current_version(), Some("2"));
    assert_eq!(st.next_version(), None);
}

// ---------------------------------------------------------------------------------------------------------
// migrate set (§12)

fn sqlite_dir() -> Vec<MigrationFile> {
    dir(vec![
        MigrationFile::new(
            "20220318104614_initial.sql",
            "CREATE TABLE tbl (col INT);\n",
        ),
        MigrationFile::new(
            "20220318104615_second.sql",
            "ALTER TABLE tbl ADD col_2 TEXT;\n",
        ),
    ])
}

fn applied(file: &MigrationFile) -> Revision {
    Revision {
        description: file.description().into(),
        ..rev(file.version())
    }
}

/// Applies a set plan to a revisions table kept sorted by version, as the database would.
fn apply_set(table: &mut Vec<Revision>, plan: &SetPlan) {
    table.retain(|r| !plan.delete.contains(&r.version));
    for row in &plan.upsert {
        match table.iter_mut().find(|r| r.version == row.version) {
            Some(existing) => *existing = row.clone(),
            None => table.push(row.clone()),
        }
    }
    table.sort_by(|a, b| a.version.cmp(&b.version));
}

#[test]
fn set_golden_sequence() {
    // Upstream TestMigrate_Set, step by step.
    let files = sqlite_dir();
    let sum = SumFile::compute(&files);
    let mut table: Vec<Revision> = files.iter().map(applied).collect();

    let p = plan::set(&files, &table, &sum, &["20220318104614"], &stamp()).unwrap();
    assert_eq!(
        p.render(false),
        "Current version is 20220318104614 (1 removed):\n\n  - 20220318104615 (second)\n\n"
    );
    apply_set(&mut table, &p);

    let p = plan::set(&files, &table, &sum, &["20220318104615"], &stamp()).unwrap();
    assert_eq!(
        p.render(false),
        "Current version is 20220318104615 (1 set):\n\n  + 20220318104615 (second)\n\n"
    );
    assert_eq!(
        p.upsert,
        [Revision {
            version: "20220318104615".into(),
            description: "second".into(),
            kind: RevisionType::RESOLVED,
            applied: 0,
            total: 0,
            executed_at_unix_nanos: 42,
            execution_time_nanos: 0,
            error: String::new(),
            error_stmt: String::new(),
            hash: sum.hash_of("20220318104615_second.sql").unwrap().into(),
            partial_hashes: None,
            operator_version: "Strata v0.1.0".into(),
        }]
    );
    apply_set(&mut table, &p);

    // Another directory (one file, 1_baseline.sql), no argument: its last file.
    let baseline1 = dir(vec![MigrationFile::new(
        "1_baseline.sql",
        "CREATE TABLE t(c int);\n",
    )]);
    let sum1 = SumFile::compute(&baseline1);
    let p = plan::set(&baseline1, &table, &sum1, &[], &stamp()).unwrap();
    assert_eq!(p.target, "1");
    assert_eq!(
        p.render(false),
        "Current version is 1 (1 set, 2 removed):\n\n  + 1 (baseline)\n  - 20220318104614 (initial)\n  - 20220318104615 (second)\n\n"
    );
    apply_set(&mut table, &p);

    // An empty directory, no argument: the table is emptied.
    let p = plan::set(&[], &table, &SumFile::compute(&[]), &[], &stamp()).unwrap();
    assert_eq!(p.current, None);
    assert_eq!(
        p.render(false),
        "All revisions deleted (1 in total):\n\n  - 1 (baseline)\n\n"
    );
    apply_set(&mut table, &p);
    assert!(table.is_empty());

    // Empty database.
    assert_eq!(
        plan::set(&files, &table, &sum, &[], &stamp())
            .unwrap_err()
            .to_string(),
        "accepts 1 arg(s), received 0"
    );
    let p = plan::set(&files, &table, &sum, &["20220318104614"], &stamp()).unwrap();
    assert_eq!(
        p.render(false),
        "Current version is 20220318104614 (1 set):\n\n  + 20220318104614 (initial)\n\n"
    );
}

#[test]
fn set_errors() {
    let files = sqlite_dir();
    let sum = SumFile::compute(&files);
    assert_eq!(
        plan::set(&files, &[], &sum, &["3"], &stamp())
            .unwrap_err()
            .to_string(),
        r#"migration with version "3" not found"#
    );
    assert_eq!(
        plan::set(&files, &[], &sum, &["1", "2"], &stamp())
            .unwrap_err()
            .to_string(),
        "accepts 1 arg(s), received 2"
    );
    // A file excluded from the sum cannot be recorded.
    let ignored = dir(vec![MigrationFile::new(
        "1.sql",
        "-- atlas:sum ignore\nSELECT 1;\n",
    )]);
    let err = plan::set(&ignored, &[], &SumFile::compute(&ignored), &["1"], &stamp()).unwrap_err();
    assert!(err.to_string().starts_with("checksum not found"), "{err}");
}

#[test]
fn set_resolves_a_failed_or_partial_target() {
    let files = dir(vec![f("1.sql"), f("2.sql"), f("3.sql")]);
    let sum = SumFile::compute(&files);
    let mut partial = rev_partial("2", 1, 3);
    partial.error = "boom".into();
    partial.partial_hashes = Some(vec!["h1:x".into()]);
    let table = [rev("1"), partial.clone()];
    let p = plan::set(&files, &table, &sum, &["2"], &stamp()).unwrap();
    assert!(p.delete.is_empty());
    let mut want = partial.clone();
    want.kind = RevisionType(6);
    assert_eq!(p.upsert, [want]);
    assert_eq!(
        p.render(false),
        "Current version is 2 (1 set):\n\n  + 2\n\n"
    );
    // An error alone is enough; a clean target is left alone.
    let mut failed = rev("2");
    failed.error = "boom".into();
    let revs = [rev("1"), failed];
    let p = plan::set(&files, &revs, &sum, &["2"], &stamp()).unwrap();
    assert_eq!(p.upsert[0].kind, RevisionType(6));
    let revs = [rev("1"), rev("2")];
    let p = plan::set(&files, &revs, &sum, &["2"], &stamp()).unwrap();
    assert!(p.is_noop());
    assert_eq!(p.render(false), "");
    assert_eq!(p.current.as_deref(), Some("2"));
    // Going forward marks the files in between, checkpoint files included.
    let files = dir(vec![f("1.sql"), ck("2_ck.sql"), f("3.sql"), f("4.sql")]);
    let sum = SumFile::compute(&files);
    let revs = [rev("1")];
    let p = plan::set(&files, &revs, &sum, &["3"], &stamp()).unwrap();
    let versions: Vec<_> = p
        .upsert
        .iter()
        .map(|r| (r.version.as_str(), r.kind))
        .collect();
    assert_eq!(
        versions,
        [("2", RevisionType::RESOLVED), ("3", RevisionType::RESOLVED)]
    );
    assert_eq!(
        p.render(false),
        "Current version is 3 (2 set):\n\n  + 2 (ck)\n  + 3\n\n"
    );
}

#[test]
fn set_never_touches_the_cloud_identifier() {
    let files = dir(vec![f("1.sql")]);
    let sum = SumFile::compute(&files);
    let cloud = rev(CLOUD_IDENTIFIER_VERSION);
    let revs = [rev("1"), cloud];
    let p = plan::set(&[], &revs, &sum, &[], &stamp()).unwrap();
    assert_eq!(p.delete.len(), 1);
    assert_eq!(p.delete, ["1"]);
}

#[test]
fn set_template_goldens() {
    // Upstream TestMigrateSet (cmdlog), rendering only.
    let change = |op, v: &str, d: &str| SetChange {
        op,
        version: v.into(),
        description: d.into(),
    };
    let mut p = SetPlan {
        target: String::new(),
        delete: vec![],
        upsert: vec![],
        changes: vec![],
        current: None,
    };
    assert_eq!(p.render(false), "");
    p.current = Some("1".into());
    assert_eq!(p.render(false), "");
    p.changes = vec![
        change(SetOp::Removed, "2", ""),
        change(SetOp::Removed, "3", "desc"),
    ];
    assert_eq!(
        p.render(false),
        "Current version is 1 (2 removed):\n\n  - 2\n  - 3 (desc)\n\n"
    );
    p.changes.push(change(SetOp::Set, "1.1", "desc"));
    assert_eq!(
        p.render(false),
        "Current version is 1 (1 set, 2 removed):\n\n  + 1.1 (desc)\n  - 2\n  - 3 (desc)\n\n"
    );
    assert_eq!(
        p.render(true),
        "Current version is \x1b[36m1\x1b[0m (1 set, 2 removed):\n\n  \x1b[92m+\x1b[0m 1.1 (desc)\n  \x1b[91m-\x1b[0m 2\n  \x1b[91m-\x1b[0m 3 (desc)\n\n"
    );
    p.current = None;
    p.changes = vec![
        change(SetOp::Removed, "2", ""),
        change(SetOp::Removed, "3", "desc"),
    ];
    assert_eq!(
        p.render(false),
        "All revisions deleted (2 in total):\n\n  - 2\n  - 3 (desc)\n\n"
    );
}

// ---------------------------------------------------------------------------------------------------------
// migrate set --in-flight

/// A three-statement file whose row stopped after `applied` statements with statement `applied + 1` in flight.
fn in_flight_case(applied: u64) -> (MigrationFile, Vec<String>, Vec<String>, Revision) {
    let file = MigrationFile::new(
        "2_add.sql",
        "CREATE TABLE t (a int);\nALTER TABLE t ADD b int;\nCREATE INDEX t_b ON t (b);\n",
    );
    let stmts: Vec<String> = strata_migrate::scan::split(
        strata_migrate::Dialect::Mysql,
        file.name(),
        file.text().unwrap(),
    )
    .unwrap()
    .into_iter()
    .map(|s| s.text)
    .collect();
    let sums = plan::statement_sums(stmts.iter().map(String::as_str));
    let mut row = rev_partial("2", applied, 3);
    row.description = "add".into();
    row.partial_hashes = Some(
        sums[..applied as usize]
            .iter()
            .map(|s| plan::stored_partial_hash(s))
            .collect(),
    );
    row.error = strata_migrate::inflight::Marker {
        statement: applied + 1,
        connection: Some(7),
    }
    .to_string();
    row.error_stmt = stmts[applied as usize].clone();
    (file, stmts, sums, row)
}

fn set_in_flight(
    case: &(MigrationFile, Vec<String>, Vec<String>, Revision),
    table: &[Revision],
    outcome: plan::InFlightOutcome,
) -> Result<SetPlan, PlanError> {
    let stmts: Vec<&str> = case.1.iter().map(String::as_str).collect();
    plan::set_in_flight(&case.0, &stmts, &case.2, "today", table, outcome)
}

#[test]
fn set_in_flight_applied_counts_the_statement() {
    let case = in_flight_case(1);
    let table = vec![rev("1"), case.3.clone()];
    let p = set_in_flight(&case, &table, plan::InFlightOutcome::Applied).unwrap();
    assert_eq!(
        p.render(false),
        "Current version is 2 (1 set):\n\n  + 2 (add)\n\n"
    );
    assert!(p.delete.is_empty());
    let row = &p.upsert[0];
    assert_eq!(row.kind, RevisionType(6));
    assert_eq!((row.applied, row.total), (2, 3));
    assert_eq!((row.error.as_str(), row.error_stmt.as_str()), ("", ""));
    assert_eq!(
        row.partial_hashes,
        Some(vec![
            plan::stored_partial_hash(&case.2[0]),
            plan::stored_partial_hash(&case.2[1])
        ])
    );
    assert_eq!(
        row.hash, "hash",
        "a partial row keeps its first-attempt hash"
    );
    // The next apply resumes after it.
    assert_eq!(plan::check_resume("2_add.sql", &case.2, row).unwrap(), 2);
}

#[test]
fn set_in_flight_applied_completes_a_file_at_its_last_statement() {
    let case = in_flight_case(2);
    let p = set_in_flight(
        &case,
        std::slice::from_ref(&case.3),
        plan::InFlightOutcome::Applied,
    )
    .unwrap();
    let row = &p.upsert[0];
    assert_eq!((row.applied, row.total), (3, 3));
    assert_eq!(row.partial_hashes, None);
    assert_eq!(row.hash, "today");
    assert!(!row.is_partial() && !row.needs_attention());
}

#[test]
fn set_in_flight_pending_only_drops_the_marker() {
    let case = in_flight_case(1);
    let p = set_in_flight(
        &case,
        std::slice::from_ref(&case.3),
        plan::InFlightOutcome::Pending,
    )
    .unwrap();
    let row = &p.upsert[0];
    assert_eq!(
        *row,
        Revision {
            kind: RevisionType(6),
            error: String::new(),
            error_stmt: String::new(),
            ..case.3.clone()
        }
    );
}

#[test]
fn set_in_flight_refuses_what_it_cannot_settle() {
    let case = in_flight_case(1);
    let err = |table: &[Revision]| {
        set_in_flight(&case, table, plan::InFlightOutcome::Applied)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&[rev("1")]),
        r#"revision "2" records no statement in flight (it has no revision): there is nothing for --in-flight to settle; 'migrate set' without it rewrites the history"#
    );
    let mut failed = case.3.clone();
    failed.error = "Duplicate column name 'b'".into();
    assert_eq!(
        err(&[failed]),
        r#"revision "2" records no statement in flight (1 of 3 statements applied, error "Duplicate column name 'b'"): there is nothing for --in-flight to settle; 'migrate set' without it rewrites the history"#
    );
    let mut edited = case.3.clone();
    edited.applied = 0;
    assert!(err(&[edited]).contains("names statement 2 but 0 statements are applied"));
    let mut changed = case.3.clone();
    changed.error_stmt = "ALTER TABLE t ADD c int;".into();
    assert_eq!(
        err(&[changed]),
        r#"statement 2 of "2_add.sql" is not the statement that was in flight (recorded as "ALTER TABLE t ADD c int;"): the file changed since; restore it as it was when the run stopped, then run migrate set again"#
    );
    let mut history = case.3.clone();
    history.partial_hashes = Some(vec!["h1:other".into()]);
    assert_eq!(
        err(&[history]),
        r#"sql/migrate: history changed: statement 1 from file "2_add.sql" changed"#
    );
}
