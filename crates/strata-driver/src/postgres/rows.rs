//! Revision rows decoded straight from the binary values PostgreSQL sends. The result's column types are checked
//! once per result; each value is then read from its bytes, without a type check per value (a re-run reads a
//! thousand rows before it can say "nothing to do"). A read selects every column ([`ALL`]) or only those a plan
//! reads ([`PLANNING`]).

use super::PG_EPOCH_NANOS;
use crate::error::DriverError;
use crate::revisions::{self, RawRow};
use sqlx::postgres::{PgRow, PgValueFormat, PgValueRef};
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};

/// How a column's binary value is laid out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wire {
    /// `text`, `character varying`, `character` or `name`: the UTF-8 bytes.
    Text,
    /// `bigint`: 8 bytes, big-endian.
    Int8,
    /// `timestamp with time zone`: microseconds since 2000-01-01 00:00 UTC, 8 bytes, big-endian.
    Timestamptz,
}

/// The columns of the revisions SELECT, in order: name, wire layout, the type Atlas creates.
const LAYOUT: [(&str, Wire, &str); 12] = [
    ("version", Wire::Text, "character varying"),
    ("description", Wire::Text, "character varying"),
    ("type", Wire::Int8, "bigint"),
    ("applied", Wire::Int8, "bigint"),
    ("total", Wire::Int8, "bigint"),
    ("executed_at", Wire::Timestamptz, "timestamp with time zone"),
    ("execution_time", Wire::Int8, "bigint"),
    ("error", Wire::Text, "text"),
    ("error_stmt", Wire::Text, "text"),
    ("hash", Wire::Text, "character varying"),
    // Selected as `partial_hashes::text`.
    ("partial_hashes", Wire::Text, "jsonb"),
    ("operator_version", Wire::Text, "character varying"),
];

/// Which columns of [`LAYOUT`] a read selects, in the order it selects them.
pub(super) type Selection = &'static [usize];

/// Every column, in [`LAYOUT`]'s order.
pub(super) const ALL: Selection = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// The columns planning an apply reads (`version`, `description`, `type`, `applied`, `total`, `executed_at`,
/// `error`, `hash`). The others (`execution_time`, `error_stmt`, `partial_hashes`, `operator_version`) only
/// matter for a row that is partly applied or failed, or to `status`; left out, they decode as zero, empty and
/// NULL.
pub(super) const PLANNING: Selection = &[0, 1, 2, 3, 4, 5, 7, 9];

/// The SELECT list of `selection` (`partial_hashes` as text).
pub(super) fn select_list(selection: Selection) -> String {
    let columns: Vec<String> = selection
        .iter()
        .map(|&i| match LAYOUT[i].0 {
            "partial_hashes" => "\"partial_hashes\"::text".to_owned(),
            name => format!("\"{name}\""),
        })
        .collect();
    format!("SELECT {}", columns.join(", "))
}

/// The wire layout of a type OID, for the types a revision column may have.
fn wire_of(oid: u32) -> Option<Wire> {
    match oid {
        // text, character varying, character, name
        25 | 1043 | 1042 | 19 => Some(Wire::Text),
        20 => Some(Wire::Int8),
        1184 => Some(Wire::Timestamptz),
        _ => None,
    }
}

/// Checks that `row`'s first columns, selected as `selection`, have the types the decoder reads (the types Atlas
/// creates, or another text type for a text column). `table` names the table in the error.
pub(super) fn check_columns(
    row: &PgRow,
    table: &str,
    selection: Selection,
) -> Result<(), DriverError> {
    let columns = row.columns();
    for (at, &i) in selection.iter().enumerate() {
        let (name, wire, expected) = &LAYOUT[i];
        let Some(column) = columns.get(at) else {
            return Err(DriverError::Transaction(format!(
                "reading the revisions table {table}: the result has {} columns, expected {}",
                columns.len(),
                selection.len()
            )));
        };
        let info = column.type_info();
        if info.oid().and_then(|oid| wire_of(oid.0)) != Some(*wire) {
            return Err(DriverError::RevisionColumnType {
                table: table.to_string(),
                column: name,
                found: info.name().to_ascii_lowercase(),
                expected,
            });
        }
    }
    Ok(())
}

