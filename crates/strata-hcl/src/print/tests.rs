//! Goldens: Atlas's `schema inspect` outputs (authoring-compat.md §1.5, exact bytes) rebuilt as models, and the
//! driver's rich inspection fixtures printed (insta snapshots).

use strata_migrate::Dialect;
use strata_schema::{
    Check, Column, ColumnType, Enum, FkAction, ForeignKey, Generated, Index, IndexPart, PrimaryKey,
    Realm, Schema, Table,
};

use super::{PrintOptions, print};

fn col(d: Dialect, name: &str, raw: &str, nullable: bool) -> Column {
    let mut c = Column::new(name, ColumnType::parse(d, raw));
    c.nullable = nullable;
    c
}

fn with_default(mut c: Column, d: &str) -> Column {
    c.default = Some(d.to_string());
    c
}

fn realm(d: Dialect, schemas: Vec<Schema>) -> Realm {
    let mut r = Realm::new(d);
    r.schemas = schemas;
    r
}

fn schema(name: &str, tables: Vec<Table>) -> Schema {
    let mut s = Schema::new(name);
    s.tables = tables;
    s
}

fn table(name: &str, columns: Vec<Column>) -> Table {
    let mut t = Table::new(name);
    t.columns = columns;
    t
}

fn hcl(r: &Realm) -> String {
    print(r, &PrintOptions::default())
}

#[test]
fn postgres_cli_inspect_file() {
    let d = Dialect::Postgres;
    let mut users = table("users", vec![col(d, "id", "integer", false)]);
    users.primary_key = Some(PrimaryKey {
        name: Some("users_pkey".into()),
        ..PrimaryKey::columns(["id"])
    });
    let r = realm(d, vec![schema("script_cli_inspect_file", vec![users])]);
    assert_eq!(
        hcl(&r),
        r#"table "users" {
  schema = schema.script_cli_inspect_file
  column "id" {
    null = false
    type = integer
  }
  primary_key {
    columns = [column.id]
  }
}
schema "script_cli_inspect_file" {
}
"#
    );
}

#[test]
fn postgres_foreign_key_and_unique_index_alignment() {
    let d = Dialect::Postgres;
    let cols = || {
        vec![
            col(d, "c1", "integer", false),
            col(d, "c2", "integer", false),
            col(d, "c3", "integer", false),
        ]
    };
    let mut t1 = table("t1", cols());
    t1.indexes.push(Index {
        unique: true,
        ..Index::on("t1_c2_c3_idx", ["c2", "c3"])
    });
    let mut t2 = table("t2", cols());
    t2.foreign_keys.push(ForeignKey {
        name: "c2_c3_1".into(),
        columns: vec!["c2".into(), "c3".into()],
        ref_schema: "public".into(),
        ref_table: "t1".into(),
        ref_columns: vec!["c2".into(), "c3".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
    });
    let out = hcl(&realm(d, vec![schema("public", vec![t1, t2])]));
    assert!(
        out.contains(
            r#"  index "t1_c2_c3_idx" {
    unique  = true
    columns = [column.c2, column.c3]
  }
"#
        ),
        "{out}"
    );
    assert!(
        out.contains(
            r#"  foreign_key "c2_c3_1" {
    columns     = [column.c2, column.c3]
    ref_columns = [table.t1.column.c2, table.t1.column.c3]
    on_update   = NO_ACTION
    on_delete   = NO_ACTION
  }
"#
        ),
        "{out}"
    );
}

#[test]
fn postgres_column_default_literal_loses_its_cast() {
    let d = Dialect::Postgres;
    let c = with_default(
        col(d, "name", "character varying", false),
        "'unknown'::character varying",
    );
    let out = hcl(&realm(d, vec![schema("public", vec![table("t", vec![c])])]));
    assert!(
        out.contains(
            "  column \"name\" {\n    null    = false\n    type    = character_varying\n    default = \"unknown\"\n  }\n"
        ),
        "{out}"
    );
}

