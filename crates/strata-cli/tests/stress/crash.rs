//! Crash safety on the real servers: `kill -9` a `strata migrate apply` at a random moment, check what the
//! database may look like at that point, apply again, and compare the end state with an uninterrupted apply.
//!
//! - PostgreSQL and SQLite (transactional DDL, default `txmode file`): a file and its revision row commit together,
//!   so after a kill every file is either complete (row with `applied == total`, every effect present) or absent
//!   (no row, no effect). Files complete in order, so the complete ones are a prefix.
//! - MariaDB (DDL commits implicitly): a partial row (`applied < total`) may remain. The statements before
//!   `applied` have taken effect, those after it have not, and the one *at* `applied` may or may not have (the
//!   server finishes a statement whose client died, and a DDL commits before its progress row is written). Such a
//!   DDL statement was recorded as in flight before it ran (the row's `error` holds the marker, `error_stmt` the
//!   statement), so the next apply decides from the schema whether it took effect and completes — never needing a
//!   human. Every statement here would fail or show when run twice (`log` has a unique key; tables, columns and
//!   indexes exist once), so a duplicated effect cannot go unnoticed.
//! - MariaDB, mid-DDL (`mariadb_kill_9_mid_ddl`): kills that land while a large `ALTER TABLE … ALGORITHM=COPY` (or
//!   index build, `CREATE TABLE … AS SELECT`) runs on the server, `STRATA_DDL_KILLS` of them (default 3;
//!   `scripts/stress` runs 30+). The recovery starts at once, while the server still runs the statement: it must
//!   wait for it, decide, and finish on its own.
//! - SQLite: the killed process leaves Atlas's lock file behind; its OS lock is gone, so the next run (with
//!   `--lock-timeout 0s`, a single attempt) treats it as stale and proceeds.
//!
//! The number of kills per dialect is `STRATA_CRASH_RUNS` (default 3; `scripts/stress` runs 50+), the random
//! kill moments come from `STRATA_CRASH_SEED` (printed). Each dialect prints a summary line `crash[<dialect>]: …`.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Kind, Rng, Target, env_usize, migration_dir, show, version, wait_bounded};
use strata_migrate::inflight::Marker;

/// Data files after the `log` file.
const FILES: usize = 8;
const LIMIT: Duration = Duration::from_secs(120);

/// Observable effect of one statement: `check` returns `expect` once the statement ran once (0 before; an error,
/// e.g. a missing table, counts as 0).
struct Probe {
    check: String,
    expect: i64,
}

struct Stmt {
    sql: String,
    probe: Option<Probe>,
}

struct File {
    version: String,
    name: String,
    stmts: Vec<Stmt>,
}

fn stmt(sql: String, check: String, expect: i64) -> Stmt {
    Stmt {
        sql,
        probe: Some(Probe { check, expect }),
    }
}

fn sleep(kind: Kind) -> Stmt {
    Stmt {
        sql: kind.sleep(0.03),
        probe: None,
    }
}

/// The directory of the crash runs: `log`, then 8 files of 9 statements each (DDL, data, slow statements).
fn scenario(kind: Kind) -> Vec<File> {
    let unique = if kind == Kind::Mysql {
        // Re-running an insert must fail rather than add a row twice (MariaDB can leave a statement committed
        // without its progress row). PostgreSQL and SQLite keep no unique key, so a duplicate would *show*.
        ", UNIQUE KEY log_once (file, step)"
    } else {
        ""
    };
    let mut files = vec![File {
        version: version(1),
        name: format!("{}_log.sql", version(1)),
        stmts: vec![stmt(
            format!("CREATE TABLE log (file int NOT NULL, step int NOT NULL{unique})"),
            kind.table_exists("log"),
            1,
        )],
    }];
    for i in 1..=FILES {
        let c = format!("c_{i}");
        let log = |step: usize| {
            stmt(
                format!("INSERT INTO log (file, step) VALUES ({i}, {step})"),
                format!("SELECT count(*) FROM log WHERE file = {i} AND step = {step}"),
                1,
            )
        };
        files.push(File {
            version: version(i + 1),
            name: format!("{}_file_{i}.sql", version(i + 1)),
            stmts: vec![
                stmt(
                    format!("CREATE TABLE {c} (id int PRIMARY KEY, v varchar(10))"),
                    kind.table_exists(&c),
                    1,
                ),
                sleep(kind),
                stmt(
                    format!("INSERT INTO {c} (id, v) VALUES (1, 'a'), (2, 'b')"),
                    format!("SELECT count(*) FROM {c}"),
                    2,
                ),
                log(3),
                sleep(kind),
                stmt(
                    format!("ALTER TABLE {c} ADD COLUMN w int"),
                    kind.column_exists(&c, "w"),
                    1,
                ),
                log(6),
                stmt(
                    format!("CREATE INDEX {c}_v ON {c} (v)"),
                    kind.index_exists(&c, &format!("{c}_v")),
                    1,
                ),
                sleep(kind),
            ],
        });
    }
    files
}

