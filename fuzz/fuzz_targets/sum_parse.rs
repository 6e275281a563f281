//! `atlas.sum` parsing never panics; whatever parses re-serialises to something that parses to the same value,
//! and a directory built from the input validates against its own freshly computed sum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_migrate::sum::{self, SumFile};
use strata_migrate::{MigrationDir, MigrationFile};

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = SumFile::parse(data) {
        let again = SumFile::parse(&parsed.to_bytes()).expect("a written sum parses");
        assert_eq!(again, parsed);
    }
    // Split the input into a few files and check compute/validate agree.
    let files: Vec<MigrationFile> = data
        .split(|b| *b == 0)
        .take(8)
        .enumerate()
        .map(|(i, chunk)| MigrationFile::new(format!("{i}_f.sql"), chunk.to_vec()))
        .collect();
    let computed = SumFile::compute(&files);
    let dir = MigrationDir::from_parts("fuzz", files, Some(computed.to_bytes())).expect("valid names");
    assert!(sum::validate(&dir).is_ok());
});
