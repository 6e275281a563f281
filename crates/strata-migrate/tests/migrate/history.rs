//! The tamper check (`strata_migrate::history`): applied files that changed or vanished are refused with a typed
//! error naming the file or version; legitimate changes (a checkpoint, an edit re-hashed into a new file) are not.

use strata_migrate::history::{self, HistoryError};
use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationDir, MigrationFile, Revision, RevisionType};

fn dir(files: &[(&str, &str)]) -> Vec<MigrationFile> {
    let files = files
        .iter()
        .map(|(n, t)| MigrationFile::new(*n, t.to_string()))
        .collect();
    MigrationDir::from_parts("test", files, None)
        .unwrap()
        .files()
        .to_vec()
}

/// Executed rows for `files`, each with the hash `atlas.sum` gives it today.
fn applied(files: &[MigrationFile], description: &str) -> Vec<Revision> {
    let sum = SumFile::compute(files);
    files
        .iter()
        .enumerate()
        .map(|(i, f)| Revision {
            version: f.version().into(),
            description: description.into(),
            kind: RevisionType::EXECUTED,
            applied: 1,
            total: 1,
            executed_at_unix_nanos: 1_700_000_000_000_000_000 + i as i128,
            execution_time_nanos: 1000,
            error: String::new(),
            error_stmt: String::new(),
            hash: sum.hash_of(f.name()).unwrap().into(),
            partial_hashes: None,
            operator_version: "Strata v0.1.0".into(),
        })
        .collect()
}

const A: &str = "CREATE TABLE a (id int);\n";
const B: &str = "CREATE TABLE b (id int);\n";

#[test]
fn unchanged_history_passes() {
    let files = dir(&[("1_a.sql", A), ("2_b.sql", B)]);
    let revs = applied(&files, "");
    assert_eq!(
        history::check(&files, &revs, &SumFile::compute(&files)),
        Ok(())
    );
}

#[test]
fn a_changed_file_is_named() {
    let files = dir(&[("1_a.sql", A), ("2_b.sql", B)]);
    let revs = applied(&files, "");
    let edited = dir(&[("1_a.sql", A), ("2_b.sql", "CREATE TABLE b (id bigint);\n")]);
    let err = history::check(&edited, &revs, &SumFile::compute(&edited)).unwrap_err();
    assert_eq!(
        err,
        HistoryError::Changed {
            file: "2_b.sql".into(),
            version: "2".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "migration file 2_b.sql was changed after it was applied (its hash in atlas_schema_revisions differs \
         from atlas.sum); restore the applied content and put the change in a new migration ('strata migrate new')"
    );
}

#[test]
fn a_removed_file_is_named_by_version_and_description() {
    let files = dir(&[("1_a.sql", A), ("2_b.sql", B)]);
    for (description, shown) in [("b", "b"), ("", "no description")] {
        let revs = applied(&files, description);
        let left = dir(&[("1_a.sql", A)]);
        let err = history::check(&left, &revs, &SumFile::compute(&left)).unwrap_err();
        assert_eq!(
            err,
            HistoryError::Removed {
                version: "2".into(),
                description: description.into()
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "migration file for applied version \"2\" ({shown}) was removed from the directory; restore it, \
                 or run 'strata migrate set' to rewrite the revision history if the removal is deliberate"
            )
        );
    }
}

#[test]
fn files_older_than_the_last_checkpoint_may_go() {
    let files = dir(&[
        ("1_a.sql", A),
        ("2_b.sql", B),
        (
            "3_c.sql",
            "-- atlas:checkpoint\n\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
        ),
    ]);
    let revs = applied(&files[..2], "");
    let left = dir(&[(
        "3_c.sql",
        "-- atlas:checkpoint\n\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
    )]);
    assert_eq!(
        history::check(&left, &revs, &SumFile::compute(&left)),
        Ok(())
    );
}