#[test]
fn postgres_enum_and_array_columns() {
    let d = Dialect::Postgres;
    let mut s = schema(
        "script_column_enum_array",
        vec![table(
            "t",
            vec![col(d, "a", "status[]", false), col(d, "b", "status", false)],
        )],
    );
    s.enums.push(Enum {
        name: "status".into(),
        values: vec!["active".into(), "inactive".into(), "unknown".into()],
    });
    assert_eq!(
        hcl(&realm(d, vec![s])),
        r#"table "t" {
  schema = schema.script_column_enum_array
  column "a" {
    null = false
    type = sql("status[]")
  }
  column "b" {
    null = false
    type = enum.status
  }
}
enum "status" {
  schema = schema.script_column_enum_array
  values = ["active", "inactive", "unknown"]
}
schema "script_column_enum_array" {
}
"#
    );
}

#[test]
fn postgres_generated_check_and_unique_constraint() {
    let d = Dialect::Postgres;
    let mut g = col(d, "g", "integer", true);
    g.generated = Some(Generated {
        expr: "1".into(),
        stored: true,
    });
    let mut t = table("users", vec![col(d, "nickname", "text", false), g]);
    t.checks.push(Check::new(Some("users_a_check"), "(a > 0)"));
    t.indexes.push(Index {
        unique: true,
        constraint: true,
        ..Index::on("users_nickname_key", ["nickname"])
    });
    assert_eq!(
        hcl(&realm(d, vec![schema("public", vec![t])])),
        r#"table "users" {
  schema = schema.public
  column "nickname" {
    null = false
    type = text
  }
  column "g" {
    null = true
    type = integer
    as {
      expr = "1"
      type = STORED
    }
  }
  check "users_a_check" {
    expr = "(a > 0)"
  }
  unique "users_nickname_key" {
    columns = [column.nickname]
  }
}
schema "public" {
}
"#
    );
}

#[test]
fn postgres_serial_and_defaults() {
    let d = Dialect::Postgres;
    let t = table(
        "users",
        vec![
            with_default(
                col(d, "id", "integer", false),
                "nextval('public.users_id_seq'::regclass)",
            ),
            with_default(
                col(d, "big", "bigint", false),
                "nextval('users_big_seq'::regclass)",
            ),
            with_default(
                col(d, "n", "bigint", true),
                "nextval('public.counter'::regclass)",
            ),
            with_default(col(d, "neg", "integer", true), "'-1'::integer"),
            with_default(col(d, "f", "boolean", true), "false"),
            with_default(col(d, "x", "numeric(10,2)", true), "1.50"),
            with_default(col(d, "doc", "jsonb", true), "'{}'::jsonb"),
            with_default(col(d, "m", "money", true), "'1.5'::money"),
            with_default(col(d, "s", "text", true), "'it''s ${x}'::text"),
            with_default(
                col(d, "at", "timestamp(4) without time zone", true),
                "CURRENT_TIMESTAMP(4)",
            ),
        ],
    );
    let out = hcl(&realm(d, vec![schema("public", vec![t])]));
    insta::assert_snapshot!(out);
}

#[test]
fn qualifiers_only_for_ambiguous_names() {
    let d = Dialect::Postgres;
    let users = || {
        let mut t = table("users", vec![col(d, "id", "integer", false)]);
        t.primary_key = Some(PrimaryKey::columns(["id"]));
        t
    };
    let mut audit = table(
        "audit",
        vec![
            col(d, "user_id", "integer", true),
            col(d, "d e", "text", true),
        ],
    );
    audit.foreign_keys.push(ForeignKey {
        name: "audit_user".into(),
        columns: vec!["user_id".into()],
        ref_schema: "public".into(),
        ref_table: "users".into(),
        ref_columns: vec!["id".into()],
        on_update: FkAction::NoAction,
        on_delete: FkAction::Cascade,
        deferrable: false,
        initially_deferred: false,
    });
    let r = realm(
        d,
        vec![
            schema("a8m.schema", vec![audit, users()]),
            schema("public", vec![users()]),
        ],
    );
    insta::assert_snapshot!(hcl(&r));
}

