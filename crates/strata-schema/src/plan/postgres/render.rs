//! PostgreSQL SQL text: quoting, column definitions, `CREATE TABLE`, `CREATE INDEX`, constraints.

use crate::model::{Check, Column, ForeignKey, Index, IndexPart, PartKey, PrimaryKey, Table};
use crate::normalize::strip_parens;

/// A double-quoted identifier, inner `"` doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A schema-qualified name: `"s"."t"` (just `"t"` when the schema is empty).
pub fn qualified(schema: &str, name: &str) -> String {
    if schema.is_empty() {
        ident(name)
    } else {
        format!("{}.{}", ident(schema), ident(name))
    }
}

/// A string literal: `'…'` with `'` doubled (`standard_conforming_strings`, on by default since 9.1).
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Identifiers joined with `, `.
pub fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One column definition. `serial`: the column is created as `serial`/`bigserial`/`smallserial` (its sequence
/// comes with it; the `nextval` default is left to PostgreSQL).
pub fn column(c: &Column, serial: Option<&'static str>) -> String {
    let mut s = ident(&c.name);
    s.push(' ');
    s.push_str(serial.unwrap_or(&c.ty.raw));
    if let Some(coll) = &c.collation {
        s.push_str(" COLLATE ");
        s.push_str(&ident(coll));
    }
    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if let Some(d) = &c.default
        && serial.is_none()
        && c.identity.is_none()
        && c.generated.is_none()
    {
        s.push_str(" DEFAULT ");
        s.push_str(d.trim());
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) STORED",
            strip_parens(&g.expr)
        ));
    }
    if let Some(id) = &c.identity {
        s.push_str(&format!(
            " GENERATED {} AS IDENTITY (START WITH {} INCREMENT BY {})",
            if id.always { "ALWAYS" } else { "BY DEFAULT" },
            id.start,
            id.increment
        ));
    }
    s
}

/// One index part: `"c"` or `(expr)`, then collation, operator class, `DESC`.
fn part(p: &IndexPart) -> String {
    let mut s = match &p.key {
        PartKey::Column(c) => ident(c),
        PartKey::Expr(e) => format!("({})", strip_parens(e)),
    };
    if let Some(c) = &p.collation {
        s.push_str(" COLLATE ");
        s.push_str(&ident(c));
    }
    if let Some(o) = &p.opclass {
        s.push(' ');
        s.push_str(o);
    }
    if p.desc {
        s.push_str(" DESC");
    }
    s
}

/// Index parts joined with `, `.
pub fn parts(ps: &[IndexPart]) -> String {
    ps.iter().map(part).collect::<Vec<_>>().join(", ")
}

/// The primary key's name when it is not PostgreSQL's default `<table>_pkey`.
fn pk_name<'a>(table: &str, pk: &'a PrimaryKey) -> Option<&'a str> {
    pk.name.as_deref().filter(|n| *n != format!("{table}_pkey"))
}

/// `PRIMARY KEY (…)`, named when the name is not the default.
pub fn primary_key(table: &str, pk: &PrimaryKey) -> String {
    match pk_name(table, pk) {
        Some(n) => format!("CONSTRAINT {} PRIMARY KEY ({})", ident(n), parts(&pk.parts)),
        None => format!("PRIMARY KEY ({})", parts(&pk.parts)),
    }
}

/// The name `DROP CONSTRAINT` needs for the primary key.
pub fn pk_constraint_name(table: &str, pk: &PrimaryKey) -> String {
    pk.name.clone().unwrap_or_else(|| format!("{table}_pkey"))
}

/// `CONSTRAINT "u" UNIQUE (…)` for an index that backs a unique constraint.
pub fn unique_constraint(i: &Index) -> String {
    let mut s = format!("CONSTRAINT {} UNIQUE", ident(&i.name));
    if i.nulls_not_distinct {
        s.push_str(" NULLS NOT DISTINCT");
    }
    s.push_str(&format!(" ({})", parts(&i.parts)));
    if !i.include.is_empty() {
        s.push_str(&format!(" INCLUDE ({})", idents(&i.include)));
    }
    s
}

