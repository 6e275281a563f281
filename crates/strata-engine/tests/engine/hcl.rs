//! HCL desired states end to end, per dialect: `schema apply` of an HCL file on an empty database, then `schema
//! diff` of the database against the HCL says synced, and the database inspects as the parsed model
//! (normalised). The dev database is a second fresh database (SQLite: in memory), so each test has its own.

use strata_driver::DbUrl;
use strata_engine::TxMode;
use strata_engine::schema::{
    self, InspectOptions, SchemaDiffOptions, SchemaError, Source, apply_plan, schema_diff,
};
use strata_hcl::parse::{HclFile, Value, Vars};
use strata_schema::{Realm, normalize};

fn url(text: &str) -> DbUrl {
    text.parse().unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Applies `hcl` to the empty database `target`, checks the second diff is empty and that the database
/// inspects as the HCL parses (both normalised), and returns the inspected realm.
async fn apply_and_compare(target: &DbUrl, dev: Option<DbUrl>, hcl: &str, vars: Vars) -> Realm {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "schema.hcl", hcl);
    let to = Source::parse(&format!("file://{}", file.display())).unwrap();
    assert!(matches!(to, Source::Hcl(_)), "{to:?}");
    let opts = SchemaDiffOptions::default().dev_url(dev).vars(vars.clone());
    let from = Source::from(target.clone());
    let plan = schema_diff(&from, &to, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!plan.is_empty());
    apply_plan(target, &plan, TxMode::File)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", plan.to_sql()));
    let again = schema_diff(&from, &to, &opts).await.unwrap();
    assert!(
        again.is_empty(),
        "not synced after apply:\n{}",
        again.to_sql()
    );

    let inspected = schema::inspect(target, &InspectOptions::default())
        .await
        .unwrap();
    let parsed =
        strata_hcl::parse::parse(&[HclFile::new("schema.hcl", hcl)], target.dialect(), &vars)
            .unwrap();
    let (a, b) = (normalize::realm(&inspected), normalize::realm(&parsed));
    assert_eq!(
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap(),
        "the database does not inspect as the HCL parses"
    );
    // The database printed as HCL (`schema inspect`'s default) is a desired state the database already meets.
    let printed = strata_hcl::print::print(&inspected, &strata_hcl::print::PrintOptions::default());
    let file = write(&dir, "printed.hcl", &printed);
    let printed_to = Source::parse(&format!("file://{}", file.display())).unwrap();
    let plan = schema_diff(&from, &printed_to, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{printed}"));
    assert!(
        plan.is_empty(),
        "printed:\n{printed}\nplan:\n{}",
        plan.to_sql()
    );
    inspected
}

const POSTGRES: &str = r#"
variable "public_comment" {
  type = string
}
schema "public" {
  comment = var.public_comment
}
enum "mood" {
  schema = schema.public
  values = ["sad", "ok", "happy"]
}
table "teams" {
  schema  = schema.public
  comment = "all teams"
  column "id" {
    null = false
    type = bigint
    identity {
      generated = ALWAYS
      start     = 10
      increment = 2
    }
  }
  column "name" {
    null    = false
    type    = character_varying(50)
    default = "team"
    collate = "C"
    comment = "display name"
  }
  column "score" {
    null    = true
    type    = numeric(10,2)
    default = 1.5
  }
  column "created" {
    null    = false
    type    = timestamptz
    default = sql("now()")
  }
  column "flags" {
    null = true
    type = sql("boolean[]")
  }
  column "doc" {
    null    = true
    type    = jsonb
    default = "{}"
  }
  primary_key {
    columns = [column.id]
  }
  index "teams_doc" {
    columns = [column.doc]
    type    = GIN
  }
  check "score_positive" {
    expr = "(score >= (0)::numeric)"
  }
  unique "teams_name_key" {
    columns = [column.name]
  }
}
table "users" {
  schema = schema.public
  column "id" {
    null = false
    type = serial
  }
  column "team_id" {
    null = true
    type = bigint
  }
  column "email" {
    null = false
    type = text
  }
  column "mood" {
    null    = true
    type    = enum.mood
    default = "ok"
  }
  column "email_len" {
    null = true
    type = integer
    as {
      expr = "length(email)"
      type = STORED
    }
  }
  column "manager_id" {
    null = true
    type = integer
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "users_manager" {
    columns     = [column.manager_id]
    ref_columns = [column.id]
    on_update   = NO_ACTION
    on_delete   = SET_NULL
  }
  foreign_key "users_team_id_fkey" {
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_update   = NO_ACTION
    on_delete   = CASCADE
  }
  index "users_email_pattern" {
    on {
      column = column.email
      ops    = text_pattern_ops
    }
    on {
      desc   = true
      column = column.team_id
    }
    include = [column.mood]
  }
  index "users_lower_email" {
    unique  = true
    on {
      desc = true
      expr = "lower(email)"
    }
    where   = "(email IS NOT NULL)"
    comment = "case-insensitive"
  }
  check "email_has_at" {
    expr = "(email ~~ '%@%'::text)"
  }
  unique "users_email_key" {
    columns        = [column.email]
    include        = [column.mood]
    nulls_distinct = false
  }
}
"#;

#[tokio::test]
async fn postgres_hcl_applies_and_inspects_as_parsed() {
    let (Some(target), Some(dev)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let vars = Vars::from([(
        "public_comment".to_owned(),
        Value::from("standard public schema"),
    )]);
    let realm = apply_and_compare(&url(&target.url), Some(url(&dev.url)), POSTGRES, vars).await;
    let users = realm.schema("public").unwrap().table("users").unwrap();
    assert_eq!(users.column("mood").unwrap().ty.raw, "public.mood");
}

#[tokio::test]
async fn postgres_hcl_without_a_dev_database_uses_the_parsed_model() {
    let Some(target) = strata_driver::testing::postgres().await else {
        return;
    };
    let vars = Vars::from([(
        "public_comment".to_owned(),
        Value::from("standard public schema"),
    )]);
    apply_and_compare(&url(&target.url), None, POSTGRES, vars).await;
}

fn mysql_hcl(db: &str) -> String {
    format!(
        r#"
schema "{db}" {{
  charset = "utf8mb4"
  collate = "utf8mb4_general_ci"
}}
table "teams" {{
  schema         = schema["{db}"]
  comment        = "all the teams"
  column "id" {{
    null           = false
    type           = int
    auto_increment = true
  }}
  column "name" {{
    null    = false
    type    = varchar(50)
    default = "team"
    comment = "the name"
  }}
  column "score" {{
    null    = true
    type    = double
    default = 1.5
  }}
  column "created" {{
    null      = false
    type      = timestamp
    default   = sql("current_timestamp()")
    on_update = sql("current_timestamp()")
  }}
  column "flag" {{
    null    = false
    type    = bool
    default = false
  }}
  column "status" {{
    null    = false
    type    = enum("active","it's")
    default = "active"
  }}
  column "latin" {{
    null    = true
    type    = varchar(10)
    charset = "latin1"
    collate = "latin1_swedish_ci"
  }}
  column "body" {{
    null = true
    type = text
  }}
  column "big" {{
    null     = true
    type     = bigint
    unsigned = true
  }}
  column "twice" {{
    null = true
    type = int
    as {{
      expr = "`id` * 2"
      type = VIRTUAL
    }}
  }}
  primary_key {{
    columns = [column.id]
  }}
  index "body_ft" {{
    columns = [column.body]
    type    = FULLTEXT
  }}
  index "body_prefix" {{
    on {{
      desc   = true
      column = column.body
      prefix = 10
    }}
    on {{
      column = column.id
    }}
  }}
  index "name_u" {{
    unique  = true
    columns = [column.name]
  }}
  check "score_positive" {{
    expr = "`score` >= 0"
  }}
}}
table "users" {{
  schema  = schema["{db}"]
  charset = "latin1"
  collate = "latin1_swedish_ci"
  column "id" {{
    null = false
    type = int
  }}
  column "team_id" {{
    null = true
    type = int
  }}
  column "email" {{
    null = false
    type = varchar(100)
  }}
  primary_key {{
    columns = [column.id]
  }}
  foreign_key "users_team" {{
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_update   = SET_NULL
    on_delete   = CASCADE
  }}
  index "users_email" {{
    columns = [column.email]
    comment = "lookups"
  }}
  index "users_team" {{
    columns = [column.team_id]
  }}
}}
"#
    )
}

#[tokio::test]
async fn mysql_hcl_applies_and_inspects_as_parsed() {
    let (Some(target), Some(dev)) = (
        strata_driver::testing::mysql().await,
        strata_driver::testing::mysql().await,
    ) else {
        return;
    };
    let hcl = mysql_hcl(&target.name);
    apply_and_compare(&url(&target.url), Some(url(&dev.url)), &hcl, Vars::new()).await;
}

const SQLITE: &str = r#"
schema "main" {
}
table "teams" {
  schema = schema.main
  column "id" {
    null           = true
    type           = integer
    auto_increment = true
  }
  column "name" {
    null    = false
    type    = varchar(50)
    default = "team"
    collate = "NOCASE"
  }
  column "score" {
    null    = true
    type    = real
    default = 1.5
  }
  column "created" {
    null    = true
    type    = datetime
    default = sql("CURRENT_TIMESTAMP")
  }
  column "flag" {
    null    = false
    type    = boolean
    default = false
  }
  primary_key {
    columns = [column.id]
  }
  check "score_positive" {
    expr = "score >= 0"
  }
}
table "users" {
  for_each = toset(["users", "archived_users"])
  name     = each.value
  schema   = schema.main
  column "id" {
    null = false
    type = integer
  }
  column "team_id" {
    null = true
    type = integer
  }
  column "email" {
    null = false
    type = text
  }
  column "email_len" {
    null = true
    type = int
    as {
      expr = "length(email)"
      type = STORED
    }
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "0" {
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_update   = SET_NULL
    on_delete   = CASCADE
  }
  index "email" {
    name   = "${each.value}_email"
    unique = true
    on {
      desc   = true
      column = column.email
    }
    where = "email IS NOT NULL"
  }
}
table "kv" {
  schema        = schema.main
  strict        = true
  without_rowid = true
  column "k" {
    null = false
    type = text
  }
  primary_key {
    columns = [column.k]
  }
}
"#;

#[tokio::test]
async fn sqlite_hcl_applies_and_inspects_as_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let target = url(&format!(
        "sqlite://{}?_fk=1",
        dir.path().join("app.db").display()
    ));
    let realm = apply_and_compare(&target, None, SQLITE, Vars::new()).await;
    assert!(realm.schemas[0].table("archived_users").is_some());
}

/// A folder of `.hcl` files and several `--to` files are one schema; errors keep their `file:line:column`.
#[tokio::test]
async fn folders_and_several_files_are_one_schema() {
    let dir = tempfile::tempdir().unwrap();
    let target = url(&format!("sqlite://{}", dir.path().join("app.db").display()));
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let a = write(&dir, "parts/a.hcl", "schema \"main\" {\n}\n");
    let b = write(
        &dir,
        "parts/b.hcl",
        "table \"t\" {\n  schema = schema.main\n  column \"id\" {\n    type = int\n  }\n}\n",
    );
    let folder = Source::parse(&format!("file://{}", parts.display())).unwrap();
    let files = Source::parse_all(&[
        format!("file://{}", a.display()),
        format!("file://{}", b.display()),
    ])
    .unwrap();
    let from = Source::from(target.clone());
    for to in [&folder, &files] {
        let plan = schema_diff(&from, to, &SchemaDiffOptions::default())
            .await
            .unwrap();
        assert_eq!(plan.statements.len(), 1, "{}", plan.to_sql());
    }
    let e = Source::parse_all(&[
        format!("file://{}", a.display()),
        target.redacted().to_owned(),
    ])
    .unwrap_err();
    assert!(matches!(e, SchemaError::SeveralSources { .. }), "{e:?}");

    write(
        &dir,
        "parts/c.hcl",
        "table \"u\" {\n  schema = schema.main\n  colum \"x\" {\n  }\n}\n",
    );
    let e = schema_diff(&from, &folder, &SchemaDiffOptions::default())
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, SchemaError::Hcl(_)), "{e:?}");
    assert!(
        text.contains("c.hcl:3:3: unknown block \"colum\""),
        "{text}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    write(&dir, "empty/x.txt", "");
    let e = schema::load(&Source::Hcl(vec![empty]), &schema::LoadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, SchemaError::HclDialect { .. }), "{e:?}");
}

/// A schema-bound PostgreSQL target (`search_path=public`, whose types inspect unqualified) and an HCL enum
/// column (`public.mood` in the parsed model): the same type, so one apply leaves nothing to do.
#[tokio::test]
async fn postgres_bound_target_and_hcl_enum_without_a_dev_database() {
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let target = url(&db.url_with_search_path("public"));
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "schema.hcl",
        "schema \"public\" {\n}\nenum \"mood\" {\n  schema = schema.public\n  values = [\"ok\", \"sad\"]\n}\n\
         table \"t\" {\n  schema = schema.public\n  column \"m\" {\n    null = true\n    type = enum.mood\n  }\n}\n",
    );
    let to = Source::parse(&format!("file://{}", file.display())).unwrap();
    let from = Source::from(target.clone());
    let opts = SchemaDiffOptions::default();
    let plan = schema_diff(&from, &to, &opts).await.unwrap();
    apply_plan(&target, &plan, TxMode::File)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", plan.to_sql()));
    let again = schema_diff(&from, &to, &opts).await.unwrap();
    assert!(again.is_empty(), "{}", again.to_sql());
}

