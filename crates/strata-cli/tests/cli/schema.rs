//! Black-box tests of `strata schema inspect | diff | apply | clean` on SQLite files in temporary directories
//! (paths relative to the directory, so the outputs are stable), with insta snapshots of what users see.

use std::path::Path;

use tempfile::TempDir;

use crate::common::strata;

const V1: &str = "CREATE TABLE teams (id integer NOT NULL PRIMARY KEY, name text NOT NULL);\n\
CREATE TABLE users (\n  id integer NOT NULL PRIMARY KEY,\n  team_id integer NULL REFERENCES teams (id) ON DELETE CASCADE,\n  email text NOT NULL DEFAULT ''\n);\n\
CREATE UNIQUE INDEX users_email ON users (email);\n";

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

fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(
        r.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stdout
}

/// Exit 1 with an `Error:` line; returns the message (colour codes removed).
fn fails(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(
        r.code, 1,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stderr.replace("\x1b[1;31m", "").replace("\x1b[0m", "")
}

fn sqlite(dir: &Path, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        let path = dir.join("app.db");
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await
                .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    });
}

fn count(dir: &Path, table: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("app.db").display()))
                .await
                .unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut c)
            .await
            .unwrap()
    })
}

fn setup(schema: &str) -> TempDir {
    let t = TempDir::new().unwrap();
    std::fs::write(t.path().join("schema.sql"), schema).unwrap();
    t
}

#[test]
fn inspect_prints_hcl_by_default_sql_that_recreates_the_schema_and_json() {
    let t = setup(V1);
    sqlite(t.path(), V1);
    let hcl = ok(t.path(), &["schema", "inspect", "-u", "sqlite://app.db"]);
    insta::assert_snapshot!("inspect_hcl", hcl);
    for format in ["hcl", "{{ $.MarshalHCL }}"] {
        let same = ok(
            t.path(),
            &[
                "schema",
                "inspect",
                "-u",
                "sqlite://app.db",
                "--format",
                format,
            ],
        );
        assert_eq!(same, hcl, "{format}");
    }
    let sql = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "sql",
        ],
    );
    insta::assert_snapshot!("inspect_sql", sql);
    let same = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "{{ sql . }}",
        ],
    );
    assert_eq!(same, sql);
    // The indented form: every CREATE TABLE column on its own line.
    let indented = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "{{ sql . \"  \" }}",
        ],
    );
    insta::assert_snapshot!("inspect_sql_indented", indented);
    let err = run(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "{{ mermaid . }}",
        ],
    );
    assert_eq!(err.code, 1, "{}", err.stderr);
    assert!(err.stderr.contains("unknown format"), "{}", err.stderr);
    let json = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("inspect_json", json);
    // Atlas's template gives Atlas's shape (one line: schemas, tables, columns with their own type spelling).
    let atlas = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "{{ json . }}",
        ],
    );
    insta::assert_snapshot!("inspect_atlas_json", atlas);
    // Round trip: the SQL builds a database that inspects the same.
    std::fs::write(t.path().join("again.sql"), &sql).unwrap();
    let again = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "file://again.sql",
            "--dev-url",
            "sqlite://dev?mode=memory",
            "--format",
            "sql",
        ],
    );
    assert_eq!(again, sql);
    // --exclude leaves a table out.
    let some = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--exclude",
            "users",
        ],
    );
    assert!(
        some.contains("\"teams\"") && !some.contains("\"users\""),
        "{some}"
    );
    let help = ok(t.path(), &["schema", "inspect", "--help"]);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("`hcl` (Atlas's HCL schema, as `atlas schema inspect` prints it"),
        "{help}"
    );
    assert!(help.contains("[default: hcl]"), "{help}");
}

#[test]
fn diff_prints_the_plan_or_synced() {
    let t = setup(V1);
    let text = ok(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
        ],
    );
    insta::assert_snapshot!("diff_text", text);
    let json = ok(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("diff_json", json);
    sqlite(t.path(), V1);
    let synced = ok(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
        ],
    );
    assert_eq!(synced, "Schemas are synced, no changes to be made.\n");
}

