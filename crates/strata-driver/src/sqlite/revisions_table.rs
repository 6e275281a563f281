//! The `atlas_schema_revisions` table on SQLite: its SQL (see [`crate::revisions::RevisionsSql`]), reads and
//! writes.

use strata_migrate::Revision;

use super::SqliteDriver;
use super::rows::{decode_row, select_sql};
use super::session::sql_text;
use crate::error::DriverError;
use crate::quote::{backquote as quote, sqlite_literal as sql_string};

use crate::revisions::{self, RevisionsLocation, RevisionsSql, Upsert};
use crate::{Driver, DriverError as E, Durability};

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
        let sql = sql_text(&sql)?;
        let existing: Vec<String> = self
            .with_conn(|c| {
                let mut stmt = c.prepare(sql)?;
                let names = stmt.query_map([], |r| r.get(0))?;
                names.collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(E::sqlite)?;
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
        let sql = sql_text(&sql)?;
        self.with_conn(|c| {
            let mut stmt = c.prepare(sql).map_err(E::sqlite)?;
            let mut rows = stmt
                .query([strata_migrate::revision::CLOUD_IDENTIFIER_VERSION])
                .map_err(E::sqlite)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(E::sqlite)? {
                out.push(decode_row(r)?.into_revision()?);
            }
            Ok(out)
        })
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
        let sql = sql_text(&sql)?;
        self.with_conn(|c| {
            let mut stmt = c.prepare(sql).map_err(E::sqlite)?;
            let mut rows = stmt.query([version]).map_err(E::sqlite)?;
            match rows.next().map_err(E::sqlite)? {
                Some(r) => decode_row(r)?.into_revision().map(Some),
                None => Ok(None),
            }
        })
    }

    /// [`Driver::upsert_revision`] on this dialect.
    pub(super) async fn upsert(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_write(&rev.version)?;
        let sql = REVISIONS.upsert_bound(loc);
        let sql = sql_text(&sql)?;
        let kind = revisions::to_i64("type", rev.kind.0)?;
        let applied = revisions::to_i64("applied", rev.applied)?;
        let total = revisions::to_i64("total", rev.total)?;
        let at = revisions::sqlite_datetime(rev.executed_at_unix_nanos)?;
        let hashes = revisions::encode_partial_hashes(&rev.partial_hashes).into_bytes();
        // Like mattn/go-sqlite3 under Atlas: the time as text, the JSON as a blob. The statement stays prepared
        // for the next file's write.
        self.with_conn(|c| {
            c.prepare_cached(sql)?.execute(rusqlite::params![
                rev.version,
                rev.description,
                kind,
                applied,
                total,
                at,
                rev.execution_time_nanos,
                rev.error,
                rev.error_stmt,
                rev.hash,
                hashes,
                rev.operator_version,
            ])
        })
        .map_err(E::sqlite)?;
        Ok(())
    }

    /// [`Driver::upsert_commit`] on this dialect: the write, then the file's commit (with its foreign-key check
    /// when the transaction switched foreign keys off), deferred as `crate::group` says.
    pub(super) async fn upsert_then_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        durability: Durability,
    ) -> Result<(), DriverError> {
        self.upsert(loc, rev).await?;
        let deferred = (durability == Durability::Deferred).then_some(rev.version.as_str());
        self.finish_tx(deferred).await
    }

    /// [`Driver::delete_revision`] on this dialect.
    pub(super) async fn delete(
        &mut self,
        loc: &RevisionsLocation,
        version: &str,
    ) -> Result<(), DriverError> {
        revisions::refuse_cloud_delete(version)?;
        let sql = REVISIONS.delete(loc);
        let sql = sql_text(&sql)?;
        self.with_conn(|c| c.execute(sql, [version]))
            .map_err(E::sqlite)?;
        Ok(())
    }
}
