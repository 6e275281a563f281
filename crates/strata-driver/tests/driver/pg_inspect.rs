//! PostgreSQL inspection: a golden snapshot of a rich schema, its round trip through the planner, rows kept by
//! non-destructive changes, convergence of random schema pairs, and the 1,000-table measurement (ignored).

use std::cell::RefCell;

use strata_driver::Driver;
use strata_driver::inspect::{Inspect, InspectOptions};
use strata_driver::postgres::PostgresDriver;
use strata_driver::testing::TestDb;
use strata_schema::diff::{DiffOptions, diff};
use strata_schema::plan::{Plan, plan};
use strata_schema::*;

use crate::common::Rng;
use crate::pg_db;

async fn open(url: &str) -> PostgresDriver {
    PostgresDriver::connect(url.parse().unwrap()).await.unwrap()
}

/// Runs a plan in one transaction, as the executor does on PostgreSQL.
async fn apply(d: &mut PostgresDriver, p: &Plan) {
    d.begin().await.unwrap();
    for s in &p.statements {
        if let Err(e) = d.execute(&s.sql).await {
            let _ = d.rollback().await;
            panic!("{e}\nin: {}\nplan:\n{}", s.sql, p.to_sql());
        }
    }
    d.commit().await.unwrap();
}

async fn inspect_all(d: &mut PostgresDriver) -> Realm {
    d.inspect(&InspectOptions::default()).await.unwrap()
}

