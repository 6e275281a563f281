//! SQLite plans: statements and comments as snapshots, flags and destructive lists.

use crate::diff::{DiffOptions, diff};
use crate::model::*;
use crate::plan::{Loss, PlanError, plan};
use crate::types::ColumnType;
use strata_migrate::Dialect;

const D: Dialect = Dialect::Sqlite;

fn col(name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ColumnType::parse(D, ty))
    }
}

fn realm(tables: Vec<Table>, f: impl FnOnce(&mut Schema)) -> Realm {
    let mut s = Schema::new("main");
    s.tables = tables;
    f(&mut s);
    let mut r = Realm::new(D);
    r.schemas = vec![s];
    r.sort();
    r
}

fn teams() -> Table {
    let mut t = Table::new("teams");
    t.columns = vec![
        Column {
            auto_increment: true,
            ..col("id", "integer", false)
        },
        Column {
            default: Some("'x'".into()),
            ..col("name", "varchar(20)", false)
        },
    ];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    t
}

fn users() -> Table {
    let mut t = Table::new("users");
    t.columns = vec![
        col("id", "integer", false),
        col("team_id", "integer", true),
        Column {
            generated: Some(Generated {
                expr: "id * 2".into(),
                stored: false,
            }),
            ..col("twice", "int", true)
        },
    ];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    t.foreign_keys = vec![ForeignKey {
        name: "users_team".into(),
        columns: vec!["team_id".into()],
        ref_schema: "main".into(),
        ref_table: "teams".into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::Cascade,
        deferrable: false,
        initially_deferred: false,
    }];
    t.indexes = vec![
        Index {
            unique: true,
            predicate: Some("team_id IS NOT NULL".into()),
            ..Index::on("users_team_idx", ["team_id"])
        },
        Index {
            parts: vec![IndexPart {
                desc: true,
                ..IndexPart::expr("id + 1")
            }],
            ..Index::on("users_expr", Vec::<String>::new())
        },
    ];
    t.checks = vec![Check::new(Some("pos"), "id > 0")];
    t.options.strict = false;
    t
}

fn run(a: &Realm, b: &Realm) -> crate::plan::Plan {
    let c = diff(a, b, &DiffOptions::default()).unwrap();
    plan(&c, b).unwrap()
}

#[test]
fn create_everything_in_dependency_order() {
    let a = realm(vec![], |_| {});
    let b = realm(vec![users(), teams()], |s| {
        s.views = vec![
            View {
                name: "v2".into(),
                definition: "SELECT * FROM v1".into(),
                check_option: None,
                comment: None,
            },
            View {
                name: "v1".into(),
                definition: "CREATE VIEW v1 AS SELECT id FROM users".into(),
                check_option: None,
                comment: None,
            },
        ];
        s.triggers = vec![Trigger {
            name: "tr".into(),
            table: "users".into(),
            definition: "CREATE TRIGGER tr AFTER INSERT ON users BEGIN SELECT 1; END".into(),
        }];
    });
    let p = run(&a, &b);
    assert!(!p.needs_foreign_keys_off);
    assert!(p.reversible());
    assert!(p.destructive().is_empty());
    insta::assert_snapshot!(p.to_sql());
}

