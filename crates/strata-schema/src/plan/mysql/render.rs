//! MySQL/MariaDB SQL text: quoting, column definitions, index and constraint clauses, `CREATE TABLE`.

use crate::model::{Check, Column, ForeignKey, Index, IndexPart, PartKey, Table, TableOptions};
use crate::normalize::strip_parens;
use crate::types::TypeKind;

/// A back-quoted identifier, backquotes doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A MySQL string literal: quotes doubled, backslashes escaped (the server reads `\` as an escape unless
/// `NO_BACKSLASH_ESCAPES` is set).
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// Whether `d` is a literal the server accepts bare after `DEFAULT`.
pub fn is_literal(d: &str) -> bool {
    let d = d.trim();
    let upper = d.to_ascii_uppercase();
    if matches!(upper.as_str(), "NULL" | "TRUE" | "FALSE") {
        return true;
    }
    if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
        return true;
    }
    if (upper.starts_with("X'") || upper.starts_with("B'")) && d.ends_with('\'') {
        return true;
    }
    if upper.starts_with("0X") && d.len() > 2 && d[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    let n = d.strip_prefix(['-', '+']).unwrap_or(d);
    !n.is_empty()
        && n.parse::<f64>().is_ok()
        && !n.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
}

/// Whether `d` is the `CURRENT_TIMESTAMP` family, which MySQL accepts bare (also as `ON UPDATE`).
fn is_now(d: &str) -> bool {
    let l = d.trim().to_ascii_lowercase();
    ["current_timestamp", "now", "localtimestamp", "localtime"]
        .iter()
        .any(|k| l == *k || l.strip_prefix(k).is_some_and(|p| p.starts_with('(')))
}

/// Types MySQL 8 accepts only expression defaults for (`DEFAULT ('x')`); MariaDB accepts both.
fn needs_expression_default(c: &Column) -> bool {
    match &c.ty.kind {
        TypeKind::Json { .. } => true,
        TypeKind::String { variant, .. } => *variant == crate::types::StringVariant::Text,
        TypeKind::Binary { fixed, .. } => !fixed && c.ty.raw.contains("blob"),
        TypeKind::Other => true,
        _ => false,
    }
}

/// The `DEFAULT` clause's value: literals and `CURRENT_TIMESTAMP` bare, anything else in parentheses.
pub fn default_sql(c: &Column, d: &str) -> String {
    let d = d.trim();
    if is_now(d) || (is_literal(d) && !needs_expression_default(c)) {
        d.to_string()
    } else {
        format!("({})", strip_parens(d))
    }
}

/// One column definition as `CREATE TABLE`, `ADD COLUMN` and `MODIFY COLUMN` take it.
pub fn column(c: &Column) -> String {
    let mut s = format!("{} {}", ident(&c.name), c.ty.raw);
    if let Some(cs) = &c.charset {
        s.push_str(" CHARSET ");
        s.push_str(cs);
    }
    if let Some(coll) = &c.collation {
        s.push_str(" COLLATE ");
        s.push_str(coll);
    }
    if let Some(g) = &c.generated {
        // MariaDB takes no NULL / NOT NULL on a generated column.
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            strip_parens(&g.expr),
            if g.stored { "STORED" } else { "VIRTUAL" }
        ));
    } else {
        s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let Some(d) = &c.default {
            s.push_str(" DEFAULT ");
            s.push_str(&default_sql(c, d));
        }
    }
    if c.auto_increment {
        s.push_str(" AUTO_INCREMENT");
    }
    if let Some(u) = &c.on_update {
        s.push_str(" ON UPDATE ");
        s.push_str(u);
    }
    if let Some(cm) = &c.comment {
        s.push_str(" COMMENT ");
        s.push_str(&literal(cm));
    }
    s
}

fn part(p: &IndexPart) -> String {
    let mut s = match &p.key {
        PartKey::Column(c) => ident(c),
        PartKey::Expr(e) => format!("({})", strip_parens(e)),
    };
    if let Some(n) = p.prefix {
        s.push_str(&format!("({n})"));
    }
    if p.desc {
        s.push_str(" DESC");
    }
    s
}

