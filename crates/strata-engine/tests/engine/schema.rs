//! The schema engine (`strata_engine::schema`) end to end on SQLite files: inspect, desired-state sources, the dev
//! database, diff, plan, apply and clean; plus throw-away dev databases on PostgreSQL and MariaDB.

use std::time::{SystemTime, UNIX_EPOCH};

use strata_driver::DbUrl;
use strata_engine::TxMode;
use strata_engine::schema::{
    self, DevDatabase, InspectOptions, SchemaDiffOptions, SchemaError, Source, apply_plan, dev,
    schema_diff,
};

fn url(text: &str) -> DbUrl {
    text.parse().unwrap()
}

/// A SQLite file in its own temp dir, with `_fk=1` so `ON DELETE CASCADE` is enforced.
struct Lite {
    dir: tempfile::TempDir,
    url: DbUrl,
}

impl Lite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = url(&format!(
            "sqlite://{}?_fk=1",
            dir.path().join("app.db").display()
        ));
        Lite { dir, url }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> Source {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        Source::parse(&format!("file://{}", p.display())).unwrap()
    }

    async fn exec(&self, sql: &str) {
        let mut d = strata_driver::connect(&self.url).await.unwrap();
        d.execute(sql).await.unwrap();
        d.close().await.unwrap();
    }

    async fn count(&self, table: &str) -> i64 {
        use sqlx::Connection as _;
        let path = self.path("app.db");
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut c)
                .await
                .unwrap();
        c.close().await.unwrap();
        n
    }

    fn db(&self) -> Source {
        Source::from(self.url.clone())
    }
}

const SCHEMA_V1: &str = "CREATE TABLE teams (id integer NOT NULL PRIMARY KEY, name text NOT NULL);\n\
CREATE TABLE users (\n  id integer NOT NULL PRIMARY KEY,\n  team_id integer NULL REFERENCES teams (id) ON DELETE CASCADE\n);\n";

/// Inspection reaches the SQLite inspector through `connect`; the SQL source (default in-memory dev) plans the
/// whole schema onto an empty file, and once applied, the same diff is empty.
#[tokio::test]
async fn sql_file_to_database_applies_and_converges() {
    let l = Lite::new();
    let to = l.write("schema.sql", SCHEMA_V1);
    let opts = SchemaDiffOptions::default();
    let plan = schema_diff(&l.db(), &to, &opts).await.unwrap();
    insta::assert_snapshot!(plan.to_sql(), @r#"
    -- Create "teams" table
    CREATE TABLE `teams` (`id` integer NOT NULL, `name` text NOT NULL, PRIMARY KEY (`id`));
    -- Create "users" table
    CREATE TABLE `users` (`id` integer NOT NULL, `team_id` integer NULL, PRIMARY KEY (`id`), CONSTRAINT `0` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE);
    "#);
    let report = apply_plan(&l.url, &plan, TxMode::File).await.unwrap();
    assert_eq!(report.applied.len(), 2);
    assert!(report.pending.is_empty() && report.error.is_none());
    let again = schema_diff(&l.db(), &to, &opts).await.unwrap();
    assert!(again.is_empty(), "{}", again.to_sql());
    let realm = schema::inspect(&l.url, &InspectOptions::default())
        .await
        .unwrap();
    let names: Vec<&str> = realm.schemas[0]
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["teams", "users"]);
}

