//! PostgreSQL: one `PgConnection`, session advisory locks, transactional DDL.

mod rows;
pub(crate) mod url;

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::StreamExt as _;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Row};
use strata_migrate::{Dialect, Revision};
use time::OffsetDateTime;

use crate::error::{DriverError, scrub};
use crate::lock::{Backoff, fnv1_32, human};
use crate::quote::{double_quote as quote, pg_literal as literal};
use crate::revisions::{self, RevisionsLocation, RevisionsSql, Upsert};
use crate::url::{DbUrl, PgUrl, Target};
use crate::{DEFAULT_CONNECT_TIMEOUT, Driver, Durability};

/// `application_name` when the URL sets none.
pub const APPLICATION_NAME: &str = "strata";

/// The revisions table as Atlas's ent schema creates it on Postgres.
pub(crate) const REVISIONS: RevisionsSql = RevisionsSql {
    quote,
    column_defs: [
        ("version", "character varying NOT NULL"),
        ("description", "character varying NOT NULL"),
        ("type", "bigint NOT NULL DEFAULT 2"),
        ("applied", "bigint NOT NULL DEFAULT 0"),
        ("total", "bigint NOT NULL DEFAULT 0"),
        ("executed_at", "timestamptz NOT NULL"),
        ("execution_time", "bigint NOT NULL"),
        ("error", "text NULL"),
        ("error_stmt", "text NULL"),
        ("hash", "character varying NOT NULL"),
        ("partial_hashes", "jsonb NULL"),
        ("operator_version", "character varying NOT NULL"),
    ],
    create_qualified: true,
    create_options: "",
    param: "$1",
    upsert_params: "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12",
    upsert: Upsert::OnConflict {
        excluded: "EXCLUDED",
    },
};

/// A PostgreSQL target.
pub struct PostgresDriver {
    conn: PgConnection,
    redacted: String,
    bound: Option<String>,
    version: String,
    /// Learnt with the first lock attempt (or on demand), so connecting costs no query.
    session: Option<SessionInfo>,
    locks: HashMap<String, i64>,
    in_tx: bool,
}

/// Facts about the server session, read once.
#[derive(Debug, Clone, Copy)]
struct SessionInfo {
    backend_pid: i32,
    /// Server and client encodings are both UTF-8: a query text can then only fail before running by failing to
    /// parse (see [`Driver::upsert_execute`]).
    utf8: bool,
}

/// Columns that read a [`SessionInfo`], appended to the first lock attempt's `SELECT`.
const SESSION_INFO_COLUMNS: &str = "pg_backend_pid(), \
     current_setting('server_encoding') = 'UTF8' AND current_setting('client_encoding') = 'UTF8'";

/// 2000-01-01 00:00 UTC, PostgreSQL's timestamp epoch, in Unix nanoseconds.
const PG_EPOCH_NANOS: i128 = 946_684_800_000_000_000;

/// Makes the current transaction's commit return before its log record is flushed (see [`Durability`]).
const DEFER_COMMIT: &str = "SET LOCAL synchronous_commit TO off";

/// `server_version_num` as PostgreSQL prints its version: `15.4`, `9.6.24`.
fn version_text(num: u32) -> String {
    let major = num / 10_000;
    if major >= 10 {
        format!("{major}.{}", num % 10_000)
    } else {
        format!("{major}.{}.{}", num / 100 % 100, num % 100)
    }
}

impl std::fmt::Debug for PostgresDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDriver")
            .field("url", &self.redacted)
            .field("bound", &self.bound)
            .field("version", &self.version)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// `executed_at` as a `timestamptz` literal holding exactly what binding the value stores: whole microseconds
/// since 2000-01-01 UTC, truncated toward zero as sqlx encodes it. `None` where a literal cannot say it (years
/// outside 1–9999, or beyond the binary encoding), so the caller binds the value instead.
fn timestamptz_literal(nanos: i128) -> Option<String> {
    let micros = (nanos - PG_EPOCH_NANOS) / 1000;
    i64::try_from(micros).ok()?;
    let t = OffsetDateTime::from_unix_timestamp_nanos(PG_EPOCH_NANOS + micros * 1000).ok()?;
    if !(1..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "'{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00'::timestamptz",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    ))
}