/// `(a, b(10) DESC)`.
pub fn parts(ps: &[IndexPart]) -> String {
    let v: Vec<String> = ps.iter().map(part).collect();
    format!("({})", v.join(", "))
}

/// `[UNIQUE |FULLTEXT |SPATIAL ]INDEX `i` (parts)[ USING m][ COMMENT 'c']`, as `CREATE TABLE` and `ADD` take it.
pub fn index(i: &Index) -> String {
    let method = i.method.as_deref().map(str::to_ascii_uppercase);
    let kind = match method.as_deref() {
        Some("FULLTEXT") => "FULLTEXT ",
        Some("SPATIAL") => "SPATIAL ",
        _ if i.unique => "UNIQUE ",
        _ => "",
    };
    let mut s = format!("{kind}INDEX {} {}", ident(&i.name), parts(&i.parts));
    if let Some(m) = method.as_deref()
        && !matches!(m, "FULLTEXT" | "SPATIAL" | "BTREE")
    {
        s.push_str(" USING ");
        s.push_str(m);
    }
    if let Some(c) = &i.comment {
        s.push_str(" COMMENT ");
        s.push_str(&literal(c));
    }
    s
}

/// `CONSTRAINT `fk` FOREIGN KEY (…) REFERENCES … (…) ON UPDATE … ON DELETE …`; `ref_name` is the referenced
/// table as it must be written (qualified when in another schema).
pub fn foreign_key(f: &ForeignKey, ref_name: &str) -> String {
    let cols: Vec<String> = f.columns.iter().map(|c| ident(c)).collect();
    let refs: Vec<String> = f.ref_columns.iter().map(|c| ident(c)).collect();
    format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {ref_name} ({}) ON UPDATE {} ON DELETE {}",
        ident(&f.name),
        cols.join(", "),
        refs.join(", "),
        f.on_update.sql(),
        f.on_delete.sql()
    )
}

/// `[CONSTRAINT `c` ]CHECK (expr)[ NOT ENFORCED]`.
pub fn check(c: &Check) -> String {
    let mut s = match &c.name {
        Some(n) => format!("CONSTRAINT {} CHECK ({})", ident(n), strip_parens(&c.expr)),
        None => format!("CHECK ({})", strip_parens(&c.expr)),
    };
    if !c.enforced {
        s.push_str(" NOT ENFORCED");
    }
    s
}

/// Table options after `)` (or in `ALTER TABLE`): `ENGINE`, `CHARSET`, `COLLATE`, `COMMENT`, `AUTO_INCREMENT`.
pub fn table_options(o: &TableOptions, comment: Option<&str>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(e) = &o.engine {
        v.push(format!("ENGINE {e}"));
    }
    if let Some(cs) = &o.charset {
        v.push(format!("CHARSET {cs}"));
    }
    if let Some(c) = &o.collation {
        v.push(format!("COLLATE {c}"));
    }
    if let Some(c) = comment {
        v.push(format!("COMMENT {}", literal(c)));
    }
    if let Some(n) = o.auto_increment {
        v.push(format!("AUTO_INCREMENT {n}"));
    }
    v
}

/// `CREATE TABLE name (columns, key, indexes, foreign keys, checks) options`. `inline_fk` says which foreign
/// keys go inside (the others are added later); `ref_name` writes a key's referenced table; a non-empty
/// `indent` puts each item on its own line.
pub fn create_table(
    name: &str,
    t: &Table,
    inline_fk: impl Fn(&ForeignKey) -> bool,
    ref_name: impl Fn(&ForeignKey) -> String,
    indent: &str,
) -> String {
    let mut items: Vec<String> = t.columns.iter().map(column).collect();
    if let Some(pk) = &t.primary_key {
        items.push(format!("PRIMARY KEY {}", parts(&pk.parts)));
    }
    items.extend(t.indexes.iter().map(index));
    items.extend(
        t.foreign_keys
            .iter()
            .filter(|f| inline_fk(f))
            .map(|f| foreign_key(f, &ref_name(f))),
    );
    items.extend(t.checks.iter().map(check));
    let mut s = format!(
        "CREATE TABLE {name} {}",
        crate::plan::wrap_items(&items, indent)
    );
    for o in table_options(&t.options, t.comment.as_deref()) {
        s.push(' ');
        s.push_str(&o);
    }
    s
}
