//! Per-dialect normalisation: the rules under which a model built by inspection and a model of the same schema
//! written another way compare equal (type aliases, default spellings, implicit names, case rules).
//!
//! [`table`] returns a copy with the same elements in the same order (nothing is added or removed), so a diff
//! can compare normalised copies and report the original items by position.

mod mysql;
mod postgres;
mod sqlite;

use std::borrow::Cow;

use strata_migrate::Dialect;

use crate::model::{Column, Index, Realm, Table, TableOptions, View};

/// The key a name is matched by: SQLite's names are ASCII case-insensitive, the others are compared as stored.
pub fn name_key(d: Dialect, name: &str) -> Cow<'_, str> {
    match d {
        Dialect::Sqlite if name.bytes().any(|b| b.is_ascii_uppercase()) => {
            Cow::Owned(name.to_ascii_lowercase())
        }
        _ => Cow::Borrowed(name),
    }
}

/// Whitespace collapsed to single spaces, outside quotes; `( ` and ` )` tightened.
pub fn collapse(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in expr.trim().chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() && !out.ends_with('(') && c != ')' {
            out.push(' ');
        }
        pending_space = false;
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
        out.push(c);
    }
    out
}

/// Outer parentheses that wrap the whole expression removed (`((a > 0))` → `a > 0`).
pub fn strip_parens(expr: &str) -> &str {
    let mut s = expr.trim();
    while s.starts_with('(') && s.ends_with(')') && wraps_whole(s) {
        s = s[1..s.len() - 1].trim();
    }
    s
}

/// Whether the `(` at the start of `s` closes at its last character.
fn wraps_whole(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// An expression (check, predicate, generated column, index expression) in comparable form.
pub fn expr(d: Dialect, e: &str) -> String {
    let c = collapse(strip_parens(e));
    match d {
        Dialect::Postgres => postgres::expr(&c),
        Dialect::Mysql => mysql::expr(&c),
        Dialect::Sqlite => c,
    }
}

/// A column's normalised copy.
pub fn column(d: Dialect, table: &str, c: &Column) -> Column {
    let declared = c.ty.raw.clone();
    let mut c = c.clone();
    c.ty.raw = match d {
        Dialect::Postgres => postgres::type_name(&c.ty.raw),
        Dialect::Mysql => mysql::type_name(&c.ty.raw),
        Dialect::Sqlite => sqlite::type_name(&c.ty.raw),
    };
    c.default = c.default.as_deref().and_then(|x| match d {
        Dialect::Postgres => postgres::default(x),
        Dialect::Mysql => mysql::default(x),
        Dialect::Sqlite => sqlite::default(x),
    });
    if let Some(g) = &mut c.generated {
        g.expr = expr(d, &g.expr);
    }
    if let Some(u) = &mut c.on_update {
        *u = mysql::default(u).unwrap_or_default();
    }
    if d == Dialect::Postgres {
        postgres::column(table, &declared, &mut c);
    }
    c
}

/// A table's normalised copy: same elements, same order.
pub fn table(d: Dialect, t: &Table) -> Table {
    let mut n = t.clone();
    n.columns = t.columns.iter().map(|c| column(d, &t.name, c)).collect();
    for i in &mut n.indexes {
        index(d, i);
    }
    if let Some(pk) = &mut n.primary_key {
        for p in &mut pk.parts {
            if let crate::model::PartKey::Expr(e) = &mut p.key {
                *e = expr(d, e);
            }
        }
        pk.name = match d {
            // The name PostgreSQL gives an unnamed key.
            Dialect::Postgres if pk.name.as_deref() == Some(&format!("{}_pkey", t.name)) => None,
            Dialect::Postgres => pk.name.take(),
            // MySQL's key is always `PRIMARY`; SQLite's has no name that survives.
            _ => None,
        };
    }
    for c in &mut n.checks {
        c.expr = expr(d, &c.expr);
    }
    for f in &mut n.foreign_keys {
        if d == Dialect::Sqlite {
            // SQLite keeps no constraint names it can report: keys are matched by what they say.
            f.name = String::new();
        }
    }
    if d == Dialect::Mysql {
        mysql::table(&mut n);
    }
    n
}

fn index(d: Dialect, i: &mut Index) {
    for p in &mut i.parts {
        if let crate::model::PartKey::Expr(e) = &mut p.key {
            *e = expr(d, e);
        }
    }
    if let Some(p) = &mut i.predicate {
        *p = expr(d, p);
    }
    if d == Dialect::Postgres && i.method.as_deref() == Some("btree") {
        i.method = None;
    }
    if d == Dialect::Mysql
        && i.method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("btree"))
    {
        i.method = None;
    }
}

