//! The model printed as Atlas HCL, byte for byte as `atlas schema inspect` prints it (Atlas's `schemahcl` encoder
//! run through hclwrite's formatter).
//!
//! Document order: every `table` (schemas in realm order, tables by name), then `view` and `materialized` blocks,
//! then PostgreSQL `enum` blocks, then every `schema`. A table, view or enum gets a qualifier label
//! (`table "app" "users"`) only when its name is in several schemas; references follow (`table.app.users.column.id`).
//!
//! Inside a block, attributes come first and blocks after; each block kind in Atlas's field order:
//! - `table`: `schema`, `comment`, MySQL `charset`/`collate` (when not the schema's) and `engine` (when not
//!   InnoDB); then `column`s, `primary_key`, `foreign_key`s, `index`es, `check`s, PostgreSQL `unique` constraints;
//!   SQLite's `without_rowid`/`strict` come after the blocks (Atlas appends them as an embedded body).
//! - `column`: `null` (always), `type`, `default`, MySQL `unsigned`, `comment`, `charset`/`collate` (when not the
//!   table's), `on_update`, `auto_increment`; then `identity { generated, start, increment }` (PostgreSQL; start
//!   and increment when not 1) and `as { expr, type }`. A PostgreSQL integer column whose default is `nextval` of
//!   a `<table>_<column>_seq`-shaped sequence prints as `serial`/`bigserial`/`smallserial` without the default.
//! - Defaults: quoted literals as HCL strings (PostgreSQL casts to the column's own type dropped), numbers and
//!   booleans bare, anything else `sql("…")` with Go `%q` quoting.
//! - `index`: `unique` (when true), `columns` (when every part is a plain ascending column), `comment`, `type`
//!   (when not BTREE), `where` (Go-quoted, as Atlas writes it), `nulls_distinct = false`, `include`; then `on {
//!   desc, column | expr, ops, prefix }` parts.
//! - `foreign_key`: `columns`, `ref_columns`, `on_update`, `on_delete` (always, as bare identifiers).
//!
//! What the model has and Atlas's community language does not, printed only when set, so an ordinary schema
//! prints exactly as Atlas prints it and nothing is lost on the way back: a PostgreSQL/SQLite column `collate`,
//! an index part `collate`, `deferrable = true` / `initially_deferred = true` on a foreign key, `no_inherit =
//! true` and `enforced = false` on a check, a PostgreSQL primary key label when the name is not `<table>_pkey`.
//!
//! Views and materialized views print in Atlas Pro's form (`view "v" { schema = schema.s  as = <<-SQL … SQL
//! check_option = CASCADED  comment = "…" }`) without `column` blocks or `depends_on` (the model has neither);
//! SQLite's stored `CREATE VIEW … AS` prefix is taken off `as`.
//!
//! Functions, procedures and triggers print in Atlas Pro's form after the enums, each kind in schema then name
//! order (the ones [`crate::unexpressed`] says HCL holds; sequences and extensions are not printed):
//! - `function` / `procedure`: `schema`, PostgreSQL `lang` (`SQL`, `PLpgSQL`, else the language's name); `arg`
//!   blocks (`type`, `mode` when not `IN`, PostgreSQL `default`); `return`, `as` (a string, or an indented
//!   `<<-SQL` heredoc when that reads back as the very same body), PostgreSQL `volatility`, `strict`,
//!   `leakproof`, `security = DEFINER`; MySQL `deterministic`, `data_access`, `security = INVOKER`, `comment`.
//! - `trigger`: `on`, then one `before` / `after` / `instead_of` block with the events (`insert`, `update`,
//!   `update_of = [table.t.column.c]`, `delete`, `truncate`), then `for` (PostgreSQL always; SQLite when the
//!   statement says `FOR EACH ROW`), `when`, and PostgreSQL's `execute { function = function.f }` or the
//!   body's `as`.

mod layout;
pub mod quote;

use std::collections::HashMap;

use strata_migrate::Dialect;
use strata_schema::model::RoutineKind;
use strata_schema::{
    Check, Column, ColumnType, FkAction, ForeignKey, Index, IndexPart, PartKey, PrimaryKey, Realm,
    Schema, Table, TypeKind, View,
};

use crate::routine::{Event, Routine, TriggerSpec};

use crate::types::{HclType, TypeScope, ref_step, to_hcl};
use layout::{Block, render};
use quote::{go_quote, hcl_string};

