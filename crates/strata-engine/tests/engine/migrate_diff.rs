//! `migrate diff` end to end on real databases: golden files per dialect for a table of changes (foreign keys
//! and checks added to and dropped from existing tables among them), each directory
//! applied to an empty database and compared with the desired state; the replay cache (what runs, what an edit
//! invalidates, corrupt entries, the append fast path, the recreated state and its fall-back); qualifiers; the
//! lock; `migrate validate --dev-url`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strata_driver::DbUrl;
use strata_driver::testing;
use strata_engine::MigrationDir;
use strata_engine::schema::{
    self, MigrateDiffOptions, MigrateDiffReport, ReplayCache, ReplayStats, SchemaDiffOptions,
    SchemaError, Source, migrate_diff,
};

use crate::common::Db;

fn at(step: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200 + step)
}

fn url(s: &str) -> DbUrl {
    s.parse().unwrap()
}

/// A migration directory, desired-state files and a cache folder in one temp dir.
struct Work {
    tmp: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        Work {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn dir(&self) -> std::path::PathBuf {
        self.tmp.path().join("migrations")
    }

    fn cache(&self) -> ReplayCache {
        ReplayCache::new(self.tmp.path().join("cache"))
    }

    fn desired(&self, name: &str, sql: &str) -> Source {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, sql).unwrap();
        Source::SqlFile(p)
    }

    /// Writes a migration file by hand and re-hashes.
    fn add_file(&self, name: &str, sql: &str) {
        std::fs::create_dir_all(self.dir()).unwrap();
        std::fs::write(self.dir().join(name), sql).unwrap();
        strata_migrate::new::rehash(&self.dir()).unwrap();
    }

    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        v.sort();
        v
    }

    async fn diff(&self, opts: &MigrateDiffOptions) -> Result<MigrateDiffReport, SchemaError> {
        migrate_diff(&self.dir(), opts).await
    }
}

/// The desired states of the table of changes, per dialect: v1 creates, v2 alters (types, nullability,
/// indexes, checks, foreign keys, an enum value, a view), v3 drops, v4 drops a foreign key and a check from an
/// existing table, v5 adds a foreign key to it.
fn states(kind: &str) -> [String; 5] {
    let [v1, v2, v3] = first_states(kind);
    let (fk, check, author_fk) = match kind {
        "postgres" => (
            " REFERENCES users (id) ON DELETE CASCADE",
            "CONSTRAINT posts_title CHECK (length(title) > 0), ",
            ", CONSTRAINT posts_author_fk FOREIGN KEY (user_id) REFERENCES users (id)",
        ),
        "mysql" => (
            "CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE, ",
            "CONSTRAINT posts_title CHECK (char_length(title) > 0), ",
            ", CONSTRAINT posts_author_fk FOREIGN KEY (user_id) REFERENCES users (id)",
        ),
        _ => (
            " REFERENCES users (id) ON DELETE CASCADE",
            "CONSTRAINT posts_title CHECK (length(title) > 0), ",
            ", CONSTRAINT posts_author_fk FOREIGN KEY (user_id) REFERENCES users (id)",
        ),
    };
    let v4 = v3.replace(fk, "").replace(check, "");
    assert!(v4 != v3 && !v4.contains("posts_title"), "{kind}: {v4}");
    let v5 = v4.replace(
        "CONSTRAINT posts_user CHECK (user_id > 0))",
        &format!("CONSTRAINT posts_user CHECK (user_id > 0){author_fk})"),
    );
    assert!(v5 != v4, "{kind}: {v5}");
    [v1.into(), v2.into(), v3.into(), v4, v5]
}

