//! `strata migrate diff` and `strata migrate validate --dev-url` as users run them, on SQLite (the in-memory dev
//! database) and PostgreSQL: what is written, what is printed, and every error text, as insta snapshots.

use std::path::Path;

use tempfile::TempDir;

use crate::common::strata;

const DEV: &str = "sqlite://dev?mode=memory";

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

/// Exit 1: the error text (colour codes removed).
fn fails(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(
        r.code, 1,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stderr.replace("\x1b[1;31m", "").replace("\x1b[0m", "")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(
        r.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_eq!(r.stderr, "", "{args:?}");
    r.stdout
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    v.sort();
    v
}

fn setup(schema: &str) -> TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("tmp")).unwrap();
    std::fs::write(t.path().join("schema.sql"), schema).unwrap();
    t
}

const SCHEMA: &str = "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);\n\
                      CREATE UNIQUE INDEX users_email ON users (email);\n";

/// The first run creates the directory and writes `<timestamp>_<name>.sql` and `atlas.sum`, printing nothing;
/// the second prints Atlas's synced line; `migrate validate --dev-url` replays the result.
#[test]
fn writes_the_file_then_reports_synced() {
    let t = setup(SCHEMA);
    let d = t.path();
    let out = ok(
        d,
        &[
            "migrate",
            "diff",
            "init",
            "--to",
            "file://schema.sql",
            "--dev-url",
            DEV,
        ],
    );
    assert_eq!(out, "");
    let files = sql_files(d);
    assert_eq!(files.len(), 1);
    let name = &files[0];
    assert!(
        name.len() == "20240101000000_init.sql".len()
            && name.ends_with("_init.sql")
            && name[..14].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    let body = std::fs::read_to_string(d.join("migrations").join(name)).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Create "users" table
    CREATE TABLE `users` (`id` integer NULL, `email` text NOT NULL, PRIMARY KEY (`id`));
    -- Create index "users_email" to table: "users"
    CREATE UNIQUE INDEX `users_email` ON `users` (`email`);
    "#);
    let sum = std::fs::read_to_string(d.join("migrations/atlas.sum")).unwrap();
    assert!(
        sum.starts_with("h1:") && sum.contains(&format!("\n{name} h1:")),
        "{sum}"
    );

    let out = ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            DEV,
        ],
    );
    assert_eq!(
        out,
        "The migration directory is synced with the desired state, no changes to be made\n"
    );
    assert_eq!(sql_files(d).len(), 1);
    assert_eq!(ok(d, &["migrate", "validate", "--dev-url", DEV]), "");
    // The replay cache lives where STRATA_CACHE_DIR says, not in the migration directory.
    assert!(d.join("cache/replay").read_dir().unwrap().count() > 0);
}

/// `--format '{{ sql . "  " }}'` puts each column and constraint on its own line; `--qualifier` names the schema.
#[test]
fn indentation_and_qualifier() {
    let t = setup(SCHEMA);
    let d = t.path();
    ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            DEV,
            "--format",
            r#"{{ sql . "  " }}"#,
            "--qualifier",
            "main2",
        ],
    );
    let body = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Create "users" table
    CREATE TABLE `main2`.`users` (
      `id` integer NULL,
      `email` text NOT NULL,
      PRIMARY KEY (`id`)
    );
    -- Create index "users_email" to table: "users"
    CREATE UNIQUE INDEX `main2`.`users_email` ON `users` (`email`);
    "#);
}

