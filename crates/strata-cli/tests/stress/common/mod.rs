//! Shared helpers of the concurrency and crash tests: a throw-away target per dialect on the real servers, the
//! `strata` binary with a private temporary directory, small SQL helpers for checking state, and a seeded RNG.
//!
//! Every child process gets `TMPDIR=<own dir>`: Rust's `std::env::temp_dir()` (where the SQLite driver keeps its
//! per-database lock files and looks for Atlas's host-wide one) honours it, so each test sees only its own lock
//! files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection, Row, SqliteConnection};
use strata_driver::testing::{self, TestDb};
use tempfile::TempDir;

/// The dialects under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Mysql,
    Sqlite,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mariadb",
            Kind::Sqlite => "sqlite",
        }
    }

    /// A statement that takes about `secs` seconds.
    pub fn sleep(self, secs: f64) -> String {
        match self {
            Kind::Postgres => format!("SELECT pg_sleep({secs})"),
            Kind::Mysql => format!("SELECT SLEEP({secs})"),
            // SQLite has no sleep: a recursive CTE that keeps the CPU busy for a moment (calibrated below).
            Kind::Sqlite => format!(
                "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < {}) SELECT count(*) FROM r",
                sqlite_loop_for(secs)
            ),
        }
    }

    /// SQL returning 1 when table `t` exists in the test database.
    pub fn table_exists(self, t: &str) -> String {
        match self {
            Kind::Postgres => format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = '{t}'"
            ),
            Kind::Mysql => format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{t}'"
            ),
            Kind::Sqlite => {
                format!("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{t}'")
            }
        }
    }

    /// SQL returning 1 when column `t.c` exists.
    pub fn column_exists(self, t: &str, c: &str) -> String {
        match self {
            Kind::Postgres => format!(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{t}' \
                 AND column_name = '{c}'"
            ),
            Kind::Mysql => format!(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{t}' \
                 AND column_name = '{c}'"
            ),
            Kind::Sqlite => {
                format!("SELECT count(*) FROM pragma_table_info('{t}') WHERE name = '{c}'")
            }
        }
    }

    /// SQL returning 1 when index `i` (on table `t`) exists.
    pub fn index_exists(self, t: &str, i: &str) -> String {
        match self {
            Kind::Postgres => format!(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = '{t}' AND indexname = '{i}'"
            ),
            Kind::Mysql => format!(
                "SELECT count(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() \
                 AND table_name = '{t}' AND index_name = '{i}'"
            ),
            Kind::Sqlite => {
                format!("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{i}'")
            }
        }
    }

    /// The revisions table as the target URL binds it.
    pub fn revisions_table(self) -> &'static str {
        match self {
            Kind::Postgres => "atlas_schema_revisions.atlas_schema_revisions",
            Kind::Mysql | Kind::Sqlite => "atlas_schema_revisions",
        }
    }

    /// Queries whose rows (one text column) describe the schema; equal fingerprints mean equal schemas.
    pub fn schema_queries(self) -> Vec<String> {
        match self {
            Kind::Postgres => vec![
                "SELECT table_schema || '.' || table_name || '.' || column_name || ':' || data_type || ':' || \
                 is_nullable FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', \
                 'information_schema') ORDER BY 1"
                    .into(),
                "SELECT schemaname || '.' || indexname || ':' || indexdef FROM pg_indexes WHERE schemaname NOT IN \
                 ('pg_catalog') ORDER BY 1"
                    .into(),
            ],
            Kind::Mysql => vec![
                "SELECT CONCAT(table_name, '.', column_name, ':', column_type, ':', is_nullable) FROM \
                 information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1"
                    .into(),
                "SELECT CONCAT(table_name, '.', index_name, '.', seq_in_index, ':', column_name, ':', non_unique) \
                 FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY 1"
                    .into(),
            ],
            Kind::Sqlite => vec![
                "SELECT type || ':' || name || ':' || coalesce(sql, '') FROM sqlite_master ORDER BY 1".into(),
            ],
        }
    }

    /// One text row per revision with every column that does not depend on time.
    pub fn revisions_query(self) -> String {
        let t = self.revisions_table();
        match self {
            Kind::Postgres => format!(
                "SELECT concat_ws('|', version, description, type, applied, total, error, error_stmt, hash, \
                 coalesce(partial_hashes::text, '<null>'), operator_version) FROM {t} ORDER BY version"
            ),
            Kind::Mysql => format!(
                "SELECT CONCAT_WS('|', version, description, type, applied, total, error, error_stmt, hash, \
                 coalesce(CAST(partial_hashes AS CHAR), '<null>'), operator_version) FROM {t} ORDER BY version"
            ),
            Kind::Sqlite => format!(
                "SELECT version || '|' || description || '|' || type || '|' || applied || '|' || total || '|' || \
                 coalesce(error, '') || '|' || coalesce(error_stmt, '') || '|' || hash || '|' || \
                 coalesce(partial_hashes, '<null>') || '|' || operator_version FROM {t} ORDER BY version"
            ),
        }
    }
}

