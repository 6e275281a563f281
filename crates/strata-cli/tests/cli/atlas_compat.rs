//! Atlas CLI compatibility found with Atlas's own scripts (issue 10, item 6): the order of checks, exact lines and
//! exit codes, the directory URL in JSON, hints naming the program as invoked, and `--log` as `--format`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const NO_SUM_STDOUT: &str = "You have a checksum error in your migration directory.\n\
    Please check your migration files and run 'strata migrate hash' to re-hash the contents\n\n";

/// A temp dir with `migrations/` holding two files, hashed unless `hashed` is false, and a private TMPDIR.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(hashed: bool) -> Self {
        let dir = TempDir::new().unwrap();
        let m = dir.path().join("migrations");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        std::fs::write(m.join("1_users.sql"), "CREATE TABLE users (id int);\n").unwrap();
        std::fs::write(m.join("2_posts.sql"), "CREATE TABLE posts (id int);\n").unwrap();
        let f = Self { dir };
        if hashed {
            f.cmd().args(["migrate", "hash"]).assert().success();
        }
        f
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `strata` run in the fixture's directory (so the default `file://migrations` is this one).
    fn cmd(&self) -> Command {
        self.cmd_as(assert_cmd::cargo::cargo_bin("strata"))
    }

    /// The binary through a symlink named `atlas`.
    fn atlas(&self) -> Command {
        let link = self.path().join("atlas");
        if !link.exists() {
            std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("strata"), &link).unwrap();
        }
        self.cmd_as(link)
    }

    fn cmd_as(&self, program: PathBuf) -> Command {
        crate::common::command(program, self.path())
    }
}

#[test]
fn apply_and_set_check_the_directory_before_asking_for_a_url() {
    let f = Fixture::new(false);
    for cmd in ["apply", "set", "status"] {
        f.cmd()
            .args(["migrate", cmd])
            .assert()
            .code(1)
            .stdout(NO_SUM_STDOUT)
            .stderr("Error: checksum file not found\n");
    }
    // With a URL the same: the directory is checked before connecting.
    f.cmd()
        .args(["migrate", "apply", "--url", "sqlite://app.db"])
        .assert()
        .code(1)
        .stdout(NO_SUM_STDOUT)
        .stderr("Error: checksum file not found\n");
    assert!(!f.path().join("app.db").exists());
    // A valid directory without a URL: then the URL is asked for.
    let f = Fixture::new(true);
    for cmd in ["apply", "set", "status"] {
        f.cmd()
            .args(["migrate", cmd])
            .assert()
            .code(1)
            .stdout("")
            .stderr("Error: no database URL given: pass --url URL or set STRATA_URL\n");
    }
}

