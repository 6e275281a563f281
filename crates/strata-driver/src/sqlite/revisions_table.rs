//! The `atlas_schema_revisions` table on SQLite: its SQL (see [`crate::revisions::RevisionsSql`]), reads and
//! writes.

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
