//! Exactly-once under concurrency, on the real servers: many `strata migrate apply` processes against one database
//! at the same time. The migration lock (`atlas_migrate_execute`: a Postgres advisory lock, a MariaDB named lock, a
//! SQLite lock file) must serialise them so that every file runs exactly once, and every process either applies
//! something, finds nothing pending, or gives up with a clear lock-timeout error.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Kind, Target, migration_dir, show, version, wait_bounded};

const FILES: usize = 30;
const PROCESSES: usize = 8;
const LIMIT: Duration = Duration::from_secs(180);

/// 30 files. File 1 creates `log` and `counter`; every third file only changes data (so running it twice would
/// not fail, it would show as duplicate `log` rows and a wrong `counter`); the others create a table too.
fn files() -> Vec<(String, String)> {
    let mut out = vec![(
        format!("{}_init.sql", version(1)),
        "CREATE TABLE log (file int NOT NULL, step int NOT NULL);\n\
         CREATE TABLE counter (n int NOT NULL);\n\
         INSERT INTO counter (n) VALUES (0);\n"
            .to_owned(),
    )];
    for i in 2..=FILES {
        let text = if i % 3 == 0 {
            format!(
                "INSERT INTO log (file, step) VALUES ({i}, 1);\n\
                 UPDATE counter SET n = n + 1;\n\
                 INSERT INTO log (file, step) VALUES ({i}, 2);\n"
            )
        } else {
            format!(
                "CREATE TABLE t_{i} (id int PRIMARY KEY);\n\
                 INSERT INTO t_{i} (id) VALUES ({i});\n\
                 INSERT INTO log (file, step) VALUES ({i}, 1);\n\
                 UPDATE counter SET n = n + 1;\n"
            )
        };
        out.push((format!("{}_f{i}.sql", version(i)), text));
    }
    out
}

fn expected_log() -> Vec<String> {
    let mut rows = Vec::new();
    for i in 2..=FILES {
        rows.push(format!("{i}:1"));
        if i % 3 == 0 {
            rows.push(format!("{i}:2"));
        }
    }
    rows.sort();
    rows
}

/// Versions an apply report says it migrated (`-- migrating version V`).
fn migrated_versions(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .split_terminator('\n')
        .filter_map(|l| l.trim().strip_prefix("-- migrating version "))
        .map(str::to_owned)
        .collect()
}

/// Exit 0, or exit 1 with the lock-timeout error. Returns whether it was a timeout.
fn check_exit(out: &Output, who: &str) -> bool {
    if out.status.success() {
        return false;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(1)
            && err.contains(
                "Error: acquiring database lock: sql/schema: lock is held by other session: "
            ),
        "{who} failed with something else than a lock timeout\n{}",
        show(out)
    );
    true
}

/// Checks the database holds every file's effect exactly once and a complete revision per file.
fn check_exactly_once(t: &mut Target) {
    let mut log = t.strings(&format!(
        "SELECT {} FROM log ORDER BY file, step",
        match t.kind {
            Kind::Mysql => "CONCAT(file, ':', step)",
            _ => "file || ':' || step",
        }
    ));
    log.sort();
    assert_eq!(log, expected_log(), "{}: log rows", t.kind.name());
    assert_eq!(
        t.i64("SELECT count(*) FROM counter"),
        1,
        "{}: counter rows",
        t.kind.name()
    );
    let cast = if t.kind == Kind::Mysql {
        "SIGNED"
    } else {
        "BIGINT"
    };
    assert_eq!(
        t.i64(&format!("SELECT CAST(n AS {cast}) FROM counter")),
        (FILES - 1) as i64,
        "{}: counter",
        t.kind.name()
    );
    for i in (2..=FILES).filter(|i| i % 3 != 0) {
        assert_eq!(
            t.i64(&format!("SELECT count(*) FROM t_{i}")),
            1,
            "{}: t_{i}",
            t.kind.name()
        );
    }
    let revs = t.strings(&format!(
        "SELECT {} FROM {} ORDER BY version",
        match t.kind {
            Kind::Mysql => "CONCAT(version, ':', applied, '/', total, ':', type, ':', COALESCE(error, ''))",
            _ => "version || ':' || applied || '/' || total || ':' || type || ':' || COALESCE(error, '')",
        },
        t.kind.revisions_table()
    ));
    let want: Vec<String> = files()
        .iter()
        .map(|(name, text)| {
            let n = text.matches(";\n").count();
            format!("{}:{n}/{n}:2:", &name[..14])
        })
        .collect();
    assert_eq!(revs, want, "{}: revisions", t.kind.name());
}

