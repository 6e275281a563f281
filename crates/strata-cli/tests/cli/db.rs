//! Black-box tests of `migrate apply / status / set` against real databases (SQLite files here; PostgreSQL and
//! MariaDB where the flow differs).

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

/// A temp dir with `m/` (migrations + atlas.sum) and its own TMPDIR, so SQLite lock files never collide.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        let f = Self { dir };
        for (name, body) in files {
            f.write(name, body);
        }
        f.hash();
        f
    }

    fn write(&self, name: &str, body: &str) {
        std::fs::write(self.dir.path().join("m").join(name), body).unwrap();
    }

    fn dir_url(&self) -> String {
        format!("file://{}", self.dir.path().join("m").display())
    }

    fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("app.db").display())
    }

    fn cmd(&self) -> Command {
        crate::common::strata(self.dir.path())
    }

    fn hash(&self) {
        self.cmd()
            .args(["migrate", "hash", "--dir", &self.dir_url()])
            .assert()
            .success();
    }

    fn migrate(&self, args: &[&str], url: &str) -> assert_cmd::assert::Assert {
        let dir = self.dir_url();
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--dir", &dir, "--url", url]);
        self.cmd().args(&all).assert()
    }
}

const USERS: (&str, &str) = ("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n");
const POSTS: (&str, &str) = (
    "2_posts.sql",
    "CREATE TABLE posts (id int);\nCREATE INDEX posts_id ON posts (id);\n",
);

#[test]
fn apply_then_status_then_nothing_pending_on_sqlite() {
    let f = Fixture::new(&[USERS, POSTS]);
    let url = f.sqlite_url();
    f.migrate(&["status"], &url).success().stdout(
        "Migration Status: PENDING\n  -- Current Version: No migration applied yet\n  -- Next Version:    1\n  \
         -- Executed Files:  0\n  -- Pending Files:   2\n",
    );
    f.migrate(&["apply"], &url).success().stdout(
        predicate::str::starts_with(
            "Migrating to version 2 (2 migrations in total):\n\n  -- migrating version 1\n",
        )
        .and(predicate::str::contains(
            "    -> CREATE INDEX posts_id ON posts (id);\n",
        ))
        .and(predicate::str::ends_with(
            "  -- 2 migrations\n  -- 3 sql statements\n",
        )),
    );
    f.migrate(&["status"], &url).success().stdout(
        "Migration Status: OK\n  -- Current Version: 2\n  -- Next Version:    Already at latest version\n  \
         -- Executed Files:  2\n  -- Pending Files:   0\n",
    );
    f.migrate(&["apply"], &url)
        .success()
        .stdout("No migration files to execute\n");
}

#[test]
fn amount_and_to_version_limit_the_run() {
    let f = Fixture::new(&[USERS, POSTS, ("3_c.sql", "CREATE TABLE c (id int);\n")]);
    let url = f.sqlite_url();
    f.migrate(&["apply", "1"], &url)
        .success()
        .stdout(predicate::str::contains(
            "Migrating to version 1 (1 migrations in total)",
        ));
    f.migrate(&["apply", "--to-version", "2"], &url)
        .success()
        .stdout(predicate::str::contains(
            "Migrating to version 2 from 1 (1 migrations in total)",
        ));
    f.migrate(&["apply", "0"], &url)
        .code(1)
        .stderr(predicate::str::contains("cannot apply '0' migration files"));
    f.migrate(&["apply", "x"], &url)
        .code(1)
        .stderr(predicate::str::contains("invalid amount argument \"x\""));
}

