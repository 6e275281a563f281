//! The session: connecting (URL to options, connect errors), raw statement execution, transactions and the DDL
//! safety limits.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use futures_util::StreamExt as _;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Row};

use super::{APPLICATION_NAME, PostgresDriver};
use crate::error::{DriverError, scrub};
use crate::lock::human;
use crate::url::{DbUrl, PgUrl, Target};
use crate::{DEFAULT_CONNECT_TIMEOUT, Driver};

/// Facts about the server session, read once.
#[derive(Debug, Clone, Copy)]
pub(super) struct SessionInfo {
    pub(super) backend_pid: i32,
    /// Server and client encodings are both UTF-8: a query text can then only fail before running by failing to
    /// parse (see [`Driver::upsert_execute`]).
    pub(super) utf8: bool,
    /// The server's start (`pg_postmaster_start_time()`, as text, hashed with 64-bit FNV-1a): tells this run of
    /// the server from any other, e.g. for a table fingerprint (transaction IDs are unique only within one).
    pub(super) server_started: u64,
}

/// Columns that read a [`SessionInfo`], appended to the first lock attempt's `SELECT`.
pub(super) const SESSION_INFO_COLUMNS: &str = "pg_backend_pid(), \
     current_setting('server_encoding') = 'UTF8' AND current_setting('client_encoding') = 'UTF8', \
     pg_postmaster_start_time()";

/// `server_version_num` as PostgreSQL prints its version: `15.4`, `9.6.24`.
pub(super) fn version_text(num: u32) -> String {
    let major = num / 10_000;
    if major >= 10 {
        format!("{major}.{}", num % 10_000)
    } else {
        format!("{major}.{}.{}", num / 100 % 100, num % 100)
    }
}