/// What to print besides what Atlas's community build prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOptions {
    /// Print views and materialized views as Atlas Pro's `view` / `materialized` blocks.
    pub views: bool,
}

impl Default for PrintOptions {
    fn default() -> Self {
        PrintOptions { views: true }
    }
}

/// The realm as `atlas schema inspect` prints it (see the module docs).
pub fn print(realm: &Realm, opts: &PrintOptions) -> String {
    Printer::new(realm).document(opts)
}

struct Printer<'a> {
    realm: &'a Realm,
    d: Dialect,
    /// How many schemas hold a table (view, enum) of each name.
    tables: HashMap<&'a str, usize>,
    views: HashMap<&'a str, usize>,
    enums: HashMap<&'a str, usize>,
    functions: HashMap<&'a str, usize>,
}

fn counts<'a>(names: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    let mut m = HashMap::new();
    for n in names {
        *m.entry(n).or_insert(0) += 1;
    }
    m
}

fn bool_str(b: bool) -> String {
    b.to_string()
}

fn schema_ref(name: &str) -> String {
    format!("schema{}", ref_step(name))
}

fn column_ref(name: &str) -> String {
    format!("column{}", ref_step(name))
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

fn fk_action(a: FkAction) -> &'static str {
    match a {
        FkAction::NoAction => "NO_ACTION",
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET_NULL",
        FkAction::SetDefault => "SET_DEFAULT",
    }
}

impl<'a> Printer<'a> {
    fn new(realm: &'a Realm) -> Self {
        let all = || realm.schemas.iter();
        Printer {
            realm,
            d: realm.dialect,
            tables: counts(all().flat_map(|s| s.tables.iter().map(|t| t.name.as_str()))),
            views: counts(all().flat_map(|s| {
                s.views
                    .iter()
                    .chain(&s.materialized_views)
                    .map(|v| v.name.as_str())
            })),
            enums: counts(all().flat_map(|s| s.enums.iter().map(|e| e.name.as_str()))),
            functions: counts(all().flat_map(|s| s.functions.iter().map(|f| f.name.as_str()))),
        }
    }

    fn labels(counts: &HashMap<&str, usize>, schema: &str, name: &str) -> Vec<String> {
        if counts.get(name).copied().unwrap_or(0) > 1 {
            vec![schema.to_string(), name.to_string()]
        } else {
            vec![name.to_string()]
        }
    }

    fn document(&self, opts: &PrintOptions) -> String {
        let mut blocks = Vec::new();
        for s in &self.realm.schemas {
            for t in &s.tables {
                blocks.push(self.table(s, t));
            }
        }
        if opts.views {
            for s in &self.realm.schemas {
                for v in &s.views {
                    blocks.push(self.view("view", s, v));
                }
            }
            for s in &self.realm.schemas {
                for v in &s.materialized_views {
                    blocks.push(self.view("materialized", s, v));
                }
            }
        }
        if self.d == Dialect::Postgres {
            for s in &self.realm.schemas {
                for e in &s.enums {
                    let mut b = Block::new("enum", Self::labels(&self.enums, &s.name, &e.name));
                    b.attr("schema", schema_ref(&s.name));
                    b.attr("values", list(e.values.iter().map(|v| hcl_string(v))));
                    blocks.push(b);
                }
            }
        }
        for kind in [RoutineKind::Function, RoutineKind::Procedure] {
            for s in &self.realm.schemas {
                for (_, r) in crate::unexpressed::routines(self.realm, s) {
                    if r.kind == kind {
                        blocks.push(self.routine(s, &r));
                    }
                }
            }
        }
        for s in &self.realm.schemas {
            for (_, t) in crate::unexpressed::triggers(self.realm, s) {
                blocks.push(self.trigger(s, &t));
            }
        }
        for s in &self.realm.schemas {
            blocks.push(self.schema(s));
        }
        render(&blocks)
    }

    fn schema(&self, s: &Schema) -> Block {
        let mut b = Block::new("schema", [s.name.clone()]);
        if let Some(c) = &s.comment {
            b.attr("comment", hcl_string(c));
        }
        if self.d == Dialect::Mysql {
            if let Some(c) = &s.charset {
                b.attr("charset", hcl_string(c));
            }
            if let Some(c) = &s.collation {
                b.attr("collate", hcl_string(c));
            }
        }
        b
    }