/// Data preservation: a change only the table copy can make (a column dropped from the parent) keeps every row
/// of the parent and of its `ON DELETE CASCADE` children. The same statements run without switching foreign
/// keys off first lose the children — the test would catch an executor that forgot.
#[tokio::test]
async fn table_copy_keeps_cascade_children() {
    let l = Lite::new();
    l.exec(&SCHEMA_V1.replace("name text NOT NULL", "name text NOT NULL, legacy text NULL"))
        .await;
    l.exec("INSERT INTO teams (id, name, legacy) VALUES (1, 'a', 'x'), (2, 'b', NULL)")
        .await;
    l.exec("INSERT INTO users (id, team_id) VALUES (1, 1), (2, 1), (3, 2), (4, NULL)")
        .await;
    let to = l.write("v1.sql", SCHEMA_V1);
    let plan = schema_diff(&l.db(), &to, &SchemaDiffOptions::default())
        .await
        .unwrap();
    assert!(
        plan.needs_foreign_keys_off && plan.foreign_key_check,
        "{plan:?}"
    );
    assert!(
        plan.to_sql().contains("INSERT INTO `new_teams`"),
        "{}",
        plan.to_sql()
    );

    // Control: the statements in a plain transaction, foreign keys on, on a copy of the file. The plan's own
    // `PRAGMA foreign_keys = off` does nothing inside a transaction.
    let copy = l.path("copy.db");
    std::fs::copy(l.path("app.db"), &copy).unwrap();
    let lost = {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
            .await
            .unwrap();
        sqlx::raw_sql("PRAGMA foreign_keys = on")
            .execute(&mut c)
            .await
            .unwrap();
        let body: String = plan
            .statements
            .iter()
            .map(|s| format!("{};\n", s.sql))
            .collect();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN;\n{body}COMMIT;")))
            .execute(&mut c)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut c)
            .await
            .unwrap();
        n
    };
    assert_eq!(
        lost, 1,
        "in a transaction opened with foreign keys on, the cascade deletes the children"
    );

    apply_plan(&l.url, &plan, TxMode::File).await.unwrap();
    assert_eq!(l.count("teams").await, 2);
    assert_eq!(l.count("users").await, 4);
    let again = schema_diff(&l.db(), &to, &SchemaDiffOptions::default())
        .await
        .unwrap();
    assert!(again.is_empty(), "{}", again.to_sql());
    // Enforcement is back on after the run: a dangling reference is refused.
    let mut d = strata_driver::connect(&l.url).await.unwrap();
    assert!(
        d.execute("INSERT INTO users (id, team_id) VALUES (9, 99)")
            .await
            .is_err()
    );
    d.close().await.unwrap();
}

/// In `file` mode a failing statement rolls back everything before it; the report says nothing was applied.
#[tokio::test]
async fn failed_plan_rolls_back() {
    let l = Lite::new();
    let to = l.write("s.sql", SCHEMA_V1);
    let mut plan = schema_diff(&l.db(), &to, &SchemaDiffOptions::default())
        .await
        .unwrap();
    plan.statements[1].sql = "CREATE TABLE broken (".into();
    let err = apply_plan(&l.url, &plan, TxMode::File).await.unwrap_err();
    let SchemaError::Execution(report) = &err else {
        panic!("{err:?}")
    };
    assert!(report.applied.is_empty());
    assert_eq!(report.pending.len(), 2);
    assert_eq!(report.error.as_ref().unwrap().stmt, "CREATE TABLE broken (");
    let text = err.to_string();
    assert!(text.starts_with("create \"users\" table: "), "{text}");
    assert!(text.contains("rolled back"), "{text}");
    let realm = schema::inspect(&l.url, &InspectOptions::default())
        .await
        .unwrap();
    assert!(realm.schemas[0].tables.is_empty());

    // `none`: the first statement stays, the report says so.
    let err = apply_plan(&l.url, &plan, TxMode::None).await.unwrap_err();
    let SchemaError::Execution(report) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.pending.len(), 1);
}

