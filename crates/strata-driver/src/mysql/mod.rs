//! MySQL and MariaDB: one `MySqlConnection`, `GET_LOCK` named locks, DDL implicitly commits.
//!
//! The session keeps the server's time zone and SQL mode, as go-sql-driver (Atlas) does: `executed_at`
//! (`timestamp`) is written and read as UTC wall-clock text, so rows round-trip with Atlas's.

pub(crate) mod url;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlRow, MySqlSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, MySqlConnection, Row};
use strata_migrate::inflight::{Name, Object};
use strata_migrate::{Dialect, Revision};

use crate::error::{DriverError, scrub};
use crate::lock::human;
use crate::quote::backquote as quote;
use crate::revisions::{self, RawRow, RevisionsLocation, RevisionsSql, Upsert};
use crate::url::{DbUrl, MysqlUrl, Target};
use crate::{DEFAULT_CONNECT_TIMEOUT, Driver};

/// The revisions table as Atlas's ent schema creates it on MySQL.
pub(crate) const REVISIONS: RevisionsSql = RevisionsSql {
    quote,
    column_defs: [
        ("version", "varchar(255) NOT NULL"),
        ("description", "varchar(255) NOT NULL"),
        ("type", "bigint unsigned NOT NULL DEFAULT 2"),
        ("applied", "bigint NOT NULL DEFAULT 0"),
        ("total", "bigint NOT NULL DEFAULT 0"),
        ("executed_at", "timestamp NOT NULL"),
        ("execution_time", "bigint NOT NULL"),
        ("error", "longtext NULL"),
        ("error_stmt", "longtext NULL"),
        ("hash", "varchar(255) NOT NULL"),
        ("partial_hashes", "json NULL"),
        ("operator_version", "varchar(255) NOT NULL"),
    ],
    create_qualified: true,
    create_options: " CHARSET utf8mb4 COLLATE utf8mb4_bin",
    param: "?",
    upsert_params: "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
    upsert: Upsert::OnDuplicateKey,
};

/// A MySQL or MariaDB target.
pub struct MysqlDriver {
    conn: MySqlConnection,
    redacted: String,
    bound: Option<String>,
    version: String,
    mariadb: bool,
    /// `CONNECTION_ID()`, read with the version.
    connection_id: u64,
    locks: HashSet<String>,
    in_tx: bool,
    /// The last statement run in a transaction committed it implicitly (DDL): the next revision write commits
    /// at once, so the statement's progress is as durable as its effect.
    committed_implicitly: bool,
}

impl std::fmt::Debug for MysqlDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlDriver")
            .field("url", &self.redacted)
            .field("bound", &self.bound)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

fn options_for(m: &MysqlUrl) -> MySqlConnectOptions {
    let mut o = MySqlConnectOptions::new()
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None::<String>);
    if let Some(sock) = &m.socket {
        o = o.socket(sock);
    } else {
        o = o
            .host(m.host.as_deref().unwrap_or("127.0.0.1"))
            .port(m.port.unwrap_or(3306));
    }
    if let Some(u) = &m.user {
        o = o.username(u);
    }
    if let Some(pw) = &m.password {
        o = o.password(pw.expose());
    }
    if let Some(db) = &m.database {
        o = o.database(db);
    }
    if let Some(mode) = &m.ssl_mode {
        o = o.ssl_mode(match mode.as_str() {
            "disabled" => MySqlSslMode::Disabled,
            "required" => MySqlSslMode::Required,
            "verify_ca" => MySqlSslMode::VerifyCa,
            "verify_identity" => MySqlSslMode::VerifyIdentity,
            _ => MySqlSslMode::Preferred,
        });
    }
    if let Some(c) = &m.charset {
        o = o.charset(c);
    }
    if let Some(c) = &m.collation {
        o = o.collation(c);
    }
    o.disable_statement_logging()
}