/// Adjusts `from`'s options to `to`'s where the difference is no change to make: MySQL's `AUTO_INCREMENT` is the
/// next value, so it only differs when `to` sets one above it (the server never lowers it below the rows).
pub fn options_pair(d: Dialect, from: &mut TableOptions, to: &TableOptions) {
    if d == Dialect::Mysql
        && (to.auto_increment.is_none() || from.auto_increment >= to.auto_increment)
    {
        from.auto_increment = to.auto_increment;
    }
}

/// A view's normalised copy (definition whitespace collapsed, trailing `;` dropped).
pub fn view(v: &View) -> View {
    let mut v = v.clone();
    v.definition = collapse(v.definition.trim().trim_end_matches(';'));
    v
}

/// Whether the database named `i` itself (PostgreSQL `t_a_key`, SQLite `sqlite_autoindex_t_1`): such an index is matched to an unmatched one of the other side by what it covers.
pub fn implicit_index_name(d: Dialect, t: &Table, i: &Index) -> bool {
    match d {
        Dialect::Sqlite => i.name.starts_with("sqlite_autoindex_"),
        Dialect::Postgres => {
            let cols: Vec<&str> = i.parts.iter().filter_map(|p| p.column_name()).collect();
            let base = format!("{}_{}", t.name, cols.join("_"));
            i.name == format!("{base}_key") || i.name == format!("{base}_idx")
        }
        // MySQL's index for a foreign key is not a stand-in for a named index over the same columns: MySQL
        // drops it by itself once another index serves the key, so pairing the two would leave the named index
        // uncreated. It is left alone by `fk_backing_index` instead.
        Dialect::Mysql => false,
    }
}

/// Whether `i` only exists because a foreign key needs an index (MySQL creates one when none covers the key's
/// columns): it is neither added nor dropped on its own.
pub fn fk_backing_index(d: Dialect, t: &Table, i: &Index) -> bool {
    d == Dialect::Mysql
        && !i.unique
        && t.foreign_keys.iter().any(|f| {
            f.name == i.name
                && i.parts.len() == f.columns.len()
                && i.parts
                    .iter()
                    .zip(&f.columns)
                    .all(|(p, c)| p.column_name() == Some(c))
        })
}

/// A realm's normalised copy (every table, view and object), for comparing two realms as a whole.
pub fn realm(r: &Realm) -> Realm {
    let mut n = r.clone();
    for s in &mut n.schemas {
        for t in &mut s.tables {
            *t = table(r.dialect, t);
        }
        for v in s.views.iter_mut().chain(s.materialized_views.iter_mut()) {
            *v = view(v);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parens_and_spaces() {
        assert_eq!(strip_parens("((a > 0))"), "a > 0");
        assert_eq!(strip_parens("(a) + (b)"), "(a) + (b)");
        assert_eq!(strip_parens("(')')"), "')'");
        assert_eq!(collapse("  a  >\n 0 "), "a > 0");
        assert_eq!(collapse("f( a )"), "f(a)");
        assert_eq!(collapse("'a  b'"), "'a  b'");
    }

    #[test]
    fn sqlite_names_ignore_ascii_case() {
        assert_eq!(name_key(Dialect::Sqlite, "Users"), "users");
        assert_eq!(name_key(Dialect::Postgres, "Users"), "Users");
    }
}
