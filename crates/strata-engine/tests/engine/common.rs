//! Test support: one throw-away database per test (a thin layer over `strata_driver::testing`), directories
//! built in memory with a correct `atlas.sum`, and raw SQL access that bypasses the engine and the driver so
//! assertions look at what really is in the database.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, Row};
use strata_driver::testing::{self, TestDb};
use strata_engine::report::{AppliedFile, ApplyReport, FileRef};
use strata_engine::{
    ApplyOptions, Cancel, ConnectOptions, EngineError, MigrationDir, Observer, Quiet, SetOptions,
    SetReport, StatusOptions, StatusReport,
};
use strata_migrate::MigrationFile;
use strata_migrate::sum::SumFile;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Mysql,
    Sqlite,
}

/// A throw-away database plus a private directory for SQLite lock files.
pub struct Db {
    pub kind: Kind,
    pub test: TestDb,
    pub lock_dir: tempfile::TempDir,
}

/// Generates one `#[tokio::test]` per scenario for a dialect: `scenario_tests!(Db::postgres().await; a, b);`
/// runs `crate::scenarios::a(&db)` etc. A dialect whose server is unreachable skips (panics under `CI=true`).
#[macro_export]
macro_rules! scenario_tests {
    ($make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(db) = $make else { return };
                $crate::scenarios::$name(&db).await;
            }
        )*
    };
}

impl Db {
    pub async fn postgres() -> Option<Db> {
        Some(Self::wrap(Kind::Postgres, testing::postgres().await?))
    }

    pub async fn mysql() -> Option<Db> {
        Some(Self::wrap(Kind::Mysql, testing::mysql().await?))
    }

    pub fn sqlite() -> Option<Db> {
        Some(Self::wrap(Kind::Sqlite, testing::sqlite()))
    }

    fn wrap(kind: Kind, test: TestDb) -> Db {
        Db {
            kind,
            test,
            lock_dir: tempfile::tempdir().expect("lock dir"),
        }
    }

    pub fn url(&self) -> &str {
        &self.test.url
    }

    /// [`Db::url`] parsed.
    pub fn db_url(&self) -> strata_driver::DbUrl {
        self.test.url.parse().expect("test URL parses")
    }

    /// Schema the migration files' tables land in.
    pub fn data_schema(&self) -> &str {
        match self.kind {
            Kind::Postgres => "public",
            Kind::Mysql => &self.test.name,
            Kind::Sqlite => "main",
        }
    }

    /// Where the revisions table goes for [`Db::url`] without a flag.
    pub fn revisions_schema(&self) -> &str {
        match self.kind {
            Kind::Postgres => "atlas_schema_revisions",
            Kind::Mysql => &self.test.name,
            Kind::Sqlite => "main",
        }
    }

    pub fn connect(&self) -> ConnectOptions {
        ConnectOptions::default().sqlite_lock_dir(self.lock_dir.path())
    }

    pub fn apply_opts(&self) -> ApplyOptions {
        ApplyOptions {
            connect: self.connect(),
            lock_timeout: Duration::from_secs(30),
            ..ApplyOptions::default()
        }
    }

    pub fn status_opts(&self) -> StatusOptions {
        StatusOptions {
            connect: self.connect(),
            ..StatusOptions::default()
        }
    }

    pub fn set_opts(&self) -> SetOptions {
        SetOptions {
            connect: self.connect(),
            ..SetOptions::default()
        }
    }

    pub async fn apply(&self, dir: &MigrationDir) -> Result<ApplyReport, EngineError> {
        self.apply_with(dir, &self.apply_opts()).await
    }

    pub async fn apply_with(
        &self,
        dir: &MigrationDir,
        opts: &ApplyOptions,
    ) -> Result<ApplyReport, EngineError> {
        strata_engine::apply(dir, &self.db_url(), opts, &mut Quiet, &Cancel::new()).await
    }

    pub async fn status(&self, dir: &MigrationDir) -> Result<StatusReport, EngineError> {
        strata_engine::status(dir, &self.db_url(), &self.status_opts()).await
    }