#[test]
fn json_output_is_atlas_shaped_and_stays_parseable_on_failure() {
    let f = Fixture::new(&[USERS]);
    let url = f.sqlite_url();
    let out = f
        .migrate(&["apply", "--format", "{{ json . }}"], &url)
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["Driver"], "sqlite3");
    assert_eq!(v["Target"], "1");
    assert_eq!(
        v["Applied"][0]["Applied"][0],
        "CREATE TABLE users (id int PRIMARY KEY);"
    );
    assert_eq!(
        v["Message"],
        "Migrated to version 1 from  (1 migrations in total)"
    );

    f.write(
        "2_bad.sql",
        "CREATE TABLE ok1 (id int);\nCREATE TABLE users (id int);\n",
    );
    f.hash();
    let out = f
        .migrate(&["apply", "--format", "json"], &url)
        .code(1)
        .stderr("");
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(
        v["Error"].as_str().unwrap().contains("2_bad.sql:2:1"),
        "{v}"
    );
    assert_eq!(
        v["Applied"][0]["Error"]["Stmt"],
        "CREATE TABLE users (id int);"
    );
    assert!(v.get("Message").is_none());
}

#[test]
fn sql_error_names_file_line_and_statement_and_rolls_back_the_file() {
    let f = Fixture::new(&[
        USERS,
        (
            "2_bad.sql",
            "CREATE TABLE t2 (id int);\n\nINSERT INTO nope VALUES (1);\n",
        ),
    ]);
    let url = f.sqlite_url();
    f.migrate(&["apply"], &url)
        .code(1)
        .stdout(
            predicate::str::contains("    -> INSERT INTO nope VALUES (1);\n    ")
                .and(predicate::str::contains("1 migration ok, 1 with errors")),
        )
        .stderr(
            predicate::str::contains(
                "executing statement \"INSERT INTO nope VALUES (1);\" from version \"2\"",
            )
            .and(predicate::str::contains("no such table: nope"))
            .and(predicate::str::contains("[at 2_bad.sql:3:1]")),
        );
    // the failed file left nothing behind: status says version 1, 1 pending, no partial state
    f.migrate(&["status"], &url).success().stdout(
        predicate::str::contains("Current Version: 1\n")
            .and(predicate::str::contains("Pending Files:   1\n")),
    );
}

#[test]
fn dry_run_writes_nothing() {
    let f = Fixture::new(&[USERS]);
    let url = f.sqlite_url();
    f.migrate(&["apply", "--dry-run"], &url)
        .success()
        .stdout(predicate::str::contains("-> CREATE TABLE users"));
    f.migrate(&["status"], &url)
        .success()
        .stdout(predicate::str::contains("No migration applied yet"));
    f.migrate(&["apply"], &url)
        .success()
        .stdout(predicate::str::contains("1 migration\n"));
}

#[test]
fn set_rewrites_history() {
    let f = Fixture::new(&[USERS, POSTS]);
    let url = f.sqlite_url();
    f.migrate(&["apply", "1"], &url).success();
    f.migrate(&["set", "2"], &url)
        .success()
        .stdout("Current version is 2 (1 set):\n\n  + 2 (posts)\n\n");
    f.migrate(&["apply"], &url)
        .success()
        .stdout("No migration files to execute\n");
    f.migrate(&["set", "1"], &url)
        .success()
        .stdout(predicate::str::contains("  - 2 (posts)"));
}

#[test]
fn checksum_failure_stops_apply_before_connecting() {
    let f = Fixture::new(&[USERS]);
    f.write("2_new.sql", "SELECT 1;\n");
    f.migrate(&["apply"], &f.sqlite_url())
        .code(1)
        .stdout(predicate::str::contains("L3: 2_new.sql was added"))
        .stderr("Error: checksum mismatch\n");
    assert!(!f.dir.path().join("app.db").exists());
}

