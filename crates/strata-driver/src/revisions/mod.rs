//! Dialect-neutral pieces of the `atlas_schema_revisions` table: where it lives, how rows are encoded.

use strata_migrate::revision::{
    CLOUD_IDENTIFIER_VERSION, DEFAULT_REVISIONS_SCHEMA, REVISIONS_TABLE,
};
use strata_migrate::{Revision, RevisionType};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::DriverError;

mod sql;
pub(crate) use sql::{RevisionsSql, Upsert};

/// Where the revisions table lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RevisionsLocation {
    /// The schema (`main` on SQLite).
    pub schema: String,
    /// The table name, always `atlas_schema_revisions`.
    pub table: String,
}

impl RevisionsLocation {
    /// The revisions table in `schema`.
    pub fn new(schema: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            table: REVISIONS_TABLE.to_string(),
        }
    }
}

impl std::fmt::Display for RevisionsLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// Atlas's priority: the flag, then the schema bound in the URL, then `atlas_schema_revisions`.
pub(crate) fn choose_schema(flag: Option<&str>, bound: Option<&str>) -> String {
    match (
        flag.filter(|f| !f.is_empty()),
        bound.filter(|b| !b.is_empty()),
    ) {
        (Some(f), _) => f.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => DEFAULT_REVISIONS_SCHEMA.to_string(),
    }
}

/// The columns in Atlas's order.
pub(crate) const COLUMNS: [&str; 12] = [
    "version",
    "description",
    "type",
    "applied",
    "total",
    "executed_at",
    "execution_time",
    "error",
    "error_stmt",
    "hash",
    "partial_hashes",
    "operator_version",
];

/// The columns an upsert updates: all but `version`, `description` and `executed_at`.
pub(crate) fn updated_columns() -> impl Iterator<Item = &'static str> {
    COLUMNS
        .into_iter()
        .filter(|c| !matches!(*c, "version" | "description" | "executed_at"))
}

pub(crate) fn refuse_cloud_write(version: &str) -> Result<(), DriverError> {
    if version == CLOUD_IDENTIFIER_VERSION {
        return Err(DriverError::CloudIdentifier(
            "writing the revision-table identifier is not allowed (the .atlas_cloud_identifier row belongs to Atlas \
             Cloud reporting; leave it alone)",
        ));
    }
    Ok(())
}

pub(crate) fn refuse_cloud_delete(version: &str) -> Result<(), DriverError> {
    if version == CLOUD_IDENTIFIER_VERSION {
        return Err(DriverError::CloudIdentifier(
            "deleting the revision-table identifier is not allowed (the .atlas_cloud_identifier row belongs to Atlas \
             Cloud reporting; leave it alone)",
        ));
    }
    Ok(())
}

/// `partial_hashes` as JSON text: an array, or JSON `null` (what Atlas writes for a finished file).
pub(crate) fn encode_partial_hashes(p: &Option<Vec<String>>) -> String {
    match p {
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".into()),
        None => "null".to_string(),
    }
}

pub(crate) fn decode_partial_hashes(
    version: &str,
    raw: Option<&str>,
) -> Result<Option<Vec<String>>, DriverError> {
    let Some(raw) = raw else { return Ok(None) };
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Ok(None);
    }
    serde_json::from_str::<Option<Vec<String>>>(trimmed).map_err(|e| DriverError::BadRevision {
        version: version.to_string(),
        reason: format!("partial_hashes is not a JSON array of strings ({e})"),
    })
}

/// A row as read from any dialect, before conversion.
pub(crate) struct RawRow {
    pub version: String,
    pub description: String,
    pub kind: i128,
    pub applied: i128,
    pub total: i128,
    pub executed_at_unix_nanos: i128,
    pub execution_time: i64,
    pub error: Option<String>,
    pub error_stmt: Option<String>,
    pub hash: String,
    pub partial_hashes: Option<String>,
    pub operator_version: String,
}

impl RawRow {
    pub(crate) fn into_revision(self) -> Result<Revision, DriverError> {
        let bad = |reason: String| DriverError::BadRevision {
            version: self.version.clone(),
            reason,
        };
        let kind =
            u64::try_from(self.kind).map_err(|_| bad(format!("type {} is negative", self.kind)))?;
        let applied = u64::try_from(self.applied)
            .map_err(|_| bad(format!("applied {} is negative", self.applied)))?;
        let total = u64::try_from(self.total)
            .map_err(|_| bad(format!("total {} is negative", self.total)))?;
        let partial_hashes = decode_partial_hashes(&self.version, self.partial_hashes.as_deref())?;
        Ok(Revision {
            version: self.version,
            description: self.description,
            kind: RevisionType(kind),
            applied,
            total,
            executed_at_unix_nanos: self.executed_at_unix_nanos,
            execution_time_nanos: self.execution_time,
            error: self.error.unwrap_or_default(),
            error_stmt: self.error_stmt.unwrap_or_default(),
            hash: self.hash,
            partial_hashes,
            operator_version: self.operator_version,
        })
    }
}

pub(crate) fn to_i64(what: &str, v: u64) -> Result<i64, DriverError> {
    i64::try_from(v).map_err(|_| {
        DriverError::Transaction(format!(
            "{what} {v} does not fit the revisions table's bigint"
        ))
    })
}

/// Unix nanoseconds → UTC date-time.
pub(crate) fn utc(nanos: i128) -> Result<OffsetDateTime, DriverError> {
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| DriverError::Transaction(format!("executed_at {nanos} ns is out of range")))
}