#[test]
fn mysql_cli_inspect_file() {
    let d = Dialect::Mysql;
    let mut users = table("users", vec![col(d, "id", "int", false)]);
    users.primary_key = Some(PrimaryKey::columns(["id"]));
    let mut s = schema("script_cli_inspect_file", vec![users]);
    s.charset = Some("utf8mb4".into());
    s.collation = Some("utf8mb4_0900_ai_ci".into());
    assert_eq!(
        hcl(&realm(d, vec![s])),
        r#"table "users" {
  schema = schema.script_cli_inspect_file
  column "id" {
    null = false
    type = int
  }
  primary_key {
    columns = [column.id]
  }
}
schema "script_cli_inspect_file" {
  charset = "utf8mb4"
  collate = "utf8mb4_0900_ai_ci"
}
"#
    );
}

#[test]
fn mysql_checks_defaults_prefix_and_generated() {
    let d = Dialect::Mysql;
    let mut a = col(d, "a", "varchar(20)", true);
    a.generated = None;
    let mut v = col(d, "v", "varchar(20)", true);
    v.generated = Some(Generated {
        expr: "`a`".into(),
        stored: false,
    });
    let mut t = table(
        "t1",
        vec![
            col(d, "id", "varchar(20)", false),
            with_default(
                col(d, "e", "varchar(100)", true),
                "(concat(_utf8mb4'a',`a`,_utf8mb4'\\'s',_utf8mb4'b'))",
            ),
            with_default(col(d, "q", "varchar(10)", true), "'a''b'"),
            with_default(col(d, "ts", "datetime", true), "'2000-01-01 00:00:00'"),
            v,
        ],
    );
    t.primary_key = Some(PrimaryKey {
        name: None,
        parts: vec![IndexPart {
            desc: true,
            prefix: Some(7),
            ..IndexPart::column("id")
        }],
    });
    t.checks.push(Check::new(
        Some("t1_check"),
        "((`name` <> _utf8mb4'a') or (`age` > 10))",
    ));
    t.checks.push(Check::new(
        Some("t1_chk_1"),
        "(`name` in (_utf8mb4'a',_utf8mb4'b',_utf8mb4'c'))",
    ));
    let out = hcl(&realm(d, vec![schema("s", vec![t])]));
    for want in [
        "  check \"t1_check\" {\n    expr = \"((`name` <> _utf8mb4'a') or (`age` > 10))\"\n  }\n  check \"t1_chk_1\" {\n    expr = \"(`name` in (_utf8mb4'a',_utf8mb4'b',_utf8mb4'c'))\"\n  }\n",
        "    default = sql(\"(concat(_utf8mb4'a',`a`,_utf8mb4'\\\\'s',_utf8mb4'b'))\")\n",
        "    default = \"a'b\"\n",
        "    default = \"2000-01-01 00:00:00\"\n",
        "  primary_key {\n    on {\n      desc   = true\n      column = column.id\n      prefix = 7\n    }\n  }\n",
        "    as {\n      expr = \"`a`\"\n      type = VIRTUAL\n    }\n",
    ] {
        assert!(out.contains(want), "missing:\n{want}\nin:\n{out}");
    }
}

#[test]
fn sqlite_cli_inspect_and_excludes() {
    let d = Dialect::Sqlite;
    let users = table(
        "users",
        vec![col(d, "id", "int", false), col(d, "ac", "uint64", false)],
    );
    assert_eq!(
        hcl(&realm(d, vec![schema("main", vec![users])])),
        r#"table "users" {
  schema = schema.main
  column "id" {
    null = false
    type = int
  }
  column "ac" {
    null = false
    type = uint64
  }
}
schema "main" {
}
"#
    );
    // --exclude "users"
    assert_eq!(
        hcl(&realm(d, vec![schema("main", vec![])])),
        "schema \"main\" {\n}\n"
    );
    // --exclude "*.*"
    assert_eq!(
        hcl(&realm(
            d,
            vec![schema("main", vec![table("users", vec![])])]
        )),
        "table \"users\" {\n  schema = schema.main\n}\nschema \"main\" {\n}\n"
    );
}