/// A large directory is served from its snapshot in the cache once its files are old enough; a file edited
/// afterwards (same length, atlas.sum not updated) is read again and fails the checksum as without a snapshot.
#[test]
fn an_edit_after_the_directory_snapshot_still_fails_the_checksum() {
    let files: Vec<(String, String)> = (1..=70)
        .map(|i| {
            (
                format!("{i:03}_t.sql"),
                format!("CREATE TABLE t{i:03} (id int);\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_str()))
        .collect();
    let f = Fixture::new(&refs);
    let url = f.sqlite_url();
    // Past the racy window, so the first run records every file.
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    f.migrate(&["apply"], &url)
        .success()
        .stdout(predicate::str::contains(
            "Migrating to version 070 (70 migrations in total):",
        ));
    let snaps = f.dir.path().join("cache").join("dirs");
    assert_eq!(
        std::fs::read_dir(&snaps).unwrap().count(),
        1,
        "one snapshot"
    );
    f.migrate(&["apply"], &url)
        .success()
        .stdout("No migration files to execute\n");
    // The same length, another table: only the change time tells.
    f.write("010_t.sql", "CREATE TABLE x010 (id int);\n");
    f.migrate(&["apply"], &url)
        .code(1)
        .stderr("Error: checksum mismatch\n");
    // Re-hashed, the edited content is what apply sees: the applied file's hash differs.
    f.hash();
    f.migrate(&["apply"], &url)
        .code(1)
        .stderr(predicate::str::contains(
            "migration file 010_t.sql was changed after it was applied",
        ));
}

#[test]
fn bad_urls_are_clear_and_never_print_passwords() {
    let f = Fixture::new(&[USERS]);
    f.migrate(&["apply"], "oracle://u:pw@h/db")
        .code(1)
        .stderr(predicate::str::contains("oracle"));
    f.migrate(&["apply"], "postgres://u:s3cr3t-pw@[::1")
        .code(1)
        .stderr(predicate::str::contains("s3cr3t-pw").not());
    // nothing listens on port 1: a connect error that names the redacted URL
    for url in [
        "postgres://alice:s3cr3t-pw@127.0.0.1:1/app?sslmode=disable",
        "mysql://alice:s3cr3t-pw@127.0.0.1:1/app",
    ] {
        f.migrate(&["apply", "--lock-timeout", "1s"], url)
            .code(1)
            .stderr(
                predicate::str::contains("s3cr3t-pw")
                    .not()
                    .and(predicate::str::contains("127.0.0.1:1")),
            )
            .stdout(predicate::str::contains("s3cr3t-pw").not());
    }
}

#[test]
fn apply_and_status_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    let f = Fixture::new(&[
        USERS,
        (
            "2_idx.sql",
            "-- atlas:txmode none\n\nCREATE TABLE big (id int);\nCREATE INDEX CONCURRENTLY big_a ON big (id);\nCREATE INDEX CONCURRENTLY big_b ON big (id);\n",
        ),
    ]);
    f.migrate(&["apply"], &db.url)
        .success()
        .stdout(predicate::str::contains(
            "-- 2 migrations\n  -- 4 sql statements\n",
        ));
    let out = f
        .migrate(&["status", "--format", "json"], &db.url)
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["Status"], "OK");
    assert_eq!(v["Env"]["Driver"], "postgres");
    assert_eq!(v["Applied"][1]["Type"], "applied");
    assert_eq!(v["Applied"][1]["Applied"], 3);
    drop(db);
}

#[test]
fn an_invalid_directory_on_postgres_leaves_no_table_and_no_lock() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    let f = Fixture::new(&[USERS]);
    f.write("2_new.sql", "SELECT 1;\n");
    // The session opens while the directory is read; the checksum error must still win and undo it.
    for _ in 0..3 {
        f.migrate(&["apply"], &db.url)
            .code(1)
            .stdout(predicate::str::contains("L3: 2_new.sql was added"))
            .stderr("Error: checksum mismatch\n");
    }
    // Advisory locks are per database (pg_locks is cluster-wide: filter). A session dropped mid-way ends when the
    // process exits and the server releases its lock as the backend goes, which can trail the exit a little.
    let (schemas, locks): (i64, i64) = rt.block_on(async {
        use sqlx::{Connection as _, Row as _};
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut counts = (0, 0);
        for _ in 0..50 {
            let row = sqlx::query(
                "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'atlas_schema_revisions'), \
                 (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 2686470616::bigint::oid \
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            )
            .fetch_one(&mut c)
            .await
            .unwrap();
            counts = (row.get(0), row.get(1));
            if counts.1 == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        counts
    });
    assert_eq!(
        (schemas, locks),
        (0, 0),
        "(revisions schemas, advisory locks)"
    );
    // The fixed directory applies at once: nothing was left holding the lock.
    f.hash();
    f.migrate(&["apply", "--lock-timeout", "1s"], &db.url)
        .success()
        .stdout(predicate::str::contains("-- 2 migrations"));
    drop(db);
}

#[test]
fn an_invalid_directory_is_reported_without_waiting_for_the_database() {
    // A server that accepts the connection and never answers: the session would wait out connect_timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let f = Fixture::new(&[USERS]);
    f.write("2_new.sql", "SELECT 1;\n");
    let started = std::time::Instant::now();
    f.migrate(
        &["apply"],
        &format!("postgres://u:s3cr3t-pw@127.0.0.1:{port}/app?sslmode=disable&connect_timeout=60"),
    )
    .code(1)
    .stdout(predicate::str::contains("L3: 2_new.sql was added"))
    .stderr("Error: checksum mismatch\n");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the checksum error waited for the database: {:?}",
        started.elapsed()
    );
    drop(listener);
    // A database that refuses at once fails first; the directory's error is still the one reported.
    f.migrate(
        &["apply"],
        "postgres://u:s3cr3t-pw@127.0.0.1:1/app?sslmode=disable",
    )
    .code(1)
    .stderr("Error: checksum mismatch\n");
}

#[test]
fn a_nul_byte_fails_apply_on_sqlite_instead_of_spinning() {
    // Once: SQLite's prepare loop never got past the NUL, at 99 % CPU, holding the migration lock.
    let f = Fixture::new(&[USERS, ("2_b.sql", "CREATE TABLE b (id int);\n\0")]);
    let url = f.sqlite_url();
    let dir = f.dir_url();
    for cmd in ["apply", "status"] {
        f.cmd()
            .args(["migrate", cmd, "--dir", &dir, "--url", &url])
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "2_b.sql:2:1: the file contains a NUL byte",
            ));
    }
    // Nothing ran, and the lock was released: with the NUL gone (and the directory re-hashed) the run goes through.
    f.write("2_b.sql", "CREATE TABLE b (id int);\n");
    f.hash();
    f.migrate(&["apply", "--lock-timeout", "1s"], &url)
        .success()
        .stdout(predicate::str::contains("  -- 2 migrations\n"));
}