const RICH: &str = r#"
CREATE EXTENSION citext;
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'application side';
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE counter AS bigint INCREMENT BY 5 MINVALUE 10 MAXVALUE 1000 START WITH 10 CACHE 2 CYCLE;
CREATE TABLE teams (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 2) PRIMARY KEY,
  name varchar(50) COLLATE "C" NOT NULL DEFAULT 'team',
  score numeric(10, 2) DEFAULT 1.5 CONSTRAINT score_positive CHECK (score >= 0),
  created timestamptz NOT NULL DEFAULT now(),
  flags boolean[],
  doc jsonb DEFAULT '{}',
  tag citext,
  CONSTRAINT teams_name_key UNIQUE (name)
);
COMMENT ON TABLE teams IS 'all teams';
COMMENT ON COLUMN teams.name IS 'display name';
CREATE TABLE users (
  id serial PRIMARY KEY,
  team_id bigint REFERENCES teams (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  email text NOT NULL,
  mood mood DEFAULT 'ok',
  email_len integer GENERATED ALWAYS AS (length(email)) STORED,
  manager_id integer,
  n bigint DEFAULT nextval('counter'),
  CONSTRAINT users_manager FOREIGN KEY (manager_id) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT users_email_key UNIQUE NULLS NOT DISTINCT (email) INCLUDE (mood)
);
ALTER TABLE users ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%') NOT VALID;
CREATE UNIQUE INDEX users_lower_email ON users (lower(email) DESC) WHERE email IS NOT NULL;
CREATE INDEX users_email_pattern ON users (email text_pattern_ops, team_id DESC) INCLUDE (mood);
CREATE INDEX users_email_c ON users (email COLLATE "C");
CREATE INDEX teams_doc ON teams USING gin (doc);
COMMENT ON INDEX users_lower_email IS 'case-insensitive';
CREATE VIEW team_users AS SELECT t.name, u.email FROM teams t JOIN users u ON u.team_id = t.id;
COMMENT ON VIEW team_users IS 'who is where';
CREATE VIEW placed_users AS SELECT id, email FROM users WHERE team_id IS NOT NULL WITH CASCADED CHECK OPTION;
CREATE MATERIALIZED VIEW team_sizes AS SELECT team_id, count(*) AS n FROM users GROUP BY team_id;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE PROCEDURE reset_scores(factor numeric) LANGUAGE sql AS $$ UPDATE teams SET score = score * factor $$;
CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE app.audit (
  id bigint PRIMARY KEY,
  user_id integer REFERENCES public.users (id),
  at timestamp(3) DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE atlas_schema_revisions (version text PRIMARY KEY);
"#;

#[tokio::test]
async fn golden_inspect_of_a_rich_schema_and_its_round_trip() {
    let db = pg_db!();
    let mut d = open(&db.url).await;
    d.execute(RICH).await.unwrap();
    let realm = inspect_all(&mut d).await;
    let public = realm.schema("public").unwrap();
    assert!(public.table("atlas_schema_revisions").is_none());
    insta::assert_json_snapshot!(realm);

    let with = d
        .inspect(&InspectOptions::default().include_revisions_table(true))
        .await
        .unwrap();
    assert!(
        with.schema("public")
            .unwrap()
            .table("atlas_schema_revisions")
            .is_some()
    );
    let only_app = d
        .inspect(&InspectOptions::default().schemas(["app"]))
        .await
        .unwrap();
    assert_eq!(only_app.schemas.len(), 1);
    assert_eq!(only_app.schemas[0].name, "app");
    let excluded = d
        .inspect(&InspectOptions::default().exclude(["app", "public.users.email_len"]))
        .await
        .unwrap();
    assert!(excluded.schema("app").is_none());
    let users = excluded.schema("public").unwrap().table("users").unwrap();
    assert!(users.column("email_len").is_none() && users.column("email").is_some());

    // A URL bound to public: the `public.` qualifier is gone from types and expressions.
    let mut bound = open(&db.url_with_search_path("public")).await;
    let b = inspect_all(&mut bound).await;
    assert_eq!(b.schemas.len(), 1);
    let bu = b.schemas[0].table("users").unwrap();
    assert_eq!(bu.column("mood").unwrap().ty.raw, "mood");
    assert_eq!(
        bu.column("id").unwrap().default.as_deref(),
        Some("nextval('users_id_seq'::regclass)")
    );
    // The session's search_path is restored after inspection.
    bound
        .execute(
            "DO $$ BEGIN IF current_setting('search_path') <> 'public' THEN \
             RAISE EXCEPTION 'search_path is %', current_setting('search_path'); END IF; END $$",
        )
        .await
        .unwrap();

    // The inspected model, planned from an empty database and applied, inspects the same.
    let other = pg_db!();
    let mut e = open(&other.url).await;
    let empty = inspect_all(&mut e).await;
    let c = diff(&empty, &realm, &DiffOptions::default()).unwrap();
    let p = plan(&c, &realm).unwrap();
    apply(&mut e, &p).await;
    let again = inspect_all(&mut e).await;
    let second = diff(&again, &realm, &DiffOptions::default()).unwrap();
    assert!(second.is_empty(), "{second:#?}\nplan:\n{}", p.to_sql());
    assert_eq!(
        normalize::realm(&again),
        normalize::realm(&realm),
        "plan:\n{}",
        p.to_sql()
    );
    // And back to empty: every table, view, type and schema planned away.
    let c = diff(&again, &empty, &DiffOptions::default()).unwrap();
    let p = plan(&c, &empty).unwrap();
    assert!(!p.destructive().is_empty());
    apply(&mut e, &p).await;
    let gone = inspect_all(&mut e).await;
    assert!(
        diff(&gone, &empty, &DiffOptions::default())
            .unwrap()
            .is_empty(),
        "plan:\n{}",
        p.to_sql()
    );
}

/// Inside a transaction, inspection keeps to the driver's session: a second session (which runs the constraint
/// query outside one) would not see uncommitted tables, and their keys and checks would be missing. Outside a
/// transaction the two-session read must give the same realm.
#[tokio::test]
async fn inspection_in_a_transaction_sees_its_uncommitted_constraints() {
    let db = pg_db!();
    let mut d = open(&db.url).await;
    d.begin().await.unwrap();
    d.execute(
        "CREATE TABLE p (id integer PRIMARY KEY); \
         CREATE TABLE c (id integer PRIMARY KEY, p_id integer REFERENCES p (id), n integer CHECK (n > 0));",
    )
    .await
    .unwrap();
    let inside = inspect_all(&mut d).await;
    let c = inside
        .schemas
        .iter()
        .flat_map(|s| &s.tables)
        .find(|t| t.name == "c")
        .expect("table c inspected");
    assert_eq!(c.foreign_keys.len(), 1, "{c:?}");
    assert_eq!(c.checks.len(), 1, "{c:?}");
    d.commit().await.unwrap();
    assert_eq!(inspect_all(&mut d).await, inside);
}

#[tokio::test]
async fn non_destructive_changes_keep_every_row() {
    let db = pg_db!();
    let mut d = open(&db.url).await;
    d.execute(
        "CREATE TABLE parent (id integer PRIMARY KEY, name varchar(10) NOT NULL, n integer);
         CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id) ON DELETE CASCADE);
         INSERT INTO parent SELECT i, 'p' || i, i * 2 FROM generate_series(1, 1000) AS i;
         INSERT INTO child SELECT i, i FROM generate_series(1, 1000) AS i;",
    )
    .await
    .unwrap();
    let fingerprint = "SELECT count(*)::text || ':' || sum(id)::text || ':' || \
                       string_agg(name || n::text, ',' ORDER BY id) FROM parent";
    let before: String = sqlx::query_scalar(fingerprint)
        .fetch_one(&mut *raw(&db).await)
        .await
        .unwrap();
    let from = inspect_all(&mut d).await;
    let mut to = from.clone();
    let s = to.schema_mut("public").unwrap();
    let parent = s.tables.iter_mut().find(|t| t.name == "parent").unwrap();
    parent.columns[1].ty = ColumnType::parse(Dialect::Postgres, "character varying(100)");
    parent.columns[2].ty = ColumnType::parse(Dialect::Postgres, "bigint");
    parent.columns.push(Column {
        nullable: false,
        default: Some("'none'::text".into()),
        ..Column::new("label", ColumnType::parse(Dialect::Postgres, "text"))
    });
    parent.indexes.push(Index::on("parent_name", ["name"]));
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    assert!(p.destructive().is_empty(), "{}", p.to_sql());
    apply(&mut d, &p).await;
    let mut conn = raw(&db).await;
    let after: String = sqlx::query_scalar(fingerprint)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(after, before, "rows changed or lost");
    let labels: i64 = sqlx::query_scalar("SELECT count(*) FROM parent WHERE label = 'none'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(labels, 1000);
    let children: i64 = sqlx::query_scalar("SELECT count(*) FROM child")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(children, 1000);
    assert!(
        diff(&inspect_all(&mut d).await, &to, &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

async fn raw(db: &TestDb) -> Box<sqlx::PgConnection> {
    Box::new(
        <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap(),
    )
}

/// Column types by name prefix: a column's name tells its type, so unrelated schemas change types only the way
/// the mutations do (widening), never between types PostgreSQL cannot cast.
const TYPES: &[(&str, &str, &[&str])] = &[
    ("int", "integer", &["0", "'-5'::integer"]),
    ("big", "bigint", &["7"]),
    ("txt", "text", &["'x'::text", "''::text", "'it''s'::text"]),
    ("vc", "character varying(10)", &["'abc'::character varying"]),
    ("num", "numeric(10,2)", &["1.5", "0"]),
    ("flag", "boolean", &["true", "false"]),
    ("ts", "timestamp without time zone", &["CURRENT_TIMESTAMP"]),
    ("day", "date", &["CURRENT_DATE"]),
    ("doc", "jsonb", &["'{}'::jsonb"]),
    ("uid", "uuid", &[]),
    ("arr", "integer[]", &["'{}'::integer[]"]),
];

const ACTIONS: &[FkAction] = &[
    FkAction::NoAction,
    FkAction::Cascade,
    FkAction::SetNull,
    FkAction::Restrict,
];

const MOODS: &[&str] = &["a", "b", "c", "d", "e"];

fn mood_type(schema: &str) -> String {
    format!("{schema}.mood")
}

/// A random schema named `schema`: tables with an integer, identity or serial key, typed columns with
/// defaults, enum columns, foreign keys (to any table, itself and cycles included, deferrable or not),
/// indexes (unique, descending, partial, expression, INCLUDE, unique constraints), checks, comments, views, a
/// sequence.
fn random_realm(seed: u64, schema: &str) -> Realm {
    let mut r = Rng(seed | 1);
    let pool = ["a", "b", "c", "d"];
    let tables: Vec<&str> = pool.iter().copied().filter(|_| r.chance(60)).collect();
    let tables = if tables.is_empty() { vec!["a"] } else { tables };
    let mut s = Schema::new(schema);
    let with_enum = r.chance(50);
    if with_enum {
        let mut values: Vec<String> = vec!["a".into()];
        values.extend(
            MOODS[1..]
                .iter()
                .filter(|_| r.chance(40))
                .map(|v| v.to_string()),
        );
        s.enums.push(Enum {
            name: "mood".into(),
            values,
        });
    }
    if r.chance(30) {
        s.sequences.push(Sequence {
            name: "ticket".into(),
            data_type: Some("bigint".into()),
            start: 1 + r.below(10) as i64,
            increment: 1 + r.below(3) as i64,
            min_value: 1,
            max_value: 1000,
            cache: 1,
            cycle: r.chance(50),
            owned_by: None,
        });
    }
    for &name in &tables {
        let mut t = Table::new(name);
        let id = match r.below(6) {
            0 => Column {
                nullable: false,
                identity: Some(Identity {
                    always: r.chance(50),
                    start: 1,
                    increment: 1,
                }),
                ..Column::new("id", ColumnType::parse(Dialect::Postgres, "integer"))
            },
            1 => {
                s.sequences.push(Sequence {
                    name: format!("{name}_id_seq"),
                    data_type: Some("integer".into()),
                    start: 1,
                    increment: 1,
                    min_value: 1,
                    max_value: i64::from(i32::MAX),
                    cache: 1,
                    cycle: false,
                    owned_by: Some(format!("{name}.id")),
                });
                Column {
                    nullable: false,
                    default: Some(format!("nextval('{schema}.{name}_id_seq'::regclass)")),
                    ..Column::new("id", ColumnType::parse(Dialect::Postgres, "integer"))
                }
            }
            _ => Column {
                nullable: false,
                ..Column::new("id", ColumnType::parse(Dialect::Postgres, "integer"))
            },
        };
        t.columns.push(id);
        t.primary_key = Some(PrimaryKey::columns(["id"]));
        for k in 1..=4 {
            if !r.chance(50) {
                continue;
            }
            let (prefix, ty, defaults) = *r.pick(TYPES);
            let mut col = Column::new(
                format!("{prefix}{k}"),
                ColumnType::parse(Dialect::Postgres, ty),
            );
            col.nullable = r.chance(60);
            if !defaults.is_empty() && r.chance(50) {
                col.default = Some(r.pick(defaults).to_string());
            }
            if r.chance(10) {
                col.comment = Some(format!("column {k}"));
            }
            t.columns.push(col);
        }
        if with_enum && r.chance(40) {
            let mut col = Column::new(
                "feel",
                ColumnType::parse(Dialect::Postgres, &mood_type(schema)),
            );
            if r.chance(50) {
                col.default = Some(format!("'a'::{}", mood_type(schema)));
            }
            t.columns.push(col);
        }
        for (k, p) in ["p1", "p2"].into_iter().enumerate() {
            if !r.chance(35) {
                continue;
            }
            t.columns.push(Column::new(
                p,
                ColumnType::parse(Dialect::Postgres, "integer"),
            ));
            let target = *r.pick(&tables);
            let deferrable = r.chance(20);
            t.foreign_keys.push(ForeignKey {
                name: format!("{name}_fk{k}"),
                columns: vec![p.into()],
                ref_schema: schema.into(),
                ref_table: target.into(),
                ref_columns: vec!["id".into()],
                on_update: *r.pick(ACTIONS),
                on_delete: *r.pick(ACTIONS),
                deferrable,
                initially_deferred: deferrable && r.chance(50),
            });
        }
        let cols: Vec<(String, String)> = t.columns[1..]
            .iter()
            .filter(|c| !c.ty.raw.ends_with("[]") && c.ty.raw != "jsonb")
            .map(|c| (c.name.clone(), c.ty.raw.clone()))
            .collect();
        for k in 0..2 {
            if cols.is_empty() || !r.chance(40) {
                continue;
            }
            let (c, ty) = r.pick(&cols).clone();
            if r.chance(20) {
                t.indexes.push(Index {
                    unique: true,
                    constraint: true,
                    ..Index::on(format!("{name}_{c}_key"), [c.clone()])
                });
                continue;
            }
            let mut part = if ty == "integer" && r.chance(30) {
                IndexPart::expr(format!("abs({c})"))
            } else {
                IndexPart::column(c.clone())
            };
            part.desc = r.chance(30);
            let mut parts = vec![part];
            if r.chance(30) {
                parts.push(IndexPart::column("id"));
            }
            let include = if r.chance(15) && !parts.iter().any(|p| p.column_name() == Some("id")) {
                vec!["id".to_string()]
            } else {
                Vec::new()
            };
            t.indexes.push(Index {
                unique: r.chance(30),
                parts,
                include,
                predicate: r.chance(25).then(|| format!("({c} IS NOT NULL)")),
                ..Index::on(format!("{name}_i{k}"), Vec::<String>::new())
            });
        }
        t.indexes.dedup_by(|a, b| a.name == b.name);
        if r.chance(30) {
            t.checks
                .push(Check::new(Some(&format!("{name}_ck")), "(id > 0)"));
        }
        if r.chance(15) {
            t.comment = Some(format!("table {name}"));
        }
        s.tables.push(t);
    }
    for &name in &tables {
        if r.chance(30) {
            let t = s.tables.iter().find(|t| t.name == name).unwrap();
            let extra = t
                .columns
                .get(1)
                .filter(|_| r.chance(50))
                .map(|c| format!(", {name}.{}", c.name))
                .unwrap_or_default();
            s.views.push(View {
                name: format!("v_{name}"),
                definition: format!("SELECT {name}.id{extra} FROM {schema}.{name}"),
                check_option: None,
                comment: None,
            });
        }
    }
    let mut realm = Realm::new(Dialect::Postgres);
    realm.schemas.push(s);
    realm.sort();
    realm
}

/// `realm` with one to three small edits: new columns (nullable, or NOT NULL with a default), indexes added or
/// dropped, columns dropped (with what reads them), nullability flipped, types widened, enum values added,
/// checks changed, foreign key actions changed, comments set, views dropped.
fn mutate(realm: &Realm, seed: u64) -> Realm {
    let mut r = Rng(seed | 1);
    let mut out = realm.clone();
    let s = &mut out.schemas[0];
    for k in 0..1 + r.below(3) {
        let ti = r.below(s.tables.len());
        let tname = s.tables[ti].name.clone();
        let t = &mut s.tables[ti];
        let cols: Vec<String> = t.columns[1..].iter().map(|c| c.name.clone()).collect();
        match r.below(10) {
            0 => t.columns.push(Column::new(
                format!("n{k}"),
                ColumnType::parse(Dialect::Postgres, "text"),
            )),
            1 => t.columns.push(Column {
                nullable: false,
                default: Some("0".into()),
                ..Column::new(
                    format!("m{k}"),
                    ColumnType::parse(Dialect::Postgres, "integer"),
                )
            }),
            2 => {
                let c = if cols.is_empty() {
                    "id".to_string()
                } else {
                    r.pick(&cols).clone()
                };
                let c = if t
                    .column(&c)
                    .is_some_and(|x| x.ty.raw == "jsonb" || x.ty.raw.ends_with("[]"))
                {
                    "id".to_string()
                } else {
                    c
                };
                t.indexes.push(Index {
                    unique: r.chance(30),
                    ..Index::on(format!("{}_j{k}", t.name), [c])
                });
            }
            3 if !t.indexes.is_empty() => {
                let i = r.below(t.indexes.len());
                t.indexes.remove(i);
            }
            4 if !cols.is_empty() => {
                let c = r.pick(&cols).clone();
                t.columns.retain(|x| x.name != c);
                t.indexes.retain(|i| {
                    i.parts.iter().all(|p| match &p.key {
                        PartKey::Column(x) => *x != c,
                        PartKey::Expr(e) => !e.contains(&c),
                    }) && !i.predicate.as_deref().is_some_and(|p| p.contains(&c))
                        && !i.include.contains(&c)
                });
                t.foreign_keys.retain(|f| !f.columns.contains(&c));
                let needle = format!("{tname}.{c}");
                s.views.retain(|v| !v.definition.contains(&needle));
            }
            5 if !cols.is_empty() => {
                let c = r.pick(&cols).clone();
                if let Some(col) = t.columns.iter_mut().find(|x| x.name == c) {
                    col.nullable = !col.nullable;
                }
            }
            6 => {
                // Widen: integer to bigint, varchar(10) to varchar(20).
                for col in t.columns[1..].iter_mut() {
                    let wider = match col.ty.raw.as_str() {
                        "integer" if col.name.starts_with("int") => Some("bigint"),
                        "character varying(10)" => Some("character varying(20)"),
                        _ => None,
                    };
                    if let Some(w) = wider {
                        col.ty = ColumnType::parse(Dialect::Postgres, w);
                        if col.default.as_deref() == Some("'-5'::integer") {
                            col.default = Some("'-5'::bigint".into());
                        }
                        break;
                    }
                }
            }
            7 => {
                if let Some(e) = s.enums.first_mut() {
                    let missing: Vec<&str> = MOODS
                        .iter()
                        .copied()
                        .filter(|m| !e.values.iter().any(|v| v == m))
                        .collect();
                    if !missing.is_empty() {
                        let m = r.pick(&missing).to_string();
                        let pos = MOODS.iter().position(|x| *x == m).unwrap_or(0);
                        let at = e
                            .values
                            .iter()
                            .position(|v| MOODS.iter().position(|x| x == v).unwrap_or(0) > pos)
                            .unwrap_or(e.values.len());
                        e.values.insert(at, m);
                    }
                }
            }
            8 => {
                if let Some(f) = t.foreign_keys.first_mut() {
                    f.on_delete = *r.pick(ACTIONS);
                    f.deferrable = !f.deferrable;
                    f.initially_deferred = false;
                } else if t.checks.is_empty() {
                    t.checks
                        .push(Check::new(Some(&format!("{tname}_ck")), "(id >= 0)"));
                } else {
                    t.checks[0].expr = "(id <> 13)".into();
                }
            }
            _ => {
                t.comment = match t.comment {
                    Some(_) => None,
                    None => Some(format!("edited {k}")),
                };
                if let Some(c) = t.columns.last_mut() {
                    c.comment = Some("it's new".into());
                }
            }
        }
    }
    out.sort();
    out
}

/// `b` with the enum labels the database already has kept (PostgreSQL cannot drop enum labels; the planner
/// refuses, as Atlas does, and the test of that lives in the planner's tests).
fn keep_enum_labels(current: &Realm, b: &Realm) -> Realm {
    let mut b = b.clone();
    if let (Some(cur), Some(e)) = (
        current.schemas[0].enums.first(),
        b.schemas[0].enums.first_mut(),
    ) {
        let mut all: Vec<String> = MOODS
            .iter()
            .filter(|m| cur.values.iter().any(|v| v == *m) || e.values.iter().any(|v| v == *m))
            .map(|m| m.to_string())
            .collect();
        all.dedup();
        e.values = all;
    }
    b
}

async fn converge(d: &mut PostgresDriver, schema: &str, target: &Realm) -> Realm {
    let opts = InspectOptions::default().schemas([schema]);
    let current = d.inspect(&opts).await.unwrap();
    let c = diff(&current, target, &DiffOptions::default()).unwrap();
    let p = plan(&c, target).unwrap();
    apply(d, &p).await;
    let after = d.inspect(&opts).await.unwrap();
    let again = diff(&after, target, &DiffOptions::default()).unwrap();
    assert!(
        again.is_empty(),
        "not converged: {again:#?}\nplan:\n{}",
        p.to_sql()
    );
    after
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// A database at A (planned from nothing), planned to a small edit of A, then to an unrelated B, each applied
/// and inspected equal to its target (a second diff is empty). Every case works in a schema of its own in one
/// database. PROPTEST_CASES sets the number of cases (200 by default).
#[test]
fn postgres_plans_converge() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    let mut conn = rt.block_on(open(&db.url));
    // Each case commits three plans: the test does not need them on disk before it goes on.
    rt.block_on(conn.execute("SET synchronous_commit = off"))
        .unwrap();
    let d = RefCell::new(conn);
    let n = RefCell::new(0u32);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: cases(),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    });
    let strategy = (
        proptest::prelude::any::<u64>(),
        proptest::prelude::any::<u64>(),
    );
    let result = runner.run(&strategy, |(a_seed, b_seed)| {
        let k = {
            let mut n = n.borrow_mut();
            *n += 1;
            *n
        };
        let schema = format!("s{k}");
        let mut d = d.borrow_mut();
        rt.block_on(async {
            let a = random_realm(a_seed, &schema);
            let at_a = converge(&mut d, &schema, &a).await;
            let small = keep_enum_labels(&at_a, &mutate(&a, b_seed));
            let at_small = converge(&mut d, &schema, &small).await;
            let b = keep_enum_labels(&at_small, &random_realm(b_seed, &schema));
            converge(&mut d, &schema, &b).await;
            d.execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .unwrap();
        });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Inspect of 1,000 generated tables (10 columns, a primary key, two indexes, a foreign key, a check), timed
/// against `pg_dump --schema-only` of the same database. Run with
/// `cargo test -p strata-driver --test driver pg_inspect::inspect_1000_tables -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run it on its own"]
async fn inspect_1000_tables() {
    let db = pg_db!();
    let mut d = open(&db.url).await;
    let tables: usize = std::env::var("STRATA_BENCH_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut sql = String::new();
    for i in 0..tables {
        let parent = if i == 0 { 0 } else { i - 1 };
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id bigint PRIMARY KEY, a integer NOT NULL DEFAULT 0, b text, \
             c varchar(50), d numeric(10,2), e boolean DEFAULT false, f timestamptz DEFAULT now(), \
             g jsonb, h uuid, parent_id bigint REFERENCES t{parent} (id), CHECK (a >= 0));\n\
             CREATE INDEX t{i}_a ON t{i} (a);\nCREATE INDEX t{i}_bc ON t{i} (b, c);\n"
        ));
    }
    d.execute(&sql).await.unwrap();
    let _ = inspect_all(&mut d).await; // warm the catalog caches, like pg_dump's run below gets
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let realm = inspect_all(&mut d).await;
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(realm.table_count(), tables);
    }
    let url = db.url.clone();
    let mut dump_best = f64::MAX;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let out = std::process::Command::new("pg_dump")
            .args(["--schema-only", "-d", &url, "-f", "/dev/null"])
            .output();
        match out {
            Ok(o) if o.status.success() => dump_best = dump_best.min(t.elapsed().as_secs_f64()),
            Ok(o) => panic!("pg_dump failed: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => {
                eprintln!("pg_dump not runnable ({e}): only the inspect time is reported");
                break;
            }
        }
    }
    let t = std::time::Instant::now();
    let realm = inspect_all(&mut d).await;
    let mut changed = realm.clone();
    if let Some(t0) = changed
        .schema_mut("public")
        .and_then(|s| s.tables.iter_mut().find(|t| t.name == "t0"))
    {
        t0.columns.push(Column::new(
            "z",
            ColumnType::parse(Dialect::Postgres, "text"),
        ));
    }
    let c = diff(&realm, &changed, &DiffOptions::default()).unwrap();
    let p = plan(&c, &changed).unwrap();
    let diff_total = t.elapsed().as_secs_f64();
    assert_eq!(p.statements.len(), 1);
    // The measurement is the output of this ignored test (run with --nocapture).
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "tables={tables} inspect_best={best:.3}s pg_dump_schema_only_best={dump_best:.3}s ratio={:.2} \
             inspect+diff+plan={diff_total:.3}s",
            best / dump_best
        );
    }
}