#[test]
fn apply_plans_asks_and_applies() {
    let t = setup(V1);
    let dry = ok(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--dry-run",
        ],
    );
    insta::assert_snapshot!("apply_dry_run", dry);
    let dry_json = ok(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("apply_dry_run_json", dry_json);
    // No terminal, no --auto-approve: refused, nothing applied.
    let err = fails(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
        ],
    );
    insta::assert_snapshot!("apply_no_terminal", err);
    let err = fails(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        err,
        "Error: --log and --format can only be used with --dry-run or --auto-approve\n"
    );
    let applied = ok(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--auto-approve",
        ],
    );
    assert_eq!(applied, dry);
    let synced = ok(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--auto-approve",
        ],
    );
    assert_eq!(synced, "Schema is synced, no changes to be made\n");
    // JSON of a real run.
    std::fs::write(
        t.path().join("v2.sql"),
        format!("{V1}CREATE TABLE tags (id integer NOT NULL);\n"),
    )
    .unwrap();
    let json = ok(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://v2.sql",
            "--auto-approve",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("apply_json", json);
}

/// Destructive plans are named, and `--auto-approve` alone does not apply them.
#[test]
fn destructive_changes_need_explicit_approval() {
    let t = setup(V1);
    sqlite(
        t.path(),
        &format!("{V1}CREATE TABLE old (id int); ALTER TABLE teams ADD COLUMN legacy text;"),
    );
    let args = [
        "schema",
        "apply",
        "-u",
        "sqlite://app.db",
        "--to",
        "file://schema.sql",
        "--auto-approve",
    ];
    let r = run(t.path(), &args);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("apply_destructive_stdout", r.stdout);
    insta::assert_snapshot!(
        "apply_destructive_stderr",
        r.stderr.replace("\x1b[1;31m", "").replace("\x1b[0m", "")
    );
    assert_eq!(count(t.path(), "old"), 0, "the table is still there");
    let mut with = args.to_vec();
    with.push("--allow-destructive");
    ok(t.path(), &with);
    let synced = ok(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
        ],
    );
    assert_eq!(synced, "Schemas are synced, no changes to be made.\n");
}

/// `schema apply` through the SQLite table copy keeps every row of the parent and of its ON DELETE CASCADE
/// children (foreign keys enforced with `_fk=1`).
#[test]
fn apply_keeps_every_row_through_a_table_copy() {
    let t = setup(V1);
    sqlite(
        t.path(),
        &V1.replace("name text NOT NULL", "name text NOT NULL, legacy text"),
    );
    sqlite(
        t.path(),
        "INSERT INTO teams (id, name) VALUES (1, 'a'), (2, 'b');\n\
         INSERT INTO users (id, team_id, email) VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 2, 'z'), (4, NULL, 'w');",
    );
    let out = ok(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db?_fk=1",
            "--to",
            "file://schema.sql",
            "--auto-approve",
            "--allow-destructive",
        ],
    );
    assert!(out.contains("INSERT INTO `new_teams`"), "{out}");
    assert_eq!(count(t.path(), "teams"), 2);
    assert_eq!(count(t.path(), "users"), 4);
}

