//! The `atlas_schema_revisions` table on PostgreSQL: its SQL (see [`crate::revisions::RevisionsSql`]), reads,
//! writes, and the one-round-trip combinations with a statement or the commit.

use sqlx::{AssertSqlSafe, Row};
use strata_migrate::Revision;
use time::OffsetDateTime;

use super::clean::table_exists_sql;
use super::{PG_EPOCH_NANOS, PostgresDriver, rows};
use crate::error::DriverError;
use crate::quote::{double_quote as quote, pg_literal as literal};
use crate::revisions::{self, RevisionsLocation, RevisionsSql, Upsert};
use crate::{Driver, Durability};

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

/// Makes the current transaction's commit return before its log record is flushed (see [`Durability`]).
pub(super) const DEFER_COMMIT: &str = "SET LOCAL synchronous_commit TO off";

/// `executed_at` as a `timestamptz` literal holding exactly what binding the value stores: whole microseconds
/// since 2000-01-01 UTC, truncated toward zero as sqlx encodes it. `None` where a literal cannot say it (years
/// outside 1–9999, or beyond the binary encoding), so the caller binds the value instead.
pub(super) fn timestamptz_literal(nanos: i128) -> Option<String> {
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
pub(super) fn upsert_literal_sql(
    loc: &RevisionsLocation,
    rev: &Revision,
) -> Result<Option<String>, DriverError> {
    upsert_all_literal_sql(loc, std::slice::from_ref(rev))
}

/// [`upsert_literal_sql`] for several rows (distinct versions) in one `INSERT`; `Ok(None)` when any of them has no
/// literal form.
pub(super) fn upsert_all_literal_sql(
    loc: &RevisionsLocation,
    revs: &[Revision],
) -> Result<Option<String>, DriverError> {
    let mut all = Vec::with_capacity(revs.len());
    for rev in revs {
        match literal_values(rev)? {
            Some(v) => all.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(REVISIONS.upsert(loc, &all.join("), ("))))
}

/// The twelve values of `rev` as literals (see [`upsert_literal_sql`]).
fn literal_values(rev: &Revision) -> Result<Option<String>, DriverError> {
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
    Ok(Some(values))
}

/// Columns of `schema.table` exactly as `information_schema.columns` lists them (same filters and privilege
/// rule), without planning that view: in a fresh session it costs milliseconds.
pub(super) const COLUMNS_SQL: &str = "SELECT COALESCE(json_agg(a.attname::text ORDER BY a.attnum), '[]'::json)::text \
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
     JOIN pg_catalog.pg_namespace nc ON nc.oid = c.relnamespace \
     WHERE NOT pg_catalog.pg_is_other_temp_schema(nc.oid) AND a.attnum > 0 AND NOT a.attisdropped \
     AND c.relkind IN ('r', 'v', 'f', 'p') \
     AND (pg_catalog.pg_has_role(c.relowner, 'USAGE') \
     OR pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))";

/// The columns of `selection` (as [`rows::decode`] reads them) of every row, then, with `stamps`, the row's
/// `xmin` and `ctid` (system columns: a user column cannot have those names; a view has none).
pub(super) fn select_sql(
    loc: &RevisionsLocation,
    selection: rows::Selection,
    stamps: bool,
) -> String {
    format!(
        "{}{} FROM {}",
        rows::select_list(selection),
        if stamps { ", xmin, ctid" } else { "" },
        REVISIONS.table(loc)
    )
}

/// A table's fingerprint (see [`PostgresDriver::fingerprint_now`]) from the server's start, the planning columns'
/// identities and the rows' stamps (in any order).
fn fingerprint(server_started: u64, columns: &str, mut stamps: Vec<String>) -> String {
    stamps.sort_unstable();
    format!(
        "postgres 1\nserver {server_started:016x}\ncolumns {columns}\nrows {}",
        stamps.join(" ")
    )
}

/// The revisions of `rows`, selected as `selection`, without the cloud-identifier row, ordered by version (byte
/// order, as Atlas compares versions; the `version` column is the primary key, so there are no ties). `table`
/// names the table in errors.
pub(super) fn in_version_order(
    rows: &[sqlx::postgres::PgRow],
    table: &str,
    selection: rows::Selection,
) -> Result<Vec<Revision>, DriverError> {
    if let Some(first) = rows.first() {
        rows::check_columns(first, table, selection)?;
    }
    let mut revisions = Vec::with_capacity(rows.len());
    for r in rows {
        // The cloud-identifier row is skipped before decoding: it is not a revision and need not decode as one.
        let version = rows::version(r)?;
        if version != strata_migrate::revision::CLOUD_IDENTIFIER_VERSION {
            revisions.push(rows::decode(r, version, selection)?.into_revision()?);
        }
    }
    revisions.sort_unstable_by(|a, b| a.version.cmp(&b.version));
    Ok(revisions)
}

/// SQLSTATE `undefined_column`.
const UNDEFINED_COLUMN: &str = "42703";

impl PostgresDriver {
    /// [`Driver::ensure_revisions_table_existed`] on this dialect.
    pub(super) async fn ensure_table(
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

    /// [`Driver::read_revisions`] on this dialect.
    pub(super) async fn read_all(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Vec<Revision>, DriverError> {
        let rows = sqlx::query(AssertSqlSafe(select_sql(loc, rows::ALL, false)))
            .fetch_all(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        in_version_order(&rows, &REVISIONS.table(loc), rows::ALL)
    }

    /// [`Driver::read_revisions_if_ready`] on this dialect: the planning columns ([`rows::PLANNING`]) of every
    /// row, or every column when a row is partly applied or holds an error (what resuming it reads).
    pub(super) async fn read_all_if_ready(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<Vec<Revision>>, DriverError> {
        Ok(self
            .read_planning(loc, false)
            .await?
            .map(|(revisions, _)| revisions))
    }

    /// [`Driver::read_revisions_fingerprinted`] on this dialect: the read also selects each row's `xmin` and
    /// `ctid` (a table without them, a view, is read again without), and a narrow read that was the whole answer
    /// comes with its fingerprint.
    pub(super) async fn read_fingerprinted(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<(Option<Vec<Revision>>, Option<String>), DriverError> {
        let Some(read) = self.read_planning(loc, true).await? else {
            return Ok((None, None));
        };
        let (revisions, stamps) = read;
        let fingerprint = match stamps {
            Some((columns, stamps)) => Some(fingerprint(
                self.session_info().await?.server_started,
                &columns,
                stamps,
            )),
            None => None,
        };
        Ok((Some(revisions), fingerprint))
    }

    /// [`PostgresDriver::read_all_if_ready`]; `with_stamps` also selects each row's `xmin` and `ctid` and returns
    /// them (see [`rows::stamps`]), with the planning columns' identities, when the narrow read was the whole
    /// answer; a relation without those columns (a view) is read again without them, and nothing else is tried
    /// twice (a missing table costs one failed statement).
    async fn read_planning(
        &mut self,
        loc: &RevisionsLocation,
        with_stamps: bool,
    ) -> Result<Option<(Vec<Revision>, Option<(String, Vec<String>)>)>, DriverError> {
        // No WHERE and no ORDER BY: on a fresh session the server's parse and plan of those cost more than
        // filtering and sorting a thousand rows here. Fewer columns cost less to send and to decode.
        let mut with_stamps = with_stamps;
        let rows = loop {
            let sql = select_sql(loc, rows::PLANNING, with_stamps);
            match sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&mut self.conn)
                .await
            {
                Ok(rows) => break rows,
                // A relation without the system columns (a view) is read without them; any other failure (no
                // table yet, a column missing) leaves it to the full path, which says what is wrong.
                Err(sqlx::Error::Database(db))
                    if with_stamps && db.code().as_deref() == Some(UNDEFINED_COLUMN) =>
                {
                    with_stamps = false;
                }
                Err(_) => return Ok(None),
            }
        };
        let revisions = in_version_order(&rows, &REVISIONS.table(loc), rows::PLANNING)?;
        if revisions.is_empty() {
            return Ok(None);
        }
        if revisions
            .iter()
            .any(|r| r.is_partial() || !r.error.is_empty())
        {
            return Ok(Some((self.read_all(loc).await?, None)));
        }
        let stamps = if with_stamps {
            rows.first()
                .and_then(|first| rows::column_identities(first, rows::PLANNING.len()))
                .zip(rows::stamps(&rows, rows::PLANNING.len()))
        } else {
            None
        };
        Ok(Some((revisions, stamps)))
    }

    /// [`Driver::revisions_fingerprint`] on this dialect.
    ///
    /// A fingerprint is the server's start, the identity of each planning column (table OID, column number,
    /// type) and, for every visible row, its `xmin` and `ctid`. Equal fingerprints mean equal rows: a row written
    /// (inserted, updated, or rewritten by `ALTER TABLE`) carries its transaction's ID, which no row visible
    /// before can carry (IDs are not reused within a run of the server short of 2³² transactions, and a
    /// transaction's rows become visible all at once), a deleted row is missing from the list, and a row that
    /// becomes visible or invisible otherwise (row security) is another `ctid`. A rewrite that keeps every row
    /// (`VACUUM FULL`, `CLUSTER`) may move rows: another fingerprint for the same rows costs a read, never a
    /// wrong answer. Renaming or retyping a column changes its identity. `None` for a table without rows or
    /// without `xmin` (a view), or on any error.
    ///
    /// A fingerprint and a read are separate statements: [`Driver::read_revisions_fingerprinted`] takes the one
    /// that comes with its rows from the read itself.
    pub(super) async fn fingerprint_now(
        &mut self,
        loc: &RevisionsLocation,
    ) -> Result<Option<String>, DriverError> {
        let started = self.session_info().await?.server_started;
        let table = REVISIONS.table(loc);
        // One row of the planning columns, for their identities in the result's description, and every row's
        // stamp in one text value.
        let sql = format!(
            "{}, (SELECT string_agg(xmin::text || ctid::text, ' ') FROM {table}) FROM {table} LIMIT 1",
            rows::select_list(rows::PLANNING),
        );
        let Ok(Some(row)) = sqlx::raw_sql(AssertSqlSafe(sql))
            .fetch_optional(&mut self.conn)
            .await
        else {
            return Ok(None);
        };
        let Some(columns) = rows::column_identities(&row, rows::PLANNING.len()) else {
            return Ok(None);
        };
        let Ok(Some(list)) = row.try_get::<Option<String>, _>(rows::PLANNING.len()) else {
            return Ok(None);
        };
        let stamps = list.split(' ').map(str::to_owned).collect();
        Ok(Some(fingerprint(started, &columns, stamps)))
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
        let sql = REVISIONS.where_version(&select_sql(loc, rows::ALL, false));
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(DriverError::sql)?;
        let Some(row) = row else { return Ok(None) };
        rows::check_columns(&row, &REVISIONS.table(loc), rows::ALL)?;
        rows::decode(&row, rows::version(&row)?, rows::ALL)?
            .into_revision()
            .map(Some)
    }

    /// [`Driver::upsert_revision`] on this dialect.
    pub(super) async fn upsert(
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

    /// [`Driver::upsert_execute`] on this dialect.
    pub(super) async fn upsert_then_execute(
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

    /// [`Driver::upsert_commit`] on this dialect.
    pub(super) async fn upsert_then_commit(
        &mut self,
        loc: &RevisionsLocation,
        rev: &Revision,
        durability: Durability,
    ) -> Result<(), DriverError> {
        self.upsert_all_then_commit(loc, std::slice::from_ref(rev), durability)
            .await
    }

    /// [`Driver::upsert_all_commit`] on this dialect: every row in one `INSERT`, sent with `COMMIT`.
    pub(super) async fn upsert_all_then_commit(
        &mut self,
        loc: &RevisionsLocation,
        revs: &[Revision],
        durability: Durability,
    ) -> Result<(), DriverError> {
        let literal_sql = if self.in_tx && !revs.is_empty() {
            upsert_all_literal_sql(loc, revs)?
        } else {
            None
        };
        // The setting lasts until the transaction ends, and only the commit reads it.
        let defer = durability == Durability::Deferred && self.in_tx;
        let Some(upsert) = literal_sql else {
            if defer {
                self.raw(DEFER_COMMIT).await?;
            }
            for rev in revs {
                self.upsert_revision(loc, rev).await?;
            }
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
}