/// What users see when something is wrong, each with exit status 1 and nothing written.
#[test]
fn error_texts() {
    let t = setup(SCHEMA);
    let d = t.path();
    let base = [
        "migrate",
        "diff",
        "--to",
        "file://schema.sql",
        "--dev-url",
        DEV,
    ];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        fails(d, &v)
    };
    insta::assert_snapshot!(with(&["--format", r#"{{ if . }}{{ sql . "  " }}{{ end }}"#]), @r#"Error: 'sql' can only be used to indent statements. got: {{if .}}{{sql . "  "}}{{end}}"#);
    insta::assert_snapshot!(with(&["--format", "{{ range .Changes }}{{ .Cmd }}{{ end }}"]), @r#"Error: unsupported --format template "{{ range .Changes }}{{ .Cmd }}{{ end }}": migrate diff takes only the indentation form {{ sql . "  " }} (file names and bodies follow Atlas's default layout)"#);
    insta::assert_snapshot!(with(&["--to", "sqlite://other.db"]), @r#"Error: got mixed --to url schemes: "file" and "sqlite", the desired state must be provided from a single kind of source"#);
    insta::assert_snapshot!(with(&["../x"]), @r#"Error: invalid migration name "../x": use letters, digits, `_` or `-` (no path separators)"#);
    insta::assert_snapshot!(fails(d, &["migrate", "diff", "--to", "file://schema.sql"]), @r#"Error: required flag(s) "dev-url" not set"#);
    insta::assert_snapshot!(fails(d, &["migrate", "diff", "--dev-url", DEV]), @r#"Error: required flag(s) "to" not set"#);

    // The desired state as the model's JSON: none or two schemas for a dev database bound to one.
    std::fs::write(d.join("none.json"), r#"{"dialect":"sqlite","schemas":[]}"#).unwrap();
    std::fs::write(
        d.join("two.json"),
        r#"{"dialect":"sqlite","schemas":[{"name":"main"},{"name":"aux"}]}"#,
    )
    .unwrap();
    insta::assert_snapshot!(fails(d, &["migrate", "diff", "--to", "file://none.json", "--dev-url", DEV]), @"Error: no schema was found in desired state");
    insta::assert_snapshot!(fails(d, &["migrate", "diff", "--to", "file://two.json", "--dev-url", DEV]), @"Error: 2 schemas were found in desired state; expect 1: bind the other side to no schema (a realm URL) or keep one schema in the desired state");

    // A dev database that is not empty is named.
    ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            DEV,
        ],
    );
    let dirty = format!("sqlite://{}", d.join("migrations_dev.db").display());
    ok(d, &["migrate", "apply", "--url", &dirty]);
    let err = fails(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            &dirty,
        ],
    );
    insta::assert_snapshot!(err, @r#"Error: sql/migrate: connected database is not clean: found table "atlas_schema_revisions". The dev database (--dev-url) must be empty: point it at an empty database or schema, or let Strata create a throw-away one with ?strata_dev=scratch"#);
    assert_eq!(sql_files(d).len(), 1, "nothing more was written");
}

/// `migrate validate --dev-url` names the file and line of a failing statement with the database's message.
#[test]
fn validate_replays_and_names_the_failing_line() {
    let t = setup("");
    let d = t.path();
    std::fs::create_dir(d.join("migrations")).unwrap();
    std::fs::write(
        d.join("migrations/20240101000000_a.sql"),
        "CREATE TABLE a (id integer);\n",
    )
    .unwrap();
    std::fs::write(
        d.join("migrations/20240101000001_b.sql"),
        "CREATE TABLE b (id integer);\n\nINSERT INTO nowhere VALUES (1);\n",
    )
    .unwrap();
    ok(d, &["migrate", "hash"]);
    assert_eq!(
        ok(d, &["migrate", "validate"]),
        "",
        "without --dev-url: no replay"
    );
    insta::assert_snapshot!(fails(d, &["migrate", "validate", "--dev-url", DEV]), @"Error: executing migrations/20240101000001_b.sql:3 on the dev database: no such table: nowhere");
}

/// PostgreSQL: a realm dev URL writes qualified statements and creates the schema; a bound one writes them
/// unqualified; the second run of each is synced.
#[tokio::test]
async fn postgres_bound_and_realm() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let bound = dev.url_with_search_path("public");
    let t = setup("CREATE TABLE users (id bigint PRIMARY KEY, name text NULL);\n");
    let d = t.path();
    ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            &bound,
        ],
    );
    let body = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Create "users" table
    CREATE TABLE "users" ("id" bigint NOT NULL, "name" text NULL, PRIMARY KEY ("id"));
    "#);
    let synced = ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            &bound,
        ],
    );
    assert!(
        synced.starts_with("The migration directory is synced"),
        "{synced}"
    );

    let t = setup("CREATE SCHEMA app;\nCREATE TABLE app.users (id bigint PRIMARY KEY);\n");
    let d = t.path();
    ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            &dev.url,
        ],
    );
    let body = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Add new schema named "app"
    CREATE SCHEMA "app";
    -- Create "users" table
    CREATE TABLE "app"."users" ("id" bigint NOT NULL, PRIMARY KEY ("id"));
    "#);
    let synced = ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            &dev.url,
        ],
    );
    assert!(
        synced.starts_with("The migration directory is synced"),
        "{synced}"
    );
}

