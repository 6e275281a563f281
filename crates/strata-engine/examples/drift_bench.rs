//! Times drift checks (`schema::migration_drift`) on the local PostgreSQL test server.
//!
//! ```text
//! drift_bench [FILES]
//! ```
//!
//! Makes a throw-away database (`strata_driver::testing`, `STRATA_TEST_POSTGRES_URL`), applies a directory of
//! FILES files (default 200; each creates a table of four columns with an index and a foreign key to the one
//! before), then times a drift check with a cold replay cache (the files replayed on a scratch dev database), one
//! with the cache filled (the target inspected only), and one after a column was added by hand. Prints each time
//! with what the replay executed and the lines found.
// A benchmark program: its stdout is its report (clippy.toml's print rule is for the CLI and the libraries).
#![allow(clippy::disallowed_macros)]

use std::process::ExitCode;
use std::time::Instant;

use strata_engine::schema::ReplayCache;
use strata_engine::schema::drift::{DriftOptions, migration_drift};
use strata_engine::{ApplyOptions, Cancel, MigrationDir, Quiet};
use strata_migrate::MigrationFile;
use strata_migrate::sum::SumFile;

fn directory(n: usize) -> MigrationDir {
    let files: Vec<MigrationFile> = (1..=n)
        .map(|i| {
            let fk = if i > 1 {
                format!(", prev bigint REFERENCES t{:04} (id)", i - 1)
            } else {
                String::new()
            };
            let sql = format!(
                "CREATE TABLE t{i:04} (id bigint PRIMARY KEY, name text NOT NULL, n int DEFAULT 0{fk});\n\
                 CREATE INDEX t{i:04}_name ON t{i:04} (name);\n"
            );
            MigrationFile::new(format!("{i:06}_t{i:04}.sql"), sql.into_bytes())
        })
        .collect();
    let sum = SumFile::compute(&files).to_bytes();
    MigrationDir::from_parts("bench", files, Some(sum)).expect("directory")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 200,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: drift_bench [FILES]   (FILES > 0, default 200)");
            return ExitCode::from(2);
        }
    };
    let Some(db) = strata_driver::testing::postgres().await else {
        eprintln!("PostgreSQL unreachable (STRATA_TEST_POSTGRES_URL)");
        return ExitCode::FAILURE;
    };
    let target: strata_driver::DbUrl = db.url.parse().expect("test URL");
    let dir = directory(n);
    let t = Instant::now();
    if let Err(e) = strata_engine::apply(
        &dir,
        &target,
        &ApplyOptions::default(),
        &mut Quiet,
        &Cancel::new(),
    )
    .await
    {
        eprintln!("apply: {e}");
        return ExitCode::FAILURE;
    }
    println!("apply of {n} files: {:.2?}", t.elapsed());
    let cache = tempfile::tempdir().expect("cache dir");
    let dev = format!("{}&strata_dev=scratch", db.url)
        .parse()
        .expect("dev URL");
    let opts = DriftOptions::new(dev).cache(Some(ReplayCache::new(cache.path())));
    let version = dir.files().last().map(|f| f.version().to_owned());
    for label in ["cold cache", "warm cache", "column added by hand"] {
        if label == "column added by hand" {
            let mut drv = strata_driver::connect(&target).await.expect("connect");
            drv.execute("ALTER TABLE t0001 ADD COLUMN nickname text")
                .await
                .expect("alter");
            drv.close().await.expect("close");
        }
        let t = Instant::now();
        match migration_drift(&target, &dir, version.as_deref(), &opts).await {
            Ok(d) => println!(
                "drift check, {label}: {:.2?} (files executed on the dev database: {}, from cache: {}; lines: {:?})",
                t.elapsed(),
                d.replay.executed,
                d.replay.cached,
                d.lines
            ),
            Err(e) => {
                eprintln!("drift check, {label}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
