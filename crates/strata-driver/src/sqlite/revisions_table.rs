//! The `atlas_schema_revisions` table on SQLite: its SQL (see [`crate::revisions::RevisionsSql`]), reads and
//! writes.

use std::fmt::Write as _;

use strata_migrate::Revision;

use super::SqliteDriver;
use super::rows::{decode_row, select_sql};
use super::session::sql_text;
use crate::error::DriverError;
use crate::quote::{backquote as quote, sqlite_literal as sql_string};
use crate::revisions::{self, RevisionsLocation, RevisionsSql, Upsert};
use crate::{Driver, DriverError as E};

/// The revisions table as Atlas's ent schema creates it on SQLite.
pub(crate) const REVISIONS: RevisionsSql = RevisionsSql {
    quote,
    column_defs: [
        ("version", "text NOT NULL"),
        ("description", "text NOT NULL"),
        ("type", "integer NOT NULL DEFAULT (2)"),
        ("applied", "integer NOT NULL DEFAULT (0)"),
        ("total", "integer NOT NULL DEFAULT (0)"),
        ("executed_at", "datetime NOT NULL"),
        ("execution_time", "integer NOT NULL"),
        ("error", "text NULL"),
        ("error_stmt", "text NULL"),
        ("hash", "text NOT NULL"),
        ("partial_hashes", "json NULL"),
        ("operator_version", "text NOT NULL"),
    ],
    create_qualified: false,
    create_options: "",
    param: "?",
    upsert_params: "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
    upsert: Upsert::OnConflict {
        excluded: "excluded",
    },
};

impl SqliteDriver {
    /// [`Driver::ensure_revisions_table`] on this dialect.
    pub(super) async fn ensure_table(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<(), DriverError> {
        if loc.schema != "main" {
            return Err(E::SqliteRevisionsSchema {
                schema: loc.schema.clone(),
            });
        }
        if !self.table_exists(&loc.schema, &loc.table).await? {
            return self.raw(&REVISIONS.create_table(loc)).await;
        }
        let sql = format!(
            "SELECT name FROM pragma_table_info({})",
            sql_string(&loc.table)
        );
        let existing: Vec<String> = sqlx::query_scalar(sql_text(sql)?)
            .fetch_all(&mut self.conn)
            .await
            .map_err(E::sql)?;
        for ddl in REVISIONS.add_missing_columns(loc, &existing) {
            self.raw(&ddl).await?;
        }
        Ok(())
    }

    /// [`Driver::read_revisions`] on this dialect.
    pub(super) async fn read_all(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        let sql = REVISIONS.where_not_version_ordered(&select_sql(loc));
        let rows = sqlx::query(sql_text(sql)?)
            .bind(strata_migrate::revision::CLOUD_IDENTIFIER_VERSION)
            .fetch_all(&mut self.conn)
            .await
            .map_err(E::sql)?;
        rows.iter()
            .map(|r| decode_row(r)?.into_revision())
            .collect()
    }

    /// [`Driver::read_revision`] on this dialect.
    pub(super) async fn read_one(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<Option<Revision>, DriverError> {
        if version == strata_migrate::revision::CLOUD_IDENTIFIER_VERSION {
            return Ok(None);
        }
        let sql = REVISIONS.where_version(&select_sql(loc));
        let row = sqlx::query(sql_text(sql)?)
            .bind(version)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(E::sql)?;
        row.map(|r| decode_row(&r)?.into_revision()).transpose()
    }

    /// [`Driver::upsert_revision`] on this dialect.
    pub(super) async fn upsert(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_write(&rev.version)?;
        let sql = REVISIONS.upsert_bound(loc);
        // Like mattn/go-sqlite3 under Atlas: the time as text, the JSON as a blob.
        sqlx::query(sql_text(sql)?)
            .bind(&rev.version)
            .bind(&rev.description)
            .bind(revisions::to_i64("type", rev.kind.0)?)
            .bind(revisions::to_i64("applied", rev.applied)?)
            .bind(revisions::to_i64("total", rev.total)?)
            .bind(revisions::sqlite_datetime(rev.executed_at_unix_nanos)?)
            .bind(rev.execution_time_nanos)
            .bind(&rev.error)
            .bind(&rev.error_stmt)
            .bind(&rev.hash)
            .bind(revisions::encode_partial_hashes(&rev.partial_hashes).into_bytes())
            .bind(&rev.operator_version)
            .execute(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(())
    }

    /// [`Driver::upsert_commit`] on this dialect: the write and `COMMIT` in one call to the connection's thread
    /// when the commit has no foreign-key check to run first (otherwise, and for a row holding a NUL, which no
    /// SQL text may, the two calls).
    pub(super) async fn upsert_then_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        let literal = if self.in_tx && !self.fk_restore {
            upsert_literal_sql(loc, rev)?
        } else {
            None
        };
        let Some(upsert) = literal else {
            self.upsert(loc, rev).await?;
            return self.commit_tx().await;
        };
        match self.counted(format!("{upsert};\nCOMMIT")).await? {
            (_, Ok(())) => {
                self.in_tx = false;
                Ok(())
            }
            // The write failed: the transaction stays open for the caller to roll back, as after `upsert`.
            (0, Err(e)) => Err(E::sql(e)),
            // COMMIT failed: as `commit`, the session no longer counts the transaction as its own.
            (_, Err(e)) => {
                self.in_tx = false;
                Err(E::sql(e))
            }
        }
    }

    /// [`Driver::delete_revision`] on this dialect.
    pub(super) async fn delete(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_delete(version)?;
        let sql = REVISIONS.delete(loc);
        sqlx::query(sql_text(sql)?)
            .bind(version)
            .execute(&mut self.conn)
            .await
            .map_err(E::sql)?;
        Ok(())
    }
}

/// The upsert of `rev` with its values written into the text, as the bound upsert stores them (the time as text,
/// `partial_hashes` as a blob); `None` when a value holds a NUL, which no SQL text may.
fn upsert_literal_sql(
    loc: &RevisionsLocation,
    rev: &Revision,
) -> Result<Option<String>, DriverError> {
    revisions::refuse_cloud_write(&rev.version)?;
    let texts = [
        &rev.version,
        &rev.description,
        &rev.error,
        &rev.error_stmt,
        &rev.hash,
        &rev.operator_version,
    ];
    if texts.iter().any(|t| t.contains('\0')) {
        return Ok(None);
    }
    let hashes = revisions::encode_partial_hashes(&rev.partial_hashes);
    let mut blob = String::with_capacity(2 * hashes.len() + 3);
    blob.push_str("X'");
    for b in hashes.as_bytes() {
        let _ = write!(blob, "{b:02X}");
    }
    blob.push('\'');
    let values = format!(
        "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {blob}, {}",
        sql_string(&rev.version),
        sql_string(&rev.description),
        revisions::to_i64("type", rev.kind.0)?,
        revisions::to_i64("applied", rev.applied)?,
        revisions::to_i64("total", rev.total)?,
        sql_string(&revisions::sqlite_datetime(rev.executed_at_unix_nanos)?),
        rev.execution_time_nanos,
        sql_string(&rev.error),
        sql_string(&rev.error_stmt),
        sql_string(&rev.hash),
        sql_string(&rev.operator_version),
    );
    Ok(Some(REVISIONS.upsert(loc, &values)))
}
