//! `strata migrate lint` on real dev databases (PostgreSQL, MariaDB, SQLite): the last file's findings at their
//! lines and the exit code, `--git-base` in a real git repository, a failing statement, the env's `lint` block,
//! and the text and JSON reports as insta snapshots.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::common::strata;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = strata(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The timings of the text report (`ok (1.2ms)`, the footer's `-- 12.3ms`) replaced.
fn stable(s: &str) -> String {
    let timing = |t: &str| {
        t.ends_with('s')
            && t.chars()
                .all(|c| c.is_ascii_digit() || ".µnmsh".contains(c))
    };
    s.split('\n')
        .map(
            |l| match (l.rfind(" ("), l.trim_start().strip_prefix("-- ")) {
                (Some(i), _) if l.ends_with("s)") => format!("{} (TIME)", &l[..i]),
                (_, Some(t)) if timing(t) => l.replace(t, "TIME"),
                _ => l.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// A directory `migrations` of `files` (name, body) with its `atlas.sum`.
fn setup(files: &[(&str, &str)]) -> TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("tmp")).unwrap();
    let m = t.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    for (name, body) in files {
        std::fs::write(m.join(name), body).unwrap();
    }
    let r = run(t.path(), &["migrate", "hash"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    t
}

const DROPS: &[(&str, &str)] = &[
    (
        "1_init.sql",
        "CREATE TABLE users (id integer PRIMARY KEY, name text);\nCREATE TABLE posts (id integer PRIMARY KEY);\n",
    ),
    (
        "2_drop.sql",
        "ALTER TABLE users ADD COLUMN age integer;\n\nDROP TABLE posts;\n",
    ),
];

fn drop_table_fails(dev: &str) {
    let t = setup(DROPS);
    let r = run(
        t.path(),
        &["migrate", "lint", "--dev-url", dev, "--latest", "1"],
    );
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Analyzing changes from version 1 to 2 (1 migration in total):"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("-- L3: Dropping table \"posts\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("#DS102"), "{}", r.stdout);
}

#[test]
fn sqlite_drop_table_is_ds102_at_its_line() {
    drop_table_fails("sqlite://dev?mode=memory");
}

#[tokio::test]
async fn postgres_drop_table_is_ds102_at_its_line() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    drop_table_fails(&dev.url_with_search_path("public"));
}

#[tokio::test]
async fn mariadb_drop_table_is_ds102_at_its_line() {
    let Some(dev) = strata_driver::testing::mysql().await else {
        return;
    };
    drop_table_fails(&dev.url);
}

/// The text and JSON reports (SQLite: no server).
#[test]
fn text_and_json_reports() {
    let t = setup(DROPS);
    let dev = "sqlite://dev?mode=memory";
    let r = run(
        t.path(),
        &["migrate", "lint", "--dev-url", dev, "--latest", "1"],
    );
    insta::assert_snapshot!("migrate_lint_text", stable(&r.stdout));
    let r = run(
        t.path(),
        &[
            "migrate",
            "lint",
            "--dev-url",
            dev,
            "--latest",
            "2",
            "--format",
            "{{ json . }}",
        ],
    );
    assert_eq!(r.code, 1);
    let mut v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    scrub(&mut v);
    insta::assert_snapshot!(
        "migrate_lint_json",
        serde_json::to_string_pretty(&v).unwrap()
    );
}

/// Timings out of a JSON report.
fn scrub(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "Duration" || k == "Start" || k == "End" {
                    *x = serde_json::Value::from(0);
                } else {
                    scrub(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

/// A statement the dev database refuses: the file, its line and the database's message; exit 1.
#[test]
fn failing_statement_names_file_line_and_message() {
    let t = setup(&[
        (
            "1_init.sql",
            "CREATE TABLE users (id integer PRIMARY KEY);\n",
        ),
        (
            "2_bad.sql",
            "CREATE TABLE a (id integer);\n\nINSERT INTO nowhere VALUES (1);\n",
        ),
    ]);
    let r = run(
        t.path(),
        &[
            "migrate",
            "lint",
            "--dev-url",
            "sqlite://dev?mode=memory",
            "--latest",
            "1",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("L3"), "{}", r.stdout);
    assert!(r.stdout.contains("no such table: nowhere"), "{}", r.stdout);
}

/// `lint { destructive { error = false } }` in atlas.hcl: DS102 is reported, exit 0; `latest` and `dev` from
/// the env too.
#[test]
fn env_lint_block_makes_destructive_a_warning() {
    let t = setup(DROPS);
    std::fs::write(
        t.path().join("atlas.hcl"),
        "env \"local\" {\n  dev = \"sqlite://dev?mode=memory\"\n  migration {\n    dir = \"file://migrations\"\n  }\n  lint {\n    latest = 1\n    destructive {\n      error = false\n    }\n  }\n}\n",
    )
    .unwrap();
    let r = run(t.path(), &["migrate", "lint", "--env", "local"]);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("#DS102"), "{}", r.stdout);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--git-base main`: exactly the files added or changed on the branch since it forked, not the base's.
#[test]
fn git_base_picks_the_branch_files() {
    let t = setup(&DROPS[..1]);
    let d = t.path();
    std::fs::write(d.join(".gitignore"), "tmp/\ncache/\n").unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(d.join("migrations/2_drop.sql"), DROPS[1].1).unwrap();
    std::fs::write(
        d.join("migrations/3_more.sql"),
        "CREATE TABLE tags (id integer PRIMARY KEY);\n",
    )
    .unwrap();
    assert_eq!(run(d, &["migrate", "hash"]).code, 0);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "feature"]);
    let r = run(
        d,
        &[
            "migrate",
            "lint",
            "--dev-url",
            "sqlite://dev?mode=memory",
            "--git-base",
            "main",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = v["Files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2_drop.sql", "3_more.sql"], "{}", r.stdout);
    assert_eq!(r.code, 1);
}

/// PostgreSQL: a linted file that needs what the cached model does not hold (a domain) runs after the base files
/// in full: no spurious failure, the finding still at its line. Twice, so the second run has a warm cache.
#[tokio::test]
async fn postgres_linted_file_using_a_domain_runs_after_a_full_base() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let dev = dev.url_with_search_path("public");
    let t = setup(&[
        (
            "1_init.sql",
            "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');\nCREATE TABLE a (id bigint PRIMARY KEY);\n",
        ),
        (
            "2_use.sql",
            "CREATE TABLE u (id bigint PRIMARY KEY, e email);\nDROP TABLE a;\n",
        ),
    ]);
    for _ in 0..2 {
        let r = run(
            t.path(),
            &["migrate", "lint", "--dev-url", &dev, "--latest", "1"],
        );
        assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("-- L2: Dropping table \"a\""),
            "{}",
            r.stdout
        );
        assert!(!r.stdout.contains("executing statement"), "{}", r.stdout);
    }
}
