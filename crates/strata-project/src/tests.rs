//! Evaluation and error tests: evaluated envs and every error as insta snapshots.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use super::*;

/// A host with a fixed environment, files and programs; it records the programs it ran.
#[derive(Default)]
struct TestHost {
    env: HashMap<String, String>,
    files: HashMap<String, String>,
    programs: HashMap<String, Result<String, String>>,
    ran: RefCell<Vec<String>>,
}

impl Host for TestHost {
    fn getenv(&self, key: &str) -> Option<String> {
        self.env.get(key).cloned()
    }
    fn read_file(&self, path: &Path) -> Result<String, String> {
        self.files
            .get(&path.display().to_string())
            .cloned()
            .ok_or_else(|| "no such file".to_owned())
    }
    fn query(
        &self,
        url: &str,
        query: &str,
        args: &[String],
    ) -> Result<Vec<Option<String>>, String> {
        self.ran
            .borrow_mut()
            .push(format!("query {url}: {query} {args:?}"));
        match query {
            "SELECT name FROM tenants WHERE name LIKE ?" => {
                Ok(vec![Some("t_a".into()), None, Some("t_b".into())])
            }
            _ => Err("no such table: nope".into()),
        }
    }
    fn list_dir(&self, path: &Path) -> Result<Vec<String>, String> {
        let prefix = format!("{}/", path.display());
        let names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err("no such folder".into());
        }
        Ok(names)
    }
    fn run_program(&self, argv: &[String], dir: &Path) -> Result<String, String> {
        let line = format!("{} (in {})", argv.join(" "), dir.display());
        self.ran.borrow_mut().push(line);
        self.programs
            .get(&argv.join(" "))
            .cloned()
            .unwrap_or_else(|| Err("not found".to_owned()))
    }
}

fn file(text: &str) -> ProjectFile {
    ProjectFile {
        name: "atlas.hcl".into(),
        dir: "proj".into(),
        text: text.into(),
    }
}

fn host() -> TestHost {
    let mut h = TestHost::default();
    h.env.insert("DB_USER".into(), "app".into());
    h.env.insert("DB_PASS".into(), "s3cret".into());
    h.files
        .insert("proj/url.txt".into(), "sqlite://from-file.db".into());
    for f in ["b.sql", "a.sql", "notes.txt"] {
        h.files.insert(format!("proj/schema/{f}"), String::new());
    }
    h.programs.insert(
        "sh -c echo 'CREATE TABLE t (id int);'".into(),
        Ok("CREATE TABLE t (id int);\n".into()),
    );
    h.programs.insert(
        "printf postgres://h/x".into(),
        Ok("postgres://h/x\n".into()),
    );
    h.programs
        .insert("false".into(), Err("exit status: 1: boom".into()));
    h
}

fn load_env(text: &str, env: &str, vars: &[&str]) -> Result<Project, ProjectError> {
    load(&file(text), env, &InputVars::parse(vars).unwrap(), &host())
}

fn err(text: &str, env: &str, vars: &[&str]) -> String {
    match load_env(text, env, vars) {
        Ok(p) => panic!("expected an error, got {p:#?}"),
        Err(e) => e.to_string(),
    }
}

const TWO_ENVS: &str = r#"
variable "db" {
  type    = string
  default = "app"
}

variable "port" {
  type    = number
  default = 5432
}

locals {
  base = "postgres://${getenv("DB_USER")}:${getenv("DB_PASS")}@localhost:${var.port}"
}

lint {
  latest = 3
  destructive {
    error = false
  }
}

diff {
  skip {
    drop_schema = true
  }
}

env "local" {
  url     = "${local.base}/${var.db}?sslmode=disable"
  dev     = "postgres://localhost/dev?sslmode=disable"
  src     = ["file://schema.sql"]
  schemas = ["public"]
  exclude = ["atlas_schema_revisions", "*.tmp_*"]
  tenant  = "acme"
  shards  = 4
  migration {
    dir              = "file://migrations"
    format           = atlas
    baseline         = "20240101000000"
    exec_order       = LINEAR_SKIP
    lock_timeout     = "30s"
    revisions_schema = "atlas"
  }
  diff {
    skip {
      drop_table = true
    }
    concurrent_index {
      create = true
    }
  }
  lint {
    review = WARNING
    git {
      base = "main"
    }
  }
  format {
    migrate {
      apply  = "{{ json . }}"
      status = "{{ json . }}"
    }
    schema {
      inspect = "{{ sql . }}"
    }
  }
}

