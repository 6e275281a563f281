//! Identifier and literal quoting: the one home of each dialect's rule.
//!
//! PostgreSQL double-quotes identifiers and writes `E''` literals; MySQL/MariaDB and SQLite back-quote identifiers
//! (SQLite accepts MySQL's back-quotes, as Atlas writes them) and SQLite takes plain `''` literals.

/// A PostgreSQL identifier: double-quoted, inner `"` doubled.
pub(crate) fn double_quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A MySQL/MariaDB or SQLite identifier: back-quoted, inner `` ` `` doubled.
pub(crate) fn backquote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// A PostgreSQL string literal that reads back as exactly `s` whatever `standard_conforming_strings` says (an
/// `E''` literal). A NUL, which no Postgres text can hold, is written as `\000`, so the server rejects it with the
/// error a bound parameter gets (`invalid byte sequence for encoding "UTF8": 0x00`).
pub(crate) fn pg_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\000"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A SQLite string literal: single-quoted, inner `'` doubled.
pub(crate) fn sqlite_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(double_quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(backquote("a`b"), "`a``b`");
        assert_eq!(pg_literal("it's a \\ \0"), "E'it''s a \\\\ \\000'");
        assert_eq!(sqlite_literal("it's"), "'it''s'");
    }
}