/// The text mattn/go-sqlite3 stores for a Go `time.Time` (format `2006-01-02 15:04:05.999999999-07:00`), in UTC.
pub(crate) fn sqlite_datetime(nanos: i128) -> Result<String, DriverError> {
    let t = utc(nanos)?;
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let ns = t.nanosecond();
    if ns != 0 {
        let frac = format!("{ns:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str("+00:00");
    Ok(s)
}

fn num(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses the date-time texts mattn/go-sqlite3 accepts (its `SQLiteTimestampFormats`, a trailing `Z` allowed).
/// Without an offset the value is UTC.
pub(crate) fn parse_sqlite_datetime(s: &str) -> Option<i128> {
    let s = s.trim();
    let s = s.strip_suffix('Z').unwrap_or(s);
    let date = Date::from_calendar_date(
        num(s.get(0..4)?, 4)? as i32,
        Month::try_from(num(s.get(5..7)?, 2)? as u8).ok()?,
        num(s.get(8..10)?, 2)? as u8,
    )
    .ok()?;
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" {
        return None;
    }
    let rest = &s[10..];
    let (mut time, mut offset) = (Time::MIDNIGHT, UtcOffset::UTC);
    if !rest.is_empty() {
        let sep = rest.as_bytes()[0];
        if sep != b' ' && sep != b'T' {
            return None;
        }
        let rest = &rest[1..];
        let (clock, off) = match rest.rfind(['+', '-']) {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        let h = num(clock.get(0..2)?, 2)? as u8;
        let m = num(clock.get(3..5)?, 2)? as u8;
        let (sec, nanos) = match clock.get(5..) {
            None | Some("") => (0, 0),
            Some(tail) => {
                let tail = tail.strip_prefix(':')?;
                let (sec, frac) = tail.split_once('.').unwrap_or((tail, ""));
                let sec = num(sec, 2)? as u8;
                let nanos = if frac.is_empty() {
                    0
                } else {
                    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    format!("{frac:0<9}").parse::<u32>().ok()?
                };
                (sec, nanos)
            }
        };
        time = Time::from_hms_nano(h, m, sec, nanos).ok()?;
        if let Some(off) = off {
            let sign: i8 = if off.starts_with('-') { -1 } else { 1 };
            let oh = num(off.get(1..3)?, 2)? as i8;
            let om = num(off.get(4..6)?, 2)? as i8;
            if off.len() != 6 {
                return None;
            }
            offset = UtcOffset::from_hms(sign * oh, sign * om, 0).ok()?;
        }
    }
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .unix_timestamp_nanos(),
    )
}

/// Integer values in a SQLite `datetime` column: Unix seconds, or milliseconds when 13 digits (mattn's rule).
pub(crate) fn sqlite_int_datetime(v: i64) -> i128 {
    if v.unsigned_abs().to_string().len() == 13 {
        i128::from(v) * 1_000_000
    } else {
        i128::from(v) * 1_000_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_priority() {
        assert_eq!(choose_schema(Some("f"), Some("b")), "f");
        assert_eq!(choose_schema(None, Some("b")), "b");
        assert_eq!(choose_schema(Some(""), None), "atlas_schema_revisions");
        assert_eq!(choose_schema(None, None), "atlas_schema_revisions");
    }

    #[test]
    fn partial_hashes_json() {
        assert_eq!(encode_partial_hashes(&None), "null");
        assert_eq!(
            encode_partial_hashes(&Some(vec!["h1:a".into(), "h1:b".into()])),
            r#"["h1:a","h1:b"]"#
        );
        assert_eq!(decode_partial_hashes("1", Some("null")).unwrap(), None);
        assert_eq!(decode_partial_hashes("1", None).unwrap(), None);
        assert_eq!(
            decode_partial_hashes("1", Some(r#"["h1:a", "h1:b"]"#)).unwrap(),
            Some(vec!["h1:a".into(), "h1:b".into()])
        );
        assert_eq!(
            decode_partial_hashes("1", Some("[]")).unwrap(),
            Some(vec![])
        );
        assert!(decode_partial_hashes("1", Some("{}")).is_err());
    }

    #[test]
    fn sqlite_datetime_round_trip() {
        // 2024-01-16T10:20:30.123456789Z
        let n: i128 = 1_705_400_430_123_456_789;
        assert_eq!(
            sqlite_datetime(n).unwrap(),
            "2024-01-16 10:20:30.123456789+00:00"
        );
        assert_eq!(
            sqlite_datetime(1_705_400_430_000_000_000).unwrap(),
            "2024-01-16 10:20:30+00:00"
        );
        assert_eq!(
            sqlite_datetime(1_705_400_430_120_000_000).unwrap(),
            "2024-01-16 10:20:30.12+00:00"
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16 10:20:30.123456789+00:00"),
            Some(n)
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16 12:20:30.123456789+02:00"),
            Some(n)
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16T10:20:30.123456789Z"),
            Some(n)
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16 10:20:30"),
            Some(1_705_400_430_000_000_000)
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16 10:20"),
            Some(1_705_400_400_000_000_000)
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16"),
            Some(1_705_363_200_000_000_000)
        );
        assert_eq!(
            parse_sqlite_datetime("2024-01-16 04:20:30-06:00"),
            Some(1_705_400_430_000_000_000)
        );
        assert_eq!(parse_sqlite_datetime("yesterday"), None);
        assert_eq!(
            sqlite_int_datetime(1_705_400_430),
            1_705_400_430_000_000_000
        );
        assert_eq!(
            sqlite_int_datetime(1_705_400_430_123),
            1_705_400_430_123_000_000
        );
    }

    #[test]
    fn cloud_row_refused() {
        assert!(refuse_cloud_write(".atlas_cloud_identifier").is_err());
        assert!(refuse_cloud_delete(".atlas_cloud_identifier").is_err());
        assert!(refuse_cloud_write("1").is_ok());
    }
}