pub(super) fn parse_options_text(raw: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut tokens = raw.split_whitespace();
    while let Some(t) = tokens.next() {
        let kv = if t == "-c" {
            tokens.next()
        } else if let Some(rest) = t.strip_prefix("-c") {
            Some(rest)
        } else {
            t.strip_prefix("--")
        };
        if let Some((k, v)) = kv.and_then(|kv| kv.split_once('=')) {
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

pub(super) fn options_for(p: &PgUrl) -> Result<PgConnectOptions, String> {
    let mut o = PgConnectOptions::new_without_pgpass();
    if let Some(h) = &p.host {
        o = if h.starts_with('/') {
            o.socket(h)
        } else {
            o.host(h)
        };
    }
    if let Some(port) = p.port {
        o = o.port(port);
    }
    if let Some(u) = &p.user {
        o = o.username(u);
    }
    if let Some(pw) = &p.password {
        o = o.password(pw.expose());
    }
    if let Some(db) = &p.database {
        o = o.database(db);
    }
    if let Some(mode) = &p.sslmode {
        o = o.ssl_mode(PgSslMode::from_str(mode).map_err(|e| e.to_string())?);
    }
    if let Some(c) = &p.sslrootcert {
        o = o.ssl_root_cert(c);
    }
    if let Some(c) = &p.sslcert {
        o = o.ssl_client_cert(c);
    }
    if let Some(k) = &p.sslkey {
        o = o.ssl_client_key(k);
    }
    o = o.application_name(p.application_name.as_deref().unwrap_or(APPLICATION_NAME));
    let mut settings: Vec<(String, String)> = p
        .options
        .as_deref()
        .map(parse_options_text)
        .unwrap_or_default();
    settings.extend(p.settings.iter().cloned());
    if let Some(sp) = &p.search_path {
        settings.push(("search_path".into(), sp.clone()));
    }
    if !settings.is_empty() {
        o = o.options(settings);
    }
    Ok(o.disable_statement_logging())
}

pub(super) fn connect_error(
    url: &DbUrl,
    p: &PgUrl,
    err: sqlx::Error,
    secret: Option<&str>,
) -> DriverError {
    let target = format!(
        "{}:{}",
        p.host.as_deref().unwrap_or("localhost"),
        p.port
            .map(|p| p.to_string())
            .unwrap_or_else(|| "5432".into())
    );
    let (message, hint) = match &err {
        sqlx::Error::Database(db) => {
            let msg = db.message().to_string();
            let hint = match db.code().as_deref() {
                Some("28P01") | Some("28000") => {
                    "check the user name and password in the URL, and the server's pg_hba.conf".to_string()
                }
                Some("3D000") => "create the database first or fix the database name in the URL path".to_string(),
                Some("53300") => "the server has no free connection slots; retry later or raise max_connections".to_string(),
                _ => "check the URL and the server log".to_string(),
            };
            (msg, hint)
        }
        sqlx::Error::Io(e) => (
            e.to_string(),
            format!("check that PostgreSQL is running and reachable at {target}, and that the URL's host and port are right"),
        ),
        sqlx::Error::Tls(e) => (
            format!("TLS: {e}"),
            "check sslmode in the URL (sslmode=disable for servers without TLS; verify-ca/verify-full need sslrootcert)"
                .to_string(),
        ),
        other => (other.to_string(), format!("check the URL and that {target} is a PostgreSQL server")),
    };
    DriverError::Connect {
        url: url.redacted.clone(),
        message: scrub(&message, secret),
        hint,
    }
}

impl PostgresDriver {
    /// Connects with a parsed `postgres://` URL.
    pub async fn connect(url: DbUrl) -> Result<Self, DriverError> {
        let Target::Postgres(p) = &url.target else {
            return Err(DriverError::UnknownScheme {
                scheme: "not postgres".into(),
            });
        };
        let secret = url.password();
        let opts = options_for(p).map_err(|reason| DriverError::InvalidUrl {
            url: url.redacted.clone(),
            field: "sslmode".into(),
            reason,
        })?;
        let wait = p.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let conn = match tokio::time::timeout(wait, PgConnection::connect_with(&opts)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(connect_error(&url, p, e, secret)),
            Err(_) => {
                return Err(DriverError::Connect {
                    url: url.redacted.clone(),
                    message: format!("no answer within {}", human(wait)),
                    hint: "check that the host is reachable (firewall, VPN) or raise connect_timeout in the URL"
                        .into(),
                });
            }
        };
        // The version comes with the startup reply; the backend pid and encodings with the first lock attempt.
        let version = conn
            .server_version_num()
            .map_or_else(|| "unknown".to_string(), version_text);
        Ok(Self {
            conn,
            bound: p.search_path.clone(),
            url: url.clone(),
            version,
            session: None,
            locks: HashMap::new(),
            in_tx: false,
        })
    }

    /// Opens a second session with the same URL for read-only work beside this one (inspection runs independent
    /// catalog queries on it concurrently). `None` inside a transaction, whose uncommitted changes only this
    /// session sees, and when the URL is not a PostgreSQL one.
    pub(super) fn side_session(
        &self,
    ) -> Option<impl Future<Output = Result<PgConnection, DriverError>> + Send + 'static> {
        if self.in_tx {
            return None;
        }
        let Target::Postgres(p) = &self.url.target else {
            return None;
        };
        let opts = options_for(p).ok()?;
        let wait = p.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let (url, p) = (self.url.clone(), p.clone());
        Some(async move {
            match tokio::time::timeout(wait, PgConnection::connect_with(&opts)).await {
                Ok(Ok(c)) => Ok(c),
                Ok(Err(e)) => Err(connect_error(&url, &p, e, url.password())),
                Err(_) => Err(DriverError::Connect {
                    url: url.redacted.clone(),
                    message: format!("no answer within {}", human(wait)),
                    hint: "check that the host is reachable or raise connect_timeout in the URL"
                        .into(),
                }),
            }
        })
    }

    /// The session's backend process id.
    pub async fn backend_pid(&mut self) -> Result<i32, DriverError> {
        Ok(self.session_info().await?.backend_pid)
    }

    pub(super) async fn session_info(&mut self) -> Result<SessionInfo, DriverError> {
        if let Some(info) = self.session {
            return Ok(info);
        }
        let row = self
            .simple_row(format!("SELECT {SESSION_INFO_COLUMNS}"))
            .await?;
        self.remember_session(&row, 0)
    }

    /// Records the [`SESSION_INFO_COLUMNS`] found in `row` from column `at` on.
    pub(super) fn remember_session(
        &mut self,
        row: &sqlx::postgres::PgRow,
        at: usize,
    ) -> Result<SessionInfo, DriverError> {
        // The start time arrives as text (simple protocol) and is only compared, never read as a time.
        let started: &str = row.try_get_unchecked(at + 2).map_err(DriverError::sql)?;
        let info = SessionInfo {
            backend_pid: row.try_get(at).map_err(DriverError::sql)?,
            utf8: row.try_get(at + 1).map_err(DriverError::sql)?,
            server_started: started.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            }),
        };
        self.session = Some(info);
        Ok(info)
    }

    pub(super) async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    /// Runs `sql` (any number of statements) in one simple-protocol round trip: how many statements completed
    /// before the first error, and that error. The server parses the whole text before running any of it, so a
    /// syntax error anywhere fails it with nothing run.
    pub(super) async fn counted(&mut self, sql: String) -> (usize, Result<(), sqlx::Error>) {
        let mut done = 0;
        let mut results = sqlx::raw_sql(AssertSqlSafe(sql)).execute_many(&mut self.conn);
        while let Some(item) = results.next().await {
            match item {
                Ok(_) => done += 1,
                Err(e) => return (done, Err(e)),
            }
        }
        (done, Ok(()))
    }

    /// One single-row query over the simple protocol (one round trip, no prepare); values come back as text.
    pub(super) async fn simple_row(
        &mut self,
        sql: String,
    ) -> Result<sqlx::postgres::PgRow, DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::sql)
    }

    /// [`Driver::begin`] on this dialect.
    pub(super) async fn begin_tx(&mut self) -> Result<(), DriverError> {
        if self.in_tx {
            return Err(DriverError::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        self.raw("BEGIN").await?;
        self.in_tx = true;
        Ok(())
    }

    /// [`Driver::commit`] on this dialect.
    pub(super) async fn commit_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "commit without an open transaction".into(),
            ));
        }
        // COMMIT of a failed transaction silently rolls back on Postgres: surface the failure instead.
        if let Err(e) = self.raw("SELECT 1").await {
            let _ = self.raw("ROLLBACK").await;
            self.in_tx = false;
            return Err(e);
        }
        self.in_tx = false;
        self.raw("COMMIT").await
    }

    /// [`Driver::rollback`] on this dialect.
    pub(super) async fn rollback_tx(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "rollback without an open transaction".into(),
            ));
        }
        self.in_tx = false;
        self.raw("ROLLBACK").await
    }

    /// [`Driver::begin_execute`] on this dialect.
    pub(super) async fn begin_then_execute(
        &mut self,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        if self.in_tx {
            return Err(DriverError::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        let mut text = String::with_capacity(sql.len() + 7);
        text.push_str("BEGIN;\n");
        text.push_str(sql);
        match self.counted(text).await {
            (_, Ok(())) => {
                self.in_tx = true;
                Ok(Ok(()))
            }
            // BEGIN completed: the error is the statement's, inside the open transaction.
            (done, Err(e)) if done > 0 => {
                self.in_tx = true;
                Ok(Err(DriverError::sql(e)))
            }
            // Nothing ran (the text did not parse as a whole, or BEGIN failed): take the two steps apart so each
            // reports what it reports alone.
            (_, Err(_)) => {
                self.begin().await?;
                Ok(self.execute(sql).await)
            }
        }
    }

    /// [`Driver::set_ddl_limits`] on this dialect.
    pub(super) async fn set_limits(
        &mut self,
        statement_timeout: Option<Duration>,
        ddl_lock_timeout: Option<Duration>,
    ) -> Result<(), DriverError> {
        match statement_timeout {
            Some(d) => {
                self.raw(&format!("SET statement_timeout = {}", d.as_millis()))
                    .await?
            }
            None => self.raw("RESET statement_timeout").await?,
        }
        match ddl_lock_timeout {
            Some(d) => {
                self.raw(&format!("SET lock_timeout = {}", d.as_millis()))
                    .await
            }
            None => self.raw("RESET lock_timeout").await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_text() {
        assert_eq!(
            parse_options_text("-c geqo=off -cstatement_timeout=5min --work_mem=4MB"),
            vec![
                ("geqo".to_string(), "off".to_string()),
                ("statement_timeout".to_string(), "5min".to_string()),
                ("work_mem".to_string(), "4MB".to_string())
            ]
        );
    }

    #[test]
    fn version_text_prints_as_postgres_does() {
        assert_eq!(version_text(150_020), "15.20");
        assert_eq!(version_text(170_000), "17.0");
        assert_eq!(version_text(90_624), "9.6.24");
    }
}
