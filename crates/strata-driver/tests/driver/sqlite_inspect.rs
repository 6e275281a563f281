//! SQLite inspection: a golden snapshot of a rich schema, convergence of random schema pairs through the
//! planner, and rows kept by the table copy under `ON DELETE CASCADE` children.

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