    /// A plain connection to the SQLite file, creating it when missing (as the engine would).
    async fn sqlite_conn(&self) -> sqlx::SqliteConnection {
        use sqlx::ConnectOptions as _;
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.test.name)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap()
    }

    /// `migrate set`. It takes the migration lock without waiting, as Atlas does; MySQL's named locks are
    /// server-wide, so while a parallel test holds it this retries instead of failing.
    pub async fn set(
        &self,
        dir: &MigrationDir,
        version: Option<&str>,
    ) -> Result<SetReport, EngineError> {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let r = strata_engine::set(dir, &self.db_url(), version, &self.set_opts()).await;
            match &r {
                Err(EngineError::Lock(e))
                    if e.is_lock_timeout() && std::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => return r,
            }
        }
    }

    /// Runs SQL as the test database's own user (bypassing the engine), e.g. to make the database dirty.
    pub async fn exec(&self, sql: &str) {
        match self.kind {
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(self.url()).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.unwrap();
            }
            Kind::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(self.url()).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.unwrap();
            }
            Kind::Sqlite => {
                let mut c = self.sqlite_conn().await;
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.unwrap();
            }
        }
    }

    /// Rows of a query whose every column is text (or NULL).
    pub async fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        fn collect<R: Row>(rows: Vec<R>) -> Vec<Vec<Option<String>>>
        where
            for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            r.try_get::<Option<String>, _>(i)
                                .unwrap_or_else(|e| panic!("column {i}: {e}"))
                        })
                        .collect()
                })
                .collect()
        }
        match self.kind {
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(self.url()).await.unwrap();
                let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.unwrap();
                collect(rows)
            }
            Kind::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(self.url()).await.unwrap();
                let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.unwrap();
                collect(rows)
            }
            Kind::Sqlite => {
                let mut c = self.sqlite_conn().await;
                let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.unwrap();
                collect(rows)
            }
        }
    }

    /// One text value.
    pub async fn scalar(&self, sql: &str) -> Option<String> {
        let rows = self.query(sql).await;
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone()
    }

    /// Rows in a table of the data schema.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = match self.kind {
            Kind::Postgres => format!("SELECT count(*)::text FROM {table}"),
            Kind::Mysql => format!("SELECT CAST(COUNT(*) AS CHAR) FROM {table}"),
            Kind::Sqlite => format!("SELECT CAST(count(*) AS TEXT) FROM {table}"),
        };
        self.scalar(&sql).await.unwrap().parse().unwrap()
    }

    fn quote(&self, ident: &str) -> String {
        match self.kind {
            Kind::Postgres => format!("\"{ident}\""),
            Kind::Mysql | Kind::Sqlite => format!("`{ident}`"),
        }
    }

    /// Whether a table exists in `schema` (any kind of base table).
    pub async fn table_in(&self, schema: &str, table: &str) -> bool {
        let sql = match self.kind {
            Kind::Postgres => format!(
                "SELECT count(*)::text FROM pg_catalog.pg_tables WHERE schemaname = '{schema}' AND tablename = '{table}'"
            ),
            Kind::Mysql => format!(
                "SELECT CAST(COUNT(*) AS CHAR) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = '{schema}' \
                 AND TABLE_NAME = '{table}'"
            ),
            Kind::Sqlite => {
                assert_eq!(schema, "main");
                format!(
                    "SELECT CAST(count(*) AS TEXT) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
                )
            }
        };
        self.scalar(&sql).await.as_deref() == Some("1")
    }

    /// Whether a migration-created table exists.
    pub async fn has_table(&self, table: &str) -> bool {
        self.table_in(self.data_schema(), table).await
    }

    /// Whether a schema exists (PostgreSQL schema, MySQL database).
    pub async fn schema_exists(&self, schema: &str) -> bool {
        let sql = match self.kind {
            Kind::Postgres => format!(
                "SELECT count(*)::text FROM pg_catalog.pg_namespace WHERE nspname = '{schema}'"
            ),
            Kind::Mysql => format!(
                "SELECT CAST(COUNT(*) AS CHAR) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = '{schema}'"
            ),
            Kind::Sqlite => return schema == "main",
        };
        self.scalar(&sql).await.as_deref() == Some("1")
    }

    /// The revisions table at its default place, qualified for raw SQL.
    pub fn rev_table(&self) -> String {
        self.rev_table_in(self.revisions_schema())
    }

    pub fn rev_table_in(&self, schema: &str) -> String {
        format!(
            "{}.{}",
            self.quote(schema),
            self.quote("atlas_schema_revisions")
        )
    }

    /// Whether the revisions table exists at its default place.
    pub async fn has_revisions_table(&self) -> bool {
        self.table_in(self.revisions_schema(), "atlas_schema_revisions")
            .await
    }

    /// The revisions rows as stored, read with plain SQL.
    pub async fn rows(&self) -> Vec<RawRev> {
        self.rows_in(self.revisions_schema()).await
    }

    pub async fn rows_in(&self, schema: &str) -> Vec<RawRev> {
        let t = self.rev_table_in(schema);
        let sql = match self.kind {
            Kind::Postgres => format!(
                "SELECT version, description, type::text, applied::text, total::text, \
                 floor(extract(epoch FROM executed_at))::bigint::text, execution_time::text, error, error_stmt, hash, \
                 partial_hashes::text, operator_version FROM {t} ORDER BY version"
            ),
            Kind::Mysql => format!(
                "SELECT version, description, CAST(type AS CHAR), CAST(applied AS CHAR), CAST(total AS CHAR), \
                 CAST(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', executed_at) AS CHAR), \
                 CAST(execution_time AS CHAR), error, error_stmt, hash, CAST(partial_hashes AS CHAR), \
                 operator_version FROM {t} ORDER BY version"
            ),
            Kind::Sqlite => format!(
                "SELECT version, description, CAST(type AS TEXT), CAST(applied AS TEXT), CAST(total AS TEXT), \
                 strftime('%s', executed_at), CAST(execution_time AS TEXT), error, error_stmt, hash, \
                 CAST(partial_hashes AS TEXT), operator_version FROM {t} ORDER BY version"
            ),
        };
        self.query(&sql)
            .await
            .into_iter()
            .map(|r| {
                let s = |i: usize| {
                    r[i].clone()
                        .unwrap_or_else(|| panic!("column {i} is NULL: {r:?}"))
                };
                let n = |i: usize| {
                    s(i).parse::<i64>()
                        .unwrap_or_else(|e| panic!("column {i}: {e}: {r:?}"))
                };
                RawRev {
                    version: s(0),
                    description: s(1),
                    kind: n(2),
                    applied: n(3),
                    total: n(4),
                    executed_at: n(5),
                    execution_time: n(6),
                    error: r[7].clone(),
                    error_stmt: r[8].clone(),
                    hash: s(9),
                    partial_hashes: r[10].clone(),
                    operator_version: s(11),
                }
            })
            .collect()
    }

    /// Creates the revisions table with the DDL Atlas runs (not the driver's), at the default place.
    pub async fn create_atlas_revisions_table(&self) {
        let ddl = match self.kind {
            Kind::Postgres => "CREATE SCHEMA IF NOT EXISTS \"atlas_schema_revisions\"; \
                CREATE TABLE \"atlas_schema_revisions\".\"atlas_schema_revisions\" (\"version\" character varying NOT NULL, \
                \"description\" character varying NOT NULL, \"type\" bigint NOT NULL DEFAULT 2, \"applied\" bigint NOT NULL DEFAULT 0, \
                \"total\" bigint NOT NULL DEFAULT 0, \"executed_at\" timestamptz NOT NULL, \"execution_time\" bigint NOT NULL, \
                \"error\" text NULL, \"error_stmt\" text NULL, \"hash\" character varying NOT NULL, \"partial_hashes\" jsonb NULL, \
                \"operator_version\" character varying NOT NULL, PRIMARY KEY (\"version\"))"
                .to_string(),
            Kind::Mysql => "CREATE TABLE `atlas_schema_revisions` (`version` varchar(255) NOT NULL, `description` varchar(255) NOT NULL, \
                `type` bigint unsigned NOT NULL DEFAULT 2, `applied` bigint NOT NULL DEFAULT 0, `total` bigint NOT NULL DEFAULT 0, \
                `executed_at` timestamp NOT NULL, `execution_time` bigint NOT NULL, `error` longtext NULL, `error_stmt` longtext NULL, \
                `hash` varchar(255) NOT NULL, `partial_hashes` json NULL, `operator_version` varchar(255) NOT NULL, \
                PRIMARY KEY (`version`)) CHARSET utf8mb4 COLLATE utf8mb4_bin"
                .to_string(),
            Kind::Sqlite => "CREATE TABLE `atlas_schema_revisions` (`version` text NOT NULL, `description` text NOT NULL, \
                `type` integer NOT NULL DEFAULT (2), `applied` integer NOT NULL DEFAULT (0), `total` integer NOT NULL DEFAULT (0), \
                `executed_at` datetime NOT NULL, `execution_time` integer NOT NULL, `error` text NULL, `error_stmt` text NULL, \
                `hash` text NOT NULL, `partial_hashes` json NULL, `operator_version` text NOT NULL, PRIMARY KEY (`version`))"
                .to_string(),
        };
        self.exec(&ddl).await;
    }

    /// Inserts a row as Atlas writes it: `executed_at` in the dialect's Atlas encoding, `partial_hashes` as the
    /// given JSON text (or SQL NULL).
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_atlas_row(
        &self,
        version: &str,
        description: &str,
        kind: u64,
        applied: u64,
        total: u64,
        error: &str,
        error_stmt: &str,
        hash: &str,
        partial_hashes: Option<&str>,
    ) {
        let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let ph = partial_hashes.map_or_else(|| "NULL".to_string(), lit);
        // Atlas (Go) writes the start of the attempt; these are the encodings its drivers produce.
        let at = match self.kind {
            Kind::Postgres => "'2024-01-16 10:20:30.123456+00'",
            Kind::Mysql => "'2024-01-16 10:20:30'",
            Kind::Sqlite => "'2024-01-16 10:20:30.123456789+00:00'",
        };
        let ph = match (self.kind, partial_hashes) {
            (Kind::Sqlite, Some(p)) => format!("CAST({} AS BLOB)", lit(p)),
            _ => ph,
        };
        let sql = format!(
            "INSERT INTO {} (version, description, type, applied, total, executed_at, execution_time, error, \
             error_stmt, hash, partial_hashes, operator_version) VALUES ({}, {}, {kind}, {applied}, {total}, {at}, \
             1234567, {}, {}, {}, {ph}, 'Atlas CLI v0.31.0')",
            self.rev_table(),
            lit(version),
            lit(description),
            lit(error),
            lit(error_stmt),
            lit(hash),
        );
        self.exec(&sql).await;
    }
}

