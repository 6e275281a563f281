//! The JSON form: a snapshot of a model using every field, and the round trip back.

use crate::*;

fn col(d: Dialect, name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ColumnType::parse(d, ty))
    }
}

/// A PostgreSQL realm with one of everything.
pub(crate) fn rich_postgres() -> Realm {
    let d = Dialect::Postgres;
    let mut users = Table::new("users");
    users.columns = vec![
        Column {
            identity: Some(Identity {
                always: true,
                start: 1,
                increment: 1,
            }),
            ..col(d, "id", "bigint", false)
        },
        Column {
            default: Some("'x'::text".into()),
            collation: Some("C".into()),
            comment: Some("the name".into()),
            ..col(d, "name", "text", false)
        },
        Column {
            generated: Some(Generated {
                expr: "lower(name)".into(),
                stored: true,
            }),
            ..col(d, "lname", "text", true)
        },
        col(d, "status", "\"Status\"", true),
        col(d, "tags", "character varying(20)[]", true),
        col(d, "team_id", "integer", true),
    ];
    users.primary_key = Some(PrimaryKey {
        name: Some("users_pkey".into()),
        parts: vec![IndexPart::column("id")],
    });
    users.indexes = vec![
        Index {
            unique: true,
            predicate: Some("(team_id IS NOT NULL)".into()),
            include: vec!["status".into()],
            ..Index::on("users_name", ["name"])
        },
        Index {
            parts: vec![
                IndexPart {
                    desc: true,
                    opclass: Some("text_pattern_ops".into()),
                    collation: Some("C".into()),
                    ..IndexPart::expr("lower(name)")
                },
                IndexPart::column("id"),
            ],
            method: Some("btree".into()),
            ..Index::on("users_lower", Vec::<String>::new())
        },
    ];
    users.foreign_keys = vec![ForeignKey {
        name: "users_team_fk".into(),
        columns: vec!["team_id".into()],
        ref_schema: "public".into(),
        ref_table: "teams".into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::SetNull,
        deferrable: true,
        initially_deferred: true,
    }];
    users.checks = vec![Check {
        no_inherit: true,
        ..Check::new(Some("name_nonempty"), "(name <> ''::text)")
    }];
    users.comment = Some("people".into());
    let mut teams = Table::new("teams");
    teams.columns = vec![col(d, "id", "integer", false)];
    teams.primary_key = Some(PrimaryKey::columns(["id"]));
    let mut public = Schema::new("public");
    public.comment = Some("standard public schema".into());
    public.tables = vec![teams, users];
    public.views = vec![View {
        name: "v".into(),
        definition: " SELECT users.id\n   FROM users;".into(),
        check_option: Some(CheckOption::Local),
        comment: None,
    }];
    public.materialized_views = vec![View {
        name: "mv".into(),
        definition: " SELECT 1;".into(),
        check_option: None,
        comment: Some("m".into()),
    }];
    public.enums = vec![Enum {
        name: "Status".into(),
        values: vec!["on".into(), "off".into()],
    }];
    public.sequences = vec![Sequence {
        name: "s".into(),
        data_type: Some("bigint".into()),
        start: 1,
        increment: 1,
        min_value: 1,
        max_value: i64::MAX,
        cache: 1,
        cycle: false,
        owned_by: Some("teams.id".into()),
    }];
    public.functions = vec![Function {
        name: "f".into(),
        kind: RoutineKind::Function,
        args: "a integer".into(),
        definition: "CREATE OR REPLACE FUNCTION public.f(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a $$"
            .into(),
    }];
    public.triggers = vec![Trigger {
        name: "t".into(),
        table: "users".into(),
        definition:
            "CREATE TRIGGER t BEFORE INSERT ON public.users FOR EACH ROW EXECUTE FUNCTION g()"
                .into(),
    }];
    let mut r = Realm::new(d);
    r.schemas = vec![public];
    r.extensions = vec![Extension {
        name: "pgcrypto".into(),
        schema: "public".into(),
        version: "1.3".into(),
    }];
    r
}

fn mysql_and_sqlite_bits() -> (Realm, Realm) {
    let d = Dialect::Mysql;
    let mut t = Table::new("t");
    t.columns = vec![
        Column {
            auto_increment: true,
            ..col(d, "id", "int unsigned", false)
        },
        Column {
            charset: Some("utf8mb4".into()),
            collation: Some("utf8mb4_bin".into()),
            ..col(d, "e", "enum('a','b')", true)
        },
        Column {
            default: Some("current_timestamp()".into()),
            on_update: Some("current_timestamp()".into()),
            ..col(d, "at", "timestamp", false)
        },
    ];
    t.indexes = vec![Index {
        parts: vec![IndexPart {
            prefix: Some(10),
            ..IndexPart::column("e")
        }],
        ..Index::on("p", Vec::<String>::new())
    }];
    t.checks = vec![Check {
        enforced: false,
        ..Check::new(Some("c"), "(`id` > 0)")
    }];
    t.options = TableOptions {
        engine: Some("InnoDB".into()),
        charset: Some("utf8mb4".into()),
        collation: Some("utf8mb4_general_ci".into()),
        auto_increment: Some(100),
        ..TableOptions::default()
    };
    let mut db = Schema::new("app");
    db.charset = Some("utf8mb4".into());
    db.collation = Some("utf8mb4_general_ci".into());
    db.tables = vec![t];
    let mut my = Realm::new(d);
    my.schemas = vec![db];

    let d = Dialect::Sqlite;
    let mut s = Table::new("s");
    s.columns = vec![col(d, "k", "TEXT", false)];
    s.primary_key = Some(PrimaryKey::columns(["k"]));
    s.options = TableOptions {
        strict: true,
        without_rowid: true,
        ..TableOptions::default()
    };
    let mut main = Schema::new("main");
    main.tables = vec![s];
    let mut lite = Realm::new(d);
    lite.schemas = vec![main];
    (my, lite)
}

#[test]
fn postgres_json_shape() {
    insta::assert_json_snapshot!(rich_postgres());
}

#[test]
fn mysql_and_sqlite_json_shape() {
    let (my, lite) = mysql_and_sqlite_bits();
    insta::assert_json_snapshot!("mysql", my);
    insta::assert_json_snapshot!("sqlite", lite);
}

#[test]
fn json_round_trip_is_lossless() {
    let (my, lite) = mysql_and_sqlite_bits();
    for r in [rich_postgres(), my, lite] {
        let text = serde_json::to_string(&r).unwrap();
        let back: Realm = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}

#[test]
fn unknown_dialect_is_a_clear_error() {
    let err = serde_json::from_str::<Realm>(r#"{"dialect":"oracle","schemas":[]}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown dialect \"oracle\""),
        "{err}"
    );
}

#[test]
fn sort_orders_by_name_and_keeps_columns() {
    let mut r = rich_postgres();
    let s = &mut r.schemas[0];
    s.tables.reverse();
    assert_eq!(s.tables[0].name, "users");
    s.tables[0].indexes.reverse();
    s.tables[0].columns.reverse();
    let cols: Vec<String> = s.tables[0].columns.iter().map(|c| c.name.clone()).collect();
    r.sort();
    let s = &r.schemas[0];
    assert_eq!(s.tables[0].name, "teams");
    assert_eq!(s.tables[1].indexes[0].name, "users_lower");
    let after: Vec<String> = s.tables[1].columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(after, cols);
}