/// The row's `version`, undecoded beyond UTF-8 (the cloud-identifier row is skipped on this alone; [`decode`] takes
/// it from here).
pub(super) fn version(row: &PgRow) -> Result<&str, DriverError> {
    let value = raw(row, 0)?;
    match bytes(&value) {
        Some(b) => std::str::from_utf8(b).map_err(|e| DriverError::BadRevision {
            version: String::from_utf8_lossy(b).into_owned(),
            reason: format!("version is not UTF-8 ({e})"),
        }),
        None => Err(DriverError::BadRevision {
            version: String::new(),
            reason: "version is NULL".into(),
        }),
    }
}

/// Decodes a row whose columns passed [`check_columns`] for `selection` and whose [`version`] is `version`.
pub(super) fn decode(
    row: &PgRow,
    version: &str,
    selection: Selection,
) -> Result<RawRow, DriverError> {
    let version = version.to_owned();
    let bad = |reason: String| DriverError::BadRevision {
        version: version.clone(),
        reason,
    };
    // Where LAYOUT's column `i` is in the result, if it was selected.
    let at = |i: usize| selection.iter().position(|&s| s == i);
    let text = |i: usize| -> Result<Option<String>, DriverError> {
        let Some(at) = at(i) else { return Ok(None) };
        let value = raw(row, at)?;
        bytes(&value)
            .map(|b| {
                std::str::from_utf8(b)
                    .map(str::to_owned)
                    .map_err(|e| bad(format!("{} is not UTF-8 ({e})", LAYOUT[i].0)))
            })
            .transpose()
    };
    let required = |i: usize| -> Result<String, DriverError> {
        text(i)?.ok_or_else(|| bad(format!("{} is NULL", LAYOUT[i].0)))
    };
    let int8 = |i: usize| -> Result<i64, DriverError> {
        let Some(at) = at(i) else { return Ok(0) };
        let value = raw(row, at)?;
        let b = bytes(&value).ok_or_else(|| bad(format!("{} is NULL", LAYOUT[i].0)))?;
        eight(b).ok_or_else(|| bad(format!("{} is not an 8-byte integer", LAYOUT[i].0)))
    };
    let executed_at = {
        let at = at(5).ok_or_else(|| {
            DriverError::Transaction("internal: every revisions read selects executed_at".into())
        })?;
        let value = raw(row, at)?;
        let b = bytes(&value).ok_or_else(|| bad("executed_at is NULL".into()))?;
        let micros = eight(b).ok_or_else(|| bad("executed_at is not a timestamp".into()))?;
        timestamptz_nanos(micros).map_err(bad)?
    };
    Ok(RawRow {
        description: required(1)?,
        kind: i128::from(int8(2)?),
        applied: i128::from(int8(3)?),
        total: i128::from(int8(4)?),
        executed_at_unix_nanos: executed_at,
        execution_time: int8(6)?,
        error: text(7)?,
        error_stmt: text(8)?,
        hash: required(9)?,
        partial_hashes: text(10)?,
        operator_version: match at(11) {
            Some(_) => required(11)?,
            None => String::new(),
        },
        version,
    })
}