fn first_states(kind: &str) -> [&'static str; 3] {
    match kind {
        "postgres" => [
            "CREATE TYPE status AS ENUM ('active', 'blocked');\n\
             CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL, name varchar(50) NULL, \
             status status NOT NULL DEFAULT 'active');\n\
             CREATE INDEX users_name ON users (name);\n\
             CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE \
             CASCADE, title text NOT NULL, CONSTRAINT posts_title CHECK (length(title) > 0));\n\
             CREATE VIEW active_users AS SELECT id, email FROM users WHERE status = 'active';\n",
            "CREATE TYPE status AS ENUM ('active', 'blocked', 'deleted');\n\
             CREATE TABLE users (id bigint PRIMARY KEY, email varchar(200) NOT NULL, name varchar(50) NOT NULL, \
             status status NOT NULL DEFAULT 'active', age integer NULL);\n\
             CREATE UNIQUE INDEX users_email ON users (email);\n\
             CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE \
             CASCADE, title text NOT NULL, CONSTRAINT posts_title CHECK (length(title) > 0), \
             CONSTRAINT posts_user CHECK (user_id > 0));\n\
             CREATE TABLE tags (id bigint PRIMARY KEY, post_id bigint NULL REFERENCES posts (id), label text NOT \
             NULL);\n\
             CREATE VIEW active_users AS SELECT id, email, name FROM users WHERE status = 'active';\n",
            "CREATE TYPE status AS ENUM ('active', 'blocked', 'deleted');\n\
             CREATE TABLE users (id bigint PRIMARY KEY, email varchar(200) NOT NULL, name varchar(50) NULL, \
             status status NOT NULL DEFAULT 'active');\n\
             CREATE UNIQUE INDEX users_email ON users (email);\n\
             CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE \
             CASCADE, title text NOT NULL, CONSTRAINT posts_title CHECK (length(title) > 0), \
             CONSTRAINT posts_user CHECK (user_id > 0));\n",
        ],
        "mysql" => [
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL, name varchar(50) NULL, \
             status enum('active','blocked') NOT NULL DEFAULT 'active', INDEX users_name (name));\n\
             CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL, title varchar(200) NOT NULL, \
             CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE, \
             CONSTRAINT posts_title CHECK (char_length(title) > 0));\n\
             CREATE VIEW active_users AS SELECT id, email FROM users WHERE status = 'active';\n",
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(200) NOT NULL, name varchar(50) NOT NULL, \
             status enum('active','blocked','deleted') NOT NULL DEFAULT 'active', age int NULL, \
             UNIQUE INDEX users_email (email));\n\
             CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL, title varchar(200) NOT NULL, \
             CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE, \
             CONSTRAINT posts_title CHECK (char_length(title) > 0), CONSTRAINT posts_user CHECK (user_id > 0));\n\
             CREATE TABLE tags (id bigint PRIMARY KEY, post_id bigint NULL, label varchar(20) NOT NULL, \
             CONSTRAINT tags_post_fk FOREIGN KEY (post_id) REFERENCES posts (id));\n\
             CREATE VIEW active_users AS SELECT id, email, name FROM users WHERE status = 'active';\n",
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(200) NOT NULL, name varchar(50) NULL, \
             status enum('active','blocked','deleted') NOT NULL DEFAULT 'active', \
             UNIQUE INDEX users_email (email));\n\
             CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL, title varchar(200) NOT NULL, \
             CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE, \
             CONSTRAINT posts_title CHECK (char_length(title) > 0), CONSTRAINT posts_user CHECK (user_id > 0));\n",
        ],
        _ => [
            "CREATE TABLE users (id integer PRIMARY KEY, email varchar(100) NOT NULL, name varchar(50) NULL);\n\
             CREATE INDEX users_name ON users (name);\n\
             CREATE TABLE posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id) ON DELETE \
             CASCADE, title text NOT NULL, CONSTRAINT posts_title CHECK (length(title) > 0));\n\
             CREATE VIEW active_users AS SELECT id, email FROM users;\n",
            "CREATE TABLE users (id integer PRIMARY KEY, email varchar(200) NOT NULL, name varchar(50) NOT NULL \
             DEFAULT '', age integer NULL);\n\
             CREATE UNIQUE INDEX users_email ON users (email);\n\
             CREATE TABLE posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id) ON DELETE \
             CASCADE, title text NOT NULL, CONSTRAINT posts_title CHECK (length(title) > 0), \
             CONSTRAINT posts_user CHECK (user_id > 0));\n\
             CREATE TABLE tags (id integer PRIMARY KEY, post_id integer NULL REFERENCES posts (id), label text NOT \
             NULL);\n\
             CREATE VIEW active_users AS SELECT id, email, name FROM users;\n",
            "CREATE TABLE users (id integer PRIMARY KEY, email varchar(200) NOT NULL, name varchar(50) NULL \
             DEFAULT '');\n\
             CREATE UNIQUE INDEX users_email ON users (email);\n\
             CREATE TABLE posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id) ON DELETE \
             CASCADE, title text NOT NULL, CONSTRAINT posts_title CHECK (length(title) > 0), \
             CONSTRAINT posts_user CHECK (user_id > 0));\n",
        ],
    }
}