#[test]
fn sqlite_untyped_and_unknown_types() {
    let d = Dialect::Sqlite;
    let mut unknown = col(d, "u", "text", true);
    unknown.ty = ColumnType {
        raw: "USER_DEFINED".into(),
        kind: strata_schema::TypeKind::Other,
    };
    let t = table("tbl", vec![col(d, "col", "", true), unknown]);
    let out = hcl(&realm(d, vec![schema("main", vec![t])]));
    assert!(
        out.contains("  column \"col\" {\n    null = true\n    type = blob\n  }\n"),
        "{out}"
    );
    assert!(out.contains("    type = sql(\"USER_DEFINED\")\n"), "{out}");
}

/// The model JSON of a driver inspection snapshot (the part after insta's header).
fn fixture(snap: &str) -> Realm {
    let body = snap.splitn(3, "---").nth(2).expect("insta header");
    serde_json::from_str(body).expect("model JSON")
}

#[test]
fn rich_postgres_fixture() {
    let r = fixture(include_str!(
        "../../../strata-driver/tests/driver/snapshots/driver__pg_inspect__golden_inspect_of_a_rich_schema_and_its_round_trip.snap"
    ));
    insta::assert_snapshot!(hcl(&r));
}

#[test]
fn rich_mysql_fixture() {
    let r = fixture(include_str!(
        "../../../strata-driver/tests/driver/snapshots/driver__mysql_inspect__golden_inspect_of_a_rich_schema.snap"
    ));
    insta::assert_snapshot!(hcl(&r));
}

#[test]
fn rich_sqlite_fixture() {
    let r = fixture(include_str!(
        "../../../strata-driver/tests/driver/snapshots/driver__sqlite_inspect__golden_inspect_of_a_rich_schema.snap"
    ));
    insta::assert_snapshot!(hcl(&r));
    // Without the Pro kinds, views are left out.
    let out = print(&r, &PrintOptions { views: false });
    assert!(!out.contains("view \""), "{out}");
}

#[test]
fn helpers_read_sql_as_atlas_does() {
    use super::{is_number, is_quoted, serial_type, sqlite_view_query, view_as};
    use strata_schema::TypeKind;
    let int = |bits| TypeKind::Integer {
        bits,
        unsigned: false,
    };
    assert_eq!(
        serial_type(&int(32), Some("nextval('\"App\".users_id_seq'::regclass)")),
        Some("serial")
    );
    assert_eq!(
        serial_type(&int(16), Some("nextval('t_c_seq')")),
        Some("smallserial")
    );
    assert_eq!(
        serial_type(&int(64), Some("nextval('counter_seq'::regclass)")),
        None
    );
    assert_eq!(
        serial_type(&TypeKind::Bool, Some("nextval('t_c_seq'::regclass)")),
        None
    );
    assert!(is_quoted(Dialect::Postgres, "'it''s'"));
    assert!(!is_quoted(Dialect::Postgres, "'a' || 'b'"));
    assert!(is_quoted(Dialect::Mysql, "'a\\'b'"));
    assert!(!is_quoted(Dialect::Postgres, "'a\\'b'"));
    for n in ["1", "-1", "+2", "1.5", ".5", "1e5", "-1.5E-3"] {
        assert!(is_number(n), "{n}");
    }
    for n in ["", "-", "1.", "1.2.3", "0x1F", "1e", "abc"] {
        assert!(!is_number(n), "{n}");
    }
    assert_eq!(
        sqlite_view_query("CREATE VIEW \"a as b\" (x) AS SELECT 1 AS x"),
        "SELECT 1 AS x"
    );
    assert_eq!(sqlite_view_query("SELECT 1"), "SELECT 1");
    assert_eq!(view_as("SELECT 1"), "\"SELECT 1\"");
    assert_eq!(
        view_as("SELECT '${x}'\r\nFROM t"),
        "<<-SQL\n  SELECT '$${x}'\n  FROM t\n  SQL"
    );
}

