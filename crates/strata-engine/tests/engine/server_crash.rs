//! PostgreSQL server crashes, on a private cluster of this test's own (initdb in a temporary directory, its own
//! port), stopped with `pg_ctl stop -m immediate`: every server process quits at once, without writing out what
//! it holds in memory, and the next start runs crash recovery.
//!
//! Files commit with `synchronous_commit` off except the run's last (ARCHITECTURE.md, "Durability of commits"), so:
//! - a crash right after a finished run loses nothing (the last commit flushed every earlier one);
//! - a crash mid-run leaves a prefix of the files, each whole with its revision row, and the next run applies the
//!   rest.
//!
//! The cluster's WAL writer sleeps 10 s, so a deferred commit that nothing else flushed is still in memory when the
//! server quits (the first check would fail if the run's last commit were deferred too).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use strata_engine::{ApplyOptions, Cancel, Quiet};

use crate::common::dir;

/// A private PostgreSQL cluster, stopped and removed on drop.
struct Cluster {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// `None` (skip, or a failure under `CI=true`) when no PostgreSQL server binaries are installed.
    fn start() -> Option<Cluster> {
        let Some(bin) = server_bin() else {
            let why = "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            eprintln!("skipped: {why}");
            return None;
        };
        // initdb refuses to run as root: the cluster then belongs to the postgres user.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let data = tempfile::tempdir().expect("cluster directory");
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(data.path())
                .status()
                .expect("chown");
            assert!(chown.success());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            bin,
            data,
            port,
            as_postgres,
        };
        let pgdata = cluster.pgdata();
        cluster.run(
            "initdb",
            &["-D", &pgdata, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        cluster.start_server();
        Some(cluster)
    }

    fn pgdata(&self) -> String {
        self.data.path().join("pgdata").display().to_string()
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c wal_writer_delay=10s -c fsync=on",
            self.port,
            self.data.path().display()
        );
        let log = self.data.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.pgdata(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Every server process quits at once; the next start recovers from the WAL on disk.
    fn crash(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.pgdata(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// A server tool, run as the cluster's owner.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // A working directory the postgres user may enter.
        cmd.current_dir(std::env::temp_dir());
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool).args(args).output().expect(tool);
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn query(&self, sql: &str) -> Vec<String> {
        use sqlx::{Connection, Row};
        let mut c = sqlx::PgConnection::connect(&self.url()).await.unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut c)
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect()
    }

    /// (version, table of that version exists) for every revision row, in version order.
    async fn applied(&self) -> Vec<(String, bool)> {
        self.query(
            "SELECT r.version || ' ' || (to_regclass('public.t' || r.version) IS NOT NULL)::text \
             FROM atlas_schema_revisions.atlas_schema_revisions r ORDER BY r.version",
        )
        .await
        .into_iter()
        .map(|s| {
            let (v, exists) = s.split_once(' ').unwrap();
            (v.to_string(), exists == "true")
        })
        .collect()
    }

    async fn tables(&self) -> usize {
        self.query("SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't%'")
            .await[0]
            .parse()
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pgdata = self.pgdata();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &pgdata, "-m", "immediate", "stop"])
            .output();
    }
}

fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| Path::new(b).join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// Files `1..=n`: each creates its table and fills it, so a file's effect is visible on its own. Files after
/// `slow_from` also sleep 5 ms, so a crash aimed at the middle of the run cannot miss it.
fn files(n: usize, slow_from: usize) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| {
            let v = format!("{i:04}");
            let sleep = if i > slow_from {
                "SELECT pg_sleep(0.005);\n"
            } else {
                ""
            };
            (
                format!("{v}_t.sql"),
                format!(
                    "CREATE TABLE t{v} (id int PRIMARY KEY, pad text);\n\
                     INSERT INTO t{v} SELECT g, repeat('x', 200) FROM generate_series(1, 20) g;\n{sleep}"
                ),
            )
        })
        .collect()
}

fn migration_dir(files: &[(String, String)]) -> strata_engine::MigrationDir {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    dir(&refs)
}

fn opts() -> ApplyOptions {
    ApplyOptions {
        lock_timeout: Duration::from_secs(30),
        ..ApplyOptions::default()
    }
}

#[tokio::test]
async fn a_crash_after_a_finished_run_loses_nothing_and_one_mid_run_leaves_whole_files() {
    let Some(cluster) = tokio::task::spawn_blocking(Cluster::start).await.unwrap() else {
        return;
    };
    let url = cluster.url();

    // A finished run, then an immediate crash: every file and row survives.
    let first = files(120, 120);
    let d = migration_dir(&first);
    let report = strata_engine::apply(
        &d,
        &url.parse::<strata_driver::DbUrl>().unwrap(),
        &opts(),
        &mut Quiet,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.applied.len(), 120);
    cluster.crash();
    cluster.start_server();
    let applied = cluster.applied().await;
    assert_eq!(
        applied.len(),
        120,
        "rows lost in the crash after a finished run"
    );
    assert!(applied.iter().all(|(_, table)| *table));
    assert_eq!(cluster.tables().await, 120);

    // A crash while a run is under way: whatever survives is files 1..=k, each with its row and its table.
    let more = files(800, 250);
    let d = migration_dir(&more);
    let run = {
        let (d, url) = (d.clone(), url.clone());
        tokio::spawn(async move {
            strata_engine::apply(
                &d,
                &url.parse::<strata_driver::DbUrl>().unwrap(),
                &opts(),
                &mut Quiet,
                &Cancel::new(),
            )
            .await
        })
    };
    // Crash once the run is well under way.
    let started = Instant::now();
    while cluster
        .query("SELECT count(*)::text FROM atlas_schema_revisions.atlas_schema_revisions")
        .await[0]
        .parse::<usize>()
        .unwrap()
        < 200
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // In a blocking task: this test's runtime also drives the run, which must go on while the server stops.
    let mut stop = cluster.command("pg_ctl");
    stop.args(["-D", &cluster.pgdata(), "-m", "immediate", "-w", "stop"]);
    let out = tokio::task::spawn_blocking(move || stop.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let interrupted = run.await.unwrap();
    assert!(interrupted.is_err(), "the run should have lost its server");
    cluster.start_server();
    let applied = cluster.applied().await;
    let k = applied.len();
    assert!((120..800).contains(&k), "{k} files survived");
    for (i, (version, table)) in applied.iter().enumerate() {
        assert_eq!(version, &format!("{:04}", i + 1), "not a prefix at {i}");
        assert!(table, "file {version} has its row but not its table");
    }
    assert_eq!(cluster.tables().await, k, "a table without its row");

    // The next run applies the rest.
    let report = strata_engine::apply(
        &d,
        &url.parse::<strata_driver::DbUrl>().unwrap(),
        &opts(),
        &mut Quiet,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.applied.len(), 800 - k);
    assert_eq!(cluster.applied().await.len(), 800);
    assert_eq!(cluster.tables().await, 800);
}
