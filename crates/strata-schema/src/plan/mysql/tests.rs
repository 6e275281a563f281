//! MySQL plans: statements and comments as snapshots, order, reverses and destructive lists.

use crate::diff::{DiffOptions, diff};
use crate::model::*;
use crate::plan::{Loss, PlanError, plan};
use crate::types::ColumnType;
use strata_migrate::Dialect;

const D: Dialect = Dialect::Mysql;

fn col(name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ColumnType::parse(D, ty))
    }
}

fn realm(tables: Vec<Table>, f: impl FnOnce(&mut Schema)) -> Realm {
    let mut s = Schema::new("app");
    s.tables = tables;
    f(&mut s);
    let mut r = Realm::new(D);
    r.schemas = vec![s];
    r.sort();
    r
}

fn fk(name: &str, col: &str, table: &str) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: vec![col.into()],
        ref_schema: "app".into(),
        ref_table: table.into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::Cascade,
        deferrable: false,
        initially_deferred: false,
    }
}

fn teams() -> Table {
    let mut t = Table::new("teams");
    t.columns = vec![
        Column {
            auto_increment: true,
            ..col("id", "bigint", false)
        },
        Column {
            default: Some("'x'".into()),
            comment: Some("it's the name".into()),
            ..col("name", "varchar(20)", false)
        },
        Column {
            charset: Some("latin1".into()),
            collation: Some("latin1_bin".into()),
            ..col("code", "char(3)", true)
        },
        Column {
            default: Some("current_timestamp()".into()),
            on_update: Some("current_timestamp()".into()),
            ..col("updated", "timestamp", false)
        },
        col("body", "text", true),
        col("kind", "enum('a','b')", true),
    ];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    let mut prefix = IndexPart::column("body");
    prefix.prefix = Some(10);
    prefix.desc = true;
    t.indexes = vec![
        Index {
            unique: true,
            ..Index::on("name_u", ["name"])
        },
        Index {
            parts: vec![prefix],
            ..Index::on("body_p", Vec::<String>::new())
        },
        Index {
            method: Some("FULLTEXT".into()),
            ..Index::on("body_ft", ["body"])
        },
    ];
    t.checks = vec![Check::new(Some("name_len"), "char_length(name) > 0")];
    t.comment = Some("teams".into());
    t.options.charset = Some("utf8mb4".into());
    t.options.collation = Some("utf8mb4_general_ci".into());
    t
}

fn users() -> Table {
    let mut t = Table::new("users");
    t.columns = vec![
        col("id", "int", false),
        col("team_id", "bigint", true),
        col("manager_id", "int", true),
        Column {
            generated: Some(Generated {
                expr: "id * 2".into(),
                stored: true,
            }),
            ..col("twice", "int", true)
        },
    ];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    t.foreign_keys = vec![
        fk("users_manager", "manager_id", "users"),
        fk("users_team", "team_id", "teams"),
    ];
    t
}

