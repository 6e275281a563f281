//! The SQLite backend: the embedded default. WAL journal, `synchronous=FULL`, foreign keys on, and every write
//! transaction begins `IMMEDIATE` so concurrent writers queue on the busy timeout instead of failing on upgrade.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Store, impl_store, not_found_project};
use crate::error::{RegistryError, Result};
use crate::model::TagInfo;
use crate::model::{
    Attachment, AttachmentKind, Deployment, DeploymentFilter, Directory, Drift, NewDeployment,
    NewDrift, Project, PushOutcome, Ref, Scopes, StoredSession, StoredToken, TokenInfo,
    VersionContent, VersionInfo,
};
use crate::upload::ValidatedDir;

type Row = sqlx::sqlite::SqliteRow;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    immutable_tags BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    dir TEXT NOT NULL,
    digest TEXT NOT NULL,
    sum_hash TEXT NOT NULL,
    sum_blob TEXT NOT NULL REFERENCES blobs (hash),
    files BIGINT NOT NULL,
    size BIGINT NOT NULL,
    last_migration TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, dir, digest)
);
CREATE TABLE IF NOT EXISTS version_files (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    blob TEXT NOT NULL REFERENCES blobs (hash),
    PRIMARY KEY (version_id, position)
);
CREATE TABLE IF NOT EXISTS tags (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    dir TEXT NOT NULL,
    name TEXT NOT NULL,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, dir, name)
);
CREATE INDEX IF NOT EXISTS tags_by_version ON tags (version_id);
CREATE TABLE IF NOT EXISTS deployments (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    dir TEXT NOT NULL,
    target TEXT NOT NULL,
    tag TEXT,
    version TEXT,
    from_version TEXT NOT NULL,
    to_version TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    files TEXT NOT NULL,
    statements BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    reported_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_by_project ON deployments (project_id, id);
CREATE INDEX IF NOT EXISTS deployments_by_target ON deployments (project_id, dir, target, id);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS version_attachments (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (version_id, kind)
);
CREATE TABLE IF NOT EXISTS drifts (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    dir TEXT NOT NULL,
    target TEXT NOT NULL,
    lines TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, dir, target)
);
"#;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens `sqlite://path` (created if missing) or `sqlite::memory:` and creates the schema.
    pub async fn open(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| {
                RegistryError::DatabaseUrl(format!(
                    "invalid SQLite URL {url:?}: {e}; use sqlite://PATH (e.g. sqlite://registry.db)"
                ))
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = SqlitePoolOptions::new()
            // An in-memory database lives in one connection.
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| RegistryError::Database(format!("cannot open {url:?}: {e}")))?;
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Self { pool })
    }
}

impl_store!(
    SqliteStore,
    "sqlite",
    "BEGIN IMMEDIATE",
    "group_concat(t2.name, ',')"
);