fn connect_error(url: &DbUrl, m: &MysqlUrl, err: sqlx::Error, secret: Option<&str>) -> DriverError {
    let target = match &m.socket {
        Some(s) => format!("socket {s}"),
        None => format!(
            "{}:{}",
            m.host.as_deref().unwrap_or("127.0.0.1"),
            m.port.unwrap_or(3306)
        ),
    };
    let (message, hint) = match &err {
        sqlx::Error::Database(db) => {
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|e| e.number());
            let hint = match number {
                Some(1045) | Some(1698) => {
                    "check the user name and password in the URL".to_string()
                }
                Some(1044) => {
                    "the user may not use this database: grant it access or fix the URL path"
                        .to_string()
                }
                Some(1049) => {
                    "create the database first or fix the database name in the URL path".to_string()
                }
                Some(1040) => "the server has too many connections; retry later".to_string(),
                _ => "check the URL and the server log".to_string(),
            };
            (db.message().to_string(), hint)
        }
        sqlx::Error::Io(e) => (
            e.to_string(),
            format!(
                "check that MySQL/MariaDB is running and reachable at {target}, and that the URL's host and port are right"
            ),
        ),
        sqlx::Error::Tls(e) => (
            format!("TLS: {e}"),
            "check the tls parameter in the URL (tls=false for servers without TLS)".to_string(),
        ),
        other => (
            other.to_string(),
            format!("check the URL and that {target} is a MySQL or MariaDB server"),
        ),
    };
    DriverError::Connect {
        url: url.redacted.clone(),
        message: scrub(&message, secret),
        hint,
    }
}

fn int(r: &MySqlRow, idx: usize) -> Result<i128, sqlx::Error> {
    match r.try_get::<i64, _>(idx) {
        Ok(v) => Ok(i128::from(v)),
        Err(_) => r.try_get::<u64, _>(idx).map(i128::from),
    }
}

impl MysqlDriver {
    /// Connects with a parsed `mysql://` / `maria://` URL.
    pub async fn connect(url: DbUrl) -> Result<Self, DriverError> {
        let Target::Mysql(m) = &url.target else {
            return Err(DriverError::UnknownScheme {
                scheme: "not mysql".into(),
            });
        };
        let secret = url.password();
        let opts = options_for(m);
        let wait = m.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let mut conn = match tokio::time::timeout(wait, MySqlConnection::connect_with(&opts)).await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(connect_error(&url, m, e, secret)),
            Err(_) => {
                return Err(DriverError::Connect {
                    url: url.redacted.clone(),
                    message: format!("no answer within {}", human(wait)),
                    hint: "check that the host is reachable (firewall, VPN) or raise timeout in the URL".into(),
                });
            }
        };
        let (version, connection_id): (String, u64) =
            sqlx::query_as("SELECT VERSION(), CAST(CONNECTION_ID() AS UNSIGNED)")
                .fetch_one(&mut conn)
                .await
                .map_err(DriverError::sql)?;
        Ok(Self {
            conn,
            mariadb: version.to_ascii_lowercase().contains("mariadb"),
            connection_id,
            bound: m.database.clone(),
            redacted: url.redacted.clone(),
            version,
            locks: HashSet::new(),
            in_tx: false,
            committed_implicitly: false,
        })
    }

    /// Whether the server is MariaDB.
    pub fn is_mariadb(&self) -> bool {
        self.mariadb
    }

    async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    async fn schema_exists(&mut self, schema: &str) -> Result<bool, DriverError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?",
        )
        .bind(schema)
        .fetch_one(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        Ok(n > 0)
    }

    async fn tables_in(&mut self, schema: &str) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? \
             AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME",
        )
        .bind(schema)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)
    }

    /// Whether one object exists, from `information_schema` (which compares names by the server's rules:
    /// schema and table names as the file system does, the rest case-insensitively).
    async fn object_exists(&mut self, object: &Object) -> Result<Option<bool>, DriverError> {
        let bound = self.bound.clone();
        let schema = |n: &Name| n.schema.clone().or_else(|| bound.clone());
        let (sql, binds): (&str, Vec<Option<String>>) = match object {
            Object::Schema(s) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?",
                vec![Some(s.clone())],
            ),
            Object::Table(n) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
                vec![schema(n), Some(n.name.clone())],
            ),
            Object::View(n) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND TABLE_TYPE = 'VIEW'",
                vec![schema(n), Some(n.name.clone())],
            ),
            Object::Relation(n) => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                vec![schema(n), Some(n.name.clone())],
            ),
            Object::Column { table, column } => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND COLUMN_NAME = ?",
                vec![
                    schema(table),
                    Some(table.name.clone()),
                    Some(column.clone()),
                ],
            ),
            Object::Index { table, index } => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND INDEX_NAME = ?",
                vec![schema(table), Some(table.name.clone()), Some(index.clone())],
            ),
            Object::Constraint { table, constraint } => (
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? \
                 AND TABLE_NAME = ? AND CONSTRAINT_NAME = ?",
                vec![
                    schema(table),
                    Some(table.name.clone()),
                    Some(constraint.clone()),
                ],
            ),
        };
        // An unqualified name on a URL without a database: the statement could not have run, but say nothing.
        let Some(binds) = binds.into_iter().collect::<Option<Vec<String>>>() else {
            return Ok(None);
        };
        let mut q = sqlx::query_scalar::<_, i64>(sql);
        for b in binds {
            q = q.bind(b);
        }
        let n = q
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(Some(n > 0))
    }

    async fn lock_holder(&mut self, name: &str) -> Option<String> {
        let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
            .bind(name)
            .fetch_one(&mut self.conn)
            .await
            .ok()?;
        let id = id?;
        let row = sqlx::query(
            "SELECT CAST(USER AS CHAR), CAST(HOST AS CHAR), CAST(TIME AS SIGNED), CAST(COMMAND AS CHAR) \
             FROM INFORMATION_SCHEMA.PROCESSLIST WHERE ID = ?",
        )
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await
        .ok()
        .flatten();
        Some(match row {
            Some(r) => {
                let user: String = r.try_get(0).unwrap_or_default();
                let host: String = r.try_get(1).unwrap_or_default();
                let secs: i64 = r.try_get(2).unwrap_or_default();
                let cmd: String = r.try_get(3).unwrap_or_default();
                format!("held by connection {id} (user {user:?} from {host}, {cmd} for {secs}s)")
            }
            None => format!("held by connection {id}"),
        })
    }
}

