//! Test support (feature `testing`): a uniquely named database per test on the local servers.
//!
//! ```no_run
//! # async fn t() {
//! let Some(db) = strata_driver::testing::postgres().await else { return }; // skipped: server unreachable
//! let mut drv = strata_driver::connect(&db.url.parse().unwrap()).await.unwrap();
//! // … `db` drops the database when it goes out of scope.
//! # }
//! ```
//!
//! Servers come from `STRATA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable`)
//! and `STRATA_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/`). When a server is unreachable the helper
//! prints why and returns `None` so the test can return early — except with `CI=true`, where it panics so CI
//! never passes silently without a database.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection};

use crate::url::redact;

/// The default admin URL of the Postgres test server.
pub const DEFAULT_POSTGRES_URL: &str =
    "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
/// The default admin URL of the MySQL/MariaDB test server.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique, valid identifier: `<prefix>_<pid>_<n>_<nanos>`.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

enum Kind {
    Postgres {
        admin: String,
    },
    Mysql {
        admin: String,
        user: String,
        extra: Vec<String>,
    },
    Sqlite {
        _dir: tempfile::TempDir,
    },
}

/// A throw-away database. Dropped (with `DROP DATABASE`, or by removing the temp dir) when this value drops.
pub struct TestDb {
    /// URL of the database, bound to nothing beyond the database itself (Postgres: no `search_path`; MySQL:
    /// the database in the path; SQLite: the file).
    pub url: String,
    /// The database name (SQLite: the file path).
    pub name: String,
    kind: Kind,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("url", &redact(&self.url))
            .field("name", &self.name)
            .finish()
    }
}

impl TestDb {
    /// The URL with a `search_path` (Postgres) — the URL binds `schema`.
    pub fn url_with_search_path(&self, schema: &str) -> String {
        let mut u = parse_url(&self.url);
        u.query_pairs_mut().append_pair("search_path", schema);
        u.into()
    }

    /// MySQL: the URL without a database in the path (not bound to a schema). The test user only sees its own
    /// database and the schemas named in [`mysql_grant_schema`], so clean checks stay isolated.
    pub fn url_unbound(&self) -> String {
        match &self.kind {
            Kind::Mysql { .. } => with_path(&self.url, "/"),
            _ => self.url.clone(),
        }
    }

    /// MySQL: the test user's name (its password is in [`TestDb::url`]).
    pub fn mysql_user(&self) -> Option<&str> {
        match &self.kind {
            Kind::Mysql { user, .. } => Some(user),
            _ => None,
        }
    }

    /// MySQL: grants the test user all privileges on another schema (which it may then create). The schema is
    /// dropped with the test database.
    pub async fn mysql_grant_schema(&mut self, schema: &str) {
        let Kind::Mysql { admin, user, extra } = &mut self.kind else {
            panic!("mysql_grant_schema on a non-MySQL TestDb")
        };
        extra.push(schema.to_string());
        let mut c = MySqlConnection::connect(admin)
            .await
            .expect("connect to the MySQL admin URL");
        sqlx::raw_sql(AssertSqlSafe(format!(
            "GRANT ALL ON `{schema}`.* TO '{user}'@'%'"
        )))
        .execute(&mut c)
        .await
        .expect("grant");
        let _ = c.close().await;
    }

    /// Runs `sql` as the server's admin (MySQL/Postgres), e.g. to prepare state a test needs.
    pub async fn admin_execute(&self, sql: &str) {
        match &self.kind {
            Kind::Postgres { admin } => {
                let url = with_path(admin, &format!("/{}", self.name));
                let mut c = PgConnection::connect(&url).await.expect("connect as admin");
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .expect("admin statement");
                let _ = c.close().await;
            }
            Kind::Mysql { admin, .. } => {
                let mut c = MySqlConnection::connect(admin)
                    .await
                    .expect("connect as admin");
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .expect("admin statement");
                let _ = c.close().await;
            }
            Kind::Sqlite { .. } => panic!("admin_execute on SQLite: connect to the file instead"),
        }
    }
}

