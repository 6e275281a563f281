//! PostgreSQL plans: statements and comments as snapshots, order, reverses and destructive lists.

use crate::diff::{DiffOptions, diff};
use crate::model::*;
use crate::plan::{Loss, PlanError, plan};
use crate::types::ColumnType;
use strata_migrate::Dialect;

const D: Dialect = Dialect::Postgres;

fn col(name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ColumnType::parse(D, ty))
    }
}

fn realm(tables: Vec<Table>, f: impl FnOnce(&mut Schema)) -> Realm {
    let mut s = Schema::new("public");
    s.tables = tables;
    f(&mut s);
    let mut r = Realm::new(D);
    r.schemas = vec![s];
    r.sort();
    r
}

fn fk(name: &str, col: &str, target: &str) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: vec![col.into()],
        ref_schema: "public".into(),
        ref_table: target.into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::Cascade,
        deferrable: true,
        initially_deferred: true,
    }
}

fn teams() -> Table {
    let mut t = Table::new("teams");
    t.columns = vec![
        Column {
            identity: Some(Identity {
                always: true,
                start: 1,
                increment: 1,
            }),
            ..col("id", "bigint", false)
        },
        Column {
            default: Some("'x'::character varying".into()),
            collation: Some("C".into()),
            comment: Some("it's the name".into()),
            ..col("name", "character varying(20)", false)
        },
        col("lead_id", "bigint", true),
    ];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    t.foreign_keys = vec![fk("teams_lead", "lead_id", "users")];
    t.comment = Some("teams".into());
    t
}

fn users() -> Table {
    let mut t = Table::new("users");
    t.columns = vec![
        Column {
            default: Some("nextval('public.users_id_seq'::regclass)".into()),
            ..col("id", "integer", false)
        },
        col("team_id", "bigint", true),
        col("mood", "public.mood", true),
        Column {
            generated: Some(Generated {
                expr: "(id * 2)".into(),
                stored: true,
            }),
            ..col("twice", "integer", true)
        },
    ];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    t.foreign_keys = vec![fk("users_team", "team_id", "teams")];
    t.indexes = vec![
        Index {
            unique: true,
            predicate: Some("(team_id IS NOT NULL)".into()),
            include: vec!["mood".into()],
            ..Index::on("users_team_idx", ["team_id"])
        },
        Index {
            parts: vec![IndexPart {
                desc: true,
                ..IndexPart::expr("(id + 1)")
            }],
            method: Some("btree".into()),
            ..Index::on("users_expr", Vec::<String>::new())
        },
        Index {
            unique: true,
            constraint: true,
            ..Index::on("users_mood_key", ["mood"])
        },
    ];
    t.checks = vec![Check::new(Some("users_id_check"), "(id > 0)")];
    t
}

fn rich() -> Realm {
    realm(vec![teams(), users()], |s| {
        s.enums.push(Enum {
            name: "mood".into(),
            values: vec!["sad".into(), "ok".into()],
        });
        s.sequences.push(Sequence {
            name: "users_id_seq".into(),
            data_type: Some("integer".into()),
            start: 1,
            increment: 1,
            min_value: 1,
            max_value: i64::from(i32::MAX),
            cache: 1,
            cycle: false,
            owned_by: Some("users.id".into()),
        });
        s.views.push(View {
            name: "team_users".into(),
            definition: " SELECT u.id\n   FROM public.users u;".into(),
            check_option: None,
            comment: None,
        });
    })
}

