//! MySQL/MariaDB: display widths, type aliases, `CURRENT_TIMESTAMP` spellings, quoted literal defaults.

use crate::model::Table;

/// The `COLUMN_TYPE` spelling of a type written another way (`int(11)` → `int`, `boolean` → `tinyint(1)`).
pub(super) fn type_name(raw: &str) -> String {
    let t = raw.to_lowercase();
    let (base, args, rest) = match t.find('(') {
        Some(o) => {
            let close = t[o..].find(')').map(|c| o + c + 1).unwrap_or(t.len());
            (
                t[..o].trim().to_string(),
                t[o..close].replace(' ', ""),
                t[close..].trim().to_string(),
            )
        }
        None => match t.split_once(' ') {
            Some((b, r)) => (b.to_string(), String::new(), r.trim().to_string()),
            None => (t.clone(), String::new(), String::new()),
        },
    };
    let join = |b: &str, a: &str| {
        if rest.is_empty() {
            format!("{b}{a}")
        } else {
            format!("{b}{a} {rest}")
        }
    };
    match base.as_str() {
        "bool" | "boolean" => "tinyint(1)".to_string(),
        "tinyint" if args == "(1)" => join("tinyint", "(1)"),
        "tinyint" | "smallint" | "mediumint" | "bigint" => join(&base, ""),
        "int" | "integer" => join("int", ""),
        "numeric" | "dec" | "fixed" | "decimal" => {
            let a = match args.as_str() {
                "" => "(10,0)".to_string(),
                a if !a.contains(',') => format!("{},0)", a.trim_end_matches(')')),
                a => a.to_string(),
            };
            join("decimal", &a)
        }
        "real" | "double" => join("double", &args),
        "character" => join("char", &args),
        _ => t,
    }
}

/// A default in comparable form: `CURRENT_TIMESTAMP` family lower-cased with `()` (as MariaDB reports it),
/// `NULL` is no default.
pub(super) fn default(d: &str) -> Option<String> {
    let d = super::collapse(super::strip_parens(d));
    let lower = d.to_ascii_lowercase();
    if lower == "null" {
        return None;
    }
    for kw in ["current_timestamp", "now", "localtimestamp", "localtime"] {
        if lower == kw || lower == format!("{kw}()") {
            return Some("current_timestamp()".into());
        }
        if let Some(p) = lower.strip_prefix(kw)
            && p.starts_with('(')
        {
            return Some(format!("current_timestamp{p}"));
        }
    }
    Some(d)
}

/// Table-level: `InnoDB` is the default engine.
pub(super) fn table(t: &mut Table) {
    if t.options
        .engine
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("innodb"))
    {
        t.options.engine = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(type_name("int(11)"), "int");
        assert_eq!(type_name("INTEGER"), "int");
        assert_eq!(type_name("bigint(20) unsigned"), "bigint unsigned");
        assert_eq!(type_name("boolean"), "tinyint(1)");
        assert_eq!(type_name("decimal"), "decimal(10,0)");
        assert_eq!(type_name("numeric(5)"), "decimal(5,0)");
        assert_eq!(type_name("varchar(10)"), "varchar(10)");
    }

    #[test]
    fn defaults() {
        assert_eq!(
            default("CURRENT_TIMESTAMP").as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(default("now()").as_deref(), Some("current_timestamp()"));
        assert_eq!(
            default("current_timestamp(6)").as_deref(),
            Some("current_timestamp(6)")
        );
        assert_eq!(default("NULL"), None);
    }
}