/// Whether `i` can be written as a table constraint (`UNIQUE (cols)`): only plain ascending columns, default
/// method, no predicate.
pub fn is_constraint(i: &Index) -> bool {
    i.constraint
        && i.unique
        && i.predicate.is_none()
        && i.method.as_deref().is_none_or(|m| m == "btree")
        && i.parts.iter().all(|p| {
            p.column_name().is_some() && !p.desc && p.opclass.is_none() && p.collation.is_none()
        })
}

/// `CONSTRAINT "fk" FOREIGN KEY (…) REFERENCES "s"."t" (…) ON UPDATE … ON DELETE …`.
pub fn foreign_key(f: &ForeignKey) -> String {
    let mut s = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
        ident(&f.name),
        idents(&f.columns),
        qualified(&f.ref_schema, &f.ref_table),
        idents(&f.ref_columns),
        f.on_update.sql(),
        f.on_delete.sql()
    );
    if f.deferrable {
        s.push_str(" DEFERRABLE");
        if f.initially_deferred {
            s.push_str(" INITIALLY DEFERRED");
        }
    }
    s
}

/// `CONSTRAINT "c" CHECK (…)` (`NO INHERIT` when set).
pub fn check(c: &Check) -> String {
    let mut s = match &c.name {
        Some(n) => format!("CONSTRAINT {} CHECK ({})", ident(n), strip_parens(&c.expr)),
        None => format!("CHECK ({})", strip_parens(&c.expr)),
    };
    if c.no_inherit {
        s.push_str(" NO INHERIT");
    }
    s
}

/// `CREATE TABLE` for `t`. `serial(column)` tells which columns are created as serial; `inline_fk(fk)` which
/// foreign keys go in the statement (the others are added once their target exists); a non-empty `indent` puts
/// each item on its own line.
pub fn create_table(
    schema: &str,
    t: &Table,
    serial: impl Fn(&Column) -> Option<&'static str>,
    inline_fk: impl Fn(&ForeignKey) -> bool,
    indent: &str,
) -> String {
    let mut defs: Vec<String> = t.columns.iter().map(|c| column(c, serial(c))).collect();
    if let Some(pk) = &t.primary_key {
        defs.push(primary_key(&t.name, pk));
    }
    for i in t.indexes.iter().filter(|i| is_constraint(i)) {
        defs.push(unique_constraint(i));
    }
    for c in &t.checks {
        defs.push(check(c));
    }
    for f in t.foreign_keys.iter().filter(|f| inline_fk(f)) {
        defs.push(foreign_key(f));
    }
    format!(
        "CREATE TABLE {} {}",
        qualified(schema, &t.name),
        crate::plan::wrap_items(&defs, indent)
    )
}

/// `CREATE INDEX` for `i` on `schema.table` (`CREATE INDEX CONCURRENTLY` with `concurrently`).
pub fn create_index(schema: &str, table: &str, i: &Index, concurrently: bool) -> String {
    let mut s = format!(
        "CREATE {}INDEX {}{} ON {}",
        if i.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        ident(&i.name),
        qualified(schema, table)
    );
    if let Some(m) = i.method.as_deref().filter(|m| *m != "btree") {
        s.push_str(" USING ");
        s.push_str(m);
    }
    s.push_str(&format!(" ({})", parts(&i.parts)));
    if !i.include.is_empty() {
        s.push_str(&format!(" INCLUDE ({})", idents(&i.include)));
    }
    if i.nulls_not_distinct {
        s.push_str(" NULLS NOT DISTINCT");
    }
    if let Some(p) = &i.predicate {
        s.push_str(" WHERE ");
        s.push_str(strip_parens(p));
    }
    s
}

/// `COMMENT ON <what> <target> IS '…'` (or `IS NULL`).
pub fn comment_on(what: &str, target: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON {what} {target} IS {}",
        comment.map(literal).unwrap_or_else(|| "NULL".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ColumnType;
    use strata_migrate::Dialect;

    #[test]
    fn quoting_and_columns() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
        let mut c = Column::new("n", ColumnType::parse(Dialect::Postgres, "text"));
        c.collation = Some("C".into());
        c.default = Some("'x'::text".into());
        assert_eq!(
            column(&c, None),
            "\"n\" text COLLATE \"C\" NULL DEFAULT 'x'::text"
        );
        c.default = Some("nextval('t_n_seq'::regclass)".into());
        c.collation = None;
        c.nullable = false;
        assert_eq!(column(&c, Some("serial")), "\"n\" serial NOT NULL");
    }
}
