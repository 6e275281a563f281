//! The whole pipeline on small cases: Atlas's exact text layout for change findings, `atlas:nolint` per code, per
//! analyzer and per file, and configuration turning rules into errors or off.

use std::time::Duration;

use serde_json::json;
use strata_lint::check::Input;
use strata_lint::render::text;
use strata_lint::{
    Config, Dialect, FileReport, Header, Level, Report, Severity, SourceFile, Title, check,
};
use strata_schema::{ColumnType, DiffOptions, Realm};

fn col(d: Dialect, name: &str, ty: &str, nullable: bool) -> serde_json::Value {
    json!({ "name": name, "type": ColumnType::parse(d, ty), "nullable": nullable })
}

fn realm(d: Dialect, tables: Vec<serde_json::Value>) -> Realm {
    let schema = if d == Dialect::Sqlite {
        "main"
    } else {
        "public"
    };
    let dialect = match d {
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
        Dialect::Sqlite => "sqlite",
    };
    let mut r: Realm = serde_json::from_value(json!({
        "dialect": dialect,
        "schemas": [{ "name": schema, "tables": tables }],
    }))
    .unwrap();
    r.sort();
    r
}

/// Lints `sql` as if a replay found the realms `after` (one per statement) starting from `before`.
fn replayed(
    d: Dialect,
    name: &str,
    sql: &str,
    before: Realm,
    after: Vec<Realm>,
    cfg: &Config,
) -> FileReport {
    let file = SourceFile::parse(d, name, sql).unwrap();
    let mut prev = before;
    let mut steps = Vec::new();
    for a in after {
        steps.push(strata_schema::diff(&prev, &a, &DiffOptions::default()).unwrap());
        prev = a;
    }
    let findings = check::lint(
        &file,
        &Input {
            before: None,
            changes: Some(&steps),
        },
        cfg,
    );
    FileReport {
        name: name.into(),
        title: Title::Version(name.trim_end_matches(".sql").into()),
        text: sql.into(),
        findings,
        error: None,
        changes: Some(check::change_count(&steps)),
        duration: Duration::from_millis(1),
    }
}

fn dur(_: Duration) -> String {
    "DUR".into()
}

fn users(d: Dialect) -> serde_json::Value {
    json!({ "name": "users", "columns": [col(d, "id", "integer", false)] })
}

fn pets(d: Dialect) -> serde_json::Value {
    json!({ "name": "pets", "columns": [col(d, "id", "integer", false)] })
}

#[test]
fn text_layout_matches_atlas_for_a_dropped_table() {
    let d = Dialect::Sqlite;
    let f = replayed(
        d,
        "2.sql",
        "DROP TABLE t;",
        realm(
            d,
            vec![json!({ "name": "t", "columns": [col(d, "c", "int", true)] })],
        ),
        vec![realm(d, vec![])],
        &base(),
    );
    let report = Report {
        header: Header::Range {
            from: "1".into(),
            to: "2".into(),
            count: 1,
        },
        files: vec![f],
        duration: Duration::from_millis(3),
    };
    assert!(report.has_errors());
    assert_eq!(
        text::render(&report, &dur),
        "Analyzing changes from version 1 to 2 (1 migration in total):

  -- analyzing version 2
    -- destructive changes detected:
      -- L1: Dropping table \"t\" https://atlasgo.io/lint/analyzers#DS102
    -- suggested fix:
      -> Add a pre-migration check to ensure table \"t\" is empty before dropping it
  -- ok (DUR)

  -------------------------
  -- DUR
  -- 1 version with errors
  -- 1 schema change
  -- 1 diagnostic
"
    );
}

