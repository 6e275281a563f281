//! What a user sees of `migrate status`, `migrate apply` and `migrate set`, as insta snapshots (in `snapshots/`):
//! exit code, stdout and stderr of each step of a run on a SQLite file, as text and as `--format json`.
//!
//! Each command runs in the fixture's directory with relative URLs (`file://migrations`, `sqlite://app.db`), so no
//! temporary path shows. Timestamps, durations, execution times and Strata's version are masked by filters: they
//! differ on every run (or release), and what they look like is tested elsewhere. JSON is one line on stdout
//! (checked here); the snapshot shows it pretty-printed so that a change reads as a diff of fields.
//! Under `CI=true` a missing or changed snapshot fails; locally `INSTA_UPDATE=always` (or `cargo insta review`)
//! writes them, to be read before they are committed.

use std::process::Output;

use tempfile::TempDir;

const USERS: (&str, &str) = ("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n");
const POSTS: (&str, &str) = (
    "2_posts.sql",
    "CREATE TABLE posts (id int);\nCREATE INDEX posts_id ON posts (id);\n",
);
/// Fails at its second statement, after the first took effect (no transaction): the revision keeps the error.
const BROKEN: (&str, &str) = (
    "3_tags.sql",
    "-- atlas:txmode none\n\nCREATE TABLE tags (id int);\nINSERT INTO nope VALUES (1);\n",
);

/// A temp dir holding `migrations/` and a private TMPDIR (`tmp/`); `strata` runs inside it.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir(dir.path().join("migrations")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        let f = Self { dir };
        f.add(files);
        f
    }

    /// Writes `files` into `migrations/` and re-hashes the directory.
    fn add(&self, files: &[(&str, &str)]) {
        for (name, body) in files {
            std::fs::write(self.dir.path().join("migrations").join(name), body).unwrap();
        }
        self.strata(&["migrate", "hash"]);
    }

    /// `strata migrate <args> --url sqlite://app.db`, with nothing from the environment.
    fn migrate(&self, args: &[&str]) -> Output {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--url", "sqlite://app.db"]);
        self.strata(&all)
    }

    fn strata(&self, args: &[&str]) -> Output {
        crate::common::strata(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }
}

/// Exit code, stdout and stderr as one text.
fn text(out: &Output) -> String {
    format!(
        "exit code: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The same for `--format json`: stdout must be one line of JSON, shown pretty.
fn json(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with('\n') && stdout.matches('\n').count() == 1,
        "one line of JSON: {stdout:?}"
    );
    let value: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"));
    format!(
        "exit code: {:?}\n--- stdout (one line, shown pretty)\n{}\n--- stderr\n{}",
        out.status.code(),
        serde_json::to_string_pretty(&value).unwrap(),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Masks what differs between runs: timestamps, Go-style durations, execution times, and Strata's version.
fn masked(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z",
        "[timestamp]",
    );
    settings.add_filter(r"\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|ms|s)\b", "[duration]");
    settings.add_filter(
        r#""ExecutionTime": \d+"#,
        r#""ExecutionTime": "[nanoseconds]""#,
    );
    settings.add_filter(r#"Strata v\d+\.\d+\.\d+[^\s"]*"#, "Strata v[version]");
    settings.bind(f);
}

#[test]
fn status_before_during_and_after_a_run() {
    masked(|| {
        let f = Fixture::new(&[USERS, POSTS]);
        insta::assert_snapshot!("status_nothing_applied", text(&f.migrate(&["status"])));
        insta::assert_snapshot!(
            "status_nothing_applied_json",
            json(&f.migrate(&["status", "--format", "json"]))
        );
        f.migrate(&["apply", "1"]);
        insta::assert_snapshot!("status_one_pending", text(&f.migrate(&["status"])));
        insta::assert_snapshot!(
            "status_one_pending_json",
            json(&f.migrate(&["status", "--format", "json"]))
        );
        f.migrate(&["apply"]);
        insta::assert_snapshot!("status_ok", text(&f.migrate(&["status"])));
        insta::assert_snapshot!(
            "status_ok_json",
            json(&f.migrate(&["status", "--format", "json"]))
        );
        f.add(&[BROKEN]);
        f.migrate(&["apply"]);
        insta::assert_snapshot!("status_after_an_error", text(&f.migrate(&["status"])));
        insta::assert_snapshot!(
            "status_after_an_error_json",
            json(&f.migrate(&["status", "--format", "json"]))
        );
    });
}

#[test]
fn apply_runs_nothing_pending_and_a_failure() {
    masked(|| {
        let f = Fixture::new(&[USERS, POSTS]);
        insta::assert_snapshot!("apply_dry_run", text(&f.migrate(&["apply", "--dry-run"])));
        insta::assert_snapshot!("apply_two_files", text(&f.migrate(&["apply"])));
        insta::assert_snapshot!("apply_nothing_pending", text(&f.migrate(&["apply"])));
        insta::assert_snapshot!(
            "apply_nothing_pending_json",
            json(&f.migrate(&["apply", "--format", "json"]))
        );
        f.add(&[BROKEN]);
        insta::assert_snapshot!("apply_a_failing_file", text(&f.migrate(&["apply"])));

        let f = Fixture::new(&[USERS, POSTS]);
        insta::assert_snapshot!(
            "apply_two_files_json",
            json(&f.migrate(&["apply", "--format", "json"]))
        );
        f.add(&[BROKEN]);
        insta::assert_snapshot!(
            "apply_a_failing_file_json",
            json(&f.migrate(&["apply", "--format", "json"]))
        );
    });
}

#[test]
fn set_forward_and_back() {
    masked(|| {
        let f = Fixture::new(&[USERS, POSTS]);
        f.migrate(&["apply", "1"]);
        insta::assert_snapshot!("set_forward", text(&f.migrate(&["set", "2"])));
        insta::assert_snapshot!("set_back", text(&f.migrate(&["set", "1"])));
        insta::assert_snapshot!(
            "set_forward_json",
            json(&f.migrate(&["set", "2", "--format", "json"]))
        );
        insta::assert_snapshot!(
            "set_back_json",
            json(&f.migrate(&["set", "1", "--format", "json"]))
        );
    });
}