/// An HCL desired state, per dialect: `migrate diff` writes the file, `migrate apply` runs it on an empty
/// database, and `schema diff` of that database against the same HCL is synced; a second `migrate diff` is too.
fn hcl_round(d: &Path, hcl: &str, dev: &str, target: &str) {
    std::fs::write(d.join("schema.hcl"), hcl).unwrap();
    ok(
        d,
        &[
            "migrate",
            "diff",
            "init",
            "--to",
            "file://schema.hcl",
            "--dev-url",
            dev,
        ],
    );
    assert_eq!(sql_files(d).len(), 1);
    let again = ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.hcl",
            "--dev-url",
            dev,
        ],
    );
    assert!(
        again.starts_with("The migration directory is synced"),
        "{again}"
    );
    ok(d, &["migrate", "apply", "--url", target]);
    let synced = ok(
        d,
        &[
            "schema",
            "diff",
            "--from",
            target,
            "--to",
            "file://schema.hcl",
            "--dev-url",
            dev,
        ],
    );
    assert_eq!(synced, "Schemas are synced, no changes to be made.\n");
}

fn hcl_schema(schema: &str, int: &str) -> String {
    format!(
        r#"schema "{schema}" {{
}}
table "users" {{
  schema = schema.{schema}
  column "id" {{
    type = {int}
  }}
  column "email" {{
    type = varchar(255)
  }}
  column "nick" {{
    null = true
    type = varchar(64)
  }}
  primary_key {{
    columns = [column.id]
  }}
  index "users_email" {{
    unique  = true
    columns = [column.email]
  }}
}}
table "posts" {{
  schema = schema.{schema}
  column "id" {{
    type = {int}
  }}
  column "author" {{
    type = {int}
  }}
  primary_key {{
    columns = [column.id]
  }}
  foreign_key "posts_author" {{
    columns     = [column.author]
    ref_columns = [table.users.column.id]
    on_delete   = CASCADE
  }}
}}
"#
    )
}

#[test]
fn hcl_desired_state_on_sqlite() {
    let t = setup("");
    let d = t.path();
    let target = format!("sqlite://{}/app.db", d.display());
    hcl_round(d, &hcl_schema("main", "integer"), DEV, &target);
}