#[test]
fn defaults_by_kind() {
    use super::default_value;
    use crate::types::TypeScope;
    let scope = TypeScope::bare("public");
    let d = |dialect, raw: &str, default: &str| {
        let c = col(dialect, "c", raw, true);
        default_value(dialect, &c, default, &scope)
    };
    let pg = Dialect::Postgres;
    assert_eq!(d(pg, "bytea", "'\\x00'::bytea"), "\"\\\\x00\"");
    assert_eq!(d(pg, "boolean", "'t'::boolean"), "sql(\"'t'::boolean\")");
    assert_eq!(d(pg, "boolean", "'true'::boolean"), "true");
    assert_eq!(
        d(pg, "integer", "'abc'::integer"),
        "sql(\"'abc'::integer\")"
    );
    assert_eq!(d(pg, "bit(4)", "B'1010'"), "sql(\"B'1010'\")");
    assert_eq!(
        d(pg, "text", "'a'::text || 'b'::text"),
        "sql(\"'a'::text || 'b'::text\")"
    );
    assert_eq!(
        d(pg, "bigint", "9223372036854775808"),
        "9223372036854775808"
    );
    assert_eq!(d(pg, "numeric", "1e5"), "sql(\"1e5\")");
    assert_eq!(
        d(pg, "public.dom", "'x'::public.dom"),
        "sql(\"'x'::public.dom\")"
    );
    let my = Dialect::Mysql;
    assert_eq!(d(my, "varchar(10)", "'a\\'b\\\\c'"), "\"a'b\\\\c\"");
    assert_eq!(d(my, "varbinary(4)", "0x0A"), "sql(\"0x0A\")");
    assert_eq!(d(my, "int", "'5'"), "\"5\"");
    let lite = Dialect::Sqlite;
    assert_eq!(d(lite, "text", "''"), "\"\"");
    assert_eq!(d(lite, "text", "'%{a}'"), "\"%%{a}\"");
}

/// What the parser relies on: every column type of the rich fixtures, printed and read back through
/// [`crate::types::to_sql`], normalises to the inspected type.
#[test]
fn fixture_types_read_back_to_the_inspected_types() {
    use crate::types::{HclType, TypeScope, to_hcl, to_sql};
    use strata_schema::normalize;
    for snap in [
        include_str!(
            "../../../strata-driver/tests/driver/snapshots/driver__pg_inspect__golden_inspect_of_a_rich_schema_and_its_round_trip.snap"
        ),
        include_str!(
            "../../../strata-driver/tests/driver/snapshots/driver__mysql_inspect__golden_inspect_of_a_rich_schema.snap"
        ),
        include_str!(
            "../../../strata-driver/tests/driver/snapshots/driver__sqlite_inspect__golden_inspect_of_a_rich_schema.snap"
        ),
    ] {
        let r = fixture(snap);
        let d = r.dialect;
        for s in &r.schemas {
            let scope = TypeScope::new(&r, &s.name);
            for t in &s.tables {
                for c in &t.columns {
                    let mut h = to_hcl(d, &c.ty, &scope);
                    // The parser resolves `enum.x` to its block, whose schema it knows.
                    if let HclType::EnumRef { schema, .. } = &mut h.ty {
                        schema.get_or_insert_with(|| s.name.clone());
                    }
                    let sql =
                        to_sql(d, &h).unwrap_or_else(|e| panic!("{}.{}: {e}", t.name, c.name));
                    let mut back = c.clone();
                    back.ty = ColumnType::parse(d, &sql);
                    assert_eq!(
                        normalize::column(d, &t.name, &back).ty,
                        normalize::column(d, &t.name, c).ty,
                        "{d:?} {}.{}: {} → {sql}",
                        t.name,
                        c.name,
                        h.ty
                    );
                }
            }
        }
    }
}

fn fk(name: &str, cols: &[&str], schema: &str, table: &str, refs: &[&str]) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        ref_schema: schema.into(),
        ref_table: table.into(),
        ref_columns: refs.iter().map(|c| c.to_string()).collect(),
        on_update: FkAction::NoAction,
        on_delete: FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
    }
}

fn unique_constraint(name: &str, cols: &[&str]) -> Index {
    Index {
        unique: true,
        constraint: true,
        ..Index::on(name, cols.iter().copied())
    }
}