env "prod" {
  url = local.base
  schema {
    src = "file://schema.hcl"
  }
}
"#;

#[test]
fn two_envs_with_variables_locals_and_getenv() {
    let p = load_env(TWO_ENVS, "local", &["db=shop"]).unwrap();
    insta::assert_debug_snapshot!(p);
}

#[test]
fn the_other_env_inherits_the_global_blocks() {
    let p = load_env(TWO_ENVS, "prod", &["port=6543"]).unwrap();
    let env = p.single().unwrap();
    assert_eq!(
        env.url.as_deref(),
        Some("postgres://app:s3cret@localhost:6543")
    );
    assert_eq!(env.src, [SchemaSrc::Url("file://schema.hcl".into())]);
    assert_eq!(env.lint.latest, Some(3));
    assert!(env.diff.skip.contains(&SkipChange::DropSchema));
    assert_eq!(p.vars["port"], Value::from(6543));
}

#[test]
fn only_the_selected_env_is_evaluated() {
    // The other env's broken attribute and its program are never touched.
    let text = r#"
data "external" "never" {
  program = ["false"]
}
env "a" {
  url = "sqlite://a.db"
}
env "b" {
  url = data.external.never
  bogus_block {
  }
}
"#;
    let h = host();
    let p = load(&file(text), "a", &InputVars::default(), &h).unwrap();
    assert_eq!(p.single().unwrap().url.as_deref(), Some("sqlite://a.db"));
    assert!(h.ran.borrow().is_empty());
}

#[test]
fn for_each_makes_one_env_per_item() {
    let text = r#"
variable "tenants" {
  type = list(string)
}
env "tenants" {
  for_each = toset(var.tenants)
  url      = "sqlite://${each.value}.db"
  tenant   = each.key
}
"#;
    let p = load_env(text, "tenants", &["tenants=a,tenants=b", "tenants=a"]).unwrap();
    assert!(p.for_each);
    let urls: Vec<_> = p.envs.iter().map(|e| e.url.clone().unwrap()).collect();
    assert_eq!(urls, ["sqlite://a.db", "sqlite://b.db"]);
    assert_eq!(p.envs[1].extra["tenant"], Value::from("b"));
    assert_eq!(p.envs[1].each_key.as_deref(), Some("b"));
    assert_eq!(
        p.single().unwrap_err().to_string(),
        "multi-environment \"tenants\" is not supported"
    );
}

#[test]
fn data_sql_values_drive_for_each() {
    let text = r#"
data "sql" "tenants" {
  url   = "sqlite://tenants.db"
  query = "SELECT name FROM tenants WHERE name LIKE ?"
  args  = ["t_%"]
}
env "tenants" {
  for_each = toset([for v in data.sql.tenants.values : v if v != null])
  url      = "sqlite://${each.value}.db"
  count    = data.sql.tenants.count
  first    = data.sql.tenants.value
}
"#;
    let h = host();
    let p = load(&file(text), "tenants", &InputVars::default(), &h).unwrap();
    let urls: Vec<_> = p.envs.iter().map(|e| e.url.clone().unwrap()).collect();
    assert_eq!(urls, ["sqlite://t_a.db", "sqlite://t_b.db"]);
    assert_eq!(p.envs[0].extra["count"], Value::from(3u64));
    assert_eq!(p.envs[0].extra["first"], Value::from("t_a"));
    // The query ran once, although three attributes of two instances read it.
    assert_eq!(h.ran.borrow().len(), 1, "{:?}", h.ran.borrow());
}

