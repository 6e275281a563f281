//! Helpers shared by the registry's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationDir, MigrationFile};
use strata_registry::Store;
use strata_registry::upload::{self, Limits, ValidatedDir};

/// A directory's files (`atlas.sum` included) from `(name, content)` pairs.
pub fn files(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let migrations: Vec<_> = pairs
        .iter()
        .map(|(n, b)| MigrationFile::new(*n, b.as_bytes()))
        .collect();
    let mut out: Vec<_> = pairs
        .iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect();
    out.push(("atlas.sum".into(), SumFile::compute(&migrations).to_bytes()));
    out
}

/// A validated directory.
pub fn validated(pairs: &[(&str, &str)]) -> ValidatedDir {
    upload::finish(files(pairs)).expect("valid directory")
}

/// The same as a `MigrationDir`.
pub fn migration_dir(pairs: &[(&str, &str)]) -> MigrationDir {
    let migrations: Vec<_> = pairs
        .iter()
        .map(|(n, b)| MigrationFile::new(*n, b.as_bytes()))
        .collect();
    let sum = SumFile::compute(&migrations).to_bytes();
    MigrationDir::from_parts("test", migrations, Some(sum)).unwrap()
}

/// Version `n` of a directory: `n` files.
pub fn version(n: usize) -> ValidatedDir {
    let pairs: Vec<(String, String)> = (1..=n)
        .map(|i| {
            (
                format!("{i:03}_step.sql"),
                format!("CREATE TABLE t{i} (id int);\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    validated(&refs)
}

/// A fresh SQLite store in a temp dir.
pub async fn sqlite_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    (strata_registry::open_store(&url).await.unwrap(), dir)
}

/// A fresh PostgreSQL store (None when no server is reachable).
pub async fn pg_store() -> Option<(Arc<dyn Store>, strata_driver::testing::TestDb)> {
    let db = strata_driver::testing::postgres().await?;
    let store = strata_registry::open_store(&db.url).await.unwrap();
    Some((store, db))
}

pub fn limits() -> Limits {
    Limits::default()
}
