//! PostgreSQL: `format_type` spellings, literal casts in defaults, serial/identity defaults, `t_pkey` names.

use crate::model::Column;

/// The `format_type` spelling of a type written another way (`int4` → `integer`, `varchar(10)` →
/// `character varying(10)`).
pub(super) fn type_name(raw: &str) -> String {
    if let Some(elem) = raw.strip_suffix("[]") {
        return format!("{}[]", type_name(elem));
    }
    let lower = raw.to_lowercase();
    if raw.contains('"') {
        return raw.to_string();
    }
    let (base, args) = match lower.find('(') {
        Some(o) => {
            let close = lower[o..]
                .find(')')
                .map(|c| o + c + 1)
                .unwrap_or(lower.len());
            let rest = lower[close..].trim();
            let base = format!("{} {}", lower[..o].trim(), rest);
            (base.trim().to_string(), lower[o..close].replace(' ', ""))
        }
        None => (lower.trim().to_string(), String::new()),
    };
    let canonical = match base.as_str() {
        "int" | "int4" | "serial" | "serial4" => "integer",
        "int2" | "smallserial" | "serial2" => "smallint",
        "int8" | "bigserial" | "serial8" => "bigint",
        "bool" => "boolean",
        "float8" | "float" if args.is_empty() => "double precision",
        "float4" => "real",
        "decimal" => "numeric",
        "varchar" => "character varying",
        "char" | "bpchar" => "character",
        "varbit" => "bit varying",
        "timestamp" => "timestamp without time zone",
        "timestamptz" => "timestamp with time zone",
        "time" => "time without time zone",
        "timetz" => "time with time zone",
        other => other,
    };
    if base == "float" && !args.is_empty() {
        let p: u32 = args
            .trim_matches(|c| c == '(' || c == ')')
            .parse()
            .unwrap_or(53);
        return if p <= 24 { "real" } else { "double precision" }.to_string();
    }
    if (base == "char" || base == "character") && args.is_empty() {
        return "character(1)".to_string();
    }
    if args.is_empty() {
        return canonical.to_string();
    }
    // Precision goes after the time keyword: `timestamp(3) without time zone`.
    if let Some(rest) = canonical.strip_prefix("timestamp ") {
        return format!("timestamp{args} {rest}");
    }
    if let Some(rest) = canonical.strip_prefix("time ") {
        return format!("time{args} {rest}");
    }
    format!("{canonical}{args}")
}

/// A default without the casts PostgreSQL adds to literals (`'a'::text` → `'a'`, `'-1'::integer` → `-1`);
/// `NULL` (with or without a cast) is no default.
pub(super) fn default(d: &str) -> Option<String> {
    let d = super::collapse(super::strip_parens(d));
    let d = strip_literal_cast(&d);
    if d.eq_ignore_ascii_case("null") {
        return None;
    }
    Some(expr(&d))
}

fn strip_literal_cast(d: &str) -> String {
    if let Some(rest) = d.strip_prefix('\'') {
        // Find the closing quote ('' is an escaped quote).
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                let lit = &d[..i + 2];
                let after = &d[i + 2..];
                if after.is_empty() {
                    return lit.to_string();
                }
                if after.starts_with("::")
                    && !after[2..].contains(|c: char| "'+-*/|<>=".contains(c))
                {
                    // A number written as a string literal reads as the number.
                    let inner = &lit[1..lit.len() - 1];
                    if inner.parse::<f64>().is_ok()
                        && !after.contains("char")
                        && !after.contains("text")
                    {
                        return inner.to_string();
                    }
                    return lit.to_string();
                }
                return d.to_string();
            }
            i += 1;
        }
        return d.to_string();
    }
    if let Some((lhs, _)) = d.split_once("::")
        && lhs.eq_ignore_ascii_case("null")
    {
        return "NULL".to_string();
    }
    d.to_string()
}

/// Expression spelling: `CURRENT_TIMESTAMP` and friends in upper case.
pub(super) fn expr(e: &str) -> String {
    let lower = e.to_ascii_lowercase();
    for kw in [
        "current_timestamp",
        "current_date",
        "current_time",
        "localtimestamp",
    ] {
        if lower == kw {
            return kw.to_ascii_uppercase();
        }
    }
    if lower == "now()" {
        return "now()".into();
    }
    e.to_string()
}

/// A `serial` column's default names its own sequence: `nextval('t_c_seq'::regclass)`, possibly schema-qualified
/// (`nextval('public.t_c_seq'::regclass)`, as read with an empty `search_path`); a column typed `serial`
/// (`bigserial`, `smallserial`) without a default has that default. Identity columns have no default.
pub(super) fn column(table: &str, declared: &str, c: &mut Column) {
    if c.identity.is_some() {
        c.default = None;
    }
    let own = format!("nextval('{table}_{}_seq')", c.name);
    let raw = declared.to_ascii_lowercase();
    if c.default.is_none()
        && c.identity.is_none()
        && matches!(
            raw.as_str(),
            "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
        )
    {
        c.default = Some(own.clone());
        return;
    }
    if let Some(d) = &c.default
        && let Some(rest) = d.strip_prefix("nextval('")
        && let Some(name) = rest
            .strip_suffix("'::regclass)")
            .or_else(|| rest.strip_suffix("')"))
    {
        let seq = format!("{table}_{}_seq", c.name);
        let last = name.rsplit('.').next().unwrap_or(name);
        if last == seq || last == format!("\"{seq}\"") {
            c.default = Some(own);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(type_name("int4"), "integer");
        assert_eq!(type_name("varchar(10)"), "character varying(10)");
        assert_eq!(type_name("VARCHAR ( 10 )"), "character varying(10)");
        assert_eq!(type_name("char"), "character(1)");
        assert_eq!(type_name("timestamptz(3)"), "timestamp(3) with time zone");
        assert_eq!(type_name("int[]"), "integer[]");
        assert_eq!(type_name("decimal(10,2)"), "numeric(10,2)");
        assert_eq!(type_name("float(10)"), "real");
        assert_eq!(type_name("\"Status\""), "\"Status\"");
    }

    #[test]
    fn defaults() {
        assert_eq!(default("'a'::text").as_deref(), Some("'a'"));
        assert_eq!(
            default("'it''s'::character varying").as_deref(),
            Some("'it''s'")
        );
        assert_eq!(default("'-1'::integer").as_deref(), Some("-1"));
        assert_eq!(default("NULL::character varying"), None);
        assert_eq!(default("(1)").as_deref(), Some("1"));
        assert_eq!(
            default("current_timestamp").as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            default("'a'::text || 'b'::text").as_deref(),
            Some("'a'::text || 'b'::text")
        );
    }

    #[test]
    fn serial_defaults() {
        use crate::types::ColumnType;
        use strata_migrate::Dialect;
        let mut a = Column::new("id", ColumnType::parse(Dialect::Postgres, "serial"));
        column("t", "serial", &mut a);
        let mut b = Column::new("id", ColumnType::parse(Dialect::Postgres, "integer"));
        b.default = Some("nextval('public.t_id_seq'::regclass)".into());
        column("t", "integer", &mut b);
        assert_eq!(a.default, b.default);
        let mut c = Column::new("id", ColumnType::parse(Dialect::Postgres, "integer"));
        c.default = Some("nextval('other_seq'::regclass)".into());
        column("t", "integer", &mut c);
        assert_eq!(c.default.as_deref(), Some("nextval('other_seq'::regclass)"));
    }
}