#[test]
fn control_characters_in_statements_are_escaped_on_apply_and_status() {
    // Once: `SELECT '\e]0;PWNED\a\e[2J';` retitled and cleared the terminal that ran apply.
    let f = Fixture::new(&[
        ("1_a.sql", "SELECT '\x1b]0;PWNED\x07\x1b[2J';\n"),
        (
            "2_b.sql",
            "-- atlas:txmode none\n\nCREATE TABLE b (id int);\nINSERT INTO nope VALUES ('\x1b[2J\x08\r');\n",
        ),
    ]);
    let url = f.sqlite_url();
    let raw = |bytes: &[u8]| bytes.iter().any(|&b| b < 0x20 && b != b'\n' && b != b'\t');
    // CLICOLOR_FORCE makes the output behave as on a terminal: nothing stripped.
    let apply = f
        .cmd()
        .env("CLICOLOR_FORCE", "1")
        .args(["migrate", "apply", "--dir", &f.dir_url(), "--url", &url])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8(apply.stdout).unwrap();
    assert!(
        stdout.contains("    -> SELECT '\\u001b]0;PWNED\\u0007\\u001b[2J';\n"),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("INSERT INTO nope VALUES ('\\u001b[2J\\u0008\\u000d');"),
        "{stdout:?}"
    );
    assert!(!raw(stdout.as_bytes()), "{stdout:?}");
    // stderr's only escape sequences are the styles of `Error:`.
    let stderr = String::from_utf8(apply.stderr).unwrap();
    assert!(stderr.contains("no such table: nope"), "{stderr:?}");
    assert!(
        !raw(stderr
            .replace("\x1b[1;31m", "")
            .replace("\x1b[0m", "")
            .as_bytes()),
        "{stderr:?}"
    );
    let status = f
        .cmd()
        .env("CLICOLOR_FORCE", "1")
        .args(["migrate", "status", "--dir", &f.dir_url(), "--url", &url])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(status.stdout).unwrap();
    assert!(
        stdout.contains("SQL:   INSERT INTO nope VALUES ('\\u001b[2J\\u0008\\u000d');"),
        "{stdout:?}"
    );
    assert!(!raw(stdout.as_bytes()), "{stdout:?}");
    // JSON keeps the statement exactly: the escapes are JSON's own.
    let json = f
        .migrate(&["status", "--format", "{{ json . }}"], &url)
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["SQL"], "INSERT INTO nope VALUES ('\x1b[2J\x08\r');");
}