/// A statement that fails on the dev database names the file, the line it starts on, and SQLite's message.
#[tokio::test]
async fn sql_error_names_file_and_line() {
    let l = Lite::new();
    let to = l.write(
        "bad.sql",
        "CREATE TABLE a (id int);\n\n-- the next one is wrong\nCREATE TABLE b (id int,);\n",
    );
    let err = schema_diff(&l.db(), &to, &SchemaDiffOptions::default())
        .await
        .unwrap_err();
    let SchemaError::SqlFile {
        file,
        line,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(file.ends_with("bad.sql"), "{file}");
    assert_eq!(*line, 4);
    assert!(message.contains("syntax error"), "{message}");
    assert!(err.to_string().contains("bad.sql:4"), "{err}");
}

/// Folders of SQL files run in lexical order; a folder with `atlas.sum` is a migration directory, replayed
/// (its sum checked) without writing a revisions table; JSON loads the model; HCL says when it arrives.
#[tokio::test]
async fn every_source_kind() {
    let l = Lite::new();
    // 2 before 10 numerically, but lexical order runs "10_…" first: it must not depend on the other.
    l.write(
        "dir/a_teams.sql",
        "CREATE TABLE teams (id integer NOT NULL PRIMARY KEY, name text NOT NULL);",
    );
    let dir = l.write(
        "dir/b_users.sql",
        "CREATE TABLE users (\n  id integer NOT NULL PRIMARY KEY,\n  team_id integer NULL REFERENCES teams (id) ON DELETE CASCADE\n);",
    );
    let Source::SqlFile(_) = dir else { panic!() };
    let dir = Source::parse(&format!("file://{}", l.path("dir").display())).unwrap();
    assert!(matches!(dir, Source::SqlDir(_)), "{dir:?}");
    let file = l.write("v1.sql", SCHEMA_V1);
    let from_dir = schema_diff(&l.db(), &dir, &SchemaDiffOptions::default())
        .await
        .unwrap();
    let from_file = schema_diff(&l.db(), &file, &SchemaDiffOptions::default())
        .await
        .unwrap();
    assert_eq!(from_dir, from_file);

    // A migration directory: two files and their sum.
    l.write(
        "migrations/1_teams.sql",
        "CREATE TABLE teams (id integer NOT NULL PRIMARY KEY, name text NOT NULL);\n",
    );
    l.write(
        "migrations/2_users.sql",
        "CREATE TABLE users (\n  id integer NOT NULL PRIMARY KEY,\n  team_id integer NULL REFERENCES teams (id) ON DELETE CASCADE\n);\n",
    );
    let mdir = l.path("migrations");
    let loaded = strata_migrate::MigrationDir::open(&mdir).unwrap();
    strata_migrate::sum::write(&mdir, &loaded).unwrap();
    let migrations = Source::parse(&format!("file://{}", mdir.display())).unwrap();
    assert!(
        matches!(migrations, Source::MigrationDir(_)),
        "{migrations:?}"
    );
    let from_migrations = schema_diff(&l.db(), &migrations, &SchemaDiffOptions::default())
        .await
        .unwrap();
    assert_eq!(from_migrations, from_file);
    // A changed file no longer matches the sum.
    std::fs::write(mdir.join("2_users.sql"), "CREATE TABLE users (id int);\n").unwrap();
    let err = schema_diff(&l.db(), &migrations, &SchemaDiffOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::Sum(_)), "{err:?}");

    // JSON: the realm the SQL file builds, written as the model's JSON, compares equal to the database built
    // from that file.
    apply_plan(&l.url, &from_file, TxMode::File).await.unwrap();
    let realm = schema::inspect(&l.url, &InspectOptions::default())
        .await
        .unwrap();
    let json = l.write(
        "schema.json",
        &serde_json::to_string_pretty(&realm).unwrap(),
    );
    assert!(matches!(json, Source::Json(_)));
    let plan = schema_diff(&l.db(), &json, &SchemaDiffOptions::default())
        .await
        .unwrap();
    assert!(plan.is_empty(), "{}", plan.to_sql());

    let hcl = l.write("schema.hcl", "table \"t\" {}\n");
    let err = schema_diff(&l.db(), &hcl, &SchemaDiffOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::Hcl(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("schema.hcl:1:1: table \"t\" has no schema"),
        "{err}"
    );
    let bad_json = l.write("bad.json", "{\"dialect\": \"oracle\"}");
    let err = schema_diff(&l.db(), &bad_json, &SchemaDiffOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::Json { .. }), "{err:?}");
}