#[test]
fn unlabeled_env_takes_its_name_from_atlas_env() {
    let text = r#"
env {
  name = atlas.env
  url  = "sqlite://${atlas.env}.db"
}
"#;
    let p = load_env(text, "staging", &[]).unwrap();
    let env = p.single().unwrap();
    assert_eq!(env.name, "staging");
    assert_eq!(env.url.as_deref(), Some("sqlite://staging.db"));
}

#[test]
fn external_schema_runs_its_program_once_and_becomes_sql() {
    let text = r#"
data "external_schema" "app" {
  program     = ["sh", "-c", "echo 'CREATE TABLE t (id int);'"]
  working_dir = "orm"
}
data "external" "url" {
  program = ["printf", "postgres://h/x"]
}
env "dev" {
  url = data.external.url
  src = data.external_schema.app.url
  again = data.external_schema.app.url
}
"#;
    let h = host();
    let p = load(&file(text), "dev", &InputVars::default(), &h).unwrap();
    let env = p.single().unwrap();
    assert_eq!(env.url.as_deref(), Some("postgres://h/x"));
    assert_eq!(
        env.src,
        [SchemaSrc::Sql {
            name: "app".into(),
            sql: "CREATE TABLE t (id int);\n".into()
        }]
    );
    assert_eq!(
        env.reference("src").unwrap(),
        "external_schema://app",
        "env://src names the data source"
    );
    assert!(env.external_schema("external_schema://app").is_some());
    assert_eq!(
        *h.ran.borrow(),
        [
            "printf postgres://h/x (in proj)",
            "sh -c echo 'CREATE TABLE t (id int);' (in proj/orm)"
        ]
    );
}

#[test]
fn functions_and_expressions() {
    let text = r#"
locals {
  names = [for n in ["a", "b", "c"] : upper(n) if n != "b"]
  byname = { for n in ["x", "y"] : n => "${n}1" }
  url = urlsetpath("mysql://root@localhost:3306/", "tenant")
}
env "e" {
  url    = local.url
  names  = local.names
  byname = local.byname
  file   = file("url.txt")
  cond   = length(local.names) > 1 ? "many" : "one"
  joined = join("-", local.names)
  unset  = getenv("NOPE")
  fmt    = format("%s:%d", "port", 3306)
  math   = [7 / 2, 6 / 3, -2 * 3 + 1, 7 % 3, 18446744073709551615 + 1]
  sqls   = [for f in fileset("schema/*.sql") : "file://${f}"]
  heredoc = <<-EOT
    line one
      line two
  EOT
}
"#;
    let p = load_env(text, "e", &[]).unwrap();
    insta::assert_debug_snapshot!(p.single().unwrap().extra);
    assert_eq!(
        p.single().unwrap().url.as_deref(),
        Some("mysql://root@localhost:3306/tenant")
    );
}

#[test]
fn env_references() {
    let p = load_env(TWO_ENVS, "local", &[]).unwrap();
    let env = p.single().unwrap();
    assert_eq!(env.reference("migration.dir").unwrap(), "file://migrations");
    assert_eq!(env.reference("tenant").unwrap(), "acme");
    assert_eq!(env.reference("schema.src").unwrap(), "file://schema.sql");
    assert_eq!(
        env.reference("shards").unwrap_err().to_string(),
        "env://shards (attribute) not found in env.local"
    );
}