fn dir_files(files: &[File]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| {
            let text: String = f.stmts.iter().map(|s| format!("{};\n", s.sql)).collect();
            (f.name.clone(), text)
        })
        .collect()
}

/// Data compared between a recovered and an uninterrupted apply (besides schema and revisions).
fn data_queries(kind: Kind) -> Vec<String> {
    let cat = |a: &str, b: &str| match kind {
        Kind::Mysql => format!("CONCAT({a}, ':', {b})"),
        _ => format!("{a} || ':' || {b}"),
    };
    let mut q = vec![format!(
        "SELECT {} FROM log ORDER BY file, step",
        cat("file", "step")
    )];
    for i in 1..=FILES {
        q.push(format!(
            "SELECT {} FROM c_{i} ORDER BY id",
            cat("id", "coalesce(v, '')")
        ));
    }
    q
}

/// A revision as the checks need it.
#[derive(Debug)]
struct Row {
    version: String,
    applied: usize,
    total: usize,
    error: String,
    error_stmt: String,
}

fn revisions(t: &mut Target) -> Vec<Row> {
    let exists = match t.kind {
        Kind::Postgres => t.i64(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'atlas_schema_revisions' \
             AND table_name = 'atlas_schema_revisions'",
        ),
        k => t.i64(&k.table_exists("atlas_schema_revisions")),
    };
    if exists == 0 {
        return Vec::new();
    }
    // error_stmt last: a statement text may hold the separator.
    let cols = match t.kind {
        Kind::Mysql => {
            "CONCAT_WS('|', version, applied, total, COALESCE(error, ''), COALESCE(error_stmt, ''))"
        }
        _ => {
            "version || '|' || applied || '|' || total || '|' || COALESCE(error, '') || '|' || \
             COALESCE(error_stmt, '')"
        }
    };
    t.strings(&format!(
        "SELECT {cols} FROM {} ORDER BY version",
        t.kind.revisions_table()
    ))
    .into_iter()
    .map(|s| {
        let mut p = s.splitn(5, '|');
        Row {
            version: p.next().unwrap().to_owned(),
            applied: p.next().unwrap().parse().unwrap(),
            total: p.next().unwrap().parse().unwrap(),
            error: p.next().unwrap_or_default().to_owned(),
            error_stmt: p.next().unwrap_or_default().to_owned(),
        }
    })
    .collect()
}

/// The probe values of every statement of every file.
fn probes(t: &mut Target, files: &[File]) -> Vec<Vec<Option<i64>>> {
    files
        .iter()
        .map(|f| {
            f.stmts
                .iter()
                .map(|s| s.probe.as_ref().map(|p| t.try_i64(&p.check).unwrap_or(0)))
                .collect()
        })
        .collect()
}

/// Waits until no session but the checker's is connected to the database: the server finishes a statement whose
/// client was killed before it notices, so state is only stable afterwards.
fn wait_for_orphans(t: &mut Target) {
    let sql = match t.kind {
        Kind::Postgres => {
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        }
        Kind::Mysql => {
            "SELECT count(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID()"
        }
        Kind::Sqlite => return,
    };
    let start = Instant::now();
    while t.i64(sql) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}: the killed session stays connected",
            t.kind.name()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What a kill left behind.
#[derive(Debug, Default)]
struct State {
    /// Files with a complete row.
    complete: usize,
    /// MariaDB: the file with a partial row and its `applied`.
    partial: Option<(usize, usize)>,
    /// MariaDB: the partial row names its next statement as in flight.
    in_flight: bool,
}

