//! Column types as Atlas's HCL spells them, per dialect, both ways. The one home of that mapping.
//!
//! - [`to_hcl`] (the printer's way): a model [`ColumnType`] → [`HclColumnType`], following the type registries
//!   of Atlas's `sql/<dialect>/sqlspec.go`: a registered name prints bare (`integer`, `text`) or as a call with
//!   its arguments (`character_varying(255)`, `decimal(10,2)`, `enum("a","b")`), a PostgreSQL enum of the realm
//!   as a reference (`enum.status`), anything else as `sql("<raw type>")`; MySQL's `unsigned` is carried beside
//!   the type because Atlas prints it as a column attribute (`unsigned = true`).
//! - [`to_sql`] (the parser's way): an [`HclColumnType`] → the SQL spelling to give [`ColumnType::parse`]; for a
//!   type the database would report the same way, the spelling is the one inspection returns (PostgreSQL
//!   `format_type`: `character varying(255)`, `timestamp(3) with time zone`; MySQL `COLUMN_TYPE`: `tinyint(1)`,
//!   `decimal(10,0)`, `int unsigned`), so parsing it gives the inspected [`ColumnType`].
//!
//! Per dialect (Atlas's rules):
//! - PostgreSQL: `timestamp`, `timestamptz`, `time`, `timetz` and the interval family print their precision only
//!   when it is not the default 6; `numeric(p,0)` prints `numeric(p)`; arrays, domains and unregistered types are
//!   `sql("…")` spelled as the database spells them (`sql("character varying(36)[]")`).
//! - MySQL/MariaDB: `tinyint(1)` is `bool`; integer display widths are dropped; `decimal`/`float`/`double`/`real`
//!   with a precision also print `unsigned = false` (Atlas's registry emits the flag whenever an argument is
//!   printed); `decimal(p,0)` prints `decimal(p)`.
//! - SQLite: the declared spelling is kept (`uint64`, `varchar(255)`, multi-word names with `_`:
//!   `unsigned_big_int`); integer sizes are dropped; a column without a type is `blob`.

use std::fmt;

use strata_migrate::Dialect;
use strata_schema::{ColumnType, Realm, TypeKind};

use crate::print::quote::go_quote;

/// An argument of a type call: `255` in `varchar(255)`, `"a"` in `enum("a","b")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeArg {
    /// A number.
    Int(u64),
    /// A string (printed with Go `%q` quoting).
    Str(String),
}

/// A column type expression in HCL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HclType {
    /// A bare registered name: `int`, `text`, `character_varying`.
    Ident(String),
    /// A registered name with arguments: `varchar(255)`, `decimal(10,2)`, `enum("a","b")`.
    Call {
        /// The registered name.
        name: String,
        /// The arguments in order.
        args: Vec<TypeArg>,
    },
    /// `sql("int[]")`: a raw type, as the database spells it.
    Sql(String),
    /// A reference to a PostgreSQL enum block: `enum.status`, or `enum.public.status` when qualified.
    EnumRef {
        /// The schema, when the reference is qualified (or, for [`to_sql`], known).
        schema: Option<String>,
        /// The enum's name.
        name: String,
    },
}

/// A column's `type` plus the MySQL `unsigned` attribute Atlas prints next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HclColumnType {
    /// The `type` expression.
    pub ty: HclType,
    /// `unsigned = …` (MySQL numeric types), when printed / given.
    pub unsigned: Option<bool>,
}

impl HclColumnType {
    fn plain(ty: HclType) -> Self {
        HclColumnType { ty, unsigned: None }
    }
}

/// Why an HCL type has no SQL spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// The name is not a type of the dialect.
    #[error(
        "unknown {dialect} type {name:?}: use a type Atlas knows for {dialect} or write it as sql(\"…\")"
    )]
    Unknown {
        /// The dialect's name.
        dialect: &'static str,
        /// The name as written.
        name: String,
    },
    /// The arguments do not fit the type.
    #[error("type {name}(…) takes {expected}, got {got}")]
    Args {
        /// The type's name.
        name: String,
        /// What it takes.
        expected: &'static str,
        /// What was written.
        got: String,
    },
    /// `enum.x` outside PostgreSQL.
    #[error(
        "enum.{name} refers to an enum block, which only PostgreSQL has: use enum(\"a\",\"b\") on MySQL"
    )]
    EnumRef {
        /// The referenced name.
        name: String,
    },
    /// `unsigned` on a type that has no sign.
    #[error("unsigned applies to MySQL numeric types, not to {ty}")]
    Unsigned {
        /// The type as written.
        ty: String,
    },
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
        Dialect::Sqlite => "SQLite",
    }
}