/// The table of changes for one dialect: each state's file is a golden snapshot; a second run is synced; the
/// directory applied to an empty database equals the last state; the first state indented is a golden too.
async fn table_of_changes(kind: &str, dev_url: DbUrl, target: &Db, target_bound: DbUrl) {
    let w = Work::new();
    let cache = Some(w.cache());
    for (i, sql) in states(kind).into_iter().enumerate() {
        let to = w.desired(&format!("v{}.sql", i + 1), &sql);
        let opts = MigrateDiffOptions::new(vec![to.clone()], dev_url.clone())
            .name(Some(format!("v{}", i + 1)))
            .cache(cache.clone())
            .now(at(i as u64));
        let r = w.diff(&opts).await.unwrap();
        let file = r.file.expect("a file is written");
        assert_eq!(
            file.file_name().unwrap().to_string_lossy(),
            format!("2024010100000{i}_v{}.sql", i + 1)
        );
        let body = std::fs::read_to_string(&file).unwrap();
        insta::assert_snapshot!(format!("migrate_diff_{kind}_v{}", i + 1), body);
        // The directory now builds the desired state.
        let again = w.diff(&opts.clone().now(at(100))).await.unwrap();
        assert_eq!(again.file, None, "{kind} v{}: second run not synced", i + 1);
        strata_migrate::sum::validate(&MigrationDir::open(w.dir()).unwrap()).unwrap();
    }
    assert_eq!(w.files().len(), 5);

    // Applied to an empty database, the directory leaves it equal to the desired state.
    let dir = MigrationDir::open(w.dir()).unwrap();
    let report = target.apply(&dir).await.unwrap();
    assert!(report.error.is_empty(), "{kind}: {}", report.error);
    let last = w.desired("v5.sql", &states(kind)[4]);
    let plan = schema::schema_diff(
        &Source::from(target_bound),
        &last,
        &SchemaDiffOptions::default().dev_url(Some(dev_url.clone())),
    )
    .await
    .unwrap();
    assert!(plan.is_empty(), "{kind}: not synced:\n{}", plan.to_sql());

    // The first state, indented (`--format '{{ sql . "  " }}'`), in a directory of its own.
    let w2 = Work::new();
    let opts = MigrateDiffOptions::new(vec![w2.desired("v1.sql", &states(kind)[0])], dev_url)
        .indent("  ")
        .now(at(0));
    let file = w2.diff(&opts).await.unwrap().file.unwrap();
    insta::assert_snapshot!(
        format!("migrate_diff_{kind}_v1_indented"),
        std::fs::read_to_string(file).unwrap()
    );
}

#[tokio::test]
async fn table_of_changes_sqlite() {
    let target = Db::sqlite().unwrap();
    let bound = target.db_url();
    table_of_changes("sqlite", url("sqlite://dev?mode=memory"), &target, bound).await;
}

#[tokio::test]
async fn table_of_changes_postgres() {
    let (Some(dev), Some(target)) = (testing::postgres().await, Db::postgres().await) else {
        return;
    };
    let bound = url(&target.test.url_with_search_path("public"));
    table_of_changes(
        "postgres",
        url(&dev.url_with_search_path("public")),
        &target,
        bound,
    )
    .await;
}

#[tokio::test]
async fn table_of_changes_mysql() {
    let (Some(dev), Some(target)) = (testing::mysql().await, Db::mysql().await) else {
        return;
    };
    let bound = target.db_url();
    table_of_changes("mysql", url(&dev.url), &target, bound).await;
}