#[tokio::test]
async fn mysql_hcl_without_a_dev_database_uses_the_parsed_model() {
    let Some(target) = strata_driver::testing::mysql().await else {
        return;
    };
    let hcl = mysql_hcl(&target.name);
    apply_and_compare(&url(&target.url), None, &hcl, Vars::new()).await;
}

async fn exec(target: &DbUrl, sql: &str) {
    let mut d = strata_driver::connect(target).await.unwrap();
    for stmt in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
        d.execute(stmt)
            .await
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    d.close().await.unwrap();
}

/// What HCL cannot express — here a function with a `COST`, a trigger passing arguments and a free-standing
/// sequence — an HCL desired state that changes a table plans that change and leaves alone (it never drops what
/// it could not describe), and the objects still exist after the apply.
#[tokio::test]
async fn postgres_hcl_leaves_functions_triggers_and_sequences_alone() {
    let (Some(target), Some(dev)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let target_url = url(&target.url_with_search_path("public"));
    exec(
        &target_url,
        "CREATE TABLE users (id integer NOT NULL, PRIMARY KEY (id));\n\
         CREATE SEQUENCE tickets;\n\
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql COST 5 AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION touch('x');\n",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "schema.hcl",
        r#"schema "public" {
}
table "users" {
  schema = schema.public
  column "id" {
    type = integer
  }
  column "name" {
    null = true
    type = text
  }
  primary_key {
    columns = [column.id]
  }
}
"#,
    );
    let to = Source::parse(&format!("file://{}", file.display())).unwrap();
    let opts = SchemaDiffOptions::default().dev_url(Some(url(&dev.url_with_search_path("public"))));
    let from = Source::from(target_url.clone());
    let plan = schema_diff(&from, &to, &opts).await.unwrap();
    let sql = plan.to_sql();
    assert!(sql.contains("ADD COLUMN \"name\" text NULL"), "{sql}");
    for kept in ["FUNCTION", "TRIGGER", "SEQUENCE"] {
        assert!(!sql.contains(kept), "the plan touches a {kept}:\n{sql}");
    }
    apply_plan(&target_url, &plan, TxMode::File).await.unwrap();
    let realm = schema::inspect(&target_url, &InspectOptions::default())
        .await
        .unwrap();
    let public = realm.schema("public").unwrap();
    assert_eq!(public.functions.len(), 1);
    assert_eq!(public.triggers.len(), 1);
    assert!(public.sequences.iter().any(|s| s.name == "tickets"));
    assert!(schema_diff(&from, &to, &opts).await.unwrap().is_empty());
    let left_out = strata_hcl::unexpressed::LeftOut::of(&realm);
    assert_eq!(
        left_out.to_string(),
        "1 function or procedure, 1 trigger, 1 sequence"
    );
}

