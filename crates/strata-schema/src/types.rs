//! Column types: the dialect's canonical spelling plus a parsed [`TypeKind`] that diff and lint reason about.

use serde::{Deserialize, Serialize};
use strata_migrate::Dialect;

/// A column type.
///
/// `raw` is the spelling inspection returns (PostgreSQL `format_type`, MySQL `COLUMN_TYPE`, SQLite's declared
/// type), lower-cased where the dialect ignores case; `kind` is derived from it by [`ColumnType::parse`] and only
/// there for reasoning (widening, rewrites): two types are the same when their `raw` spellings are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    /// The canonical spelling (`character varying(255)`, `int unsigned`, `varchar(10)`).
    pub raw: String,
    /// What the spelling means.
    pub kind: TypeKind,
}

/// Flavours of character types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StringVariant {
    /// Variable length with a limit (`varchar(n)`).
    Varchar,
    /// Fixed length (`char(n)`).
    Char,
    /// Unlimited (`text`, MySQL `tinytext`…`longtext` carry their limit in `length`).
    Text,
}

/// Flavours of date and time types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeVariant {
    /// `date`.
    Date,
    /// `time`.
    Time,
    /// `time with time zone`.
    TimeTz,
    /// `timestamp` (without time zone; MySQL `timestamp` is stored in UTC but shown in the session zone).
    Timestamp,
    /// `timestamp with time zone`.
    TimestampTz,
    /// MySQL/SQLite `datetime`.
    Datetime,
    /// MySQL `year`.
    Year,
    /// PostgreSQL `interval`.
    Interval,
}

/// What a column type is, parsed from its spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TypeKind {
    /// Integers of `bits` width (SQLite: 64).
    Integer {
        /// Storage width in bits.
        bits: u16,
        /// MySQL `unsigned`.
        #[serde(default)]
        unsigned: bool,
    },
    /// Exact numbers.
    Decimal {
        /// Total digits, when limited.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<u32>,
        /// Digits after the point, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u32>,
    },
    /// Floating point numbers of `bits` width.
    Float {
        /// 32 or 64.
        bits: u16,
    },
    /// Character strings.
    String {
        /// Varchar, char or text.
        variant: StringVariant,
        /// Length limit in characters, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u64>,
    },
    /// Byte strings.
    Binary {
        /// Fixed length (`binary(n)`).
        #[serde(default)]
        fixed: bool,
        /// Length limit in bytes, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u64>,
    },
    /// Booleans (MySQL `tinyint(1)`/`bool`).
    Bool,
    /// Dates and times.
    Time {
        /// Which one.
        variant: TimeVariant,
        /// Fractional second digits, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<u8>,
    },
    /// JSON (`binary`: PostgreSQL `jsonb`).
    Json {
        /// Stored decomposed (`jsonb`).
        #[serde(default)]
        binary: bool,
    },
    /// UUIDs.
    Uuid,
    /// MySQL `enum(…)` (ordered values).
    Enum {
        /// The values in order.
        values: Vec<String>,
    },
    /// MySQL `set(…)`.
    Set {
        /// The values in order.
        values: Vec<String>,
    },
    /// PostgreSQL arrays.
    Array {
        /// The element type.
        elem: Box<TypeKind>,
    },
    /// A type defined in the database (PostgreSQL enum, domain, composite), by name as spelled.
    UserDefined {
        /// The type's name (possibly schema-qualified and quoted, as `format_type` prints it).
        name: String,
    },
    /// Anything else (spatial, network, ranges…): only `raw` tells.
    Other,
}

impl ColumnType {
    /// Parses a type spelling under `dialect`'s rules. SQLite and MySQL spellings are lower-cased and their
    /// whitespace collapsed; PostgreSQL keeps case (quoted user types) but collapses whitespace.
    pub fn parse(dialect: Dialect, raw: &str) -> ColumnType {
        let collapsed = collapse_ws(raw);
        let raw = match dialect {
            Dialect::Postgres => collapsed,
            Dialect::Mysql | Dialect::Sqlite => collapsed.to_lowercase(),
        };
        let kind = match dialect {
            Dialect::Postgres => parse_postgres(&raw),
            Dialect::Mysql => parse_mysql(&raw),
            Dialect::Sqlite => parse_sqlite(&raw),
        };
        ColumnType { raw, kind }
    }
}

fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    // `varchar (10)` and `decimal(10, 2)` read as `varchar(10)`, `decimal(10,2)`.
    out.replace(" (", "(").replace(", ", ",")
}

/// Splits `name(args) rest` into the base name, its parenthesised arguments and what follows.
fn split_args(s: &str) -> (&str, Vec<&str>, &str) {
    match s.find('(') {
        Some(open) => {
            let close = s[open..].find(')').map(|c| open + c).unwrap_or(s.len());
            let inner = s.get(open + 1..close).unwrap_or("");
            let rest = s.get(close + 1..).unwrap_or("").trim();
            let args = if inner.trim().is_empty() {
                Vec::new()
            } else {
                inner.split(',').map(str::trim).collect()
            };
            (s[..open].trim(), args, rest)
        }
        None => {
            let s = s.trim();
            match s.split_once(' ') {
                Some((base, rest)) => (base, Vec::new(), rest.trim()),
                None => (s, Vec::new(), ""),
            }
        }
    }
}

fn num<T: std::str::FromStr>(args: &[&str], i: usize) -> Option<T> {
    args.get(i).and_then(|a| a.parse().ok())
}

/// The quoted values of `enum('a','b')` (SQL quote doubling and MySQL backslash escapes undone).
fn quoted_values(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut v = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    v.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        v.push(n);
                    }
                }
                c => v.push(c),
            }
        }
        out.push(v);
    }
    out
}

fn parse_postgres(raw: &str) -> TypeKind {
    if let Some(elem) = raw.strip_suffix("[]") {
        return TypeKind::Array {
            elem: Box::new(parse_postgres(elem)),
        };
    }
    let lower = raw.to_lowercase();
    let (base, args, rest) = split_args(&lower);
    let base_full = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base} {rest}")
    };
    let prec = num::<u8>(&args, 0);
    match base_full.as_str() {
        "smallint" | "int2" | "smallserial" | "serial2" => TypeKind::Integer {
            bits: 16,
            unsigned: false,
        },
        "integer" | "int" | "int4" | "serial" | "serial4" => TypeKind::Integer {
            bits: 32,
            unsigned: false,
        },
        "bigint" | "int8" | "bigserial" | "serial8" => TypeKind::Integer {
            bits: 64,
            unsigned: false,
        },
        "numeric" | "decimal" => TypeKind::Decimal {
            precision: num(&args, 0),
            scale: num(&args, 1),
        },
        "real" | "float4" => TypeKind::Float { bits: 32 },
        "double precision" | "float8" => TypeKind::Float { bits: 64 },
        "float" => TypeKind::Float {
            bits: if num::<u32>(&args, 0).is_some_and(|p| p <= 24) {
                32
            } else {
                64
            },
        },
        "character varying" | "varchar" => TypeKind::String {
            variant: StringVariant::Varchar,
            length: num(&args, 0),
        },
        "character" | "char" | "bpchar" => TypeKind::String {
            variant: StringVariant::Char,
            length: num(&args, 0),
        },
        "text" => TypeKind::String {
            variant: StringVariant::Text,
            length: None,
        },
        "bytea" => TypeKind::Binary {
            fixed: false,
            length: None,
        },
        "boolean" | "bool" => TypeKind::Bool,
        "date" => TypeKind::Time {
            variant: TimeVariant::Date,
            precision: None,
        },
        "time without time zone" | "time" => TypeKind::Time {
            variant: TimeVariant::Time,
            precision: prec,
        },
        "time with time zone" | "timetz" => TypeKind::Time {
            variant: TimeVariant::TimeTz,
            precision: prec,
        },
        "timestamp without time zone" | "timestamp" => TypeKind::Time {
            variant: TimeVariant::Timestamp,
            precision: prec,
        },
        "timestamp with time zone" | "timestamptz" => TypeKind::Time {
            variant: TimeVariant::TimestampTz,
            precision: prec,
        },
        "json" => TypeKind::Json { binary: false },
        "jsonb" => TypeKind::Json { binary: true },
        "uuid" => TypeKind::Uuid,
        b if b.starts_with("interval") => TypeKind::Time {
            variant: TimeVariant::Interval,
            precision: prec,
        },
        b if b.starts_with("bit") => TypeKind::Other,
        _ if is_builtin_other_pg(base) => TypeKind::Other,
        _ => TypeKind::UserDefined {
            name: raw.to_string(),
        },
    }
}