/// A revisions row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRev {
    pub version: String,
    pub description: String,
    pub kind: i64,
    pub applied: i64,
    pub total: i64,
    /// Unix seconds.
    pub executed_at: i64,
    pub execution_time: i64,
    pub error: Option<String>,
    pub error_stmt: Option<String>,
    pub hash: String,
    pub partial_hashes: Option<String>,
    pub operator_version: String,
}

/// A directory in memory with a correct `atlas.sum`.
pub fn dir(files: &[(&str, &str)]) -> MigrationDir {
    let files: Vec<MigrationFile> = files
        .iter()
        .map(|(n, c)| MigrationFile::new(*n, c.as_bytes().to_vec()))
        .collect();
    let unsummed = MigrationDir::from_parts("file://migrations", files.clone(), None).unwrap();
    let sum = SumFile::compute(unsummed.files()).to_bytes();
    MigrationDir::from_parts("file://migrations", files, Some(sum)).unwrap()
}

/// The `atlas.sum` hash of one file (base64, without `h1:`).
pub fn sum_of(dir: &MigrationDir, name: &str) -> String {
    SumFile::compute(dir.files())
        .hash_of(name)
        .unwrap_or_else(|| panic!("{name} not in the sum"))
        .to_string()
}

/// Records what the engine reports while it runs.
#[derive(Debug, Default)]
pub struct Recorder {
    pub planned: Option<(usize, usize)>,
    pub files: Vec<String>,
    pub statements: Vec<String>,
    pub finished: Vec<String>,
}

impl Observer for Recorder {
    fn planned(&mut self, files: usize, statements: usize) {
        self.planned = Some((files, statements));
    }
    fn file_started(&mut self, file: &FileRef) {
        self.files.push(file.name.clone());
    }
    fn statement(&mut self, text: &str) {
        self.statements.push(text.to_string());
    }
    fn file_finished(&mut self, file: &AppliedFile) {
        self.finished.push(file.file.name.clone());
    }
}

/// Versions of the files an apply report says ran.
pub fn ran(report: &ApplyReport) -> Vec<&str> {
    report
        .applied
        .iter()
        .map(|f| f.file.version.as_str())
        .collect()
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}