#[test]
fn simple_additions_alter_the_table() {
    let a = realm(vec![teams()], |_| {});
    let mut t = teams();
    t.columns.push(Column {
        default: Some("0".into()),
        ..col("size", "integer", false)
    });
    t.columns.push(col("note", "text", true));
    t.indexes = vec![Index::on("teams_size", ["size"])];
    let b = realm(vec![t], |_| {});
    let p = run(&a, &b);
    assert!(!p.needs_foreign_keys_off && !p.foreign_key_check);
    insta::assert_snapshot!(p.to_sql(), @r#"
    -- Add column "size" to table: "teams"
    ALTER TABLE `teams` ADD COLUMN `size` integer NOT NULL DEFAULT 0;
    -- Add column "note" to table: "teams"
    ALTER TABLE `teams` ADD COLUMN `note` text NULL;
    -- Create index "teams_size" to table: "teams"
    CREATE INDEX `teams_size` ON `teams` (`size`);
    "#);
    assert_eq!(
        p.statements[0].reverse.as_deref(),
        Some("ALTER TABLE `teams` DROP COLUMN `size`")
    );
}

#[test]
fn other_changes_copy_the_table() {
    let a = realm(vec![teams(), users()], |s| {
        s.triggers = vec![Trigger {
            name: "tr".into(),
            table: "users".into(),
            definition: "CREATE TRIGGER tr AFTER INSERT ON users BEGIN SELECT 1; END".into(),
        }];
    });
    let mut u = users();
    u.columns[1].nullable = false;
    u.columns[1].default = Some("1".into());
    u.columns.push(Column {
        default: Some("CURRENT_TIMESTAMP".into()),
        ..col("at", "datetime", true)
    });
    let mut b = a.clone();
    b.schemas[0].tables[1] = u;
    // A dropped column is named as lost.
    b.schemas[0].tables[0].columns.pop();
    let p = run(&a, &b);
    assert!(p.needs_foreign_keys_off && p.foreign_key_check);
    assert_eq!(
        p.destructive(),
        vec![&Loss::Column {
            schema: "main".into(),
            table: "teams".into(),
            name: "name".into()
        }]
    );
    insta::assert_snapshot!(p.to_sql());
}

/// A view that stays in place while the table it reads is copied, or a trigger of another table reading it, makes
/// SQLite refuse the rename back (`error in view v: no such table: main.users`): only then is the legacy rename
/// written around it. The engine's `copied_table_read_by_a_view_applies` proves the refusal on a real database.
#[test]
fn the_legacy_rename_only_where_a_view_or_trigger_reads_the_copied_table() {
    let base = |extra: fn(&mut Schema)| realm(vec![teams(), users()], extra);
    let changed = |a: &Realm| {
        let mut b = a.clone();
        let u = b.schemas[0]
            .tables
            .iter_mut()
            .find(|t| t.name == "users")
            .unwrap();
        u.checks.clear();
        b
    };
    let comments = |p: &crate::plan::Plan| -> Vec<String> {
        p.statements.iter().map(|s| s.sql.clone()).collect()
    };
    let legacy =
        |p: &crate::plan::Plan| comments(p).iter().any(|s| s.contains("legacy_alter_table"));

    let a = base(|_| {});
    let p = run(&a, &changed(&a));
    assert!(!legacy(&p), "{}", p.to_sql());
    assert_eq!(p.statements[0].sql, "PRAGMA foreign_keys = off");
    assert_eq!(p.statements.last().unwrap().sql, "PRAGMA foreign_keys = on");

    let a = base(|s| {
        s.views = vec![View {
            name: "v".into(),
            definition: "CREATE VIEW v AS SELECT id FROM users".into(),
            check_option: None,
            comment: None,
        }]
    });
    let p = run(&a, &changed(&a));
    assert_eq!(
        comments(&p)[4..7],
        [
            "PRAGMA legacy_alter_table = ON",
            "ALTER TABLE `new_users` RENAME TO `users`",
            "PRAGMA legacy_alter_table = OFF"
        ],
        "{}",
        p.to_sql()
    );

    // A changed view is dropped before the copy and created after it: nothing reads the table meanwhile.
    let mut b = changed(&a);
    b.schemas[0].views[0].definition = "CREATE VIEW v AS SELECT id, team_id FROM users".into();
    let p = run(&a, &b);
    assert!(!legacy(&p), "{}", p.to_sql());

    // A trigger of another table that reads it; the copied table's own triggers go with it.
    let a = base(|s| {
        s.triggers = vec![
            Trigger {
                name: "own".into(),
                table: "users".into(),
                definition: "CREATE TRIGGER own AFTER INSERT ON users BEGIN SELECT 1; END".into(),
            },
            Trigger {
                name: "other".into(),
                table: "teams".into(),
                definition:
                    "CREATE TRIGGER other AFTER DELETE ON teams BEGIN DELETE FROM users; END".into(),
            },
        ]
    });
    let p = run(&a, &changed(&a));
    assert!(legacy(&p), "{}", p.to_sql());
    let mut a2 = a.clone();
    a2.schemas[0].triggers.retain(|t| t.name == "own");
    let p = run(&a2, &changed(&a2));
    assert!(!legacy(&p), "{}", p.to_sql());
}

#[test]
fn drops_come_last_and_are_destructive() {
    let a = realm(vec![teams(), users()], |s| {
        s.views = vec![View {
            name: "v".into(),
            definition: "CREATE VIEW v AS SELECT * FROM users".into(),
            check_option: None,
            comment: None,
        }];
    });
    let mut b = realm(vec![], |_| {});
    let mut extra = Table::new("extra");
    extra.columns = vec![col("x", "int", true)];
    b.schemas[0].tables = vec![extra];
    let p = run(&a, &b);
    let comments: Vec<&str> = p.statements.iter().map(|s| s.comment.as_str()).collect();
    assert_eq!(
        comments,
        vec![
            "disable the enforcement of foreign-keys constraints",
            "drop \"v\" view",
            "create \"extra\" table",
            "drop \"users\" table",
            "drop \"teams\" table",
            "enable back the enforcement of foreign-keys constraints"
        ]
    );
    assert_eq!(p.destructive().len(), 2);
    assert_eq!(p.destructive()[0].to_string(), "drop table \"users\"");
    assert!(p.needs_foreign_keys_off);
}

#[test]
fn what_sqlite_cannot_express_is_an_error() {
    let a = realm(vec![], |_| {});
    let mut b = a.clone();
    b.schemas.push(Schema::new("other"));
    let c = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert_eq!(
        plan(&c, &b).unwrap_err().to_string(),
        "SQLite cannot create schema \"other\": SQLite schemas are attached database files: attach the file instead"
    );
    let b = realm(vec![], |s| {
        s.enums = vec![Enum {
            name: "e".into(),
            values: vec!["a".into()],
        }]
    });
    let c = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert!(matches!(plan(&c, &b), Err(PlanError::Unsupported { .. })));
    let mut pg = Realm::new(Dialect::Postgres);
    pg.schemas = vec![Schema::new("public")];
    let c = diff(&Realm::new(Dialect::Postgres), &pg, &DiffOptions::default()).unwrap();
    // PostgreSQL has its own planner now: the dispatch reaches it rather than the SQLite one.
    assert_eq!(plan(&c, &pg).unwrap().dialect, Dialect::Postgres);
}

#[test]
fn foreign_key_cycles_and_self_references_plan() {
    let mut a = Table::new("a");
    a.columns = vec![col("id", "integer", false), col("b_id", "integer", true)];
    a.foreign_keys = vec![ForeignKey {
        name: "a_b".into(),
        columns: vec!["b_id".into()],
        ref_schema: "main".into(),
        ref_table: "b".into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::SetNull,
        deferrable: false,
        initially_deferred: false,
    }];
    let mut b = a.clone();
    b.name = "b".into();
    b.columns[1].name = "a_id".into();
    b.foreign_keys[0].columns = vec!["a_id".into()];
    b.foreign_keys[0].ref_table = "b".into();
    b.foreign_keys.push(ForeignKey {
        name: "b_a".into(),
        ref_table: "a".into(),
        ..b.foreign_keys[0].clone()
    });
    let p = run(&realm(vec![], |_| {}), &realm(vec![a, b], |_| {}));
    assert_eq!(p.statements.len(), 2);
    insta::assert_snapshot!(p.to_sql());
}
