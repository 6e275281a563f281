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
    assert!(
        r.stdout
            .contains("-- Error: 2_bad.sql:3: executing statement: no such table: nowhere"),
        "{}",
        r.stdout
    );
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

/// `--git-base main`: the files added on the branch since it forked (and any after the first of them).
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

/// One file of a JSON report: its name, its `Error`, and each diagnostic's code and line (from its byte offset).
#[derive(Debug, PartialEq)]
struct JsonFile {
    name: String,
    error: Option<String>,
    found: Vec<(String, usize)>,
}

fn json_files(stdout: &str) -> Vec<JsonFile> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["Files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = f["Text"].as_str().unwrap_or("");
            let mut found = Vec::new();
            for r in f["Reports"].as_array().into_iter().flatten() {
                for d in r["Diagnostics"].as_array().into_iter().flatten() {
                    let pos = d["Pos"].as_u64().unwrap() as usize;
                    let line = text[..pos].matches('\n').count() + 1;
                    found.push((d["Code"].as_str().unwrap().to_owned(), line));
                }
            }
            found.sort();
            JsonFile {
                name: f["Name"].as_str().unwrap().to_owned(),
                error: f["Error"].as_str().map(str::to_owned),
                found,
            }
        })
        .collect()
}

/// `(code, line)` pairs of `files`' findings whose code is in `codes`.
fn only(files: &[JsonFile], codes: &[&str]) -> Vec<(String, usize)> {
    files
        .iter()
        .flat_map(|f| f.found.iter().cloned())
        .filter(|(c, _)| codes.contains(&c.as_str()))
        .collect()
}

fn pairs(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = list.iter().map(|(c, l)| ((*c).to_owned(), *l)).collect();
    v.sort();
    v
}

const BASE_FAILS: &[(&str, &str)] = &[
    (
        "1_init.sql",
        "CREATE TABLE users (id integer PRIMARY KEY);\n",
    ),
    (
        "2_bad.sql",
        "CREATE TABLE a (id integer);\n\nINSERT INTO nowhere VALUES (1);\n",
    ),
    ("3_new.sql", "CREATE TABLE b (id integer);\n"),
];

/// A statement failing in a file before the linted ones (the replayed history) is reported on that file, with its
/// line and the database's message, and the run exits 1 — never a silent success.
fn base_file_failure_is_reported(dev: &str, message: &str) {
    let t = setup(BASE_FAILS);
    let args = ["migrate", "lint", "--dev-url", dev, "--latest", "1"];
    let r = run(t.path(), &[&args[..], &["--format", "json"]].concat());
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let files = json_files(&r.stdout);
    assert_eq!(files.len(), 1, "{}", r.stdout);
    assert_eq!(files[0].name, "2_bad.sql");
    let e = files[0].error.as_deref().unwrap();
    assert!(
        e.starts_with("2_bad.sql:3: executing statement: ") && e.contains(message),
        "{e}"
    );
    let r = run(t.path(), &args);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("  -- analyzing version 2\n    -- Error: 2_bad.sql:3: executing statement: "),
        "{}",
        r.stdout
    );
}

#[test]
fn sqlite_base_file_failure_is_reported() {
    base_file_failure_is_reported("sqlite://dev?mode=memory", "no such table: nowhere");
}

#[tokio::test]
async fn postgres_base_file_failure_is_reported() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    base_file_failure_is_reported(&dev.url_with_search_path("public"), "nowhere");
}

#[tokio::test]
async fn mariadb_base_file_failure_is_reported() {
    let Some(dev) = strata_driver::testing::mysql().await else {
        return;
    };
    base_file_failure_is_reported(&dev.url, "nowhere");
}