/// Each row's stamp, `xmin` then `ctid` as PostgreSQL writes them as text (`1234(0,7)`), from the binary `xid` and
/// `tid` in columns `at` and `at + 1`; `None` when the columns are not those or a value is NULL.
pub(super) fn stamps(rows: &[PgRow], at: usize) -> Option<Vec<String>> {
    /// The type OIDs of `xid` and `tid`.
    const XID: u32 = 28;
    const TID: u32 = 27;
    let columns = rows.first()?.columns();
    let oid = |i: usize| columns.get(i)?.type_info().oid().map(|o| o.0);
    if oid(at)? != XID || oid(at + 1)? != TID {
        return None;
    }
    let mut stamps = Vec::with_capacity(rows.len());
    for row in rows {
        let xmin = raw(row, at).ok()?;
        let xmin = u32::from_be_bytes(<[u8; 4]>::try_from(bytes(&xmin)?).ok()?);
        let ctid = raw(row, at + 1).ok()?;
        let ctid = <[u8; 6]>::try_from(bytes(&ctid)?).ok()?;
        let block = u32::from_be_bytes([ctid[0], ctid[1], ctid[2], ctid[3]]);
        let offset = u16::from_be_bytes([ctid[4], ctid[5]]);
        stamps.push(format!("{xmin}({block},{offset})"));
    }
    Some(stamps)
}

/// The identities of the first `n` columns of a result, `table OID:column number:type OID` each: which table
/// column each one is. `None` when one is not a table's column.
pub(super) fn column_identities(row: &PgRow, n: usize) -> Option<String> {
    let mut out = Vec::with_capacity(n);
    for column in row.columns().get(..n)? {
        out.push(format!(
            "{}:{}:{}",
            column.relation_id()?.0,
            column.relation_attribute_no()?,
            column.type_info().oid()?.0
        ));
    }
    Some(out.join(","))
}

/// Unix nanoseconds of a binary `timestamptz`, refusing the infinities and instants outside years -9999..=9999
/// (which the rest of Strata cannot represent).
pub(super) fn timestamptz_nanos(micros: i64) -> Result<i128, String> {
    match micros {
        i64::MAX => return Err("executed_at is 'infinity'".into()),
        i64::MIN => return Err("executed_at is '-infinity'".into()),
        _ => {}
    }
    let nanos = PG_EPOCH_NANOS + i128::from(micros) * 1000;
    revisions::utc(nanos)
        .map(|_| nanos)
        .map_err(|_| "executed_at is outside years -9999 to 9999".to_string())
}

fn raw(row: &PgRow, i: usize) -> Result<PgValueRef<'_>, DriverError> {
    let value = row.try_get_raw(i).map_err(DriverError::sql)?;
    if value.format() != PgValueFormat::Binary {
        // Rows of prepared statements are always binary; the simple protocol's text rows are not read here.
        return Err(DriverError::Transaction(
            "internal: revision rows must be read in binary format".into(),
        ));
    }
    Ok(value)
}

fn bytes<'r>(value: &PgValueRef<'r>) -> Option<&'r [u8]> {
    if value.is_null() {
        None
    } else {
        value.as_bytes().ok()
    }
}

fn eight(b: &[u8]) -> Option<i64> {
    <[u8; 8]>::try_from(b).ok().map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_decode_exactly_and_refuse_what_cannot_be_shown() {
        // 2000-01-01 00:00:00 UTC is zero on the wire.
        assert_eq!(timestamptz_nanos(0), Ok(946_684_800_000_000_000));
        // One microsecond before the Unix epoch.
        assert_eq!(timestamptz_nanos(-946_684_800_000_001), Ok(-1_000));
        assert!(
            timestamptz_nanos(i64::MAX)
                .unwrap_err()
                .contains("'infinity'")
        );
        assert!(
            timestamptz_nanos(i64::MIN)
                .unwrap_err()
                .contains("'-infinity'")
        );
        // Year 10000 and later: PostgreSQL stores it, Strata cannot show it.
        let year_10000 = (253_402_300_800_i64 - 946_684_800) * 1_000_000;
        assert!(timestamptz_nanos(year_10000).is_err());
        assert!(timestamptz_nanos(year_10000 - 1).is_ok());
    }

    #[test]
    fn wire_layouts() {
        assert_eq!(wire_of(1043), Some(Wire::Text));
        assert_eq!(wire_of(20), Some(Wire::Int8));
        assert_eq!(wire_of(23), None, "integer is not bigint");
        assert_eq!(wire_of(1114), None, "timestamp without time zone");
        assert_eq!(wire_of(1184), Some(Wire::Timestamptz));
    }
}