    fn table(&self, s: &Schema, t: &Table) -> Block {
        let mut b = Block::new("table", Self::labels(&self.tables, &s.name, &t.name));
        b.attr("schema", schema_ref(&s.name));
        if let Some(c) = &t.comment {
            b.attr("comment", hcl_string(c));
        }
        // The table's effective character set and collation (MySQL: inherited from the schema when not set).
        let charset = t.options.charset.as_ref().or(s.charset.as_ref());
        let collation = t.options.collation.as_ref().or(s.collation.as_ref());
        if self.d == Dialect::Mysql {
            if let Some(c) = &t.options.charset
                && Some(c) != s.charset.as_ref()
            {
                b.attr("charset", hcl_string(c));
            }
            if let Some(c) = &t.options.collation
                && Some(c) != s.collation.as_ref()
            {
                b.attr("collate", hcl_string(c));
            }
            if let Some(e) = &t.options.engine
                && !e.eq_ignore_ascii_case("innodb")
            {
                let known = ["InnoDB", "MyISAM", "Memory", "CSV", "NDB"]
                    .into_iter()
                    .find(|k| k.eq_ignore_ascii_case(e));
                b.attr(
                    "engine",
                    known.map_or_else(|| hcl_string(e), str::to_string),
                );
            }
        }
        let scope = TypeScope::new(self.realm, &s.name);
        for c in &t.columns {
            b.block(self.column(c, &scope, charset, collation));
        }
        if let Some(pk) = &t.primary_key {
            b.block(self.primary_key(t, pk));
        }
        for fk in &t.foreign_keys {
            b.block(self.foreign_key(s, t, fk));
        }
        let unique_constraint = |i: &Index| self.d == Dialect::Postgres && i.constraint && i.unique;
        for i in t.indexes.iter().filter(|i| !unique_constraint(i)) {
            b.block(self.index("index", i));
        }
        for c in &t.checks {
            b.block(self.check(c));
        }
        for i in t.indexes.iter().filter(|i| unique_constraint(i)) {
            b.block(self.unique(i));
        }
        if self.d == Dialect::Sqlite {
            if t.options.without_rowid {
                b.attr("without_rowid", "true");
            }
            if t.options.strict {
                b.attr("strict", "true");
            }
        }
        b
    }

    fn column(
        &self,
        c: &Column,
        scope: &TypeScope<'_>,
        table_charset: Option<&String>,
        table_collation: Option<&String>,
    ) -> Block {
        let mut b = Block::new("column", [c.name.clone()]);
        b.attr("null", bool_str(c.nullable));
        let mut ty = to_hcl(self.d, &c.ty, scope);
        let mut default = c.default.as_deref();
        if self.d == Dialect::Postgres
            && let Some(serial) = serial_type(&c.ty.kind, default)
        {
            ty.ty = HclType::Ident(serial.into());
            default = None;
        }
        b.attr("type", ty.ty.to_string());
        if let Some(d) = default {
            b.attr("default", default_value(self.d, c, d, scope));
        }
        if let Some(u) = ty.unsigned {
            b.attr("unsigned", bool_str(u));
        }
        if let Some(cm) = &c.comment {
            b.attr("comment", hcl_string(cm));
        }
        match self.d {
            Dialect::Mysql => {
                if let Some(cs) = &c.charset
                    && Some(cs) != table_charset
                {
                    b.attr("charset", hcl_string(cs));
                }
                if let Some(co) = &c.collation
                    && Some(co) != table_collation
                {
                    b.attr("collate", hcl_string(co));
                }
                if let Some(u) = &c.on_update {
                    b.attr("on_update", format!("sql({})", go_quote(u)));
                }
            }
            Dialect::Postgres | Dialect::Sqlite => {
                if let Some(co) = &c.collation {
                    b.attr("collate", hcl_string(co));
                }
            }
        }
        if c.auto_increment && self.d != Dialect::Postgres {
            b.attr("auto_increment", "true");
        }
        if let Some(id) = &c.identity {
            let mut i = Block::new("identity", []);
            i.attr("generated", if id.always { "ALWAYS" } else { "BY_DEFAULT" });
            if id.start != 1 {
                i.attr("start", id.start.to_string());
            }
            if id.increment != 1 {
                i.attr("increment", id.increment.to_string());
            }
            b.block(i);
        }
        if let Some(g) = &c.generated {
            let mut a = Block::new("as", []);
            a.attr("expr", hcl_string(&g.expr));
            a.attr("type", if g.stored { "STORED" } else { "VIRTUAL" });
            b.block(a);
        }
        b
    }