/// `--git-base`: a failing file that was merged before the branch (not linted, only replayed) is still reported,
/// exit 1 (PostgreSQL).
#[tokio::test]
async fn postgres_git_base_failure_in_a_base_file_is_reported() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let t = setup(&BASE_FAILS[..2]);
    let d = t.path();
    std::fs::write(d.join(".gitignore"), "tmp/\ncache/\n").unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(d.join("migrations/3_new.sql"), BASE_FAILS[2].1).unwrap();
    assert_eq!(run(d, &["migrate", "hash"]).code, 0);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "feature"]);
    let dev = dev.url_with_search_path("public");
    let r = run(
        d,
        &[
            "migrate",
            "lint",
            "--dev-url",
            &dev,
            "--git-base",
            "main",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let files = json_files(&r.stdout);
    assert_eq!(files.len(), 1, "{}", r.stdout);
    assert_eq!(files[0].name, "2_bad.sql");
    let e = files[0].error.as_deref().unwrap();
    assert!(
        e.starts_with("2_bad.sql:3: executing statement: ") && e.contains("nowhere"),
        "{e}"
    );
}

/// A git repository in `d` on `main` with `files` committed, then on branch `feature`.
fn repo_on_feature(d: &Path) {
    std::fs::write(d.join(".gitignore"), "tmp/\ncache/\n").unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
}

fn commit_all(d: &Path, message: &str) {
    assert_eq!(run(d, &["migrate", "hash"]).code, 0);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", message]);
}

fn linted_names(r: &Run) -> Vec<String> {
    json_files(&r.stdout).into_iter().map(|f| f.name).collect()
}

/// `--git-base`: a file the branch only modified is history, as in Atlas (`--diff-filter=A`): not linted unless
/// it comes after the first file the branch added.
#[test]
fn git_base_lints_added_files_not_modified_ones() {
    let t = setup(&[
        (
            "1_init.sql",
            "CREATE TABLE users (id integer PRIMARY KEY);\n",
        ),
        (
            "2_pets.sql",
            "CREATE TABLE pets (id integer PRIMARY KEY);\n",
        ),
    ]);
    let d = t.path();
    repo_on_feature(d);
    std::fs::write(
        d.join("migrations/2_pets.sql"),
        "CREATE TABLE pets (id integer PRIMARY KEY, name text);\n",
    )
    .unwrap();
    std::fs::write(
        d.join("migrations/3_tags.sql"),
        "CREATE TABLE tags (id integer PRIMARY KEY);\n",
    )
    .unwrap();
    commit_all(d, "feature");
    let lint = [
        "migrate",
        "lint",
        "--dev-url",
        "sqlite://dev?mode=memory",
        "--git-base",
        "main",
        "--format",
        "json",
    ];
    let r = run(d, &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(linted_names(&r), ["3_tags.sql"]);
    // Only modified, nothing added: nothing to lint.
    git(d, &["checkout", "-q", "-b", "only-modified", "main"]);
    std::fs::write(
        d.join("migrations/2_pets.sql"),
        "CREATE TABLE pets (id integer PRIMARY KEY, age integer);\n",
    )
    .unwrap();
    commit_all(d, "modify");
    let r = run(d, &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "", "{}", r.stderr);
}

/// `--git-base`: a file committed on the base branch after the fork and merged into the branch is not the
/// branch's: replayed, not linted.
#[test]
fn git_base_ignores_files_the_base_gained_after_the_fork() {
    let t = setup(&[(
        "1_init.sql",
        "CREATE TABLE users (id integer PRIMARY KEY);\n",
    )]);
    let d = t.path();
    repo_on_feature(d);
    std::fs::write(
        d.join("migrations/3_feature.sql"),
        "CREATE TABLE tags (id integer PRIMARY KEY);\n",
    )
    .unwrap();
    commit_all(d, "feature");
    git(d, &["checkout", "-q", "main"]);
    std::fs::write(
        d.join("migrations/2_main.sql"),
        "CREATE TABLE audit (id integer PRIMARY KEY);\nDROP TABLE users;\n",
    )
    .unwrap();
    commit_all(d, "main moves on");
    git(d, &["checkout", "-q", "feature"]);
    // Both branches re-hashed atlas.sum: the merge keeps the branch's and it is hashed again.
    git(d, &["merge", "-q", "--no-edit", "-X", "ours", "main"]);
    commit_all(d, "rehash");
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
    // 2_main.sql drops a table (DS102, an error) but is not the branch's: exit 0.
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(linted_names(&r), ["3_feature.sql"]);
}

/// `--git-dir`: the repository is elsewhere than the working directory.
#[test]
fn git_dir_names_the_repository() {
    let t = setup(&DROPS[..1]);
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("tmp")).unwrap();
    std::fs::rename(t.path().join("migrations"), repo.join("migrations")).unwrap();
    repo_on_feature(&repo);
    std::fs::write(repo.join("migrations/2_drop.sql"), DROPS[1].1).unwrap();
    let r = run(&repo, &["migrate", "hash"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "feature"]);
    let r = run(
        t.path(),
        &[
            "migrate",
            "lint",
            "--dev-url",
            "sqlite://dev?mode=memory",
            "--dir",
            "file://repo/migrations",
            "--git-base",
            "main",
            "--git-dir",
            "repo",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let files = json_files(&r.stdout);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, "2_drop.sql");
    assert_eq!(only(&files, &["DS102"]), pairs(&[("DS102", 3)]));
    // Without --git-dir the working directory is no repository: git's refusal is the error.
    let r = run(
        t.path(),
        &[
            "migrate",
            "lint",
            "--dev-url",
            "sqlite://dev?mode=memory",
            "--dir",
            "file://repo/migrations",
            "--git-base",
            "main",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("git rev-parse"), "{}", r.stderr);
}

const NAMING: &[(&str, &str)] = &[
    (
        "1_init.sql",
        "CREATE TABLE users (id integer PRIMARY KEY);\n",
    ),
    (
        "2_more.sql",
        "CREATE TABLE pets (id integer PRIMARY KEY);\nCREATE TABLE owners2 (id integer PRIMARY KEY);\n",
    ),
];

fn project(t: &TempDir, lint_block: &str) {
    std::fs::write(
        t.path().join("atlas.hcl"),
        format!(
            "env \"local\" {{\n  dev = \"sqlite://dev?mode=memory\"\n  migration {{\n    dir = \"file://migrations\"\n  }}\n  lint {{\n    latest = 1\n{lint_block}  }}\n}}\n"
        ),
    )
    .unwrap();
}

/// atlas.hcl `lint { naming { … } }` switches the naming rules on: the table that breaks the pattern is NM102 at
/// its line; without the block no naming rule runs.
#[test]
fn env_naming_block_fires_at_the_line() {
    let t = setup(NAMING);
    project(&t, "");
    let lint = ["migrate", "lint", "--env", "local", "--format", "json"];
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let nm = ["NM101", "NM102", "NM103", "NM104", "NM105", "NM106"];
    assert_eq!(only(&json_files(&r.stdout), &nm), []);
    project(
        &t,
        "    naming {\n      match = \"^[a-z_]+$\"\n      message = \"must be lower snake case\"\n    }\n",
    );
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(only(&json_files(&r.stdout), &nm), pairs(&[("NM102", 2)]));
    assert!(
        r.stdout
            .contains(r#"Table name \"owners2\" must be lower snake case"#),
        "{}",
        r.stdout
    );
    // `error = true` on the naming block makes it fail the run; a kind's own block wins over the block's pattern.
    project(
        &t,
        "    naming {\n      error = true\n      match = \"^[a-z_]+$\"\n      table {\n        match = \"^[a-z0-9]+$\"\n      }\n      column {\n        match = \"^ID$\"\n      }\n    }\n",
    );
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(
        only(&json_files(&r.stdout), &nm),
        pairs(&[("NM103", 1), ("NM103", 2)])
    );
    // An unknown attribute is refused with file and line.
    project(&t, "    naming {\n      pattern = \"x\"\n    }\n");
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("atlas.hcl:9:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("unsupported argument \"pattern\""),
        "{}",
        r.stderr
    );
}

/// Per analyzer and per rule in atlas.hcl: `destructive { error = false }` and `rules { DS102 = "off" }` on
/// SQLite (no server).
#[test]
fn env_rules_block_sets_levels() {
    let t = setup(DROPS);
    project(&t, "    rules {\n      DS102 = \"off\"\n    }\n");
    let lint = ["migrate", "lint", "--env", "local", "--format", "json"];
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(only(&json_files(&r.stdout), &["DS102"]), []);
    // The flag wins over the file.
    let r = run(t.path(), &[&lint[..], &["--error", "DS102"]].concat());
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    project(&t, "    rules {\n      DS102 = \"loud\"\n    }\n");
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("atlas.hcl:9:"), "{}", r.stderr);
    assert!(r.stderr.contains("loud"), "{}", r.stderr);
}

/// PostgreSQL: `concurrent_index { error = true }` (an analyzer off Atlas's community list) makes PG101 fail the
/// run; by default it is a warning (exit 0); `rules { PG101 = "off" }` silences it.
#[tokio::test]
async fn postgres_env_analyzer_error_fails_the_run() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let t = setup(&[
        (
            "1_init.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n",
        ),
        (
            "2_index.sql",
            "SET lock_timeout = '2s';\nSET statement_timeout = '5min';\nCREATE INDEX users_name ON users (name);\n",
        ),
    ]);
    let dev = dev.url_with_search_path("public");
    let write = |block: &str| {
        std::fs::write(
            t.path().join("atlas.hcl"),
            format!(
                "env \"pg\" {{\n  dev = \"{dev}\"\n  migration {{\n    dir = \"file://migrations\"\n  }}\n  lint {{\n    latest = 1\n{block}  }}\n}}\n"
            ),
        )
        .unwrap();
    };
    let lint = ["migrate", "lint", "--env", "pg", "--format", "json"];
    write("");
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(
        only(&json_files(&r.stdout), &["PG101"]),
        pairs(&[("PG101", 3)])
    );
    write("    concurrent_index {\n      error = true\n    }\n");
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(
        only(&json_files(&r.stdout), &["PG101"]),
        pairs(&[("PG101", 3)])
    );
    write(
        "    concurrent_index {\n      error = true\n    }\n    rules {\n      PG101 = \"off\"\n    }\n",
    );
    let r = run(t.path(), &lint);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(only(&json_files(&r.stdout), &["PG101"]), []);
}

const CHANGE_CODES: &[&str] = &[
    "MF101", "MF102", "MF103", "MF104", "CD101", "DS101", "DS103", "MY101", "LT101",
];

/// PostgreSQL: each change rule fires at its statement's line after a real replay, and its counterpart (a new
/// table, a default, a back-fill, a CHECK instead of a foreign key, `IF EXISTS` on nothing) does not.
#[tokio::test]
async fn postgres_change_rules_fire_at_their_lines() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let t = setup(&[
        (
            "1_init.sql",
            "CREATE SCHEMA extra;\n\
             CREATE TABLE extra.t (id integer);\n\
             CREATE TABLE users (id integer PRIMARY KEY, email text, nick text, age integer, code text);\n\
             CREATE TABLE posts (id integer PRIMARY KEY, user_id integer, CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id), CONSTRAINT posts_id_check CHECK (id > 0));\n\
             CREATE INDEX users_nick ON users (nick);\n\
             CREATE UNIQUE INDEX users_code ON users (code);\n",
        ),
        (
            "2_change.sql",
            "CREATE UNIQUE INDEX users_email ON users (email);\n\
             CREATE TABLE tags (id integer, name text);\n\
             CREATE UNIQUE INDEX tags_name ON tags (name);\n\
             DO $$ BEGIN DROP INDEX users_nick; CREATE UNIQUE INDEX users_nick ON users (nick); END $$;\n\
             DO $$ BEGIN DROP INDEX users_code; CREATE INDEX users_code ON users (code); END $$;\n\
             ALTER TABLE users ADD COLUMN c2 integer NOT NULL;\n\
             ALTER TABLE users ADD COLUMN c3 integer NOT NULL DEFAULT 0;\n\
             ALTER TABLE users ALTER COLUMN nick SET NOT NULL;\n\
             UPDATE users SET email = '' WHERE email IS NULL;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
             ALTER TABLE posts DROP CONSTRAINT posts_user_fk;\n\
             ALTER TABLE posts DROP CONSTRAINT posts_id_check;\n\
             DROP SCHEMA extra CASCADE;\n\
             DROP SCHEMA IF EXISTS ghost;\n\
             ALTER TABLE users DROP COLUMN age;\n\
             ALTER TABLE tags DROP COLUMN name;\n",
        ),
    ]);
    // The realm (no search_path): schemas are created and dropped.
    let r = run(
        t.path(),
        &[
            "migrate",
            "lint",
            "--dev-url",
            &dev.url,
            "--latest",
            "1",
            "--format",
            "json",
        ],
    );
    let files = json_files(&r.stdout);
    assert_eq!(files.len(), 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        !files[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("executing"),
        "{:?}",
        files[0].error
    );
    assert_eq!(
        only(&files, CHANGE_CODES),
        pairs(&[
            ("MF101", 1),
            ("MF102", 4),
            ("MF103", 6),
            ("MF104", 8),
            ("CD101", 11),
            ("DS101", 13),
            ("DS103", 15),
        ])
    );
    assert_eq!(r.code, 1, "destructive findings fail the run");
}

/// MariaDB: MY101 for a NOT NULL column without a default on an existing table; not with a default, not on a
/// table made in the same file.
#[tokio::test]
async fn mariadb_my101_fires_at_its_line() {
    let Some(dev) = strata_driver::testing::mysql().await else {
        return;
    };
    let t = setup(&[
        ("1_init.sql", "CREATE TABLE users (id int PRIMARY KEY);\n"),
        (
            "2_add.sql",
            "ALTER TABLE users ADD COLUMN score int NOT NULL;\n\
             ALTER TABLE users ADD COLUMN rank_no int NOT NULL DEFAULT 1;\n\
             CREATE TABLE t2 (id int PRIMARY KEY);\n\
             ALTER TABLE t2 ADD COLUMN n int NOT NULL;\n",
        ),
    ]);
    let r = run(
        t.path(),
        &[
            "migrate",
            "lint",
            "--dev-url",
            &dev.url,
            "--latest",
            "1",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(
        only(&json_files(&r.stdout), CHANGE_CODES),
        pairs(&[("MY101", 1)])
    );
    assert!(
        r.stdout.contains(r#"Adding a non-nullable \"int\" column \"score\" on table \"users\" without a default value implicitly sets existing rows with 0"#),
        "{}",
        r.stdout
    );
}

/// SQLite: LT101 for a column made NOT NULL through the table copy (reported at its CREATE TABLE); not when the
/// column gets a default.
#[test]
fn sqlite_lt101_fires_at_its_line() {
    let t = setup(&[
        (
            "1_init.sql",
            "CREATE TABLE users (id integer PRIMARY KEY, nick text);\nCREATE TABLE pets (id integer PRIMARY KEY, name text);\n",
        ),
        (
            "2_copy.sql",
            "CREATE TABLE new_users (id integer PRIMARY KEY, nick text NOT NULL);\n\
             INSERT INTO new_users (id, nick) SELECT id, nick FROM users;\n\
             DROP TABLE users;\n\
             ALTER TABLE new_users RENAME TO users;\n\
             CREATE TABLE new_pets (id integer PRIMARY KEY, name text NOT NULL DEFAULT '');\n\
             INSERT INTO new_pets (id, name) SELECT id, name FROM pets;\n\
             DROP TABLE pets;\n\
             ALTER TABLE new_pets RENAME TO pets;\n",
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
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(
        only(&json_files(&r.stdout), CHANGE_CODES),
        pairs(&[("LT101", 1)])
    );
}