/// The same on SQLite, where a trigger written in another spelling than Strata's is what HCL cannot hold (SQLite
/// keeps the statement as written); the table copy a NOT NULL change needs would lose it, so the planner must
/// recreate the kept trigger after the copy.
#[tokio::test]
async fn sqlite_hcl_leaves_triggers_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target_url = url(&format!("sqlite://{}", dir.path().join("app.db").display()));
    exec(
        &target_url,
        "CREATE TABLE users (id integer NOT NULL PRIMARY KEY, name text NULL);\n\
         CREATE TABLE audit (id integer NULL);\n\
         create trigger users_audit after insert on users begin insert into audit (id) values (new.id); end;\n",
    )
    .await;
    let file = write(
        &dir,
        "schema.hcl",
        r#"schema "main" {
}
table "users" {
  schema = schema.main
  column "id" {
    type = integer
  }
  column "name" {
    type    = text
    default = ""
  }
  column "email" {
    null = true
    type = text
  }
  primary_key {
    columns = [column.id]
  }
}
table "audit" {
  schema = schema.main
  column "id" {
    null = true
    type = integer
  }
}
"#,
    );
    let to = Source::parse(&format!("file://{}", file.display())).unwrap();
    let opts = SchemaDiffOptions::default();
    let from = Source::from(target_url.clone());
    let plan = schema_diff(&from, &to, &opts).await.unwrap();
    let sql = plan.to_sql();
    assert!(sql.contains("new_users"), "not the table copy:\n{sql}");
    assert!(!sql.contains("DROP TRIGGER"), "{sql}");
    apply_plan(&target_url, &plan, TxMode::File).await.unwrap();
    let realm = schema::inspect(&target_url, &InspectOptions::default())
        .await
        .unwrap();
    assert_eq!(realm.schema("main").unwrap().triggers.len(), 1);
    assert!(schema_diff(&from, &to, &opts).await.unwrap().is_empty());
}

