//! Property tests for `strata_migrate::plan`: the pending set against a model of Atlas's rules, limits as
//! prefixes, status agreeing with apply, and the partial-hash resume check.

use std::num::NonZeroUsize;

use proptest::prelude::*;
use strata_migrate::plan::{self, ExecOrder, Limit, PendingOptions, PlanError};
use strata_migrate::{MigrationFile, Revision, RevisionType};

/// A directory: 0–9 files with distinct fixed-width versions (so name order is version order), some with a
/// description, about one in five a checkpoint.
fn directory() -> impl Strategy<Value = Vec<MigrationFile>> {
    prop::collection::btree_set(0u16..200, 0..10)
        .prop_flat_map(|versions| {
            let n = versions.len();
            (
                Just(versions),
                prop::collection::vec((any::<bool>(), prop::bool::weighted(0.2)), n),
            )
        })
        .prop_map(|(versions, flags)| {
            versions
                .into_iter()
                .zip(flags)
                .map(|(v, (described, checkpoint))| {
                    let name = format!("{v:03}{}.sql", if described { "_d" } else { "" });
                    let body = if checkpoint {
                        "-- atlas:checkpoint\n\nCREATE TABLE a(c int);\n"
                    } else {
                        "CREATE TABLE b(c int);\n"
                    };
                    MigrationFile::new(name, body)
                })
                .collect()
        })
}

fn exec_order() -> impl Strategy<Value = ExecOrder> {
    prop_oneof![
        Just(ExecOrder::Linear),
        Just(ExecOrder::LinearSkip),
        Just(ExecOrder::NonLinear)
    ]
}

fn is_checkpoint(f: &MigrationFile) -> bool {
    f.is_checkpoint().unwrap()
}

fn row(version: &str, applied: u64, total: u64) -> Revision {
    Revision {
        version: version.into(),
        description: String::new(),
        kind: RevisionType::EXECUTED,
        applied,
        total,
        executed_at_unix_nanos: 0,
        execution_time_nanos: 0,
        error: String::new(),
        error_stmt: String::new(),
        hash: String::new(),
        partial_hashes: None,
        operator_version: String::new(),
    }
}

/// Complete revisions for the files picked by `mask`, sorted by version; the last one partial if asked.
fn revisions(files: &[MigrationFile], mask: &[bool], last_partial: bool) -> Vec<Revision> {
    let mut revs: Vec<Revision> = files
        .iter()
        .zip(mask)
        .filter(|(_, picked)| **picked)
        .map(|(f, _)| row(f.version(), 2, 2))
        .collect();
    if last_partial && let Some(last) = revs.last_mut() {
        last.applied = 1;
    }
    revs
}