#[test]
fn create_everything_in_dependency_order() {
    let to = realm(vec![users(), teams()], |s| {
        s.views.push(View {
            name: "team_names".into(),
            definition: "select `teams`.`name` AS `name` from `teams`".into(),
            check_option: None,
            comment: None,
        });
        s.triggers.push(Trigger {
            name: "users_touch".into(),
            table: "users".into(),
            definition: "CREATE TRIGGER `users_touch` BEFORE INSERT ON `users` FOR EACH ROW SET NEW.manager_id = NULL".into(),
        });
        s.functions.push(Function {
            name: "twice".into(),
            kind: RoutineKind::Function,
            args: "`a` int".into(),
            definition: "CREATE FUNCTION `twice`(`a` int) RETURNS int DETERMINISTIC RETURN a * 2"
                .into(),
        });
    });
    let c = diff(&realm(vec![], |_| {}), &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    let pos = |needle: &str| {
        p.statements
            .iter()
            .position(|s| s.sql.contains(needle))
            .unwrap()
    };
    assert!(pos("CREATE TABLE `teams`") < pos("CREATE TABLE `users`"));
    assert!(pos("CREATE TABLE `users`") < pos("CREATE VIEW"));
    assert!(p.reversible());
    assert!(p.destructive().is_empty());
    insta::assert_snapshot!(p.to_sql());
}

#[test]
fn one_alter_per_table_with_reverse_and_losses() {
    let from = realm(vec![teams(), users()], |_| {});
    let mut to = from.clone();
    let t = &mut to.schemas[0].tables[0];
    assert_eq!(t.name, "teams");
    t.columns.retain(|c| c.name != "code");
    t.columns.insert(
        1,
        Column {
            default: Some("0".into()),
            ..col("score", "int", false)
        },
    );
    t.columns.push(col("extra", "json", true));
    t.columns.iter_mut().find(|c| c.name == "name").unwrap().ty =
        ColumnType::parse(D, "varchar(50)");
    t.indexes.retain(|i| i.name != "body_ft");
    t.indexes.push(Index::on("score_i", ["score"]));
    t.checks.clear();
    t.comment = None;
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    assert_eq!(p.statements.len(), 1, "{}", p.to_sql());
    assert_eq!(
        p.destructive(),
        vec![&Loss::Column {
            schema: "app".into(),
            table: "teams".into(),
            name: "code".into()
        }]
    );
    insta::assert_snapshot!(format!(
        "{}\n-- reverse:\n{}",
        p.to_sql(),
        p.statements[0].reverse.as_deref().unwrap()
    ));
}

#[test]
fn foreign_key_cycles_and_drops() {
    let mut a = Table::new("a");
    a.columns = vec![col("id", "int", false), col("b_id", "int", true)];
    a.primary_key = Some(PrimaryKey::columns(["id"]));
    a.foreign_keys = vec![fk("a_b", "b_id", "b")];
    let mut b = Table::new("b");
    b.columns = vec![col("id", "int", false), col("a_id", "int", true)];
    b.primary_key = Some(PrimaryKey::columns(["id"]));
    b.foreign_keys = vec![fk("b_a", "a_id", "a")];
    let to = realm(vec![a, b], |_| {});
    let empty = realm(vec![], |_| {});
    let create = plan(&diff(&empty, &to, &DiffOptions::default()).unwrap(), &to).unwrap();
    let drop = plan(&diff(&to, &empty, &DiffOptions::default()).unwrap(), &empty).unwrap();
    assert_eq!(drop.destructive().len(), 2);
    insta::assert_snapshot!(format!("{}\n-- drop:\n{}", create.to_sql(), drop.to_sql()));
}

#[test]
fn several_schemas_are_qualified() {
    let mut r = realm(vec![teams()], |_| {});
    let mut other = Schema::new("audit");
    let mut log = Table::new("log");
    log.columns = vec![col("id", "int", false), col("team_id", "bigint", true)];
    let mut f = fk("log_team", "team_id", "teams");
    f.ref_schema = "app".into();
    log.foreign_keys = vec![f];
    other.tables.push(log);
    r.schemas.push(other);
    r.sort();
    let from = realm(vec![teams()], |_| {});
    let p = plan(&diff(&from, &r, &DiffOptions::default()).unwrap(), &r).unwrap();
    insta::assert_snapshot!(p.to_sql());
}

#[test]
fn objects_without_mysql_form_are_refused() {
    let to = realm(vec![], |s| {
        s.enums.push(Enum {
            name: "e".into(),
            values: vec!["a".into()],
        })
    });
    let err = plan(
        &diff(&realm(vec![], |_| {}), &to, &DiffOptions::default()).unwrap(),
        &to,
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("enum"), "{err}");
}

/// A kept foreign key whose two covering indexes both go gets the index MySQL needs once, not once per dropped
/// index (MariaDB refuses a duplicate key name; found by the convergence property test).
#[test]
fn a_kept_key_losing_two_covering_indexes_gets_one_index() {
    let mut p = Table::new("p");
    p.columns = vec![col("id", "int", false)];
    p.primary_key = Some(PrimaryKey::columns(["id"]));
    let mut d = Table::new("d");
    d.columns = vec![
        col("id", "int", false),
        col("p2", "int", true),
        col("x", "int", true),
    ];
    d.primary_key = Some(PrimaryKey::columns(["id"]));
    d.foreign_keys = vec![fk("d_fk1", "p2", "p")];
    d.indexes = vec![Index::on("d_i0", ["p2"]), Index::on("d_i1", ["p2", "x"])];
    let from = realm(vec![p.clone(), d.clone()], |_| {});
    d.indexes.clear();
    let to = realm(vec![p, d], |_| {});
    let sql = plan(&diff(&from, &to, &DiffOptions::default()).unwrap(), &to)
        .unwrap()
        .to_sql();
    assert_eq!(sql.matches("ADD INDEX `d_fk1`").count(), 1, "{sql}");
    assert!(
        sql.contains("DROP INDEX `d_i0`") && sql.contains("DROP INDEX `d_i1`"),
        "{sql}"
    );
}

/// A new table's foreign key to an existing table is inline in its `CREATE TABLE`, as Atlas writes it, also when
/// that table changes in ways the reference does not see (a check); when the change touches the referenced
/// column, the key waits for the `ALTER TABLE` and is added after it.
#[test]
fn a_new_tables_key_to_an_existing_table_is_inline_unless_the_change_touches_it() {
    let run =
        |a: &Realm, b: &Realm| plan(&diff(a, b, &DiffOptions::default()).unwrap(), b).unwrap();
    let mut parent = Table::new("parent");
    parent.columns = vec![col("id", "int", false)];
    parent.primary_key = Some(PrimaryKey::columns(["id"]));
    let mut child = Table::new("child");
    child.columns = vec![col("id", "int", false), col("parent_id", "int", true)];
    child.primary_key = Some(PrimaryKey::columns(["id"]));
    child.indexes = vec![Index::on("child_parent", ["parent_id"])];
    child.foreign_keys = vec![fk("child_parent", "parent_id", "parent")];
    let a = realm(vec![parent.clone()], |_| {});

    let mut checked = parent.clone();
    checked.checks = vec![Check::new(Some("positive"), "(`id` > 0)")];
    let p = run(&a, &realm(vec![checked, child.clone()], |_| {}));
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(sql.len(), 2, "{sql:#?}");
    assert!(
        sql[0].starts_with("CREATE TABLE `child`")
            && sql[0].contains(
                "CONSTRAINT `child_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`)"
            ),
        "{sql:#?}"
    );
    assert_eq!(
        sql[1],
        "ALTER TABLE `parent` ADD CONSTRAINT `positive` CHECK (`id` > 0)"
    );

    let mut retyped = parent.clone();
    retyped.columns[0] = col("id", "bigint", false);
    let mut child_big = child.clone();
    child_big.columns[1] = col("parent_id", "bigint", true);
    let p = run(&a, &realm(vec![retyped, child_big], |_| {}));
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(sql.len(), 3, "{sql:#?}");
    assert!(!sql[0].contains("FOREIGN KEY"), "{sql:#?}");
    assert!(
        sql[1].starts_with("ALTER TABLE `parent` MODIFY COLUMN"),
        "{sql:#?}"
    );
    assert!(
        sql[2].starts_with("ALTER TABLE `child` ADD CONSTRAINT `child_parent` FOREIGN KEY"),
        "{sql:#?}"
    );
}
