//! Every rule's fixtures: `tests/fixtures/<code>/err/*` must make the rule fire (its findings are snapshotted),
//! `tests/fixtures/<code>/ok/*` must not. A rule without both is not done (checked below).
//!
//! - `*.sql`: linted with the statement rules, in the rule's first dialect (`name.mysql.sql` / `name.sqlite.sql`
//!   pick another).
//! - `*.json`: a change-rule fixture, standing for a replay on a dev database: `{"dialect", "sql", "before":
//!   {schema: [tables]}, "after": [{schema: [tables]}, …]}` — the realm before the file and after each of its
//!   statements, in the model's JSON (a column's `type` may be a plain spelling, `nullable` defaults to true). The
//!   diff between consecutive realms is what that statement changed.

use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_lint::check::Input;
use strata_lint::{Config, Dialect, Level, NameKind, SourceFile, rules};
use strata_schema::{ColumnType, DiffOptions, Realm};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
        Dialect::Sqlite => "sqlite",
    }
}

fn parse_dialect(s: &str) -> Dialect {
    match s {
        "mysql" => Dialect::Mysql,
        "sqlite" => Dialect::Sqlite,
        _ => Dialect::Postgres,
    }
}

/// The configuration fixtures run with: the rule at least a warning, naming patterns for every kind.
fn config(code: &str) -> Config {
    let mut c = Config::default();
    for k in NameKind::ALL {
        c.set_naming(k, "^[a-z][a-z0-9_]*$", None).unwrap();
    }
    let r = rules::find(code).unwrap();
    if r.default_level == Level::Off {
        c.set_rule(code, Level::Warning).unwrap();
    }
    c
}

/// Fills in a fixture column's shorthand: `"type": "int"` → the model's type, `nullable` true unless given.
fn expand_columns(d: Dialect, v: &mut Value) {
    if let Some(tables) = v.as_array_mut() {
        for t in tables {
            if let Some(cols) = t.get_mut("columns").and_then(Value::as_array_mut) {
                for c in cols {
                    if let Some(raw) = c.get("type").and_then(Value::as_str) {
                        let ty = ColumnType::parse(d, raw);
                        c["type"] = serde_json::to_value(ty).unwrap();
                    }
                    if c.get("nullable").is_none() {
                        c["nullable"] = Value::Bool(true);
                    }
                }
            }
        }
    }
}

fn realm(d: Dialect, schemas: &Value) -> Realm {
    let mut list = Vec::new();
    for (name, tables) in schemas.as_object().expect("schemas object") {
        let mut tables = tables.clone();
        expand_columns(d, &mut tables);
        list.push(serde_json::json!({ "name": name, "tables": tables }));
    }
    let mut r: Realm = serde_json::from_value(serde_json::json!({
        "dialect": dialect_name(d),
        "schemas": list,
    }))
    .expect("fixture realm");
    r.sort();
    r
}

/// The findings of `code` on one fixture, one line each (and the fix under it).
fn run(code: &str, path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let content = std::fs::read_to_string(path).unwrap();
    let cfg = config(code);
    let findings = if name.ends_with(".json") {
        let v: Value = serde_json::from_str(&content).unwrap();
        let d = parse_dialect(v["dialect"].as_str().unwrap_or("postgres"));
        let sql = v["sql"].as_str().expect("sql");
        let file = SourceFile::parse(d, &name, sql).unwrap();
        let mut prev = realm(d, &v["before"]);
        let mut steps = Vec::new();
        for after in v["after"].as_array().expect("after") {
            let next = realm(d, after);
            steps.push(strata_schema::diff(&prev, &next, &DiffOptions::default()).unwrap());
            prev = next;
        }
        assert_eq!(
            steps.len(),
            file.statements.len(),
            "{name}: one realm per statement"
        );
        strata_lint::lint(
            &file,
            &Input {
                before: None,
                changes: Some(&steps),
            },
            &cfg,
        )
    } else {
        let rule = rules::find(code).unwrap();
        let d = if name.ends_with(".mysql.sql") {
            Dialect::Mysql
        } else if name.ends_with(".sqlite.sql") {
            Dialect::Sqlite
        } else {
            rule.dialects[0]
        };
        let report = strata_lint::lint_file(d, &name, &content, &cfg);
        assert!(report.error.is_none(), "{name}: {:?}", report.error);
        report.findings
    };
    let mut out = String::new();
    for f in findings.iter().filter(|f| f.code == code) {
        out.push_str(&format!(
            "L{} {} {:?}: {}\n",
            f.line, f.code, f.severity, f.message
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("  fix: {fix}\n"));
        }
    }
    out
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_rule_has_ok_and_err_fixtures() {
    let root = fixtures_root();
    let mut missing = Vec::new();
    for r in rules::ALL {
        let dir = root.join(r.code.to_lowercase());
        for kind in ["ok", "err"] {
            if entries(&dir.join(kind)).is_empty() {
                missing.push(format!("{}/{kind}", r.code.to_lowercase()));
            }
        }
    }
    assert!(missing.is_empty(), "rules without fixtures: {missing:?}");
}

#[test]
fn err_fixtures_fire_and_ok_fixtures_do_not() {
    let root = fixtures_root();
    let mut failures = Vec::new();
    for dir in entries(&root) {
        let code = dir.file_name().unwrap().to_string_lossy().to_uppercase();
        assert!(
            rules::find(&code).is_some(),
            "fixture dir {code} names no rule"
        );
        for f in entries(&dir.join("ok")) {
            let out = run(&code, &f);
            if !out.is_empty() {
                failures.push(format!("{}: fired:\n{out}", f.display()));
            }
        }
        for f in entries(&dir.join("err")) {
            let out = run(&code, &f);
            if out.is_empty() {
                failures.push(format!("{}: did not fire", f.display()));
                continue;
            }
            // Every finding comes with a one-line suggested fix (printed under it).
            let lines: Vec<&str> = out.split_terminator('\n').collect();
            for (i, l) in lines.iter().enumerate() {
                if l.starts_with('L') && !lines.get(i + 1).is_some_and(|n| n.starts_with("  fix: "))
                {
                    failures.push(format!("{}: no suggested fix for: {l}", f.display()));
                }
            }
            let stem = f.file_name().unwrap().to_string_lossy().replace('.', "_");
            insta::with_settings!({
                snapshot_path => root.join("../snapshots"),
                prepend_module_to_snapshot => false,
                input_file => &f,
            }, {
                insta::assert_snapshot!(format!("{}__{stem}", code.to_lowercase()), out);
            });
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
