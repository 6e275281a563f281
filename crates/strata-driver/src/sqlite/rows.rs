//! Revision rows: the SELECT list and its decoding (`executed_at` as text, integer or real, as mattn/go-sqlite3
//! reads it).

use super::revisions_table::REVISIONS;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::revisions::{self, RawRow, RevisionsLocation};

pub(super) fn select_sql(loc: &RevisionsLocation) -> String {
    format!(
        "SELECT `version`, `description`, `type`, `applied`, `total`, typeof(`executed_at`), \
         CAST(`executed_at` AS TEXT), `execution_time`, `error`, `error_stmt`, `hash`, \
         CAST(`partial_hashes` AS TEXT), `operator_version` FROM {}",
        REVISIONS.table(loc)
    )
}

pub(super) fn decode_row(r: &rusqlite::Row<'_>) -> Result<RawRow, DriverError> {
    let version: String = r.get(0).map_err(E::sqlite)?;
    let bad = |e: rusqlite::Error| E::BadRevision {
        version: version.clone(),
        reason: e.to_string(),
    };
    let kind: String = r.get(5).map_err(bad)?;
    let at: Option<String> = r.get(6).map_err(bad)?;
    let at = at.unwrap_or_default();
    let executed_at_unix_nanos = match kind.as_str() {
        "integer" => at.parse::<i64>().ok().map(revisions::sqlite_int_datetime),
        "real" => at.parse::<f64>().ok().map(|f| (f * 1e9) as i128),
        _ => revisions::parse_sqlite_datetime(&at),
    }
    .ok_or_else(|| E::BadRevision {
        version: version.clone(),
        reason: format!("executed_at {at:?} is not a date-time"),
    })?;
    Ok(RawRow {
        description: r.get(1).map_err(bad)?,
        kind: i128::from(r.get::<_, i64>(2).map_err(bad)?),
        applied: i128::from(r.get::<_, i64>(3).map_err(bad)?),
        total: i128::from(r.get::<_, i64>(4).map_err(bad)?),
        executed_at_unix_nanos,
        execution_time: r.get(7).map_err(bad)?,
        error: r.get(8).map_err(bad)?,
        error_stmt: r.get(9).map_err(bad)?,
        hash: r.get(10).map_err(bad)?,
        partial_hashes: r.get(11).map_err(bad)?,
        operator_version: r.get(12).map_err(bad)?,
        version,
    })
}