/// The first column of the first row `sql` returns on `target`.
async fn first_value(target: &DbUrl, sql: &str) -> Option<String> {
    let mut d = strata_driver::connect(target).await.unwrap();
    let rows = d
        .query_first_column(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    d.close().await.unwrap();
    rows.into_iter().next().flatten()
}

const POSTGRES_ROUTINES: &str = r#"
schema "public" {
  comment = "standard public schema"
}
table "users" {
  schema = schema.public
  column "id" {
    null = false
    type = integer
  }
  column "email" {
    null = true
    type = text
  }
  column "factor" {
    null    = false
    type    = integer
    default = 1
  }
  primary_key {
    columns = [column.id]
  }
}
function "normalize_email" {
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
function "twice" {
  schema = schema.public
  lang   = SQL
  arg "a" {
    type = integer
  }
  return     = integer
  as         = "SELECT a * 2"
  volatility = IMMUTABLE
  strict     = true
}
procedure "set_factor" {
  schema = schema.public
  lang   = SQL
  arg "f" {
    type = integer
  }
  as = "UPDATE users SET factor = f"
}
trigger "users_normalize" {
  on = table.users
  before {
    insert    = true
    update_of = [table.users.column.email]
  }
  for  = ROW
  when = "new.email IS NOT NULL"
  execute {
    function = function.normalize_email
  }
}
"#;

/// Functions, a procedure and a trigger in HCL: applied to an empty database through the engine, synced,
/// inspected as parsed (and the printed HCL synced), and the trigger fires.
#[tokio::test]
async fn postgres_hcl_functions_and_triggers_apply_and_fire() {
    let (Some(target), Some(dev)) = (
        strata_driver::testing::postgres().await,
        strata_driver::testing::postgres().await,
    ) else {
        return;
    };
    let target_url = url(&target.url);
    let realm = apply_and_compare(
        &target_url,
        Some(url(&dev.url)),
        POSTGRES_ROUTINES,
        Vars::new(),
    )
    .await;
    let public = realm.schema("public").unwrap();
    assert_eq!((public.functions.len(), public.triggers.len()), (3, 1));
    assert!(strata_hcl::unexpressed::LeftOut::of(&realm).is_empty());
    exec(
        &target_url,
        "INSERT INTO users (id, email) VALUES (1, 'Ada@Example.COM');\nCALL set_factor(7);\n",
    )
    .await;
    let email = first_value(&target_url, "SELECT email FROM users WHERE id = 1").await;
    assert_eq!(
        email.as_deref(),
        Some("ada@example.com"),
        "the trigger did not fire"
    );
    let row = first_value(&target_url, "SELECT twice(factor) FROM users").await;
    assert_eq!(row.as_deref(), Some("14"));
}

fn mysql_routines(db: &str) -> String {
    format!(
        r#"
schema "{db}" {{
  charset = "utf8mb4"
  collate = "utf8mb4_general_ci"
}}
table "users" {{
  schema = schema["{db}"]
  column "id" {{
    null = false
    type = int
  }}
  column "email" {{
    null = true
    type = varchar(100)
  }}
  primary_key {{
    columns = [column.id]
  }}
}}
function "twice" {{
  schema = schema["{db}"]
  arg "a" {{
    type = int
  }}
  return        = int
  as            = "RETURN a * 2"
  deterministic = true
  comment       = "doubles"
}}
procedure "count_users" {{
  schema = schema["{db}"]
  arg "n" {{
    type = int
    mode = OUT
  }}
  as          = "BEGIN SELECT count(*) INTO n FROM users; END"
  data_access = READS_SQL_DATA
}}
trigger "users_lower" {{
  on = table.users
  before {{
    insert = true
  }}
  as = "SET NEW.email = lower(NEW.email)"
}}
"#
    )
}

#[tokio::test]
async fn mysql_hcl_functions_and_triggers_apply_and_fire() {
    let (Some(target), Some(dev)) = (
        strata_driver::testing::mysql().await,
        strata_driver::testing::mysql().await,
    ) else {
        return;
    };
    let target_url = url(&target.url);
    let hcl = mysql_routines(&target.name);
    let realm = apply_and_compare(&target_url, Some(url(&dev.url)), &hcl, Vars::new()).await;
    let s = &realm.schemas[0];
    assert_eq!((s.functions.len(), s.triggers.len()), (2, 1));
    assert!(strata_hcl::unexpressed::LeftOut::of(&realm).is_empty());
    exec(
        &target_url,
        "INSERT INTO users (id, email) VALUES (21, 'Ada@Example.COM')",
    )
    .await;
    let email = first_value(&target_url, "SELECT email FROM users").await;
    assert_eq!(
        email.as_deref(),
        Some("ada@example.com"),
        "the trigger did not fire"
    );
    let twice = first_value(&target_url, "SELECT twice(id) FROM users").await;
    assert_eq!(twice.as_deref(), Some("42"));
}

#[tokio::test]
async fn sqlite_hcl_triggers_apply_and_fire() {
    let dir = tempfile::tempdir().unwrap();
    let target_url = url(&format!("sqlite://{}", dir.path().join("app.db").display()));
    let hcl = r#"
schema "main" {
}
table "users" {
  schema = schema.main
  column "id" {
    null = false
    type = integer
  }
  primary_key {
    columns = [column.id]
  }
}
table "audit" {
  schema = schema.main
  column "user_id" {
    null = true
    type = integer
  }
}
trigger "users_audit" {
  on = table.users
  after {
    insert = true
  }
  for = ROW
  as  = "BEGIN INSERT INTO audit (user_id) VALUES (NEW.id); END"
}
"#;
    let realm = apply_and_compare(&target_url, None, hcl, Vars::new()).await;
    assert_eq!(realm.schema("main").unwrap().triggers.len(), 1);
    assert!(strata_hcl::unexpressed::LeftOut::of(&realm).is_empty());
    exec(&target_url, "INSERT INTO users (id) VALUES (5)").await;
    let audited = first_value(&target_url, "SELECT user_id FROM audit").await;
    assert_eq!(audited.as_deref(), Some("5"), "the trigger did not fire");
}