/// Checks the invariants after a kill; panics with the whole picture on a violation.
fn check_after_kill(t: &mut Target, files: &[File], run: usize) -> State {
    let rows = revisions(t);
    let values = probes(t, files);
    let ctx = || {
        format!(
            "{} run {run}: rows {rows:#?}\nprobes {values:?}",
            t.kind.name()
        )
    };
    let mut state = State::default();
    // Rows exist for a prefix of the files, in order.
    assert!(rows.len() <= files.len(), "{}", ctx());
    for (row, f) in rows.iter().zip(files) {
        assert_eq!(row.version, f.version, "rows are not a prefix\n{}", ctx());
        assert_eq!(row.total, f.stmts.len(), "total\n{}", ctx());
        if row.error.is_empty() {
            assert_eq!(row.error_stmt, "", "{}", ctx());
            continue;
        }
        // No error but the in-flight marker: on a partial MariaDB row, naming its next statement, a DDL (the
        // statements that commit with their progress row need none).
        let marker = Marker::parse(&row.error)
            .unwrap_or_else(|| panic!("a killed run recorded an error\n{}", ctx()));
        assert!(
            t.kind == Kind::Mysql && row.applied < row.total,
            "marker on a complete or transactional row\n{}",
            ctx()
        );
        assert_eq!(marker.statement as usize, row.applied + 1, "{}", ctx());
        let next = &f.stmts[row.applied].sql;
        assert!(
            is_ddl(next),
            "marker on a statement that is not DDL\n{}",
            ctx()
        );
        assert_eq!(row.error_stmt, format!("{next};"), "{}", ctx());
    }
    for (i, f) in files.iter().enumerate() {
        let row = rows.get(i);
        let applied = match row {
            Some(r) if r.applied == r.total => {
                state.complete += 1;
                f.stmts.len()
            }
            Some(r) => {
                assert!(
                    t.kind == Kind::Mysql,
                    "half of a transactional file is recorded\n{}",
                    ctx()
                );
                assert_eq!(
                    i + 1,
                    rows.len(),
                    "a partial row that is not the last\n{}",
                    ctx()
                );
                state.partial = Some((i, r.applied));
                state.in_flight = !r.error.is_empty();
                r.applied
            }
            None => 0,
        };
        for (j, (s, v)) in f.stmts.iter().zip(&values[i]).enumerate() {
            let (Some(p), Some(v)) = (&s.probe, v) else {
                continue;
            };
            let ok = if j < applied {
                *v == p.expect
            } else if j == applied && row.is_some() && applied < f.stmts.len() && is_ddl(&s.sql) {
                // The DDL statement in flight when the process died (MariaDB only): it commits on its own, so it
                // may have taken effect before its progress row was written. Anything else commits together
                // with its progress row.
                *v == p.expect || *v == 0
            } else {
                *v == 0
            };
            assert!(
                ok,
                "file {} statement {} ({}) has effect {v} (expected {} with {applied} applied)\n{}",
                f.name,
                j + 1,
                s.sql,
                if j < applied { p.expect } else { 0 },
                ctx()
            );
        }
    }
    state
}

/// Statements that commit on their own on MariaDB.
fn is_ddl(sql: &str) -> bool {
    ["CREATE ", "ALTER ", "DROP "]
        .iter()
        .any(|k| sql.starts_with(k))
}

/// How one run went.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    before_any_file: usize,
    mid_run: usize,
    finished_before_kill: usize,
    partial_rows: usize,
    in_flight_rows: usize,
    stale_lock_files: usize,
    resumed: usize,
    decided_took_effect: usize,
    decided_runs_now: usize,
    max_recovery: Duration,
}

/// The recovery's note about a statement in flight (stderr): `Some(true)` took effect, `Some(false)` runs now.
fn decision(out: &Output) -> Option<bool> {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .split_terminator('\n')
        .find(|l| l.starts_with("note: an earlier run stopped while statement"))?;
    Some(line.contains("it took effect, so it counts as applied"))
}

