//! MySQL/MariaDB inspection: a golden snapshot of a rich schema, the round trip through the planner, rows kept
//! by `ALTER TABLE`, convergence of random schema pairs, and (ignored) the 1,000-table measurement.

use std::time::Instant;

use crate::common::Rng;
use strata_driver::Driver;
use strata_driver::inspect::{Inspect, InspectOptions};
use strata_driver::mysql::MysqlDriver;
use strata_driver::testing::TestDb;
use strata_schema::diff::{DiffOptions, diff};
use strata_schema::plan::{Plan, plan};
use strata_schema::*;

async fn open(db: &TestDb) -> MysqlDriver {
    MysqlDriver::connect(strata_driver::url::parse(&db.url).unwrap())
        .await
        .unwrap()
}

/// Runs a plan statement by statement (MySQL commits each DDL statement on its own anyway).
async fn apply(d: &mut MysqlDriver, p: &Plan) {
    for s in &p.statements {
        if let Err(e) = d.execute(&s.sql).await {
            panic!("{e}\nin: {}\nplan:\n{}", s.sql, p.to_sql());
        }
    }
}

async fn inspect(d: &mut MysqlDriver) -> Realm {
    d.inspect(&InspectOptions::default()).await.unwrap()
}

/// `realm` with its one schema called `to` (the test databases have unique names).
fn renamed(realm: &Realm, to: &str) -> Realm {
    let mut r = realm.clone();
    let from = r.schemas[0].name.clone();
    r.schemas[0].name = to.to_string();
    for t in &mut r.schemas[0].tables {
        for f in &mut t.foreign_keys {
            if f.ref_schema == from {
                f.ref_schema = to.to_string();
            }
        }
    }
    r
}

const RICH: &str = r#"
CREATE TABLE teams (
  id int NOT NULL AUTO_INCREMENT,
  name varchar(50) NOT NULL DEFAULT 'team' COMMENT 'the name',
  score double DEFAULT 1.5,
  budget decimal(10,2) DEFAULT (10 * 2),
  created timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  flag tinyint(1) NOT NULL DEFAULT 0,
  doc json,
  status enum('active','it''s') NOT NULL DEFAULT 'active',
  tags set('x','y'),
  latin varchar(10) CHARACTER SET latin1,
  binned varchar(10) COLLATE utf8mb4_bin,
  body text,
  pt point NOT NULL,
  big bigint unsigned,
  twice int AS (id * 2) VIRTUAL,
  lower_name varchar(50) AS (lower(name)) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY name_u (name),
  KEY body_prefix (body(10) DESC, id),
  FULLTEXT KEY body_ft (body),
  SPATIAL KEY pt_sp (pt),
  CONSTRAINT score_positive CHECK (score >= 0)
) AUTO_INCREMENT = 100 COMMENT 'all the teams';
CREATE TABLE users (
  id int NOT NULL,
  team_id int,
  manager_id int,
  email varchar(100) NOT NULL CHECK (email like '%@%'),
  PRIMARY KEY (id),
  KEY users_email (email) COMMENT 'lookups',
  CONSTRAINT users_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE ON UPDATE SET NULL,
  CONSTRAINT users_manager FOREIGN KEY (manager_id) REFERENCES users (id)
) CHARSET latin1;
CREATE VIEW team_names AS SELECT id, name FROM teams WHERE id > 1 WITH CHECK OPTION;
CREATE FUNCTION twice(a int) RETURNS int DETERMINISTIC COMMENT 'doubles' RETURN a * 2;
CREATE PROCEDURE touch(IN t int, OUT n int) BEGIN SELECT count(*) INTO n FROM users WHERE team_id = t; END;
CREATE TRIGGER users_lower BEFORE INSERT ON users FOR EACH ROW SET NEW.email = lower(NEW.email);
CREATE TABLE atlas_schema_revisions (version varchar(255) NOT NULL PRIMARY KEY);
"#;

