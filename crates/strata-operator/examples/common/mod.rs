//! What the benchmarks share: the inline migration directory every resource carries.

use std::collections::BTreeMap;

use strata_migrate::MigrationFile;
use strata_migrate::sum::SumFile;

/// A `dir.local` map of `migrations` files (a table and an index each) with its `atlas.sum`.
pub fn dir(migrations: usize) -> BTreeMap<String, String> {
    let files: Vec<MigrationFile> = (1..=migrations)
        .map(|i| {
            MigrationFile::new(
                format!("{i:05}_t{i}.sql"),
                format!("CREATE TABLE t{i} (id integer PRIMARY KEY, name text NOT NULL);\nCREATE INDEX t{i}_name ON t{i} (name);\n")
                    .into_bytes(),
            )
        })
        .collect();
    let mut m: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            (
                f.name().to_owned(),
                String::from_utf8(f.bytes().to_vec()).unwrap(),
            )
        })
        .collect();
    m.insert(
        "atlas.sum".into(),
        String::from_utf8(SumFile::compute(&files).to_bytes()).unwrap(),
    );
    m
}

/// Peak resident set (`VmHWM`) of process `pid` (`self` for this one), in KiB.
pub fn peak_rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .split_terminator('\n')
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}