#[test]
fn source_parse_errors() {
    let e = Source::parse("schema.sql").unwrap_err();
    assert_eq!(
        e.to_string(),
        "missing scheme. Did you mean file://schema.sql?"
    );
    let e = Source::parse("oracle://u:secret@h/db").unwrap_err();
    assert!(matches!(e, SchemaError::UnknownSource { .. }), "{e:?}");
    assert!(!e.to_string().contains("secret"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sql"), "").unwrap();
    std::fs::write(dir.path().join("b.hcl"), "").unwrap();
    let e = Source::parse(&format!("file://{}", dir.path().display())).unwrap_err();
    assert!(matches!(e, SchemaError::Ambiguous { .. }), "{e:?}");
    std::fs::write(dir.path().join("x.txt"), "").unwrap();
    let e = Source::parse(&format!("file://{}", dir.path().join("x.txt").display())).unwrap_err();
    assert!(e.to_string().starts_with("unknown schema file: "), "{e}");
    let e = Source::parse("file:///does/not/exist").unwrap_err();
    assert!(matches!(e, SchemaError::Io { .. }), "{e:?}");
}

/// A dev database holding anything is refused, naming the first object; an empty one is used and restored.
#[tokio::test]
async fn dev_database_must_be_clean_and_is_restored() {
    let l = Lite::new();
    let dev_path = l.path("dev.db");
    let dev_url = url(&format!("sqlite://{}", dev_path.display()));
    let to = l.write("v1.sql", SCHEMA_V1);
    let opts = SchemaDiffOptions::default().dev_url(Some(dev_url.clone()));
    let plan = schema_diff(&l.db(), &to, &opts).await.unwrap();
    assert_eq!(plan.statements.len(), 2);
    // Restored: nothing left in the dev file.
    let realm = schema::inspect(
        &dev_url,
        &InspectOptions::default().include_revisions_table(true),
    )
    .await
    .unwrap();
    assert!(realm.schemas[0].tables.is_empty(), "{realm:?}");

    let mut d = strata_driver::connect(&dev_url).await.unwrap();
    d.execute("CREATE TABLE leftover (id int)").await.unwrap();
    d.close().await.unwrap();
    let err = schema_diff(&l.db(), &to, &opts).await.unwrap_err();
    assert_eq!(
        err.to_string().split(". ").next().unwrap(),
        "sql/migrate: connected database is not clean: found table \"leftover\""
    );
    let err = DevDatabase::open(&dev_url).await.unwrap_err();
    assert!(matches!(err, SchemaError::DevNotClean { .. }), "{err:?}");
}

/// A PostgreSQL or MySQL target with a SQL source and no dev URL: Atlas's error.
#[tokio::test]
async fn sql_source_needs_a_dev_url_off_sqlite() {
    let to = Source::parse("file://whatever.sql").unwrap();
    let from = Source::from(url("postgres://u@127.0.0.1:1/db"));
    let err = schema_diff(&from, &to, &SchemaDiffOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SchemaError::DevUrlRequired), "{err:?}");
}

/// `clean` drops every object of a SQLite database (views and triggers too); the second plan is empty.
#[tokio::test]
async fn clean_empties_the_database() {
    let l = Lite::new();
    l.exec(SCHEMA_V1).await;
    l.exec("CREATE VIEW v AS SELECT id FROM teams; CREATE INDEX users_team ON users (team_id)")
        .await;
    let plan = schema::clean_plan(&l.url).await.unwrap();
    assert!(!plan.destructive().is_empty());
    apply_plan(&l.url, &plan, TxMode::File).await.unwrap();
    let realm = schema::inspect(&l.url, &InspectOptions::default())
        .await
        .unwrap();
    assert!(
        realm.schemas[0].tables.is_empty() && realm.schemas[0].views.is_empty(),
        "{realm:?}"
    );
    assert!(schema::clean_plan(&l.url).await.unwrap().is_empty());
}

/// An unreachable database is a driver error naming the URL without its password.
#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let u = url("postgres://app:s3cret@127.0.0.1:1/db?connect_timeout=2");
    let err = schema::inspect(&u, &InspectOptions::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1:1") && !text.contains("s3cret"),
        "{text}"
    );
}