/// Every error the file can produce, with its line.
#[test]
fn errors() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("undefined env", "env \"a\" {\n}\n", "b", &[]),
        ("unnamed env", "env {\n  url = \"x\"\n}\n", "b", &[]),
        (
            "required variable",
            "variable \"x\" {\n  type = string\n}\nenv \"a\" {\n}\n",
            "a",
            &[],
        ),
        (
            "invalid variable type",
            "variable \"x\" {\n  type = strin\n}\n",
            "a",
            &[],
        ),
        (
            "variable given twice but not a list",
            "variable \"x\" {\n  type = number\n}\n",
            "a",
            &["x=1", "x=2"],
        ),
        (
            "variable not a number",
            "variable \"x\" {\n  type = number\n}\n",
            "a",
            &["x=abc"],
        ),
        (
            "unknown attribute in migration",
            "env \"a\" {\n  url = \"sqlite://a.db\"\n  migration {\n    dir  = \"file://m\"\n    dirr = \"file://m\"\n  }\n}\n",
            "a",
            &[],
        ),
        (
            "unknown block in env",
            "env \"a\" {\n  migrations {\n  }\n}\n",
            "a",
            &[],
        ),
        (
            "unknown top-level block",
            "enviroment \"a\" {\n}\n",
            "a",
            &[],
        ),
        ("top-level attribute", "url = \"x\"\n", "a", &[]),
        (
            "attribute set twice",
            "env \"a\" {\n  url = \"x\"\n  url = \"y\"\n}\n",
            "a",
            &[],
        ),
        (
            "cyclic locals",
            "locals {\n  a = local.b\n  b = local.a\n}\nenv \"e\" {\n  url = local.a\n}\n",
            "e",
            &[],
        ),
        (
            "unknown local",
            "env \"e\" {\n  url = local.nope\n}\n",
            "e",
            &[],
        ),
        (
            "undeclared variable",
            "env \"e\" {\n\n  url = var.nope\n}\n",
            "e",
            &[],
        ),
        (
            "unknown function",
            "env \"e\" {\n  url = nope(\"x\")\n}\n",
            "e",
            &[],
        ),
        ("wrong type", "env \"e\" {\n  url = [\"a\"]\n}\n", "e", &[]),
        ("data block labels", "data \"external\" {\n}\n", "e", &[]),
        (
            "unknown data source",
            "data \"nope\" \"x\" {\n}\nenv \"e\" {\n  url = data.nope.x\n}\n",
            "e",
            &[],
        ),
        (
            "data source not yet supported",
            "data \"runtimevar\" \"t\" {\n  url = \"x\"\n}\nenv \"e\" {\n  url = data.runtimevar.t\n}\n",
            "e",
            &[],
        ),
        (
            "failing query",
            "data \"sql\" \"t\" {\n  url = \"sqlite://x\"\n  query = \"nope\"\n}\nenv \"e\" {\n  url = data.sql.t.value\n}\n",
            "e",
            &[],
        ),
        (
            "failing program",
            "data \"external\" \"x\" {\n  program = [\"false\"]\n}\nenv \"e\" {\n  url = data.external.x\n}\n",
            "e",
            &[],
        ),
        (
            "exec order",
            "env \"e\" {\n  migration {\n    exec_order = SIDEWAYS\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "lint log and format",
            "lint {\n  log = \"a\"\n  format = \"b\"\n}\nenv \"e\" {\n}\n",
            "e",
            &[],
        ),
        (
            "unknown lint analyzer",
            "env \"e\" {\n  lint {\n    sloppy {\n      error = true\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "unknown lint rule",
            "lint {\n  rules {\n    PG101 = \"error\"\n    XX999 = \"off\"\n  }\n}\nenv \"e\" {\n}\n",
            "e",
            &[],
        ),
        (
            "unknown lint level",
            "env \"e\" {\n  lint {\n    rules {\n      PG101 = \"loud\"\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "unknown naming attribute",
            "env \"e\" {\n  lint {\n    naming {\n      match = \"^[a-z]+$\"\n      pattern = \"x\"\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "unknown naming kind",
            "env \"e\" {\n  lint {\n    naming {\n      view {\n        match = \"x\"\n      }\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "invalid naming pattern",
            "env \"e\" {\n  lint {\n    naming {\n      table {\n        match = \"^[a-z\"\n      }\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "naming kind without a pattern",
            "env \"e\" {\n  lint {\n    naming {\n      index {\n        message = \"x\"\n      }\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "unknown analyzer attribute",
            "env \"e\" {\n  lint {\n    destructive {\n      force = true\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "unknown skip",
            "env \"e\" {\n  diff {\n    skip {\n      drop_everything = true\n    }\n  }\n}\n",
            "e",
            &[],
        ),
        (
            "each outside for_each",
            "env \"e\" {\n  url = each.value\n}\n",
            "e",
            &[],
        ),
        (
            "for_each not a collection",
            "env \"e\" {\n  for_each = 3\n}\n",
            "e",
            &[],
        ),
        ("atlas cloud block", "atlas {\n}\n", "e", &[]),
        (
            "division by zero",
            "env \"e\" {\n  n = 5 % 0\n}\n",
            "e",
            &[],
        ),
        (
            "overflow is not a panic",
            "env \"e\" {\n  n = 9223372036854775807 * 9223372036854775807 * 1e300 * 1e300\n}\n",
            "e",
            &[],
        ),
        ("syntax error", "env \"e\" {\n  url = \n}\n", "e", &[]),
        (
            "env defined twice",
            "env \"e\" {\n}\n\nenv \"e\" {\n}\n",
            "e",
            &[],
        ),
        (
            "include is Pro",
            "env \"e\" {\n  include = [\"a\"]\n}\n",
            "e",
            &[],
        ),
    ];
    let mut out = String::new();
    for (name, text, env, vars) in cases {
        out.push_str(&format!("{name}:\n  {}\n", err(text, env, vars)));
    }
    insta::assert_snapshot!(out);
}