#[tokio::test]
async fn golden_inspect_of_a_rich_schema() {
    let Some(db) = strata_driver::testing::mysql().await else {
        return;
    };
    let mut d = open(&db).await;
    d.execute(RICH).await.unwrap();
    let realm = inspect(&mut d).await;
    let s = &realm.schemas[0];
    assert!(s.table("atlas_schema_revisions").is_none());
    let json = serde_json::to_string_pretty(&realm)
        .unwrap()
        .replace(&db.name, "<db>");
    insta::assert_snapshot!(json);
    let with = d
        .inspect(&InspectOptions::default().include_revisions_table(true))
        .await
        .unwrap();
    assert!(with.schemas[0].table("atlas_schema_revisions").is_some());
    let without = d
        .inspect(&InspectOptions::default().exclude(["users", "teams.body"]))
        .await
        .unwrap();
    assert!(without.schemas[0].table("users").is_none());
    assert!(
        without.schemas[0]
            .table("teams")
            .unwrap()
            .column("body")
            .is_none()
    );

    // Planned from nothing on an empty database, the inspected model inspects the same.
    let Some(db2) = strata_driver::testing::mysql().await else {
        return;
    };
    let mut e = open(&db2).await;
    let want = renamed(&realm, &db2.name);
    let mut empty = Realm::new(Dialect::Mysql);
    empty.schemas.push(Schema {
        tables: Vec::new(),
        views: Vec::new(),
        functions: Vec::new(),
        triggers: Vec::new(),
        ..want.schemas[0].clone()
    });
    let c = diff(&empty, &want, &DiffOptions::default()).unwrap();
    let p = plan(&c, &want).unwrap();
    insta::assert_snapshot!("rich_schema_plan", p.to_sql());
    apply(&mut e, &p).await;
    let again = inspect(&mut e).await;
    let second = diff(&again, &want, &DiffOptions::default()).unwrap();
    assert!(second.is_empty(), "{second:#?}\nplan:\n{}", p.to_sql());
}

async fn scalar(d: &MysqlDriver, db: &TestDb, sql: &str) -> String {
    use sqlx::{Connection, Row};
    let _ = d;
    let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut c)
        .await
        .unwrap();
    row.try_get::<String, _>(0).unwrap()
}

