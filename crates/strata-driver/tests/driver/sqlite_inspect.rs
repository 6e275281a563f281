//! SQLite inspection: a golden snapshot of a rich schema, convergence of random schema pairs through the
//! planner, and rows kept by the table copy under `ON DELETE CASCADE` children.

use crate::common::Rng;
use sqlx::Connection;
use strata_driver::Driver;
use strata_driver::inspect::{Inspect, InspectOptions};
use strata_driver::sqlite::SqliteDriver;
use strata_schema::diff::{DiffOptions, diff};
use strata_schema::plan::{Plan, plan};
use strata_schema::*;

async fn open(dir: &tempfile::TempDir) -> SqliteDriver {
    let path = dir.path().join("db.sqlite");
    let url = format!("sqlite://{}?_fk=1", path.display());
    SqliteDriver::connect(strata_driver::url::parse(&url).unwrap())
        .await
        .unwrap()
}

/// Runs a plan the way the executor must: foreign keys off outside the transaction (the driver's `begin`),
/// `foreign_key_check` before commit (its `commit`).
async fn apply(d: &mut SqliteDriver, p: &Plan) {
    d.begin().await.unwrap();
    for s in &p.statements {
        if let Err(e) = d.execute(&s.sql).await {
            panic!("{e}\nin: {}\nplan:\n{}", s.sql, p.to_sql());
        }
    }
    d.commit().await.unwrap();
}

async fn inspect(d: &mut SqliteDriver) -> Realm {
    d.inspect(&InspectOptions::default()).await.unwrap()
}

const RICH: &str = r#"
CREATE TABLE teams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(50) NOT NULL COLLATE NOCASE DEFAULT 'team',
  score REAL DEFAULT 1.5,
  budget NUMERIC(10, 2) DEFAULT (10 * 2),
  created DATETIME DEFAULT CURRENT_TIMESTAMP,
  flag BOOLEAN NOT NULL DEFAULT false,
  data BLOB,
  doc JSON,
  UNIQUE (name),
  CONSTRAINT score_positive CHECK (score >= 0)
);
CREATE TABLE users (
  id integer NOT NULL,
  team_id integer REFERENCES teams ON DELETE CASCADE ON UPDATE SET NULL,
  email text NOT NULL CHECK (email LIKE '%@%'),
  lower_email text GENERATED ALWAYS AS (lower(email)) VIRTUAL,
  email_len int AS (length(email)) STORED,
  manager_id integer,
  PRIMARY KEY (id),
  CONSTRAINT users_manager FOREIGN KEY (manager_id) REFERENCES users (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE DESC) WHERE email IS NOT NULL;
CREATE INDEX users_expr ON users (lower(email), team_id DESC);
CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) STRICT, WITHOUT ROWID;
CREATE VIEW team_users AS SELECT t.name, u.email FROM teams t JOIN users u ON u.team_id = t.id;
CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN UPDATE teams SET score = score + 1 WHERE id = NEW.team_id; END;
CREATE TABLE atlas_schema_revisions (version text PRIMARY KEY);
"#;

#[tokio::test]
async fn golden_inspect_of_a_rich_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = open(&dir).await;
    d.execute(RICH).await.unwrap();
    let realm = inspect(&mut d).await;
    assert!(realm.schemas[0].table("atlas_schema_revisions").is_none());
    insta::assert_json_snapshot!(realm);
    let with = d
        .inspect(&InspectOptions::default().include_revisions_table(true))
        .await
        .unwrap();
    assert!(with.schemas[0].table("atlas_schema_revisions").is_some());
    let without_kv = d
        .inspect(&InspectOptions::default().exclude(["kv", "users.email_len"]))
        .await
        .unwrap();
    assert!(without_kv.schemas[0].table("kv").is_none());
    assert!(
        without_kv.schemas[0]
            .table("users")
            .unwrap()
            .column("email_len")
            .is_none()
    );

    // The model of the inspected schema, planned from nothing on an empty database, inspects the same.
    let dir2 = tempfile::tempdir().unwrap();
    let mut e = open(&dir2).await;
    let c = diff(
        &Realm::new(Dialect::Sqlite),
        &realm,
        &DiffOptions::default(),
    )
    .unwrap();
    apply(&mut e, &plan(&c, &realm).unwrap()).await;
    let again = inspect(&mut e).await;
    let second = diff(&again, &realm, &DiffOptions::default()).unwrap();
    assert!(second.is_empty(), "{second:#?}");
}