#[test]
fn clean_drops_everything_or_nothing() {
    let t = setup(V1);
    let nothing = ok(t.path(), &["schema", "clean", "-u", "sqlite://app.db"]);
    assert_eq!(nothing, "Nothing to drop\n");
    sqlite(t.path(), V1);
    let err = fails(t.path(), &["schema", "clean", "-u", "sqlite://app.db"]);
    assert!(err.contains("stdin is not a terminal"), "{err}");
    assert_eq!(count(t.path(), "users"), 0, "still there");
    let out = ok(
        t.path(),
        &["schema", "clean", "-u", "sqlite://app.db", "--auto-approve"],
    );
    insta::assert_snapshot!("clean_text", out);
    assert_eq!(
        ok(t.path(), &["schema", "clean", "-u", "sqlite://app.db"]),
        "Nothing to drop\n"
    );
    sqlite(t.path(), V1);
    let json = ok(
        t.path(),
        &[
            "schema",
            "clean",
            "-u",
            "sqlite://app.db",
            "--auto-approve",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!("clean_json", json);
}

#[test]
fn bad_input_is_a_clear_error_with_exit_1() {
    let t = setup(V1);
    // Unreachable server; the password is never printed.
    let err = fails(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "postgres://app:s3cret@127.0.0.1:1/db?connect_timeout=2",
        ],
    );
    assert!(
        err.starts_with("Error: connecting to postgres://app:xxxxx@127.0.0.1:1/db"),
        "{err}"
    );
    assert!(!err.contains("s3cret"));
    // Dev database not clean, naming the object.
    sqlite(t.path(), "CREATE TABLE leftover (id int);");
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://other.db",
            "--to",
            "file://schema.sql",
            "--dev-url",
            "sqlite://app.db",
        ],
    );
    insta::assert_snapshot!("dev_not_clean", err);
    // An SQL error in the desired state: file:line and SQLite's message.
    std::fs::write(
        t.path().join("bad.sql"),
        "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int,);\n",
    )
    .unwrap();
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://other.db",
            "--to",
            "file://bad.sql",
        ],
    );
    insta::assert_snapshot!("sql_error", err);
    // Unknown source kinds.
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://other.db",
            "--to",
            "oracle://h/db",
        ],
    );
    insta::assert_snapshot!("unknown_source", err);
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://other.db",
            "--to",
            "schema.sql",
        ],
    );
    assert_eq!(
        err,
        "Error: missing scheme. Did you mean file://schema.sql?\n"
    );
    std::fs::write(
        t.path().join("schema.hcl"),
        "schema \"main\" {\n}\ntable \"t\" {\n  schema = schema.main\n  colum \"x\" {\n  }\n}\n",
    )
    .unwrap();
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://other.db",
            "--to",
            "file://schema.hcl",
        ],
    );
    assert_eq!(
        err,
        "Error: schema.hcl:5:3: unknown block \"colum\" in table \"t\": expected one of column, primary_key, \
         index, foreign_key, check, unique, partition, exclude\n"
    );
    // SQL without a dev database off SQLite: Atlas's message, before any connection.
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "postgres://u@127.0.0.1:1/db",
            "--to",
            "file://schema.sql",
        ],
    );
    assert!(
        err.starts_with("Error: --dev-url cannot be empty."),
        "{err}"
    );
    let err = fails(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://app.db",
            "--to",
            "file://schema.sql",
            "--tx-mode",
            "all",
        ],
    );
    assert!(err.contains("unknown tx-mode \"all\""), "{err}");
    let err = fails(
        t.path(),
        &[
            "schema",
            "apply",
            "-u",
            "file://schema.sql",
            "--to",
            "file://schema.sql",
        ],
    );
    assert!(
        err.starts_with("Error: --url must be a database connection"),
        "{err}"
    );
}

#[test]
fn an_object_kind_the_dialect_cannot_express_is_a_clear_error() {
    let t = setup(V1);
    sqlite(t.path(), V1);
    let json = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            "sqlite://app.db",
            "--format",
            "json",
        ],
    );
    // The same model with a PostgreSQL-style enum type in SQLite's `main` schema.
    let mut model: serde_json::Value = serde_json::from_str(&json).unwrap();
    model["schemas"][0]["enums"] =
        serde_json::json!([{"name": "mood", "values": ["happy", "sad"]}]);
    std::fs::write(t.path().join("model.json"), model.to_string()).unwrap();
    let err = fails(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://app.db",
            "--to",
            "file://model.json",
        ],
    );
    assert!(err.starts_with("Error: SQLite cannot "), "{err}");
    assert!(err.contains("\"mood\""), "{err}");
    // Nothing was changed: the database still diffs empty against its own model.
    std::fs::write(t.path().join("same.json"), &json).unwrap();
    let same = ok(
        t.path(),
        &[
            "schema",
            "diff",
            "--from",
            "sqlite://app.db",
            "--to",
            "file://same.json",
        ],
    );
    assert_eq!(same.trim(), "Schemas are synced, no changes to be made.");
}