#[test]
fn set_accepts_one_version() {
    let f = Fixture::new(true);
    f.cmd()
        .args(["migrate", "set", "--url", "sqlite://app.db", "foo", "bar"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("Error: accepts 1 arg(s), received 2\n");
    f.cmd()
        .args(["migrate", "set", "--url", "sqlite://app.db", "1", "2", "3"])
        .assert()
        .code(1)
        .stderr("Error: accepts 1 arg(s), received 3\n");
    f.cmd()
        .args(["migrate", "set", "--url", "sqlite://app.db"])
        .assert()
        .code(1)
        .stderr("Error: accepts 1 arg(s), received 0\n");
    f.cmd()
        .args(["migrate", "set", "--url", "sqlite://app.db", "1"])
        .assert()
        .success()
        .stdout("Current version is 1 (1 set):\n\n  + 1 (users)\n\n");
}

fn json(out: &assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&out.get_output().stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", out.get_output()))
}

#[test]
fn json_names_the_directory_as_given() {
    let f = Fixture::new(true);
    for flag in ["--log", "--format"] {
        let db = format!("sqlite://{flag}.db");
        let out = f
            .cmd()
            .args(["migrate", "apply", "--url", &db, flag, "{{ json . }}"])
            .assert()
            .success();
        assert_eq!(json(&out)["Dir"], "file://migrations", "{flag}");
        let out = f
            .cmd()
            .args(["migrate", "status", "--url", &db, flag, "{{ json . }}"])
            .assert()
            .success();
        assert_eq!(json(&out)["Env"]["Dir"], "file://migrations", "{flag}");
        let out = f
            .cmd()
            .args(["migrate", "validate", flag, "json"])
            .assert()
            .success();
        assert_eq!(json(&out)["Dir"], "file://migrations", "{flag}");
    }
    // Spelled differently, shown as spelled; a failed run too.
    let given = format!("file://{}", f.path().join("migrations").display());
    std::fs::write(
        f.path().join("migrations/3_bad.sql"),
        "CREATE TABLE users (id int);\n",
    )
    .unwrap();
    f.cmd().args(["migrate", "hash"]).assert().success();
    let out = f
        .cmd()
        .args([
            "migrate",
            "apply",
            "--url",
            "sqlite://other.db",
            "--dir",
            &given,
            "--log",
            "{{ json . }}",
        ])
        .assert()
        .code(1)
        .stderr("");
    let v = json(&out);
    assert_eq!(v["Dir"], given.as_str());
    assert!(
        v["Error"].as_str().unwrap().contains("already exists"),
        "{v}"
    );
}

#[test]
fn invoked_as_atlas_every_hint_names_atlas() {
    // Missing atlas.sum: Atlas's exact lines.
    let f = Fixture::new(false);
    for cmd in ["apply", "set", "validate"] {
        f.atlas()
            .args(["migrate", cmd])
            .assert()
            .code(1)
            .stdout(NO_SUM_STDOUT.replace("'strata", "'atlas"))
            .stderr("Error: checksum file not found\n");
    }
    // An unreadable and a hand-edited atlas.sum keep their detail, with the hint naming atlas.
    let f = Fixture::new(true);
    let sum = f.path().join("migrations/atlas.sum");
    let good = std::fs::read_to_string(&sum).unwrap();
    for (bad, detail) in [
        (
            good.replacen(" h1:", " ", 1),
            "checksum file format invalid",
        ),
        (good.replacen("h1:", "h1:AAAA", 1), "edited by hand"),
    ] {
        std::fs::write(&sum, bad).unwrap();
        f.atlas()
            .args(["migrate", "validate"])
            .assert()
            .code(1)
            .stdout(predicate::str::contains("run 'atlas migrate hash'"))
            .stderr(
                predicate::str::contains(detail)
                    .and(predicate::str::contains("'atlas migrate hash'"))
                    .and(predicate::str::contains("strata").not()),
            );
    }
    std::fs::write(&sum, &good).unwrap();
    // Only line endings changed: the explanation's hint too.
    let users = f.path().join("migrations/1_users.sql");
    std::fs::write(&users, "CREATE TABLE users (id int);\r\n").unwrap();
    f.atlas()
        .args(["migrate", "validate"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("Windows (CRLF)")
                .and(predicate::str::contains("or run 'atlas migrate hash'"))
                .and(predicate::str::contains("strata").not()),
        )
        .stderr("Error: checksum mismatch\n");
    std::fs::write(&users, "CREATE TABLE users (id int);\n").unwrap();
    // An engine hint: a file changed after it was applied.
    f.atlas()
        .args(["migrate", "apply", "--url", "sqlite://app.db"])
        .assert()
        .success();
    std::fs::write(&users, "CREATE TABLE users (id bigint);\n").unwrap();
    f.atlas().args(["migrate", "hash"]).assert().success();
    f.atlas()
        .args(["migrate", "apply", "--url", "sqlite://app.db"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("('atlas migrate new')")
                .and(predicate::str::contains("strata").not()),
        );
    // Under its own name, strata.
    f.cmd()
        .args(["migrate", "apply", "--url", "sqlite://app.db"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("('strata migrate new')"));
}

/// `--log` is Atlas's older name for `--format`: accepted by every command that has `--format`, with the same
/// output (times aside).
#[test]
fn log_is_format_on_every_command() {
    fn without_times(mut v: serde_json::Value) -> serde_json::Value {
        match &mut v {
            serde_json::Value::Object(o) => {
                for k in ["Start", "End", "ExecutedAt", "ExecutionTime", "File"] {
                    o.remove(k);
                }
                for x in o.values_mut() {
                    *x = without_times(x.take());
                }
            }
            serde_json::Value::Array(a) => {
                for x in a.iter_mut() {
                    *x = without_times(x.take());
                }
            }
            _ => {}
        }
        v
    }
    let outputs = |flag: &str| -> Vec<serde_json::Value> {
        // Same relative paths in two fixtures, so the URLs shown are equal too.
        let f = Fixture::new(true);
        let run = |args: &[&str]| {
            let mut all = vec!["migrate"];
            all.extend_from_slice(args);
            all.extend_from_slice(&[flag, "{{ json . }}"]);
            let out = f.cmd().args(&all).assert().success();
            without_times(json(&out))
        };
        vec![
            run(&["validate"]),
            run(&["status", "--url", "sqlite://app.db"]),
            run(&["apply", "1", "--url", "sqlite://app.db"]),
            run(&["set", "2", "--url", "sqlite://app.db"]),
            run(&["status", "--url", "sqlite://app.db"]),
            run(&["new", "x"]),
        ]
    };
    let log = outputs("--log");
    assert_eq!(log, outputs("--format"));
    assert_eq!(log[2]["Applied"][0]["Name"], "1_users.sql");
    assert_eq!(log[3]["Set"], 1);
    assert_eq!(log[4]["Status"], "OK");
    // And the text format by its old name.
    let f = Fixture::new(true);
    f.cmd()
        .args([
            "migrate",
            "status",
            "--url",
            "sqlite://app.db",
            "--log",
            "text",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("Migration Status: PENDING\n"));
}