fn apply(t: &Target, dir: &Path, extra: &[&str]) -> Output {
    let child = t
        .apply_cmd(dir, extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child, LIMIT, "apply")
}

/// The reference: an uninterrupted apply, its duration and its fingerprint.
fn clean(kind: Kind, dir: &Path) -> Option<(Duration, Vec<String>)> {
    let mut t = Target::new(kind)?;
    let start = Instant::now();
    let out = apply(&t, dir, &[]);
    let took = start.elapsed();
    assert!(out.status.success(), "{}", show(&out));
    Some((took, t.fingerprint(&data_queries(kind))))
}

fn crash_runs(kind: Kind) {
    let runs = env_usize("STRATA_CRASH_RUNS", 3);
    let files = scenario(kind);
    let (_keep, dir) = migration_dir(&dir_files(&files));
    let Some((clean_took, clean_fp)) = clean(kind, &dir) else {
        return;
    };
    let mut rng = Rng::from_env("STRATA_CRASH_SEED");
    let mut tally = Tally::default();
    let started = Instant::now();
    for run in 0..runs {
        let mut t = Target::new(kind).expect("server went away");
        let mut child = t
            .apply_cmd(&dir, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Anywhere from process start to a little past a clean run's end.
        let at = rng.duration(Duration::ZERO, clean_took.mul_f64(1.1));
        std::thread::sleep(at);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        if finished {
            assert!(out.status.success(), "{}", show(&out));
        }
        wait_for_orphans(&mut t);
        let state = check_after_kill(&mut t, &files, run);
        tally.runs += 1;
        if finished || state.complete == files.len() {
            tally.finished_before_kill += 1;
        } else if state.complete == 0 && state.partial.is_none() {
            tally.before_any_file += 1;
        } else {
            tally.mid_run += 1;
        }
        tally.partial_rows += usize::from(state.partial.is_some());
        tally.in_flight_rows += usize::from(state.in_flight);
        // SQLite: the lock file the killed process held stays behind; the next run must take it over at once.
        let lock_timeout = if kind == Kind::Sqlite {
            tally.stale_lock_files += usize::from(t.sqlite_lock_file().exists());
            "0s"
        } else {
            // The server may still be ending the killed session (wait_for_orphans saw it gone, so this is slack).
            "10s"
        };
        let rec = Instant::now();
        let out = apply(&t, &dir, &["--lock-timeout", lock_timeout]);
        assert!(
            out.status.success(),
            "{} run {run}: recovery needed a human\n{}",
            kind.name(),
            show(&out)
        );
        tally.resumed += 1;
        // A decision is reported exactly when the row named a statement in flight.
        match decision(&out) {
            Some(true) => tally.decided_took_effect += 1,
            Some(false) => tally.decided_runs_now += 1,
            None => {}
        }
        assert_eq!(
            decision(&out).is_some(),
            state.in_flight,
            "run {run}: {}",
            show(&out)
        );
        tally.max_recovery = tally.max_recovery.max(rec.elapsed());
        if kind == Kind::Sqlite {
            assert!(
                !t.sqlite_lock_file().exists(),
                "lock file left after a clean exit"
            );
        }
        let fp = t.fingerprint(&data_queries(kind));
        assert_eq!(
            fp,
            clean_fp,
            "{} run {run}: end state differs from an uninterrupted apply",
            kind.name()
        );
        assert!(
            String::from_utf8_lossy(&t.migrate_cmd("status", &dir, &[]).output().unwrap().stdout)
                .contains("Already at latest version"),
            "status after recovery"
        );
    }
    let t = &tally;
    // The summary line scripts/stress collects from the test's stdout.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "crash[{}]: {} kill -9 runs in {:.0?}: {} before any file, {} mid-run, {} after the last file; \
             {} partial rows ({} with a statement in flight), {} stale lock files; recovery: {} resumed to completion \
             (in flight: {} took effect, {} ran), 0 needed a human, slowest {:.1?}; invariant violations 0; end state \
             == clean apply {}/{}",
            kind.name(),
            t.runs,
            started.elapsed(),
            t.before_any_file,
            t.mid_run,
            t.finished_before_kill,
            t.partial_rows,
            t.in_flight_rows,
            t.stale_lock_files,
            t.resumed,
            t.decided_took_effect,
            t.decided_runs_now,
            t.max_recovery,
            t.runs,
            t.runs,
        );
    }
}