/// Whether an HCL identifier can be written bare (`status`) rather than indexed (`["my status"]`).
pub fn is_hcl_ident(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// One step of a reference: `.name`, or `["name"]` when the name is not an identifier.
pub fn ref_step(name: &str) -> String {
    if is_hcl_ident(name) {
        format!(".{name}")
    } else {
        format!("[{}]", crate::print::quote::hcl_string(name))
    }
}

impl fmt::Display for HclType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HclType::Ident(n) => f.write_str(n),
            HclType::Call { name, args } => {
                f.write_str(name)?;
                f.write_str("(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match a {
                        TypeArg::Int(n) => write!(f, "{n}")?,
                        TypeArg::Str(s) => f.write_str(&go_quote(s))?,
                    }
                }
                f.write_str(")")
            }
            HclType::Sql(s) => write!(f, "sql({})", go_quote(s)),
            HclType::EnumRef { schema, name } => {
                f.write_str("enum")?;
                if let Some(s) = schema {
                    f.write_str(&ref_step(s))?;
                }
                f.write_str(&ref_step(name))
            }
        }
    }
}

/// What [`to_hcl`] needs to know beyond the type: the schema of the column's table and the realm's PostgreSQL
/// enums (a user type naming one prints as `enum.<name>`, qualified when the name is in several schemas).
#[derive(Debug, Clone, Default)]
pub struct TypeScope<'a> {
    schema: &'a str,
    enums: Vec<(&'a str, &'a str)>,
}

impl<'a> TypeScope<'a> {
    /// The scope of a table in `schema` of `realm`.
    pub fn new(realm: &'a Realm, schema: &'a str) -> Self {
        let enums = realm
            .schemas
            .iter()
            .flat_map(|s| {
                s.enums
                    .iter()
                    .map(move |e| (s.name.as_str(), e.name.as_str()))
            })
            .collect();
        TypeScope { schema, enums }
    }

    /// A scope with no enums (MySQL, SQLite, or a table outside any realm).
    pub fn bare(schema: &'a str) -> Self {
        TypeScope {
            schema,
            enums: Vec::new(),
        }
    }

    fn enum_ref(&self, raw: &str) -> Option<HclType> {
        let (schema, name) = split_pg_name(raw)?;
        let schema = schema.unwrap_or_else(|| self.schema.to_string());
        if !self.enums.iter().any(|(s, n)| *s == schema && *n == name) {
            return None;
        }
        let ambiguous = self.enums.iter().filter(|(_, n)| *n == name).count() > 1;
        Some(HclType::EnumRef {
            schema: ambiguous.then_some(schema),
            name,
        })
    }
}

/// `name`, `"Name"`, `schema.name`, `"my schema"."Name"` → (schema, name), unquoted.
fn split_pg_name(raw: &str) -> Option<(Option<String>, String)> {
    let mut parts = Vec::new();
    let mut chars = raw.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if !(c.is_alphanumeric() || c == '_' || c == '$') {
                    return None;
                }
                part.push(c);
                chars.next();
            }
            if part.is_empty() {
                return None;
            }
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => continue,
            Some(_) => return None,
        }
    }
    match parts.len() {
        1 => Some((None, parts.pop()?)),
        2 => {
            let name = parts.pop()?;
            Some((parts.pop(), name))
        }
        _ => None,
    }
}

/// A PostgreSQL identifier as `format_type` prints it: bare when lower-case and plain, else double-quoted.
fn pg_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// `base(args) rest` → (base, numeric args or None when an argument is not a number, rest), lower-cased input.
struct Spelling {
    base: String,
    args: Vec<String>,
    rest: String,
}

fn spell(raw: &str) -> Spelling {
    let raw = raw.trim();
    match raw.find('(') {
        Some(open) => {
            let close = raw[open..]
                .rfind(')')
                .map(|c| open + c)
                .unwrap_or(raw.len());
            let inner = raw.get(open + 1..close).unwrap_or("");
            Spelling {
                base: raw[..open].trim().to_string(),
                args: if inner.trim().is_empty() {
                    Vec::new()
                } else {
                    inner.split(',').map(|a| a.trim().to_string()).collect()
                },
                rest: raw.get(close + 1..).unwrap_or("").trim().to_string(),
            }
        }
        None => {
            let (base, rest) = raw.split_once(' ').unwrap_or((raw, ""));
            Spelling {
                base: base.to_string(),
                args: Vec::new(),
                rest: rest.trim().to_string(),
            }
        }
    }
}

fn ints(args: &[String]) -> Option<Vec<u64>> {
    args.iter().map(|a| a.parse().ok()).collect()
}

fn call_or_ident(name: &str, args: &[u64]) -> HclType {
    if args.is_empty() {
        HclType::Ident(name.to_string())
    } else {
        HclType::Call {
            name: name.to_string(),
            args: args.iter().map(|a| TypeArg::Int(*a)).collect(),
        }
    }
}