#[test]
fn create_everything_in_dependency_order() {
    let to = rich();
    let c = diff(&Realm::new(D), &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    insta::assert_snapshot!(p.to_sql());
    assert!(p.destructive().is_empty());
    assert!(
        p.statements
            .iter()
            .all(|s| s.reverse.is_some() || s.sql.starts_with("COMMENT"))
    );
    // The serial column's sequence is not created on its own.
    assert!(!p.to_sql().contains("CREATE SEQUENCE"));
}

#[test]
fn one_alter_table_per_table_and_separate_indexes() {
    let from = rich();
    let mut to = from.clone();
    let s = &mut to.schemas[0];
    let u = s.tables.iter_mut().find(|t| t.name == "users").unwrap();
    u.columns.retain(|c| c.name != "mood");
    u.indexes
        .retain(|i| !i.include.contains(&"mood".to_string()) && i.name != "users_mood_key");
    u.columns.push(Column {
        default: Some("0".into()),
        ..col("score", "integer", false)
    });
    u.columns[1].ty = ColumnType::parse(D, "numeric(20,0)");
    u.checks[0].expr = "(id > 1)".into();
    u.indexes.push(Index::on("users_score", ["score"]));
    s.enums[0].values.insert(1, "meh".into());
    s.enums[0].values.push("great".into());
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    insta::assert_snapshot!(p.to_sql());
    let alters = p
        .statements
        .iter()
        .filter(|s| s.sql.starts_with("ALTER TABLE \"public\".\"users\""))
        .count();
    assert_eq!(alters, 1);
    assert_eq!(
        p.destructive(),
        vec![&Loss::Column {
            schema: "public".into(),
            table: "users".into(),
            name: "mood".into()
        }]
    );
    let alter = p
        .statements
        .iter()
        .find(|s| s.sql.starts_with("ALTER TABLE \"public\".\"users\""))
        .unwrap();
    let reverse = alter.reverse.as_deref().unwrap();
    assert!(reverse.contains("DROP COLUMN \"score\""), "{reverse}");
    assert!(reverse.contains("ADD COLUMN \"mood\""), "{reverse}");
}

#[test]
fn drops_go_last_and_name_their_losses() {
    let from = rich();
    let to = realm(vec![], |_| {});
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    insta::assert_snapshot!(p.to_sql());
    assert_eq!(p.destructive().len(), 2);
}

#[test]
fn enum_value_removal_is_refused() {
    let from = rich();
    let mut to = from.clone();
    to.schemas[0].enums[0].values.pop();
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let e = plan(&c, &to).unwrap_err();
    assert!(matches!(e, PlanError::Unsupported { .. }));
    assert!(e.to_string().contains("enum \"mood\""), "{e}");
}

#[test]
fn new_schema_and_comment() {
    let mut to = rich();
    let mut s = Schema::new("app");
    s.comment = Some("the app".into());
    s.tables.push(Table {
        columns: vec![col("id", "integer", false)],
        ..Table::new("t")
    });
    to.schemas.push(s);
    to.sort();
    let c = diff(&rich(), &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    insta::assert_snapshot!(p.to_sql(), @r#"
    -- Add new schema named "app"
    CREATE SCHEMA "app";
    -- Set comment to schema: "app"
    COMMENT ON SCHEMA "app" IS 'the app';
    -- Create "t" table
    CREATE TABLE "app"."t" ("id" integer NOT NULL);
    "#);
}

/// `concurrent_index`: indexes of existing tables are built and dropped `CONCURRENTLY`, outside the transaction,
/// a failed build cleaned up only when invalid; a new table's indexes stay plain and inside it; the migration
/// file runs without a transaction.
#[test]
fn concurrent_index_only_on_existing_tables_and_outside_the_transaction() {
    use crate::plan::{ConcurrentIndex, PlanOptions, plan_with};
    let from = rich();
    let mut to = from.clone();
    let s = &mut to.schemas[0];
    let u = s.tables.iter_mut().find(|t| t.name == "users").unwrap();
    u.indexes.retain(|i| i.name != "users_expr");
    u.indexes.push(Index {
        comment: Some("by team".into()),
        ..Index::on("users_team_id", ["team_id"])
    });
    let mut fresh = Table::new("audits");
    fresh.columns = vec![col("id", "integer", false)];
    fresh.indexes = vec![Index::on("audits_id", ["id"])];
    s.tables.push(fresh);
    to.sort();
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();

    let plain = plan(&c, &to).unwrap();
    assert!(plain.transactional());
    assert!(!plain.to_sql().contains("CONCURRENTLY"));
    assert!(!plain.to_migration_file().unwrap().contains("txmode"));

    let both = ConcurrentIndex {
        create: true,
        drop: true,
    };
    let p = plan_with(&c, &to, &PlanOptions::default().concurrent_index(both)).unwrap();
    insta::assert_snapshot!(p.to_migration_file().unwrap());
    assert!(!p.transactional());
    let by_sql = |prefix: &str| {
        p.statements
            .iter()
            .find(|s| s.sql.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {}", p.to_sql()))
    };
    let create = by_sql("CREATE INDEX CONCURRENTLY \"users_team_id\"");
    assert!(create.outside_transaction);
    let cleanup = create.cleanup.as_deref().unwrap();
    assert!(
        cleanup.contains("NOT indisvalid")
            && cleanup.contains("DROP INDEX \"public\".\"users_team_id\""),
        "{cleanup}"
    );
    assert_eq!(
        create.reverse.as_deref(),
        Some("DROP INDEX CONCURRENTLY \"public\".\"users_team_id\"")
    );
    let dropped = by_sql("DROP INDEX CONCURRENTLY \"public\".\"users_expr\"");
    assert!(dropped.outside_transaction && dropped.cleanup.is_none());
    let fresh_index = by_sql("CREATE INDEX \"audits_id\"");
    assert!(!fresh_index.outside_transaction);
    // The comment of the concurrently built index comes after it, inside a transaction.
    let comment = by_sql("COMMENT ON INDEX \"public\".\"users_team_id\"");
    assert!(!comment.outside_transaction);

    let only_drop = ConcurrentIndex {
        create: false,
        drop: true,
    };
    let p = plan_with(&c, &to, &PlanOptions::default().concurrent_index(only_drop)).unwrap();
    let sql = p.to_sql();
    assert!(
        sql.contains("DROP INDEX CONCURRENTLY") && !sql.contains("CREATE INDEX CONCURRENTLY"),
        "{sql}"
    );
}