/// How many recursion steps of the SQLite busy statement take about `secs` (measured once per process).
fn sqlite_loop_for(secs: f64) -> u64 {
    use std::sync::OnceLock;
    static PER_SEC: OnceLock<f64> = OnceLock::new();
    let per_sec = *PER_SEC.get_or_init(|| {
        let rt = runtime();
        rt.block_on(async {
            let mut c = SqliteConnection::connect("sqlite::memory:").await.unwrap();
            let n = 200_000u64;
            let sql = format!(
                "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < {n}) SELECT count(*) FROM r"
            );
            // The fastest of a few tries: measured while other tests load the CPU, a slow try would make every
            // "long" statement short once the load is gone.
            let mut best = Duration::MAX;
            for _ in 0..4 {
                let t = Instant::now();
                let _: i64 = sqlx::query_scalar(AssertSqlSafe(sql.clone()))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                best = best.min(t.elapsed());
            }
            n as f64 / best.as_secs_f64().max(1e-4)
        })
    });
    ((per_sec * secs) as u64).max(1000)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A connection for checking state (not the one under test).
pub enum Conn {
    Pg(PgConnection),
    My(MySqlConnection),
    Lite(SqliteConnection),
}

/// A throw-away database plus a private temporary directory for the processes that migrate it.
pub struct Target {
    pub kind: Kind,
    pub db: TestDb,
    pub tmp: TempDir,
    rt: tokio::runtime::Runtime,
    conn: Option<Conn>,
}

impl Target {
    /// A fresh target, or `None` when the server is unreachable (outside CI; see `strata_driver::testing`).
    pub fn new(kind: Kind) -> Option<Target> {
        let rt = runtime();
        let db = match kind {
            Kind::Postgres => rt.block_on(testing::postgres())?,
            Kind::Mysql => rt.block_on(testing::mysql())?,
            Kind::Sqlite => testing::sqlite(),
        };
        Some(Target {
            kind,
            db,
            tmp: TempDir::new().unwrap(),
            rt,
            conn: None,
        })
    }

    pub fn url(&self) -> &str {
        &self.db.url
    }

    /// This SQLite database's migration lock file as the children see it (in `$TMPDIR`).
    pub fn sqlite_lock_file(&self) -> PathBuf {
        strata_driver::sqlite::lock_file_for(
            self.tmp.path(),
            "atlas_migrate_execute",
            &self.url().parse().unwrap(),
        )
    }

    /// This target's `TMPDIR` for the children.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// `strata migrate apply --dir <dir> --url <url> <extra…>` with this target's `TMPDIR`.
    pub fn apply_cmd(&self, dir: &Path, extra: &[&str]) -> Command {
        self.apply_cmd_in(self.tmp.path(), dir, extra)
    }

    /// [`Target::apply_cmd`] with `TMPDIR=tmp` (targets that share one temporary directory, as on one host).
    pub fn apply_cmd_in(&self, tmp: &Path, dir: &Path, extra: &[&str]) -> Command {
        let mut c = strata(tmp);
        c.args([
            "migrate",
            "apply",
            "--dir",
            &dir_url(dir),
            "--url",
            self.url(),
        ])
        .args(extra);
        c
    }

    /// Any `strata migrate <sub> --dir <dir> --url <url> <extra…>`.
    pub fn migrate_cmd(&self, sub: &str, dir: &Path, extra: &[&str]) -> Command {
        let mut c = strata(self.tmp.path());
        c.args(["migrate", sub, "--dir", &dir_url(dir), "--url", self.url()])
            .args(extra);
        c
    }

    fn connect(&mut self) {
        if self.conn.is_none() {
            let url = self.db.url.clone();
            let c = self.rt.block_on(async {
                match self.kind {
                    Kind::Postgres => Conn::Pg(PgConnection::connect(&url).await.unwrap()),
                    Kind::Mysql => Conn::My(MySqlConnection::connect(&url).await.unwrap()),
                    // The file may not exist yet (a run killed before it created it): create it empty.
                    Kind::Sqlite => Conn::Lite(
                        SqliteConnection::connect(&format!("{url}?mode=rwc"))
                            .await
                            .unwrap(),
                    ),
                }
            });
            self.conn = Some(c);
        }
    }

    /// The first column of the first row as an integer; `Err` with the database's message on failure.
    pub fn try_i64(&mut self, sql: &str) -> Result<i64, String> {
        let sql = sql.to_owned();
        self.connect();
        let conn = self.conn.as_mut().unwrap();
        self.rt.block_on(async move {
            let q = sqlx::raw_sql(AssertSqlSafe(sql));
            let row = match conn {
                Conn::Pg(c) => q.fetch_one(c).await.map(|r| r.try_get::<i64, _>(0)),
                Conn::My(c) => q.fetch_one(c).await.map(|r| r.try_get::<i64, _>(0)),
                Conn::Lite(c) => q.fetch_one(c).await.map(|r| r.try_get::<i64, _>(0)),
            };
            match row {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) | Err(e) => Err(e.to_string()),
            }
        })
    }

    pub fn i64(&mut self, sql: &str) -> i64 {
        self.try_i64(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The first column of every row, as text (`<NULL>` for NULL).
    pub fn strings(&mut self, sql: &str) -> Vec<String> {
        let sql = sql.to_owned();
        self.connect();
        let conn = self.conn.as_mut().unwrap();
        self.rt.block_on(async move {
            let q = sqlx::raw_sql(AssertSqlSafe(sql.clone()));
            let text = |r: Result<Option<String>, sqlx::Error>,
                        b: Result<Option<Vec<u8>>, sqlx::Error>| {
                match (r, b) {
                    (Ok(v), _) => v.unwrap_or_else(|| "<NULL>".into()),
                    (_, Ok(v)) => v.map_or_else(
                        || "<NULL>".into(),
                        |b| String::from_utf8_lossy(&b).into_owned(),
                    ),
                    (Err(e), _) => panic!("{sql}: {e}"),
                }
            };
            match conn {
                Conn::Pg(c) => q.fetch_all(c).await.map(|rows| {
                    rows.iter()
                        .map(|r| text(r.try_get(0), r.try_get(0)))
                        .collect()
                }),
                Conn::My(c) => q.fetch_all(c).await.map(|rows| {
                    rows.iter()
                        .map(|r| text(r.try_get(0), r.try_get(0)))
                        .collect()
                }),
                Conn::Lite(c) => q.fetch_all(c).await.map(|rows| {
                    rows.iter()
                        .map(|r| text(r.try_get(0), r.try_get(0)))
                        .collect()
                }),
            }
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }

    /// Runs statements; `Err` with the database's message.
    pub fn try_exec(&mut self, sql: &str) -> Result<(), String> {
        let sql = sql.to_owned();
        self.connect();
        let conn = self.conn.as_mut().unwrap();
        self.rt.block_on(async move {
            let q = sqlx::raw_sql(AssertSqlSafe(sql.clone()));
            match conn {
                Conn::Pg(c) => q.execute(c).await.map(|_| ()),
                Conn::My(c) => q.execute(c).await.map(|_| ()),
                Conn::Lite(c) => q.execute(c).await.map(|_| ()),
            }
            .map_err(|e| e.to_string())
        })
    }

    /// Waits until one of this test's processes holds the migration lock on this target. (MariaDB's named lock
    /// is server-wide, as in Atlas: only a holder connected as this test's user counts.)
    pub fn wait_for_lock_holder(&mut self) {
        let start = Instant::now();
        loop {
            let held = match self.kind {
                Kind::Postgres => self.i64(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                ) > 0,
                Kind::Mysql => self.i64(
                    "SELECT count(*) FROM information_schema.processlist \
                     WHERE id = IS_USED_LOCK('atlas_migrate_execute')",
                ) > 0,
                // The file exists from just before its OS lock is taken until just before it is released.
                Kind::Sqlite => self.sqlite_lock_file().exists(),
            };
            if held {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{}: no one took the lock",
                self.kind.name()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Ends the server sessions of killed processes (a server finishes a running statement, e.g. a long sleep,
    /// before it notices its client is gone; MariaDB's named lock is server-wide, so such a session would hold up
    /// other tests).
    pub fn kill_orphans(&mut self) {
        let sql = match self.kind {
            Kind::Postgres => {
                "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            }
            Kind::Mysql => {
                "SELECT CAST(id AS CHAR) FROM information_schema.processlist WHERE id <> CONNECTION_ID()"
            }
            Kind::Sqlite => return,
        };
        for id in self.strings(sql) {
            let kill = match self.kind {
                Kind::Postgres => format!("SELECT pg_terminate_backend({id})"),
                _ => format!("KILL CONNECTION {id}"),
            };
            let _ = self.try_exec(&kill);
        }
    }

    /// Runs `sql` as the server's admin (PostgreSQL, MariaDB).
    pub fn admin(&self, sql: &str) {
        self.rt.block_on(self.db.admin_execute(sql));
    }

    /// Schema, revisions (without timestamps) and the rows of `data` queries, one string per row.
    pub fn fingerprint(&mut self, data: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        let mut queries = self.kind.schema_queries();
        queries.push(self.kind.revisions_query());
        queries.extend(data.iter().cloned());
        for (i, q) in queries.iter().enumerate() {
            out.extend(self.strings(q).into_iter().map(|r| format!("{i}: {r}")));
        }
        out
    }
}

/// `file://<dir>`.
pub fn dir_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// The `strata` binary with a private `TMPDIR` and none of the environment that would change its behaviour.
pub fn strata(tmpdir: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("strata"));
    c.env("TMPDIR", tmpdir)
        .env("NO_COLOR", "1")
        .env_remove("STRATA_DIR")
        .env_remove("STRATA_FORMAT")
        .env_remove("STRATA_DIALECT")
        .env_remove("STRATA_TX_MODE")
        .stdin(Stdio::null());
    c
}

/// Writes `files` (name, content) into a new directory `m/` under a temp dir and hashes it with `strata`.
pub fn migration_dir(files: &[(String, String)]) -> (TempDir, PathBuf) {
    let t = TempDir::new().unwrap();
    let m = t.path().join("m");
    std::fs::create_dir(&m).unwrap();
    for (name, text) in files {
        std::fs::write(m.join(name), text).unwrap();
    }
    let out = strata(t.path())
        .args(["migrate", "hash", "--dir", &dir_url(&m)])
        .output()
        .unwrap();
    assert!(out.status.success(), "hash: {}", show(&out));
    (t, m)
}

/// A 14-digit version for file number `i`.
pub fn version(i: usize) -> String {
    format!("{}", 20_240_101_000_000u64 + i as u64)
}

/// Exit status, stdout and stderr, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Waits for `child` at most `limit`; kills it (and fails) when it takes longer.
pub fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish within {limit:?} (hang?)\n{}",
                show(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A small xorshift RNG; the seed is printed so a failing run can be replayed with `STRATA_CRASH_SEED`.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    ^ u64::from(std::process::id())
            });
        eprintln!("{var}={seed}");
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `[lo, hi)`.
    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = hi.saturating_sub(lo).as_micros().max(1) as u64;
        lo + Duration::from_micros(self.next() % span)
    }
}

/// An environment variable as a number, or `default`.
pub fn env_usize(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