/// The upsert of `rev` with its values written as literals, for the simple-query protocol; the row it writes is
/// identical to the bound upsert's. Validation errors are the bound upsert's, in its order. `Ok(None)` when a
/// value has no exact literal form (see [`timestamptz_literal`]).
fn upsert_literal_sql(
    loc: &RevisionsLocation,
    rev: &Revision,
) -> Result<Option<String>, DriverError> {
    revisions::refuse_cloud_write(&rev.version)?;
    revisions::utc(rev.executed_at_unix_nanos)?;
    let kind = revisions::to_i64("type", rev.kind.0)?;
    let applied = revisions::to_i64("applied", rev.applied)?;
    let total = revisions::to_i64("total", rev.total)?;
    let Some(executed_at) = timestamptz_literal(rev.executed_at_unix_nanos) else {
        return Ok(None);
    };
    // A NUL fails while the text is scanned (before anything runs), not when the row is written as with a bound
    // value: leave such rows to the bound upsert.
    let texts = [
        &rev.version,
        &rev.description,
        &rev.error,
        &rev.error_stmt,
        &rev.hash,
        &rev.operator_version,
    ];
    let nul_in_hashes = rev
        .partial_hashes
        .iter()
        .flatten()
        .any(|h| h.contains('\0'));
    if nul_in_hashes || texts.iter().any(|t| t.contains('\0')) {
        return Ok(None);
    }
    let values = format!(
        "{}, {}, {kind}, {applied}, {total}, {executed_at}, {}, {}, {}, {}, {}::jsonb, {}",
        literal(&rev.version),
        literal(&rev.description),
        rev.execution_time_nanos,
        literal(&rev.error),
        literal(&rev.error_stmt),
        literal(&rev.hash),
        literal(&revisions::encode_partial_hashes(&rev.partial_hashes)),
        literal(&rev.operator_version),
    );
    Ok(Some(REVISIONS.upsert(loc, &values)))
}

/// Columns of `schema.table` exactly as `information_schema.columns` lists them (same filters and privilege
/// rule), without planning that view: in a fresh session it costs milliseconds.
const COLUMNS_SQL: &str = "SELECT COALESCE(json_agg(a.attname::text ORDER BY a.attnum), '[]'::json)::text \
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
     JOIN pg_catalog.pg_namespace nc ON nc.oid = c.relnamespace \
     WHERE NOT pg_catalog.pg_is_other_temp_schema(nc.oid) AND a.attnum > 0 AND NOT a.attisdropped \
     AND c.relkind IN ('r', 'v', 'f', 'p') \
     AND (pg_catalog.pg_has_role(c.relowner, 'USAGE') \
     OR pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))";

/// Whether a base table `schema.table` exists, with `{schema}` and `{table}` to fill in as literals.
fn table_exists_sql(schema: &str, table: &str) -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = {} AND c.relname = {} AND c.relkind IN ('r', 'p'))",
        literal(schema),
        literal(table)
    )
}

fn parse_options_text(raw: &str) -> Vec<(String, String)> {
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

fn options_for(p: &PgUrl) -> Result<PgConnectOptions, String> {
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

fn connect_error(url: &DbUrl, p: &PgUrl, err: sqlx::Error, secret: Option<&str>) -> DriverError {
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
            redacted: url.redacted.clone(),
            version,
            session: None,
            locks: HashMap::new(),
            in_tx: false,
        })
    }

    /// The session's backend process id.
    pub async fn backend_pid(&mut self) -> Result<i32, DriverError> {
        Ok(self.session_info().await?.backend_pid)
    }

    async fn session_info(&mut self) -> Result<SessionInfo, DriverError> {
        if let Some(info) = self.session {
            return Ok(info);
        }
        let row = self
            .simple_row(format!("SELECT {SESSION_INFO_COLUMNS}"))
            .await?;
        self.remember_session(&row, 0)
    }

    /// Records the [`SESSION_INFO_COLUMNS`] found in `row` from column `at` on.
    fn remember_session(
        &mut self,
        row: &sqlx::postgres::PgRow,
        at: usize,
    ) -> Result<SessionInfo, DriverError> {
        let info = SessionInfo {
            backend_pid: row.try_get(at).map_err(DriverError::sql)?,
            utf8: row.try_get(at + 1).map_err(DriverError::sql)?,
        };
        self.session = Some(info);
        Ok(info)
    }

    async fn raw(&mut self, sql: &str) -> Result<(), DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }

    /// Runs `sql` (any number of statements) in one simple-protocol round trip: how many statements completed
    /// before the first error, and that error. The server parses the whole text before running any of it, so a
    /// syntax error anywhere fails it with nothing run.
    async fn counted(&mut self, sql: String) -> (usize, Result<(), sqlx::Error>) {
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
    async fn simple_row(&mut self, sql: String) -> Result<sqlx::postgres::PgRow, DriverError> {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::sql)
    }

    async fn schema_exists(&mut self, schema: &str) -> Result<bool, DriverError> {
        let row = self
            .simple_row(format!(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = {})",
                literal(schema)
            ))
            .await?;
        row.try_get(0).map_err(DriverError::sql)
    }

    /// Base tables of a schema as Atlas inspects them (partitions excluded), ordered by name.
    async fn tables_in(&mut self, schema: &str) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT t1.table_name::text FROM information_schema.tables AS t1 \
             JOIN pg_catalog.pg_namespace AS t2 ON t2.nspname = t1.table_schema \
             JOIN pg_catalog.pg_class AS t3 ON t3.relnamespace = t2.oid AND t3.relname = t1.table_name \
             WHERE t1.table_type = 'BASE TABLE' AND NOT COALESCE(t3.relispartition, false) AND t1.table_schema = $1 \
             ORDER BY t1.table_name",
        )
        .bind(schema)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)
    }

    /// Who holds advisory lock `id` in this database, for the timeout message.
    async fn lock_holder(&mut self, id: i64) -> Option<String> {
        let row = sqlx::query(
            "SELECT a.pid, COALESCE(a.application_name, ''), COALESCE(a.usename::text, ''), \
             COALESCE(a.client_addr::text, 'local socket'), \
             COALESCE(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '?'), \
             COALESCE(a.state, '?') \
             FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.classid::text::bigint = ($1 >> 32) AND l.objid::text::bigint = ($1 & 4294967295) \
             AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) \
             LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await
        .ok()??;
        let pid: i32 = row.try_get(0).ok()?;
        let app: String = row.try_get(1).ok()?;
        let user: String = row.try_get(2).ok()?;
        let client: String = row.try_get(3).ok()?;
        let since: String = row.try_get(4).ok()?;
        let state: String = row.try_get(5).ok()?;
        Some(format!(
            "held by pid {pid} (application_name {app:?}, user {user:?}, client {client}, connected since {since}, \
             state {state})"
        ))
    }
}

