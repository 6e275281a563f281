//! Parser tests: per dialect, a rich fixture into the model (snapshots), every error kind with its position,
//! and the printer's goldens (authoring-compat §1.5) read back.

use strata_migrate::Dialect;
use strata_schema::{PrimaryKey, Realm, normalize};

use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/parse/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(d: Dialect, text: &str) -> Result<Realm, HclError> {
    parse(&[HclFile::new("schema.hcl", text)], d, &Vars::new())
}

#[test]
fn postgres_fixture() {
    let realm = read(Dialect::Postgres, &fixture("postgres.hcl")).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_json_snapshot!(realm);
}

#[test]
fn mysql_fixture() {
    let realm = read(Dialect::Mysql, &fixture("mysql.hcl")).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_json_snapshot!(realm);
}

#[test]
fn sqlite_fixture() {
    let realm = read(Dialect::Sqlite, &fixture("sqlite.hcl")).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_json_snapshot!(realm);
}

/// Every error kind, with the position it points at and its message (one line per case).
#[test]
fn errors_point_at_file_line_column() {
    use Dialect::{Mysql, Postgres, Sqlite};
    let t = |body: &str| {
        format!("schema \"public\" {{\n}}\ntable \"t\" {{\n  schema = schema.public\n{body}}}\n")
    };
    let col = |attrs: &str| t(&format!("  column \"a\" {{\n{attrs}  }}\n"));
    let cases: Vec<(&str, Dialect, String)> = vec![
        (
            "syntax",
            Postgres,
            "table \"t\" {\n  column \"a\" {\n    type = \n  }\n}\n".into(),
        ),
        (
            "unknown top-level block",
            Postgres,
            "tabel \"t\" {\n}\n".into(),
        ),
        ("top-level attribute", Postgres, "x = 1\n".into()),
        (
            "unknown attribute",
            Postgres,
            col("    type = int\n    nul = true\n"),
        ),
        ("unknown child block", Postgres, t("  colum \"a\" {\n  }\n")),
        ("missing type", Postgres, col("    null = true\n")),
        ("labels", Postgres, t("  column {\n    type = int\n  }\n")),
        (
            "missing variable",
            Postgres,
            "variable \"tenant\" {\n  type = string\n}\n".into(),
        ),
        (
            "bad variable type",
            Postgres,
            "variable \"x\" {\n  type = strin\n}\n".into(),
        ),
        (
            "variable value",
            Postgres,
            "variable \"n\" {\n  type    = number\n  default = \"many\"\n}\n".into(),
        ),
        (
            "cyclic locals",
            Postgres,
            "locals {\n  a = local.b\n  b = \"${local.a}x\"\n}\n".into(),
        ),
        (
            "undefined variable",
            Postgres,
            col("    type    = int\n    comment = var.nope\n"),
        ),
        (
            "unknown function",
            Postgres,
            col("    type    = int\n    comment = shout(\"x\")\n"),
        ),
        (
            "wrong value kind",
            Postgres,
            col("    type = int\n    null = \"yes\"\n"),
        ),
        (
            "keyword",
            Postgres,
            t(
                "  column \"a\" {\n    type = int\n  }\n  foreign_key \"f\" {\n    columns     = [column.a]\n    ref_columns = [column.a]\n    on_delete   = EXPLODE\n  }\n",
            ),
        ),
        (
            "broken column reference",
            Postgres,
            t(
                "  column \"a\" {\n    type = int\n  }\n  index \"i\" {\n    columns = [column.b]\n  }\n",
            ),
        ),
        (
            "broken table reference",
            Postgres,
            t(
                "  column \"a\" {\n    type = int\n  }\n  foreign_key \"f\" {\n    columns     = [column.a]\n    ref_columns = [table.nope.column.a]\n  }\n",
            ),
        ),
        (
            "broken schema reference",
            Postgres,
            "table \"t\" {\n  schema = schema.nope\n  column \"a\" {\n    type = int\n  }\n}\n"
                .into(),
        ),
        ("unknown type", Postgres, col("    type = integr\n")),
        ("type arguments", Mysql, col("    type = varchar(\"x\")\n")),
        (
            "enum reference outside PostgreSQL",
            Mysql,
            col("    type = enum.status\n"),
        ),
        (
            "duplicate column",
            Postgres,
            t("  column \"a\" {\n    type = int\n  }\n  column \"a\" {\n    type = int\n  }\n"),
        ),
        (
            "duplicate table",
            Postgres,
            format!("{}table \"t\" {{\n  schema = schema.public\n}}\n", t("")),
        ),
        (
            "dialect attribute",
            Postgres,
            col("    type     = int\n    unsigned = true\n"),
        ),
        (
            "identity outside PostgreSQL",
            Mysql,
            col("    type = int\n    identity {\n    }\n"),
        ),
        (
            "enum block outside PostgreSQL",
            Sqlite,
            "enum \"e\" {\n  values = [\"a\"]\n}\n".into(),
        ),
        (
            "unsupported model feature",
            Postgres,
            t("  partition {\n    type = RANGE\n  }\n"),
        ),
        (
            "for_each over a string",
            Postgres,
            "schema \"s\" {\n  for_each = \"abc\"\n}\n".into(),
        ),
        ("pro-only block", Postgres, "sequence \"s\" {\n}\n".into()),
        (
            "function without a body",
            Postgres,
            "schema \"public\" {\n}\nfunction \"f\" {\n  schema = schema.public\n  lang   = SQL\n  return = int\n}\n".into(),
        ),
        (
            "function attribute Atlas has no such name for",
            Postgres,
            "schema \"public\" {\n}\nfunction \"f\" {\n  schema = schema.public\n  lang   = SQL\n  return = int\n  as     = \"SELECT 1\"\n  cost   = 5\n}\n".into(),
        ),
        (
            "function volatility",
            Postgres,
            "schema \"public\" {\n}\nfunction \"f\" {\n  schema     = schema.public\n  lang       = SQL\n  return     = int\n  as         = \"SELECT 1\"\n  volatility = PURE\n}\n".into(),
        ),
        (
            "function on SQLite",
            Sqlite,
            "function \"f\" {\n  as = \"x\"\n}\n".into(),
        ),
        (
            "trigger without timing",
            Postgres,
            t("  column \"a\" {\n    type = int\n  }\n")
                + "trigger \"tr\" {\n  on = table.t\n  execute {\n    function = function.f\n  }\n}\n",
        ),
        (
            "trigger on a missing table",
            Postgres,
            t("  column \"a\" {\n    type = int\n  }\n")
                + "trigger \"tr\" {\n  on = table.nope\n  after {\n    insert = true\n  }\n}\n",
        ),
        (
            "trigger executing a missing function",
            Postgres,
            t("  column \"a\" {\n    type = int\n  }\n")
                + "trigger \"tr\" {\n  on = table.t\n  after {\n    insert = true\n  }\n  execute {\n    function = function.nope\n  }\n}\n",
        ),
        (
            "PostgreSQL trigger with a body",
            Postgres,
            t("  column \"a\" {\n    type = int\n  }\n")
                + "trigger \"tr\" {\n  on = table.t\n  after {\n    insert = true\n  }\n  as = \"BEGIN END\"\n}\n",
        ),
        (
            "MySQL trigger on two events",
            Mysql,
            t("  column \"a\" {\n    type = int\n  }\n")
                + "trigger \"tr\" {\n  on = table.t\n  before {\n    insert = true\n    update = true\n  }\n  as = \"SET NEW.a = 1\"\n}\n",
        ),
        (
            "MySQL trigger for each statement",
            Mysql,
            t("  column \"a\" {\n    type = int\n  }\n")
                + "trigger \"tr\" {\n  on = table.t\n  for = STATEMENT\n  before {\n    insert = true\n  }\n  as = \"SET NEW.a = 1\"\n}\n",
        ),
        (
            "unknown trigger event",
            Sqlite,
            "schema \"main\" {\n}\ntable \"t\" {\n  column \"a\" {\n    type = int\n  }\n}\ntrigger \"tr\" {\n  on = table.t\n  after {\n    truncate = true\n  }\n  as = \"BEGIN SELECT 1; END\"\n}\n".into(),
        ),
        (
            "atlas attribute without a place in the model",
            Mysql,
            t(
                "  column \"a\" {\n    type = text\n  }\n  index \"i\" {\n    columns = [column.a]\n    type    = FULLTEXT\n    parser  = ngram\n  }\n",
            ),
        ),
    ];
    let mut out = String::new();
    for (name, d, text) in cases {
        let e = match read(d, &text) {
            Ok(_) => panic!("{name}: parsed without error:\n{text}"),
            Err(e) => e,
        };
        out.push_str(&format!("{name}: {e}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn errors_name_the_file_they_are_in() {
    let files = [
        HclFile::new("a.hcl", "schema \"public\" {\n}\n"),
        HclFile::new(
            "b.hcl",
            "table \"t\" {\n  schema = schema.public\n  column \"a\" {\n    type = nope\n  }\n}\n",
        ),
    ];
    let e = parse(&files, Dialect::Postgres, &Vars::new()).unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("b.hcl", 4, 12), "{e}");
}

#[test]
fn several_files_are_one_schema() {
    let files = [
        HclFile::new(
            "a.hcl",
            "schema \"public\" {\n}\nvariable \"n\" {\n  type = number\n}\n",
        ),
        HclFile::new(
            "b.hcl",
            "table \"t\" {\n  schema = schema.public\n  column \"a\" {\n    type    = int\n    default = var.n\n  }\n}\n",
        ),
        HclFile::new(
            "c.hcl",
            "table \"u\" {\n  schema = schema.public\n  column \"a\" {\n    type = int\n  }\n  foreign_key \"f\" {\n    columns     = [column.a]\n    ref_columns = [table.t.column.a]\n  }\n}\n",
        ),
    ];
    // A command-line value is text: converted to the variable's type.
    let vars = Vars::from([("n".to_owned(), Value::from("42"))]);
    let r = parse(&files, Dialect::Postgres, &vars).unwrap();
    let s = r.schema("public").unwrap();
    assert_eq!(
        s.table("t").unwrap().columns[0].default.as_deref(),
        Some("42")
    );
    assert_eq!(s.table("u").unwrap().foreign_keys[0].ref_table, "t");
}

#[test]
fn input_variables_name_schemas_and_lists_wrap_single_values() {
    let text = "variable \"tenant\" {\n  type = string\n}\nvariable \"tags\" {\n  type = list(string)\n}\n\
                schema \"tenant\" {\n  name    = var.tenant\n  comment = join(\",\", var.tags)\n}\n\
                table \"users\" {\n  schema = schema.tenant\n  column \"id\" {\n    type = int\n  }\n}\n";
    let vars = Vars::from([
        ("tenant".to_owned(), Value::from("jerry")),
        ("tags".to_owned(), Value::from("a")),
    ]);
    let r = parse(&[HclFile::new("multi.hcl", text)], Dialect::Mysql, &vars).unwrap();
    assert_eq!(r.schemas.len(), 1);
    assert_eq!(r.schemas[0].name, "jerry");
    assert_eq!(r.schemas[0].comment.as_deref(), Some("a"));
    assert_eq!(r.schemas[0].tables[0].name, "users");
}

#[test]
fn literal_defaults_follow_the_dialect() {
    let text = |ty: &str, v: &str| {
        format!(
            "schema \"main\" {{\n}}\ntable \"t\" {{\n  schema = schema.main\n  column \"a\" {{\n    type    = {ty}\n    default = {v}\n  }}\n}}\n"
        )
    };
    let default = |d: Dialect, ty: &str, v: &str| {
        read(d, &text(ty, v)).unwrap().schemas[0].tables[0].columns[0]
            .default
            .clone()
            .unwrap()
    };
    assert_eq!(default(Dialect::Postgres, "text", "\"it's\""), "'it''s'");
    assert_eq!(default(Dialect::Mysql, "text", "\"a\\\\b\""), "'a\\\\b'");
    assert_eq!(default(Dialect::Mysql, "bool", "true"), "1");
    assert_eq!(default(Dialect::Sqlite, "boolean", "true"), "true");
    assert_eq!(default(Dialect::Postgres, "int", "-1"), "-1");
    assert_eq!(
        default(Dialect::Postgres, "int", "sql(\"nextval('s')\")"),
        "nextval('s')"
    );
    // Through a local and a template.
    let with_local =
        "locals {\n  d = sql(\"now()\")\n}\n".to_owned() + &text("timestamptz", "local.d");
    assert_eq!(
        read(Dialect::Postgres, &with_local).unwrap().schemas[0].tables[0].columns[0]
            .default
            .as_deref(),
        Some("now()")
    );
}

/// Atlas's `schema inspect` goldens (authoring-compat.md §1.5) read back.
#[test]
fn atlas_goldens_read_back() {
    let pg = "table \"users\" {\n  schema = schema.script_cli_inspect_file\n  column \"id\" {\n    null = false\n    type = integer\n  }\n  primary_key {\n    columns = [column.id]\n  }\n}\nschema \"script_cli_inspect_file\" {\n}\n";
    let r = read(Dialect::Postgres, pg).unwrap();
    let t = r
        .schema("script_cli_inspect_file")
        .unwrap()
        .table("users")
        .unwrap();
    assert_eq!(t.columns[0].ty.raw, "integer");
    assert!(!t.columns[0].nullable);
    assert_eq!(t.primary_key, Some(PrimaryKey::columns(["id"])));

    let fk = "table \"t1\" {\n  schema = schema.s\n  column \"c2\" {\n    null = true\n    type = integer\n  }\n  column \"c3\" {\n    null = true\n    type = integer\n  }\n  index \"t1_c2_c3_idx\" {\n    unique  = true\n    columns = [column.c2, column.c3]\n  }\n}\ntable \"t2\" {\n  schema = schema.s\n  column \"c2\" {\n    null    = false\n    type    = character_varying\n    default = \"unknown\"\n  }\n  column \"c3\" {\n    null = true\n    type = integer\n  }\n  foreign_key \"c2_c3_1\" {\n    columns     = [column.c2, column.c3]\n    ref_columns = [table.t1.column.c2, table.t1.column.c3]\n    on_update   = NO_ACTION\n    on_delete   = NO_ACTION\n  }\n}\nenum \"status\" {\n  schema = schema.s\n  values = [\"active\", \"inactive\", \"unknown\"]\n}\nschema \"s\" {\n}\n";
    let r = read(Dialect::Postgres, fk).unwrap();
    let s = r.schema("s").unwrap();
    let t2 = s.table("t2").unwrap();
    assert_eq!(t2.columns[0].ty.raw, "character varying");
    assert_eq!(t2.columns[0].default.as_deref(), Some("'unknown'"));
    let f = &t2.foreign_keys[0];
    assert_eq!(
        (f.ref_table.as_str(), f.ref_columns.clone()),
        ("t1", vec!["c2".to_owned(), "c3".to_owned()])
    );
    assert!(s.table("t1").unwrap().indexes[0].unique);
    assert_eq!(s.enums[0].values, ["active", "inactive", "unknown"]);

    let my = "table \"t1\" {\n  schema = schema.s\n  column \"name\" {\n    null = true\n    type = varchar(20)\n  }\n  column \"age\" {\n    null = true\n    type = int\n  }\n  check \"t1_check\" {\n    expr = \"((`name` <> _utf8mb4'a') or (`age` > 10))\"\n  }\n  check \"t1_chk_1\" {\n    expr = \"(`name` in (_utf8mb4'a',_utf8mb4'b',_utf8mb4'c'))\"\n  }\n}\nschema \"s\" {\n  charset = \"utf8mb4\"\n  collate = \"utf8mb4_0900_ai_ci\"\n}\n";
    let r = read(Dialect::Mysql, my).unwrap();
    let t = r.schemas[0].table("t1").unwrap();
    assert_eq!(t.checks.len(), 2);
    assert_eq!(
        t.checks[1].expr,
        "(`name` in (_utf8mb4'a',_utf8mb4'b',_utf8mb4'c'))"
    );
    assert_eq!(
        r.schemas[0].collation.as_deref(),
        Some("utf8mb4_0900_ai_ci")
    );
    let defaults = "table \"t\" {\n  schema = schema.s\n  column \"a\" {\n    null    = false\n    type    = varchar(20)\n    default = sql(\"(concat(_utf8mb4'a',`a`,_utf8mb4'\\\\'s',_utf8mb4'b'))\")\n  }\n  column \"b\" {\n    null    = false\n    type    = varchar(20)\n    default = \"a'b\"\n  }\n  primary_key {\n    on {\n      desc   = true\n      column = column.a\n      prefix = 7\n    }\n  }\n}\nschema \"s\" {\n}\n";
    let r = read(Dialect::Mysql, defaults).unwrap();
    let t = r.schemas[0].table("t").unwrap();
    assert_eq!(
        t.columns[0].default.as_deref(),
        Some("(concat(_utf8mb4'a',`a`,_utf8mb4'\\'s',_utf8mb4'b'))")
    );
    assert_eq!(t.columns[1].default.as_deref(), Some("'a''b'"));
    let part = &t.primary_key.as_ref().unwrap().parts[0];
    assert!(part.desc && part.prefix == Some(7));

    let lite = "table \"users\" {\n  schema = schema.main\n  column \"id\" {\n    null = false\n    type = int\n  }\n  column \"ac\" {\n    null = false\n    type = uint64\n  }\n}\nschema \"main\" {\n}\n";
    let r = read(Dialect::Sqlite, lite).unwrap();
    let t = r.schemas[0].table("users").unwrap();
    assert_eq!(
        (t.columns[0].ty.raw.as_str(), t.columns[1].ty.raw.as_str()),
        ("int", "uint64")
    );
    let generated = "table \"t\" {\n  schema = schema.main\n  column \"a\" {\n    type = int\n    as {\n      expr = \"1\"\n      type = STORED\n    }\n  }\n}\nschema \"main\" {\n}\n";
    let g = read(Dialect::Sqlite, generated).unwrap().schemas[0].tables[0].columns[0]
        .generated
        .clone();
    assert_eq!(
        g,
        Some(strata_schema::Generated {
            expr: "1".into(),
            stored: true
        })
    );
}

/// The inspected model of one of the schema engine's rich fixtures (the driver's golden inspection snapshots).
fn rich_inspected(file: &str) -> Realm {
    let path = format!(
        "{}/../strata-driver/tests/driver/snapshots/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // An insta snapshot: a `---`-delimited header, then the JSON.
    let json = text
        .splitn(3, "---\n")
        .nth(2)
        .unwrap_or_else(|| panic!("{path}: no snapshot body"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What HCL carries of a model: everything but extensions, the sequences no `serial` column owns, and the
/// functions, procedures and triggers `unexpressed` says it cannot hold (the printer leaves them out).
fn hcl_part(r: &Realm) -> Realm {
    let mut out = r.clone();
    out.extensions.clear();
    for (s, o) in r.schemas.iter().zip(&mut out.schemas) {
        let fs = crate::unexpressed::routines(r, s);
        let ts = crate::unexpressed::triggers(r, s);
        o.functions.retain(|f| fs.iter().any(|(g, _)| *g == f));
        o.triggers.retain(|t| ts.iter().any(|(u, _)| *u == t));
        o.sequences.retain(|q| q.owned_by.is_some());
    }
    out
}

/// `print(inspected)` read back by `parse` is the inspected model, on the rich fixtures of all three dialects.
#[test]
fn printed_rich_fixtures_read_back_as_inspected() {
    for (file, dialect) in [
        (
            "driver__pg_inspect__golden_inspect_of_a_rich_schema_and_its_round_trip.snap",
            Dialect::Postgres,
        ),
        (
            "driver__mysql_inspect__golden_inspect_of_a_rich_schema.snap",
            Dialect::Mysql,
        ),
        (
            "driver__sqlite_inspect__golden_inspect_of_a_rich_schema.snap",
            Dialect::Sqlite,
        ),
    ] {
        let inspected = rich_inspected(file);
        assert_eq!(inspected.dialect, dialect);
        let printed = crate::print::print(&inspected, &crate::print::PrintOptions::default());
        let parsed = read(dialect, &printed).unwrap_or_else(|e| panic!("{file}: {e}\n{printed}"));
        // Equal under the model's comparison rules: PostgreSQL's `<table>_pkey` names and literal casts, and
        // MySQL's table AUTO_INCREMENT, which is the next value, not a difference, unless the desired state sets
        // one (the printer leaves it out).
        let mut want = hcl_part(&inspected);
        for (s, p) in want.schemas.iter_mut().zip(&parsed.schemas) {
            for (t, pt) in s.tables.iter_mut().zip(&p.tables) {
                normalize::options_pair(dialect, &mut t.options, &pt.options);
            }
        }
        let want = serde_json::to_string_pretty(&normalize::realm(&want)).unwrap();
        let got = serde_json::to_string_pretty(&normalize::realm(&parsed)).unwrap();
        assert_eq!(got, want, "{file}: printed as\n{printed}");
    }
}

#[test]
fn functions_and_templates_evaluate() {
    let text = r#"
locals {
  names  = split(",", "a,b")
  merged = merge({ x = "1" }, { y = "2" })
  flat   = flatten([["p"], ["q", ["r"]]])
}
schema "public" {
  comment = format("%s-%d-%q|%s|%s|%s|%s|%s", upper("ab"), 7, "q", join("+", local.names), title("hello world"), lookup(local.merged, "y", "none"), jsonencode(local.flat), length(toset(["a", "a", "b"])))
}
table "t" {
  schema = schema.public
  column "c" {
    type    = text
    null    = true
    default = "${trimspace("  x ")}${replace("a-b", "-", "_")}${substr("hello", 1, 3)}${substr("", 0, 9223372036854775807)}${tostring(max(1, 5, 3))}"
    comment = startswith("schema", "sch") ? "yes" : "no"
  }
}
"#;
    let r = read(Dialect::Postgres, text).unwrap_or_else(|e| panic!("{e}"));
    let s = &r.schemas[0];
    assert_eq!(
        s.comment.as_deref(),
        Some(r#"AB-7-"q"|a+b|Hello World|2|["p","q","r"]|2"#)
    );
    let c = &s.tables[0].columns[0];
    assert_eq!(c.default.as_deref(), Some("'xa_bell5'"));
    assert_eq!(c.comment.as_deref(), Some("yes"));
}

#[test]
fn qualified_and_indexed_references() {
    let text = r#"
variable "tenants" {
  type    = list(string)
  default = ["acme", "globex"]
}
schema "app" {
}
schema "tenant" {
  for_each = toset(var.tenants)
  name     = each.value
}
table "app" "users" {
  schema = schema.app
  column "id" {
    type = int
  }
  column "d e" {
    type = int
  }
  primary_key {
    columns = [column["d e"]]
  }
}
table "users" {
  schema = schema.app
  column "ref" {
    type = int
  }
  foreign_key "f" {
    columns     = [column.ref]
    ref_columns = [table.app.users.column["d e"]]
    on_delete   = "SET NULL"
  }
}
"#;
    // Two tables labelled "users" in one schema: only the qualified one is referenced.
    let e = read(Dialect::Postgres, text).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Duplicate { kind: "table", .. }),
        "{e}"
    );
    let text = text.replace(
        "table \"users\" {\n  schema = schema.app",
        "table \"users\" {\n  schema = schema.tenant",
    );
    // schema.tenant names two schemas (a for_each).
    let e = read(Dialect::Postgres, &text).unwrap_err();
    assert!(
        e.to_string().contains("names 2 schemas (a for_each)"),
        "{e}"
    );
    let text = text.replace(
        "schema = schema.tenant",
        "schema = schema.app\n  name   = \"accounts\"",
    );
    let r = read(Dialect::Postgres, &text).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = r.schemas.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["acme", "app", "globex"]);
    let app = r.schema("app").unwrap();
    let f = &app.table("accounts").unwrap().foreign_keys[0];
    assert_eq!(
        (f.ref_table.as_str(), f.ref_columns[0].as_str()),
        ("users", "d e")
    );
    assert_eq!(f.on_delete, strata_schema::FkAction::SetNull);
    assert_eq!(
        app.table("users").unwrap().primary_key,
        Some(PrimaryKey::columns(["d e"]))
    );
}

/// Atlas's `function` and `trigger` blocks read into the definitions PostgreSQL prints, and a multi-line body
/// printed as a heredoc reads back as the same bytes.
#[test]
fn functions_and_triggers_read_as_postgres_prints_them() {
    let text = r#"schema "public" {
}
table "users" {
  schema = schema.public
  column "email" {
    type = text
  }
}
function "touch" {
  schema = schema.public
  lang   = PLpgSQL
  return = trigger
  as     = <<-SQL
  BEGIN
    NEW.email := lower(NEW.email);
    RETURN NEW;
  END;
  SQL
}
function "add" {
  schema = schema.public
  lang   = SQL
  arg "a" {
    type = int
  }
  arg {
    type    = int
    default = 1
  }
  return     = int
  as         = "RETURN a + $2"
  volatility = IMMUTABLE
  strict     = true
}
trigger "users_touch" {
  on = table.users
  before {
    insert    = true
    update_of = [table.users.column.email]
  }
  for  = ROW
  when = "new.email IS NOT NULL"
  execute {
    function = function.touch
  }
}
"#;
    let r = read(Dialect::Postgres, text).unwrap_or_else(|e| panic!("{e}"));
    let s = r.schema("public").unwrap();
    let defs: Vec<&str> = s.functions.iter().map(|f| f.definition.as_str()).collect();
    assert_eq!(
        defs,
        [
            "CREATE OR REPLACE FUNCTION public.add(a integer, integer DEFAULT 1)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE STRICT\nRETURN a + $2",
            "CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN\n  NEW.email := lower(NEW.email);\n  RETURN NEW;\nEND;\n$function$",
        ]
    );
    assert_eq!(s.functions[0].args, "a integer, integer");
    assert_eq!(
        s.triggers[0].definition,
        "CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE OF email ON public.users FOR EACH ROW WHEN (new.email IS NOT NULL) EXECUTE FUNCTION public.touch()"
    );
    let printed = crate::print::print(&r, &crate::print::PrintOptions::default());
    assert!(
        printed.contains("  as     = <<-SQL\n  BEGIN\n"),
        "{printed}"
    );
    assert_eq!(read(Dialect::Postgres, &printed).unwrap(), r, "{printed}");
}