fn admin(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// The scratch tests compare the server's list of `strata_dev_*` databases before and after: one at a time.
static SCRATCH_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn scratch_guard() -> std::sync::MutexGuard<'static, ()> {
    SCRATCH_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn with_scratch(base: &str) -> DbUrl {
    let sep = if base.contains('?') { '&' } else { '?' };
    url(&format!("{base}{sep}strata_dev=scratch"))
}

/// A throw-away dev database: created, used, dropped; and a leftover of a killed run (an unused
/// `strata_dev_<old seconds>_…`) is dropped by the next run while a young one (a concurrent run about to connect)
/// is kept.
#[allow(clippy::await_holding_lock)] // each test has its own runtime thread: the lock only orders the tests
async fn scratch_lifecycle(base: &str) {
    let _one_at_a_time = scratch_guard();
    let Ok(mut adm) = strata_driver::connect(&url(base)).await else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("server unreachable at {}", strata_driver::redact(base));
        }
        eprintln!(
            "SKIPPED: server unreachable at {}",
            strata_driver::redact(base)
        );
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let old = format!("strata_dev_{}_deadbeef", now - 3600);
    let young = format!("strata_dev_{}_0young00", now + 5);
    adm.create_database(&old).await.unwrap();
    adm.create_database(&young).await.unwrap();
    let names = |dbs: Vec<strata_driver::ServerDatabase>| -> Vec<String> {
        dbs.into_iter().map(|d| d.name).collect()
    };

    let mut dev = DevDatabase::open(&with_scratch(base)).await.unwrap();
    let name = dev.scratch_name().unwrap().to_owned();
    assert!(name.starts_with(dev::SCRATCH_PREFIX), "{name}");
    assert!(!dev.driver().url().expose().contains("strata_dev=scratch"));
    dev.driver()
        .execute("CREATE TABLE t (id int)")
        .await
        .unwrap();
    let listed = adm.server_databases(dev::SCRATCH_PREFIX).await.unwrap();
    let mine = listed
        .iter()
        .find(|d| d.name == name)
        .expect("scratch database exists");
    assert!(mine.in_use, "{listed:?}");
    let listed = names(listed);
    assert!(
        !listed.contains(&old),
        "the leftover was dropped: {listed:?}"
    );
    assert!(listed.contains(&young), "a young one is kept: {listed:?}");
    dev.close().await.unwrap();
    let after = names(adm.server_databases(dev::SCRATCH_PREFIX).await.unwrap());
    assert!(!after.contains(&name), "dropped after use: {after:?}");
    adm.drop_database(&young).await.unwrap();
    adm.close().await.unwrap();
}

#[tokio::test]
async fn scratch_dev_database_postgres() {
    scratch_lifecycle(&admin(
        "STRATA_TEST_POSTGRES_URL",
        strata_driver::testing::DEFAULT_POSTGRES_URL,
    ))
    .await;
}

#[tokio::test]
async fn scratch_dev_database_mariadb() {
    scratch_lifecycle(&admin(
        "STRATA_TEST_MYSQL_URL",
        strata_driver::testing::DEFAULT_MYSQL_URL,
    ))
    .await;
}

/// A non-empty PostgreSQL/MariaDB dev database is refused naming the object, before anything runs (the clean
/// check falls back to the catalog query while these dialects have no inspector).
#[tokio::test]
async fn dirty_dev_database_on_servers_names_the_table() {
    if let Some(db) = strata_driver::testing::postgres().await {
        let bound = url(&db.url_with_search_path("public"));
        let mut d = strata_driver::connect(&bound).await.unwrap();
        d.execute("CREATE TABLE users (id int)").await.unwrap();
        d.close().await.unwrap();
        let err = DevDatabase::open(&bound).await.unwrap_err();
        assert!(
            err.to_string().starts_with(
                "sql/migrate: connected database is not clean: found table \"users\" in schema \"public\". "
            ),
            "{err}"
        );
    }
    if let Some(db) = strata_driver::testing::mysql().await {
        let u = url(&db.url);
        let mut d = strata_driver::connect(&u).await.unwrap();
        d.execute("CREATE TABLE users (id int)").await.unwrap();
        d.close().await.unwrap();
        let err = DevDatabase::open(&u).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("sql/migrate: connected database is not clean: found table \"users\""),
            "{err}"
        );
    }
}