#[test]
fn text_layout_collects_a_groups_fixes_and_counts_changes() {
    let d = Dialect::Postgres;
    let f = replayed(
        d,
        "2.sql",
        "DROP TABLE users;\nDROP TABLE pets;\n",
        realm(d, vec![users(d), pets(d)]),
        vec![realm(d, vec![pets(d)]), realm(d, vec![])],
        &base(),
    );
    let report = Report {
        header: Header::Range {
            from: "1".into(),
            to: "2".into(),
            count: 1,
        },
        files: vec![f],
        duration: Duration::ZERO,
    };
    insta::assert_snapshot!(text::render(&report, &dur), @r#"
    Analyzing changes from version 1 to 2 (1 migration in total):

      -- analyzing version 2
        -- destructive changes detected:
          -- L1: Dropping table "users" https://atlasgo.io/lint/analyzers#DS102
          -- L2: Dropping table "pets" https://atlasgo.io/lint/analyzers#DS102
        -- suggested fixes:
          -> Add a pre-migration check to ensure table "users" is empty before dropping it
          -> Add a pre-migration check to ensure table "pets" is empty before dropping it
      -- ok (DUR)

      -------------------------
      -- DUR
      -- 1 version with errors
      -- 2 schema changes
      -- 2 diagnostics
    "#);
}

#[test]
fn text_layout_wraps_long_diagnostics_as_atlas_does() {
    let d = Dialect::Postgres;
    let f = replayed(
        d,
        "2.sql",
        "ALTER TABLE users ADD COLUMN oid varchar(20) NOT NULL;\n",
        realm(d, vec![users(d)]),
        vec![realm(
            d,
            vec![json!({ "name": "users", "columns": [
                col(d, "id", "integer", false),
                col(d, "oid", "character varying(20)", false),
            ] })],
        )],
        &base(),
    );
    let report = Report {
        header: Header::Range {
            from: "1".into(),
            to: "2".into(),
            count: 1,
        },
        files: vec![f],
        duration: Duration::ZERO,
    };
    assert_eq!(
        text::render(&report, &dur),
        "Analyzing changes from version 1 to 2 (1 migration in total):

  -- analyzing version 2
    -- data dependent changes detected:
      -- L1: Adding a non-nullable \"character varying(20)\" column \"oid\" will fail in case table
         \"users\" is not empty https://atlasgo.io/lint/analyzers#MF103
    -- suggested fix:
      -> Give column \"oid\" a default value, or add it as nullable, fill it with an UPDATE and then set it NOT NULL
  -- ok (DUR)

  -------------------------
  -- DUR
  -- 1 version with warnings
  -- 1 schema change
  -- 1 diagnostic
"
    );
}

#[test]
fn text_layout_of_a_clean_version() {
    let d = Dialect::Sqlite;
    let f = replayed(
        d,
        "1.sql",
        "CREATE TABLE users (id int);\n",
        realm(d, vec![]),
        vec![realm(
            d,
            vec![json!({ "name": "users", "columns": [col(d, "id", "int", true)] })],
        )],
        &base(),
    );
    let report = Report {
        header: Header::Until {
            to: "1".into(),
            count: 1,
        },
        files: vec![f],
        duration: Duration::ZERO,
    };
    assert!(!report.has_errors());
    assert_eq!(
        text::render(&report, &dur),
        "Analyzing changes until version 1 (1 migration in total):

  -- analyzing version 1
    -- no diagnostics found
  -- ok (DUR)

  -------------------------
  -- DUR
  -- 1 version ok
  -- 1 schema change
"
    );
}

/// Atlas's analyzers alone, as `migrate lint` runs for an Atlas-identical report.
fn base() -> Config {
    Config::atlas_compatible()
}

fn drop_pets(sql: &str, cfg: &Config) -> FileReport {
    let d = Dialect::Postgres;
    replayed(
        d,
        "2.sql",
        sql,
        realm(d, vec![users(d), pets(d)]),
        vec![realm(d, vec![users(d)])],
        cfg,
    )
}

fn codes(f: &FileReport) -> Vec<(usize, &'static str, Severity)> {
    f.findings
        .iter()
        .map(|x| (x.line, x.code, x.severity))
        .collect()
}

#[test]
fn nolint_mutes_by_code_by_analyzer_and_by_file() {
    let cfg = base();
    assert_eq!(
        codes(&drop_pets("DROP TABLE pets;\n", &cfg)),
        [(1, "DS102", Severity::Error)]
    );
    for muted in [
        "-- atlas:nolint\nDROP TABLE pets;\n",
        "-- atlas:nolint DS102\nDROP TABLE pets;\n",
        "-- atlas:nolint destructive\nDROP TABLE pets;\n",
        "-- atlas:nolint\n\nDROP TABLE pets;\n",
        "-- atlas:nolint destructive data_depend\n\nDROP TABLE pets;\n",
    ] {
        let f = drop_pets(muted, &cfg);
        assert!(f.findings.is_empty(), "{muted:?}: {:?}", codes(&f));
        assert!(!f.has_errors());
    }
    // Another code or analyzer leaves it reported.
    for kept in [
        "-- atlas:nolint DS103 BC101\nDROP TABLE pets;\n",
        "-- atlas:nolint data_depend\n\nDROP TABLE pets;\n",
    ] {
        let f = drop_pets(kept, &cfg);
        assert_eq!(codes(&f).len(), 1, "{kept:?}");
    }
    // Statement rules too.
    let f = strata_lint::lint_file(
        Dialect::Postgres,
        "x.sql",
        "-- atlas:nolint PG101\nCREATE INDEX i ON users (a);\nCREATE INDEX j ON users (b);\n",
        &Config::default(),
    );
    let pg101: Vec<_> = codes(&f).into_iter().filter(|c| c.1 == "PG101").collect();
    assert_eq!(pg101, [(3, "PG101", Severity::Warning)]);
}

#[test]
fn config_turns_rules_into_errors_or_off() {
    let mut cfg = base();
    cfg.set_rule("DS102", Level::Off).unwrap();
    assert!(drop_pets("DROP TABLE pets;\n", &cfg).findings.is_empty());

    let mut cfg = base();
    cfg.set_analyzer_error("destructive", false).unwrap();
    let f = drop_pets("DROP TABLE pets;\n", &cfg);
    assert_eq!(codes(&f), [(1, "DS102", Severity::Warning)]);
    assert!(!f.has_errors());

    let mut cfg = Config::default();
    cfg.set_rule("require-concurrent-index-creation", Level::Error)
        .unwrap();
    let f = strata_lint::lint_file(
        Dialect::Postgres,
        "x.sql",
        "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX i ON users (a);\n",
        &cfg,
    );
    assert_eq!(codes(&f), [(3, "PG101", Severity::Error)]);
    assert!(f.has_errors());

    let mut cfg = Config::default();
    cfg.set_analyzer_off("concurrent_index").unwrap();
    let f = strata_lint::lint_file(
        Dialect::Postgres,
        "x.sql",
        "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX i ON users (a);\n",
        &cfg,
    );
    assert!(f.findings.is_empty(), "{:?}", codes(&f));

    let mut cfg = Config::default();
    assert_eq!(
        cfg.set_rule("XX999", Level::Error).unwrap_err().to_string(),
        "unknown lint rule \"XX999\": use a code such as DS102 or PG101, or a name such as require-lock-timeout"
    );
    assert!(cfg.set_analyzer_error("nope", true).is_err());
    assert!(
        cfg.set_naming(strata_lint::NameKind::Table, "([", None)
            .is_err()
    );
}

#[test]
fn renames_are_reported_once_not_as_a_drop_and_an_add() {
    let d = Dialect::Postgres;
    let f = replayed(
        d,
        "2.sql",
        "ALTER TABLE pets RENAME TO animals;\n",
        realm(d, vec![users(d), pets(d)]),
        vec![realm(
            d,
            vec![
                users(d),
                json!({ "name": "animals", "columns": [col(d, "id", "integer", false)] }),
            ],
        )],
        &base(),
    );
    assert_eq!(codes(&f), [(1, "BC101", Severity::Warning)]);
    assert_eq!(f.changes, Some(2));
}

#[test]
fn bad_input_is_a_file_error_with_its_line() {
    let f = strata_lint::lint_file(
        Dialect::Postgres,
        "bad.sql",
        "SELECT 1;\nSELECT 'unclosed;\n",
        &Config::default(),
    );
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.line, 2);
    assert_eq!(e.message, "unclosed quote '\\''");
    assert!(f.has_errors());
    let f = strata_lint::lint_file(
        Dialect::Postgres,
        "bad.sql",
        "-- atlas:txmode sometimes\n\nSELECT 1;\n",
        &Config::default(),
    );
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("sometimes"), "{}", e.message);
}

#[test]
fn sqlite_table_copy_is_one_change_not_a_drop_and_a_rename() {
    let d = Dialect::Sqlite;
    let old = json!({ "name": "users", "columns": [col(d, "id", "integer", false), col(d, "name", "text", true)] });
    let copy = json!({ "name": "new_users", "columns": [col(d, "id", "integer", false), col(d, "name", "text", false)] });
    let renamed = json!({ "name": "users", "columns": [col(d, "id", "integer", false), col(d, "name", "text", false)] });
    let f = replayed(
        d,
        "2.sql",
        "CREATE TABLE new_users (id integer NOT NULL, name text NOT NULL);\n\
         INSERT INTO new_users (id, name) SELECT id, name FROM users;\n\
         DROP TABLE users;\n\
         ALTER TABLE new_users RENAME TO users;\n",
        realm(d, vec![old.clone()]),
        vec![
            realm(d, vec![copy.clone(), old.clone()]),
            realm(d, vec![copy.clone(), old]),
            realm(d, vec![copy]),
            realm(d, vec![renamed]),
        ],
        &Config::default(),
    );
    assert_eq!(codes(&f), [(1, "LT101", Severity::Warning)]);
    assert!(!f.has_errors());
}