    /// `columns = [...]` when every part is a plain ascending column; returns whether it was written (else the
    /// parts go in `on` blocks, see [`Printer::on_blocks`]).
    fn columns_attr(&self, b: &mut Block, parts: &[IndexPart]) -> bool {
        let plain = parts.iter().all(|p| {
            matches!(p.key, PartKey::Column(_))
                && !p.desc
                && p.collation.is_none()
                && p.opclass.is_none()
                && p.prefix.is_none()
        });
        if plain {
            b.attr(
                "columns",
                list(parts.iter().filter_map(|p| p.column_name()).map(column_ref)),
            );
        }
        plain
    }

    fn on_blocks(&self, b: &mut Block, parts: &[IndexPart]) {
        for p in parts {
            let mut on = Block::new("on", []);
            if p.desc {
                on.attr("desc", "true");
            }
            match &p.key {
                PartKey::Column(c) => on.attr("column", column_ref(c)),
                PartKey::Expr(e) => on.attr("expr", hcl_string(e)),
            }
            if let Some(o) = &p.opclass {
                on.attr("ops", opclass(o));
            }
            if let Some(n) = p.prefix {
                on.attr("prefix", n.to_string());
            }
            if let Some(c) = &p.collation {
                on.attr("collate", hcl_string(c));
            }
            b.block(on);
        }
    }

    fn primary_key(&self, t: &Table, pk: &PrimaryKey) -> Block {
        let label = match (&pk.name, self.d) {
            (Some(n), Dialect::Postgres) if *n != format!("{}_pkey", t.name) => vec![n.clone()],
            _ => Vec::new(),
        };
        let mut b = Block::new("primary_key", label);
        if !self.columns_attr(&mut b, &pk.parts) {
            self.on_blocks(&mut b, &pk.parts);
        }
        b
    }

    fn table_ref(&self, schema: &str, table: &str) -> String {
        let qualified = self.tables.get(table).copied().unwrap_or(0) > 1;
        if qualified {
            format!("table{}{}", ref_step(schema), ref_step(table))
        } else {
            format!("table{}", ref_step(table))
        }
    }

    fn foreign_key(&self, s: &Schema, t: &Table, fk: &ForeignKey) -> Block {
        let mut b = Block::new("foreign_key", [fk.name.clone()]);
        b.attr("columns", list(fk.columns.iter().map(|c| column_ref(c))));
        let same = fk.ref_table == t.name && fk.ref_schema == s.name;
        let table = if same {
            String::new()
        } else {
            format!("{}.", self.table_ref(&fk.ref_schema, &fk.ref_table))
        };
        b.attr(
            "ref_columns",
            list(
                fk.ref_columns
                    .iter()
                    .map(|c| format!("{table}{}", column_ref(c))),
            ),
        );
        b.attr("on_update", fk_action(fk.on_update));
        b.attr("on_delete", fk_action(fk.on_delete));
        if fk.deferrable {
            b.attr("deferrable", "true");
        }
        if fk.initially_deferred {
            b.attr("initially_deferred", "true");
        }
        b
    }

    /// `index "n" { … }` (also the body of a PostgreSQL `unique` constraint).
    fn index(&self, kind: &str, i: &Index) -> Block {
        let mut b = Block::new(kind, [i.name.clone()]);
        if i.unique && kind == "index" {
            b.attr("unique", "true");
        }
        let plain = self.columns_attr(&mut b, &i.parts);
        if let Some(c) = &i.comment {
            b.attr("comment", hcl_string(c));
        }
        if let Some(m) = &i.method {
            let upper = m.to_ascii_uppercase();
            match self.d {
                Dialect::Postgres if upper != "BTREE" => {
                    let known = ["BRIN", "HASH", "GIN", "GIST", "SPGIST"].contains(&upper.as_str());
                    b.attr("type", if known { upper } else { hcl_string(m) });
                }
                Dialect::Mysql if upper != "BTREE" => b.attr("type", upper),
                _ => {}
            }
        }
        if let Some(p) = &i.predicate {
            b.attr("where", go_quote(p));
        }
        if i.nulls_not_distinct {
            b.attr("nulls_distinct", "false");
        }
        if !i.include.is_empty() {
            b.attr("include", list(i.include.iter().map(|c| column_ref(c))));
        }
        if !plain {
            self.on_blocks(&mut b, &i.parts);
        }
        b
    }