/// All 8 processes apply everything at once: one of them takes the lock and applies the 30 files, the others wait
/// and then find nothing pending. Between them, the reports name every version exactly once.
fn all_at_once(kind: Kind) {
    let Some(mut t) = Target::new(kind) else {
        return;
    };
    let (_keep, dir) = migration_dir(&files());
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            t.apply_cmd(&dir, &["--lock-timeout", "2m"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .enumerate()
        .map(|(i, c)| wait_bounded(c, LIMIT, &format!("process {i}")))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut timeouts = 0;
    let mut idle = 0;
    for (i, o) in outs.iter().enumerate() {
        if check_exit(o, &format!("process {i}")) {
            timeouts += 1;
        }
        if String::from_utf8_lossy(&o.stdout).contains("No migration files to execute") {
            idle += 1;
        }
        for v in migrated_versions(o) {
            *seen.entry(v).or_default() += 1;
        }
    }
    assert_eq!(timeouts, 0, "{}: lock timeouts with a 2m wait", kind.name());
    assert_eq!(idle, PROCESSES - 1, "{}: idle processes", kind.name());
    let want: BTreeMap<String, usize> = (1..=FILES).map(|i| (version(i), 1)).collect();
    assert_eq!(seen, want, "{}: versions migrated per report", kind.name());
    check_exactly_once(&mut t);
    // The summary line scripts/stress collects from the test's stdout.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "concurrency[{}]: {PROCESSES} processes at once: {FILES} files applied exactly once by 1 process, \
             {idle} found nothing pending, {timeouts} lock timeouts",
            kind.name()
        );
    }
}