#[tokio::test]
async fn table_copy_keeps_every_row_and_cascade_child() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = open(&dir).await;
    d.execute(
        "CREATE TABLE parent (id integer PRIMARY KEY, name text);
         CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id) ON DELETE CASCADE);
         CREATE TABLE grandchild (id integer PRIMARY KEY, child_id integer REFERENCES child (id) ON DELETE CASCADE);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
           INSERT INTO parent SELECT i, 'p' || i FROM n;
         INSERT INTO child SELECT id, id FROM parent;
         INSERT INTO child SELECT id + 1000, id FROM parent;
         INSERT INTO grandchild SELECT id, id FROM child;",
    )
    .await
    .unwrap();
    let path = dir.path().join("db.sqlite");
    let counts = || async {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let mut out = Vec::new();
        for t in ["parent", "child", "grandchild"] {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {t}")))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            out.push(n);
        }
        out
    };
    let before = counts().await;
    assert_eq!(before, vec![500, 1000, 1000]);
    let from = inspect(&mut d).await;
    // Changing a column type and making `name` NOT NULL with a default forces a copy of `parent` and `child`.
    let mut to = from.clone();
    let s = &mut to.schemas[0];
    let parent = s.tables.iter_mut().find(|t| t.name == "parent").unwrap();
    parent.columns[1].ty = ColumnType::parse(Dialect::Sqlite, "varchar(100)");
    parent.columns[1].nullable = false;
    parent.columns[1].default = Some("'none'".into());
    let child = s.tables.iter_mut().find(|t| t.name == "child").unwrap();
    child.checks.push(Check::new(Some("positive"), "id > 0"));
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    assert!(p.needs_foreign_keys_off && p.foreign_key_check);
    assert!(
        p.statements
            .iter()
            .any(|s| s.sql.starts_with("DROP TABLE `parent`"))
    );
    apply(&mut d, &p).await;
    assert_eq!(counts().await, before, "rows lost by the table copy");
    assert!(
        diff(&inspect(&mut d).await, &to, &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

const TYPES: &[(&str, &[&str])] = &[
    ("integer", &["0", "1", "-5"]),
    ("int", &["7"]),
    ("text", &["'x'", "''", "'it''s'"]),
    ("varchar(10)", &["'abc'"]),
    ("real", &["1.5", "0"]),
    ("blob", &["X'00ff'"]),
    ("numeric", &["3"]),
    ("boolean", &["0", "1"]),
    ("datetime", &["CURRENT_TIMESTAMP"]),
];

const ACTIONS: &[FkAction] = &[
    FkAction::NoAction,
    FkAction::Cascade,
    FkAction::SetNull,
    FkAction::Restrict,
];

/// A random SQLite schema: tables with a key, typed columns with defaults, foreign keys (to any table,
/// itself and cycles included), indexes (unique, descending, partial, expression), checks, views.
fn random_realm(seed: u64) -> Realm {
    let mut r = Rng(seed | 1);
    let pool = ["a", "b", "c", "d"];
    let tables: Vec<&str> = pool.iter().copied().filter(|_| r.chance(60)).collect();
    let tables = if tables.is_empty() { vec!["a"] } else { tables };
    let mut schema = Schema::new("main");
    for &name in &tables {
        let mut t = Table::new(name);
        let id = Column {
            nullable: false,
            auto_increment: r.chance(25),
            ..Column::new("id", ColumnType::parse(Dialect::Sqlite, "integer"))
        };
        t.columns.push(id);
        t.primary_key = Some(PrimaryKey::columns(["id"]));
        for c in ["c1", "c2", "c3", "c4"] {
            if !r.chance(50) {
                continue;
            }
            let (ty, defaults) = *r.pick(TYPES);
            let mut col = Column::new(c, ColumnType::parse(Dialect::Sqlite, ty));
            col.nullable = r.chance(60);
            if r.chance(50) {
                col.default = Some(r.pick(defaults).to_string());
            }
            t.columns.push(col);
        }
        for (k, p) in ["p1", "p2"].into_iter().enumerate() {
            if !r.chance(35) {
                continue;
            }
            t.columns.push(Column::new(
                p,
                ColumnType::parse(Dialect::Sqlite, "integer"),
            ));
            let target = *r.pick(&tables);
            t.foreign_keys.push(ForeignKey {
                name: format!("{name}_fk{k}"),
                columns: vec![p.into()],
                ref_schema: "main".into(),
                ref_table: target.into(),
                ref_columns: vec!["id".into()],
                on_update: *r.pick(ACTIONS),
                on_delete: *r.pick(ACTIONS),
                deferrable: false,
                initially_deferred: false,
            });
        }
        let cols: Vec<String> = t.columns[1..].iter().map(|c| c.name.clone()).collect();
        for k in 0..2 {
            if cols.is_empty() || !r.chance(40) {
                continue;
            }
            let c = r.pick(&cols).clone();
            let mut part = if r.chance(25) {
                IndexPart::expr(format!("abs({c})"))
            } else {
                IndexPart::column(c.clone())
            };
            part.desc = r.chance(30);
            let mut parts = vec![part];
            if r.chance(30) {
                parts.push(IndexPart::column("id"));
            }
            t.indexes.push(Index {
                unique: r.chance(30),
                parts,
                predicate: r.chance(25).then(|| format!("{c} IS NOT NULL")),
                ..Index::on(format!("{name}_i{k}"), Vec::<String>::new())
            });
        }
        if r.chance(30) {
            t.checks
                .push(Check::new(Some(&format!("{name}_ck")), "id > 0"));
        }
        if r.chance(20) {
            t.checks.push(Check::new(None, "id >= 0"));
        }
        schema.tables.push(t);
    }
    for &name in &tables {
        if r.chance(30) {
            let cols = if r.chance(50) { "id" } else { "*" };
            schema.views.push(View {
                name: format!("v_{name}"),
                definition: format!("CREATE VIEW v_{name} AS SELECT {cols} FROM {name}"),
                check_option: None,
                comment: None,
            });
        }
    }
    let mut realm = Realm::new(Dialect::Sqlite);
    realm.schemas.push(schema);
    realm.sort();
    realm
}

/// `realm` with one to three small edits: what `ALTER TABLE` and index statements can do, and a few that need
/// the table copy.
fn mutate(realm: &Realm, seed: u64) -> Realm {
    let mut r = Rng(seed | 1);
    let mut out = realm.clone();
    let s = &mut out.schemas[0];
    for k in 0..1 + r.below(3) {
        let ti = r.below(s.tables.len());
        let t = &mut s.tables[ti];
        let cols: Vec<String> = t.columns[1..].iter().map(|c| c.name.clone()).collect();
        match r.below(7) {
            0 => t.columns.push(Column::new(
                format!("n{k}"),
                ColumnType::parse(Dialect::Sqlite, "text"),
            )),
            1 => t.columns.push(Column {
                nullable: false,
                default: Some("0".into()),
                ..Column::new(
                    format!("m{k}"),
                    ColumnType::parse(Dialect::Sqlite, "integer"),
                )
            }),
            2 => {
                let c = if cols.is_empty() {
                    "id".to_string()
                } else {
                    r.pick(&cols).clone()
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
                });
                t.foreign_keys.retain(|f| !f.columns.contains(&c));
            }
            5 if !cols.is_empty() => {
                let c = r.pick(&cols).clone();
                if let Some(col) = t.columns.iter_mut().find(|x| x.name == c) {
                    col.nullable = !col.nullable;
                }
            }
            _ => {
                s.views.clear();
            }
        }
    }
    out.sort();
    out
}

async fn converge(d: &mut SqliteDriver, target: &Realm) {
    let current = inspect(d).await;
    let c = diff(&current, target, &DiffOptions::default()).unwrap();
    let p = plan(&c, target).unwrap();
    apply(d, &p).await;
    let after = inspect(d).await;
    let again = diff(&after, target, &DiffOptions::default()).unwrap();
    assert!(
        again.is_empty(),
        "not converged: {again:#?}\nplan:\n{}",
        p.to_sql()
    );
    assert_eq!(
        strata_schema::normalize::realm(&after),
        strata_schema::normalize::realm(target),
        "plan:\n{}",
        p.to_sql()
    );
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: cases(),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]

    /// A database at A (planned from empty), planned to B and applied, inspects equal to B; a second diff is
    /// empty. Each case runs two pairs: A to a small edit of A (the ALTER paths), then to an unrelated B (mostly
    /// table copies). PROPTEST_CASES sets the number of cases (200 by default).
    #[test]
    fn sqlite_plans_converge(a in proptest::prelude::any::<u64>(), b in proptest::prelude::any::<u64>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let b_seed = b;
            let (a, b) = (random_realm(a), random_realm(b));
            let dir = tempfile::tempdir().unwrap();
            let mut d = open(&dir).await;
            converge(&mut d, &a).await;
            let small = mutate(&a, b_seed);
            converge(&mut d, &small).await;
            converge(&mut d, &b).await;
        });
    }
}