/// Atlas's `postgres/table-checks.txt`, `schema.inspected.hcl`.
#[test]
fn postgres_table_checks_golden() {
    let d = Dialect::Postgres;
    let mut t1 = table(
        "t1",
        vec![col(d, "a", "integer", true), col(d, "b", "integer", true)],
    );
    t1.checks = vec![
        Check::new(Some("c1"), "(a > 0)"),
        Check::new(Some("c2"), "(b > 0)"),
        Check::new(Some("c3"), "(a < b)"),
    ];
    let mut t2 = table(
        "t2",
        vec![col(d, "a", "integer", true), col(d, "c", "integer", true)],
    );
    t2.checks = vec![
        Check::new(Some("c1"), "(a > 0)"),
        Check::new(Some("c4"), "(c > 0)"),
        Check::new(Some("c5"), "(a < c)"),
    ];
    assert_eq!(
        hcl(&realm(d, vec![schema("script_table_checks", vec![t1, t2])])),
        r#"table "t1" {
  schema = schema.script_table_checks
  column "a" {
    null = true
    type = integer
  }
  column "b" {
    null = true
    type = integer
  }
  check "c1" {
    expr = "(a > 0)"
  }
  check "c2" {
    expr = "(b > 0)"
  }
  check "c3" {
    expr = "(a < b)"
  }
}
table "t2" {
  schema = schema.script_table_checks
  column "a" {
    null = true
    type = integer
  }
  column "c" {
    null = true
    type = integer
  }
  check "c1" {
    expr = "(a > 0)"
  }
  check "c4" {
    expr = "(c > 0)"
  }
  check "c5" {
    expr = "(a < c)"
  }
}
schema "script_table_checks" {
}
"#
    );
}

/// Atlas's `postgres/index-unique-constraint.txt`, `4.inspect.hcl`: unique constraints after foreign keys.
#[test]
fn postgres_unique_constraints_golden() {
    let d = Dialect::Postgres;
    let s = "script_index_unique_constraint";
    let pk = |c: &str, t: &str| {
        Some(PrimaryKey {
            name: Some(format!("{t}_pkey")),
            ..PrimaryKey::columns([c])
        })
    };
    let mut dt = table("d", vec![col(d, "c", "integer", true)]);
    dt.foreign_keys = vec![fk("d_c_fkey", &["c"], s, "t1", &["b"])];
    dt.indexes = vec![unique_constraint("d_c_key", &["c"])];
    let mut t0 = table("t0", vec![col(d, "b", "integer", false)]);
    t0.primary_key = pk("b", "t0");
    t0.foreign_keys = vec![fk("t0_b_fkey", &["b"], s, "t1", &["b"])];
    let mut t1 = table(
        "t1",
        vec![col(d, "a", "integer", false), col(d, "b", "integer", true)],
    );
    t1.primary_key = pk("a", "t1");
    t1.indexes = vec![unique_constraint("t1_b_key", &["b"])];
    let mut t2 = table("t2", vec![col(d, "c", "integer", false)]);
    t2.primary_key = pk("c", "t2");
    t2.foreign_keys = vec![fk("t2_c_fkey", &["c"], s, "t1", &["b"])];
    assert_eq!(
        hcl(&realm(d, vec![schema(s, vec![dt, t0, t1, t2])])),
        r#"table "d" {
  schema = schema.script_index_unique_constraint
  column "c" {
    null = true
    type = integer
  }
  foreign_key "d_c_fkey" {
    columns     = [column.c]
    ref_columns = [table.t1.column.b]
    on_update   = NO_ACTION
    on_delete   = NO_ACTION
  }
  unique "d_c_key" {
    columns = [column.c]
  }
}
table "t0" {
  schema = schema.script_index_unique_constraint
  column "b" {
    null = false
    type = integer
  }
  primary_key {
    columns = [column.b]
  }
  foreign_key "t0_b_fkey" {
    columns     = [column.b]
    ref_columns = [table.t1.column.b]
    on_update   = NO_ACTION
    on_delete   = NO_ACTION
  }
}
table "t1" {
  schema = schema.script_index_unique_constraint
  column "a" {
    null = false
    type = integer
  }
  column "b" {
    null = true
    type = integer
  }
  primary_key {
    columns = [column.a]
  }
  unique "t1_b_key" {
    columns = [column.b]
  }
}
table "t2" {
  schema = schema.script_index_unique_constraint
  column "c" {
    null = false
    type = integer
  }
  primary_key {
    columns = [column.c]
  }
  foreign_key "t2_c_fkey" {
    columns     = [column.c]
    ref_columns = [table.t1.column.b]
    on_update   = NO_ACTION
    on_delete   = NO_ACTION
  }
}
schema "script_index_unique_constraint" {
}
"#
    );
}