/// A `txmode none` file whose second statement an interrupted run left in flight (the row says so). SQLite cannot
/// look objects up, so apply stops, naming the file, the statement and the commands; `migrate set VERSION
/// --in-flight applied` settles it and the next apply goes on after it (running it twice would fail: the index
/// exists). The flag needs the version.
#[test]
fn set_in_flight_settles_what_an_interrupted_run_left() {
    let posts = (
        "2_posts.sql",
        "-- atlas:txmode none\n\nCREATE TABLE posts (id int);\nCREATE INDEX posts_id ON posts (id);\nCREATE TABLE tags (id int);\n",
    );
    let f = Fixture::new(&[USERS, posts]);
    let url = f.sqlite_url();
    f.migrate(&["apply", "1"], &url).success();
    // What the interrupted run left: statements 1 and 2 ran, the row records 1 and names 2 as in flight.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut d = strata_driver::connect(&url.parse::<strata_driver::DbUrl>().unwrap())
            .await
            .unwrap();
        let loc = d.revisions_location(None).await.unwrap();
        let mut row = d.read_revisions(&loc).await.unwrap().remove(0);
        let stmts = [
            "CREATE TABLE posts (id int);",
            "CREATE INDEX posts_id ON posts (id);",
        ];
        for s in stmts {
            d.execute(s).await.unwrap();
        }
        let sums = strata_migrate::plan::statement_sums(stmts);
        row.version = "2".into();
        row.description = "posts".into();
        row.applied = 1;
        row.total = 3;
        row.partial_hashes = Some(vec![strata_migrate::plan::stored_partial_hash(&sums[0])]);
        row.error = strata_migrate::inflight::Marker {
            statement: 2,
            connection: None,
        }
        .to_string();
        row.error_stmt = stmts[1].into();
        d.upsert_revision(&loc, &row).await.unwrap();
        d.close().await.unwrap();
    });
    f.migrate(&["apply"], &url).code(1).stderr(
        predicate::str::contains(
            "Error: sql/migrate: cannot tell whether statement 2 of \"2_posts.sql\" took effect: an earlier run \
             stopped while it ran, and deciding it automatically is implemented for MySQL and MariaDB only \
             [at 2_posts.sql:4:1]\n\n    -> CREATE INDEX posts_id ON posts (id);\n",
        )
        .and(predicate::str::contains(
            "  it took effect:                   strata migrate set 2 --in-flight applied\n  \
             it did not, or you reverted it:   strata migrate set 2 --in-flight pending\n",
        )),
    );
    let cmd = f
        .cmd()
        .args([
            "migrate",
            "set",
            "--in-flight",
            "applied",
            "--dir",
            &f.dir_url(),
            "--url",
            &url,
        ])
        .assert()
        .code(1);
    cmd.stderr(predicate::str::contains(
        "required arguments were not provided:\n  <VERSION>",
    ));
    f.migrate(&["set", "2", "--in-flight", "maybe"], &url)
        .code(1)
        .stderr(predicate::str::contains(
            "[possible values: applied, pending]",
        ));
    f.migrate(&["set", "2", "--in-flight", "applied"], &url)
        .success()
        .stdout("Current version is 2 (1 set):\n\n  + 2 (posts)\n\n");
    f.migrate(&["apply"], &url).success().stdout(
        predicate::str::contains("-> CREATE TABLE tags (id int);")
            .and(predicate::str::contains("CREATE INDEX").not()),
    );
    f.migrate(&["status"], &url)
        .success()
        .stdout(predicate::str::contains("Migration Status: OK"));
}
