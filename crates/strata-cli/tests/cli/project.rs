//! `atlas.hcl` project files (`--config`, `--env`, `--var`) driving `migrate` and `schema` commands against real
//! SQLite files, PostgreSQL and MariaDB databases (each test its own).

use std::path::Path;

use tempfile::TempDir;

use crate::common::strata;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = strata(dir);
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = c.args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr)
            .unwrap()
            .replace("\x1b[1;31m", "")
            .replace("\x1b[0m", ""),
    }
}

fn ok(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> String {
    let r = run(dir, envs, args);
    assert_eq!(
        r.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stdout
}

fn fails(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> String {
    let r = run(dir, envs, args);
    assert_eq!(
        r.code, 1,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stderr
}

/// A project folder: `migrations/` (one file, hashed), `users.sql` (a desired state) and `atlas.hcl`.
fn project(atlas_hcl: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/1_init.sql"),
        "CREATE TABLE t1 (id int NOT NULL);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users.sql"),
        "CREATE TABLE users (id int NOT NULL, name varchar(100) NOT NULL, PRIMARY KEY (id));\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("atlas.hcl"), atlas_hcl).unwrap();
    ok(dir.path(), &[], &["migrate", "hash"]);
    dir
}

/// Two envs, variables (one required, given with --var), locals and getenv.
const TWO_ENVS: &str = r#"
variable "dir" {
  type    = string
  default = "migrations"
}

variable "desired" {
  type = string
}

locals {
  versioned = getenv("VERSIONED_URL")
}

env "versioned" {
  url = local.versioned
  migration {
    dir = "file://${var.dir}"
  }
  format {
    migrate {
      status = "{{ json . }}"
    }
  }
}

env "declarative" {
  url = getenv("DECLARATIVE_URL")
  dev = getenv("DEV_URL")
  src = "file://${var.desired}.sql"
}
"#;

/// The two envs drive `migrate apply`, `migrate status` and `schema apply`.
fn two_envs(versioned: &str, declarative: &str, dev: Option<&str>) {
    let p = project(TWO_ENVS);
    let dir = p.path();
    let mut envs = vec![
        ("VERSIONED_URL", versioned),
        ("DECLARATIVE_URL", declarative),
    ];
    if let Some(dev) = dev {
        envs.push(("DEV_URL", dev));
    }
    let envs = envs.as_slice();
    // The required variable, missing.
    assert_eq!(
        fails(dir, envs, &["migrate", "status", "--env", "versioned"]),
        "Error: missing value for required variable \"desired\"\n"
    );
    let out = ok(
        dir,
        envs,
        &[
            "migrate",
            "apply",
            "--env",
            "versioned",
            "--var",
            "desired=users",
        ],
    );
    assert!(
        out.contains("Migrating to version 1 (1 migrations in total)"),
        "{out}"
    );
    // The env's format (JSON) is used for status.
    let out = ok(
        dir,
        envs,
        &[
            "migrate",
            "status",
            "--env",
            "versioned",
            "--var",
            "desired=users",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Status"], "OK");
    assert_eq!(v["Current"], "1");
    // A flag wins over the env's format.
    let out = ok(
        dir,
        envs,
        &[
            "migrate",
            "status",
            "--env",
            "versioned",
            "--var",
            "desired=users",
            "--format",
            "text",
        ],
    );
    assert!(out.starts_with("Migration Status: OK\n"), "{out}");
    let args = [
        "schema",
        "apply",
        "--env",
        "declarative",
        "--var",
        "desired=users",
        "--auto-approve",
    ];
    let out = ok(dir, envs, &args);
    assert!(out.contains("CREATE TABLE"), "{out}");
    assert!(out.contains("users"), "{out}");
    assert_eq!(
        ok(dir, envs, &args),
        "Schema is synced, no changes to be made\n"
    );
    // `migrate diff` in the declarative env: from what the directory builds (t1) to its `src` (users), on its
    // `dev` (SQLite: an in-memory database given as a flag, the env has none there).
    let mut args = vec![
        "migrate",
        "diff",
        "to_users",
        "--env",
        "declarative",
        "--var",
        "desired=users",
    ];
    if dev.is_none() {
        args.extend(["--dev-url", "sqlite://dev?mode=memory"]);
    }
    assert_eq!(ok(dir, envs, &args), "");
    let mut written: Vec<_> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_to_users.sql"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let body = std::fs::read_to_string(dir.join("migrations").join(written.remove(0))).unwrap();
    assert!(body.contains("-- Create \"users\" table"), "{body}");
    assert!(body.contains("-- Drop \"t1\" table"), "{body}");
    // The versioned env applies it; the directory now builds the desired state.
    let out = ok(
        dir,
        envs,
        &[
            "migrate",
            "apply",
            "--env",
            "versioned",
            "--var",
            "desired=users",
        ],
    );
    assert!(out.contains("(1 migrations in total)"), "{out}");
    let out = ok(dir, envs, &args);
    assert!(
        out.starts_with("The migration directory is synced"),
        "{out}"
    );
}

#[test]
fn two_envs_drive_migrate_and_schema_apply_on_sqlite() {
    let a = tempfile::tempdir().unwrap();
    let versioned = format!("sqlite://{}/v.db", a.path().display());
    let declarative = format!("sqlite://{}/d.db", a.path().display());
    two_envs(&versioned, &declarative, None);
}

#[test]
fn two_envs_drive_migrate_and_schema_apply_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (Some(v), Some(d), Some(dev)) = (
        rt.block_on(strata_driver::testing::postgres()),
        rt.block_on(strata_driver::testing::postgres()),
        rt.block_on(strata_driver::testing::postgres()),
    ) else {
        return;
    };
    two_envs(
        &v.url,
        &d.url_with_search_path("public"),
        Some(&dev.url_with_search_path("public")),
    );
}

#[test]
fn two_envs_drive_migrate_and_schema_apply_on_mariadb() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (Some(v), Some(d), Some(dev)) = (
        rt.block_on(strata_driver::testing::mysql()),
        rt.block_on(strata_driver::testing::mysql()),
        rt.block_on(strata_driver::testing::mysql()),
    ) else {
        return;
    };
    two_envs(&v.url, &d.url, Some(&dev.url));
}

#[test]
fn for_each_applies_every_instance() {
    let p = project(
        r#"
variable "tenants" {
  type = list(string)
}

env "tenants" {
  for_each = toset(var.tenants)
  url      = "sqlite://${each.value}.db"
  migration {
    dir = "file://migrations"
  }
}
"#,
    );
    let dir = p.path();
    let out = ok(
        dir,
        &[],
        &[
            "migrate",
            "apply",
            "--env",
            "tenants",
            "--var",
            "tenants=a,tenants=b",
        ],
    );
    assert_eq!(
        out.matches("Migrating to version 1 (1 migrations in total)")
            .count(),
        2,
        "{out}"
    );
    for db in ["a.db", "b.db"] {
        let out = ok(
            dir,
            &[],
            &["migrate", "status", "--url", &format!("sqlite://{db}")],
        );
        assert!(out.contains("-- Current Version: 1"), "{db}: {out}");
    }
    // One report per instance for status too; schema apply refuses several databases.
    let out = ok(
        dir,
        &[],
        &[
            "migrate",
            "status",
            "--env",
            "tenants",
            "--var",
            "tenants=a,tenants=b",
        ],
    );
    assert_eq!(out.matches("Migration Status: OK").count(), 2, "{out}");
    assert_eq!(
        fails(
            dir,
            &[],
            &[
                "schema",
                "apply",
                "--env",
                "tenants",
                "--var",
                "tenants=a",
                "--to",
                "file://users.sql",
                "--auto-approve",
            ]
        ),
        "Error: multi-environment \"tenants\" is not supported\n"
    );
}

#[test]
fn an_unknown_attribute_is_refused_with_its_line() {
    let p = project(
        "env \"local\" {\n  url = \"sqlite://x.db\"\n  migration {\n    dir = \"file://migrations\"\n    revision_schema = \"x\"\n  }\n}\n",
    );
    let err = fails(p.path(), &[], &["migrate", "apply", "--env", "local"]);
    insta::assert_snapshot!(err, @r#"Error: atlas.hcl:5: unsupported argument "revision_schema" in migration block; expected one of: dir, format, baseline, exec_order, lock_timeout, revisions_schema, exclude"#);
    assert!(!p.path().join("x.db").exists(), "nothing ran");
}

#[test]
fn external_schema_program_output_is_the_desired_state() {
    let p = project(
        r#"
data "external_schema" "orm" {
  program = ["sh", "-c", "echo 'CREATE TABLE pets (id integer NOT NULL, name text NOT NULL);'"]
}

env "local" {
  url = "sqlite://app.db"
  src = data.external_schema.orm.url
}

env "both" {
  url = "sqlite://both.db"
  src = ["file://users.sql", data.external_schema.orm.url]
}
"#,
    );
    let dir = p.path();
    let out = ok(
        dir,
        &[],
        &["schema", "apply", "--env", "local", "--auto-approve"],
    );
    insta::assert_snapshot!(out, @r#"
    -- Planned Changes:
    -- Create "pets" table
    CREATE TABLE `pets` (`id` integer NOT NULL, `name` text NOT NULL);
    "#);
    // The same program's SQL through env://src on schema diff: synced.
    assert_eq!(
        ok(
            dir,
            &[],
            &[
                "schema",
                "diff",
                "--env",
                "local",
                "--from",
                "env://url",
                "--to",
                "env://src"
            ]
        ),
        "Schemas are synced, no changes to be made.\n"
    );
    // Several SQL sources run in order as one desired state.
    let out = ok(
        dir,
        &[],
        &["schema", "apply", "--env", "both", "--auto-approve"],
    );
    assert!(
        out.contains("CREATE TABLE `users`") && out.contains("CREATE TABLE `pets`"),
        "{out}"
    );
}

#[test]
fn config_and_env_errors() {
    let p = project("env \"local\" {\n  url = \"sqlite://x.db\"\n}\n");
    let dir = p.path();
    let cases: &[&[&str]] = &[
        &["migrate", "status", "--env", "nope"],
        &["migrate", "status", "--env", "local", "-c", "atlas.hcl"],
        &[
            "migrate",
            "status",
            "--env",
            "local",
            "-c",
            "file://missing.hcl",
        ],
        &["migrate", "status", "--env", "local", "--var", "oops"],
        &["migrate", "status", "--url", "env://url"],
        &[
            "schema",
            "diff",
            "--env",
            "local",
            "--from",
            "env://nope",
            "--to",
            "env://url",
        ],
        &["schema", "apply", "--env", "local", "--auto-approve"],
    ];
    let mut out = String::new();
    for args in cases {
        out.push_str(&format!("{}\n  {}", args.join(" "), fails(dir, &[], args)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn env_credentials_are_never_printed() {
    let p = project(
        "env \"prod\" {\n  url = \"postgres://app:Sup3rSecret@127.0.0.1:1/x?sslmode=disable\"\n  migration {\n    dir = \"file://migrations\"\n  }\n}\n",
    );
    for args in [
        &["migrate", "apply", "--env", "prod"][..],
        &["migrate", "status", "--env", "prod"][..],
        &["schema", "inspect", "--env", "prod"][..],
        &["schema", "clean", "--env", "prod", "--auto-approve"][..],
    ] {
        let r = run(p.path(), &[], args);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(
            !r.stderr.contains("Sup3rSecret") && !r.stdout.contains("Sup3rSecret"),
            "{args:?}: {}{}",
            r.stdout,
            r.stderr
        );
    }
}

#[test]
fn without_env_the_project_file_is_not_read() {
    // A broken atlas.hcl does not matter to a command without --env.
    let p = project("this is not hcl {{{\n");
    let out = ok(p.path(), &[], &["migrate", "validate"]);
    assert_eq!(out, "");
}

#[test]
fn global_diff_skip_leaves_drops_out_of_schema_apply() {
    let p = project(
        r#"
diff {
  skip {
    drop_table = true
  }
}

env "local" {
  url = "sqlite://app.db"
  src = ["file://users.sql"]
}

env "strict" {
  url = "sqlite://app.db"
  src = "file://users.sql"
  diff {
    skip {
      add_table = true
    }
  }
}
"#,
    );
    let dir = p.path();
    // t1 exists in the database but not in the desired state.
    ok(dir, &[], &["migrate", "apply", "--url", "sqlite://app.db"]);
    let out = ok(
        dir,
        &[],
        &["schema", "apply", "--env", "local", "--dry-run"],
    );
    assert!(out.contains("CREATE TABLE `users`"), "{out}");
    assert!(!out.contains("DROP TABLE"), "{out}");
    // The env's own skip block replaces the global one: the drop is planned, the new table is not.
    let out = ok(
        dir,
        &[],
        &["schema", "apply", "--env", "strict", "--dry-run"],
    );
    assert!(out.contains("DROP TABLE `t1`"), "{out}");
    assert!(!out.contains("CREATE TABLE `users`"), "{out}");
}

#[test]
fn flags_win_over_env_values() {
    let p = project(
        r#"
env "local" {
  url = "sqlite://env.db"
  migration {
    dir        = "file://nowhere"
    exec_order = NON_LINEAR
  }
  format {
    migrate {
      apply = "{{ json . }}"
    }
  }
}
"#,
    );
    let dir = p.path();
    // The env's dir does not exist: the flag's is used, and the env's url and JSON format still apply.
    let out = ok(
        dir,
        &[],
        &[
            "migrate",
            "apply",
            "--env",
            "local",
            "--dir",
            "file://migrations",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Target"], "1", "{out}");
    assert!(dir.join("env.db").exists());
    // STRATA_DIR counts as a flag too; --url wins over the env's url.
    let out = ok(
        dir,
        &[("STRATA_DIR", "file://migrations")],
        &[
            "migrate",
            "apply",
            "--env",
            "local",
            "--url",
            "sqlite://flag.db",
            "--format",
            "text",
        ],
    );
    assert!(out.contains("Migrating to version 1"), "{out}");
    assert!(dir.join("flag.db").exists());
    // Without the flag the env's dir is used.
    let err = fails(dir, &[], &["migrate", "status", "--env", "local"]);
    assert!(err.contains("nowhere"), "{err}");
    // --env means nothing to the registry and the operator.
    let err = fails(dir, &[], &["operator", "crds", "--env", "local"]);
    assert!(
        err.contains("--env applies to migrate and schema commands only"),
        "{err}"
    );
}

/// `data "sql"` reads the tenant list from a real database; `for_each` applies the directory to each tenant.
fn data_sql_tenants(url: &str, query: &str) {
    let p = project(&format!(
        r#"
data "sql" "tenants" {{
  url   = getenv("TENANTS_URL")
  query = "{query}"
  args  = ["t_%"]
}}

env "tenants" {{
  for_each = toset(data.sql.tenants.values)
  url      = "sqlite://${{each.value}}.db"
  migration {{
    dir = "file://migrations"
  }}
}}
"#
    ));
    let dir = p.path();
    let out = ok(
        dir,
        &[("TENANTS_URL", url)],
        &["migrate", "apply", "--env", "tenants"],
    );
    assert_eq!(out.matches("Migrating to version 1").count(), 2, "{out}");
    assert!(dir.join("t_a.db").exists() && dir.join("t_b.db").exists());
    assert!(!dir.join("other.db").exists());
}

#[test]
fn data_sql_drives_for_each_from_sqlite() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("tenants.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE tenants (name text); INSERT INTO tenants VALUES ('t_a'), ('t_b'), ('other');",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    });
    data_sql_tenants(
        &format!("sqlite://{}", path.display()),
        "SELECT name FROM tenants WHERE name LIKE ? ORDER BY name",
    );
}

#[test]
fn data_sql_drives_for_each_from_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    rt.block_on(db.admin_execute(
        "CREATE TABLE public.tenants (name text); INSERT INTO public.tenants VALUES ('t_a'), ('t_b'), ('other');",
    ));
    data_sql_tenants(
        &db.url,
        "SELECT name FROM public.tenants WHERE name LIKE $1 ORDER BY name",
    );
}

#[test]
fn data_sql_errors_never_print_credentials() {
    let p = project(
        "data \"sql\" \"t\" {\n  url   = \"postgres://app:Sup3rSecret@127.0.0.1:1/x?sslmode=disable\"\n  query = \"SELECT 1\"\n}\nenv \"e\" {\n  url = data.sql.t.value\n}\n",
    );
    let err = fails(p.path(), &[], &["migrate", "status", "--env", "e"]);
    assert!(
        err.starts_with("Error: atlas.hcl:1: data \"sql\" \"t\": "),
        "{err}"
    );
    assert!(!err.contains("Sup3rSecret"), "{err}");
}

#[test]
fn data_sql_drives_for_each_from_mariadb() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::mysql()) else {
        return;
    };
    rt.block_on(db.admin_execute(&format!(
        "CREATE TABLE `{0}`.tenants (name text); INSERT INTO `{0}`.tenants VALUES ('t_a'), ('t_b'), ('other');",
        db.name
    )));
    data_sql_tenants(
        &db.url,
        "SELECT name FROM tenants WHERE name LIKE ? ORDER BY name",
    );
}

/// An env's extra attribute is the HCL schema file's input variable (`tenant = each.value` in Atlas's docs), and
/// without an env `--var` is.
#[test]
fn env_attributes_and_vars_are_hcl_input_variables() {
    let p = project(
        r#"
env "local" {
  url    = "sqlite://tenant.db"
  src    = "file://schema.hcl"
  prefix = "acme"
}
"#,
    );
    let dir = p.path();
    std::fs::write(
        dir.join("schema.hcl"),
        r#"variable "prefix" {
  type = string
}
schema "main" {
}
table "users" {
  name   = "${var.prefix}_users"
  schema = schema.main
  column "id" {
    type = int
  }
}
"#,
    )
    .unwrap();
    ok(
        dir,
        &[],
        &["schema", "apply", "--env", "local", "--auto-approve"],
    );
    let hcl = ok(dir, &[], &["schema", "inspect", "-u", "sqlite://tenant.db"]);
    assert!(hcl.contains("table \"acme_users\""), "{hcl}");

    ok(
        dir,
        &[],
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://other.db",
            "--to",
            "file://schema.hcl",
            "--var",
            "prefix=beta",
            "--auto-approve",
        ],
    );
    let hcl = ok(dir, &[], &["schema", "inspect", "-u", "sqlite://other.db"]);
    assert!(hcl.contains("table \"beta_users\""), "{hcl}");
    let err = fails(
        dir,
        &[],
        &[
            "schema",
            "apply",
            "-u",
            "sqlite://third.db",
            "--to",
            "file://schema.hcl",
            "--auto-approve",
        ],
    );
    assert!(err.contains("prefix"), "{err}");
}

/// `data "external_schema"` as the `src` of an env drives `migrate diff`: the program's SQL is the desired
/// state, the file creates its table, and a second run is synced.
#[test]
fn external_schema_drives_migrate_diff() {
    let p = project(
        r#"
data "external_schema" "orm" {
  program = ["sh", "-c", "echo 'CREATE TABLE t1 (id int NOT NULL); CREATE TABLE pets (id integer NOT NULL, name text NOT NULL);'"]
}

env "local" {
  src = data.external_schema.orm.url
  dev = "sqlite://dev?mode=memory"
}
"#,
    );
    let dir = p.path();
    assert_eq!(
        ok(dir, &[], &["migrate", "diff", "pets", "--env", "local"]),
        ""
    );
    let written: Vec<_> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_pets.sql"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let body = std::fs::read_to_string(dir.join("migrations").join(&written[0])).unwrap();
    insta::assert_snapshot!(body, @r#"
    -- Create "pets" table
    CREATE TABLE `pets` (`id` integer NOT NULL, `name` text NOT NULL);
    "#);
    let out = ok(dir, &[], &["migrate", "diff", "--env", "local"]);
    assert!(
        out.starts_with("The migration directory is synced"),
        "{out}"
    );
}

/// The env's `migration { baseline }` and `migration { exec_order }` take effect in `migrate apply`: the baseline
/// version is not run on a database that already has its table (it would fail), and a file older than the last
/// applied one runs under `NON_LINEAR` where the default order refuses it.
#[test]
fn migration_baseline_and_exec_order_take_effect() {
    let p = project(
        r#"
env "base" {
  url = "sqlite://base.db"
  migration {
    baseline = "1"
  }
}

env "linear" {
  url = "sqlite://order.db"
}

env "nonlinear" {
  url = "sqlite://order.db"
  migration {
    exec_order = NON_LINEAR
  }
}
"#,
    );
    let dir = p.path();
    std::fs::write(
        dir.join("migrations/3_third.sql"),
        "CREATE TABLE t3 (id int NOT NULL);\n",
    )
    .unwrap();
    ok(dir, &[], &["migrate", "hash"]);
    // Two databases that already have t1 (made by hand): file 1 would fail on them.
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in ["base.db", "control.db"] {
        rt.block_on(async {
            use sqlx::Connection as _;
            let mut c = sqlx::SqliteConnection::connect(&format!(
                "sqlite://{}?mode=rwc",
                dir.join(db).display()
            ))
            .await
            .unwrap();
            sqlx::raw_sql("CREATE TABLE t1 (id int NOT NULL)")
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        });
    }
    let err = fails(
        dir,
        &[],
        &[
            "migrate",
            "apply",
            "--url",
            "sqlite://control.db",
            "--allow-dirty",
        ],
    );
    assert!(err.contains("already exists"), "{err}");
    // The env's baseline: version 1 counts as applied, only file 3 runs.
    let out = ok(dir, &[], &["migrate", "apply", "--env", "base"]);
    assert!(out.contains("Migrating to version 3 from 1"), "{out}");
    assert!(!out.contains("1_init.sql"), "{out}");
    let out = ok(dir, &[], &["migrate", "status", "--env", "base"]);
    assert!(out.contains("Migration Status: OK"), "{out}");

    // Files 1 and 3 applied; then file 2 appears.
    ok(dir, &[], &["migrate", "apply", "--env", "linear"]);
    std::fs::write(
        dir.join("migrations/2_second.sql"),
        "CREATE TABLE t2 (id int NOT NULL);\n",
    )
    .unwrap();
    ok(dir, &[], &["migrate", "hash"]);
    let err = fails(dir, &[], &["migrate", "apply", "--env", "linear"]);
    assert!(err.contains("2_second.sql"), "{err}");
    let out = ok(dir, &[], &["migrate", "apply", "--env", "nonlinear"]);
    assert!(
        out.contains("2_second.sql") || out.contains("version 2"),
        "{out}"
    );
}

/// PostgreSQL: the env's `migration { revisions_schema }` puts `migrate apply`'s revisions table in that schema;
/// the env's `schemas` and `exclude` limit `schema apply` (a schema outside `schemas` and an excluded table are
/// neither diffed nor dropped, where an env without them plans both drops).
#[tokio::test]
async fn revisions_schema_schemas_and_exclude_take_effect_on_postgres() {
    let (Some(target), Some(dev)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let p = project(&format!(
        r#"
env "versioned" {{
  url = "{url}"
  migration {{
    revisions_schema = "audit"
  }}
}}

env "scoped" {{
  url     = "{url}"
  dev     = "{dev}"
  src     = "file://desired.sql"
  schemas = ["app"]
  exclude = ["app.legacy"]
}}

env "all" {{
  url = "{url}"
  dev = "{dev}"
  src = "file://desired.sql"
}}
"#,
        url = target.url,
        dev = dev.url,
    ));
    let dir = p.path();
    let query = |sql: &str| {
        let url = target.url.clone();
        let sql = sql.to_owned();
        async move {
            use sqlx::Connection as _;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
            n
        }
    };
    let revisions_in = |schema: &str| {
        format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}' \
             AND table_name = 'atlas_schema_revisions'"
        )
    };
    ok(dir, &[], &["migrate", "apply", "--env", "versioned"]);
    assert_eq!(query(&revisions_in("audit")).await, 1);
    assert_eq!(query(&revisions_in("public")).await, 0);

    {
        use sqlx::Connection as _;
        let mut c = sqlx::PgConnection::connect(&target.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE SCHEMA app; CREATE TABLE app.keep (id int NOT NULL); \
             CREATE TABLE app.legacy (id int NOT NULL); CREATE SCHEMA other; \
             CREATE TABLE other.x (id int NOT NULL);",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    std::fs::write(
        dir.join("desired.sql"),
        "CREATE SCHEMA app;\nCREATE TABLE app.keep (id int NOT NULL);\n\
         CREATE TABLE app.added (id int NOT NULL);\n",
    )
    .unwrap();
    // Control: without `schemas` and `exclude` the plan drops app.legacy and the other schema.
    let all = ok(
        dir,
        &[],
        &[
            "schema",
            "diff",
            "--env",
            "all",
            "--from",
            "env://url",
            "--to",
            "env://src",
        ],
    );
    assert!(all.contains("DROP TABLE \"app\".\"legacy\""), "{all}");
    assert!(all.contains("DROP SCHEMA \"other\""), "{all}");
    let out = ok(
        dir,
        &[],
        &["schema", "apply", "--env", "scoped", "--auto-approve"],
    );
    insta::assert_snapshot!(out, @r#"
    -- Planned Changes:
    -- Create "added" table
    CREATE TABLE "app"."added" ("id" integer NOT NULL);
    "#);
    let tables =
        "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('app', 'other')";
    assert_eq!(query(tables).await, 4, "keep, legacy, added, x");
    assert_eq!(
        query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'app' AND table_name = 'added'")
            .await,
        1
    );
    let synced = ok(
        dir,
        &[],
        &["schema", "apply", "--env", "scoped", "--auto-approve"],
    );
    assert_eq!(synced, "Schema is synced, no changes to be made\n");
}
