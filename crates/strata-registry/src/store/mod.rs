//! Storage: one [`Store`] trait, two backends sharing the same SQL — SQLite (embedded default: WAL, `BEGIN
//! IMMEDIATE` write transactions, `synchronous=FULL`) and PostgreSQL (several replicas share one database).
//!
//! Every write is a single transaction, so a crash (even `kill -9`) leaves either the whole push or nothing, and
//! readers never see a version without its files. File contents live in `blobs`, keyed by SHA-256, so identical
//! files are stored once whatever version or directory they belong to.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{RegistryError, Result};
use crate::model::{
    Attachment, AttachmentKind, Deployment, DeploymentFilter, Directory, Drift, Millis,
    NewDeployment, NewDrift, Project, PushOutcome, Ref, Scopes, StoredSession, StoredToken,
    TagInfo, TokenInfo, VersionContent, VersionInfo,
};
use crate::upload::ValidatedDir;

mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The registry's persistent state.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Creates the project if it does not exist and returns it.
    async fn ensure_project(&self, name: &str) -> Result<Project>;
    /// A project by name.
    async fn project(&self, name: &str) -> Result<Option<Project>>;
    /// All projects, by name.
    async fn projects(&self) -> Result<Vec<Project>>;
    /// Declares the project's tags (other than `latest`) immutable, or not.
    async fn set_immutable_tags(&self, project: &str, immutable: bool) -> Result<Project>;
    /// The project's directories.
    async fn directories(&self, project: &str) -> Result<Vec<Directory>>;
    /// Stores a validated directory as a version (once), points `latest` and `tags` at it, in one transaction.
    async fn push(
        &self,
        project: &str,
        dir: &str,
        upload: &ValidatedDir,
        tags: &[String],
    ) -> Result<PushOutcome>;
    /// The directory's versions, newest first.
    async fn versions(&self, project: &str, dir: &str) -> Result<Vec<VersionInfo>>;
    /// The directory's tags, by name.
    async fn tags(&self, project: &str, dir: &str) -> Result<Vec<TagInfo>>;
    /// The version a tag or version id names.
    async fn resolve(&self, project: &str, dir: &str, r: &Ref) -> Result<Option<VersionInfo>>;
    /// A version with its files.
    async fn content(&self, project: &str, dir: &str, r: &Ref) -> Result<Option<VersionContent>>;
    /// What was pushed beside version `version` (its id) of `dir`: the latest attachment of that kind.
    async fn attachment(
        &self,
        project: &str,
        dir: &str,
        version: &str,
        kind: AttachmentKind,
    ) -> Result<Option<Attachment>>;
    /// Records a drift check (its target must already be redacted), replacing the previous one of the same
    /// directory and target.
    async fn report_drift(&self, project: &str, d: &NewDrift) -> Result<Drift>;
    /// The latest drift check of every directory and target of the project, by directory and target.
    async fn drifts(&self, project: &str) -> Result<Vec<Drift>>;
    /// Records a deployment (its target must already be redacted).
    async fn add_deployment(&self, project: &str, d: &NewDeployment) -> Result<Deployment>;
    /// The latest deployment of every directory and target of the project (what runs where), by directory and
    /// target.
    async fn latest_deployments(&self, project: &str) -> Result<Vec<Deployment>>;
    /// One deployment by id.
    async fn deployment(&self, project: &str, id: i64) -> Result<Option<Deployment>>;
    /// Deployments, newest first.
    async fn deployments(&self, project: &str, f: &DeploymentFilter) -> Result<Vec<Deployment>>;
    /// Stores a token (its hash only).
    async fn insert_token(
        &self,
        project: &str,
        id: &str,
        name: &str,
        scopes: Scopes,
        hash: &str,
    ) -> Result<TokenInfo>;
    /// A token by public id.
    async fn token(&self, id: &str) -> Result<Option<StoredToken>>;
    /// The project's tokens.
    async fn tokens(&self, project: &str) -> Result<Vec<TokenInfo>>;
    /// Revokes a token; false when the project has no such active token.
    async fn revoke_token(&self, project: &str, id: &str) -> Result<bool>;
    /// Stores a web UI session of token `token_id`: only `hash`, the SHA-256 of the session id.
    async fn insert_session(
        &self,
        hash: &str,
        token_id: &str,
        created_at: Millis,
        expires_at: Millis,
    ) -> Result<()>;
    /// A session by the hash of its id, with its token — also when it expired or the token was revoked: the
    /// caller decides ([`crate::auth::session`]).
    async fn session(&self, hash: &str) -> Result<Option<StoredSession>>;
    /// Ends a session; false when there was none.
    async fn delete_session(&self, hash: &str) -> Result<bool>;
    /// Deletes the sessions that expired by `now` or whose token is revoked; returns how many.
    async fn purge_sessions(&self, now: Millis) -> Result<u64>;
    /// Counts for `/metrics`.
    async fn stats(&self) -> Result<Stats>;
}