/// Atlas's `postgres/column-default.txtar`, `1.inspected.hcl` (the literals as `psql \d` shows them).
#[test]
fn postgres_column_defaults_golden() {
    let d = Dialect::Postgres;
    let t = table(
        "users",
        vec![
            with_default(
                col(d, "name", "character varying", false),
                "'unknown'::character varying",
            ),
            with_default(col(d, "age", "integer", false), "1"),
            with_default(col(d, "active", "boolean", false), "true"),
            with_default(col(d, "bpchar", "bpchar", false), "'foo'::bpchar"),
        ],
    );
    assert_eq!(
        hcl(&realm(d, vec![schema("script_column_default", vec![t])])),
        r#"table "users" {
  schema = schema.script_column_default
  column "name" {
    null    = false
    type    = character_varying
    default = "unknown"
  }
  column "age" {
    null    = false
    type    = integer
    default = 1
  }
  column "active" {
    null    = false
    type    = boolean
    default = true
  }
  column "bpchar" {
    null    = false
    type    = bpchar
    default = "foo"
  }
}
schema "script_column_default" {
}
"#
    );
}

/// Atlas's `mysql/check-maria.txt`, `expected.hcl`.
#[test]
fn mariadb_checks_golden() {
    let d = Dialect::Mysql;
    let t = |name: &str, age: &str| {
        let mut t = table(
            name,
            vec![
                col(d, "buf", "json", true),
                col(d, "name", "varchar(20)", true),
                col(d, "age", "int", true),
            ],
        );
        t.checks = vec![
            Check::new(Some("age"), age),
            Check::new(Some("check1"), "`name` <> 'a' or `age` > 10"),
            Check::new(Some("name"), "`name` in ('a','b','c')"),
        ];
        t
    };
    let mut s = schema(
        "script_check_maria",
        vec![t("t1", "`age` > 0"), t("t2", "`age` > 1")],
    );
    s.charset = Some("utf8mb4".into());
    s.collation = Some("utf8mb4_general_ci".into());
    let table_body = |name: &str, age: &str| {
        format!(
            r#"table "{name}" {{
  schema = schema.script_check_maria
  column "buf" {{
    null = true
    type = json
  }}
  column "name" {{
    null = true
    type = varchar(20)
  }}
  column "age" {{
    null = true
    type = int
  }}
  check "age" {{
    expr = "{age}"
  }}
  check "check1" {{
    expr = "`name` <> 'a' or `age` > 10"
  }}
  check "name" {{
    expr = "`name` in ('a','b','c')"
  }}
}}
"#
        )
    };
    assert_eq!(
        hcl(&realm(d, vec![s])),
        format!(
            "{}{}schema \"script_check_maria\" {{\n  charset = \"utf8mb4\"\n  collate = \"utf8mb4_general_ci\"\n}}\n",
            table_body("t1", "`age` > 0"),
            table_body("t2", "`age` > 1")
        )
    );
}

