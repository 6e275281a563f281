//! `lint_replay`: one `Changes` per statement of the linted files, the base from the replay cache.

use strata_engine::MigrationDir;
use strata_engine::schema::{DevDatabase, ReplayCache, SchemaError, lint_replay};

fn dir(files: &[(&str, &str)]) -> MigrationDir {
    MigrationDir::from_parts(
        "migrations",
        files
            .iter()
            .map(|(n, b)| strata_migrate::MigrationFile::new(*n, b.as_bytes().to_vec()))
            .collect(),
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn one_change_set_per_statement_and_failures_at_their_line() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = ReplayCache::new(cache_dir.path());
    let d = dir(&[
        ("1_a.sql", "CREATE TABLE a (id integer PRIMARY KEY);\n"),
        (
            "2_b.sql",
            "CREATE TABLE b (id integer);\nINSERT INTO b VALUES (1);\nDROP TABLE a;\n",
        ),
    ]);
    let url = "sqlite://dev?mode=memory".parse().unwrap();
    for _ in 0..2 {
        let mut dev = DevDatabase::open(&url).await.unwrap();
        let r = lint_replay(&mut dev, &d, 1, Some(cache.clone()))
            .await
            .unwrap();
        dev.close().await.unwrap();
        assert_eq!(r.files.len(), 1);
        let f = &r.files[0];
        assert_eq!(f.name, "2_b.sql");
        assert!(f.before.schemas[0].table("a").is_some());
        let counts: Vec<usize> = f.changes.iter().map(|c| c.changes.len()).collect();
        // CREATE TABLE b, the INSERT (nothing), DROP TABLE a.
        assert_eq!(counts, [1, 0, 1]);
    }
    let bad = dir(&[
        ("1_a.sql", "CREATE TABLE a (id integer PRIMARY KEY);\n"),
        (
            "2_b.sql",
            "CREATE TABLE b (id integer);\n\nDROP TABLE nowhere;\n",
        ),
    ]);
    let mut dev = DevDatabase::open(&url).await.unwrap();
    let e = lint_replay(&mut dev, &bad, 1, Some(cache))
        .await
        .unwrap_err();
    dev.close().await.unwrap();
    match e {
        SchemaError::SqlFile {
            file,
            line,
            message,
        } => {
            assert_eq!((file.as_str(), line), ("migrations/2_b.sql", 3));
            assert!(message.contains("nowhere"), "{message}");
        }
        other => panic!("{other}"),
    }
}