/// 8 workers each loop `apply N` (N = 1, 2 or 3) until nothing is pending, so the files get applied by many
/// different processes interleaved through the lock.
fn in_small_steps(kind: Kind) {
    let Some(mut t) = Target::new(kind) else {
        return;
    };
    let (_keep, dir) = migration_dir(&files());
    let started = Instant::now();
    let per_worker: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..PROCESSES)
            .map(|w| {
                let t = &t;
                let dir: &Path = &dir;
                s.spawn(move || {
                    let amount = (1 + w % 3).to_string();
                    let mut mine = Vec::new();
                    for round in 0..=FILES {
                        let child = t
                            .apply_cmd(dir, &[&amount, "--lock-timeout", "2m"])
                            .stdout(Stdio::piped())
                            .stderr(Stdio::piped())
                            .spawn()
                            .unwrap();
                        let out = wait_bounded(child, LIMIT, &format!("worker {w} round {round}"));
                        let timed_out = check_exit(&out, &format!("worker {w} round {round}"));
                        assert!(!timed_out, "worker {w}: lock timeout with a 2m wait");
                        let got = migrated_versions(&out);
                        if got.is_empty() {
                            assert!(
                                String::from_utf8_lossy(&out.stdout)
                                    .contains("No migration files to execute"),
                                "{}",
                                show(&out)
                            );
                            return mine;
                        }
                        mine.extend(got);
                    }
                    panic!("worker {w} never saw an empty plan");
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for v in per_worker.iter().flatten() {
        *seen.entry(v.clone()).or_default() += 1;
    }
    let want: BTreeMap<String, usize> = (1..=FILES).map(|i| (version(i), 1)).collect();
    assert_eq!(seen, want, "{}: versions migrated per report", kind.name());
    let workers_that_applied = per_worker.iter().filter(|v| !v.is_empty()).count();
    // The summary line scripts/stress collects from the test's stdout.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "concurrency[{}]: {PROCESSES} workers in small steps: {FILES} files applied exactly once, spread over \
             {workers_that_applied} workers, in {:.1?}",
            kind.name(),
            started.elapsed()
        );
    }
    check_exactly_once(&mut t);
}

#[test]
fn postgres_eight_processes_apply_at_once() {
    all_at_once(Kind::Postgres);
}

#[test]
fn mariadb_eight_processes_apply_at_once() {
    all_at_once(Kind::Mysql);
}

#[test]
fn sqlite_eight_processes_apply_at_once() {
    all_at_once(Kind::Sqlite);
}

/// Two SQLite databases on one host (one `TMPDIR` for all), each applied by 8 processes, all 16 started at once:
/// the lock is per database, so each database's files run exactly once, by one of its own 8 processes, and no
/// process times out.
#[test]
fn sqlite_two_databases_eight_processes_each_at_once() {
    let (Some(mut a), Some(mut b)) = (Target::new(Kind::Sqlite), Target::new(Kind::Sqlite)) else {
        return;
    };
    let (_keep, dir) = migration_dir(&files());
    let tmp = a.tmp().to_path_buf();
    let children: Vec<_> = [&a, &b]
        .into_iter()
        .flat_map(|t| (0..PROCESSES).map(move |_| t))
        .map(|t| {
            t.apply_cmd_in(&tmp, &dir, &["--lock-timeout", "2m"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .enumerate()
        .map(|(i, c)| wait_bounded(c, LIMIT, &format!("process {i}")))
        .collect();
    let mut timeouts = 0;
    for (db, outs) in outs.chunks(PROCESSES).enumerate() {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut idle = 0;
        for (i, o) in outs.iter().enumerate() {
            if check_exit(o, &format!("database {db}, process {i}")) {
                timeouts += 1;
            }
            if String::from_utf8_lossy(&o.stdout).contains("No migration files to execute") {
                idle += 1;
            }
            for v in migrated_versions(o) {
                *seen.entry(v).or_default() += 1;
            }
        }
        assert_eq!(idle, PROCESSES - 1, "database {db}: idle processes");
        let want: BTreeMap<String, usize> = (1..=FILES).map(|i| (version(i), 1)).collect();
        assert_eq!(seen, want, "database {db}: versions migrated per report");
    }
    assert_eq!(timeouts, 0, "lock timeouts with a 2m wait");
    check_exactly_once(&mut a);
    check_exactly_once(&mut b);
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "concurrency[sqlite]: 2 databases x {PROCESSES} processes at once, one TMPDIR: {FILES} files applied \
             exactly once per database, {timeouts} lock timeouts"
        );
    }
}

/// While one SQLite database's migration lock is held (a slow file running), another database on the same host
/// (same `TMPDIR`) migrates at once: a single lock attempt (`--lock-timeout 0s`) is enough. Atlas's host-wide lock
/// would make it wait.
#[test]
fn sqlite_lock_of_one_database_does_not_block_another() {
    let (Some(a), Some(mut b)) = (Target::new(Kind::Sqlite), Target::new(Kind::Sqlite)) else {
        return;
    };
    let slow = vec![(
        format!("{}_slow.sql", version(1)),
        format!("CREATE TABLE s (id int);\n{};\n", Kind::Sqlite.sleep(10.0)),
    )];
    let (_keep, slow_dir) = migration_dir(&slow);
    let (_keep2, dir) = migration_dir(&files());
    let tmp = a.tmp().to_path_buf();
    let mut holder = a
        .apply_cmd_in(&tmp, &slow_dir, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = a.sqlite_lock_file();
    let start = Instant::now();
    while !lock.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "no lock file");
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = b
        .apply_cmd_in(&tmp, &dir, &["--lock-timeout", "0s"])
        .output()
        .unwrap();
    let holder_running = holder.try_wait().unwrap().is_none();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        holder_running,
        "the other database's holder finished too early"
    );
    check_exactly_once(&mut b);
    holder.kill().unwrap();
    holder.wait().unwrap();
}

#[test]
fn postgres_eight_workers_apply_in_small_steps() {
    in_small_steps(Kind::Postgres);
}

#[test]
fn mariadb_eight_workers_apply_in_small_steps() {
    in_small_steps(Kind::Mysql);
}

#[test]
fn sqlite_eight_workers_apply_in_small_steps() {
    in_small_steps(Kind::Sqlite);
}

/// A short lock timeout really times out, with Atlas's error and an explanation naming the wait.
#[test]
fn lock_timeout_is_reported_clearly() {
    for kind in [Kind::Postgres, Kind::Mysql, Kind::Sqlite] {
        let Some(mut t) = Target::new(kind) else {
            continue;
        };
        let slow = vec![(
            format!("{}_slow.sql", version(1)),
            format!("CREATE TABLE s (id int);\n{};\n", kind.sleep(10.0)),
        )];
        let (_keep, dir) = migration_dir(&slow);
        let mut holder = t
            .apply_cmd(&dir, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        t.wait_for_lock_holder();
        let out = t
            .apply_cmd(&dir, &["--lock-timeout", "1s"])
            .output()
            .unwrap();
        assert!(
            holder.try_wait().unwrap().is_none(),
            "{}: the holder finished early",
            kind.name()
        );
        let _ = holder.kill();
        let _ = holder.wait();
        t.kill_orphans();
        assert!(
            check_exit(&out, "waiter"),
            "{}: {}",
            kind.name(),
            show(&out)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--lock-timeout 1s") && err.contains("gave up after"),
            "{}: {err}",
            kind.name()
        );
    }
}

/// PostgreSQL: a waiter does not deadlock with `CREATE INDEX CONCURRENTLY`.
///
/// Why tools that block inside `pg_advisory_lock` deadlock here: the waiting session sits in one long
/// `SELECT pg_advisory_lock(...)` statement, which holds a snapshot (a virtual transaction) for as long as it waits.
/// `CREATE INDEX CONCURRENTLY` must wait, before it can finish, for every transaction whose snapshot is older than
/// its own (it cannot run inside a transaction, and its last phase waits out such snapshots so no one could miss
/// rows in the new index). So the migrator (holding the advisory lock) waits for the waiter's snapshot, and the
/// waiter waits for the migrator's advisory lock: a cycle. PostgreSQL's deadlock detector breaks it after
/// `deadlock_timeout` by failing one of them: either the waiter's apply fails, or the CIC fails and leaves an
/// INVALID index behind (with `txmode none` the partial revision then needs manual repair). Strata polls with
/// `pg_try_advisory_lock` (Atlas's scheme): every attempt is a short statement and between attempts the session is
/// idle without a snapshot, so the CIC never waits for it. The control experiment below shows the cycle with a
/// blocking waiter on the same setup, so this test would catch a regression to blocking.
#[test]
fn postgres_create_index_concurrently_with_a_waiter() {
    let files = vec![
        (
            format!("{}_big.sql", version(1)),
            "CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL);\n\
             INSERT INTO big (id, v) SELECT g, g % 1000 FROM generate_series(1, 200000) g;\n\
             SELECT pg_sleep(1);\n"
                .to_owned(),
        ),
        (
            format!("{}_index.sql", version(2)),
            "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY big_v ON big (v);\n".to_owned(),
        ),
        (
            format!("{}_after.sql", version(3)),
            "CREATE TABLE after_index (id int);\n".to_owned(),
        ),
    ];
    let (_keep, dir) = migration_dir(&files);

    // Strata waiters.
    let Some(mut t) = Target::new(Kind::Postgres) else {
        return;
    };
    let start = Instant::now();
    let a = t
        .apply_cmd(&dir, &["--lock-timeout", "1m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    t.wait_for_lock_holder();
    // The waiters start while A is still in file 1, so they are waiting before the CIC takes its snapshot.
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            t.apply_cmd(&dir, &["--lock-timeout", "1m"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut a = Some(a);
    let mut saw_cic = false;
    // Sample while A runs: the CIC shows up, and no one ever waits *inside* the advisory lock.
    while a.as_mut().unwrap().try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "apply with CIC hangs"
        );
        let blocked = t.i64(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        assert_eq!(blocked, 0, "a session waits inside pg_advisory_lock");
        saw_cic |= t.i64(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = 'active'",
        ) > 0;
        std::thread::sleep(Duration::from_millis(20));
    }
    let a = wait_bounded(a.take().unwrap(), LIMIT, "migrator");
    assert!(a.status.success(), "{}", show(&a));
    assert_eq!(migrated_versions(&a), [version(1), version(2), version(3)]);
    for (i, w) in waiters.into_iter().enumerate() {
        let out = wait_bounded(w, Duration::from_secs(60), &format!("waiter {i}"));
        assert!(out.status.success(), "waiter {i}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("No migration files to execute"),
            "waiter {i}: {}",
            show(&out)
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        saw_cic,
        "the CIC finished too fast to observe; make the table bigger"
    );
    assert_eq!(
        t.i64(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = 'big_v' AND i.indisvalid AND i.indisready"
        ),
        1,
        "index big_v is valid"
    );

    // Control: the same run with a waiter blocking inside pg_advisory_lock deadlocks (PostgreSQL detects it and
    // fails one side), which is what the polling above avoids.
    let Some(mut c) = Target::new(Kind::Postgres) else {
        return;
    };
    let a = c
        .apply_cmd(&dir, &["--lock-timeout", "1m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.wait_for_lock_holder();
    let url = c.url().to_owned();
    let blocking = std::thread::spawn(move || {
        crate::common::runtime().block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let r = sqlx::raw_sql("SELECT pg_advisory_lock(2686470616)")
                .execute(&mut conn)
                .await;
            let _ = sqlx::raw_sql("SELECT pg_advisory_unlock_all()")
                .execute(&mut conn)
                .await;
            r.err().map(|e| e.to_string()).unwrap_or_default()
        })
    });
    let a = wait_bounded(a, LIMIT, "control migrator");
    let blocked_err = blocking.join().unwrap();
    let a_err = String::from_utf8_lossy(&a.stderr).into_owned();
    assert!(
        blocked_err.contains("deadlock detected") || a_err.contains("deadlock detected"),
        "control: expected PostgreSQL to detect the CIC/advisory-lock deadlock\nwaiter: {blocked_err}\n{}",
        show(&a)
    );
}