/// Several `--to` HCL files are one desired state: applied, then synced.
#[test]
fn several_hcl_files_are_one_desired_state() {
    let t = TempDir::new().unwrap();
    std::fs::write(t.path().join("a.hcl"), "schema \"main\" {\n}\n").unwrap();
    std::fs::write(
        t.path().join("b.hcl"),
        "table \"t\" {\n  schema = schema.main\n  column \"id\" {\n    type = integer\n  }\n  primary_key {\n    columns = [column.id]\n  }\n}\n",
    )
    .unwrap();
    let to = ["--to", "file://a.hcl", "--to", "file://b.hcl"];
    let mut apply = vec![
        "schema",
        "apply",
        "--url",
        "sqlite://app.db",
        "--auto-approve",
    ];
    apply.extend(to);
    let out = ok(t.path(), &apply);
    assert!(out.contains("CREATE TABLE `t`"), "{out}");
    let mut diff = vec!["schema", "diff", "--from", "sqlite://app.db"];
    diff.extend(to);
    assert_eq!(
        ok(t.path(), &diff),
        "Schemas are synced, no changes to be made.\n"
    );
}

/// Runs `sql` on a PostgreSQL or MySQL/MariaDB test database.
fn execute(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        } else {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        }
    });
}

#[test]
fn inspect_hcl_of_a_postgres_database() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    execute(
        &db.url,
        "CREATE TYPE status AS ENUM ('active', 'inactive');
         CREATE TABLE teams (
           id serial PRIMARY KEY,
           name character varying(50) NOT NULL DEFAULT 'team' UNIQUE,
           created timestamptz NOT NULL DEFAULT now(),
           at timestamp(4) NULL,
           CONSTRAINT name_not_empty CHECK (length(name) > 0)
         );
         COMMENT ON TABLE teams IS 'all teams';
         CREATE TABLE users (
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           team_id integer REFERENCES teams (id) ON DELETE CASCADE,
           email text NOT NULL,
           st status NOT NULL DEFAULT 'active',
           tags text[],
           score numeric(10,2) DEFAULT 1.5,
           email_len integer GENERATED ALWAYS AS (length(email)) STORED
         );
         CREATE INDEX users_lower_email ON users (lower(email) DESC) WHERE email IS NOT NULL;
         CREATE INDEX users_team ON users USING hash (team_id);",
    );
    let t = TempDir::new().unwrap();
    let hcl = ok(
        t.path(),
        &[
            "schema",
            "inspect",
            "-u",
            &db.url_with_search_path("public"),
        ],
    );
    insta::assert_snapshot!("inspect_hcl_postgres", hcl);
    // The whole database (no search_path): a table name in two schemas gets its schema as a qualifier label,
    // and references to it are qualified too.
    execute(
        &db.url,
        "CREATE SCHEMA app;
         CREATE TABLE app.teams (id integer PRIMARY KEY);
         CREATE TABLE app.members (team_id integer REFERENCES app.teams (id), user_id bigint REFERENCES public.users (id));",
    );
    let realm = ok(t.path(), &["schema", "inspect", "-u", &db.url]);
    insta::assert_snapshot!("inspect_hcl_postgres_realm", realm);
    drop(db);
}

#[test]
fn inspect_hcl_of_a_mariadb_database() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::mysql()) else {
        return;
    };
    execute(
        &db.url,
        "CREATE TABLE teams (
           id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
           name varchar(50) NOT NULL DEFAULT 'team' COMMENT 'the name',
           budget decimal(10,2) DEFAULT NULL,
           flag tinyint(1) NOT NULL DEFAULT 0,
           big bigint unsigned,
           st enum('a','b') NOT NULL DEFAULT 'a',
           latin varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
           UNIQUE KEY name_u (name)
         ) COMMENT 'all teams';
         CREATE TABLE users (
           id int NOT NULL PRIMARY KEY,
           team_id int,
           email varchar(100) NOT NULL,
           KEY users_email (email(10) DESC),
           CONSTRAINT users_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
           CONSTRAINT email_at CHECK (email like '%@%')
         );",
    );
    let t = TempDir::new().unwrap();
    let hcl = ok(t.path(), &["schema", "inspect", "-u", &db.url]);
    // The database's name is random; its character set and collation are the server's defaults.
    let hcl = hcl.replace(&db.name, "<db>");
    insta::assert_snapshot!("inspect_hcl_mariadb", hcl);
    drop(db);
}
