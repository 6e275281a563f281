//! The `atlas_schema_revisions` table on MySQL/MariaDB: its SQL (see [`crate::revisions::RevisionsSql`]), reads
//! and writes.

use std::fmt::Write as _;

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
        .fetch_all(self.conn().await?)
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
            .fetch_all(self.conn().await?)
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
            .fetch_optional(self.conn().await?)
            .await
            .map_err(DriverError::sql)?;
        row.map(|r| decode_row(&r)?.into_revision()).transpose()
    }

    /// [`Driver::upsert_revision`] on this dialect: one round trip, which in a transaction also finishes what
    /// the last statement left (see `MysqlDriver::trip`).
    pub(super) async fn upsert(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
    ) -> Result<(), DriverError> {
        if !self.in_tx {
            // Outside a transaction the write commits on its own.
            self.conn().await?;
        }
        self.upsert_in_tx(loc, rev).await
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
            .execute(self.conn().await?)
            .await
            .map_err(DriverError::sql)?;
        Ok(())
    }
}

/// A string as a MySQL literal that reads back as exactly `s` whatever the session's SQL mode (backslashes) and
/// character set: its UTF-8 bytes in hex, introduced as utf8mb4 (`_utf8mb4 X'…'`, so a `json` column takes it as
/// text). Nothing in it needs escaping, and it holds no line break, so a text built with it keeps the line
/// numbers of what follows on the same line.
fn literal(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let mut out = String::with_capacity(2 * s.len() + 12);
    out.push_str("_utf8mb4 X'");
    for b in s.as_bytes() {
        let _ = write!(out, "{b:02X}");
    }
    out.push('\'');
    out
}

/// The upsert of `rev` with its values written into the text (see [`literal`]), to travel with other statements
/// in one round trip. `executed_at` is the UTC wall-clock time, as the bound upsert sends it.
pub(super) fn upsert_literal_sql(
    loc: &RevisionsLocation,
    rev: &Revision,
) -> Result<String, DriverError> {
    revisions::refuse_cloud_write(&rev.version)?;
    let at = revisions::utc(rev.executed_at_unix_nanos)?;
    let executed_at = format!(
        "'{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}'",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    );
    let values = format!(
        "{}, {}, {}, {}, {}, {executed_at}, {}, {}, {}, {}, {}, {}",
        literal(&rev.version),
        literal(&rev.description),
        rev.kind.0,
        revisions::to_i64("applied", rev.applied)?,
        revisions::to_i64("total", rev.total)?,
        rev.execution_time_nanos,
        literal(&rev.error),
        literal(&rev.error_stmt),
        literal(&rev.hash),
        literal(&revisions::encode_partial_hashes(&rev.partial_hashes)),
        literal(&rev.operator_version),
    );
    Ok(REVISIONS.upsert(loc, &values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_need_no_escaping() {
        assert_eq!(literal(""), "''");
        assert_eq!(literal("a'\\\n"), "_utf8mb4 X'61275C0A'");
        assert_eq!(literal("é"), "_utf8mb4 X'C3A9'");
    }
}
