//! Property tests for `atlas.sum`: cumulative hashing, round trips, and validation of every single-file change.

use proptest::prelude::*;
use strata_migrate::sum::{self, Change, SumError, SumFile};
use strata_migrate::{MigrationDir, MigrationFile};

/// 1–8 files with distinct, sortable names and arbitrary bytes (including CR, LF, non-ASCII).
fn files() -> impl Strategy<Value = Vec<MigrationFile>> {
    prop::collection::btree_map(
        "[0-9]{1,3}(_[a-zé]{0,4})?",
        prop::collection::vec(any::<u8>(), 0..64),
        1..8,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(n, b)| MigrationFile::new(format!("{n}.sql"), b))
            .collect()
    })
}

fn dir_with_sum(files: Vec<MigrationFile>, sum: &SumFile) -> MigrationDir {
    MigrationDir::from_parts("d", files, Some(sum.to_bytes())).unwrap()
}

fn sorted(mut files: Vec<MigrationFile>) -> Vec<MigrationFile> {
    files.sort_by(|a, b| a.name().as_bytes().cmp(b.name().as_bytes()));
    files
}

proptest! {
    #[test]
    fn write_then_parse_round_trips(files in files()) {
        let files = sorted(files);
        let sum = SumFile::compute(&files);
        prop_assert_eq!(SumFile::parse(&sum.to_bytes()).unwrap(), sum.clone());
        let d = dir_with_sum(files, &sum);
        prop_assert!(sum::validate(&d).is_ok());
    }

    #[test]
    fn editing_a_file_changes_it_and_every_later_entry_only(files in files(), pick in any::<prop::sample::Index>(), extra in any::<u8>()) {
        let files = sorted(files);
        let i = pick.index(files.len());
        let before = SumFile::compute(&files);
        let mut edited = files.clone();
        let mut bytes = edited[i].bytes().to_vec();
        bytes.push(extra);
        edited[i] = MigrationFile::new(edited[i].name(), bytes);
        let after = SumFile::compute(&edited);
        // entries are only absent for `atlas:sum ignore` files, which random bytes may produce; compare by name
        for e in before.entries() {
            let pos = files.iter().position(|f| f.name() == e.name).unwrap();
            let now = after.hash_of(&e.name);
            if pos < i {
                prop_assert_eq!(now, Some(e.hash.as_str()), "entry before the edit changed");
            } else if let Some(now) = now {
                prop_assert_ne!(now, e.hash.as_str(), "entry at or after the edit kept its hash");
            }
        }
        // validation names the edited file at its own line, unless it is sum-ignored (then the next one shows)
        let d = dir_with_sum(edited, &before);
        if let Some(line) = before.entries().iter().position(|e| e.name == files[i].name()) {
            match sum::validate(&d) {
                Err(SumError::Mismatch(m)) => {
                    prop_assert_eq!(m.change, Change::Edited);
                    prop_assert_eq!(m.line, line + 2);
                    prop_assert_eq!(&m.file, files[i].name());
                }
                other => prop_assert!(false, "expected a mismatch, got {:?}", other),
            }
        }
    }

    #[test]
    fn validate_detects_removal_and_addition(files in files(), pick in any::<prop::sample::Index>()) {
        let files = sorted(files);
        let full = SumFile::compute(&files);
        let i = pick.index(files.len());
        let name = files[i].name().to_owned();
        let Some(line) = full.entries().iter().position(|e| e.name == name) else { return Ok(()) };
        let mut fewer = files.clone();
        fewer.remove(i);
        // removed: the stored sum lists the file, the directory lacks it
        match sum::validate(&dir_with_sum(fewer.clone(), &full)) {
            Err(SumError::Mismatch(m)) => {
                prop_assert_eq!((m.change, m.line, m.file.as_str()), (Change::Removed, line + 2, name.as_str()));
            }
            other => prop_assert!(false, "expected removed, got {:?}", other),
        }
        // added: the stored sum lacks the file, the directory has it
        let partial = SumFile::compute(&fewer);
        match sum::validate(&dir_with_sum(files.clone(), &partial)) {
            Err(SumError::Mismatch(m)) => {
                prop_assert_eq!((m.change, m.line, m.file.as_str()), (Change::Added, line + 2, name.as_str()));
            }
            other => prop_assert!(false, "expected added, got {:?}", other),
        }
    }
}