#[tokio::test]
async fn alter_keeps_every_row() {
    let Some(db) = strata_driver::testing::mysql().await else {
        return;
    };
    let mut d = open(&db).await;
    d.execute(
        "CREATE TABLE parent (id int NOT NULL PRIMARY KEY, name varchar(10));
         CREATE TABLE child (id int NOT NULL PRIMARY KEY, parent_id int,
           CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);
         INSERT INTO parent SELECT seq, concat('p', seq) FROM seq_1_to_500;
         INSERT INTO child SELECT seq, seq FROM seq_1_to_500;
         INSERT INTO child SELECT seq + 1000, seq FROM seq_1_to_500;",
    )
    .await
    .unwrap();
    let checksum = "SELECT concat(count(*), ':', sum(crc32(concat_ws('|', p.id, p.name, c.id)))) \
                    FROM parent p JOIN child c ON c.parent_id = p.id";
    let before = scalar(&d, &db, checksum).await;
    assert!(before.starts_with("1000:"), "{before}");
    let from = inspect(&mut d).await;
    let mut to = from.clone();
    let parent = to.schemas[0]
        .tables
        .iter_mut()
        .find(|t| t.name == "parent")
        .unwrap();
    // Widen a type, add a NOT NULL column with a default, add an index.
    parent.columns[1].ty = ColumnType::parse(Dialect::Mysql, "varchar(100)");
    parent.columns.push(Column {
        nullable: false,
        default: Some("'none'".into()),
        ..Column::new("note", ColumnType::parse(Dialect::Mysql, "varchar(20)"))
    });
    parent.indexes.push(Index::on("parent_name", ["name"]));
    let c = diff(&from, &to, &DiffOptions::default()).unwrap();
    let p = plan(&c, &to).unwrap();
    assert_eq!(p.statements.len(), 1, "{}", p.to_sql());
    assert!(p.destructive().is_empty());
    apply(&mut d, &p).await;
    assert_eq!(scalar(&d, &db, checksum).await, before, "rows changed");
    assert_eq!(
        scalar(
            &d,
            &db,
            "SELECT concat(count(*)) FROM parent WHERE note = 'none'"
        )
        .await,
        "500"
    );
    assert!(
        diff(&inspect(&mut d).await, &to, &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

/// Column types with defaults spelled as MariaDB reports them.
const TYPES: &[(&str, &[&str])] = &[
    ("int", &["0", "7", "-5"]),
    ("bigint unsigned", &["1"]),
    ("smallint", &["3"]),
    ("varchar(20)", &["'abc'", "''", "'it''s'"]),
    ("char(3)", &["'xyz'"]),
    ("text", &[]),
    ("decimal(10,2)", &["1.50"]),
    ("double", &["1.5"]),
    ("tinyint(1)", &["0", "1"]),
    ("date", &["'2020-01-01'"]),
    ("datetime", &["'2020-01-01 00:00:00'"]),
    ("timestamp", &["current_timestamp()"]),
    ("enum('a','b')", &["'a'"]),
    ("json", &[]),
    ("varbinary(8)", &[]),
];

const ACTIONS: &[FkAction] = &[
    FkAction::NoAction,
    FkAction::Cascade,
    FkAction::SetNull,
    FkAction::Restrict,
];

fn ty(s: &str) -> ColumnType {
    ColumnType::parse(Dialect::Mysql, s)
}

/// A random schema: tables with a key, typed columns with defaults, charsets, collations and comments, foreign
/// keys (to any table, itself and cycles included), indexes (unique, descending, prefixed, full-text), checks,
/// views.
fn random_realm(schema: &str, seed: u64) -> Realm {
    let mut r = Rng(seed | 1);
    let pool = ["a", "b", "c", "d"];
    let tables: Vec<&str> = pool.iter().copied().filter(|_| r.chance(60)).collect();
    let tables = if tables.is_empty() { vec!["a"] } else { tables };
    let mut s = Schema::new(schema);
    // The test database's defaults (the server's): what tables without their own inherit.
    s.charset = Some("utf8mb4".into());
    s.collation = Some("utf8mb4_general_ci".into());
    for &name in &tables {
        let mut t = Table::new(name);
        t.columns.push(Column {
            nullable: false,
            auto_increment: r.chance(25),
            ..Column::new("id", ty("int"))
        });
        t.primary_key = Some(PrimaryKey::columns(["id"]));
        if r.chance(15) {
            t.options.charset = Some("latin1".into());
            t.options.collation = Some("latin1_swedish_ci".into());
        }
        if r.chance(20) {
            t.comment = Some(format!("table {name}"));
        }
        for c in ["c1", "c2", "c3", "c4"] {
            if !r.chance(50) {
                continue;
            }
            let (tn, defaults) = *r.pick(TYPES);
            let mut col = Column::new(c, ty(tn));
            col.nullable = r.chance(60);
            if !defaults.is_empty() && r.chance(50) {
                col.default = Some(r.pick(defaults).to_string());
            }
            if tn == "varchar(20)" && r.chance(30) {
                if r.chance(50) {
                    col.collation = Some("utf8mb4_bin".into());
                    if t.options.charset.is_some() {
                        col.charset = Some("utf8mb4".into());
                    }
                } else if t.options.charset.is_none() {
                    col.charset = Some("latin1".into());
                    col.collation = Some("latin1_swedish_ci".into());
                }
            }
            if r.chance(15) {
                col.comment = Some(format!("column {c}"));
            }
            t.columns.push(col);
        }
        // MariaDB refuses a generated column over an AUTO_INCREMENT one.
        if !t.columns[0].auto_increment && r.chance(15) {
            t.columns.push(Column::new("g", ty("int")));
            if let Some(g) = t.columns.last_mut() {
                g.generated = Some(Generated {
                    expr: "id * 2".into(),
                    stored: r.chance(50),
                });
            }
        }
        for (k, p) in ["p1", "p2"].into_iter().enumerate() {
            if !r.chance(35) {
                continue;
            }
            t.columns.push(Column::new(p, ty("int")));
            let target = *r.pick(&tables);
            t.foreign_keys.push(ForeignKey {
                name: format!("{name}_fk{k}"),
                columns: vec![p.into()],
                ref_schema: schema.into(),
                ref_table: target.into(),
                ref_columns: vec!["id".into()],
                on_update: *r.pick(ACTIONS),
                on_delete: *r.pick(ACTIONS),
                deferrable: false,
                initially_deferred: false,
            });
        }
        let indexable: Vec<(String, bool)> = t.columns[1..]
            .iter()
            .filter(|c| c.ty.raw != "json" && c.generated.is_none())
            .map(|c| (c.name.clone(), c.ty.raw == "text"))
            .collect();
        for k in 0..2 {
            if indexable.is_empty() || !r.chance(40) {
                continue;
            }
            let (c, text) = r.pick(&indexable).clone();
            let fulltext = r.chance(5)
                && t.column(&c)
                    .is_some_and(|x| x.ty.raw == "text" || x.ty.raw == "varchar(20)");
            let mut part = IndexPart::column(c.clone());
            if fulltext {
                t.indexes.push(Index {
                    method: Some("FULLTEXT".into()),
                    parts: vec![part],
                    ..Index::on(format!("{name}_i{k}"), Vec::<String>::new())
                });
                continue;
            }
            part.desc = r.chance(30);
            if text {
                part.prefix = Some(10);
            }
            let mut parts = vec![part];
            if r.chance(30) {
                parts.push(IndexPart::column("id"));
            }
            t.indexes.push(Index {
                unique: r.chance(30),
                parts,
                comment: r.chance(10).then(|| "an index".to_string()),
                ..Index::on(format!("{name}_i{k}"), Vec::<String>::new())
            });
        }
        // MariaDB refuses a check on an AUTO_INCREMENT column.
        let ai = t.columns[0].auto_increment;
        if !ai && r.chance(30) {
            t.checks
                .push(Check::new(Some(&format!("{name}_ck")), "id > 0"));
        }
        if !ai && r.chance(20) {
            t.checks.push(Check::new(None, "id >= 0"));
        }
        s.tables.push(t);
    }
    for &name in &tables {
        if r.chance(30) {
            s.views.push(View {
                name: format!("v_{name}"),
                definition: format!("select `{name}`.`id` AS `id` from `{name}`"),
                check_option: None,
                comment: None,
            });
        }
    }
    let mut realm = Realm::new(Dialect::Mysql);
    realm.schemas.push(s);
    realm.sort();
    realm
}

/// `realm` with one to three small edits: new columns, new and dropped indexes, dropped columns, nullability,
/// widened types, new defaults, dropped views.
fn mutate(realm: &Realm, seed: u64) -> Realm {
    let mut r = Rng(seed | 1);
    let mut out = realm.clone();
    let s = &mut out.schemas[0];
    for k in 0..1 + r.below(3) {
        let ti = r.below(s.tables.len());
        let t = &mut s.tables[ti];
        let plain: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.name.starts_with('c'))
            .map(|c| c.name.clone())
            .collect();
        match r.below(8) {
            0 => t.columns.push(Column::new(format!("n{k}"), ty("text"))),
            1 => {
                let at = 1 + r.below(t.columns.len());
                t.columns.insert(
                    at,
                    Column {
                        nullable: false,
                        default: Some("0".into()),
                        ..Column::new(format!("m{k}"), ty("int"))
                    },
                )
            }
            2 if !plain.is_empty() => {
                let c = r.pick(&plain).clone();
                let Some(col) = t.column(&c) else { continue };
                if col.ty.raw == "json" {
                    continue;
                }
                let mut part = IndexPart::column(c);
                if col.ty.raw == "text" {
                    part.prefix = Some(5);
                }
                t.indexes.push(Index {
                    unique: r.chance(30),
                    parts: vec![part],
                    ..Index::on(format!("{}_j{k}", t.name), Vec::<String>::new())
                });
            }
            3 if !t.indexes.is_empty() => {
                let i = r.below(t.indexes.len());
                t.indexes.remove(i);
            }
            4 if !plain.is_empty() => {
                let c = r.pick(&plain).clone();
                t.columns.retain(|x| x.name != c);
                t.indexes
                    .retain(|i| i.parts.iter().all(|p| p.column_name() != Some(c.as_str())));
            }
            5 if !plain.is_empty() => {
                let c = r.pick(&plain).clone();
                if let Some(col) = t.columns.iter_mut().find(|x| x.name == c) {
                    col.nullable = !col.nullable;
                }
            }
            6 if !plain.is_empty() => {
                let c = r.pick(&plain).clone();
                if let Some(col) = t.columns.iter_mut().find(|x| x.name == c)
                    && col.ty.raw == "varchar(20)"
                {
                    col.ty = ty("varchar(40)");
                } else if let Some(col) = t.columns.iter_mut().find(|x| x.name == c)
                    && col.ty.raw == "int"
                {
                    col.default = Some("42".into());
                }
            }
            _ => s.views.clear(),
        }
    }
    out.sort();
    out
}

async fn converge(d: &mut MysqlDriver, target: &Realm) {
    let current = inspect(d).await;
    let c = diff(&current, target, &DiffOptions::default()).unwrap();
    let p = plan(&c, target).unwrap();
    apply(d, &p).await;
    let after = inspect(d).await;
    let again = diff(&after, target, &DiffOptions::default()).unwrap();
    assert!(
        again.is_empty(),
        "not converged: {}\nplan:\n{}",
        summary(&again),
        p.to_sql()
    );
}

/// One line per change left (the changed parts only), for failure messages.
fn summary(c: &strata_schema::Changes) -> String {
    let mut out = String::new();
    for ch in &c.changes {
        match ch {
            Change::ModifyTable { to, changes, .. } => {
                for tc in changes {
                    out.push_str(&format!(
                        "\n  {}: {}",
                        to.name,
                        serde_json::to_string(tc).unwrap_or_default()
                    ));
                }
            }
            other => out.push_str(&format!(
                "\n  {}",
                serde_json::to_string(other).unwrap_or_default()
            )),
        }
    }
    out
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// A database at A, planned to a small edit of A, applied and inspected, has no difference left with the
/// target. A database serves many cases: each case starts by converging from whatever the previous case left
/// (an unrelated schema), so every case also plans an unrelated pair. Two databases share the cases, on two
/// threads (MariaDB spends most of the time waiting on its log). PROPTEST_CASES sets the number of cases (200
/// by default).
#[test]
fn mysql_plans_converge() {
    let started = Instant::now();
    let total = cases();
    let workers: Vec<_> = [total / 2, total - total / 2]
        .into_iter()
        .map(|n| std::thread::spawn(move || converge_cases(n)))
        .collect();
    let mut failures = Vec::new();
    for w in workers {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(_) => failures.push("a worker panicked outside a case".to_string()),
        }
    }
    eprintln!("{total} cases in {:?}", started.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn converge_cases(n: u32) -> Result<(), String> {
    use proptest::prelude::*;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let Some(db) = rt.block_on(strata_driver::testing::mysql()) else {
        return Ok(());
    };
    // The connection is taken out for a case and put back after it; a case that panics loses it, and the next
    // (a shrinking step) opens another.
    let d = std::cell::RefCell::new(Some(rt.block_on(open(&db))));
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: n,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    });
    runner
        .run(&(any::<u64>(), any::<u64>()), |(a, b)| {
            let taken = d.borrow_mut().take();
            let drv = rt.block_on(async {
                let mut drv = match taken {
                    Some(x) => x,
                    None => open(&db).await,
                };
                let ra = random_realm(&db.name, a);
                converge(&mut drv, &ra).await;
                converge(&mut drv, &mutate(&ra, b)).await;
                drv
            });
            *d.borrow_mut() = Some(drv);
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// 1,000 tables of 10 columns with a key, two indexes, a foreign key and a check: strata's inspect against
/// `mysqldump --no-data` on the same database. Run with `cargo test -p strata-driver --test driver
/// mysql_inspect_1000 -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "measurement: creates 1,000 tables"]
async fn mysql_inspect_1000_tables() {
    let Some(db) = strata_driver::testing::mysql().await else {
        return;
    };
    let mut d = open(&db).await;
    let mut batch = String::new();
    for i in 0..1000 {
        let fk = if i == 0 {
            String::new()
        } else {
            format!(
                ", CONSTRAINT t{i}_fk FOREIGN KEY (ref_id) REFERENCES t{} (id)",
                i - 1
            )
        };
        batch.push_str(&format!(
            "CREATE TABLE t{i} (id int NOT NULL AUTO_INCREMENT, ref_id int, name varchar(50) NOT NULL DEFAULT '', \
             email varchar(100), score int NOT NULL DEFAULT 0, created datetime DEFAULT current_timestamp(), \
             note text, amount decimal(10,2), flag tinyint(1) NOT NULL DEFAULT 0, kind enum('a','b'), \
             PRIMARY KEY (id), KEY t{i}_name (name), UNIQUE KEY t{i}_email (email){fk}, \
             CONSTRAINT t{i}_ck CHECK (score >= 0));\n"
        ));
        if i % 100 == 99 {
            d.execute(&batch).await.unwrap();
            batch.clear();
        }
    }
    let mut best = std::time::Duration::MAX;
    let mut realm = Realm::new(Dialect::Mysql);
    for _ in 0..3 {
        let t = Instant::now();
        realm = inspect(&mut d).await;
        best = best.min(t.elapsed());
    }
    assert_eq!(realm.table_count(), 1000);
    eprintln!("strata inspect, 1,000 tables: best of 3 {best:?}");
    let t = Instant::now();
    let out = std::process::Command::new("mysqldump")
        .args([
            "-h127.0.0.1",
            "-uroot",
            "--no-data",
            "--skip-comments",
            &db.name,
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => eprintln!(
            "mysqldump --no-data, 1,000 tables: {:?} ({} bytes)",
            t.elapsed(),
            o.stdout.len()
        ),
        Ok(o) => eprintln!("mysqldump failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => eprintln!("mysqldump not run: {e}"),
    }
}