    fn unique(&self, i: &Index) -> Block {
        self.index("unique", i)
    }

    fn check(&self, c: &Check) -> Block {
        let mut b = Block::new("check", c.name.clone());
        b.attr("expr", hcl_string(&c.expr));
        if !c.enforced {
            b.attr("enforced", "false");
        }
        if c.no_inherit {
            b.attr("no_inherit", "true");
        }
        b
    }

    /// A type written where a column's would be (`arg.type`, `return`): its HCL spelling when that reads back as
    /// the same text, else `sql("…")`.
    fn type_attr(&self, s: &Schema, ty: &str) -> String {
        let scope = TypeScope::new(self.realm, &s.name);
        let h = to_hcl(self.d, &ColumnType::parse(self.d, ty), &scope);
        let same =
            h.unsigned.is_none() && crate::types::to_sql(self.d, &h).is_ok_and(|back| back == ty);
        if same {
            h.ty.to_string()
        } else {
            format!("sql({})", go_quote(ty))
        }
    }

    fn function_ref(&self, schema: &str, name: &str) -> String {
        if self.functions.get(name).copied().unwrap_or(0) > 1 {
            format!("function{}{}", ref_step(schema), ref_step(name))
        } else {
            format!("function{}", ref_step(name))
        }
    }

    fn routine(&self, s: &Schema, r: &Routine) -> Block {
        let kind = match r.kind {
            RoutineKind::Function => "function",
            RoutineKind::Procedure => "procedure",
        };
        let mut b = Block::new(kind, Self::labels(&self.functions, &s.name, &r.name));
        b.attr("schema", schema_ref(&s.name));
        if let Some(l) = &r.lang {
            b.attr(
                "lang",
                match l.as_str() {
                    "sql" => "SQL".to_owned(),
                    "plpgsql" => "PLpgSQL".to_owned(),
                    l if crate::types::is_hcl_ident(l) => l.to_owned(),
                    l => hcl_string(l),
                },
            );
        }
        for a in &r.args {
            let mut ab = Block::new("arg", a.name.clone());
            ab.attr("type", self.type_attr(s, &a.ty));
            let default_mode = if r.kind == RoutineKind::Procedure {
                Some("IN")
            } else {
                None
            };
            if a.mode.as_deref() != default_mode
                && let Some(m) = &a.mode
            {
                ab.attr("mode", m.clone());
            }
            if let Some(d) = &a.default {
                ab.attr(
                    "default",
                    if is_number(d) {
                        d.clone()
                    } else {
                        format!("sql({})", go_quote(d))
                    },
                );
            }
            b.block(ab);
        }
        if let Some(ret) = &r.returns {
            b.attr("return", self.type_attr(s, ret));
        }
        b.attr("as", body_as(&r.body));
        if let Some(v) = &r.volatility {
            b.attr("volatility", v.clone());
        }
        if r.strict {
            b.attr("strict", "true");
        }
        if r.leakproof {
            b.attr("leakproof", "true");
        }
        if r.deterministic {
            b.attr("deterministic", "true");
        }
        if let Some(a) = &r.data_access {
            b.attr("data_access", a.replace(' ', "_"));
        }
        if let Some(sec) = &r.security {
            b.attr("security", sec.clone());
        }
        if let Some(c) = &r.comment {
            b.attr("comment", hcl_string(c));
        }
        b
    }

    fn trigger(&self, s: &Schema, t: &TriggerSpec) -> Block {
        let mut b = Block::new("trigger", [t.name.clone()]);
        let table = self.table_ref(&s.name, &t.table);
        b.attr("on", table.clone());
        let timing = match t.timing.as_str() {
            "BEFORE" => "before",
            "AFTER" => "after",
            _ => "instead_of",
        };
        let mut tb = Block::new(timing, []);
        for e in &t.events {
            match e {
                Event::Insert => tb.attr("insert", "true"),
                Event::Update(cols) if cols.is_empty() => tb.attr("update", "true"),
                Event::Update(cols) => tb.attr(
                    "update_of",
                    list(cols.iter().map(|c| format!("{table}.{}", column_ref(c)))),
                ),
                Event::Delete => tb.attr("delete", "true"),
                Event::Truncate => tb.attr("truncate", "true"),
            }
        }
        b.block(tb);
        match self.d {
            Dialect::Postgres => b.attr("for", if t.for_row { "ROW" } else { "STATEMENT" }),
            Dialect::Sqlite if t.for_row => b.attr("for", "ROW"),
            _ => {}
        }
        if let Some(w) = &t.when {
            b.attr("when", hcl_string(w));
        }
        if let Some((fs, fname)) = &t.execute {
            let mut e = Block::new("execute", []);
            e.attr("function", self.function_ref(fs, fname));
            b.block(e);
        }
        if let Some(body) = &t.body {
            b.attr("as", body_as(body));
        }
        b
    }