fn skip_or_fail(what: &str, url: &str, err: impl std::fmt::Display) -> Option<TestDb> {
    let msg = format!("{what} server unreachable at {}: {err}", redact(url));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (CI=true: database tests must not be skipped)");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// A test server URL, parsed (the `url` crate reads any `scheme://user@host:port/path?query`).
fn parse_url(url: &str) -> ::url::Url {
    ::url::Url::parse(url)
        .unwrap_or_else(|e| panic!("test server URL {} does not parse: {e}", redact(url)))
}

/// `url` with its path replaced by `path`, the query kept.
fn with_path(url: &str, path: &str) -> String {
    let mut u = parse_url(url);
    u.set_path(path);
    u.into()
}

/// A fresh Postgres database, or `None` (with a printed reason) when the server is unreachable.
pub async fn postgres() -> Option<TestDb> {
    let admin = std::env::var("STRATA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
    let mut c = match PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => return skip_or_fail("PostgreSQL", &admin, e),
    };
    let name = unique_name("strata_t");
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut c)
        .await
        .expect("CREATE DATABASE on the test server");
    let _ = c.close().await;
    Some(TestDb {
        url: with_path(&admin, &format!("/{name}")),
        name,
        kind: Kind::Postgres { admin },
    })
}

/// A fresh MySQL/MariaDB database with its own user (password in the URL) that may use only that database.
pub async fn mysql() -> Option<TestDb> {
    let admin =
        std::env::var("STRATA_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.to_string());
    let mut c = match MySqlConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => return skip_or_fail("MySQL/MariaDB", &admin, e),
    };
    let name = unique_name("strata_t");
    // MySQL user names are limited to 32 characters.
    let user = format!("st_{}", &name[name.len().saturating_sub(20)..]).replace(['-'], "_");
    let password = format!("pw_{}", unique_name("x"));
    for stmt in [
        format!("CREATE DATABASE `{name}`"),
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
        format!("GRANT ALL ON `{name}`.* TO '{user}'@'%'"),
    ] {
        sqlx::raw_sql(AssertSqlSafe(stmt))
            .execute(&mut c)
            .await
            .expect("preparing the MySQL test database");
    }
    let _ = c.close().await;
    let admin_url = parse_url(&admin);
    let host = admin_url.host_str().unwrap_or("127.0.0.1");
    let hostport = match admin_url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Some(TestDb {
        url: format!("mysql://{user}:{password}@{hostport}/{name}"),
        name,
        kind: Kind::Mysql {
            admin,
            user,
            extra: Vec::new(),
        },
    })
}

/// A fresh SQLite file in a temporary directory (removed on drop).
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let name = path.display().to_string();
    TestDb {
        url: format!("sqlite://{name}"),
        name,
        kind: Kind::Sqlite { _dir: dir },
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, stmts): (String, Vec<String>) = match &self.kind {
            Kind::Sqlite { .. } => return,
            Kind::Postgres { admin } => (
                admin.clone(),
                vec![format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                )],
            ),
            Kind::Mysql { admin, user, extra } => {
                let mut stmts = vec![format!("DROP DATABASE IF EXISTS `{}`", self.name)];
                stmts.extend(
                    extra
                        .iter()
                        .map(|s| format!("DROP DATABASE IF EXISTS `{s}`")),
                );
                stmts.push(format!("DROP USER IF EXISTS '{user}'@'%'"));
                (admin.clone(), stmts)
            }
        };
        let is_pg = matches!(self.kind, Kind::Postgres { .. });
        // Drop may run inside a Tokio runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if is_pg {
                    if let Ok(mut c) = PgConnection::connect(&admin).await {
                        for s in stmts {
                            let _ = sqlx::raw_sql(AssertSqlSafe(s)).execute(&mut c).await;
                        }
                        let _ = c.close().await;
                    }
                } else if let Ok(mut c) = MySqlConnection::connect(&admin).await {
                    for s in stmts {
                        let _ = sqlx::raw_sql(AssertSqlSafe(s)).execute(&mut c).await;
                    }
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}