fn is_builtin_other_pg(base: &str) -> bool {
    matches!(
        base,
        "money"
            | "inet"
            | "cidr"
            | "macaddr"
            | "macaddr8"
            | "xml"
            | "tsvector"
            | "tsquery"
            | "point"
            | "line"
            | "lseg"
            | "box"
            | "path"
            | "polygon"
            | "circle"
            | "oid"
            | "regclass"
            | "xid"
            | "xid8"
            | "int4range"
            | "int8range"
            | "numrange"
            | "tsrange"
            | "tstzrange"
            | "daterange"
            | "pg_lsn"
            | "txid_snapshot"
            | "pg_snapshot"
    )
}

fn parse_mysql(raw: &str) -> TypeKind {
    let (base, args, rest) = split_args(raw);
    let unsigned = rest.split_whitespace().any(|w| w == "unsigned");
    let int = |bits| TypeKind::Integer { bits, unsigned };
    match base {
        "tinyint" if num::<u32>(&args, 0) == Some(1) && !unsigned => TypeKind::Bool,
        "bool" | "boolean" => TypeKind::Bool,
        "tinyint" => int(8),
        "smallint" => int(16),
        "mediumint" => int(24),
        "int" | "integer" => int(32),
        "bigint" => int(64),
        "decimal" | "numeric" | "dec" | "fixed" => TypeKind::Decimal {
            precision: num(&args, 0),
            scale: num(&args, 1),
        },
        "float" => TypeKind::Float { bits: 32 },
        "double" | "real" | "double precision" => TypeKind::Float { bits: 64 },
        "varchar" => TypeKind::String {
            variant: StringVariant::Varchar,
            length: num(&args, 0),
        },
        "char" => TypeKind::String {
            variant: StringVariant::Char,
            length: num(&args, 0).or(Some(1)),
        },
        "tinytext" | "text" | "mediumtext" | "longtext" => TypeKind::String {
            variant: StringVariant::Text,
            length: Some(match base {
                "tinytext" => 255,
                "text" => 65_535,
                "mediumtext" => 16_777_215,
                _ => 4_294_967_295,
            }),
        },
        "varbinary" => TypeKind::Binary {
            fixed: false,
            length: num(&args, 0),
        },
        "binary" => TypeKind::Binary {
            fixed: true,
            length: num(&args, 0).or(Some(1)),
        },
        "tinyblob" | "blob" | "mediumblob" | "longblob" => TypeKind::Binary {
            fixed: false,
            length: Some(match base {
                "tinyblob" => 255,
                "blob" => 65_535,
                "mediumblob" => 16_777_215,
                _ => 4_294_967_295,
            }),
        },
        "date" => TypeKind::Time {
            variant: TimeVariant::Date,
            precision: None,
        },
        "time" => TypeKind::Time {
            variant: TimeVariant::Time,
            precision: num(&args, 0),
        },
        "datetime" => TypeKind::Time {
            variant: TimeVariant::Datetime,
            precision: num(&args, 0),
        },
        "timestamp" => TypeKind::Time {
            variant: TimeVariant::Timestamp,
            precision: num(&args, 0),
        },
        "year" => TypeKind::Time {
            variant: TimeVariant::Year,
            precision: None,
        },
        "json" => TypeKind::Json { binary: false },
        "uuid" => TypeKind::Uuid,
        "enum" | "set" => {
            let inner = raw
                .find('(')
                .and_then(|o| raw.rfind(')').map(|c| raw.get(o + 1..c).unwrap_or("")))
                .unwrap_or("");
            let values = quoted_values(inner);
            if base == "enum" {
                TypeKind::Enum { values }
            } else {
                TypeKind::Set { values }
            }
        }
        _ => TypeKind::Other,
    }
}