    fn view(&self, kind: &str, s: &Schema, v: &View) -> Block {
        let mut b = Block::new(kind, Self::labels(&self.views, &s.name, &v.name));
        b.attr("schema", schema_ref(&s.name));
        let def = match self.d {
            Dialect::Sqlite => sqlite_view_query(&v.definition),
            _ => v.definition.as_str(),
        };
        b.attr("as", view_as(def));
        if let Some(o) = v.check_option {
            b.attr(
                "check_option",
                match o {
                    strata_schema::CheckOption::Local => "LOCAL",
                    strata_schema::CheckOption::Cascaded => "CASCADED",
                },
            );
        }
        if let Some(c) = &v.comment {
            b.attr("comment", hcl_string(c));
        }
        b
    }
}

/// An operator class: bare when it reads as one of PostgreSQL's `…_ops` classes, else a string.
fn opclass(o: &str) -> String {
    let ident = o
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ident && o.ends_with("_ops") {
        o.to_string()
    } else {
        hcl_string(o)
    }
}

/// A view's `as`: one line as a string; several as Atlas's indented heredoc (`<<-SQL`, lines indented by two
/// spaces). Template sequences are escaped so the heredoc reads back as written.
fn view_as(def: &str) -> String {
    let def = def.replace("\r\n", "\n");
    if !def.contains('\n') {
        return hcl_string(&def);
    }
    let escaped = def.replace("${", "$${").replace("%{", "%%{");
    let mut out = String::from("<<-SQL");
    for line in escaped.split('\n') {
        out.push_str("\n  ");
        out.push_str(line);
    }
    out.push_str("\n  SQL");
    out
}

/// A routine's or trigger's body as `as`: Atlas's indented `<<-SQL` heredoc when the body spans lines and the
/// heredoc reads back as exactly these bytes (it ends with a newline, some line starts at its left edge, no
/// line is blank but for spaces or starts with a tab, none is the closing word); else a quoted string.
fn body_as(body: &str) -> String {
    let lines: Vec<&str> = body.strip_suffix('\n').unwrap_or("").split('\n').collect();
    let exact = body.ends_with('\n')
        && lines.len() > 1
        && lines
            .iter()
            .any(|l| l.starts_with(|c: char| !c.is_whitespace()))
        && lines.iter().all(|l| {
            !l.starts_with('\t')
                && !l.contains('\r')
                && (l.is_empty() || !l.trim().is_empty())
                && l.trim() != "SQL"
        });
    if !exact {
        return hcl_string(body);
    }
    let mut out = String::from("<<-SQL");
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str("  ");
            out.push_str(&line.replace("${", "$${").replace("%{", "%%{"));
        }
    }
    out.push_str("\n  SQL");
    out
}