fn versions(files: &[&MigrationFile]) -> Vec<String> {
    files.iter().map(|f| f.version().to_owned()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the history and options, a file whose revision is complete is never pending, no file is
    /// pending twice, and a resume point names its own file.
    #[test]
    fn pending_never_includes_an_applied_version(
        files in directory(),
        mask in prop::collection::vec(any::<bool>(), 10),
        last_partial in any::<bool>(),
        order in exec_order(),
        dirty in any::<bool>(),
        allow_dirty in any::<bool>(),
        baseline in prop::option::of(0usize..10),
    ) {
        let revs = revisions(&files, &mask, last_partial);
        let opts = PendingOptions {
            baseline: baseline.and_then(|i| files.get(i)).map(|f| f.version().to_owned()),
            allow_dirty,
            exec_order: order,
            dirty_reason: dirty.then(|| "found table \"t\" in connected schema".to_owned()),
        };
        let Ok(plan) = plan::pending(&files, &revs, &opts) else {
            return Ok(());
        };
        for f in &plan.pending {
            prop_assert!(
                !revs.iter().any(|r| r.version == f.version() && r.applied == r.total),
                "{} is applied", f.name()
            );
        }
        let mut seen = versions(&plan.pending);
        seen.dedup();
        prop_assert_eq!(seen.len(), plan.pending.len());
        if let Some(resume) = plan.resume {
            prop_assert_eq!(plan.pending[resume.index].version(), resume.revision.version.as_str());
            prop_assert!(resume.revision.applied != resume.revision.total);
        }
    }

    /// Linear histories: what ran plus what is pending is every regular file, each once.
    #[test]
    fn linear_history_covers_every_regular_file(
        files in directory(),
        k in 0usize..10,
        order in exec_order(),
    ) {
        let regular: Vec<&MigrationFile> = files.iter().filter(|f| !is_checkpoint(f)).collect();
        let k = k.min(regular.len());
        let revs: Vec<Revision> = regular[..k].iter().map(|f| row(f.version(), 1, 1)).collect();
        let opts = PendingOptions { exec_order: order, ..PendingOptions::default() };
        let plan = plan::pending(&files, &revs, &opts).unwrap();
        if k == 0 {
            // First run: from the last checkpoint, inclusive.
            let start = files.iter().rposition(is_checkpoint).unwrap_or(0);
            prop_assert_eq!(versions(&plan.pending), versions(&files[start..].iter().collect::<Vec<_>>()));
        } else {
            let mut covered: Vec<String> = revs.iter().map(|r| r.version.clone()).collect();
            covered.extend(versions(&plan.pending));
            prop_assert_eq!(covered, versions(&regular));
            prop_assert!(plan.out_of_order.is_empty());
        }
    }

    /// Arbitrary complete histories against a model: files without a revision between the first and the last
    /// revision are out of order (an error, skipped, or run first); files above the last one are pending.
    #[test]
    fn out_of_order_matches_the_model(
        files in directory(),
        mask in prop::collection::vec(any::<bool>(), 10),
        order in exec_order(),
    ) {
        let revs = revisions(&files, &mask, false);
        prop_assume!(!revs.is_empty());
        let (first, last) = (revs[0].version.as_str(), revs[revs.len() - 1].version.as_str());
        let regular: Vec<&MigrationFile> = files.iter().filter(|f| !is_checkpoint(f)).collect();
        let gaps: Vec<&MigrationFile> = regular
            .iter()
            .copied()
            .filter(|f| f.version() >= first && f.version() <= last)
            .filter(|f| !revs.iter().any(|r| r.version == f.version()))
            .collect();
        let above: Vec<&MigrationFile> = regular.iter().copied().filter(|f| f.version() > last).collect();
        let opts = PendingOptions { exec_order: order, ..PendingOptions::default() };
        let result = plan::pending(&files, &revs, &opts);
        match order {
            ExecOrder::Linear if !gaps.is_empty() => match result {
                Err(PlanError::OutOfOrder { out_of_order, pending }) => {
                    let names = |fs: &[&MigrationFile]| fs.iter().map(|f| f.name().to_owned()).collect::<Vec<_>>();
                    prop_assert_eq!(out_of_order, names(&gaps));
                    prop_assert_eq!(pending, names(&above));
                }
                other => prop_assert!(false, "expected an out-of-order error, got {:?}", other.map(|p| versions(&p.pending))),
            },
            ExecOrder::NonLinear => {
                let plan = result.unwrap();
                let mut want = gaps.clone();
                want.extend(above.iter().copied());
                prop_assert_eq!(versions(&plan.pending), versions(&want));
                prop_assert_eq!(versions(&plan.out_of_order), versions(&gaps));
            }
            _ => prop_assert_eq!(versions(&result.unwrap().pending), versions(&above)),
        }
    }

    /// `[amount]` and `--to-version` keep a prefix of the pending list.
    #[test]
    fn limits_are_prefixes(
        files in directory(),
        mask in prop::collection::vec(any::<bool>(), 10),
        last_partial in any::<bool>(),
        n in 1usize..12,
        pick in 0usize..12,
    ) {
        let revs = revisions(&files, &mask, last_partial);
        let opts = PendingOptions { exec_order: ExecOrder::NonLinear, ..PendingOptions::default() };
        let Ok(full) = plan::pending(&files, &revs, &opts) else {
            return Ok(());
        };
        let all = versions(&full.pending);
        let by_amount = full.clone().limit(&Limit::Amount(NonZeroUsize::new(n).unwrap())).unwrap();
        prop_assert_eq!(versions(&by_amount.pending), all[..n.min(all.len())].to_vec());
        if let Some(r) = by_amount.resume {
            prop_assert!(r.index < by_amount.pending.len());
        }
        if let Some(v) = all.get(pick) {
            let to = full.clone().limit(&Limit::ToVersion(v.clone())).unwrap();
            prop_assert_eq!(versions(&to.pending), all[..=pick].to_vec());
        }
        // Any version of the directory is either a valid target (a prefix) or a clear error.
        if let Some(f) = files.get(pick) {
            match full.clone().limit(&Limit::ToVersion(f.version().to_owned())) {
                Ok(p) => prop_assert!(all.starts_with(&versions(&p.pending))),
                Err(e) => {
                    let expected = matches!(
                        e,
                        PlanError::ToVersionApplied { .. } | PlanError::ToVersionNotPending { .. }
                    );
                    prop_assert!(expected, "unexpected {}", e);
                }
            }
        }
    }

    /// `migrate status` reports exactly what apply would run.
    #[test]
    fn status_agrees_with_apply(
        files in directory(),
        mask in prop::collection::vec(any::<bool>(), 10),
        last_partial in any::<bool>(),
        order in exec_order(),
    ) {
        let revs = revisions(&files, &mask, last_partial);
        let opts = PendingOptions { exec_order: order, ..PendingOptions::default() };
        let count = |_: &MigrationFile| Ok::<usize, PlanError>(2);
        match (plan::pending(&files, &revs, &opts), plan::status(&files, &revs, &opts, count)) {
            (Ok(plan), Ok(st)) => {
                prop_assert_eq!(versions(&st.pending), versions(&plan.pending));
                prop_assert_eq!(st.status == plan::StatusWord::Ok, plan.is_empty());
                prop_assert_eq!(st.is_partial(), plan.resume.is_some() && last_partial);
            }
            (Err(PlanError::OutOfOrder { out_of_order, .. }), Ok(st)) => {
                prop_assert_eq!(st.out_of_order.len(), out_of_order.len());
                prop_assert!(st.render(false).contains("Next Version:    UNKNOWN"));
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "apply {:?} / status {:?}", a.map(|p| p.pending.len()), b.map(|s| s.pending.len())),
        }
    }

    /// Resuming accepts an unchanged applied prefix and rejects any single changed statement, naming it.
    #[test]
    fn resume_check_finds_the_changed_statement(
        stmts in prop::collection::vec("[A-Za-z ();]{1,16}", 1..8),
        applied in 0usize..8,
        changed in 0usize..8,
        shrink_to in 0usize..8,
    ) {
        let applied = applied.min(stmts.len());
        let sums = plan::statement_sums(stmts.iter().map(String::as_str));
        let mut rev = row("1", applied as u64, stmts.len() as u64);
        rev.partial_hashes = Some(sums[..applied].iter().map(|s| plan::stored_partial_hash(s)).collect());
        prop_assert_eq!(plan::check_resume("1.sql", &sums, &rev).unwrap(), applied);

        let changed = changed.min(stmts.len() - 1);
        let mut edited = stmts.clone();
        edited[changed].push('x');
        let edited_sums = plan::statement_sums(edited.iter().map(String::as_str));
        match plan::check_resume("1.sql", &edited_sums, &rev) {
            Ok(n) => {
                prop_assert!(changed >= applied);
                prop_assert_eq!(n, applied);
            }
            Err(e) => {
                prop_assert!(changed < applied);
                prop_assert_eq!(
                    e.to_string(),
                    format!("sql/migrate: history changed: statement {} from file \"1.sql\" changed", changed + 1)
                );
            }
        }

        // The file lost statements: fine while the applied part survives, reported (never a panic) otherwise.
        let shrink_to = shrink_to.min(stmts.len());
        let shorter = &sums[..shrink_to];
        match plan::check_resume("1.sql", shorter, &rev) {
            Ok(n) => prop_assert!(shrink_to >= applied && n == applied),
            Err(PlanError::HistoryChanged { statement, .. }) => {
                prop_assert!(shrink_to < applied);
                prop_assert_eq!(statement, shrink_to + 1);
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