#[async_trait]
impl Driver for PostgresDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
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
        true
    }

    fn defers_commits(&self) -> bool {
        true
    }

    async fn lock(&mut self, name: &str, timeout: Duration) -> Result<(), DriverError> {
        if self.locks.contains_key(name) {
            return Ok(());
        }
        let id = i64::from(fnv1_32(name));
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(100 * 365 * 86_400));
        let mut backoff = Backoff::new();
        loop {
            // The first attempt also reads the session's facts: one round trip instead of two.
            let learn = self.session.is_none();
            let row = self
                .simple_row(if learn {
                    format!("SELECT pg_try_advisory_lock({id}::bigint), {SESSION_INFO_COLUMNS}")
                } else {
                    format!("SELECT pg_try_advisory_lock({id}::bigint)")
                })
                .await?;
            if learn {
                self.remember_session(&row, 1)?;
            }
            let got: bool = row.try_get(0).map_err(DriverError::sql)?;
            if got {
                self.locks.insert(name.to_string(), id);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let holder = self
                    .lock_holder(id)
                    .await
                    .unwrap_or_else(|| "held by another session".into());
                let waited = start.elapsed();
                return Err(DriverError::LockTimeout {
                    name: name.to_string(),
                    waited,
                    detail: format!(
                        "advisory lock {id} ({name:?}) is {holder}; gave up after {} (--lock-timeout {}). Wait for \
                         the other migration to finish, raise --lock-timeout, or stop the other session",
                        human(waited),
                        human(timeout)
                    ),
                });
            }
            tokio::time::sleep(backoff.next_delay(deadline)).await;
        }
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        let Some(id) = self.locks.remove(name) else {
            return Err(DriverError::Unlock {
                message: format!("lock {name:?} is not held by this session"),
            });
        };
        let pooler_hint = "the session no longer holds it. A session-level advisory lock cannot work through \
                           PgBouncer or another transaction-pooling proxy: connect to the server directly or use \
                           session pooling";
        // The backend that took the lock (known since the lock's first attempt).
        let locker = self.session_info().await?.backend_pid;
        // One round trip; the lock is released only in our own session (a pooler may have swapped it, and
        // unlocking another client's session could free a lock it holds).
        let row = self
            .simple_row(format!(
                "SELECT pg_backend_pid(), CASE WHEN pg_backend_pid() = {locker} THEN pg_advisory_unlock({id}::bigint) END"
            ))
            .await?;
        let pid: i32 = row.try_get(0).map_err(DriverError::sql)?;
        let released: Option<bool> = row.try_get(1).map_err(DriverError::sql)?;
        if pid != locker {
            return Err(DriverError::Unlock {
                message: format!(
                    "sql/postgres: failed releasing lock {id}: backend pid changed from {locker} to {pid}, so {pooler_hint}"
                ),
            });
        }
        if released != Some(true) {
            return Err(DriverError::Unlock {
                message: format!("sql/postgres: failed releasing lock {id}: {pooler_hint}"),
            });
        }
        Ok(())
    }

    async fn table_exists(&mut self, schema: &str, table: &str) -> Result<bool, DriverError> {
        let row = self.simple_row(table_exists_sql(schema, table)).await?;
        row.try_get(0).map_err(DriverError::sql)
    }

    async fn ensure_revisions_table(&mut self, loc: &RevisionsLocation) -> Result<(), DriverError> {
        self.ensure_revisions_table_existed(loc).await.map(|_| ())
    }

    async fn ensure_revisions_table_existed(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<bool, DriverError> {
        // Schema, table and columns in one round trip.
        let row = self
            .simple_row(format!(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = {schema}), ({table}), \
                 ({COLUMNS_SQL} AND nc.nspname = {schema} AND c.relname = {name})",
                schema = literal(&loc.schema),
                table = table_exists_sql(&loc.schema, &loc.table),
                name = literal(&loc.table),
            ))
            .await?;
        let schema_exists: bool = row.try_get(0).map_err(DriverError::sql)?;
        let table_exists: bool = row.try_get(1).map_err(DriverError::sql)?;
        let existing: String = row.try_get(2).map_err(DriverError::sql)?;
        if !schema_exists {
            self.raw(&format!("CREATE SCHEMA {}", quote(&loc.schema)))
                .await?;
        }
        if !table_exists {
            self.raw(&REVISIONS.create_table(loc)).await?;
            return Ok(false);
        }
        let existing: Vec<String> =
            serde_json::from_str(&existing).map_err(|e| DriverError::Sql {
                message: format!("reading the columns of {loc}: {e}"),
                code: None,
            })?;
        for ddl in REVISIONS.add_missing_columns(loc, &existing) {
            self.raw(&ddl).await?;
        }
        Ok(true)
    }

    async fn read_revisions(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        let rows = sqlx::query(AssertSqlSafe(select_sql(loc)))
            .fetch_all(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        in_version_order(&rows, &REVISIONS.table(loc))
    }

    async fn read_revisions_if_ready(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<Vec<Revision>>, DriverError> {
        // Selecting every column proves they all exist and are visible to this user (what ensure checks in
        // information_schema.columns); `tableoid` proves a relation with storage, not a view (views have no system
        // columns). No WHERE and no ORDER BY: on a fresh session the server's parse and plan of those cost more
        // than filtering and sorting a thousand rows here.
        let sql = format!("{SELECT_LIST}, tableoid FROM {}", REVISIONS.table(loc));
        let Ok(rows) = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut self.conn)
            .await
        else {
            return Ok(None);
        };
        let revisions = in_version_order(&rows, &REVISIONS.table(loc))?;
        Ok((!revisions.is_empty()).then_some(revisions))
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
        let Some(row) = row else { return Ok(None) };
        rows::check_columns(&row, &REVISIONS.table(loc))?;
        rows::decode(&row, rows::version(&row)?)?
            .into_revision()
            .map(Some)
    }

    async fn upsert_revision(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_write(&rev.version)?;
        let sql = REVISIONS.upsert_bound(loc);
        let executed_at: OffsetDateTime = revisions::utc(rev.executed_at_unix_nanos)?;
        sqlx::query(AssertSqlSafe(sql))
            .bind(&rev.version)
            .bind(&rev.description)
            .bind(revisions::to_i64("type", rev.kind.0)?)
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
        if let Some(bound) = self.bound.clone() {
            if !self.schema_exists(&bound).await? {
                return Ok(None);
            }
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
            "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name NOT IN \
             ('information_schema', 'pg_catalog', 'pg_toast', 'crdb_internal', 'pg_extension') \
             AND schema_name NOT LIKE 'pg_%temp_%' ORDER BY schema_name",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::sql)?;
        for s in schemas {
            let tables = self.tables_in(&s).await?;
            if tables.is_empty() && s == "public" {
                continue;
            }
            if tables.is_empty() || s != loc.schema {
                return Ok(Some(format!("found schema {s:?}")));
            }
            if tables.len() > 1 {
                return Ok(Some(format!(
                    "found {} tables in schema {s:?}",
                    tables.len()
                )));
            }
            if tables[0] != loc.table {
                return Ok(Some(format!("found table {:?} in schema {s:?}", tables[0])));
            }
        }
        Ok(None)
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        if self.in_tx {
            return Err(DriverError::Transaction(
                "a transaction is already open on this session".into(),
            ));
        }
        self.raw("BEGIN").await?;
        self.in_tx = true;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
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

    async fn rollback(&mut self) -> Result<(), DriverError> {
        if !self.in_tx {
            return Err(DriverError::Transaction(
                "rollback without an open transaction".into(),
            ));
        }
        self.in_tx = false;
        self.raw("ROLLBACK").await
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        self.raw(sql).await
    }

    async fn begin_execute(&mut self, sql: &str) -> Result<Result<(), DriverError>, DriverError> {
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

    async fn upsert_execute(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        sql: &str,
    ) -> Result<Result<(), DriverError>, DriverError> {
        let literal_sql = if self.in_tx && self.session_info().await?.utf8 {
            upsert_literal_sql(loc, rev)?
        } else {
            None
        };
        let Some(insert) = literal_sql else {
            self.upsert_revision(loc, rev).await?;
            return Ok(self.execute(sql).await);
        };
        // `SELECT 1` first, so the count of completed statements tells every failure apart: none completed = the
        // text did not parse, which only the statement can cause (ours parse, and UTF-8 both ways rules out
        // conversion errors); one = the write failed; more = the statement failed after the write.
        let mut text = String::with_capacity(insert.len() + sql.len() + 12);
        text.push_str("SELECT 1;\n");
        text.push_str(&insert);
        text.push_str(";\n");
        text.push_str(sql);
        match self.counted(text).await {
            (_, Ok(())) => Ok(Ok(())),
            (1, Err(e)) => Err(DriverError::sql(e)),
            (_, Err(e)) => Ok(Err(DriverError::sql(e))),
        }
    }

    async fn upsert_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        durability: Durability,
    ) -> Result<(), DriverError> {
        let literal_sql = if self.in_tx {
            upsert_literal_sql(loc, rev)?
        } else {
            None
        };
        // The setting lasts until the transaction ends, and only the commit reads it.
        let defer = durability == Durability::Deferred && self.in_tx;
        let Some(upsert) = literal_sql else {
            if defer {
                self.raw(DEFER_COMMIT).await?;
            }
            self.upsert_revision(loc, rev).await?;
            return self.commit().await;
        };
        // A successful write proves the transaction is not failed, which is what commit's `SELECT 1` checks. The
        // first statement is there either way, so the count of completed statements says what failed.
        let first = if defer { DEFER_COMMIT } else { "SELECT 1" };
        let text = format!("{first};\n{upsert};\nCOMMIT");
        match self.counted(text).await {
            (_, Ok(())) => {
                self.in_tx = false;
                Ok(())
            }
            // The write failed: the transaction stays open for the caller to roll back, as after upsert_revision.
            (0 | 1, Err(e)) => Err(DriverError::sql(e)),
            // COMMIT failed: no transaction is left.
            (_, Err(e)) => {
                self.in_tx = false;
                Err(DriverError::sql(e))
            }
        }
    }

    async fn set_ddl_limits(
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

    async fn close(mut self: Box<Self>) -> Result<(), DriverError> {
        let names: Vec<String> = self.locks.keys().cloned().collect();
        for n in names {
            let _ = self.unlock(&n).await;
        }
        self.conn.close().await.map_err(DriverError::sql)
    }
}

/// The revision columns as [`rows::decode`] reads them.
const SELECT_LIST: &str = "SELECT \"version\", \"description\", \"type\", \"applied\", \"total\", \"executed_at\", \
     \"execution_time\", \"error\", \"error_stmt\", \"hash\", \"partial_hashes\"::text, \"operator_version\"";

fn select_sql(loc: &RevisionsLocation) -> String {
    format!("{SELECT_LIST} FROM {}", REVISIONS.table(loc))
}

/// The revisions of `rows` without the cloud-identifier row, ordered by version (byte order, as Atlas compares
/// versions; the `version` column is the primary key, so there are no ties). `table` names the table in errors.
fn in_version_order(
    rows: &[sqlx::postgres::PgRow],
    table: &str,
) -> Result<Vec<Revision>, DriverError> {
    if let Some(first) = rows.first() {
        rows::check_columns(first, table)?;
    }
    let mut revisions = Vec::with_capacity(rows.len());
    for r in rows {
        // The cloud-identifier row is skipped before decoding: it is not a revision and need not decode as one.
        let version = rows::version(r)?;
        if version != strata_migrate::revision::CLOUD_IDENTIFIER_VERSION {
            revisions.push(rows::decode(r, version)?.into_revision()?);
        }
    }
    revisions.sort_unstable_by(|a, b| a.version.cmp(&b.version));
    Ok(revisions)
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

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