/// A SQL desired state diffed against a PostgreSQL/MariaDB database through a throw-away dev database. Until
/// the dialect's inspector lands this stops at `NoInspector` — and still proves the scratch database is dropped
/// on that error path; once it lands the same test checks the plan and that a second diff after applying it is
/// empty (no change needed here).
#[allow(clippy::await_holding_lock)] // each test has its own runtime thread: the lock only orders the tests
async fn sql_source_through_scratch(
    target: Option<strata_driver::testing::TestDb>,
    admin_url: &str,
    bound: bool,
) {
    let _one_at_a_time = scratch_guard();
    let Some(db) = target else { return };
    let target = if bound && db.url.starts_with("postgres") {
        url(&db.url_with_search_path("public"))
    } else {
        url(&db.url)
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(
        &file,
        "CREATE TABLE teams (id int NOT NULL, PRIMARY KEY (id));\n",
    )
    .unwrap();
    let to = Source::parse(&format!("file://{}", file.display())).unwrap();
    let opts = SchemaDiffOptions::default().dev_url(Some(with_scratch(admin_url)));
    let from = Source::from(target.clone());
    let mut adm = strata_driver::connect(&url(admin_url)).await.unwrap();
    let before: Vec<String> = adm
        .server_databases(dev::SCRATCH_PREFIX)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    // The desired state alone: a scratch database is created, the file runs there (once the inspector exists;
    // before that the load stops ahead of executing anything), and the database is dropped either way.
    let mut lo = schema::LoadOptions::default();
    lo.dev_url = opts.dev_url.clone();
    lo.dialect = Some(target.dialect());
    match schema::load(&to, &lo).await {
        Err(SchemaError::NoInspector { .. }) => {}
        Err(e) => panic!("{e}"),
        Ok(loaded) => assert_eq!(loaded.realm.table_count(), 1),
    }
    match schema_diff(&from, &to, &opts).await {
        Err(SchemaError::NoInspector { dialect }) => {
            eprintln!(
                "NOTE: {dialect} has no inspector yet: the plan half of this test runs once it lands"
            );
        }
        Err(e) => panic!("{e}"),
        Ok(plan) => {
            assert_eq!(plan.statements.len(), 1, "{}", plan.to_sql());
            apply_plan(&target, &plan, TxMode::File).await.unwrap();
            let again = schema_diff(&from, &to, &opts).await.unwrap();
            assert!(again.is_empty(), "{}", again.to_sql());
        }
    }
    let after: Vec<String> = adm
        .server_databases(dev::SCRATCH_PREFIX)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .filter(|n| !before.contains(n))
        .collect();
    assert!(after.is_empty(), "scratch databases left behind: {after:?}");
    adm.close().await.unwrap();
}

#[tokio::test]
async fn sql_source_through_scratch_postgres() {
    let admin_url = admin(
        "STRATA_TEST_POSTGRES_URL",
        strata_driver::testing::DEFAULT_POSTGRES_URL,
    );
    sql_source_through_scratch(strata_driver::testing::postgres().await, &admin_url, true).await;
}

#[tokio::test]
async fn sql_source_through_scratch_mariadb() {
    let admin_url = admin(
        "STRATA_TEST_MYSQL_URL",
        strata_driver::testing::DEFAULT_MYSQL_URL,
    );
    sql_source_through_scratch(strata_driver::testing::mysql().await, &admin_url, true).await;
}

/// Atlas's rule for schema-bound URLs on PostgreSQL: statements name no schema, so a desired state written in the
/// dev database's `public` applies into the target's `app`; the containers' own attributes (the dev `public`'s
/// comment) are not a change.
#[allow(clippy::await_holding_lock)] // each test has its own runtime thread: the lock only orders the tests
#[tokio::test]
async fn a_bound_postgres_plan_is_unqualified_and_lands_in_the_bound_schema() {
    let _one_at_a_time = scratch_guard();
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let admin_url = admin(
        "STRATA_TEST_POSTGRES_URL",
        strata_driver::testing::DEFAULT_POSTGRES_URL,
    );
    let mut drv = strata_driver::connect(&url(&db.url)).await.unwrap();
    drv.execute("CREATE SCHEMA app").await.unwrap();
    let target = url(&db.url_with_search_path("app"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(
        &file,
        "CREATE TYPE mood AS ENUM ('happy', 'sad');\n\
         CREATE TABLE teams (id int PRIMARY KEY);\n\
         CREATE TABLE users (id int PRIMARY KEY, team_id int REFERENCES teams (id), m mood);\n\
         CREATE INDEX users_team ON users (team_id);\n",
    )
    .unwrap();
    let to = Source::parse(&format!("file://{}", file.display())).unwrap();
    let dev = with_scratch(&format!("{admin_url}&search_path=public"));
    let opts = SchemaDiffOptions::default().dev_url(Some(dev));
    let from = Source::from(target.clone());
    let plan = schema_diff(&from, &to, &opts).await.unwrap();
    let sql = plan.to_sql();
    assert!(
        !sql.contains("\"public\"") && !sql.contains("\"app\""),
        "{sql}"
    );
    assert!(!sql.contains("SCHEMA"), "{sql}");
    assert!(sql.contains("CREATE TABLE \"users\" ("), "{sql}");
    apply_plan(&target, &plan, TxMode::File).await.unwrap();
    assert!(drv.table_exists("app", "users").await.unwrap());
    assert!(!drv.table_exists("public", "users").await.unwrap());
    let again = schema_diff(&from, &to, &opts).await.unwrap();
    assert!(again.is_empty(), "{}", again.to_sql());
    drv.close().await.unwrap();
}
