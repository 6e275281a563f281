//! Diff tests: one per change kind, normalisation, options, determinism and speed.

use super::*;
use crate::model::*;
use crate::types::ColumnType;

fn col(d: Dialect, name: &str, ty: &str) -> Column {
    Column {
        nullable: false,
        ..Column::new(name, ColumnType::parse(d, ty))
    }
}

fn realm(d: Dialect, schema: &str, tables: Vec<Table>) -> Realm {
    let mut s = Schema::new(schema);
    s.tables = tables;
    let mut r = Realm::new(d);
    r.schemas = vec![s];
    r
}

fn users(d: Dialect) -> Table {
    let mut t = Table::new("users");
    t.columns = vec![col(d, "id", "integer"), col(d, "name", "text")];
    t.primary_key = Some(PrimaryKey::columns(["id"]));
    t
}

fn pg(tables: Vec<Table>) -> Realm {
    realm(Dialect::Postgres, "public", tables)
}

fn run(a: &Realm, b: &Realm) -> Vec<Change> {
    diff(a, b, &DiffOptions::default()).unwrap().changes
}

/// The table changes of the only change, which must be a ModifyTable.
fn table_changes(a: &Realm, b: &Realm) -> Vec<TableChange> {
    let c = run(a, b);
    assert_eq!(c.len(), 1, "{c:#?}");
    match &c[0] {
        Change::ModifyTable { changes, .. } => changes.clone(),
        other => panic!("not a ModifyTable: {other:#?}"),
    }
}

fn modify_column_what(a: &Realm, b: &Realm) -> ChangeKind {
    let c = table_changes(a, b);
    assert_eq!(c.len(), 1, "{c:#?}");
    match &c[0] {
        TableChange::ModifyColumn { what, .. } => *what,
        other => panic!("{other:#?}"),
    }
}