/// Atlas's `mysql/column-default-expr.txt` (MySQL 8) and `mysql/table-engine.txt` (`2.inspect.hcl`).
#[test]
fn mysql_default_expressions_and_engine_goldens() {
    let d = Dialect::Mysql;
    let t = table(
        "users",
        vec![
            with_default(col(d, "a", "varchar(255)", false), "''"),
            with_default(
                col(d, "b", "varchar(255)", false),
                "(concat(_utf8mb4'a',`a`,_utf8mb4'\\'s',_utf8mb4'b'))",
            ),
            with_default(col(d, "c", "varchar(255)", false), "'a''b'"),
            with_default(col(d, "d", "varchar(255)", false), "(_utf8mb4'a\\'b')"),
        ],
    );
    let mut s = schema("script_column_default_expr", vec![t]);
    s.charset = Some("utf8mb4".into());
    s.collation = Some("utf8mb4_0900_ai_ci".into());
    assert_eq!(
        hcl(&realm(d, vec![s])),
        r#"table "users" {
  schema = schema.script_column_default_expr
  column "a" {
    null    = false
    type    = varchar(255)
    default = ""
  }
  column "b" {
    null    = false
    type    = varchar(255)
    default = sql("(concat(_utf8mb4'a',`a`,_utf8mb4'\\'s',_utf8mb4'b'))")
  }
  column "c" {
    null    = false
    type    = varchar(255)
    default = "a'b"
  }
  column "d" {
    null    = false
    type    = varchar(255)
    default = sql("(_utf8mb4'a\\'b')")
  }
}
schema "script_column_default_expr" {
  charset = "utf8mb4"
  collate = "utf8mb4_0900_ai_ci"
}
"#
    );
    let mut t = table("users", vec![col(d, "name", "varchar(255)", false)]);
    t.options.engine = Some("MyISAM".into());
    t.options.charset = Some("utf8mb4".into());
    t.options.collation = Some("utf8mb4_0900_ai_ci".into());
    let mut s = schema("script_table_engine", vec![t]);
    s.charset = Some("utf8mb4".into());
    s.collation = Some("utf8mb4_0900_ai_ci".into());
    assert_eq!(
        hcl(&realm(d, vec![s.clone()])),
        r#"table "users" {
  schema = schema.script_table_engine
  engine = MyISAM
  column "name" {
    null = false
    type = varchar(255)
  }
}
schema "script_table_engine" {
  charset = "utf8mb4"
  collate = "utf8mb4_0900_ai_ci"
}
"#
    );
    // InnoDB, the default, is left out.
    s.tables[0].options.engine = Some("InnoDB".into());
    assert!(!hcl(&realm(d, vec![s])).contains("engine ="));
}

/// Atlas's `mysql/column-generated-inspect.txt` and `postgres/column-generated-inspect.txtar`.
#[test]
fn generated_columns_goldens() {
    let gen_col = |d, name: &str, raw: &str, nullable, expr: &str, stored| {
        let mut c = col(d, name, raw, nullable);
        c.generated = Some(Generated {
            expr: expr.into(),
            stored,
        });
        c
    };
    let d = Dialect::Mysql;
    let t = table(
        "users",
        vec![
            col(d, "a", "tinyint(1)", true),
            gen_col(d, "b", "tinyint(1)", true, "`a`", false),
            gen_col(d, "c", "tinyint(1)", true, "`b`", true),
        ],
    );
    let mut s = schema("db", vec![t]);
    s.charset = Some("utf8mb4".into());
    s.collation = Some("utf8mb4_bin".into());
    assert_eq!(
        hcl(&realm(d, vec![s])),
        r#"table "users" {
  schema = schema.db
  column "a" {
    null = true
    type = bool
  }
  column "b" {
    null = true
    type = bool
    as {
      expr = "`a`"
      type = VIRTUAL
    }
  }
  column "c" {
    null = true
    type = bool
    as {
      expr = "`b`"
      type = STORED
    }
  }
}
schema "db" {
  charset = "utf8mb4"
  collate = "utf8mb4_bin"
}
"#
    );
    let d = Dialect::Postgres;
    let t = table(
        "users",
        vec![
            col(d, "a", "integer", false),
            gen_col(d, "b", "integer", false, "1", true),
            gen_col(d, "c", "integer", false, "2", true),
        ],
    );
    assert_eq!(
        hcl(&realm(d, vec![schema("db", vec![t])])),
        r#"table "users" {
  schema = schema.db
  column "a" {
    null = false
    type = integer
  }
  column "b" {
    null = false
    type = integer
    as {
      expr = "1"
      type = STORED
    }
  }
  column "c" {
    null = false
    type = integer
    as {
      expr = "2"
      type = STORED
    }
  }
}
schema "db" {
}
"#
    );
}