/// The query of SQLite's stored `CREATE VIEW name AS query` (the whole text when it has no such prefix).
fn sqlite_view_query(def: &str) -> &str {
    let trimmed = def.trim();
    if !trimmed
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("create"))
    {
        return trimmed;
    }
    // The first ` AS ` keyword outside quotes and parentheses ends the header.
    let bytes = trimmed.as_bytes();
    let mut quote: Option<u8> = None;
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' | b'`' | b'[' => quote = Some(if c == b'[' { b']' } else { c }),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0
                    && c.is_ascii_whitespace()
                    && trimmed
                        .get(i + 1..i + 3)
                        .is_some_and(|w| w.eq_ignore_ascii_case("as"))
                    && trimmed
                        .as_bytes()
                        .get(i + 3)
                        .is_some_and(|b| b.is_ascii_whitespace()) =>
                {
                    return trimmed[i + 3..].trim();
                }
                _ => {}
            },
        }
        i += 1;
    }
    trimmed
}

/// `serial`, `bigserial` or `smallserial` for an integer column whose default is `nextval` of a sequence named
/// like a serial's (`<table>_<column>_seq`, optionally schema-qualified), as Atlas's inspection reads it.
fn serial_type(kind: &TypeKind, default: Option<&str>) -> Option<&'static str> {
    let TypeKind::Integer { bits, .. } = kind else {
        return None;
    };
    let d = default?.trim();
    let lower = d.to_ascii_lowercase();
    let rest = lower.strip_prefix("nextval('")?;
    let mut inner = rest.strip_suffix(')')?;
    while let Some(x) = inner.strip_suffix("::regclass") {
        inner = x;
    }
    let name = inner.strip_suffix('\'')?;
    let seq = name
        .rsplit_once('.')
        .map_or(name, |(_, n)| n)
        .trim_matches('"');
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    };
    let stem = seq.strip_suffix("_seq")?;
    // `[\w$]+_[\w$]+_seq`: at least one `_` inside the stem, with word characters on both sides.
    let ok = word(stem)
        && stem
            .char_indices()
            .any(|(i, c)| c == '_' && i > 0 && i + 1 < stem.len());
    if !ok {
        return None;
    }
    Some(match bits {
        16 => "smallserial",
        64 => "bigserial",
        _ => "serial",
    })
}

/// Whether `s` is a whole single-quoted SQL string (inner quotes doubled, or backslash-escaped on MySQL).
fn is_quoted(d: Dialect, s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'\'' || b[b.len() - 1] != b'\'' {
        return false;
    }
    let inner = &b[1..b.len() - 1];
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' if d == Dialect::Mysql => i += 2,
            b'\'' => {
                if inner.get(i + 1) != Some(&b'\'') {
                    return false;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    true
}

fn unquote(d: Dialect, s: &str) -> String {
    let inner = &s[1..s.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\\' if d == Dialect::Mysql => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// Go's `sqlx.IsLiteralNumber`: an optional sign, digits with at most one point, an optional exponent.
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let mant_ok = match mant.split_once('.') {
        Some((a, b)) => (a.is_empty() || digits(a)) && digits(b),
        None => digits(mant),
    };
    mant_ok && exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

fn is_bool(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
}

/// PostgreSQL: `'lit'::type` where the cast only restates the column's type is the literal (Atlas's `canConvert`).
fn pg_uncast(c: &Column, d: &str, scope: &TypeScope<'_>) -> Option<String> {
    let i = d.rfind("::")?;
    let q = &d[..i];
    if !is_quoted(Dialect::Postgres, q) {
        return None;
    }
    let inner = &q[1..q.len() - 1];
    let enum_ref = matches!(
        to_hcl(Dialect::Postgres, &c.ty, scope).ty,
        HclType::EnumRef { .. }
    );
    match &c.ty.kind {
        _ if enum_ref => Some(q.to_string()),
        TypeKind::Bool => is_bool(inner).then(|| inner.to_string()),
        TypeKind::Integer { .. } | TypeKind::Decimal { .. } | TypeKind::Float { .. } => {
            is_number(inner).then(|| inner.to_string())
        }
        TypeKind::UserDefined { .. } => None,
        TypeKind::Other if c.ty.raw.eq_ignore_ascii_case("money") => None,
        _ => Some(q.to_string()),
    }
}

/// A column default as Atlas prints it: literals as HCL values, the rest as `sql("…")`.
fn default_value(d: Dialect, c: &Column, raw: &str, scope: &TypeScope<'_>) -> String {
    let raw = raw.trim();
    let sql = |s: &str| format!("sql({})", go_quote(s));
    let literal = if is_bool(raw) || is_number(raw) || is_quoted(d, raw) {
        raw.to_string()
    } else if d == Dialect::Postgres
        && let Some(l) = pg_uncast(c, raw, scope)
    {
        l
    } else {
        return sql(raw);
    };
    let lower = literal.to_ascii_lowercase();
    if ["0x", "0b", "b'", "x'"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return sql(&literal);
    }
    if is_quoted(d, &literal) {
        return hcl_string(&unquote(d, &literal));
    }
    if is_bool(&literal) {
        return lower;
    }
    if literal.contains('.') {
        return match literal.parse::<f64>() {
            Ok(f) if f.is_finite() => format!("{f}"),
            _ => sql(&literal),
        };
    }
    if let Ok(i) = literal.parse::<i64>() {
        return i.to_string();
    }
    if let Ok(u) = literal.parse::<u64>() {
        return u.to_string();
    }
    sql(&literal)
}

#[cfg(test)]
mod tests;
