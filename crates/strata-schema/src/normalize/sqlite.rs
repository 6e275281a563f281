//! SQLite: declared types kept (lower-cased), defaults as `pragma_table_xinfo` reports them (outer
//! parentheses stripped), `CURRENT_TIMESTAMP` keywords upper-cased.

/// A declared type, lower-cased with whitespace collapsed.
pub(super) fn type_name(raw: &str) -> String {
    super::collapse(&raw.to_lowercase())
}

/// A default as SQLite stores it: without outer parentheses; `NULL` is no default.
pub(super) fn default(d: &str) -> Option<String> {
    let d = super::collapse(super::strip_parens(d));
    let upper = d.to_ascii_uppercase();
    match upper.as_str() {
        "NULL" => None,
        "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" => Some(upper),
        _ => Some(d),
    }
}
