//! Black-box tests of `strata lint FILE…`: every format on the same files (insta snapshots, durations redacted),
//! exit codes, rule levels from flags, and bad input (a missing file, an unclosed quote) reported with file and
//! line.

use std::path::Path;

use tempfile::TempDir;

use crate::common::strata;

const RISKY: &str = "-- add the email index\nCREATE INDEX users_email ON users (email);\n\nALTER TABLE users ADD CONSTRAINT users_age CHECK (age > 0);\n";
const SAFE: &str = "SET lock_timeout = '2s';\nSET statement_timeout = '5min';\nCREATE TABLE pets (id bigint PRIMARY KEY, name text NOT NULL);\nCREATE INDEX pets_name ON pets (name);\n";

fn dir() -> TempDir {
    let d = TempDir::new().unwrap();
    std::fs::create_dir(d.path().join("tmp")).unwrap();
    std::fs::write(d.path().join("risky.sql"), RISKY).unwrap();
    std::fs::write(d.path().join("safe.sql"), SAFE).unwrap();
    std::fs::write(d.path().join("bad.sql"), "SELECT 1;\nSELECT 'open;\n").unwrap();
    std::fs::write(d.path().join("drop.sql"), "DROP DATABASE app;\n").unwrap();
    d
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = strata(dir).arg("lint").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Durations (`  -- 1.2ms` lines, `(850ns)` after a file's status) as `DUR`.
fn redact(s: &str) -> String {
    let status = regex::Regex::new(r"\((?:[0-9.]+(?:ns|µs|ms|s|m|h))+\)").unwrap();
    let total = regex::Regex::new(r"(?m)^  -- (?:[0-9.]+(?:ns|µs|ms|s|m|h))+$").unwrap();
    let s = status.replace_all(s, "(DUR)");
    total.replace_all(&s, "  -- DUR").into_owned()
}

#[test]
fn text_report_and_exit_zero_on_warnings() {
    let d = dir();
    let (code, stdout, stderr) = run(d.path(), &["risky.sql", "safe.sql"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    insta::assert_snapshot!("lint_text", redact(&stdout));
}

#[test]
fn error_level_findings_exit_one() {
    let d = dir();
    let (code, stdout, stderr) = run(d.path(), &["drop.sql"]);
    assert_eq!(code, 1);
    assert_eq!(stderr, "", "the report is the message; no Error: line");
    assert!(stdout.contains("L1: Dropping database \"app\""), "{stdout}");
    // --error makes a warning fail the run; --off silences a rule and an analyzer.
    let (code, ..) = run(d.path(), &["--error", "PG305", "risky.sql"]);
    assert_eq!(code, 1);
    let (code, stdout, _) = run(
        d.path(),
        &[
            "--off",
            "ban-drop-database",
            "--off",
            "timeouts",
            "drop.sql",
        ],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("no diagnostics found"), "{stdout}");
    let (code, _, stderr) = run(d.path(), &["--off", "XX1", "drop.sql"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--off XX1: unknown lint rule \"XX1\""),
        "{stderr}"
    );
}

#[test]
fn json_github_and_sarif_formats() {
    let d = dir();
    for (format, name) in [
        ("json", "lint_json"),
        ("github", "lint_github"),
        ("sarif", "lint_sarif"),
    ] {
        let (code, stdout, stderr) = run(d.path(), &["--format", format, "risky.sql", "bad.sql"]);
        assert_eq!(code, 1, "{format}: {stderr}");
        let stdout = stdout.replace(env!("CARGO_PKG_VERSION"), "VERSION");
        insta::assert_snapshot!(name, stdout);
    }
    let (_, stdout, _) = run(d.path(), &["--format", "json", "risky.sql"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["Files"][0]["Reports"][0]["Diagnostics"][0]["Code"],
        "PG101"
    );
}

#[test]
fn bad_input_is_reported_with_file_and_line() {
    let d = dir();
    let (code, stdout, _) = run(d.path(), &["bad.sql", "missing.sql"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("  -- analyzing bad.sql\n    -- Error: L2: unclosed quote '\\''"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  -- analyzing missing.sql\n    -- Error: L1: cannot read the file:"),
        "{stdout}"
    );
    // A statement the parser cannot read is a finding at its line, not a failure.
    std::fs::write(
        d.path().join("odd.sql"),
        "SELECT 1;\n\nCREAT TABLE t (a int);\n",
    )
    .unwrap();
    let (code, stdout, _) = run(d.path(), &["odd.sql"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("-- L3: Statement could not be parsed"),
        "{stdout}"
    );
}

#[test]
fn dialect_picks_the_rules() {
    let d = dir();
    std::fs::write(
        d.path().join("my.sql"),
        "CREATE TABLE pets (id int PRIMARY KEY, owner_id int REFERENCES users (id));\n",
    )
    .unwrap();
    let (code, stdout, _) = run(d.path(), &["--dialect", "mysql", "my.sql"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("inline REFERENCES is ignored by MySQL"),
        "{stdout}"
    );
    let (_, stdout, _) = run(d.path(), &["my.sql"]);
    assert!(!stdout.contains("MySQL"), "{stdout}");
}

/// With `--env`, `strata lint` takes the env's dialect (the scheme of `dev`, else `url`) and its `lint` block;
/// `--dialect` and the rule flags win; without `--env` the files are PostgreSQL and the defaults apply.
#[test]
fn env_gives_the_dialect_and_the_lint_settings() {
    let d = dir();
    std::fs::write(
        d.path().join("my.sql"),
        "CREATE TABLE pets (id int PRIMARY KEY, owner_id int REFERENCES users (id));\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("atlas.hcl"),
        "env \"my\" {\n  dev = \"mysql://root@localhost:3306/dev\"\n}\n\
         env \"lite\" {\n  url = \"sqlite://app.db\"\n}\n\
         env \"pg\" {\n  dev = \"postgres://localhost/dev\"\n  lint {\n    rules {\n      PG305 = \"error\"\n    }\n    naming {\n      index {\n        match = \"_idx$\"\n      }\n    }\n  }\n}\n",
    )
    .unwrap();
    let inline_ref = "inline REFERENCES is ignored by MySQL";
    let (code, stdout, stderr) = run(d.path(), &["--env", "my", "my.sql"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(inline_ref), "{stdout}");
    let (_, stdout, _) = run(
        d.path(),
        &["--env", "my", "--dialect", "postgres", "my.sql"],
    );
    assert!(!stdout.contains(inline_ref), "{stdout}");
    let (_, stdout, _) = run(d.path(), &["--env", "lite", "my.sql"]);
    assert!(!stdout.contains(inline_ref), "{stdout}");
    // risky.sql: PG101 at line 2 (index "users_email" breaks the env's naming too), PG305 at line 4.
    let (code, stdout, stderr) = run(d.path(), &["--format", "json", "risky.sql"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("NM104"), "{stdout}");
    let (code, stdout, stderr) = run(d.path(), &["--env", "pg", "--format", "json", "risky.sql"]);
    assert_eq!(code, 1, "PG305 is an error in the env: {stdout}{stderr}");
    assert!(stdout.contains("\"NM104\""), "{stdout}");
    assert!(
        stdout.contains(r#"Index name \"users_email\" must match \"_idx$\""#),
        "{stdout}"
    );
    let (code, ..) = run(d.path(), &["--env", "pg", "--warn", "PG305", "risky.sql"]);
    assert_eq!(code, 0);
    // An env whose URLs tell no dialect is refused rather than guessed.
    std::fs::write(
        d.path().join("atlas.hcl"),
        "env \"odd\" {\n  dev = \"docker://postgres/15\"\n}\n",
    )
    .unwrap();
    let (code, _, stderr) = run(d.path(), &["--env", "odd", "my.sql"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("give --dialect"), "{stderr}");
}

/// `--naming KIND=PATTERN` switches a naming rule on without a project file; a bad pattern or kind is refused.
#[test]
fn naming_flag_switches_a_naming_rule_on() {
    let d = dir();
    let (code, stdout, stderr) = run(
        d.path(),
        &["--naming", "table=^[a-z]+$", "--format", "json", "safe.sql"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("NM102"), "{stdout}");
    let (_, stdout, _) = run(
        d.path(),
        &["--naming", "all=^x", "--format", "json", "safe.sql"],
    );
    assert!(
        stdout.contains(r#"Table name \"pets\" must match \"^x\""#),
        "{stdout}"
    );
    assert!(stdout.contains("\"NM103\""), "{stdout}");
    let (code, _, stderr) = run(d.path(), &["--naming", "view=^x", "safe.sql"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--naming view=^x: expected KIND=PATTERN"),
        "{stderr}"
    );
    let (code, _, stderr) = run(d.path(), &["--naming", "table=(", "safe.sql"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("not a valid regular expression"),
        "{stderr}"
    );
}
