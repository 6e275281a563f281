//! The session: connecting (URL to options, connect errors), statement execution (noticing implicit commits),
//! transactions with autocommit off, and the DDL safety limits.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, MySqlConnection};

use super::MysqlDriver;
use crate::DEFAULT_CONNECT_TIMEOUT;
use crate::error::{DriverError, scrub};
use crate::lock::human;
use crate::url::{DbUrl, MysqlUrl, Target};

pub(super) fn options_for(m: &MysqlUrl) -> MySqlConnectOptions {
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

pub(super) fn connect_error(
    url: &DbUrl,
    m: &MysqlUrl,
    err: sqlx::Error,
    secret: Option<&str>,
) -> DriverError {
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
            url: url.clone(),
            version,
            locks: HashSet::new(),
            in_tx: false,
            committed_implicitly: false,
        })
    }

    pub(super) async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    /// [`Driver::begin`](crate::Driver::begin) on this dialect.
    pub(super) async fn begin_tx(&mut self) -> Result<(), DriverError> {
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

    /// [`Driver::commit`](crate::Driver::commit) on this dialect.
    pub(super) async fn commit_tx(&mut self) -> Result<(), DriverError> {
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

    /// [`Driver::rollback`](crate::Driver::rollback) on this dialect.
    pub(super) async fn rollback_tx(&mut self) -> Result<(), DriverError> {
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

    /// [`Driver::execute`](crate::Driver::execute) on this dialect.
    pub(super) async fn run(&mut self, sql: &str) -> Result<(), DriverError> {
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

    /// [`Driver::set_ddl_limits`](crate::Driver::set_ddl_limits) on this dialect.
    pub(super) async fn set_limits(
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
}
