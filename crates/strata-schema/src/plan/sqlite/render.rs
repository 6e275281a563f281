//! SQLite SQL text: quoting, column definitions, `CREATE TABLE`, `CREATE INDEX`.

use crate::model::{Check, Column, ForeignKey, Index, IndexPart, PartKey, Table};

/// A back-quoted identifier (Atlas's SQLite style), backquotes doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A possibly schema-qualified name: `main` stays implicit.
pub fn qualified(schema: &str, name: &str) -> String {
    if schema == "main" || schema.is_empty() {
        ident(name)
    } else {
        format!("{}.{}", ident(schema), ident(name))
    }
}

/// Whether `d` is a literal SQLite accepts bare after `DEFAULT` (and in `ALTER TABLE ADD COLUMN`).
pub fn is_literal(d: &str) -> bool {
    let d = d.trim();
    let upper = d.to_ascii_uppercase();
    if matches!(upper.as_str(), "NULL" | "TRUE" | "FALSE") {
        return true;
    }
    if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
        // One string: every inner quote doubled.
        return !d[1..d.len() - 1].replace("''", "").contains('\'');
    }
    if (upper.starts_with("X'")) && d.ends_with('\'') {
        return true;
    }
    let n = d.strip_prefix(['-', '+']).unwrap_or(d);
    !n.is_empty()
        && n.parse::<f64>().is_ok()
        && !n.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
}

/// The `DEFAULT` clause's value: literals and `CURRENT_*` bare, anything else in parentheses.
fn default_sql(d: &str) -> String {
    let upper = d.trim().to_ascii_uppercase();
    if is_literal(d)
        || matches!(
            upper.as_str(),
            "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME"
        )
    {
        d.trim().to_string()
    } else {
        format!("({})", d.trim())
    }
}

/// One column definition. `inline_pk`: the column is the table's `INTEGER PRIMARY KEY AUTOINCREMENT`.
pub fn column(c: &Column, inline_pk: bool) -> String {
    let mut s = ident(&c.name);
    if !c.ty.raw.is_empty() {
        s.push(' ');
        s.push_str(&c.ty.raw);
    }
    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if inline_pk {
        s.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(&default_sql(d));
    }
    if let Some(coll) = &c.collation {
        s.push_str(" COLLATE ");
        s.push_str(coll);
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            g.expr,
            if g.stored { "STORED" } else { "VIRTUAL" }
        ));
    }
    s
}

fn part(p: &IndexPart) -> String {
    let mut s = match &p.key {
        PartKey::Column(c) => ident(c),
        PartKey::Expr(e) => format!("({})", crate::normalize::strip_parens(e)),
    };
    if let Some(c) = &p.collation {
        s.push_str(" COLLATE ");
        s.push_str(c);
    }
    if p.desc {
        s.push_str(" DESC");
    }
    s
}

fn parts(ps: &[IndexPart]) -> String {
    ps.iter().map(part).collect::<Vec<_>>().join(", ")
}

/// A table constraint for a foreign key.
pub fn foreign_key(schema: &str, f: &ForeignKey) -> String {
    let cols = |c: &[String]| c.iter().map(|x| ident(x)).collect::<Vec<_>>().join(", ");
    let mut s = String::new();
    if !f.name.is_empty() {
        s.push_str(&format!("CONSTRAINT {} ", ident(&f.name)));
    }
    let target = if f.ref_schema == schema || f.ref_schema.is_empty() {
        ident(&f.ref_table)
    } else {
        // SQLite resolves references inside the table's own database; the schema cannot be written.
        ident(&f.ref_table)
    };
    s.push_str(&format!(
        "FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
        cols(&f.columns),
        target,
        cols(&f.ref_columns),
        f.on_update.sql(),
        f.on_delete.sql()
    ));
    if f.deferrable {
        s.push_str(" DEFERRABLE");
        if f.initially_deferred {
            s.push_str(" INITIALLY DEFERRED");
        }
    }
    s
}

fn check(c: &Check) -> String {
    let expr = crate::normalize::strip_parens(&c.expr);
    match &c.name {
        Some(n) => format!("CONSTRAINT {} CHECK ({expr})", ident(n)),
        None => format!("CHECK ({expr})"),
    }
}

/// Whether `t`'s key is one integer column with `AUTOINCREMENT`, written inline.
pub fn autoincrement_column(t: &Table) -> Option<&str> {
    let pk = t.primary_key.as_ref()?;
    if pk.parts.len() != 1 {
        return None;
    }
    let name = pk.parts[0].column_name()?;
    t.columns
        .iter()
        .find(|c| c.name == name && c.auto_increment)
        .map(|c| c.name.as_str())
}

/// Whether SQLite names the index itself (a `UNIQUE` constraint of the table).
pub fn is_autoindex(i: &Index) -> bool {
    i.name.starts_with("sqlite_autoindex_")
}

/// `CREATE TABLE` for `t` under the name `name`; a non-empty `indent` puts each item on its own line.
pub fn create_table(schema: &str, name: &str, t: &Table, indent: &str) -> String {
    let auto = autoincrement_column(t);
    let mut defs: Vec<String> = t
        .columns
        .iter()
        .map(|c| column(c, auto == Some(c.name.as_str())))
        .collect();
    if let Some(pk) = &t.primary_key
        && auto.is_none()
    {
        let mut s = String::new();
        if let Some(n) = &pk.name {
            s.push_str(&format!("CONSTRAINT {} ", ident(n)));
        }
        s.push_str(&format!("PRIMARY KEY ({})", parts(&pk.parts)));
        defs.push(s);
    }
    for i in t.indexes.iter().filter(|i| is_autoindex(i)) {
        defs.push(format!("UNIQUE ({})", parts(&i.parts)));
    }
    for f in &t.foreign_keys {
        defs.push(foreign_key(schema, f));
    }
    for c in &t.checks {
        defs.push(check(c));
    }
    let mut s = format!(
        "CREATE TABLE {} {}",
        qualified(schema, name),
        crate::plan::wrap_items(&defs, indent)
    );
    let mut opts = Vec::new();
    if t.options.without_rowid {
        opts.push("WITHOUT ROWID");
    }
    if t.options.strict {
        opts.push("STRICT");
    }
    if !opts.is_empty() {
        s.push(' ');
        s.push_str(&opts.join(", "));
    }
    s
}

/// `CREATE INDEX` for `i` on table `table`.
pub fn create_index(schema: &str, table: &str, i: &Index) -> String {
    let mut s = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        qualified(schema, &i.name),
        ident(table),
        parts(&i.parts)
    );
    if let Some(p) = &i.predicate {
        s.push_str(" WHERE ");
        s.push_str(crate::normalize::strip_parens(p));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        for l in [
            "1", "-1", "1.5", "'a'", "'it''s'", "NULL", "true", "X'00'", "1e5",
        ] {
            assert!(is_literal(l), "{l}");
        }
        for e in [
            "1+2",
            "lower('a')",
            "'a' || 'b'",
            "CURRENT_TIMESTAMP",
            "abs(-1)",
            "x",
        ] {
            assert!(!is_literal(e), "{e}");
        }
        assert_eq!(default_sql("1+2"), "(1+2)");
        assert_eq!(default_sql("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
        assert_eq!(ident("a`b"), "`a``b`");
    }
}