#[test]
fn identical_realms_have_no_changes() {
    let r = crate::json_tests::rich_postgres();
    assert!(diff(&r, &r, &DiffOptions::default()).unwrap().is_empty());
    let empty = Realm::new(Dialect::Sqlite);
    assert!(
        diff(&empty, &empty, &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn dialects_must_match() {
    let err = diff(
        &Realm::new(Dialect::Postgres),
        &Realm::new(Dialect::Mysql),
        &DiffOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot diff a postgres schema with a mysql schema: both sides must come from the same kind of database"
    );
}

#[test]
fn schemas_added_dropped_and_modified() {
    let d = Dialect::Postgres;
    let a = pg(vec![users(d)]);
    let mut b = a.clone();
    let mut extra = Schema::new("audit");
    extra.comment = Some("x".into());
    extra.tables = vec![users(d)];
    b.schemas.insert(0, extra);
    let c = run(&a, &b);
    assert!(
        matches!(&c[0], Change::AddSchema { schema } if schema.name == "audit" && schema.comment.as_deref() == Some("x"))
    );
    assert!(
        matches!(&c[1], Change::AddTable { schema, table } if schema == "audit" && table.name == "users")
    );
    assert_eq!(c.len(), 2);
    let back = run(&b, &a);
    assert!(matches!(&back[..], [Change::DropSchema { schema }] if schema.name == "audit"));

    let mut commented = a.clone();
    commented.schemas[0].comment = Some("hello".into());
    match &run(&a, &commented)[..] {
        [Change::ModifySchema { what, .. }] => assert_eq!(*what, ChangeKind::COMMENT),
        other => panic!("{other:#?}"),
    }
}

#[test]
fn tables_added_and_dropped() {
    let d = Dialect::Postgres;
    let a = pg(vec![]);
    let b = pg(vec![users(d)]);
    assert!(matches!(&run(&a, &b)[..], [Change::AddTable { table, .. }] if table.name == "users"));
    assert!(matches!(&run(&b, &a)[..], [Change::DropTable { table, .. }] if table.name == "users"));
}

#[test]
fn columns_added_and_dropped() {
    let d = Dialect::Postgres;
    let a = pg(vec![users(d)]);
    let mut t = users(d);
    t.columns.push(col(d, "age", "integer"));
    let b = pg(vec![t]);
    assert!(
        matches!(&table_changes(&a, &b)[..], [TableChange::AddColumn { column }] if column.name == "age")
    );
    assert!(
        matches!(&table_changes(&b, &a)[..], [TableChange::DropColumn { column }] if column.name == "age")
    );
}

#[test]
fn every_column_change_kind_is_named() {
    let d = Dialect::Mysql;
    let base = realm(d, "app", vec![users(d)]);
    type Edit = Box<dyn Fn(&mut Column)>;
    let edits: Vec<(ChangeKind, Edit)> = vec![
        (
            ChangeKind::TYPE,
            Box::new(|c| c.ty = ColumnType::parse(Dialect::Mysql, "varchar(10)")),
        ),
        (ChangeKind::NULL, Box::new(|c| c.nullable = true)),
        (
            ChangeKind::DEFAULT,
            Box::new(|c| c.default = Some("'x'".into())),
        ),
        (
            ChangeKind::GENERATED,
            Box::new(|c| {
                c.generated = Some(Generated {
                    expr: "upper(id)".into(),
                    stored: false,
                })
            }),
        ),
        (
            ChangeKind::COLLATION,
            Box::new(|c| c.collation = Some("utf8mb4_bin".into())),
        ),
        (
            ChangeKind::CHARSET,
            Box::new(|c| c.charset = Some("latin1".into())),
        ),
        (
            ChangeKind::COMMENT,
            Box::new(|c| c.comment = Some("n".into())),
        ),
        (ChangeKind::IDENTITY, Box::new(|c| c.auto_increment = true)),
        (
            ChangeKind::ON_UPDATE,
            Box::new(|c| c.on_update = Some("current_timestamp()".into())),
        ),
    ];
    for (kind, edit) in edits {
        let mut b = base.clone();
        edit(&mut b.schemas[0].tables[0].columns[1]);
        assert_eq!(modify_column_what(&base, &b), kind, "{:?}", kind.names());
    }
    let mut both = base.clone();
    both.schemas[0].tables[0].columns[1].nullable = true;
    both.schemas[0].tables[0].columns[1].comment = Some("c".into());
    let what = modify_column_what(&base, &both);
    assert_eq!(what, ChangeKind::NULL | ChangeKind::COMMENT);
    assert_eq!(what.names(), vec!["null", "comment"]);
    let pg_identity = {
        let mut b = pg(vec![users(Dialect::Postgres)]);
        b.schemas[0].tables[0].columns[0].identity = Some(Identity {
            always: false,
            start: 1,
            increment: 1,
        });
        b
    };
    assert_eq!(
        modify_column_what(&pg(vec![users(Dialect::Postgres)]), &pg_identity),
        ChangeKind::IDENTITY
    );
}

#[test]
fn indexes_added_dropped_and_modified() {
    let d = Dialect::Postgres;
    let a = pg(vec![users(d)]);
    let mut t = users(d);
    t.indexes = vec![Index::on("users_name", ["name"])];
    let b = pg(vec![t.clone()]);
    assert!(
        matches!(&table_changes(&a, &b)[..], [TableChange::AddIndex { index }] if index.name == "users_name")
    );
    assert!(
        matches!(&table_changes(&b, &a)[..], [TableChange::DropIndex { index }] if index.name == "users_name")
    );
    for (kind, edit) in [
        (
            ChangeKind::UNIQUE,
            (|i: &mut Index| i.unique = true) as fn(&mut Index),
        ),
        (ChangeKind::PARTS, |i| i.parts[0].desc = true),
        (ChangeKind::PREDICATE, |i| {
            i.predicate = Some("id > 0".into())
        }),
        (ChangeKind::METHOD, |i| i.method = Some("hash".into())),
        (ChangeKind::INCLUDE, |i| i.include = vec!["id".into()]),
    ] {
        let mut u = t.clone();
        edit(&mut u.indexes[0]);
        match &table_changes(&b, &pg(vec![u]))[..] {
            [TableChange::ModifyIndex { what, .. }] => assert_eq!(*what, kind),
            other => panic!("{other:#?}"),
        }
    }
    // `btree` is PostgreSQL's default method; predicate parentheses do not matter.
    let mut u = t.clone();
    u.indexes[0].method = Some("btree".into());
    u.indexes[0].predicate = Some("(id > 0)".into());
    let mut v = t.clone();
    v.indexes[0].predicate = Some("id > 0".into());
    assert!(run(&pg(vec![u]), &pg(vec![v])).is_empty());
}

#[test]
fn implicit_index_names_match_by_parts() {
    // PostgreSQL names an unnamed UNIQUE constraint `users_name_key`; SQLite `sqlite_autoindex_users_1`.
    for (d, implicit) in [
        (Dialect::Postgres, "users_name_key"),
        (Dialect::Sqlite, "sqlite_autoindex_users_1"),
    ] {
        let mut t = users(d);
        t.indexes = vec![Index {
            unique: true,
            constraint: true,
            ..Index::on(implicit, ["name"])
        }];
        let mut u = users(d);
        u.indexes = vec![Index {
            unique: true,
            ..Index::on("uq", ["name"])
        }];
        assert!(
            run(
                &realm(d, "s", vec![t.clone()]),
                &realm(d, "s", vec![u.clone()])
            )
            .is_empty()
        );
        assert!(
            run(
                &realm(d, "s", vec![u.clone()]),
                &realm(d, "s", vec![t.clone()])
            )
            .is_empty()
        );
        // Not the same parts: dropped and added.
        u.indexes[0].parts = vec![IndexPart::column("id")];
        assert_eq!(
            table_changes(&realm(d, "s", vec![t]), &realm(d, "s", vec![u])).len(),
            2
        );
    }
    // Two explicitly named indexes never match by parts.
    let d = Dialect::Postgres;
    let mut t = users(d);
    t.indexes = vec![Index::on("a", ["name"])];
    let mut u = users(d);
    u.indexes = vec![Index::on("b", ["name"])];
    assert_eq!(table_changes(&pg(vec![t]), &pg(vec![u])).len(), 2);
}

fn fk(name: &str, col: &str, table: &str) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: vec![col.into()],
        ref_schema: "public".into(),
        ref_table: table.into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
    }
}

#[test]
fn mysql_foreign_key_index_is_implicit() {
    let d = Dialect::Mysql;
    let mut t = users(d);
    t.columns.push(col(d, "team", "int"));
    t.foreign_keys = vec![ForeignKey {
        ref_schema: "app".into(),
        ..fk("users_team", "team", "teams")
    }];
    let mut inspected = t.clone();
    inspected.indexes = vec![Index::on("users_team", ["team"])];
    assert!(
        run(
            &realm(d, "app", vec![inspected.clone()]),
            &realm(d, "app", vec![t.clone()])
        )
        .is_empty()
    );
    assert!(run(&realm(d, "app", vec![t]), &realm(d, "app", vec![inspected])).is_empty());
}

#[test]
fn primary_keys_added_dropped_and_modified() {
    let d = Dialect::Postgres;
    let a = pg(vec![users(d)]);
    let mut t = users(d);
    t.primary_key = None;
    let b = pg(vec![t]);
    assert!(matches!(
        &table_changes(&a, &b)[..],
        [TableChange::DropPrimaryKey { .. }]
    ));
    assert!(matches!(
        &table_changes(&b, &a)[..],
        [TableChange::AddPrimaryKey { .. }]
    ));
    let mut t = users(d);
    t.primary_key = Some(PrimaryKey::columns(["id", "name"]));
    assert!(matches!(
        &table_changes(&a, &pg(vec![t]))[..],
        [TableChange::ModifyPrimaryKey { .. }]
    ));
    // `users_pkey` is the name PostgreSQL gives an unnamed key.
    let mut t = users(d);
    t.primary_key.as_mut().unwrap().name = Some("users_pkey".into());
    assert!(run(&a, &pg(vec![t])).is_empty());
}

#[test]
fn foreign_keys_added_dropped_and_modified() {
    let d = Dialect::Postgres;
    let mut t = users(d);
    t.columns.push(col(d, "team", "integer"));
    let a = pg(vec![t.clone()]);
    t.foreign_keys = vec![fk("fk", "team", "teams")];
    let b = pg(vec![t.clone()]);
    assert!(
        matches!(&table_changes(&a, &b)[..], [TableChange::AddForeignKey { fk }] if fk.name == "fk")
    );
    assert!(matches!(
        &table_changes(&b, &a)[..],
        [TableChange::DropForeignKey { .. }]
    ));
    for (kind, edit) in [
        (
            ChangeKind::DELETE_ACTION,
            (|f: &mut ForeignKey| f.on_delete = FkAction::Cascade) as fn(&mut ForeignKey),
        ),
        (ChangeKind::UPDATE_ACTION, |f| {
            f.on_update = FkAction::SetNull
        }),
        (ChangeKind::REF_TABLE, |f| f.ref_table = "groups".into()),
        (ChangeKind::REF_COLUMNS, |f| {
            f.ref_columns = vec!["key".into()]
        }),
        (ChangeKind::COLUMNS, |f| f.columns = vec!["id".into()]),
        (ChangeKind::DEFERRABLE, |f| f.deferrable = true),
    ] {
        let mut u = t.clone();
        edit(&mut u.foreign_keys[0]);
        match &table_changes(&b, &pg(vec![u]))[..] {
            [TableChange::ModifyForeignKey { what, .. }] => assert_eq!(*what, kind),
            other => panic!("{other:#?}"),
        }
    }
}

#[test]
fn sqlite_foreign_keys_match_by_what_they_reference() {
    let d = Dialect::Sqlite;
    let mut t = users(d);
    t.columns.push(col(d, "team", "integer"));
    t.foreign_keys = vec![ForeignKey {
        ref_schema: "main".into(),
        ..fk("0", "team", "teams")
    }];
    let mut u = t.clone();
    u.foreign_keys[0].name = "users_team_fk".into();
    u.foreign_keys[0].ref_table = "Teams".into();
    assert!(
        run(
            &realm(d, "main", vec![t.clone()]),
            &realm(d, "main", vec![u.clone()])
        )
        .is_empty()
    );
    u.foreign_keys[0].on_delete = FkAction::Cascade;
    match &table_changes(&realm(d, "main", vec![t]), &realm(d, "main", vec![u]))[..] {
        [TableChange::ModifyForeignKey { what, .. }] => {
            assert_eq!(*what, ChangeKind::DELETE_ACTION)
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn checks_added_dropped_and_modified() {
    let d = Dialect::Postgres;
    let a = pg(vec![users(d)]);
    let mut t = users(d);
    t.checks = vec![Check::new(Some("pos"), "(id > 0)")];
    let b = pg(vec![t.clone()]);
    assert!(matches!(
        &table_changes(&a, &b)[..],
        [TableChange::AddCheck { .. }]
    ));
    assert!(matches!(
        &table_changes(&b, &a)[..],
        [TableChange::DropCheck { .. }]
    ));
    let mut u = t.clone();
    u.checks[0].expr = "id > 1".into();
    match &table_changes(&b, &pg(vec![u]))[..] {
        [TableChange::ModifyCheck { what, .. }] => assert_eq!(*what, ChangeKind::EXPR),
        other => panic!("{other:#?}"),
    }
    // Parentheses and spacing are not changes.
    let mut u = t.clone();
    u.checks[0].expr = "id  >  0".into();
    assert!(run(&b, &pg(vec![u])).is_empty());
    // Unnamed checks match by expression.
    let mut x = users(d);
    x.checks = vec![Check::new(None, "(id > 0)"), Check::new(None, "name <> ''")];
    let mut y = users(d);
    y.checks = vec![Check::new(None, "name <> ''"), Check::new(None, "id > 0")];
    assert!(run(&pg(vec![x.clone()]), &pg(vec![y])).is_empty());
    let mut z = users(d);
    z.checks = vec![Check::new(None, "id > 5")];
    let c = table_changes(&pg(vec![x]), &pg(vec![z]));
    assert_eq!(c.len(), 3, "{c:#?}");
}

#[test]
fn comments_and_options() {
    let d = Dialect::Sqlite;
    let a = realm(d, "main", vec![users(d)]);
    let mut t = users(d);
    t.options.strict = true;
    t.comment = Some("c".into());
    let c = table_changes(&a, &realm(d, "main", vec![t]));
    assert!(
        matches!(&c[..], [TableChange::ModifyComment { .. }, TableChange::ModifyOptions { to, .. }] if to.strict)
    );
    // InnoDB is MySQL's default engine.
    let d = Dialect::Mysql;
    let mut t = users(d);
    t.options.engine = Some("InnoDB".into());
    assert!(run(&realm(d, "app", vec![users(d)]), &realm(d, "app", vec![t])).is_empty());
}

fn with<F: FnOnce(&mut Schema)>(f: F) -> Realm {
    let mut r = pg(vec![]);
    f(&mut r.schemas[0]);
    r
}

#[test]
fn views_and_objects() {
    let view = |def: &str| View {
        name: "v".into(),
        definition: def.into(),
        check_option: None,
        comment: None,
    };
    let a = with(|s| s.views = vec![view("SELECT 1")]);
    let b = with(|s| s.views = vec![view(" SELECT  1;")]);
    assert!(run(&a, &b).is_empty());
    let c = with(|s| s.views = vec![view("SELECT 2")]);
    assert!(matches!(
        &run(&a, &c)[..],
        [Change::ModifyObject {
            from: Object::View(_),
            ..
        }]
    ));
    assert!(matches!(
        &run(&pg(vec![]), &a)[..],
        [Change::AddObject {
            object: Object::View(_),
            ..
        }]
    ));
    assert!(matches!(
        &run(&a, &pg(vec![]))[..],
        [Change::DropObject {
            object: Object::View(_),
            ..
        }]
    ));
    let m = with(|s| s.materialized_views = vec![view("SELECT 1")]);
    assert!(matches!(
        &run(&pg(vec![]), &m)[..],
        [Change::AddObject {
            object: Object::MaterializedView(_),
            ..
        }]
    ));

    let seq = |inc| Sequence {
        name: "s".into(),
        data_type: None,
        start: 1,
        increment: inc,
        min_value: 1,
        max_value: 100,
        cache: 1,
        cycle: false,
        owned_by: None,
    };
    let a = with(|s| s.sequences = vec![seq(1)]);
    let b = with(|s| s.sequences = vec![seq(2)]);
    assert!(
        matches!(&run(&a, &b)[..], [Change::ModifyObject { to: Object::Sequence(s), .. }] if s.increment == 2)
    );

    let func = |args: &str, body: &str| Function {
        name: "f".into(),
        kind: RoutineKind::Function,
        args: args.into(),
        definition: body.into(),
    };
    // Overloads are different functions.
    let a = with(|s| s.functions = vec![func("a integer", "x")]);
    let b = with(|s| s.functions = vec![func("a integer", "x"), func("a text", "y")]);
    assert!(
        matches!(&run(&a, &b)[..], [Change::AddObject { object: Object::Function(f), .. }] if f.args == "a text")
    );
    let c = with(|s| s.functions = vec![func("a integer", "z")]);
    assert!(matches!(&run(&a, &c)[..], [Change::ModifyObject { .. }]));

    let trig = |table: &str, def: &str| Trigger {
        name: "t".into(),
        table: table.into(),
        definition: def.into(),
    };
    // The same trigger name on two tables: two triggers.
    let a = with(|s| s.triggers = vec![trig("a", "x")]);
    let b = with(|s| s.triggers = vec![trig("a", "x"), trig("b", "x")]);
    assert!(
        matches!(&run(&a, &b)[..], [Change::AddObject { object: Object::Trigger(t), .. }] if t.table == "b")
    );
    let c = with(|s| s.triggers = vec![trig("a", "y")]);
    assert!(matches!(&run(&a, &c)[..], [Change::ModifyObject { .. }]));

    let mut a = pg(vec![]);
    let mut b = pg(vec![]);
    let ext = |v: &str| Extension {
        name: "pgcrypto".into(),
        schema: "public".into(),
        version: v.into(),
    };
    a.extensions = vec![ext("1.2")];
    b.extensions = vec![ext("1.3")];
    assert!(
        matches!(&run(&a, &b)[..], [Change::ModifyObject { schema, to: Object::Extension(_), .. }] if schema == "public")
    );
    assert!(matches!(
        &run(&pg(vec![]), &b)[..],
        [Change::AddObject {
            object: Object::Extension(_),
            ..
        }]
    ));
}

#[test]
fn enums_add_values_or_recreate() {
    let e = |v: &[&str]| Enum {
        name: "status".into(),
        values: v.iter().map(|s| s.to_string()).collect(),
    };
    let a = with(|s| s.enums = vec![e(&["a", "c"])]);
    let b = with(|s| s.enums = vec![e(&["z", "a", "b", "c", "d"])]);
    match &run(&a, &b)[..] {
        [Change::AddEnumValues { values, .. }] => {
            let got: Vec<(String, Option<String>)> = values
                .iter()
                .map(|v| (v.value.clone(), v.after.clone()))
                .collect();
            assert_eq!(
                got,
                vec![
                    ("z".into(), None),
                    ("b".into(), Some("a".into())),
                    ("d".into(), Some("c".into()))
                ]
            );
        }
        other => panic!("{other:#?}"),
    }
    // A removed or reordered label needs the type recreated.
    for v in [&["a"][..], &["c", "a"][..]] {
        let b = with(|s| s.enums = vec![e(v)]);
        assert!(matches!(
            &run(&a, &b)[..],
            [Change::ModifyObject {
                to: Object::Enum(_),
                ..
            }]
        ));
    }
}

#[test]
fn normalised_spellings_compare_equal() {
    // PostgreSQL: aliases and literal casts.
    let d = Dialect::Postgres;
    let mut t = Table::new("t");
    t.columns = vec![
        Column {
            default: Some("'a'::character varying".into()),
            ..col(d, "a", "character varying(10)")
        },
        Column {
            default: Some("0".into()),
            ..col(d, "b", "integer")
        },
        col(d, "c", "timestamp(3) with time zone"),
        Column {
            default: Some("nextval('t_d_seq'::regclass)".into()),
            ..col(d, "d", "bigint")
        },
    ];
    let mut u = Table::new("t");
    u.columns = vec![
        Column {
            default: Some("'a'".into()),
            ..col(d, "a", "varchar(10)")
        },
        Column {
            default: Some("'0'::integer".into()),
            ..col(d, "b", "int4")
        },
        col(d, "c", "timestamptz(3)"),
        Column {
            default: Some("nextval('t_d_seq')".into()),
            ..col(d, "d", "int8")
        },
    ];
    assert!(run(&pg(vec![t]), &pg(vec![u])).is_empty());

    // MySQL: display widths, boolean, CURRENT_TIMESTAMP.
    let d = Dialect::Mysql;
    let mut t = Table::new("t");
    t.columns = vec![
        col(d, "a", "int(11)"),
        col(d, "b", "tinyint(1)"),
        Column {
            default: Some("current_timestamp()".into()),
            ..col(d, "c", "timestamp")
        },
    ];
    let mut u = Table::new("t");
    u.columns = vec![
        col(d, "a", "int"),
        col(d, "b", "boolean"),
        Column {
            default: Some("CURRENT_TIMESTAMP".into()),
            ..col(d, "c", "timestamp")
        },
    ];
    assert!(run(&realm(d, "app", vec![t]), &realm(d, "app", vec![u])).is_empty());

    // SQLite: names ignore ASCII case; defaults lose outer parentheses; type case.
    let d = Dialect::Sqlite;
    let mut t = Table::new("Users");
    t.columns = vec![Column {
        default: Some("(1 + 2)".into()),
        ..col(d, "ID", "INTEGER")
    }];
    let mut u = Table::new("users");
    u.columns = vec![Column {
        default: Some("1 + 2".into()),
        ..col(d, "id", "integer")
    }];
    assert!(run(&realm(d, "main", vec![t]), &realm(d, "main", vec![u])).is_empty());
}

#[test]
fn exclude_globs() {
    let d = Dialect::Postgres;
    let mut a = pg(vec![users(d)]);
    let mut b = pg(vec![]);
    let mut t = users(d);
    t.columns.push(col(d, "secret", "text"));
    t.indexes = vec![Index::on("users_secret", ["secret"])];
    let mut tmp = Table::new("tmp_1");
    tmp.columns = vec![col(d, "x", "integer")];
    b.schemas[0].tables = vec![tmp, t];
    let mut other = Schema::new("other");
    other.tables = vec![users(d)];
    b.schemas.push(other);
    a.sort();
    b.sort();
    let opts = |ex: &[&str]| DiffOptions {
        exclude: ex.iter().map(|s| s.to_string()).collect(),
        ..DiffOptions::default()
    };
    assert_eq!(run(&a, &b).len(), 4);
    let c = diff(&a, &b, &opts(&["other", "*.tmp_*", "public.users.secret"])).unwrap();
    assert!(c.is_empty(), "{c:#?}");
    let c = diff(&a, &b, &opts(&["o*", "public.*"])).unwrap();
    assert!(c.is_empty(), "{c:#?}");
    // Only the column: its index goes with it.
    let c = diff(&a, &b, &opts(&["*.*.secret"])).unwrap();
    assert_eq!(c.changes.len(), 3, "{c:#?}");
    // Schema-relative patterns (SQLite always).
    let d = Dialect::Sqlite;
    let a = realm(d, "main", vec![]);
    let b = realm(d, "main", vec![users(d)]);
    assert!(diff(&a, &b, &opts(&["users"])).unwrap().is_empty());
    assert!(diff(&a, &b, &opts(&["u?ers"])).unwrap().is_empty());
    assert_eq!(
        diff(&a, &b, &opts(&["main.users"])).unwrap().changes.len(),
        1
    );
}

#[test]
fn skip_kinds() {
    let d = Dialect::Postgres;
    let mut a = pg(vec![users(d)]);
    let mut t = users(d);
    t.name = "old".into();
    t.columns.push(col(d, "gone", "text"));
    t.indexes = vec![Index::on("old_gone", ["gone"])];
    a.schemas[0].tables.insert(0, t.clone());
    let mut extra = Schema::new("extra");
    extra.tables = vec![users(d)];
    a.schemas.push(extra);
    let mut b = pg(vec![users(d)]);
    let mut kept = t.clone();
    kept.columns.pop();
    kept.indexes.clear();
    b.schemas[0].tables.insert(0, kept);
    let all = run(&a, &b);
    assert_eq!(all.len(), 2, "{all:#?}");
    let skip = |k: &[SkipKind]| DiffOptions {
        skip: k.to_vec(),
        ..DiffOptions::default()
    };
    let c = diff(
        &a,
        &b,
        &skip(&[
            SkipKind::DropSchema,
            SkipKind::DropColumn,
            SkipKind::DropIndex,
        ]),
    )
    .unwrap();
    assert!(c.is_empty(), "{c:#?}");
    let c = diff(&a, &b, &skip(&[SkipKind::DropSchema, SkipKind::DropColumn])).unwrap();
    assert!(
        matches!(&c.changes[..], [Change::ModifyTable { changes, .. }] if matches!(&changes[..], [TableChange::DropIndex { .. }]))
    );
    let c = diff(
        &pg(vec![users(d)]),
        &pg(vec![]),
        &skip(&[SkipKind::DropTable]),
    )
    .unwrap();
    assert!(c.is_empty());
}

#[test]
fn diff_is_deterministic_and_serialises() {
    let a = crate::json_tests::rich_postgres();
    let mut b = a.clone();
    let s = &mut b.schemas[0];
    s.tables[1].columns[1].nullable = true;
    s.tables[1].indexes.remove(0);
    s.tables.remove(0);
    s.enums[0].values.push("gone".into());
    s.views.clear();
    let c1 = diff(&a, &b, &DiffOptions::default()).unwrap();
    let c2 = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert_eq!(c1, c2);
    let json = serde_json::to_string(&c1).unwrap();
    let back: Changes = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c1);
    let summary: Vec<String> = c1
        .changes
        .iter()
        .map(|c| match c {
            Change::ModifyTable { to, changes, .. } => format!(
                "modify {}: {}",
                to.name,
                serde_json::to_value(changes)
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| format!(
                        "{}{}",
                        c["change"],
                        c.get("what").map(|w| w.to_string()).unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => serde_json::to_value(other).unwrap()["change"].to_string(),
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"), @r#"
    "drop_table"
    modify users: "drop_index", "modify_column"["null"]
    "drop_object"
    "add_enum_values"
    "#);
}

/// 5,000 tables of 10 columns, a key, two indexes, a foreign key and a check, diffed against itself with one
/// table changed. Prints the time; the assertion is generous for unoptimised builds on a shared machine.
#[test]
fn five_thousand_tables_diff_fast() {
    let d = Dialect::Postgres;
    let mut tables = Vec::with_capacity(5000);
    for i in 0..5000 {
        let mut t = Table::new(format!("t{i:05}"));
        t.columns = (0..10)
            .map(|c| Column {
                default: (c % 3 == 0).then(|| "0".to_string()),
                ..col(
                    d,
                    &format!("c{c}"),
                    if c % 2 == 0 { "integer" } else { "text" },
                )
            })
            .collect();
        t.primary_key = Some(PrimaryKey::columns(["c0"]));
        t.indexes = vec![
            Index::on(format!("t{i}_a"), ["c1"]),
            Index::on(format!("t{i}_b"), ["c2", "c3"]),
        ];
        t.foreign_keys = vec![fk(
            &format!("t{i}_fk"),
            "c4",
            &format!("t{:05}", (i + 1) % 5000),
        )];
        t.checks = vec![Check::new(Some(&format!("t{i}_ck")), "c0 > 0")];
        tables.push(t);
    }
    let a = pg(tables);
    let mut b = a.clone();
    b.schemas[0].tables[2500].columns[3].nullable = true;
    let start = std::time::Instant::now();
    let c = diff(&a, &b, &DiffOptions::default()).unwrap();
    let took = start.elapsed();
    eprintln!("diff of 5,000 tables with one change: {took:?}");
    assert_eq!(c.changes.len(), 1);
    assert!(took.as_millis() < 2000, "diff took {took:?}");
}
