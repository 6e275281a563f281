//! MySQL/MariaDB: display widths, type aliases, `CURRENT_TIMESTAMP` spellings, quoted literal defaults.

use crate::model::{FkAction, Table};
use crate::types::TypeKind;

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

/// Table-level: `InnoDB` is the default engine; `RESTRICT` and `NO ACTION` are the same action (InnoDB checks
/// at once either way, and MariaDB reports an unspecified action as `RESTRICT`); a column's character set and
/// collation equal to the table's are the inherited ones; a generated column has no default; a numeric column's quoted number default is the number.
pub(super) fn table(t: &mut Table) {
    if t.options
        .engine
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("innodb"))
    {
        t.options.engine = None;
    }
    for f in &mut t.foreign_keys {
        for a in [&mut f.on_update, &mut f.on_delete] {
            if *a == FkAction::Restrict {
                *a = FkAction::NoAction;
            }
        }
    }
    for c in &mut t.columns {
        if c.charset.is_some() && c.charset == t.options.charset {
            c.charset = None;
        }
        if c.collation.is_some() && c.collation == t.options.collation {
            c.collation = None;
        }
        if c.generated.is_some() {
            c.default = None;
        }
        let numeric = matches!(
            c.ty.kind,
            TypeKind::Integer { .. }
                | TypeKind::Decimal { .. }
                | TypeKind::Float { .. }
                | TypeKind::Bool
        );
        if numeric
            && let Some(d) = &c.default
            && let Some(inner) = d.strip_prefix('\'').and_then(|x| x.strip_suffix('\''))
            && inner.parse::<f64>().is_ok()
        {
            c.default = Some(inner.to_string());
        }
    }
}

/// An expression with identifier backquotes removed outside string literals (MariaDB reports `` `a` > 0 ``
/// for `a > 0`).
pub(super) fn expr(e: &str) -> String {
    let mut out = String::with_capacity(e.len());
    let mut quote: Option<char> = None;
    let mut chars = e.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '`' => {
                // `` `a``b` ``: a doubled backquote inside a name is one backquote.
                while let Some(n) = chars.next() {
                    if n == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                            out.push('`');
                        } else {
                            break;
                        }
                    } else {
                        out.push(n);
                    }
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
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

    #[test]
    fn expressions_lose_backquotes_outside_strings() {
        assert_eq!(expr("`a` > 0 and `b``c` = '`x`'"), "a > 0 and b`c = '`x`'");
    }
}