#[test]
fn postgres_kill_9() {
    crash_runs(Kind::Postgres);
}

#[test]
fn mariadb_kill_9() {
    crash_runs(Kind::Mysql);
}

#[test]
fn sqlite_kill_9() {
    crash_runs(Kind::Sqlite);
}

/// The lock file of a SQLite apply killed while holding it stays behind, yet the next run takes it over at once
/// (its OS lock died with the process): a single attempt (`--lock-timeout 0s`) is enough. The finished run
/// removes the file.
#[test]
fn sqlite_stale_lock_file_after_kill_9() {
    let Some(mut t) = Target::new(Kind::Sqlite) else {
        return;
    };
    let files = vec![(
        format!("{}_slow.sql", version(1)),
        format!("CREATE TABLE s (id int);\n{};\n", Kind::Sqlite.sleep(5.0)),
    )];
    let (_keep, dir) = migration_dir(&files);
    let lock = t.sqlite_lock_file();
    let mut child = t
        .apply_cmd(&dir, &["--lock-timeout", "1h"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !lock.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "no lock file");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "finished too early");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(lock.exists(), "the killed holder left its lock file behind");
    let fast = vec![(
        format!("{}_slow.sql", version(1)),
        "CREATE TABLE s (id int);\n".to_owned(),
    )];
    let (_keep2, dir2) = migration_dir(&fast);
    let took = Instant::now();
    let out = apply(&t, &dir2, &["--lock-timeout", "0s"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        took.elapsed() < Duration::from_secs(10),
        "{:?}",
        took.elapsed()
    );
    assert!(!lock.exists(), "lock file removed after the run");
    assert_eq!(t.i64("SELECT count(*) FROM s"), 0);
}

/// MariaDB commits a DDL statement at once, and with `START TRANSACTION` every statement after it in the file
/// then ran in autocommit mode — committed apart from its progress row. A crash between the two left the
/// statement applied but unrecorded, and the next apply ran it again: an `INSERT` without a unique key doubled.
/// Simulated deterministically: a trigger fails the progress write that follows the `INSERT`.
#[test]
fn mariadb_statement_after_ddl_commits_with_its_progress() {
    let Some(mut t) = Target::new(Kind::Mysql) else {
        return;
    };
    let files = vec![
        (
            format!("{}_seed.sql", version(1)),
            "CREATE TABLE seed (id int);\n".to_owned(),
        ),
        (
            format!("{}_then_dml.sql", version(2)),
            "CREATE TABLE t (id int);\nINSERT INTO t (id) VALUES (1);\nSELECT 1;\n".to_owned(),
        ),
    ];
    let (_keep, dir) = migration_dir(&files);
    let out = apply(&t, &dir, &["1"]);
    assert!(out.status.success(), "{}", show(&out));
    let db = t.db.name.clone();
    t.admin(&format!(
        "CREATE TRIGGER `{db}`.crash_before_progress BEFORE UPDATE ON `{db}`.atlas_schema_revisions FOR EACH ROW \
         BEGIN IF NEW.version = '{}' AND NEW.applied = 2 THEN \
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'simulated crash before the progress write'; END IF; END",
        version(2)
    ));
    let out = apply(&t, &dir, &[]);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("simulated crash"),
        "{}",
        show(&out)
    );
    // What persisted agrees with the row: the INSERT is not in the database unless it is recorded.
    let rows = revisions(&mut t);
    let applied = rows.last().map(|r| r.applied).unwrap_or(0);
    let inserted = t.i64("SELECT count(*) FROM t");
    assert!(
        applied >= 2 || inserted == 0,
        "the INSERT committed without its progress row: {rows:?}, {inserted} rows"
    );
    t.admin(&format!("DROP TRIGGER `{db}`.crash_before_progress"));
    let out = apply(&t, &dir, &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(t.i64("SELECT count(*) FROM t"), 1, "the INSERT ran twice");
}

/// Rows of `big` in the mid-DDL scenario: enough for each `ALGORITHM=COPY` statement to run for a few hundred
/// milliseconds, so a kill can land inside it.
const BIG_ROWS: usize = 50_000;

/// A kill target: the index of its file and the statement's text.
type KillTarget = (usize, String);

/// The mid-DDL scenario: `log` (unique key, so a repeated insert fails) and a large `big`, then files of slow DDL
/// of every recognised shape with inserts in between. The slow statements are the kill targets.
fn ddl_scenario() -> (Vec<(String, String)>, Vec<KillTarget>) {
    let files: Vec<Vec<String>> = vec![
        vec![
            "CREATE TABLE log (file int NOT NULL, step int NOT NULL, UNIQUE KEY log_once (file, step))".into(),
            "CREATE TABLE big (id int PRIMARY KEY, v varchar(40), w int, x int)".into(),
            format!(
                "INSERT INTO big SELECT seq, CONCAT('v', seq), seq % 97, seq FROM seq_1_to_{BIG_ROWS}"
            ),
        ],
        vec![
            "ALTER TABLE big ADD COLUMN c1 int NOT NULL DEFAULT 1, ALGORITHM=COPY".into(),
            "INSERT INTO log VALUES (2, 2)".into(),
            "CREATE INDEX big_v ON big (v) ALGORITHM=COPY".into(),
            "ALTER TABLE big CHANGE w w2 int, ALGORITHM=COPY".into(),
        ],
        vec![
            "ALTER TABLE big RENAME COLUMN x TO x2, ALGORITHM=COPY".into(),
            "ALTER TABLE big ADD INDEX big_w2 (w2), ALGORITHM=COPY".into(),
            "INSERT INTO log VALUES (3, 3)".into(),
            "ALTER TABLE big ADD CONSTRAINT big_ck CHECK (id > 0), ALGORITHM=COPY".into(),
        ],
        vec![
            "CREATE TABLE big_copy AS SELECT * FROM big".into(),
            "ALTER TABLE big DROP INDEX big_v, ALGORITHM=COPY".into(),
            "ALTER TABLE big MODIFY v varchar(60), ALGORITHM=COPY".into(),
            "ALTER TABLE big DROP COLUMN c1, ALGORITHM=COPY".into(),
            "INSERT INTO log VALUES (4, 5)".into(),
            "RENAME TABLE big_copy TO big_old".into(),
            "DROP TABLE big_old".into(),
        ],
    ];
    let mut targets = Vec::new();
    let dir = files
        .iter()
        .enumerate()
        .map(|(i, stmts)| {
            for s in stmts {
                if s.contains("ALGORITHM=COPY") || s.contains(" AS SELECT ") {
                    targets.push((i, format!("{s};")));
                }
            }
            let text: String = stmts.iter().map(|s| format!("{s};\n")).collect();
            (format!("{}_ddl_{i}.sql", version(i + 1)), text)
        })
        .collect();
    (dir, targets)
}

fn ddl_data_queries() -> Vec<String> {
    vec![
        "SELECT CONCAT(file, ':', step) FROM log ORDER BY file, step".into(),
        "SELECT CONCAT(COUNT(*), ':', SUM(id), ':', SUM(w2), ':', SUM(x2), ':', MAX(v)) FROM big"
            .into(),
        "SELECT CONCAT(table_name, ':', constraint_name, ':', constraint_type) FROM \
         information_schema.table_constraints WHERE constraint_schema = DATABASE() ORDER BY 1"
            .into(),
    ]
}

/// The session of this test's user running `stmt`, if any (the process list shows it without its `;`).
fn running(t: &mut Target, stmt: &str) -> Option<i64> {
    let sql = format!(
        "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND command = 'Query' \
         AND info = '{}'",
        stmt.trim_end_matches(';').replace('\'', "''")
    );
    t.try_i64(&sql).ok()
}

/// `kill -9` of `strata migrate apply` while the server runs one of its large DDL statements, then an immediate
/// second apply (the server still runs the statement; the new run must wait for it). Each run: the row named
/// the statement as in flight before it ran, with the session; the recovery finishes without a human; the end
/// state equals an uninterrupted apply. Double executions: every statement but the `MODIFY` fails when run a
/// second time (tables, columns, indexes and constraints exist once; `log` has a unique key), so a recovery that
/// ran one again would have failed; the `MODIFY` is repeatable by design and counted apart. Runs until
/// `STRATA_DDL_KILLS` kills landed mid-statement (at most three times as many runs).
#[test]
fn mariadb_kill_9_mid_ddl() {
    let wanted = env_usize("STRATA_DDL_KILLS", 3);
    let (files, targets) = ddl_scenario();
    let (_keep, dir) = migration_dir(&files);
    let Some(mut reference) = Target::new(Kind::Mysql) else {
        return;
    };
    let out = apply(&reference, &dir, &[]);
    assert!(out.status.success(), "{}", show(&out));
    let clean_fp = reference.fingerprint(&ddl_data_queries());
    drop(reference);
    let mut rng = Rng::from_env("STRATA_CRASH_SEED");
    let started = Instant::now();
    let (mut runs, mut mid_ddl, mut took_effect, mut ran_again, mut idempotent_reruns) =
        (0, 0, 0, 0, 0);
    let mut per_target = vec![0usize; targets.len()];
    let mut max_recovery = Duration::ZERO;
    while mid_ddl < wanted {
        assert!(
            runs < wanted * 3 + 5,
            "only {mid_ddl} of {runs} kills landed mid-statement"
        );
        runs += 1;
        let mut t = Target::new(Kind::Mysql).expect("server went away");
        let which = (rng.next() % targets.len() as u64) as usize;
        let (file, target) = &targets[which];
        let mut child = t
            .apply_cmd(&dir, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the target statement to start, then let it run a moment.
        let wait = Instant::now();
        let session = loop {
            if let Some(id) = running(&mut t, target) {
                break Some(id);
            }
            if child.try_wait().unwrap().is_some() || wait.elapsed() > LIMIT {
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let Some(session) = session else {
            panic!(
                "run {runs}: {target} never ran\n{}",
                show(&child.wait_with_output().unwrap())
            );
        };
        std::thread::sleep(rng.duration(Duration::ZERO, Duration::from_millis(150)));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        if running(&mut t, target) != Some(session) {
            // The statement finished before the kill: not what this test is after (the plain loop covers it).
            t.kill_orphans();
            continue;
        }
        mid_ddl += 1;
        per_target[which] += 1;
        // Recorded before it ran: the row names it, with the session that runs it.
        let rows = revisions(&mut t);
        let row = rows
            .iter()
            .find(|r| r.version == version(file + 1))
            .unwrap_or_else(|| panic!("run {runs}: no row for the file of {target}: {rows:?}"));
        let marker = Marker::parse(&row.error)
            .unwrap_or_else(|| panic!("run {runs}: {target} runs but is not in flight: {row:?}"));
        assert_eq!(row.error_stmt, *target, "run {runs}");
        assert_eq!(marker.statement as usize, row.applied + 1, "run {runs}");
        assert_eq!(marker.connection, Some(session as u64), "run {runs}");
        // Recover at once, while the server still runs the statement.
        let rec = Instant::now();
        let out = apply(&t, &dir, &["--lock-timeout", "60s"]);
        max_recovery = max_recovery.max(rec.elapsed());
        assert!(
            out.status.success(),
            "run {runs} (killed in {target}): recovery needed a human\n{}",
            show(&out)
        );
        match decision(&out) {
            Some(true) => took_effect += 1,
            Some(false) if target.contains(" MODIFY ") => idempotent_reruns += 1,
            Some(false) => ran_again += 1,
            None => panic!("run {runs}: no decision about {target}\n{}", show(&out)),
        }
        assert_eq!(
            t.fingerprint(&ddl_data_queries()),
            clean_fp,
            "run {runs} (killed in {target}): end state differs from an uninterrupted apply"
        );
    }
    // The summary line scripts/stress collects from the test's stdout.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "crash-ddl[mariadb]: {runs} kill -9 runs in {:.0?}, {mid_ddl} landed while the server ran a large DDL \
             statement (per statement: {}); in flight: {took_effect} took effect, {ran_again} had not and ran, \
             {idempotent_reruns} MODIFY ran again (repeatable); runs needing a human 0; double executions 0; \
             slowest recovery {max_recovery:.1?}; end state == clean apply {mid_ddl}/{mid_ddl}",
            started.elapsed(),
            per_target
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
}