fn parse_sqlite(raw: &str) -> TypeKind {
    let (first, args, rest) = split_args(raw);
    let joined;
    let base = if rest.is_empty() {
        first
    } else {
        joined = format!("{first} {rest}");
        joined.as_str()
    };
    let length = num(&args, 0);
    match base {
        "bool" | "boolean" => return TypeKind::Bool,
        "date" => {
            return TypeKind::Time {
                variant: TimeVariant::Date,
                precision: None,
            };
        }
        "datetime" | "timestamp" => {
            return TypeKind::Time {
                variant: TimeVariant::Datetime,
                precision: None,
            };
        }
        "time" => {
            return TypeKind::Time {
                variant: TimeVariant::Time,
                precision: None,
            };
        }
        "json" => return TypeKind::Json { binary: false },
        "jsonb" => return TypeKind::Json { binary: true },
        "uuid" => return TypeKind::Uuid,
        "decimal" | "numeric" => {
            return TypeKind::Decimal {
                precision: num(&args, 0),
                scale: num(&args, 1),
            };
        }
        "char" | "character" | "nchar" | "native character" => {
            return TypeKind::String {
                variant: StringVariant::Char,
                length,
            };
        }
        _ => {}
    }
    // SQLite's affinity rules (section 3.1 of its type documentation), in their order.
    if base.contains("int") {
        TypeKind::Integer {
            bits: 64,
            unsigned: false,
        }
    } else if base.contains("char") || base.contains("clob") || base.contains("text") {
        TypeKind::String {
            variant: if base.contains("text") || base.contains("clob") {
                StringVariant::Text
            } else {
                StringVariant::Varchar
            },
            length,
        }
    } else if base.contains("blob") || base.is_empty() {
        TypeKind::Binary {
            fixed: false,
            length,
        }
    } else if base.contains("real") || base.contains("floa") || base.contains("doub") {
        TypeKind::Float { bits: 64 }
    } else {
        TypeKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(d: Dialect, s: &str) -> TypeKind {
        ColumnType::parse(d, s).kind
    }

    #[test]
    fn postgres_kinds() {
        assert_eq!(
            k(Dialect::Postgres, "character varying(255)"),
            TypeKind::String {
                variant: StringVariant::Varchar,
                length: Some(255)
            }
        );
        assert_eq!(
            k(Dialect::Postgres, "numeric(10,2)"),
            TypeKind::Decimal {
                precision: Some(10),
                scale: Some(2)
            }
        );
        assert_eq!(
            k(Dialect::Postgres, "timestamp(3) with time zone"),
            TypeKind::Time {
                variant: TimeVariant::TimestampTz,
                precision: Some(3)
            }
        );
        assert_eq!(
            k(Dialect::Postgres, "integer[]"),
            TypeKind::Array {
                elem: Box::new(TypeKind::Integer {
                    bits: 32,
                    unsigned: false
                })
            }
        );
        assert_eq!(
            k(Dialect::Postgres, "\"Status\""),
            TypeKind::UserDefined {
                name: "\"Status\"".into()
            }
        );
        assert_eq!(k(Dialect::Postgres, "inet"), TypeKind::Other);
        assert_eq!(
            k(Dialect::Postgres, "jsonb"),
            TypeKind::Json { binary: true }
        );
    }

    #[test]
    fn mysql_kinds() {
        assert_eq!(
            k(Dialect::Mysql, "INT UNSIGNED"),
            TypeKind::Integer {
                bits: 32,
                unsigned: true
            }
        );
        assert_eq!(k(Dialect::Mysql, "tinyint(1)"), TypeKind::Bool);
        assert_eq!(
            k(Dialect::Mysql, "enum('a','it''s','b\\'c')"),
            TypeKind::Enum {
                values: vec!["a".into(), "it's".into(), "b'c".into()]
            }
        );
        assert_eq!(
            ColumnType::parse(Dialect::Mysql, "VARCHAR (10)").raw,
            "varchar(10)"
        );
        assert_eq!(
            k(Dialect::Mysql, "decimal(10, 2)"),
            TypeKind::Decimal {
                precision: Some(10),
                scale: Some(2)
            }
        );
    }

    #[test]
    fn sqlite_affinity() {
        assert_eq!(
            k(Dialect::Sqlite, "UNSIGNED BIG INT"),
            TypeKind::Integer {
                bits: 64,
                unsigned: false
            }
        );
        assert_eq!(
            k(Dialect::Sqlite, "varchar(20)"),
            TypeKind::String {
                variant: StringVariant::Varchar,
                length: Some(20)
            }
        );
        assert_eq!(
            k(Dialect::Sqlite, ""),
            TypeKind::Binary {
                fixed: false,
                length: None
            }
        );
        assert_eq!(k(Dialect::Sqlite, "double"), TypeKind::Float { bits: 64 });
        assert_eq!(k(Dialect::Sqlite, "boolean"), TypeKind::Bool);
        assert_eq!(k(Dialect::Sqlite, "money"), TypeKind::Other);
    }
}