#[async_trait]
impl Driver for MysqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn url_redacted(&self) -> &str {
        &self.redacted
    }

    fn bound_schema(&self) -> Option<&str> {
        self.bound.as_deref()
    }

    fn server_version(&self) -> &str {
        &self.version
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError> {
        if self.locks.contains(name) {
            return Ok(());
        }
        let start = Instant::now();
        let secs = i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX);
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(name)
            .bind(secs)
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        match got {
            Some(1) => {
                self.locks.insert(name.to_string());
                Ok(())
            }
            Some(_) => {
                let holder = self
                    .lock_holder(name)
                    .await
                    .unwrap_or_else(|| "held by another session".into());
                let waited = start.elapsed();
                Err(DriverError::LockTimeout {
                    name: name.to_string(),
                    waited,
                    detail: format!(
                        "named lock {name:?} is {holder}; gave up after {} (--lock-timeout {}). Wait for the other \
                         migration to finish, raise --lock-timeout, or stop the other session",
                        human(waited),
                        human(timeout)
                    ),
                })
            }
            None => Err(DriverError::Sql {
                message: format!(
                    "sql/mysql: unexpected internal error on Lock({name:?}, {})",
                    human(timeout)
                ),
                code: None,
            }),
        }
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        if !self.locks.remove(name) {
            return Err(DriverError::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            });
        }
        let released: Option<i64> = sqlx::query_scalar("SELECT RELEASE_LOCK(?)")
            .bind(name)
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        if released != Some(1) {
            return Err(DriverError::Unlock {
                message: format!(
                    "sql/mysql: failed releasing a named lock {name:?}: the session no longer holds it (was the \
                     connection reset by a proxy?)"
                ),
            });
        }
        Ok(())
    }

    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
        )
        .bind(schema)
        .bind(table)
        .fetch_one(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        Ok(n > 0)
    }

    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError> {
        if !self.schema_exists(&loc.schema).await? {
            self.raw(&format!("CREATE DATABASE {}", quote(&loc.schema)))
                .await?;
        }
        if !self.table_exists(&loc.schema, &loc.table).await? {
            return self.raw(&REVISIONS.create_table(loc)).await;
        }
        let existing: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        )
        .bind(&loc.schema)
        .bind(&loc.table)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        for ddl in REVISIONS.add_missing_columns(loc, &existing) {
            self.raw(&ddl).await?;
        }
        Ok(())
    }

    async fn read_revisions(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        let sql = REVISIONS.where_not_version_ordered(&select_sql(loc));
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(strata_migrate::revision::CLOUD_IDENTIFIER_VERSION)
            .fetch_all(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        rows.iter()
            .map(|r| decode_row(r)?.into_revision())
            .collect()
    }

    async fn read_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<Option<Revision>, DriverError> {
        if version == strata_migrate::revision::CLOUD_IDENTIFIER_VERSION {
            return Ok(None);
        }
        let sql = REVISIONS.where_version(&select_sql(loc));
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        row.map(|r| decode_row(&r)?.into_revision()).transpose()
    }

    async fn upsert_revision(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_write(&rev.version)?;
        let sql = REVISIONS.upsert_bound(loc);
        let at = revisions::utc(rev.executed_at_unix_nanos)?;
        let executed_at = time::PrimitiveDateTime::new(at.date(), at.time());
        sqlx::query(AssertSqlSafe(sql))
            .bind(&rev.version)
            .bind(&rev.description)
            .bind(rev.kind.0)
            .bind(revisions::to_i64("applied", rev.applied)?)
            .bind(revisions::to_i64("total", rev.total)?)
            .bind(executed_at)
            .bind(rev.execution_time_nanos)
            .bind(&rev.error)
            .bind(&rev.error_stmt)
            .bind(&rev.hash)
            .bind(revisions::encode_partial_hashes(&rev.partial_hashes))
            .bind(&rev.operator_version)
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        if std::mem::take(&mut self.committed_implicitly) && self.in_tx {
            // The statement before this write committed on its own (DDL), so nothing but this row is pending:
            // commit it now rather than with the statements that follow (autocommit stays off; the transaction
            // goes on with the next statement).
            self.raw("COMMIT").await?;
        }
        Ok(())
    }

    async fn delete_revision(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_delete(version)?;
        let sql = REVISIONS.delete(loc);
        sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    async fn check_clean(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        if let Some(bound) = self.bound.clone()
            && self.schema_exists(&bound).await?
        {
            let tables = self.tables_in(&bound).await?;
            let only_revisions = loc.schema == bound && tables.len() == 1 && tables[0] == loc.table;
            if tables.is_empty() || only_revisions {
                return Ok(None);
            }
            return Ok(Some(format!(
                "found table {:?} in schema {:?}",
                tables[0], bound
            )));
        }
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME NOT IN \
             ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY SCHEMA_NAME",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        match schemas.as_slice() {
            [] => Ok(None),
            [s] => {
                if *s != loc.schema {
                    return Ok(Some(format!("found schema {s:?}")));
                }
                let tables = self.tables_in(s).await?;
                match tables.as_slice() {
                    [] => Ok(None),
                    [t] if *t == loc.table => Ok(None),
                    [t] => Ok(Some(format!("found table {t:?}"))),
                    many => Ok(Some(format!("found multiple tables: {}", many.len()))),
                }
            }
            many => Ok(Some(format!("found multiple schemas: {}", many.len()))),
        }
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        if self.in_tx {
            return Err(DriverError::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        // Not `START TRANSACTION`: a DDL statement commits implicitly, and after that commit a transaction opened
        // with `START TRANSACTION` is over, so the statements that follow each autocommit — apart from the progress
        // row written after them, which a crash in between loses, and the next run executes them again. With
        // autocommit off, the next statement opens a new transaction, so every statement after a DDL commits
        // together with its progress row (at the next DDL or at `commit`), or not at all.
        self.raw("SET autocommit = 0").await?;
        self.in_tx = true;
        self.committed_implicitly = false;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "commit without an open transaction".into(),
            ));
        }
        self.in_tx = false;
        self.committed_implicitly = false;
        self.raw("COMMIT").await?;
        self.raw("SET autocommit = 1").await
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "rollback without an open transaction".into(),
            ));
        }
        self.in_tx = false;
        self.committed_implicitly = false;
        self.raw("ROLLBACK").await?;
        self.raw("SET autocommit = 1").await
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        if !self.in_tx {
            return self.raw(sql).await;
        }
        // A savepoint does not survive a commit: when it is gone afterwards, the statement committed implicitly.
        self.raw("SAVEPOINT strata_stmt").await?;
        self.raw(sql).await?;
        match sqlx::raw_sql("RELEASE SAVEPOINT strata_stmt")
            .execute(&mut self.conn)
            .await
        {
            Ok(_) => {}
            // ER_SP_DOES_NOT_EXIST: "SAVEPOINT strata_stmt does not exist".
            Err(sqlx::Error::Database(db))
                if db
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|e| e.number() == 1305) =>
            {
                self.committed_implicitly = true;
            }
            Err(e) => return Err(DriverError::sql(e)),
        }
        Ok(())
    }

    async fn set_ddl_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError> {
        if self.mariadb {
            match statement_timeout {
                Some(d) => {
                    self.raw(&format!(
                        "SET SESSION max_statement_time = {}",
                        d.as_secs_f64()
                    ))
                    .await?
                }
                None => self.raw("SET SESSION max_statement_time = DEFAULT").await?,
            }
        } else if statement_timeout.is_some() {
            return Err(DriverError::Unsupported {
                what: "a statement time limit for DDL".into(),
                dialect: "MySQL",
                hint: "MySQL's max_execution_time applies to SELECT only; drop the statement-timeout option \
                       (the DDL lock wait limit is supported)"
                    .into(),
            });
        }
        match ddl_lock_timeout {
            Some(d) => {
                let min = if self.mariadb { 0 } else { 1 };
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                self.raw(&format!(
                    "SET SESSION lock_wait_timeout = {}",
                    secs.max(min)
                ))
                .await
            }
            None => self.raw("SET SESSION lock_wait_timeout = DEFAULT").await,
        }
    }

    fn session_id(&self) -> Option<u64> {
        Some(self.connection_id)
    }

    async fn session_alive(&mut self, id: u64) -> Result<Option<bool>, DriverError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM INFORMATION_SCHEMA.PROCESSLIST WHERE ID = ?")
                .bind(id)
                .fetch_one(&mut self.conn)
                .await
                .map_err(DriverError::sql)?;
        Ok(Some(n > 0))
    }

    async fn objects_exist(
        &mut self,
        objects: &[Object],
    ) -> Result<Vec<Option<bool>>, DriverError> {
        let mut found = Vec::with_capacity(objects.len());
        for o in objects {
            found.push(self.object_exists(o).await?);
        }
        Ok(found)
    }

    async fn close(mut self: Box<Self>) -> Result<(), DriverError> {
        let names: Vec<String> = self.locks.iter().cloned().collect();
        for n in names {
            let _ = self.unlock(&n).await;
        }
        self.conn.close().await.map_err(DriverError::sql)
    }
}

