//! Times schema inspection, and diff + plan, for the issue-13 benchmark (`bench/schema.sh`).
//!
//! ```text
//! inspect_bench [--sequential] [--one-session] URL [URL2]
//! ```
//!
//! `--one-session` (PostgreSQL): inspect inside a transaction, where the inspector keeps to the driver's one
//! session instead of running the constraint query on a second one beside it (to compare the two).
//!
//! With one URL: connects, inspects (default [`InspectOptions`]) and prints the wall time of the inspect and the
//! number of tables. With two: inspects both (in parallel on two connections unless `--sequential`), then
//! `strata_schema::diff::diff` (URL → URL2) and `strata_schema::plan::plan`, printing each phase's time and the
//! number of planned statements. Ends with the peak resident set size (`VmHWM` of `/proc/self/status`). URLs are
//! printed redacted only.
// A benchmark program: its stdout is its report (clippy.toml's print rule is for the CLI and the libraries).
#![allow(clippy::disallowed_macros)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use strata_driver::inspect::{Inspect, InspectOptions};
use strata_driver::mysql::MysqlDriver;
use strata_driver::postgres::PostgresDriver;
use strata_driver::url::Target;
use strata_driver::{DbUrl, Driver, DriverError};
use strata_schema::Realm;
use strata_schema::diff::DiffOptions;

fn usage() -> ExitCode {
    eprintln!(
        "usage: inspect_bench [--sequential] [--one-session] URL [URL2]   (postgres:// or mysql:// / maria://)"
    );
    ExitCode::from(2)
}

/// Connects to `url` and inspects it; returns the realm and the time of connect + inspect and of inspect alone.
async fn connect_and_inspect(
    url: DbUrl,
    one_session: bool,
) -> Result<(Realm, Duration, Duration), DriverError> {
    let opts = InspectOptions::default();
    let start = Instant::now();
    match url.target {
        Target::Postgres(_) => {
            let mut d = PostgresDriver::connect(url).await?;
            let t = Instant::now();
            if one_session {
                d.begin().await?;
            }
            let realm = d.inspect(&opts).await?;
            let inspected = t.elapsed();
            if one_session {
                d.rollback().await?;
            }
            Ok((realm, start.elapsed(), inspected))
        }
        Target::Mysql(_) => {
            let mut d = MysqlDriver::connect(url).await?;
            let t = Instant::now();
            let realm = d.inspect(&opts).await?;
            Ok((realm, start.elapsed(), t.elapsed()))
        }
        Target::Sqlite(_) => {
            let mut d = strata_driver::sqlite::SqliteDriver::connect(url).await?;
            let t = Instant::now();
            let realm = d.inspect(&opts).await?;
            Ok((realm, start.elapsed(), t.elapsed()))
        }
    }
}

fn tables(realm: &Realm) -> usize {
    realm.schemas.iter().map(|s| s.tables.len()).sum()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Peak resident set size from `/proc/self/status` (Linux), as printed there (`12345 kB`).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.split('\n')
                .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".into())
}

fn report(label: &str, url: &DbUrl, realm: &Realm, total: Duration, inspect: Duration) {
    println!(
        "{label}: {} — {} tables; connect+inspect {}, inspect {}",
        url.redacted(),
        tables(realm),
        ms(total),
        ms(inspect)
    );
}

async fn run(sequential: bool, one_session: bool, urls: Vec<DbUrl>) -> Result<(), String> {
    let wall = Instant::now();
    let fail = |u: &DbUrl, e: DriverError| format!("{}: {}", u.redacted(), u.scrub(&e.to_string()));
    match urls.as_slice() {
        [one] => {
            let (realm, total, inspect) = connect_and_inspect(one.clone(), one_session)
                .await
                .map_err(|e| fail(one, e))?;
            report("inspect", one, &realm, total, inspect);
        }
        [a, b] => {
            let t = Instant::now();
            let (ra, rb) = if sequential {
                let ra = connect_and_inspect(a.clone(), one_session).await;
                let rb = connect_and_inspect(b.clone(), one_session).await;
                (ra, rb)
            } else {
                // Two connections, two tasks: the servers' work for both sides overlaps.
                let ha = tokio::spawn(connect_and_inspect(a.clone(), one_session));
                let hb = tokio::spawn(connect_and_inspect(b.clone(), one_session));
                let ra = ha.await.map_err(|e| format!("inspect task failed: {e}"))?;
                let rb = hb.await.map_err(|e| format!("inspect task failed: {e}"))?;
                (ra, rb)
            };
            let (ra, ta, ia) = ra.map_err(|e| fail(a, e))?;
            let (rb, tb, ib) = rb.map_err(|e| fail(b, e))?;
            let both = t.elapsed();
            report("from", a, &ra, ta, ia);
            report("to", b, &rb, tb, ib);
            println!(
                "inspect both ({}): {}",
                if sequential { "sequential" } else { "parallel" },
                ms(both)
            );
            let t = Instant::now();
            let changes = strata_schema::diff::diff(&ra, &rb, &DiffOptions::default())
                .map_err(|e| e.to_string())?;
            println!(
                "diff: {} ({} changes)",
                ms(t.elapsed()),
                changes.changes.len()
            );
            let t = Instant::now();
            let plan = strata_schema::plan::plan(&changes, &rb).map_err(|e| e.to_string())?;
            println!(
                "plan: {} ({} statements)",
                ms(t.elapsed()),
                plan.statements.len()
            );
        }
        _ => return Err("one or two URLs".into()),
    }
    println!("total: {}", ms(wall.elapsed()));
    println!("peak RSS: {}", peak_rss());
    Ok(())
}

fn main() -> ExitCode {
    let mut sequential = false;
    let mut one_session = false;
    let mut urls = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--sequential" => sequential = true,
            "--one-session" => one_session = true,
            "-h" | "--help" => return usage(),
            s => match s.parse::<DbUrl>() {
                Ok(u) => urls.push(u),
                Err(e) => {
                    // The message may quote the text: scrub the argument out of it.
                    eprintln!(
                        "inspect_bench: not a database URL: {}",
                        strata_driver::scrub(&e.to_string(), s)
                    );
                    return ExitCode::from(2);
                }
            },
        }
    }
    if urls.is_empty() || urls.len() > 2 {
        return usage();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("inspect_bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(sequential, one_session, urls)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inspect_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