/// Precision then scale, with a zero scale (and then a zero precision) left out, as Atlas's registry does.
fn precision_scale(args: &[u64]) -> Vec<u64> {
    let mut v: Vec<u64> = args.iter().take(2).copied().collect();
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// PostgreSQL names Atlas registers without arguments.
const PG_BARE: &[&str] = &[
    "bpchar",
    "int2",
    "int4",
    "int8",
    "int",
    "integer",
    "smallint",
    "bigint",
    "text",
    "boolean",
    "bool",
    "bytea",
    "cidr",
    "inet",
    "macaddr",
    "macaddr8",
    "circle",
    "line",
    "lseg",
    "box",
    "path",
    "point",
    "polygon",
    "date",
    "double_precision",
    "real",
    "float8",
    "float4",
    "smallserial",
    "serial",
    "bigserial",
    "serial2",
    "serial4",
    "serial8",
    "xml",
    "json",
    "jsonb",
    "uuid",
    "money",
    "tsvector",
    "tsquery",
    "int4range",
    "int4multirange",
    "int8range",
    "int8multirange",
    "numrange",
    "nummultirange",
    "tsrange",
    "tsmultirange",
    "tstzrange",
    "tstzmultirange",
    "daterange",
    "datemultirange",
    "hstore",
    "oid",
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "name",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
    "any",
    "anyelement",
    "anyarray",
    "anynonarray",
    "anyenum",
    "internal",
    "record",
    "trigger",
    "event_trigger",
    "void",
    "unknown",
    // Interval fields without a precision.
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "year_to_month",
    "day_to_hour",
    "day_to_minute",
    "hour_to_minute",
];

/// PostgreSQL names taking one optional length / precision argument.
const PG_ONE_ARG: &[&str] = &[
    "bit",
    "bit_varying",
    "varchar",
    "character_varying",
    "char",
    "character",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "float",
    "interval",
    "second",
    "day_to_second",
    "hour_to_second",
    "minute_to_second",
];

/// PostgreSQL names whose one argument is a fractional-second precision (printed only when not 6).
const PG_TIME_PRECISION: &[&str] = &[
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "interval",
    "second",
    "day_to_second",
    "hour_to_second",
    "minute_to_second",
];

const PG_TWO_ARGS: &[&str] = &["numeric", "decimal"];

fn pg_to_hcl(ty: &ColumnType, scope: &TypeScope<'_>) -> HclType {
    let raw = ty.raw.trim();
    if raw.ends_with("[]") {
        return HclType::Sql(raw.to_string());
    }
    if let TypeKind::UserDefined { .. } = ty.kind
        && let Some(r) = scope.enum_ref(raw)
    {
        return r;
    }
    let lower = raw.to_lowercase();
    let sp = spell(&lower);
    let full = if sp.rest.is_empty() {
        sp.base.clone()
    } else {
        format!("{} {}", sp.base, sp.rest)
    };
    let Some(args) = ints(&sp.args) else {
        return HclType::Sql(raw.to_string());
    };
    // format_type's long names → Atlas's short ones.
    let name = match full.as_str() {
        "timestamp without time zone" => "timestamp".to_string(),
        "timestamp with time zone" => "timestamptz".to_string(),
        "time without time zone" => "time".to_string(),
        "time with time zone" => "timetz".to_string(),
        f => match f.strip_prefix("interval ") {
            Some(fields) => fields.replace(' ', "_"),
            None => f.replace(' ', "_"),
        },
    };
    if PG_TIME_PRECISION.contains(&name.as_str()) {
        let args: Vec<u64> = args.into_iter().filter(|p| *p != 6).collect();
        if args.len() <= 1 {
            return call_or_ident(&name, &args);
        }
    } else if PG_TWO_ARGS.contains(&name.as_str()) && args.len() <= 2 {
        return call_or_ident(&name, &precision_scale(&args));
    } else if PG_ONE_ARG.contains(&name.as_str()) && args.len() <= 1
        || PG_BARE.contains(&name.as_str()) && args.is_empty()
    {
        return call_or_ident(&name, &args);
    }
    HclType::Sql(raw.to_string())
}

const MYSQL_INTS: &[&str] = &[
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
];
const MYSQL_DECIMALS: &[&str] = &["decimal", "numeric", "float", "double", "real"];
/// MySQL names with one optional size / precision argument.
const MYSQL_ONE_ARG: &[&str] = &[
    "bit",
    "varchar",
    "char",
    "varbinary",
    "binary",
    "blob",
    "text",
    "timestamp",
    "time",
    "datetime",
    "year",
];
const MYSQL_BARE: &[&str] = &[
    "bool",
    "boolean",
    "date",
    "tinyblob",
    "mediumblob",
    "longblob",
    "json",
    "tinytext",
    "mediumtext",
    "longtext",
    "geometry",
    "point",
    "multipoint",
    "linestring",
    "multilinestring",
    "polygon",
    "multipolygon",
    "geometrycollection",
    "inet4",
    "inet6",
];

fn mysql_to_hcl(ty: &ColumnType) -> HclColumnType {
    let raw = ty.raw.trim();
    let lower = raw.to_lowercase();
    let sp = spell(&lower);
    let words: Vec<&str> = sp.rest.split_whitespace().collect();
    let unsigned = words.contains(&"unsigned");
    let only_unsigned = words.iter().all(|w| *w == "unsigned");
    let base = sp.base.as_str();
    if matches!(base, "enum" | "set")
        && let TypeKind::Enum { values } | TypeKind::Set { values } = &ty.kind
    {
        return HclColumnType::plain(HclType::Call {
            name: base.to_string(),
            args: values.iter().map(|v| TypeArg::Str(v.clone())).collect(),
        });
    }
    let sql = || HclColumnType::plain(HclType::Sql(raw.to_string()));
    let (Some(args), true) = (ints(&sp.args), only_unsigned) else {
        return sql();
    };
    if base == "tinyint" && args == [1] && !unsigned {
        return HclColumnType::plain(HclType::Ident("bool".into()));
    }
    if MYSQL_INTS.contains(&base) {
        let name = if base == "integer" { "int" } else { base };
        return HclColumnType {
            ty: HclType::Ident(name.to_string()),
            unsigned: unsigned.then_some(true),
        };
    }
    if MYSQL_DECIMALS.contains(&base) && args.len() <= 2 {
        let args = if base == "float" || base == "double" || base == "real" {
            args.into_iter().take(1).filter(|p| *p != 0).collect()
        } else {
            precision_scale(&args)
        };
        let printed = !args.is_empty();
        return HclColumnType {
            ty: call_or_ident(base, &args),
            unsigned: (printed || unsigned).then_some(unsigned),
        };
    }
    if unsigned {
        return sql();
    }
    if MYSQL_ONE_ARG.contains(&base) && args.len() <= 1
        || MYSQL_BARE.contains(&base) && args.is_empty()
    {
        return HclColumnType::plain(call_or_ident(base, &args));
    }
    sql()
}

/// SQLite names (multi-word ones as Atlas writes them, with `_`) and whether they keep a size argument.
const SQLITE_SIZED: &[&str] = &[
    "blob",
    "text",
    "character",
    "varchar",
    "varying_character",
    "nchar",
    "native_character",
    "nvarchar",
    "clob",
];
const SQLITE_INTS: &[&str] = &[
    "integer",
    "int",
    "tinyint",
    "smallint",
    "mediumint",
    "bigint",
    "unsigned_big_int",
    "int2",
    "int8",
    "uint64",
];
const SQLITE_FLOATS: &[&str] = &["double", "double_precision", "float"];
const SQLITE_DECIMALS: &[&str] = &["real", "numeric", "decimal"];
const SQLITE_BARE: &[&str] = &[
    "bool", "boolean", "date", "datetime", "json", "jsonb", "uuid",
];

fn sqlite_to_hcl(ty: &ColumnType) -> HclType {
    let raw = ty.raw.trim();
    if raw.is_empty() {
        return HclType::Ident("blob".into());
    }
    let lower = raw.to_lowercase();
    let sp = spell(&lower);
    if !sp.rest.is_empty() && !sp.args.is_empty() {
        return HclType::Sql(raw.to_string());
    }
    let mut name = sp
        .base
        .split_whitespace()
        .chain(sp.rest.split_whitespace())
        .collect::<Vec<_>>()
        .join("_");
    if name.is_empty() {
        name = "blob".into();
    }
    let Some(args) = ints(&sp.args) else {
        return HclType::Sql(raw.to_string());
    };
    let n = name.as_str();
    if SQLITE_INTS.contains(&n) || SQLITE_FLOATS.contains(&n) {
        if args.len() <= 2 {
            return HclType::Ident(name);
        }
    } else if SQLITE_DECIMALS.contains(&n) && args.len() <= 2 {
        return call_or_ident(n, &precision_scale(&args));
    } else if SQLITE_SIZED.contains(&n) && args.len() <= 1
        || SQLITE_BARE.contains(&n) && args.is_empty()
    {
        return call_or_ident(n, &args);
    }
    HclType::Sql(raw.to_string())
}

/// A model column type as HCL spells it under `dialect` (see the module docs).
pub fn to_hcl(dialect: Dialect, ty: &ColumnType, scope: &TypeScope<'_>) -> HclColumnType {
    match dialect {
        Dialect::Postgres => HclColumnType::plain(pg_to_hcl(ty, scope)),
        Dialect::Mysql => mysql_to_hcl(ty),
        Dialect::Sqlite => HclColumnType::plain(sqlite_to_hcl(ty)),
    }
}

fn int_args(name: &str, args: &[TypeArg], max: usize) -> Result<Vec<u64>, TypeError> {
    let bad = || TypeError::Args {
        name: name.to_string(),
        expected: match max {
            0 => "no arguments",
            1 => "at most one number",
            _ => "at most two numbers",
        },
        got: HclType::Call {
            name: name.to_string(),
            args: args.to_vec(),
        }
        .to_string(),
    };
    if args.len() > max {
        return Err(bad());
    }
    args.iter()
        .map(|a| match a {
            TypeArg::Int(n) => Ok(*n),
            TypeArg::Str(_) => Err(bad()),
        })
        .collect()
}

fn paren(args: &[u64]) -> String {
    if args.is_empty() {
        String::new()
    } else {
        let v: Vec<String> = args.iter().map(u64::to_string).collect();
        format!("({})", v.join(","))
    }
}

fn name_args(ty: &HclType) -> (&str, &[TypeArg]) {
    match ty {
        HclType::Ident(n) => (n, &[]),
        HclType::Call { name, args } => (name, args),
        // Callers handle the other forms first.
        HclType::Sql(s) => (s, &[]),
        HclType::EnumRef { name, .. } => (name, &[]),
    }
}

fn pg_to_sql(ty: &HclType) -> Result<String, TypeError> {
    let (name, args) = name_args(ty);
    let unknown = || TypeError::Unknown {
        dialect: dialect_name(Dialect::Postgres),
        name: name.to_string(),
    };
    if PG_TWO_ARGS.contains(&name) {
        let a = int_args(name, args, 2)?;
        return Ok(match a.as_slice() {
            [] => "numeric".to_string(),
            [p] => format!("numeric({p},0)"),
            [p, s, ..] => format!("numeric({p},{s})"),
        });
    }
    if PG_ONE_ARG.contains(&name) {
        let a = int_args(name, args, 1)?;
        let p = paren(&a);
        let precision = || {
            if a.is_empty() || a == [6] {
                String::new()
            } else {
                p.clone()
            }
        };
        return Ok(match name {
            "bit" if a.is_empty() => "bit(1)".to_string(),
            "bit" => format!("bit{p}"),
            "bit_varying" => format!("bit varying{p}"),
            "varchar" | "character_varying" => format!("character varying{p}"),
            "char" | "character" if a.is_empty() => "character(1)".to_string(),
            "char" | "character" => format!("character{p}"),
            "time" => format!("time{} without time zone", precision()),
            "timetz" => format!("time{} with time zone", precision()),
            "timestamp" => format!("timestamp{} without time zone", precision()),
            "timestamptz" => format!("timestamp{} with time zone", precision()),
            "float" => match a.first() {
                Some(p) if *p <= 24 => "real".to_string(),
                _ => "double precision".to_string(),
            },
            "interval" => format!("interval{}", precision()),
            fields => format!("interval {}{}", fields.replace('_', " "), precision()),
        });
    }
    if !PG_BARE.contains(&name) {
        return Err(unknown());
    }
    int_args(name, args, 0)?;
    Ok(match name {
        "int" | "int4" => "integer",
        "int2" => "smallint",
        "int8" => "bigint",
        "bool" => "boolean",
        "float8" | "double_precision" => "double precision",
        "float4" => "real",
        "year" | "month" | "day" | "hour" | "minute" | "year_to_month" | "day_to_hour"
        | "day_to_minute" | "hour_to_minute" => {
            return Ok(format!("interval {}", name.replace('_', " ")));
        }
        other => other,
    }
    .to_string())
}

fn sql_string(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn mysql_to_sql(ty: &HclType, unsigned: bool) -> Result<String, TypeError> {
    let (name, args) = name_args(ty);
    let suffix = if unsigned { " unsigned" } else { "" };
    if matches!(name, "enum" | "set") {
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            match a {
                TypeArg::Str(s) => values.push(sql_string(s)),
                TypeArg::Int(_) => {
                    return Err(TypeError::Args {
                        name: name.to_string(),
                        expected: "string values",
                        got: ty.to_string(),
                    });
                }
            }
        }
        if values.is_empty() {
            return Err(TypeError::Args {
                name: name.to_string(),
                expected: "at least one value",
                got: ty.to_string(),
            });
        }
        return no_unsigned(format!("{name}({})", values.join(",")), unsigned);
    }
    if MYSQL_INTS.contains(&name) {
        // Display widths mean nothing to the type; inspection drops them.
        int_args(name, args, 1)?;
        let base = if name == "integer" { "int" } else { name };
        return Ok(format!("{base}{suffix}"));
    }
    if MYSQL_DECIMALS.contains(&name) {
        let a = int_args(name, args, 2)?;
        return Ok(match name {
            "decimal" | "numeric" => match a.as_slice() {
                [] => format!("decimal(10,0){suffix}"),
                [p] => format!("decimal({p},0){suffix}"),
                _ => format!("decimal{}{suffix}", paren(&a)),
            },
            "real" => format!("double{}{suffix}", paren(&a)),
            _ => format!("{name}{}{suffix}", paren(&a)),
        });
    }
    if matches!(name, "bool" | "boolean") {
        int_args(name, args, 0)?;
        return no_unsigned("tinyint(1)".into(), unsigned);
    }
    if MYSQL_ONE_ARG.contains(&name) {
        let a = int_args(name, args, 1)?;
        let s = match (name, a.as_slice()) {
            ("char" | "binary", []) => format!("{name}(1)"),
            _ => format!("{name}{}", paren(&a)),
        };
        return no_unsigned(s, unsigned);
    }
    if MYSQL_BARE.contains(&name) {
        int_args(name, args, 0)?;
        return no_unsigned(name.to_string(), unsigned);
    }
    Err(TypeError::Unknown {
        dialect: dialect_name(Dialect::Mysql),
        name: name.to_string(),
    })
}

fn no_unsigned(s: String, unsigned: bool) -> Result<String, TypeError> {
    if unsigned {
        Err(TypeError::Unsigned { ty: s })
    } else {
        Ok(s)
    }
}

fn sqlite_to_sql(ty: &HclType) -> Result<String, TypeError> {
    let (name, args) = name_args(ty);
    let spelled = name.replace('_', " ");
    let n = name;
    if SQLITE_INTS.contains(&n) || SQLITE_FLOATS.contains(&n) || SQLITE_DECIMALS.contains(&n) {
        let a = int_args(name, args, 2)?;
        return Ok(format!("{spelled}{}", paren(&a)));
    }
    if SQLITE_SIZED.contains(&n) {
        let a = int_args(name, args, 1)?;
        return Ok(format!("{spelled}{}", paren(&a)));
    }
    if SQLITE_BARE.contains(&n) {
        int_args(name, args, 0)?;
        return Ok(spelled);
    }
    Err(TypeError::Unknown {
        dialect: dialect_name(Dialect::Sqlite),
        name: name.to_string(),
    })
}

/// The SQL spelling of an HCL column type under `dialect`, for [`ColumnType::parse`] (see the module docs).
/// `sql("…")` is taken as written; `enum.x` is PostgreSQL's user type `x` (qualified when the reference or the
/// caller names the schema).
pub fn to_sql(dialect: Dialect, ty: &HclColumnType) -> Result<String, TypeError> {
    let unsigned = ty.unsigned == Some(true);
    match &ty.ty {
        HclType::Sql(s) => Ok(s.clone()),
        HclType::EnumRef { schema, name } => match dialect {
            Dialect::Postgres => Ok(match schema {
                Some(s) => format!("{}.{}", pg_ident(s), pg_ident(name)),
                None => pg_ident(name),
            }),
            _ => Err(TypeError::EnumRef { name: name.clone() }),
        },
        t => match dialect {
            Dialect::Postgres => no_unsigned(pg_to_sql(t)?, unsigned),
            Dialect::Mysql => mysql_to_sql(t, unsigned),
            Dialect::Sqlite => no_unsigned(sqlite_to_sql(t)?, unsigned),
        },
    }
}

/// Whether `name` is a type name of `dialect`'s registry (so a bare identifier in a `type` is a type).
pub fn is_registered(dialect: Dialect, name: &str) -> bool {
    let lists: &[&[&str]] = match dialect {
        Dialect::Postgres => &[PG_BARE, PG_ONE_ARG, PG_TWO_ARGS],
        Dialect::Mysql => &[
            MYSQL_INTS,
            MYSQL_DECIMALS,
            MYSQL_ONE_ARG,
            MYSQL_BARE,
            &["enum", "set"],
        ],
        Dialect::Sqlite => &[
            SQLITE_SIZED,
            SQLITE_INTS,
            SQLITE_FLOATS,
            SQLITE_DECIMALS,
            SQLITE_BARE,
        ],
    };
    lists.iter().any(|l| l.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_schema::{Enum, Schema};

    fn hcl(d: Dialect, raw: &str) -> String {
        let t = to_hcl(d, &ColumnType::parse(d, raw), &TypeScope::bare("public"));
        match t.unsigned {
            Some(u) => format!("{} unsigned={u}", t.ty),
            None => t.ty.to_string(),
        }
    }

    fn sql(d: Dialect, ty: HclType, unsigned: Option<bool>) -> String {
        to_sql(d, &HclColumnType { ty, unsigned }).unwrap()
    }

    fn id(s: &str) -> HclType {
        HclType::Ident(s.into())
    }

    fn call(s: &str, args: &[u64]) -> HclType {
        call_or_ident(s, args)
    }

    #[test]
    fn postgres_names_as_atlas_prints_them() {
        let d = Dialect::Postgres;
        for (raw, want) in [
            ("integer", "integer"),
            ("bigint", "bigint"),
            ("character varying(255)", "character_varying(255)"),
            ("character varying", "character_varying"),
            ("character(10)", "character(10)"),
            ("numeric(10,2)", "numeric(10,2)"),
            ("numeric(10,0)", "numeric(10)"),
            ("numeric", "numeric"),
            ("double precision", "double_precision"),
            ("timestamp without time zone", "timestamp"),
            ("timestamp(6) without time zone", "timestamp"),
            ("timestamp(4) without time zone", "timestamp(4)"),
            ("timestamp(3) with time zone", "timestamptz(3)"),
            ("timestamp with time zone", "timestamptz"),
            ("time(0) with time zone", "timetz(0)"),
            ("interval", "interval"),
            ("interval year to month", "year_to_month"),
            ("interval day to second(3)", "day_to_second(3)"),
            ("bit varying(8)", "bit_varying(8)"),
            ("bit(4)", "bit(4)"),
            ("jsonb", "jsonb"),
            ("uuid", "uuid"),
            ("integer[]", r#"sql("integer[]")"#),
            (
                "character varying(36)[]",
                r#"sql("character varying(36)[]")"#,
            ),
            ("status[]", r#"sql("status[]")"#),
            ("txid_snapshot", r#"sql("txid_snapshot")"#),
            ("public.citext", r#"sql("public.citext")"#),
        ] {
            assert_eq!(hcl(d, raw), want, "{raw}");
        }
    }

    #[test]
    fn postgres_enums_are_references() {
        let mut realm = Realm::new(Dialect::Postgres);
        let mut public = Schema::new("public");
        public.enums.push(Enum {
            name: "status".into(),
            values: vec!["a".into()],
        });
        public.enums.push(Enum {
            name: "shared".into(),
            values: vec!["a".into()],
        });
        let mut app = Schema::new("app");
        app.enums.push(Enum {
            name: "shared".into(),
            values: vec!["b".into()],
        });
        app.enums.push(Enum {
            name: "My Kind".into(),
            values: vec!["b".into()],
        });
        realm.schemas = vec![app, public];
        let scope = TypeScope::new(&realm, "public");
        let p = |raw: &str| {
            to_hcl(
                Dialect::Postgres,
                &ColumnType::parse(Dialect::Postgres, raw),
                &scope,
            )
            .ty
            .to_string()
        };
        assert_eq!(p("status"), "enum.status");
        assert_eq!(p("public.status"), "enum.status");
        assert_eq!(p("shared"), "enum.public.shared");
        assert_eq!(p("app.shared"), "enum.app.shared");
        assert_eq!(p("app.\"My Kind\""), "enum[\"My Kind\"]");
        assert_eq!(p("app.status"), "sql(\"app.status\")");
        assert_eq!(p("public.status[]"), "sql(\"public.status[]\")");
    }

    #[test]
    fn mysql_names_as_atlas_prints_them() {
        let d = Dialect::Mysql;
        for (raw, want) in [
            ("int", "int"),
            ("int(11)", "int"),
            ("int unsigned", "int unsigned=true"),
            ("bigint(20) unsigned", "bigint unsigned=true"),
            ("tinyint(1)", "bool"),
            ("tinyint(1) unsigned", "tinyint unsigned=true"),
            ("tinyint(4)", "tinyint"),
            ("varchar(255)", "varchar(255)"),
            ("char(10)", "char(10)"),
            ("decimal(10,2)", "decimal(10,2) unsigned=false"),
            ("decimal(10,0)", "decimal(10) unsigned=false"),
            ("decimal(10,2) unsigned", "decimal(10,2) unsigned=true"),
            ("double", "double"),
            ("float", "float"),
            ("timestamp(6)", "timestamp(6)"),
            ("datetime", "datetime"),
            ("year", "year"),
            ("json", "json"),
            ("longtext", "longtext"),
            ("point", "point"),
            ("varbinary(16)", "varbinary(16)"),
            ("bit(1)", "bit(1)"),
            ("enum('a','it''s','b\\\"c')", r#"enum("a","it's","b\"c")"#),
            ("set('x','y')", r#"set("x","y")"#),
            ("int zerofill", r#"sql("int zerofill")"#),
            ("mystery", r#"sql("mystery")"#),
        ] {
            assert_eq!(hcl(d, raw), want, "{raw}");
        }
    }

    #[test]
    fn sqlite_keeps_the_declared_spelling() {
        let d = Dialect::Sqlite;
        for (raw, want) in [
            ("int", "int"),
            ("INTEGER", "integer"),
            ("uint64", "uint64"),
            ("int(11)", "int"),
            ("varchar(255)", "varchar(255)"),
            ("text", "text"),
            ("decimal(10,2)", "decimal(10,2)"),
            ("unsigned big int", "unsigned_big_int"),
            ("double precision", "double_precision"),
            ("native character(70)", "native_character(70)"),
            ("", "blob"),
            ("boolean", "boolean"),
            ("timestamp", r#"sql("timestamp")"#),
            ("user_defined", r#"sql("user_defined")"#),
        ] {
            assert_eq!(hcl(d, raw), want, "{raw}");
        }
    }

    #[test]
    fn postgres_sql_spellings_are_format_type() {
        let d = Dialect::Postgres;
        for (ty, want) in [
            (id("int"), "integer"),
            (id("int8"), "bigint"),
            (id("serial"), "serial"),
            (call("varchar", &[255]), "character varying(255)"),
            (call("character_varying", &[]), "character varying"),
            (call("char", &[]), "character(1)"),
            (call("character", &[10]), "character(10)"),
            (call("decimal", &[10, 2]), "numeric(10,2)"),
            (call("numeric", &[10]), "numeric(10,0)"),
            (id("timestamp"), "timestamp without time zone"),
            (call("timestamp", &[4]), "timestamp(4) without time zone"),
            (call("timestamptz", &[6]), "timestamp with time zone"),
            (call("timetz", &[3]), "time(3) with time zone"),
            (id("double_precision"), "double precision"),
            (id("year_to_month"), "interval year to month"),
            (call("day_to_second", &[3]), "interval day to second(3)"),
            (id("bool"), "boolean"),
            (HclType::Sql("integer[]".into()), "integer[]"),
            (
                HclType::EnumRef {
                    schema: Some("public".into()),
                    name: "Status".into(),
                },
                "public.\"Status\"",
            ),
        ] {
            assert_eq!(sql(d, ty.clone(), None), want, "{ty}");
        }
    }

    #[test]
    fn mysql_sql_spellings_are_column_type() {
        let d = Dialect::Mysql;
        assert_eq!(sql(d, id("int"), Some(true)), "int unsigned");
        assert_eq!(sql(d, id("bool"), None), "tinyint(1)");
        assert_eq!(sql(d, call("decimal", &[10]), Some(false)), "decimal(10,0)");
        assert_eq!(sql(d, id("decimal"), None), "decimal(10,0)");
        assert_eq!(sql(d, id("char"), None), "char(1)");
        assert_eq!(
            sql(
                d,
                HclType::Call {
                    name: "enum".into(),
                    args: vec![TypeArg::Str("a".into()), TypeArg::Str("it's".into())]
                },
                None
            ),
            "enum('a','it''s')"
        );
    }

    #[test]
    fn errors_name_the_type() {
        let e = to_sql(Dialect::Postgres, &HclColumnType::plain(id("varchar2"))).unwrap_err();
        assert!(e.to_string().contains("\"varchar2\""), "{e}");
        let e = to_sql(
            Dialect::Mysql,
            &HclColumnType {
                ty: id("text"),
                unsigned: Some(true),
            },
        )
        .unwrap_err();
        assert!(matches!(e, TypeError::Unsigned { .. }));
        let e = to_sql(
            Dialect::Mysql,
            &HclColumnType::plain(HclType::EnumRef {
                schema: None,
                name: "s".into(),
            }),
        )
        .unwrap_err();
        assert!(matches!(e, TypeError::EnumRef { .. }));
        let e = to_sql(
            Dialect::Postgres,
            &HclColumnType::plain(HclType::Call {
                name: "varchar".into(),
                args: vec![TypeArg::Str("x".into())],
            }),
        )
        .unwrap_err();
        assert!(e.to_string().contains("varchar(\"x\")"), "{e}");
    }

    /// The property the parser relies on: for what inspection returns, HCL → SQL → parse gives the same type.
    #[test]
    fn round_trip_gives_the_inspected_type() {
        let cases: &[(Dialect, &[&str])] = &[
            (
                Dialect::Postgres,
                &[
                    "integer",
                    "bigint",
                    "smallint",
                    "character varying(255)",
                    "character varying",
                    "character(10)",
                    "numeric(10,2)",
                    "numeric(10,0)",
                    "numeric",
                    "double precision",
                    "real",
                    "timestamp without time zone",
                    "timestamp(4) without time zone",
                    "timestamp(3) with time zone",
                    "timestamp with time zone",
                    "time without time zone",
                    "time(2) with time zone",
                    "interval",
                    "interval day to second(3)",
                    "boolean",
                    "bytea",
                    "jsonb",
                    "uuid",
                    "inet",
                    "bit(4)",
                    "bit varying(8)",
                    "integer[]",
                    "character varying(36)[]",
                    "public.citext",
                ],
            ),
            (
                Dialect::Mysql,
                &[
                    "int",
                    "int unsigned",
                    "bigint unsigned",
                    "tinyint(1)",
                    "tinyint",
                    "varchar(255)",
                    "char(10)",
                    "decimal(10,2)",
                    "decimal(10,0)",
                    "double",
                    "float",
                    "timestamp(6)",
                    "datetime",
                    "json",
                    "longtext",
                    "point",
                    "enum('a','it''s')",
                    "set('x','y')",
                ],
            ),
            (
                Dialect::Sqlite,
                &[
                    "int",
                    "integer",
                    "uint64",
                    "varchar(255)",
                    "text",
                    "decimal(10,2)",
                    "unsigned big int",
                    "boolean",
                    "datetime",
                    "timestamp",
                ],
            ),
        ];
        for (d, raws) in cases {
            for raw in raws.iter() {
                let inspected = ColumnType::parse(*d, raw);
                let h = to_hcl(*d, &inspected, &TypeScope::bare("public"));
                let back = ColumnType::parse(*d, &to_sql(*d, &h).unwrap());
                assert_eq!(back, inspected, "{d:?} {raw} → {}", h.ty);
            }
        }
    }
}