/// Store-wide counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Projects.
    pub projects: i64,
    /// Versions across all directories.
    pub versions: i64,
    /// Distinct file contents stored.
    pub blobs: i64,
    /// Bytes of distinct file contents.
    pub blob_bytes: i64,
    /// Deployments recorded.
    pub deployments: i64,
}

/// Opens (and creates or upgrades the schema of) the store at `url`: `sqlite://path`, `sqlite::memory:` or
/// `postgres://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(RegistryError::DatabaseUrl(format!(
            "unsupported registry database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
            strata_driver::redact(url)
        )))
    }
}

/// The SQL shared by both backends, instantiated per backend so each is checked against its own driver types.
/// Placeholders are `$n` (SQLite accepts them too); upserts use `ON CONFLICT`, which both support.
macro_rules! impl_store {
    ($ty:ty, $name:literal, $begin:literal, $tag_agg:literal) => {
        use sqlx::Row as _;

        use $crate::model::{DeployStatus, Millis, LATEST};

        fn version_from_row(row: &Row) -> $crate::error::Result<(i64, VersionInfo)> {
            Ok((
                row.try_get("id")?,
                VersionInfo {
                    id: row.try_get("digest")?,
                    sum: row.try_get("sum_hash")?,
                    files: row.try_get("files")?,
                    size: row.try_get("size")?,
                    last_migration: row.try_get("last_migration")?,
                    created_at: Millis(row.try_get("created_at")?),
                    tags: Vec::new(),
                },
            ))
        }

        fn project_from_row(row: &Row) -> $crate::error::Result<Project> {
            Ok(Project {
                name: row.try_get("name")?,
                immutable_tags: row.try_get::<i64, _>("immutable_tags")? != 0,
                created_at: Millis(row.try_get("created_at")?),
            })
        }

        fn token_from_row(row: &Row) -> $crate::error::Result<StoredToken> {
            let scopes: String = row.try_get("scopes")?;
            Ok(StoredToken {
                info: TokenInfo {
                    id: row.try_get("id")?,
                    project: row.try_get("project")?,
                    name: row.try_get("name")?,
                    scopes: scopes.parse().unwrap_or_default(),
                    created_at: Millis(row.try_get("created_at")?),
                    revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(Millis),
                },
                hash: row.try_get("hash")?,
            })
        }

        fn deployment_from_row(row: &Row) -> $crate::error::Result<Deployment> {
            let files: String = row.try_get("files")?;
            let status: String = row.try_get("status")?;
            Ok(Deployment {
                id: row.try_get("id")?,
                report: NewDeployment {
                    dir: row.try_get("dir")?,
                    target: row.try_get("target")?,
                    tag: row.try_get("tag")?,
                    version: row.try_get("version")?,
                    from_version: row.try_get("from_version")?,
                    to_version: row.try_get("to_version")?,
                    status: status.parse::<DeployStatus>().map_err(|_| {
                        $crate::error::RegistryError::Database(format!(
                            "unknown deployment status {status:?}"
                        ))
                    })?,
                    error: row.try_get("error")?,
                    files: serde_json::from_str(&files).unwrap_or_default(),
                    statements: row.try_get("statements")?,
                    duration_ms: row.try_get("duration_ms")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                },
                reported_at: Millis(row.try_get("reported_at")?),
            })
        }

        const VERSION_COLS: &str =
            "v.id, v.digest, v.sum_hash, v.files, v.size, v.last_migration, v.created_at";

        impl $ty {
            async fn project_id(&self, project: &str) -> $crate::error::Result<(i64, bool)> {
                let row = sqlx::query("SELECT id, immutable_tags FROM projects WHERE name = $1")
                    .bind(project)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| not_found_project(project))?;
                Ok((row.try_get("id")?, row.try_get::<i64, _>("immutable_tags")? != 0))
            }

            async fn version_row(
                &self,
                project: &str,
                dir: &str,
                r: &Ref,
            ) -> $crate::error::Result<Option<(i64, String, VersionInfo)>> {
                let row = match r {
                    Ref::Tag(tag) => {
                        sqlx::query(concat!(
                            "SELECT v.id, v.digest, v.sum_hash, v.sum_blob, v.files, v.size, v.last_migration, v.created_at, \
                             (SELECT ", $tag_agg, " FROM tags t2 WHERE t2.version_id = v.id) AS tag_list \
                             FROM tags t JOIN versions v ON v.id = t.version_id JOIN projects p ON p.id = t.project_id \
                             WHERE p.name = $1 AND t.dir = $2 AND t.name = $3",
                        ))
                        .bind(project)
                        .bind(dir)
                        .bind(tag)
                        .fetch_optional(&self.pool)
                        .await?
                    }
                    Ref::Version(v) => {
                        sqlx::query(concat!(
                            "SELECT v.id, v.digest, v.sum_hash, v.sum_blob, v.files, v.size, v.last_migration, v.created_at, \
                             (SELECT ", $tag_agg, " FROM tags t2 WHERE t2.version_id = v.id) AS tag_list \
                             FROM versions v JOIN projects p ON p.id = v.project_id \
                             WHERE p.name = $1 AND v.dir = $2 AND v.digest = $3",
                        ))
                        .bind(project)
                        .bind(dir)
                        .bind(v)
                        .fetch_optional(&self.pool)
                        .await?
                    }
                };
                let Some(row) = row else { return Ok(None) };
                let sum_blob: String = row.try_get("sum_blob")?;
                let (id, mut info) = version_from_row(&row)?;
                // Tag names never contain commas (see `check_tag`).
                let list: Option<String> = row.try_get("tag_list")?;
                info.tags = list
                    .unwrap_or_default()
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
                info.tags.sort();
                Ok(Some((id, sum_blob, info)))
            }
        }

        #[async_trait::async_trait]
        impl Store for $ty {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn ensure_project(&self, name: &str) -> $crate::error::Result<Project> {
                $crate::model::check_name("project name", name)?;
                sqlx::query(
                    "INSERT INTO projects (name, immutable_tags, created_at) VALUES ($1, 0, $2) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(Millis::now().0)
                .execute(&self.pool)
                .await?;
                self.project(name).await?.ok_or_else(|| not_found_project(name))
            }

            async fn project(&self, name: &str) -> $crate::error::Result<Option<Project>> {
                sqlx::query("SELECT name, immutable_tags, created_at FROM projects WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| project_from_row(&r))
                    .transpose()
            }

            async fn projects(&self) -> $crate::error::Result<Vec<Project>> {
                sqlx::query("SELECT name, immutable_tags, created_at FROM projects ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(project_from_row)
                    .collect()
            }

            async fn set_immutable_tags(
                &self,
                project: &str,
                immutable: bool,
            ) -> $crate::error::Result<Project> {
                let done = sqlx::query("UPDATE projects SET immutable_tags = $2 WHERE name = $1")
                    .bind(project)
                    .bind(i64::from(immutable))
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(not_found_project(project));
                }
                self.project(project).await?.ok_or_else(|| not_found_project(project))
            }

            async fn directories(&self, project: &str) -> $crate::error::Result<Vec<Directory>> {
                let rows = sqlx::query(
                    "SELECT v.dir AS dir, COUNT(*) AS versions, MAX(v.created_at) AS updated_at, \
                     (SELECT COUNT(*) FROM tags t WHERE t.project_id = v.project_id AND t.dir = v.dir) AS tags \
                     FROM versions v JOIN projects p ON p.id = v.project_id WHERE p.name = $1 \
                     GROUP BY v.project_id, v.dir ORDER BY v.dir",
                )
                .bind(project)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Directory {
                            name: r.try_get("dir")?,
                            versions: r.try_get("versions")?,
                            tags: r.try_get("tags")?,
                            updated_at: Millis(r.try_get::<Option<i64>, _>("updated_at")?.unwrap_or(0)),
                        })
                    })
                    .collect()
            }

            async fn push(
                &self,
                project: &str,
                dir: &str,
                up: &ValidatedDir,
                tags: &[String],
            ) -> $crate::error::Result<PushOutcome> {
                $crate::model::check_name("directory name", dir)?;
                let mut tags: Vec<String> = tags.to_vec();
                for t in &tags {
                    $crate::model::check_tag(t)?;
                }
                tags.push(LATEST.to_owned());
                tags.sort();
                tags.dedup();
                let now = Millis::now().0;
                // Content keys, sorted so concurrent pushes lock blobs in the same order.
                let sum_key = $crate::upload::sha256_hex(&up.sum);
                let mut blobs: Vec<(String, &[u8])> = up
                    .files
                    .iter()
                    .map(|(_, b)| ($crate::upload::sha256_hex(b), b.as_slice()))
                    .collect();
                let file_keys: Vec<String> = blobs.iter().map(|(k, _)| k.clone()).collect();
                blobs.push((sum_key.clone(), up.sum.as_slice()));
                blobs.sort_by(|a, b| a.0.cmp(&b.0));
                blobs.dedup_by(|a, b| a.0 == b.0);

                let mut tx = self.pool.begin_with($begin).await?;
                let row = sqlx::query("SELECT id, immutable_tags FROM projects WHERE name = $1")
                    .bind(project)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| not_found_project(project))?;
                let project_id: i64 = row.try_get("id")?;
                let immutable = row.try_get::<i64, _>("immutable_tags")? != 0;
                for (key, bytes) in &blobs {
                    sqlx::query(
                        "INSERT INTO blobs (hash, size, content) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
                    )
                    .bind(key.as_str())
                    .bind(bytes.len() as i64)
                    .bind(*bytes)
                    .execute(&mut *tx)
                    .await?;
                }
                let inserted = sqlx::query(
                    "INSERT INTO versions (project_id, dir, digest, sum_hash, sum_blob, files, size, last_migration, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (project_id, dir, digest) DO NOTHING RETURNING id",
                )
                .bind(project_id)
                .bind(dir)
                .bind(up.digest.as_str())
                .bind(up.header.as_str())
                .bind(sum_key.as_str())
                .bind(up.files.len() as i64)
                .bind(up.size)
                .bind(up.last_migration.as_str())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let created = inserted.is_some();
                let version_id: i64 = match inserted {
                    Some(r) => r.try_get("id")?,
                    None => sqlx::query(
                        "SELECT id FROM versions WHERE project_id = $1 AND dir = $2 AND digest = $3",
                    )
                    .bind(project_id)
                    .bind(dir)
                    .bind(up.digest.as_str())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?,
                };
                if created {
                    for (pos, ((name, _), key)) in up.files.iter().zip(&file_keys).enumerate() {
                        sqlx::query(
                            "INSERT INTO version_files (version_id, position, name, blob) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(version_id)
                        .bind(pos as i64)
                        .bind(name.as_str())
                        .bind(key.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                // Attachments belong to the version, never to its id: a push of identical files with a new
                // report replaces the one stored.
                for (kind, json) in &up.attachments {
                    sqlx::query(
                        "INSERT INTO version_attachments (version_id, kind, content, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (version_id, kind) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at",
                    )
                    .bind(version_id)
                    .bind(kind.as_str())
                    .bind(json.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                for tag in &tags {
                    if immutable && tag != LATEST {
                        sqlx::query(
                            "INSERT INTO tags (project_id, dir, name, version_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (project_id, dir, name) DO NOTHING",
                        )
                        .bind(project_id)
                        .bind(dir)
                        .bind(tag.as_str())
                        .bind(version_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        let row = sqlx::query(
                            "SELECT t.version_id AS version_id, v.digest AS digest FROM tags t JOIN versions v ON v.id = t.version_id \
                             WHERE t.project_id = $1 AND t.dir = $2 AND t.name = $3",
                        )
                        .bind(project_id)
                        .bind(dir)
                        .bind(tag.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                        if row.try_get::<i64, _>("version_id")? != version_id {
                            return Err(RegistryError::TagImmutable {
                                dir: dir.to_owned(),
                                tag: tag.clone(),
                                existing: row.try_get("digest")?,
                            });
                        }
                    } else {
                        sqlx::query(
                            "INSERT INTO tags (project_id, dir, name, version_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (project_id, dir, name) DO UPDATE SET version_id = excluded.version_id, updated_at = excluded.updated_at",
                        )
                        .bind(project_id)
                        .bind(dir)
                        .bind(tag.as_str())
                        .bind(version_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                let (_, _, version) = self
                    .version_row(project, dir, &Ref::Version(up.digest.clone()))
                    .await?
                    .ok_or_else(|| RegistryError::Database("a version vanished right after its push".into()))?;
                Ok(PushOutcome {
                    version,
                    created,
                    tags,
                })
            }

            async fn versions(&self, project: &str, dir: &str) -> $crate::error::Result<Vec<VersionInfo>> {
                let (project_id, _) = self.project_id(project).await?;
                let rows = sqlx::query(
                    "SELECT v.id, v.digest, v.sum_hash, v.files, v.size, v.last_migration, v.created_at FROM versions v \
                     WHERE v.project_id = $1 AND v.dir = $2 ORDER BY v.created_at DESC, v.id DESC",
                )
                .bind(project_id)
                .bind(dir)
                .fetch_all(&self.pool)
                .await?;
                let tags = sqlx::query(
                    "SELECT name, version_id FROM tags WHERE project_id = $1 AND dir = $2 ORDER BY name",
                )
                .bind(project_id)
                .bind(dir)
                .fetch_all(&self.pool)
                .await?;
                let _ = VERSION_COLS;
                rows.iter()
                    .map(|r| {
                        let (id, mut info) = version_from_row(r)?;
                        for t in &tags {
                            if t.try_get::<i64, _>("version_id")? == id {
                                info.tags.push(t.try_get("name")?);
                            }
                        }
                        Ok(info)
                    })
                    .collect()
            }

            async fn tags(&self, project: &str, dir: &str) -> $crate::error::Result<Vec<TagInfo>> {
                let (project_id, _) = self.project_id(project).await?;
                sqlx::query(
                    "SELECT t.name AS name, v.digest AS digest, t.updated_at AS updated_at FROM tags t \
                     JOIN versions v ON v.id = t.version_id WHERE t.project_id = $1 AND t.dir = $2 ORDER BY t.name",
                )
                .bind(project_id)
                .bind(dir)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(TagInfo {
                        name: r.try_get("name")?,
                        version: r.try_get("digest")?,
                        updated_at: Millis(r.try_get("updated_at")?),
                    })
                })
                .collect()
            }

            async fn resolve(
                &self,
                project: &str,
                dir: &str,
                r: &Ref,
            ) -> $crate::error::Result<Option<VersionInfo>> {
                Ok(self.version_row(project, dir, r).await?.map(|(_, _, v)| v))
            }

            async fn content(
                &self,
                project: &str,
                dir: &str,
                r: &Ref,
            ) -> $crate::error::Result<Option<VersionContent>> {
                let Some((id, sum_blob, info)) = self.version_row(project, dir, r).await? else {
                    return Ok(None);
                };
                let files = sqlx::query(
                    "SELECT f.name AS name, b.content AS content FROM version_files f JOIN blobs b ON b.hash = f.blob \
                     WHERE f.version_id = $1 ORDER BY f.position",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("name")?, r.try_get("content")?)))
                .collect::<$crate::error::Result<Vec<(String, Vec<u8>)>>>()?;
                let sum: Vec<u8> = sqlx::query("SELECT content FROM blobs WHERE hash = $1")
                    .bind(sum_blob.as_str())
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("content")?;
                Ok(Some(VersionContent { info, files, sum }))
            }

            async fn attachment(
                &self,
                project: &str,
                dir: &str,
                version: &str,
                kind: AttachmentKind,
            ) -> $crate::error::Result<Option<Attachment>> {
                sqlx::query(
                    "SELECT a.content AS content, a.updated_at AS updated_at FROM version_attachments a \
                     JOIN versions v ON v.id = a.version_id JOIN projects p ON p.id = v.project_id \
                     WHERE p.name = $1 AND v.dir = $2 AND v.digest = $3 AND a.kind = $4",
                )
                .bind(project)
                .bind(dir)
                .bind(version)
                .bind(kind.as_str())
                .fetch_optional(&self.pool)
                .await?
                .map(|r| {
                    Ok(Attachment {
                        json: r.try_get("content")?,
                        updated_at: Millis(r.try_get("updated_at")?),
                    })
                })
                .transpose()
            }

            async fn report_drift(
                &self,
                project: &str,
                d: &NewDrift,
            ) -> $crate::error::Result<Drift> {
                let (project_id, _) = self.project_id(project).await?;
                let now = Millis::now().0;
                let lines = serde_json::to_string(&d.lines).unwrap_or_else(|_| "[]".into());
                sqlx::query(
                    "INSERT INTO drifts (project_id, dir, target, lines, checked_at, reported_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (project_id, dir, target) DO UPDATE SET lines = excluded.lines, \
                     checked_at = excluded.checked_at, reported_at = excluded.reported_at",
                )
                .bind(project_id)
                .bind(d.dir.as_str())
                .bind(d.target.as_str())
                .bind(lines)
                .bind(d.checked_at.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(Drift::of(d.clone(), Millis(now)))
            }

            async fn drifts(&self, project: &str) -> $crate::error::Result<Vec<Drift>> {
                let (project_id, _) = self.project_id(project).await?;
                sqlx::query(
                    "SELECT dir, target, lines, checked_at, reported_at FROM drifts WHERE project_id = $1 \
                     ORDER BY dir, target",
                )
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    let lines: String = r.try_get("lines")?;
                    Ok(Drift {
                        dir: r.try_get("dir")?,
                        target: r.try_get("target")?,
                        lines: serde_json::from_str(&lines).unwrap_or_default(),
                        checked_at: r.try_get("checked_at")?,
                        reported_at: Millis(r.try_get("reported_at")?),
                    })
                })
                .collect()
            }

            async fn add_deployment(
                &self,
                project: &str,
                d: &NewDeployment,
            ) -> $crate::error::Result<Deployment> {
                let (project_id, _) = self.project_id(project).await?;
                let now = Millis::now().0;
                let files = serde_json::to_string(&d.files).unwrap_or_else(|_| "[]".into());
                let row = sqlx::query(
                    "INSERT INTO deployments (project_id, dir, target, tag, version, from_version, to_version, status, error, \
                     files, statements, duration_ms, started_at, finished_at, reported_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
                )
                .bind(project_id)
                .bind(d.dir.as_str())
                .bind(d.target.as_str())
                .bind(d.tag.as_deref())
                .bind(d.version.as_deref())
                .bind(d.from_version.as_str())
                .bind(d.to_version.as_str())
                .bind(d.status.as_str())
                .bind(d.error.as_deref())
                .bind(files)
                .bind(d.statements)
                .bind(d.duration_ms)
                .bind(d.started_at.as_str())
                .bind(d.finished_at.as_str())
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(Deployment {
                    id: row.try_get("id")?,
                    report: d.clone(),
                    reported_at: Millis(now),
                })
            }

            async fn latest_deployments(
                &self,
                project: &str,
            ) -> $crate::error::Result<Vec<Deployment>> {
                let (project_id, _) = self.project_id(project).await?;
                sqlx::query(
                    "SELECT id, dir, target, tag, version, from_version, to_version, status, error, files, statements, \
                     duration_ms, started_at, finished_at, reported_at FROM deployments d WHERE project_id = $1 \
                     AND id = (SELECT MAX(d2.id) FROM deployments d2 WHERE d2.project_id = d.project_id \
                     AND d2.dir = d.dir AND d2.target = d.target) ORDER BY dir, target",
                )
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(deployment_from_row)
                .collect()
            }

            async fn deployment(
                &self,
                project: &str,
                id: i64,
            ) -> $crate::error::Result<Option<Deployment>> {
                let (project_id, _) = self.project_id(project).await?;
                sqlx::query(
                    "SELECT id, dir, target, tag, version, from_version, to_version, status, error, files, statements, \
                     duration_ms, started_at, finished_at, reported_at FROM deployments WHERE project_id = $1 AND id = $2",
                )
                .bind(project_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| deployment_from_row(&r))
                .transpose()
            }

            async fn deployments(
                &self,
                project: &str,
                f: &DeploymentFilter,
            ) -> $crate::error::Result<Vec<Deployment>> {
                let (project_id, _) = self.project_id(project).await?;
                let limit = f.limit.unwrap_or(100).clamp(1, 1000);
                sqlx::query(
                    "SELECT id, dir, target, tag, version, from_version, to_version, status, error, files, statements, \
                     duration_ms, started_at, finished_at, reported_at FROM deployments \
                     WHERE project_id = $1 AND ($2 IS NULL OR dir = $2) AND ($3 IS NULL OR target = $3) \
                     ORDER BY id DESC LIMIT $4",
                )
                .bind(project_id)
                .bind(f.dir.as_deref())
                .bind(f.target.as_deref())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(deployment_from_row)
                .collect()
            }

            async fn insert_token(
                &self,
                project: &str,
                id: &str,
                name: &str,
                scopes: Scopes,
                hash: &str,
            ) -> $crate::error::Result<TokenInfo> {
                let (project_id, _) = self.project_id(project).await?;
                let now = Millis::now().0;
                sqlx::query(
                    "INSERT INTO tokens (id, project_id, name, scopes, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(project_id)
                .bind(name)
                .bind(scopes.to_string())
                .bind(hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(TokenInfo {
                    id: id.to_owned(),
                    project: project.to_owned(),
                    name: name.to_owned(),
                    scopes,
                    created_at: Millis(now),
                    revoked_at: None,
                })
            }

            async fn token(&self, id: &str) -> $crate::error::Result<Option<StoredToken>> {
                sqlx::query(
                    "SELECT t.id AS id, p.name AS project, t.name AS name, t.scopes AS scopes, t.hash AS hash, \
                     t.created_at AS created_at, t.revoked_at AS revoked_at \
                     FROM tokens t JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| token_from_row(&r))
                .transpose()
            }

            async fn tokens(&self, project: &str) -> $crate::error::Result<Vec<TokenInfo>> {
                let (project_id, _) = self.project_id(project).await?;
                sqlx::query(
                    "SELECT t.id AS id, $2 AS project, t.name AS name, t.scopes AS scopes, t.hash AS hash, \
                     t.created_at AS created_at, t.revoked_at AS revoked_at \
                     FROM tokens t WHERE t.project_id = $1 ORDER BY t.created_at, t.id",
                )
                .bind(project_id)
                .bind(project)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| token_from_row(r).map(|t| t.info))
                .collect()
            }

            async fn revoke_token(&self, project: &str, id: &str) -> $crate::error::Result<bool> {
                let (project_id, _) = self.project_id(project).await?;
                let done = sqlx::query(
                    "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND project_id = $2 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(project_id)
                .bind(Millis::now().0)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_session(
                &self,
                hash: &str,
                token_id: &str,
                created_at: Millis,
                expires_at: Millis,
            ) -> $crate::error::Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(hash)
                .bind(token_id)
                .bind(created_at.0)
                .bind(expires_at.0)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, hash: &str) -> $crate::error::Result<Option<StoredSession>> {
                let Some(r) = sqlx::query(
                    "SELECT t.id AS id, p.name AS project, t.name AS name, t.scopes AS scopes, t.hash AS hash, \
                     t.created_at AS created_at, t.revoked_at AS revoked_at, \
                     s.created_at AS session_created_at, s.expires_at AS expires_at \
                     FROM sessions s JOIN tokens t ON t.id = s.token_id JOIN projects p ON p.id = t.project_id \
                     WHERE s.hash = $1",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?
                else {
                    return Ok(None);
                };
                Ok(Some(StoredSession {
                    token: token_from_row(&r)?.info,
                    created_at: Millis(r.try_get("session_created_at")?),
                    expires_at: Millis(r.try_get("expires_at")?),
                }))
            }

            async fn delete_session(&self, hash: &str) -> $crate::error::Result<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE hash = $1")
                    .bind(hash)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn purge_sessions(&self, now: Millis) -> $crate::error::Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM sessions WHERE expires_at <= $1 \
                     OR token_id IN (SELECT id FROM tokens WHERE revoked_at IS NOT NULL)",
                )
                .bind(now.0)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn stats(&self) -> $crate::error::Result<$crate::store::Stats> {
                let r = sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM projects) AS projects, (SELECT COUNT(*) FROM versions) AS versions, \
                     (SELECT COUNT(*) FROM blobs) AS blobs, (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs) AS blob_bytes, \
                     (SELECT COUNT(*) FROM deployments) AS deployments",
                )
                .fetch_one(&self.pool)
                .await?;
                let num = |c: &str| -> $crate::error::Result<i64> { Ok(r.try_get::<i64, _>(c)?) };
                Ok($crate::store::Stats {
                    projects: num("projects")?,
                    versions: num("versions")?,
                    blobs: num("blobs")?,
                    blob_bytes: num("blob_bytes")?,
                    deployments: num("deployments")?,
                })
            }
        }
    };
}

pub(crate) use impl_store;

pub(crate) fn not_found_project(project: &str) -> RegistryError {
    RegistryError::NotFound(format!(
        "project {project:?} not found; create it with 'strata registry token create --project {project}'"
    ))
}