#[tokio::test(flavor = "multi_thread")]
async fn hcl_desired_state_on_postgres() {
    let (Some(dev), Some(target)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let t = setup("");
    hcl_round(
        t.path(),
        &hcl_schema("public", "bigint"),
        &dev.url_with_search_path("public"),
        &target.url_with_search_path("public"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hcl_desired_state_on_mariadb() {
    let (Some(dev), Some(target)) = (
        strata_driver::testing::mysql().await,
        strata_driver::testing::mysql().await,
    ) else {
        return;
    };
    let t = setup("");
    let schema = dev.url.rsplit('/').next().unwrap().to_owned();
    hcl_round(t.path(), &hcl_schema(&schema, "int"), &dev.url, &target.url);
}

/// `migrate diff --env` takes `src`, `dev` and the indentation format from the project file, and `diff.skip`
/// leaves a drop out of the written file.
#[test]
fn env_drives_migrate_diff() {
    let t = setup("CREATE TABLE a (id integer NOT NULL);\nCREATE TABLE b (id integer NOT NULL);\n");
    let d = t.path();
    std::fs::write(
        d.join("atlas.hcl"),
        r#"env "local" {
  src = "file://schema.sql"
  dev = "sqlite://dev?mode=memory"
  diff {
    skip {
      drop_table = true
    }
  }
  format {
    migrate {
      diff = "{{ sql . \"  \" }}"
    }
  }
}
"#,
    )
    .unwrap();
    ok(d, &["migrate", "diff", "init", "--env", "local"]);
    let first = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    insta::assert_snapshot!(first, @r#"
    -- Create "a" table
    CREATE TABLE `a` (
      `id` integer NOT NULL
    );
    -- Create "b" table
    CREATE TABLE `b` (
      `id` integer NOT NULL
    );
    "#);
    std::fs::write(
        d.join("schema.sql"),
        "CREATE TABLE a (id integer NOT NULL);\n",
    )
    .unwrap();
    let out = ok(d, &["migrate", "diff", "--env", "local"]);
    assert!(
        out.starts_with("The migration directory is synced"),
        "{out}"
    );
    let err = fails(d, &["migrate", "diff", "--to", "file://schema.sql"]);
    assert!(
        err.contains(r#"required flag(s) "dev-url" not set"#),
        "{err}"
    );
}

/// Several `--to` HCL files are one desired state.
#[test]
fn several_hcl_files_are_one_desired_state() {
    let t = setup("");
    let d = t.path();
    std::fs::write(
        d.join("a.hcl"),
        "schema \"main\" {\n}\ntable \"a\" {\n  schema = schema.main\n  column \"id\" {\n    type = int\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("b.hcl"),
        "table \"b\" {\n  schema = schema.main\n  column \"id\" {\n    type = int\n  }\n}\n",
    )
    .unwrap();
    ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://a.hcl",
            "--to",
            "file://b.hcl",
            "--dev-url",
            DEV,
        ],
    );
    let body = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Create "a" table
    CREATE TABLE `a` (`id` int NOT NULL);
    -- Create "b" table
    CREATE TABLE `b` (`id` int NOT NULL);
    "#);
}

/// `diff { concurrent_index { … } }` in the env: a new index of an existing PostgreSQL table is written
/// `CONCURRENTLY` in a file that runs without a transaction (`-- atlas:txmode none`), a new table's index plainly;
/// `migrate apply` runs the file (PostgreSQL refuses `CONCURRENTLY` inside a transaction block) and lint does not
/// flag it as run in one.
#[tokio::test(flavor = "multi_thread")]
async fn env_concurrent_index_writes_a_non_transactional_file_that_applies() {
    let (Some(dev), Some(target)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let t = setup(
        "CREATE TABLE t (id integer NOT NULL, a integer, b integer);\nCREATE INDEX t_a ON t (a);\n",
    );
    let d = t.path();
    std::fs::write(
        d.join("atlas.hcl"),
        format!(
            r#"env "local" {{
  src = "file://schema.sql"
  dev = "{}"
  url = "{}"
  diff {{
    concurrent_index {{
      create = true
      drop   = true
    }}
  }}
}}
"#,
            dev.url_with_search_path("public"),
            target.url_with_search_path("public"),
        ),
    )
    .unwrap();
    ok(d, &["migrate", "diff", "init", "--env", "local"]);
    let first = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    assert!(
        !first.contains("txmode") && !first.contains("CONCURRENTLY"),
        "{first}"
    );
    std::fs::write(
        d.join("schema.sql"),
        "CREATE TABLE t (id integer NOT NULL, a integer, b integer);\nCREATE INDEX t_b ON t (b);\n",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(d, &["migrate", "diff", "by_b", "--env", "local"]);
    let files = sql_files(d);
    assert_eq!(files.len(), 2, "{files:?}");
    let second = std::fs::read_to_string(d.join("migrations").join(&files[1])).unwrap();
    insta::assert_snapshot!(second, @r#"
    -- atlas:txmode none

    -- Drop index "t_a" from table: "t"
    DROP INDEX CONCURRENTLY "t_a";
    -- Create index "t_b" to table: "t"
    CREATE INDEX CONCURRENTLY "t_b" ON "t" ("b");
    "#);
    ok(d, &["migrate", "apply", "--env", "local"]);
    let out = ok(d, &["migrate", "status", "--env", "local"]);
    assert!(out.contains("Already at latest version"), "{out}");
    let lint = run(d, &["migrate", "lint", "--env", "local", "--latest", "1"]);
    assert!(
        !lint.stdout.contains("PG103") && !lint.stdout.contains("in a transaction"),
        "{}",
        lint.stdout
    );
}

/// `--lock-timeout` reaches the wait for the `atlas_migrate_diff` lock on the dev database: with the lock held by
/// another session, the command fails with the lock error after about the time given — on the command line, and
/// from the env's `migration { lock_timeout }` — not after the default 10 s.
#[tokio::test]
async fn lock_timeout_from_the_flag_and_the_env_reaches_the_lock_wait() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let bound = dev.url_with_search_path("public");
    let mut holder = strata_driver::connect(&bound.parse().unwrap())
        .await
        .unwrap();
    holder
        .lock("atlas_migrate_diff", std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let t = setup("CREATE TABLE users (id bigint PRIMARY KEY);\n");
    let d = t.path();
    std::fs::write(
        d.join("atlas.hcl"),
        format!(
            "env \"local\" {{\n  src = \"file://schema.sql\"\n  dev = \"{bound}\"\n  migration {{\n    \
             lock_timeout = \"3s\"\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let timed = |args: &[&str]| {
        let start = std::time::Instant::now();
        let err = fails(d, args);
        (start.elapsed(), err)
    };
    let (waited, err) = timed(&[
        "migrate",
        "diff",
        "--to",
        "file://schema.sql",
        "--dev-url",
        &bound,
        "--lock-timeout",
        "1s",
    ]);
    assert!(err.contains("lock is held by other session"), "{err}");
    assert!(
        waited >= std::time::Duration::from_millis(900)
            && waited < std::time::Duration::from_secs(6),
        "--lock-timeout 1s waited {waited:?}"
    );
    let (waited, err) = timed(&["migrate", "diff", "--env", "local"]);
    assert!(err.contains("lock is held by other session"), "{err}");
    assert!(
        waited >= std::time::Duration::from_millis(2900)
            && waited < std::time::Duration::from_secs(8),
        "migration.lock_timeout 3s waited {waited:?}"
    );
    assert!(!d.join("migrations").exists() || sql_files(d).is_empty());
    // Released, the same command writes its file.
    holder.unlock("atlas_migrate_diff").await.unwrap();
    holder.close().await.unwrap();
    ok(d, &["migrate", "diff", "--env", "local"]);
    assert_eq!(sql_files(d).len(), 1);
}

/// `-s/--schema` limits a database-wide dev URL to the named schemas: the other schema of the desired state is
/// left out of the file.
#[tokio::test]
async fn schema_flag_limits_a_realm_diff() {
    let Some(dev) = strata_driver::testing::postgres().await else {
        return;
    };
    let t = setup(
        "CREATE SCHEMA app;\nCREATE TABLE app.users (id bigint PRIMARY KEY);\n\
         CREATE SCHEMA other;\nCREATE TABLE other.logs (id bigint PRIMARY KEY);\n",
    );
    let d = t.path();
    let args = |s: &'static str| {
        vec![
            "migrate".to_string(),
            "diff".into(),
            "--to".into(),
            "file://schema.sql".into(),
            "--dev-url".into(),
            dev.url.clone(),
            s.into(),
            "app".into(),
        ]
    };
    let a = args("-s");
    ok(d, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let body = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0])).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Add new schema named "app"
    CREATE SCHEMA "app";
    -- Create "users" table
    CREATE TABLE "app"."users" ("id" bigint NOT NULL, PRIMARY KEY ("id"));
    "#);
    let a = args("--schema");
    let synced = ok(d, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        synced.starts_with("The migration directory is synced"),
        "{synced}"
    );
    // Without the flag the other schema is a change (a second later: files are named by the second).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(
        d,
        &[
            "migrate",
            "diff",
            "--to",
            "file://schema.sql",
            "--dev-url",
            &dev.url,
        ],
    );
    let files = sql_files(d);
    assert_eq!(files.len(), 2);
    let body = std::fs::read_to_string(d.join("migrations").join(&files[1])).unwrap();
    assert!(body.contains("CREATE TABLE \"other\".\"logs\""), "{body}");
    assert!(!body.contains("\"app\""), "{body}");
}

/// MariaDB/MySQL with a database-wide dev URL (no database in it): every statement names its database and the
/// database is created, as Atlas writes it; a second run is synced.
#[tokio::test]
async fn mysql_realm_dev_url_writes_qualified_statements() {
    let Some(mut dev) = strata_driver::testing::mysql().await else {
        return;
    };
    // The realm the test's user sees must be empty: its own (empty) database goes, a second name is granted.
    let app = format!("{}_app", dev.name);
    dev.mysql_grant_schema(&app).await;
    let mut c = strata_driver::connect(&dev.url.parse().unwrap())
        .await
        .unwrap();
    c.execute(&format!("DROP DATABASE `{}`", dev.name))
        .await
        .unwrap();
    c.close().await.unwrap();
    let realm = dev.url_unbound();
    let t = setup(&format!(
        "CREATE DATABASE `{app}`;\n\
         CREATE TABLE `{app}`.users (id bigint PRIMARY KEY, name varchar(50) NOT NULL);\n\
         CREATE TABLE `{app}`.posts (id bigint PRIMARY KEY, user_id bigint NOT NULL, \
         CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES `{app}`.users (id));\n"
    ));
    let d = t.path();
    let args = [
        "migrate",
        "diff",
        "--to",
        "file://schema.sql",
        "--dev-url",
        &realm,
    ];
    ok(d, &args);
    let body = std::fs::read_to_string(d.join("migrations").join(&sql_files(d)[0]))
        .unwrap()
        .replace(&app, "app");
    insta::assert_snapshot!(body, @r#"
    -- Add new schema named "app"
    CREATE DATABASE `app` CHARSET utf8mb4 COLLATE utf8mb4_general_ci;
    -- Create "users" table
    CREATE TABLE `app`.`users` (`id` bigint NOT NULL, `name` varchar(50) NOT NULL, PRIMARY KEY (`id`));
    -- Create "posts" table
    CREATE TABLE `app`.`posts` (`id` bigint NOT NULL, `user_id` bigint NOT NULL, PRIMARY KEY (`id`), INDEX `posts_user` (`user_id`), CONSTRAINT `posts_user` FOREIGN KEY (`user_id`) REFERENCES `app`.`users` (`id`) ON UPDATE RESTRICT ON DELETE RESTRICT);
    "#);
    let synced = ok(d, &args);
    assert!(
        synced.starts_with("The migration directory is synced"),
        "{synced}"
    );
}
