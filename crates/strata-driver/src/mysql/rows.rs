//! Revision rows: the SELECT list and its decoding (`executed_at` read as UTC wall-clock text).

use sqlx::Row;
use sqlx::mysql::MySqlRow;

use super::revisions_table::REVISIONS;
use crate::error::DriverError;
use crate::revisions::{self, RawRow, RevisionsLocation};

pub(super) fn int(r: &MySqlRow, idx: usize) -> Result<i128, sqlx::Error> {
    match r.try_get::<i64, _>(idx) {
        Ok(v) => Ok(i128::from(v)),
        Err(_) => r.try_get::<u64, _>(idx).map(i128::from),
    }
}

pub(super) fn select_sql(loc: &RevisionsLocation) -> String {
    format!(
        "SELECT `version`, `description`, `type`, `applied`, `total`, \
         DATE_FORMAT(`executed_at`, '%Y-%m-%d %H:%i:%s.%f'), `execution_time`, `error`, `error_stmt`, `hash`, \
         CAST(`partial_hashes` AS CHAR), `operator_version` FROM {}",
        REVISIONS.table(loc)
    )
}

pub(super) fn decode_row(r: &MySqlRow) -> Result<RawRow, DriverError> {
    let version: String = r.try_get(0).map_err(DriverError::sql)?;
    let bad = |e: sqlx::Error| DriverError::BadRevision {
        version: version.clone(),
        reason: e.to_string(),
    };
    let at: String = r.try_get(5).map_err(bad)?;
    let executed_at_unix_nanos =
        revisions::parse_sqlite_datetime(&at).ok_or_else(|| DriverError::BadRevision {
            version: version.clone(),
            reason: format!("executed_at {at:?} is not a date-time"),
        })?;
    Ok(RawRow {
        description: r.try_get(1).map_err(bad)?,
        kind: int(r, 2).map_err(bad)?,
        applied: int(r, 3).map_err(bad)?,
        total: int(r, 4).map_err(bad)?,
        executed_at_unix_nanos,
        execution_time: int(r, 6).map_err(bad)?.try_into().unwrap_or(i64::MAX),
        error: r.try_get(7).map_err(bad)?,
        error_stmt: r.try_get(8).map_err(bad)?,
        hash: r.try_get(9).map_err(bad)?,
        partial_hashes: r.try_get(10).map_err(bad)?,
        operator_version: r.try_get(11).map_err(bad)?,
        version,
    })
}