fn select_sql(loc: &RevisionsLocation) -> String {
    format!(
        "SELECT `version`, `description`, `type`, `applied`, `total`, \
         DATE_FORMAT(`executed_at`, '%Y-%m-%d %H:%i:%s.%f'), `execution_time`, `error`, `error_stmt`, `hash`, \
         CAST(`partial_hashes` AS CHAR), `operator_version` FROM {}",
        REVISIONS.table(loc)
    )
}

fn decode_row(r: &MySqlRow) -> Result<RawRow, DriverError> {
    let version: String = r.try_get(0).map_err(DriverError::sql)?;
    let bad = |e: sqlx::Error| DriverError::BadRevision {
        version: version.clone(),
        reason: e.to_string(),
    };
    let at: String = r.try_get(5).map_err(bad)?;
    let executed_at_unix_nanos =
        revisions::parse_sqlite_datetime(&at).ok_or_else(|| DriverError::BadRevision {
            version: version.clone(),
            reason: format!("executed_at {at:?} is not a date-time"),
        })?;
    Ok(RawRow {
        description: r.try_get(1).map_err(bad)?,
        kind: int(r, 2).map_err(bad)?,
        applied: int(r, 3).map_err(bad)?,
        total: int(r, 4).map_err(bad)?,
        executed_at_unix_nanos,
        execution_time: int(r, 6).map_err(bad)?.try_into().unwrap_or(i64::MAX),
        error: r.try_get(7).map_err(bad)?,
        error_stmt: r.try_get(8).map_err(bad)?,
        hash: r.try_get(9).map_err(bad)?,
        partial_hashes: r.try_get(10).map_err(bad)?,
        operator_version: r.try_get(11).map_err(bad)?,
        version,
    })
}
