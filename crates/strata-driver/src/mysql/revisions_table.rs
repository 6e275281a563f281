//! The `atlas_schema_revisions` table on MySQL/MariaDB: its SQL (see [`crate::revisions::RevisionsSql`]), reads
//! and writes.

use sqlx::AssertSqlSafe;
use strata_migrate::Revision;

use super::MysqlDriver;
use super::rows::{decode_row, select_sql};
use crate::Driver;
use crate::error::DriverError;
use crate::quote::backquote as quote;
use crate::revisions::{self, RevisionsLocation, RevisionsSql, Upsert};

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

impl MysqlDriver {
    /// [`Driver::ensure_revisions_table`] on this dialect.
    pub(super) async fn ensure_table(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<(), DriverError> {
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

    /// [`Driver::read_revisions`] on this dialect.
    pub(super) async fn read_all(
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
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
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

    /// [`Driver::delete_revision`] on this dialect.
    pub(super) async fn delete(
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
}