/// SQLite: a change only the table copy makes is written in Atlas's layout (foreign keys off first and on last,
/// the copy's comments), and the file, applied with `migrate apply` to a database that enforces foreign keys,
/// keeps every row and every `ON DELETE CASCADE` child. The `PRAGMA foreign_keys = off` in the file does nothing
/// inside the file's transaction; the driver's transaction switching enforcement off before `BEGIN` is what keeps
/// the children. A view that reads the copied table and stays in place needs the legacy rename: the same file
/// without it fails on the same database.
#[tokio::test]
async fn sqlite_table_copy_file_applies_and_keeps_cascade_children() {
    let w = Work::new();
    let v1 = "CREATE TABLE teams (id integer PRIMARY KEY, name text NOT NULL, legacy text NULL);\n\
              CREATE TABLE users (id integer PRIMARY KEY, team_id integer NULL REFERENCES teams (id) \
              ON DELETE CASCADE);\n\
              CREATE VIEW team_names AS SELECT name FROM teams;\n";
    let v2 = v1.replace(", legacy text NULL", "");
    let dev = url("sqlite://dev?mode=memory");
    let opts = |name: &str, sql: &str, step: u64| {
        MigrateDiffOptions::new(vec![w.desired(&format!("{name}.sql"), sql)], dev.clone())
            .name(Some(name.to_string()))
            .now(at(step))
    };
    w.diff(&opts("v1", v1, 0)).await.unwrap().file.unwrap();

    let target = Db::sqlite().unwrap();
    let fk = url(&format!("{}?_fk=1", target.url()));
    let apply = || async {
        let dir = MigrationDir::open(w.dir()).unwrap();
        let r = strata_engine::apply(
            &dir,
            &fk,
            &target.apply_opts(),
            &mut strata_engine::Quiet,
            &strata_engine::Cancel::new(),
        )
        .await
        .unwrap();
        assert!(r.error.is_empty(), "{}", r.error);
    };
    apply().await;
    target
        .exec(
            "INSERT INTO teams (id, name, legacy) VALUES (1, 'a', 'x'), (2, 'b', NULL);\n\
             INSERT INTO users (id, team_id) VALUES (1, 1), (2, 1), (3, 2), (4, NULL);",
        )
        .await;
    let before = tempfile::tempdir().unwrap();
    let copy = before.path().join("copy.db");
    std::fs::copy(&target.test.name, &copy).unwrap();

    let file = w.diff(&opts("v2", &v2, 1)).await.unwrap().file.unwrap();
    let body = std::fs::read_to_string(&file).unwrap();
    insta::assert_snapshot!("migrate_diff_sqlite_table_copy", body);
    apply().await;
    assert_eq!(target.count("teams").await, 2);
    assert_eq!(target.count("users").await, 4, "every cascade child kept");
    assert_eq!(target.count("team_names").await, 2);
    assert_eq!(
        target
            .scalar("SELECT CAST(count(*) AS TEXT) FROM users WHERE team_id = 1")
            .await
            .as_deref(),
        Some("2")
    );
    let synced = w.diff(&opts("v3", &v2, 2)).await.unwrap();
    assert_eq!(synced.file, None);
    // Enforcement is back on after the file: a dangling reference is refused.
    let mut d = strata_driver::connect(&fk).await.unwrap();
    assert!(
        d.execute("INSERT INTO users (id, team_id) VALUES (9, 99)")
            .await
            .is_err()
    );
    d.close().await.unwrap();

    // Without the legacy rename the file fails where the view reads the dropped table.
    use sqlx::Connection as _;
    let stripped: String = body
        .split_terminator('\n')
        .filter(|l| !l.contains("legacy_alter_table"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let err = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN;\n{stripped}COMMIT;")))
        .execute(&mut c)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("error in view team_names"),
        "{err}"
    );
}

fn stats(files: usize, cached: usize, executed: usize) -> ReplayStats {
    ReplayStats {
        files,
        cached,
        executed,
        ..ReplayStats::default()
    }
}

/// The cache: a second run replays nothing, a new file that only creates runs alone (the append fast path),
/// editing an earlier file replays everything, a corrupt entry is ignored and rewritten, and no cache at all
/// replays everything every time.
#[tokio::test]
async fn the_cache_replays_only_new_files_and_an_edit_invalidates_it() {
    let w = Work::new();
    w.add_file(
        "20230101000001_a.sql",
        "CREATE TABLE a (id integer PRIMARY KEY);\n",
    );
    w.add_file(
        "20230101000002_b.sql",
        "ALTER TABLE a ADD COLUMN x integer NULL;\n",
    );
    w.add_file(
        "20230101000003_c.sql",
        "CREATE TABLE b (id integer PRIMARY KEY);\n",
    );
    let dev = url("sqlite://dev?mode=memory");
    let desired = "CREATE TABLE a (id integer PRIMARY KEY, x integer NULL);\n\
                   CREATE TABLE b (id integer PRIMARY KEY);\n\
                   CREATE TABLE c (id integer PRIMARY KEY);\n";
    let opts = MigrateDiffOptions::new(vec![w.desired("s.sql", desired)], dev.clone())
        .cache(Some(w.cache()))
        .now(at(0));

    let r = w.diff(&opts).await.unwrap();
    assert!(r.file.is_some());
    assert_eq!(r.replay, stats(3, 0, 3));
    // The written file (CREATE TABLE c) runs alone on the clean database and is merged into the cached state.
    let r = w.diff(&opts).await.unwrap();
    assert_eq!(r.file, None);
    assert_eq!(
        r.replay,
        ReplayStats {
            appended: true,
            ..stats(4, 3, 1)
        }
    );
    let r = w.diff(&opts).await.unwrap();
    assert_eq!((r.file, r.replay), (None, stats(4, 4, 0)));

    // An edit of the first file changes every key: nothing is reused.
    std::fs::write(
        w.dir().join("20230101000001_a.sql"),
        "CREATE TABLE a (id integer PRIMARY KEY); -- edited\n",
    )
    .unwrap();
    strata_migrate::new::rehash(&w.dir()).unwrap();
    let r = w.diff(&opts).await.unwrap();
    assert_eq!((r.file, r.replay), (None, stats(4, 0, 4)));
    assert_eq!(w.diff(&opts).await.unwrap().replay, stats(4, 4, 0));

    // Corrupt every entry: ignored (a full replay), then written again.
    let root = w.cache().root().to_owned();
    for e in std::fs::read_dir(&root).unwrap() {
        let p = e.unwrap().path();
        let mut bytes = std::fs::read(&p).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        std::fs::write(&p, bytes).unwrap();
    }
    assert_eq!(w.diff(&opts).await.unwrap().replay, stats(4, 0, 4));
    assert_eq!(w.diff(&opts).await.unwrap().replay, stats(4, 4, 0));

    // Without a cache, every run replays every file.
    let r = w.diff(&opts.clone().cache(None)).await.unwrap();
    assert_eq!((r.file, r.replay), (None, stats(4, 0, 4)));
    assert!(!r.desired_cached);
}

/// The desired state's statements are cached too: unchanged they cost nothing; appended plain `CREATE`s run
/// alone; an appended statement that needs the existing objects (an index on an existing table) makes the
/// whole state run, and the file says what it must.
#[tokio::test]
async fn the_desired_state_is_cached_by_its_statements() {
    let w = Work::new();
    let base = "CREATE TABLE a (id integer PRIMARY KEY, x integer NULL);\n";
    let opts = |sql: &str, step: u64| {
        MigrateDiffOptions::new(
            vec![w.desired("s.sql", sql)],
            url("sqlite://dev?mode=memory"),
        )
        .cache(Some(w.cache()))
        .now(at(step))
    };
    let r = w.diff(&opts(base, 0)).await.unwrap();
    assert!(r.file.is_some() && !r.desired_cached);
    let r = w.diff(&opts(base, 1)).await.unwrap();
    assert!(r.file.is_none() && r.desired_cached);

    let plus_table = format!("{base}CREATE TABLE b (id integer PRIMARY KEY);\n");
    let r = w.diff(&opts(&plus_table, 2)).await.unwrap();
    assert!(r.desired_cached, "appended CREATE TABLE merged");
    let body = std::fs::read_to_string(r.file.unwrap()).unwrap();
    assert_eq!(
        body,
        "-- Create \"b\" table\nCREATE TABLE `b` (`id` integer NULL, PRIMARY KEY (`id`));\n"
    );

    let plus_index = format!("{plus_table}CREATE INDEX a_x ON a (x);\n");
    let r = w.diff(&opts(&plus_index, 3)).await.unwrap();
    assert!(
        !r.desired_cached,
        "an index on an existing table needs the whole state"
    );
    let body = std::fs::read_to_string(r.file.unwrap()).unwrap();
    assert_eq!(
        body,
        "-- Create index \"a_x\" to table: \"a\"\nCREATE INDEX `a_x` ON `a` (`x`);\n"
    );
    assert!(w.diff(&opts(&plus_index, 4)).await.unwrap().file.is_none());
}

/// An HCL desired state is cached by its content: the second run takes the inspected model from the cache and
/// creates nothing on the dev database; an edit of the HCL, or another value of its input variable, misses; with
/// no cache every run creates it. The cached model gives the same answer (synced) as a fresh one.
#[tokio::test]
async fn the_hcl_desired_state_is_cached_by_its_files_and_variables() {
    let w = Work::new();
    let path = w.tmp.path().join("schema.hcl");
    let hcl = |extra: &str| {
        format!(
            "variable \"greeting\" {{\n  type = string\n}}\n\nschema \"main\" {{}}\n\ntable \"users\" {{\n  \
             schema = schema.main\n  column \"id\" {{\n    type = integer\n  }}\n  column \"name\" {{\n    \
             type    = text\n    default = var.greeting\n  }}\n{extra}  primary_key {{\n    columns = [column.id]\n  \
             }}\n}}\n"
        )
    };
    std::fs::write(&path, hcl("")).unwrap();
    let vars = |v: &str| {
        strata_hcl::parse::Vars::from([("greeting".to_owned(), strata_hcl::parse::Value::from(v))])
    };
    let opts = |v: &str, step: u64| {
        let mut o = MigrateDiffOptions::new(
            vec![Source::Hcl(vec![path.clone()])],
            url("sqlite://dev?mode=memory"),
        )
        .cache(Some(w.cache()))
        .now(at(step));
        o.vars = vars(v);
        o
    };
    let r = w.diff(&opts("hi", 0)).await.unwrap();
    assert!(r.file.is_some() && !r.desired_cached);
    let r = w.diff(&opts("hi", 1)).await.unwrap();
    assert_eq!(
        (r.file, r.desired_cached),
        (None, true),
        "unchanged: from the cache"
    );

    // Another variable value: a miss, and a change.
    let r = w.diff(&opts("hello", 2)).await.unwrap();
    assert!(!r.desired_cached);
    let body = std::fs::read_to_string(r.file.unwrap()).unwrap();
    assert!(body.contains("DEFAULT 'hello'"), "{body}");
    assert!(w.diff(&opts("hello", 3)).await.unwrap().desired_cached);

    // An edit of the file: a miss.
    std::fs::write(
        &path,
        hcl("  column \"age\" {\n    type = integer\n    null = true\n  }\n"),
    )
    .unwrap();
    let r = w.diff(&opts("hello", 4)).await.unwrap();
    assert!(!r.desired_cached);
    let body = std::fs::read_to_string(r.file.unwrap()).unwrap();
    assert!(body.contains("`age`"), "{body}");
    let r = w.diff(&opts("hello", 5)).await.unwrap();
    assert_eq!((r.file, r.desired_cached), (None, true));

    // Without a cache it is created every time, and agrees.
    let r = w.diff(&opts("hello", 6).cache(None)).await.unwrap();
    assert_eq!((r.file, r.desired_cached), (None, false));
}

/// A checkpoint starts the replay (and the cache keys) where it stands.
#[tokio::test]
async fn a_checkpoint_starts_the_replay() {
    let w = Work::new();
    w.add_file(
        "20230101000001_a.sql",
        "CREATE TABLE a (id integer PRIMARY KEY);\n",
    );
    w.add_file("20230101000002_b.sql", "CREATE TABLE gone (id integer);\n");
    w.add_file(
        "20230101000003_cp.sql",
        "-- atlas:checkpoint\n\nCREATE TABLE a (id integer PRIMARY KEY);\n",
    );
    w.add_file("20230101000004_c.sql", "CREATE TABLE c (id integer);\n");
    let opts = MigrateDiffOptions::new(
        vec![w.desired(
            "s.sql",
            "CREATE TABLE a (id integer PRIMARY KEY);\nCREATE TABLE c (id integer);\n",
        )],
        url("sqlite://dev?mode=memory"),
    )
    .cache(Some(w.cache()));
    let r = w.diff(&opts).await.unwrap();
    // `gone` came before the checkpoint: the checkpoint's state has no such table, and only two files ran.
    assert_eq!((r.file, r.replay), (None, stats(2, 0, 2)));
}

/// PostgreSQL: a new file that alters an existing table runs on the cached state recreated in the dev
/// database; one that needs what the model does not hold (a domain) falls back to a full replay.
#[tokio::test]
async fn postgres_recreates_the_cached_state_and_falls_back_when_it_must() {
    let Some(dev) = testing::postgres().await else {
        return;
    };
    let dev = url(&dev.url_with_search_path("public"));
    let w = Work::new();
    w.add_file(
        "20230101000001_a.sql",
        "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');\nCREATE TABLE a (id bigint PRIMARY KEY);\n",
    );
    let desired = |extra: &str| {
        format!(
            "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');\n\
             CREATE TABLE a (id bigint PRIMARY KEY{extra});\n"
        )
    };
    let opts = |sql: &str| {
        MigrateDiffOptions::new(vec![w.desired("s.sql", sql)], dev.clone()).cache(Some(w.cache()))
    };
    let r = w.diff(&opts(&desired(""))).await.unwrap();
    assert_eq!((r.file, r.replay), (None, stats(1, 0, 1)));

    // An ALTER cannot run on the clean database: the cached table is recreated, the file runs on it.
    w.add_file(
        "20230101000002_b.sql",
        "ALTER TABLE a ADD COLUMN x integer NULL;\n",
    );
    let r = w.diff(&opts(&desired(", x integer NULL"))).await.unwrap();
    assert_eq!((r.file, r.replay), (None, stats(2, 1, 1)));

    // A table typed by the domain: not on the clean database, not on the recreated one (the model has no
    // domains); the full replay has it.
    w.add_file(
        "20230101000003_c.sql",
        "ALTER TABLE a ADD COLUMN e email NULL;\n",
    );
    let r = w
        .diff(&opts(&desired(", x integer NULL, e email NULL")))
        .await
        .unwrap();
    assert_eq!(
        (r.file, r.replay),
        (
            None,
            ReplayStats {
                fell_back: true,
                ..stats(3, 0, 3)
            }
        )
    );
    assert_eq!(
        w.diff(&opts(&desired(", x integer NULL, e email NULL")))
            .await
            .unwrap()
            .replay,
        stats(3, 3, 0)
    );
}

/// A realm dev URL (no schema) qualifies every statement and creates schemas; `--qualifier` names the schema of
/// a bound one; a qualifier without a bound dev database is refused.
#[tokio::test]
async fn postgres_qualifiers() {
    let Some(dev) = testing::postgres().await else {
        return;
    };
    let w = Work::new();
    let to = w.desired(
        "s.sql",
        "CREATE SCHEMA app;\nCREATE TABLE app.users (id bigint PRIMARY KEY);\nCREATE TABLE public.t (id int);\n",
    );
    let realm = MigrateDiffOptions::new(vec![to], url(&dev.url)).now(at(0));
    let f = w.diff(&realm).await.unwrap().file.unwrap();
    insta::assert_snapshot!(std::fs::read_to_string(f).unwrap(), @r#"
    -- Add new schema named "app"
    CREATE SCHEMA "app";
    -- Create "t" table
    CREATE TABLE "public"."t" ("id" integer NULL);
    -- Create "users" table
    CREATE TABLE "app"."users" ("id" bigint NOT NULL, PRIMARY KEY ("id"));
    "#);
    let err = w
        .diff(&realm.clone().qualifier(Some("x".into())))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SchemaError::QualifierUnbound { qualifier } if qualifier == "x"),
        "{err}"
    );

    let w = Work::new();
    let to = w.desired("s.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    let bound = MigrateDiffOptions::new(vec![to], url(&dev.url_with_search_path("public")))
        .qualifier(Some("app".into()))
        .now(at(0));
    let f = w.diff(&bound).await.unwrap().file.unwrap();
    insta::assert_snapshot!(std::fs::read_to_string(f).unwrap(), @r#"
    -- Create "users" table
    CREATE TABLE "app"."users" ("id" bigint NOT NULL, PRIMARY KEY ("id"));
    "#);
}

/// The dev database must be empty (the object is named), and `atlas_migrate_diff` held by another session
/// makes a run wait, then fail naming the lock.
#[tokio::test]
async fn postgres_dev_must_be_clean_and_the_lock_is_taken() {
    let Some(dev) = testing::postgres().await else {
        return;
    };
    let dev_url = url(&dev.url_with_search_path("public"));
    let w = Work::new();
    let to = w.desired("s.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    let opts = MigrateDiffOptions::new(vec![to], dev_url.clone())
        .lock_timeout(Duration::from_millis(300))
        .now(at(0));

    let mut holder = strata_driver::connect(&dev_url).await.unwrap();
    holder
        .lock("atlas_migrate_diff", Duration::from_secs(1))
        .await
        .unwrap();
    let err = w.diff(&opts).await.unwrap_err();
    assert!(
        matches!(&err, SchemaError::Driver(e) if e.is_lock_timeout()),
        "{err}"
    );
    holder.unlock("atlas_migrate_diff").await.unwrap();
    assert!(w.diff(&opts).await.unwrap().file.is_some());

    holder.execute("CREATE TABLE stray (id int)").await.unwrap();
    let err = w.diff(&opts).await.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "sql/migrate: connected database is not clean: found table \"stray\" in schema \"public\""
        ),
        "{err}"
    );
    holder.close().await.unwrap();
}

/// `migrate validate --dev-url`: a failing statement names its file and line and keeps the database's message;
/// a good directory runs whole and leaves the dev database clean.
async fn validate_case(dev: DbUrl) {
    let w = Work::new();
    w.add_file(
        "20230101000001_a.sql",
        "CREATE TABLE a (id integer PRIMARY KEY);\n",
    );
    w.add_file(
        "20230101000002_b.sql",
        "-- a comment\nCREATE TABLE b (id integer);\n\nALTER TABLE missing ADD COLUMN x integer;\n",
    );
    let dir = MigrationDir::open(w.dir()).unwrap();
    let err = schema::replay::validate(&dev, &dir).await.unwrap_err();
    let SchemaError::SqlFile {
        file,
        line,
        message,
    } = &err
    else {
        panic!("{err}")
    };
    assert!(file.ends_with("20230101000002_b.sql"), "{file}");
    assert_eq!(*line, 4);
    assert!(
        message.contains("missing"),
        "the database's message: {message}"
    );
    std::fs::remove_file(w.dir().join("20230101000002_b.sql")).unwrap();
    strata_migrate::new::rehash(&w.dir()).unwrap();
    let dir = MigrationDir::open(w.dir()).unwrap();
    assert_eq!(schema::replay::validate(&dev, &dir).await.unwrap(), 1);
    // Clean again: a second validation finds an empty dev database.
    assert_eq!(schema::replay::validate(&dev, &dir).await.unwrap(), 1);
}

#[tokio::test]
async fn validate_replays_on_the_dev_database_sqlite() {
    validate_case(url("sqlite://dev?mode=memory")).await;
}

#[tokio::test]
async fn validate_replays_on_the_dev_database_postgres() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    validate_case(url(&db.url_with_search_path("public"))).await;
}

/// The append fast path never merges what would clash: a new file creating a table under a name the cached
/// state holds (here a view's) is not merged but replayed on the recreated state, where it fails as it would.
#[tokio::test]
async fn an_appended_create_that_clashes_is_not_merged() {
    let w = Work::new();
    w.add_file(
        "20230101000001_a.sql",
        "CREATE TABLE a (id integer PRIMARY KEY);\nCREATE VIEW v AS SELECT id FROM a;\n",
    );
    let opts = MigrateDiffOptions::new(
        vec![w.desired(
            "s.sql",
            "CREATE TABLE a (id integer PRIMARY KEY);\nCREATE VIEW v AS SELECT id FROM a;\n",
        )],
        url("sqlite://dev?mode=memory"),
    )
    .cache(Some(w.cache()));
    assert_eq!(w.diff(&opts).await.unwrap().replay, stats(1, 0, 1));
    w.add_file("20230101000002_b.sql", "CREATE TABLE v (id integer);\n");
    let err = w.diff(&opts).await.unwrap_err().to_string();
    assert!(err.contains("2_b.sql:1"), "{err}");
    assert!(err.contains("already exists"), "{err}");
}