/// Edited and truncated project files give errors, never panics.
#[test]
fn edited_files_never_panic() {
    let text = format!(
        "{TWO_ENVS}\nlocals {{\n  m = [for k, v in {{ a = 1 }} : k => v... if v > 0]\n  n = 7 % 2 / (1 - 1 + 2)\n}}\n"
    );
    let chars: Vec<char> = text.chars().collect();
    let mut errors = 0;
    for i in (0..chars.len()).step_by(3) {
        let removed: String = chars[..i].iter().chain(&chars[i + 1..]).collect();
        let truncated: String = chars[..i].iter().collect();
        for t in [removed, truncated] {
            for env in ["local", "prod"] {
                if load(&file(&t), env, &InputVars::default(), &host()).is_err() {
                    errors += 1;
                }
            }
        }
    }
    assert!(errors > 0);
}

/// The lint block's analyzer blocks (Atlas's and Strata's), per-rule levels and naming patterns, the env's over
/// the global ones.
#[test]
fn lint_analyzers_rules_and_naming() {
    let text = r#"
lint {
  concurrent_index {
    error = true
  }
  rules {
    ST105 = "off"
    PG101 = warning
  }
  naming {
    match   = "^[a-z_]+$"
    message = "must be lower snake case"
  }
}
env "e" {
  lint {
    timeouts {
      off = true
    }
    rules {
      require-lock-timeout = "error"
      PG101                = "error"
    }
    naming {
      error = true
      match = "^[a-z]+$"
      index {
        match = "_idx$"
      }
      foreign_key {
        message = "must be lower case letters"
      }
    }
  }
}
"#;
    let p = load_env(text, "e", &[]).unwrap();
    let l = &p.single().unwrap().lint;
    let on = |error| Analyzer { error, off: false };
    assert_eq!(l.analyzers["concurrent_index"], on(Some(true)));
    assert_eq!(l.analyzers["naming"], on(Some(true)));
    assert_eq!(
        l.analyzers["timeouts"],
        Analyzer {
            error: None,
            off: true
        }
    );
    let code = strata_lint::rules::find("require-lock-timeout")
        .unwrap()
        .code;
    assert_eq!(l.rules["ST105"], strata_lint::Level::Off);
    assert_eq!(l.rules["PG101"], strata_lint::Level::Error);
    assert_eq!(l.rules[code], strata_lint::Level::Error);
    let n = l.naming.as_ref().unwrap();
    let policy = |pattern: &str, message: Option<&str>| NamePolicy {
        pattern: pattern.into(),
        message: message.map(str::to_owned),
    };
    assert_eq!(n.all, Some(policy("^[a-z]+$", None)));
    assert_eq!(
        n.kinds[&strata_lint::NameKind::Index],
        policy("_idx$", None)
    );
    assert_eq!(
        n.kinds[&strata_lint::NameKind::ForeignKey],
        policy("^[a-z]+$", Some("must be lower case letters"))
    );
    assert_eq!(n.kinds.len(), 2);
}
