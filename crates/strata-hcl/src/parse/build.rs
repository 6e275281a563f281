//! The model from the evaluated files: block instances (after `for_each`), their names, references between
//! them, and every table's columns, keys, indexes and checks.

use std::collections::BTreeMap;
use std::ops::Range;
use std::rc::Rc;

use hcl::Value;
use hcl::edit::Span as _;
use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::structure::{Attribute, Block};
use hcl::eval::Context;
use strata_migrate::Dialect;
use strata_schema::{
    Check, CheckOption, Column, ColumnType, Enum, FkAction, ForeignKey, Generated, Identity, Index,
    IndexPart, PartKey, PrimaryKey, Realm, Schema, Sequence, Table, View,
};

use super::eval::{Scope, as_sql, eval};
use super::src::Source;
use super::{ErrorKind, HclError};
use crate::routine::{Event, Routine, TriggerSpec};
use crate::types::{HclColumnType, HclType, TypeArg};
use strata_schema::model::RoutineKind;

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
        Dialect::Sqlite => "SQLite",
    }
}

/// One block as it is built: after `for_each`, with the context its expressions evaluate in.
#[derive(Clone)]
struct Inst<'a> {
    src: &'a Source,
    block: &'a Block,
    ctx: Rc<Context<'static>>,
}

impl<'a> Inst<'a> {
    fn kind(&self) -> &'a str {
        self.block.ident.as_str()
    }

    fn label(&self) -> Option<&'a str> {
        self.block.labels.last().map(|l| l.as_str())
    }

    /// `table "users"` for messages.
    fn title(&self) -> String {
        let mut t = self.kind().to_owned();
        for l in &self.block.labels {
            t.push_str(&format!(" {:?}", l.as_str()));
        }
        t
    }

    fn err(&self, span: Option<Range<usize>>, kind: ErrorKind) -> HclError {
        self.src.err(span, kind)
    }

    fn here(&self, kind: ErrorKind) -> HclError {
        self.src.err(self.block.ident.span(), kind)
    }

    fn attr(&self, name: &str) -> Option<&'a Attribute> {
        self.block
            .body
            .attributes()
            .find(|a| a.key.as_str() == name)
    }

    fn children(&self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.block
            .body
            .blocks()
            .filter(move |b| b.ident.as_str() == kind)
    }

    /// Refuses attributes and child blocks other than the allowed ones (`for_each` is always allowed).
    fn check(&self, attrs: &[&str], blocks: &[&str]) -> Result<(), HclError> {
        for a in self.block.body.attributes() {
            let k = a.key.as_str();
            if k != "for_each" && !attrs.contains(&k) {
                if ATLAS_ONLY.contains(&(self.kind(), k)) {
                    return Err(self.err(
                        a.key.span(),
                        ErrorKind::Unsupported {
                            what: format!(
                                "{}.{k} is Atlas's, but Strata's schema model has no place for it yet: remove it, \
                                 or keep this {} in a SQL desired state",
                                self.kind(),
                                self.kind()
                            ),
                        },
                    ));
                }
                return Err(self.err(
                    a.key.span(),
                    ErrorKind::UnknownAttribute {
                        name: k.to_owned(),
                        within: self.title(),
                        expected: one_of(attrs),
                    },
                ));
            }
        }
        for b in self.block.body.blocks() {
            let k = b.ident.as_str();
            if !blocks.contains(&k) {
                return Err(self.err(
                    b.ident.span(),
                    ErrorKind::UnknownBlock {
                        name: k.to_owned(),
                        within: self.title(),
                        expected: if blocks.is_empty() {
                            "no blocks".to_owned()
                        } else {
                            one_of(blocks)
                        },
                    },
                ));
            }
        }
        Ok(())
    }

    fn labels(&self, min: usize, max: usize, expected: &'static str) -> Result<(), HclError> {
        let n = self.block.labels.len();
        if n < min || n > max {
            return Err(self.here(ErrorKind::Labels {
                block: format!("{} block", self.kind()),
                expected,
                found: n,
            }));
        }
        Ok(())
    }

    /// The value of an attribute; `null` is no value (Atlas: setting an attribute to null omits it).
    fn value(&self, name: &str) -> Result<Option<(Value, &'a Attribute)>, HclError> {
        let Some(a) = self.attr(name) else {
            return Ok(None);
        };
        match eval(&self.ctx, self.src, &a.value)? {
            Value::Null => Ok(None),
            v => Ok(Some((v, a))),
        }
    }

    fn string(&self, name: &str) -> Result<Option<String>, HclError> {
        match self.value(name)? {
            None => Ok(None),
            Some((Value::String(s), _)) => Ok(Some(s)),
            Some((Value::Number(n), _)) => Ok(Some(n.to_string())),
            Some((v, a)) => Err(self.bad(a, name, "a string", &v)),
        }
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, HclError> {
        match self.value(name)? {
            None => Ok(None),
            Some((Value::Bool(b), _)) => Ok(Some(b)),
            Some((v, a)) => Err(self.bad(a, name, "true or false", &v)),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>, HclError> {
        match self.value(name)? {
            None => Ok(None),
            Some((Value::Number(n), a)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(a, name, "a whole number", &Value::Number(n))),
            Some((v, a)) => Err(self.bad(a, name, "a whole number", &v)),
        }
    }

    fn bad(&self, a: &Attribute, name: &str, expected: &'static str, got: &Value) -> HclError {
        self.err(
            a.value.span(),
            ErrorKind::Value {
                attr: format!("{}.{name}", self.kind()),
                expected,
                got: describe(got),
            },
        )
    }

    /// A keyword attribute (`on_delete = CASCADE`, `type = BTREE`): a bare word, or a string.
    fn keyword(
        &self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<(String, &'a Attribute)>, HclError> {
        let Some(a) = self.attr(name) else {
            return Ok(None);
        };
        let word = match &a.value {
            Expression::Variable(v) => v.as_str().to_owned(),
            _ => match eval(&self.ctx, self.src, &a.value)? {
                Value::Null => return Ok(None),
                Value::String(s) => s,
                v => return Err(self.bad(a, name, "a keyword", &v)),
            },
        };
        // `SET_NULL` and `"SET NULL"` are the same word.
        let underscored = word.replace(' ', "_");
        if !allowed.is_empty() && !allowed.iter().any(|w| w.eq_ignore_ascii_case(&underscored)) {
            return Err(self.err(
                a.value.span(),
                ErrorKind::Keyword {
                    attr: format!("{}.{name}", self.kind()),
                    value: word,
                    allowed: allowed.join(", "),
                },
            ));
        }
        Ok(Some((word, a)))
    }

    /// The final name: the `name` attribute, else the label.
    fn name(&self) -> Result<String, HclError> {
        match self.string("name")? {
            Some(n) => Ok(n),
            None => Ok(self.label().unwrap_or_default().to_owned()),
        }
    }

    /// Refuses an attribute the dialect does not have.
    fn only_on(&self, name: &str, dialects: &[Dialect], d: Dialect) -> Result<(), HclError> {
        if let Some(a) = self.attr(name)
            && !dialects.contains(&d)
        {
            let on: Vec<&str> = dialects.iter().map(|d| dialect_name(*d)).collect();
            return Err(self.err(
                a.key.span(),
                ErrorKind::Unsupported {
                    what: format!(
                        "{}.{name} is {}'s, not {}'s: remove it",
                        self.kind(),
                        on.join("/"),
                        dialect_name(d)
                    ),
                },
            ));
        }
        Ok(())
    }
}

/// Attributes of Atlas's language that the model cannot hold: refused with their own message.
const ATLAS_ONLY: &[(&str, &str)] = &[
    ("index", "page_per_range"),
    ("index", "parser"),
    ("table", "row_format"),
    ("table", "checksum"),
];

fn one_of(names: &[&str]) -> String {
    match names {
        [] => "none".to_owned(),
        [one] => one.to_string(),
        _ => format!("one of {}", names.join(", ")),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        v if as_sql(v).is_some() => format!("sql({:?})", as_sql(v).unwrap_or_default()),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a map".to_owned(),
        v => v.to_string(),
    }
}

/// The instances of `block` under `parent`'s context: one, or one per `for_each` element with `each` set.
fn expand<'a>(
    src: &'a Source,
    block: &'a Block,
    parent: &Rc<Context<'static>>,
) -> Result<Vec<Inst<'a>>, HclError> {
    let Some(fe) = block
        .body
        .attributes()
        .find(|a| a.key.as_str() == "for_each")
    else {
        return Ok(vec![Inst {
            src,
            block,
            ctx: parent.clone(),
        }]);
    };
    let items: Vec<(Value, Value)> = match eval(parent, src, &fe.value)? {
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| match &v {
                Value::String(_) => (v.clone(), v),
                _ => (Value::from(i as u64), v),
            })
            .collect(),
        Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        v => return Err(src.err(fe.value.span(), ErrorKind::ForEach(describe(&v)))),
    };
    Ok(items
        .into_iter()
        .map(|(key, value)| {
            let mut each = hcl::Map::new();
            each.insert("key".to_owned(), key);
            each.insert("value".to_owned(), value);
            let mut ctx = (**parent).clone();
            ctx.declare_var("each", Value::Object(each));
            Inst {
                src,
                block,
                ctx: Rc::new(ctx),
            }
        })
        .collect())
}

/// A reference as written: `table.users.column.id` → `["table", "users", "column", "id"]`.
fn ref_path(inst: &Inst<'_>, expr: &Expression) -> Result<Option<Vec<String>>, HclError> {
    match expr {
        Expression::Variable(v) => Ok(Some(vec![v.as_str().to_owned()])),
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return Ok(None);
            };
            let mut out = vec![root.as_str().to_owned()];
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(i) => out.push(i.as_str().to_owned()),
                    TraversalOperator::Index(e) => match eval(&inst.ctx, inst.src, e)? {
                        Value::String(s) => out.push(s),
                        Value::Number(n) => out.push(n.to_string()),
                        _ => return Ok(None),
                    },
                    TraversalOperator::LegacyIndex(n) => out.push(n.value().to_string()),
                    _ => return Ok(None),
                }
            }
            Ok(Some(out))
        }
        _ => Ok(None),
    }
}

fn show_path(p: &[String]) -> String {
    let mut s = String::new();
    for (i, part) in p.iter().enumerate() {
        if i == 0 {
            s.push_str(part);
        } else {
            s.push_str(&crate::types::ref_step(part));
        }
    }
    s
}

struct ColSym<'a> {
    label: String,
    name: String,
    inst: Inst<'a>,
}

struct TableSym<'a> {
    label: String,
    qualifier: Option<String>,
    name: String,
    schema: String,
    inst: Inst<'a>,
    columns: Vec<ColSym<'a>>,
}

struct SchemaSym<'a> {
    label: String,
    name: String,
    inst: Inst<'a>,
}

struct EnumSym<'a> {
    label: String,
    name: String,
    schema: String,
    inst: Inst<'a>,
}

/// Everything references can name.
struct Symbols<'a> {
    d: Dialect,
    schemas: Vec<SchemaSym<'a>>,
    tables: Vec<TableSym<'a>>,
    enums: Vec<EnumSym<'a>>,
}

const TOP: &[&str] = &[
    "schema",
    "table",
    "enum",
    "view",
    "materialized",
    "function",
    "procedure",
    "trigger",
    "variable",
    "locals",
];

pub(super) fn realm(srcs: &[Source], scope: &Scope, d: Dialect) -> Result<Realm, HclError> {
    let base = Rc::new(scope.base().clone());
    let mut by_kind: BTreeMap<&str, Vec<Inst<'_>>> = BTreeMap::new();
    for src in srcs {
        if let Some(a) = src.body.attributes().next() {
            return Err(src.err(
                a.key.span(),
                ErrorKind::UnknownAttribute {
                    name: a.key.as_str().to_owned(),
                    within: "the file (top level)".to_owned(),
                    expected: "blocks only (schema, table, enum, view, function, procedure, trigger, variable, locals)"
                        .to_owned(),
                },
            ));
        }
        for b in src.body.blocks() {
            let kind = b.ident.as_str();
            match kind {
                "variable" | "locals" => continue,
                "schema" | "table" | "enum" | "view" | "materialized" | "function"
                | "procedure" | "trigger" => {}
                "data" => {
                    return Err(src.err(
                        b.ident.span(),
                        ErrorKind::Unsupported {
                            what: "data blocks are read in atlas.hcl, not in schema files: move it to the \
                                   project file and pass its value as a variable"
                                .to_owned(),
                        },
                    ));
                }
                "sequence" | "domain" | "composite" | "extension" | "policy" | "aggregate"
                | "event_trigger" => {
                    return Err(src.err(
                        b.ident.span(),
                        ErrorKind::Unsupported {
                            what: format!(
                                "{kind} blocks are not read from HCL yet (Atlas's community build refuses them \
                                 too): keep {kind}s in a SQL desired state"
                            ),
                        },
                    ));
                }
                other => {
                    return Err(src.err(
                        b.ident.span(),
                        ErrorKind::UnknownBlock {
                            name: other.to_owned(),
                            within: "the file (top level)".to_owned(),
                            expected: one_of(TOP),
                        },
                    ));
                }
            }
            by_kind
                .entry(kind)
                .or_default()
                .extend(expand(src, b, &base)?);
        }
    }
    let schema_insts = by_kind.remove("schema").unwrap_or_default();
    let table_insts = by_kind.remove("table").unwrap_or_default();
    let enum_insts = by_kind.remove("enum").unwrap_or_default();
    let view_insts = by_kind.remove("view").unwrap_or_default();
    let mview_insts = by_kind.remove("materialized").unwrap_or_default();
    let mut routine_insts = by_kind.remove("function").unwrap_or_default();
    routine_insts.extend(by_kind.remove("procedure").unwrap_or_default());
    let trigger_insts = by_kind.remove("trigger").unwrap_or_default();

    let mut syms = Symbols {
        d,
        schemas: Vec::new(),
        tables: Vec::new(),
        enums: Vec::new(),
    };
    let mut realm = Realm::new(d);
    for inst in schema_insts {
        inst.labels(1, 1, "one label (the schema's name)")?;
        inst.check(&["name", "comment", "charset", "collate"], &[])?;
        inst.only_on("comment", &[Dialect::Postgres, Dialect::Mysql], d)?;
        inst.only_on("charset", &[Dialect::Mysql], d)?;
        inst.only_on("collate", &[Dialect::Mysql], d)?;
        let name = inst.name()?;
        if let Some(first) = syms.schemas.iter().find(|s| s.name == name) {
            return Err(inst.here(ErrorKind::Duplicate {
                kind: "schema",
                name,
                first: first.inst.src.at(first.inst.block.ident.span()),
            }));
        }
        let mut s = Schema::new(name.clone());
        s.comment = inst.string("comment")?;
        s.charset = inst.string("charset")?;
        s.collation = inst.string("collate")?;
        realm.schemas.push(s);
        syms.schemas.push(SchemaSym {
            label: inst.label().unwrap_or_default().to_owned(),
            name,
            inst,
        });
    }
    for inst in enum_insts {
        inst.labels(1, 1, "one label (the enum's name)")?;
        if d != Dialect::Postgres {
            return Err(inst.here(ErrorKind::Unsupported {
                what: match d {
                    Dialect::Mysql => "enum blocks are PostgreSQL's: on MySQL write the values in the column type, \
                                       enum(\"a\",\"b\")"
                        .to_owned(),
                    _ => "enum blocks are PostgreSQL's: SQLite has no enum types; use text with a check".to_owned(),
                },
            }));
        }
        inst.check(&["name", "schema", "values"], &[])?;
        let schema = syms.schema_of(&inst)?;
        let name = inst.name()?;
        if let Some(first) = syms
            .enums
            .iter()
            .find(|e| e.name == name && e.schema == schema)
        {
            return Err(inst.here(ErrorKind::Duplicate {
                kind: "enum",
                name,
                first: first.inst.src.at(first.inst.block.ident.span()),
            }));
        }
        syms.enums.push(EnumSym {
            label: inst.label().unwrap_or_default().to_owned(),
            name,
            schema,
            inst,
        });
    }
    for inst in table_insts {
        inst.labels(1, 2, "one label (the table's name) or two (schema, table)")?;
        let name = inst.name()?;
        let schema = syms.schema_of(&inst)?;
        if let Some(first) = syms
            .tables
            .iter()
            .find(|t| t.name == name && t.schema == schema)
        {
            return Err(inst.here(ErrorKind::Duplicate {
                kind: "table",
                name,
                first: first.inst.src.at(first.inst.block.ident.span()),
            }));
        }
        let mut columns: Vec<ColSym<'_>> = Vec::new();
        for b in inst.children("column") {
            for c in expand(inst.src, b, &inst.ctx)? {
                c.labels(1, 1, "one label (the column's name)")?;
                let cname = c.name()?;
                if let Some(first) = columns.iter().find(|x| x.name == cname) {
                    return Err(c.here(ErrorKind::Duplicate {
                        kind: "column",
                        name: cname,
                        first: first.inst.src.at(first.inst.block.ident.span()),
                    }));
                }
                columns.push(ColSym {
                    label: c.label().unwrap_or_default().to_owned(),
                    name: cname,
                    inst: c,
                });
            }
        }
        let labels = &inst.block.labels;
        syms.tables.push(TableSym {
            label: inst.label().unwrap_or_default().to_owned(),
            qualifier: (labels.len() == 2).then(|| labels[0].as_str().to_owned()),
            name,
            schema,
            inst,
            columns,
        });
    }
    for e in &syms.enums {
        let values = match e.inst.value("values")? {
            Some((Value::Array(vs), a)) => vs
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(e.inst.bad(a, "values", "a list of strings", other)),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some((v, a)) => return Err(e.inst.bad(a, "values", "a list of strings", &v)),
            None => {
                return Err(e.inst.here(ErrorKind::MissingAttribute {
                    name: "values",
                    within: e.inst.title(),
                }));
            }
        };
        if let Some(s) = realm.schema_mut(&e.schema) {
            s.enums.push(Enum {
                name: e.name.clone(),
                values,
            });
        }
    }
    for (i, t) in syms.tables.iter().enumerate() {
        let (table, sequences) = syms.table(i)?;
        if let Some(s) = realm.schema_mut(&t.schema) {
            s.tables.push(table);
            s.sequences.extend(sequences);
        }
    }
    for (insts, materialized) in [(view_insts, false), (mview_insts, true)] {
        for inst in insts {
            let (schema, v) = syms.view(&inst, materialized)?;
            if let Some(s) = realm.schema_mut(&schema) {
                let list = if materialized {
                    &mut s.materialized_views
                } else {
                    &mut s.views
                };
                if list.iter().any(|x| x.name == v.name) {
                    return Err(inst.here(ErrorKind::Duplicate {
                        kind: "view",
                        name: v.name,
                        first: "an earlier block".to_owned(),
                    }));
                }
                list.push(v);
            }
        }
    }
    let mut routines: Vec<FuncSym<'_>> = Vec::new();
    for inst in routine_insts {
        let r = syms.routine(&inst)?;
        let function = r.definition(d);
        if let Some(first) = routines
            .iter()
            .find(|f| f.name == r.name && f.schema == r.schema && f.args == function.args)
        {
            return Err(inst.here(ErrorKind::Duplicate {
                kind: "function",
                name: r.name,
                first: first.inst.src.at(first.inst.block.ident.span()),
            }));
        }
        if let Some(s) = realm.schema_mut(&r.schema) {
            s.functions.push(function.clone());
        }
        let labels = &inst.block.labels;
        routines.push(FuncSym {
            label: inst.label().unwrap_or_default().to_owned(),
            qualifier: (labels.len() == 2).then(|| labels[0].as_str().to_owned()),
            name: r.name,
            schema: r.schema,
            args: function.args,
            inst,
        });
    }
    for inst in trigger_insts {
        let t = syms.trigger(&inst, &routines)?;
        let trigger = t.definition(d);
        if let Some(s) = realm.schema_mut(&t.schema) {
            if s.triggers
                .iter()
                .any(|x| x.name == trigger.name && x.table == trigger.table)
            {
                return Err(inst.here(ErrorKind::Duplicate {
                    kind: "trigger",
                    name: trigger.name,
                    first: "an earlier block".to_owned(),
                }));
            }
            s.triggers.push(trigger);
        }
    }
    realm.sort();
    Ok(realm)
}

/// A function or procedure block, for `execute { function = function.f }`.
struct FuncSym<'a> {
    label: String,
    qualifier: Option<String>,
    name: String,
    schema: String,
    args: String,
    inst: Inst<'a>,
}

/// The SQL literal of a string default.
fn literal(d: Dialect, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if d == Dialect::Mysql => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl<'a> Symbols<'a> {
    /// The schema a block's `schema = schema.x` names; without the attribute, the only schema there is.
    fn schema_of(&self, inst: &Inst<'a>) -> Result<String, HclError> {
        let Some(a) = inst.attr("schema") else {
            return match self.schemas.as_slice() {
                [one] => Ok(one.name.clone()),
                [] => Err(inst.here(ErrorKind::Unsupported {
                    what: format!(
                        "{} has no schema and the files define none: add a schema block (schema \"{}\" {{}}) \
                         and schema = schema.<name>",
                        inst.title(),
                        default_schema(self.d)
                    ),
                })),
                _ => Err(inst.here(ErrorKind::MissingAttribute {
                    name: "schema",
                    within: inst.title(),
                })),
            };
        };
        let path = ref_path(inst, &a.value)?.unwrap_or_default();
        let bad = |why: String| {
            inst.err(
                a.value.span(),
                ErrorKind::Reference {
                    reference: format!("{}.schema", inst.kind()),
                    why,
                },
            )
        };
        match path.as_slice() {
            [root, label] if root == "schema" => {
                let found: Vec<&SchemaSym<'_>> =
                    self.schemas.iter().filter(|s| &s.label == label).collect();
                match found.as_slice() {
                    [one] => Ok(one.name.clone()),
                    [] => Err(bad(format!(
                        "{} names no schema block: define schema {label:?} {{}} or fix the name",
                        show_path(&path)
                    ))),
                    _ => Err(bad(format!(
                        "{} names {} schemas (a for_each): give each one its own label",
                        show_path(&path),
                        found.len()
                    ))),
                }
            }
            _ => Err(bad(
                "expected a reference to a schema block, like schema.public".to_owned(),
            )),
        }
    }

    fn resolve_table(
        &self,
        inst: &Inst<'a>,
        path: &[String],
        span: Option<Range<usize>>,
    ) -> Result<usize, HclError> {
        // `table.t.column.c` or `table.q.t.column.c`; `table.t` or `table.q.t`.
        let (qualifier, label) = if path.len() == 4 || path.len() == 2 {
            (None, &path[1])
        } else {
            (path.get(1), &path[2])
        };
        // Atlas's addresses first: `table.t` is the table labelled without a qualifier, `table.q.t` the one
        // labelled `q`; then, when none is, any table labelled `t` (in schema `q`).
        let matching = |exact: bool| -> Vec<usize> {
            self.tables
                .iter()
                .enumerate()
                .filter(|(_, t)| {
                    &t.label == label
                        && match (qualifier, exact) {
                            (None, true) => t.qualifier.is_none(),
                            (None, false) => true,
                            (Some(q), true) => t.qualifier.as_ref() == Some(q),
                            (Some(q), false) => t.qualifier.is_none() && &t.schema == q,
                        }
                })
                .map(|(i, _)| i)
                .collect()
        };
        let mut found = matching(true);
        if found.is_empty() {
            found = matching(false);
        }
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(inst.err(
                span,
                ErrorKind::Reference {
                    reference: show_path(path),
                    why: format!("there is no table block {label:?}: define it or fix the name"),
                },
            )),
            _ => Err(inst.err(
                span,
                ErrorKind::Reference {
                    reference: show_path(path),
                    why: format!(
                        "{} tables are labelled {label:?}: label them table \"<schema>\" \"{label}\" and write \
                         table.<schema>.{label}.column.<name>",
                        found.len()
                    ),
                },
            )),
        }
    }

    /// A column reference: `column.x` (in `table`) or `table.t.column.x` / `table.s.t.column.x`. Returns the
    /// table's index and the column's name.
    fn column_ref(
        &self,
        inst: &Inst<'a>,
        table: usize,
        expr: &Expression,
    ) -> Result<(usize, String), HclError> {
        let path = ref_path(inst, expr)?;
        let bad = |why: String| {
            inst.err(
                expr.span(),
                ErrorKind::Reference {
                    reference: path
                        .as_deref()
                        .map(show_path)
                        .unwrap_or_else(|| "this value".to_owned()),
                    why,
                },
            )
        };
        let Some(path) = path.as_deref() else {
            return Err(bad(
                "expected a column reference, like column.id or table.users.column.id".to_owned(),
            ));
        };
        let (t, col) = match path {
            [c, name] if c == "column" => (table, name),
            [t, .., c, name]
                if t == "table" && c == "column" && (path.len() == 4 || path.len() == 5) =>
            {
                (self.resolve_table(inst, path, expr.span())?, name)
            }
            _ => {
                return Err(bad(
                    "expected a column reference, like column.id or table.users.column.id"
                        .to_owned(),
                ));
            }
        };
        let tsym = &self.tables[t];
        match tsym.columns.iter().find(|c| &c.label == col) {
            Some(c) => Ok((t, c.name.clone())),
            None => Err(bad(format!(
                "table {:?} has no column block {col:?}: define it or fix the name",
                tsym.name
            ))),
        }
    }

    /// A list of column references of the same table.
    fn column_list(
        &self,
        inst: &Inst<'a>,
        table: usize,
        attr: &str,
    ) -> Result<Option<(usize, Vec<String>)>, HclError> {
        let Some(a) = inst.attr(attr) else {
            return Ok(None);
        };
        let Expression::Array(items) = &a.value else {
            return Err(inst.err(
                a.value.span(),
                ErrorKind::Value {
                    attr: format!("{}.{attr}", inst.kind()),
                    expected: "a list of column references ([column.a, column.b])",
                    got: "another expression".to_owned(),
                },
            ));
        };
        let mut target = None;
        let mut names = Vec::new();
        for e in items.iter() {
            let (t, n) = self.column_ref(inst, table, e)?;
            if target.is_some_and(|x| x != t) {
                return Err(inst.err(
                    e.span(),
                    ErrorKind::Reference {
                        reference: ref_path(inst, e)?
                            .as_deref()
                            .map(show_path)
                            .unwrap_or_default(),
                        why: format!("every column of {attr} must belong to the same table"),
                    },
                ));
            }
            target = Some(t);
            names.push(n);
        }
        Ok(Some((target.unwrap_or(table), names)))
    }

    fn enum_ref(
        &self,
        inst: &Inst<'a>,
        path: &[String],
        span: Option<Range<usize>>,
    ) -> Result<HclType, HclError> {
        // `enum.e` or `enum.s.e`.
        let (schema, label) = if path.len() == 2 {
            (None, &path[1])
        } else {
            (path.get(1), &path[2])
        };
        let found: Vec<&EnumSym<'_>> = self
            .enums
            .iter()
            .filter(|e| {
                &e.label == label
                    && schema.is_none_or(|s| {
                        &e.schema == s
                            || self
                                .schemas
                                .iter()
                                .any(|x| &x.label == s && x.name == e.schema)
                    })
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(HclType::EnumRef {
                schema: Some(one.schema.clone()),
                name: one.name.clone(),
            }),
            [] => Err(inst.err(
                span,
                ErrorKind::Reference {
                    reference: show_path(path),
                    why: format!("there is no enum block {label:?}: define enum {label:?} {{ … }} or fix the name"),
                },
            )),
            _ => Err(inst.err(
                span,
                ErrorKind::Reference {
                    reference: show_path(path),
                    why: "several enums have this name: write enum.<schema>.<name>".to_owned(),
                },
            )),
        }
    }

    fn column_type(&self, c: &Inst<'a>) -> Result<ColumnType, HclError> {
        let sql = self.type_sql(c, "type")?;
        Ok(ColumnType::parse(self.d, &sql))
    }

    /// The SQL spelling of a type attribute (`type`, a function's `return`).
    fn type_sql(&self, c: &Inst<'a>, attr: &'static str) -> Result<String, HclError> {
        let Some(a) = c.attr(attr) else {
            return Err(c.here(ErrorKind::MissingAttribute {
                name: attr,
                within: c.title(),
            }));
        };
        let expr = &a.value;
        let ty = match expr {
            Expression::Variable(v) => HclType::Ident(v.as_str().to_owned()),
            Expression::Traversal(_) => match ref_path(c, expr)? {
                Some(p)
                    if p[0] == "enum"
                        && (p.len() == 2 || p.len() == 3)
                        && self.d != Dialect::Postgres =>
                {
                    // types::to_sql says why: enum blocks are PostgreSQL's.
                    HclType::EnumRef {
                        schema: None,
                        name: p[p.len() - 1].clone(),
                    }
                }
                Some(p) if p[0] == "enum" && (p.len() == 2 || p.len() == 3) => {
                    self.enum_ref(c, &p, expr.span())?
                }
                _ => {
                    return Err(c.err(
                        expr.span(),
                        ErrorKind::Reference {
                            reference: format!("{}.{attr}", c.kind()),
                            why: "a type is a name (int), a call (varchar(255)), sql(\"…\") or enum.<name>".to_owned(),
                        },
                    ));
                }
            },
            Expression::FuncCall(f) if f.name.namespace.is_empty() => {
                let name = f.name.name.as_str();
                let mut args = Vec::new();
                for arg in f.args.iter() {
                    match eval(&c.ctx, c.src, arg)? {
                        Value::Number(n) => match n.as_u64() {
                            Some(u) => args.push(TypeArg::Int(u)),
                            None => {
                                return Err(c.err(
                                    arg.span(),
                                    ErrorKind::Value {
                                        attr: format!("{}.{attr}", c.kind()),
                                        expected: "a whole number or a string as type argument",
                                        got: n.to_string(),
                                    },
                                ));
                            }
                        },
                        Value::String(s) => args.push(TypeArg::Str(s)),
                        v => {
                            return Err(c.err(
                                arg.span(),
                                ErrorKind::Value {
                                    attr: format!("{}.{attr}", c.kind()),
                                    expected: "a whole number or a string as type argument",
                                    got: describe(&v),
                                },
                            ));
                        }
                    }
                }
                if name == "sql" {
                    match args.as_slice() {
                        [TypeArg::Str(s)] => HclType::Sql(s.clone()),
                        _ => {
                            return Err(c.err(
                                expr.span(),
                                ErrorKind::Value {
                                    attr: format!("{}.{attr}", c.kind()),
                                    expected: "one string in sql(\"…\")",
                                    got: format!("{} arguments", args.len()),
                                },
                            ));
                        }
                    }
                } else {
                    HclType::Call {
                        name: name.to_owned(),
                        args,
                    }
                }
            }
            _ => {
                return Err(c.err(
                    expr.span(),
                    ErrorKind::Value {
                        attr: format!("{}.{attr}", c.kind()),
                        expected: "a type: a name (int), a call (varchar(255)), sql(\"…\") or enum.<name>",
                        got: "another expression".to_owned(),
                    },
                ));
            }
        };
        let unsigned = if attr == "type" {
            c.bool("unsigned")?
        } else {
            None
        };
        crate::types::to_sql(self.d, &HclColumnType { ty, unsigned })
            .map_err(|e| c.err(expr.span(), ErrorKind::Type(e)))
    }

    /// A default or `ON UPDATE` value as the database spells it.
    fn sql_value(
        &self,
        c: &Inst<'a>,
        name: &str,
        raw_strings: bool,
    ) -> Result<Option<String>, HclError> {
        let Some((v, a)) = c.value(name)? else {
            return Ok(None);
        };
        if let Some(raw) = as_sql(&v) {
            return Ok(Some(raw.to_owned()));
        }
        Ok(Some(match v {
            Value::String(s) if raw_strings => s,
            Value::String(s) => literal(self.d, &s),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => match self.d {
                Dialect::Mysql => if b { "1" } else { "0" }.to_owned(),
                _ => b.to_string(),
            },
            v => return Err(c.bad(a, name, "a string, a number, a bool or sql(\"…\")", &v)),
        }))
    }

    fn column(
        &self,
        c: &Inst<'a>,
        name: &str,
        (schema, table): (&str, &str),
        sequences: &mut Vec<Sequence>,
    ) -> Result<Column, HclError> {
        let d = self.d;
        c.check(
            &[
                "name",
                "type",
                "null",
                "default",
                "comment",
                "charset",
                "collate",
                "unsigned",
                "auto_increment",
                "on_update",
                "as",
            ],
            &["as", "identity"],
        )?;
        c.only_on("comment", &[Dialect::Postgres, Dialect::Mysql], d)?;
        c.only_on("charset", &[Dialect::Mysql], d)?;
        c.only_on("unsigned", &[Dialect::Mysql], d)?;
        c.only_on("on_update", &[Dialect::Mysql], d)?;
        c.only_on("auto_increment", &[Dialect::Mysql, Dialect::Sqlite], d)?;
        let mut col = Column::new(name, self.column_type(c)?);
        col.nullable = c.bool("null")?.unwrap_or(false);
        col.default = self.sql_value(c, "default", false)?;
        if d == Dialect::Postgres
            && col.default.is_none()
            && let Some((base, max)) = serial_base(&col.ty.raw)
        {
            // What PostgreSQL makes of a `serial` column, and inspection reports: an integer column whose
            // default draws from its own sequence.
            let seq = format!("{table}_{name}_seq");
            col.ty = ColumnType::parse(d, base);
            col.default = Some(format!(
                "nextval('{}.{}'::regclass)",
                pg_name(schema),
                pg_name(&seq)
            ));
            sequences.push(Sequence {
                name: seq,
                data_type: Some(base.to_owned()),
                start: 1,
                increment: 1,
                min_value: 1,
                max_value: max,
                cache: 1,
                cycle: false,
                owned_by: Some(format!("{table}.{name}")),
            });
        }
        col.on_update = self.sql_value(c, "on_update", true)?;
        col.comment = c.string("comment")?;
        col.charset = c.string("charset")?;
        col.collation = c.string("collate")?;
        col.auto_increment = c.bool("auto_increment")?.unwrap_or(false);
        let default_stored = d == Dialect::Postgres;
        if c.attr("as").is_some() {
            if c.children("as").next().is_some() {
                return Err(c.here(ErrorKind::Unsupported {
                    what: "a column has either as = \"expr\" or an as { } block, not both"
                        .to_owned(),
                }));
            }
            col.generated = c.string("as")?.map(|expr| Generated {
                expr,
                stored: default_stored,
            });
        }
        for b in c.children("as") {
            for g in expand(c.src, b, &c.ctx)? {
                g.labels(0, 0, "no labels")?;
                g.check(&["expr", "type"], &[])?;
                let expr = g.string("expr")?.ok_or_else(|| {
                    g.here(ErrorKind::MissingAttribute {
                        name: "expr",
                        within: format!("column {name:?} as"),
                    })
                })?;
                let allowed: &[&str] = match d {
                    Dialect::Postgres => &["STORED"],
                    Dialect::Mysql => &["STORED", "PERSISTENT", "VIRTUAL"],
                    Dialect::Sqlite => &["STORED", "VIRTUAL"],
                };
                let stored = match g.keyword("type", allowed)? {
                    Some((w, _)) => !w.eq_ignore_ascii_case("VIRTUAL"),
                    None => default_stored,
                };
                col.generated = Some(Generated { expr, stored });
            }
        }
        for b in c.children("identity") {
            for g in expand(c.src, b, &c.ctx)? {
                if d != Dialect::Postgres {
                    return Err(g.here(ErrorKind::Unsupported {
                        what: format!(
                            "identity is PostgreSQL's: on {} write auto_increment = true",
                            dialect_name(d)
                        ),
                    }));
                }
                g.labels(0, 0, "no labels")?;
                g.check(&["generated", "start", "increment"], &[])?;
                let always = match g.keyword("generated", &["ALWAYS", "BY_DEFAULT"])? {
                    Some((w, _)) => w.eq_ignore_ascii_case("ALWAYS"),
                    None => false,
                };
                col.identity = Some(Identity {
                    always,
                    start: g.int("start")?.unwrap_or(1),
                    increment: g.int("increment")?.unwrap_or(1),
                });
            }
        }
        Ok(col)
    }

    /// Index parts from `columns = [...]` or `on { }` blocks (not both).
    fn parts(&self, inst: &Inst<'a>, table: usize) -> Result<Vec<IndexPart>, HclError> {
        let d = self.d;
        let mut parts = Vec::new();
        if let Some((t, cols)) = self.column_list(inst, table, "columns")? {
            if t != table {
                return Err(inst.here(ErrorKind::Reference {
                    reference: format!("{}.columns", inst.kind()),
                    why: "the columns must be the table's own (column.<name>)".to_owned(),
                }));
            }
            parts.extend(cols.into_iter().map(IndexPart::column));
        }
        let on_blocks: Vec<&Block> = inst.children("on").collect();
        if !parts.is_empty() && !on_blocks.is_empty() {
            return Err(inst.here(ErrorKind::Unsupported {
                what: format!(
                    "{} has both columns and on blocks: use one of them",
                    inst.title()
                ),
            }));
        }
        for b in on_blocks {
            for p in expand(inst.src, b, &inst.ctx)? {
                p.labels(0, 0, "no labels")?;
                p.check(&["column", "expr", "desc", "prefix", "ops", "collate"], &[])?;
                p.only_on("prefix", &[Dialect::Mysql], d)?;
                p.only_on("ops", &[Dialect::Postgres], d)?;
                let key = match (p.attr("column"), p.attr("expr")) {
                    (Some(a), None) => {
                        let (t, n) = self.column_ref(&p, table, &a.value)?;
                        if t != table {
                            return Err(p.err(
                                a.value.span(),
                                ErrorKind::Reference {
                                    reference: "on.column".to_owned(),
                                    why:
                                        "an index part is a column of its own table (column.<name>)"
                                            .to_owned(),
                                },
                            ));
                        }
                        PartKey::Column(n)
                    }
                    (None, Some(_)) => PartKey::Expr(p.string("expr")?.unwrap_or_default()),
                    _ => {
                        return Err(p.here(ErrorKind::MissingAttribute {
                            name: "column",
                            within: "on (an index part takes column = column.<name> or expr = \"…\", one of them)"
                                .to_owned(),
                        }));
                    }
                };
                let prefix = match p.int("prefix")? {
                    None => None,
                    Some(n) => Some(u32::try_from(n).map_err(|_| {
                        p.here(ErrorKind::Value {
                            attr: "on.prefix".to_owned(),
                            expected: "a positive length",
                            got: n.to_string(),
                        })
                    })?),
                };
                parts.push(IndexPart {
                    key,
                    desc: p.bool("desc")?.unwrap_or(false),
                    collation: p.string("collate")?,
                    opclass: p.keyword("ops", &[])?.map(|(w, _)| w),
                    prefix,
                });
            }
        }
        if parts.is_empty() {
            return Err(inst.here(ErrorKind::MissingAttribute {
                name: "columns",
                within: format!("{} (or on {{ }} blocks)", inst.title()),
            }));
        }
        Ok(parts)
    }

    /// Table `ti` and the sequences its `serial` columns own.
    fn table(&self, ti: usize) -> Result<(Table, Vec<Sequence>), HclError> {
        let d = self.d;
        let sym = &self.tables[ti];
        let inst = &sym.inst;
        inst.check(
            &[
                "name",
                "schema",
                "comment",
                "charset",
                "collate",
                "engine",
                "auto_increment",
                "strict",
                "without_rowid",
            ],
            &[
                "column",
                "primary_key",
                "index",
                "foreign_key",
                "check",
                "unique",
                "partition",
                "exclude",
            ],
        )?;
        inst.only_on("comment", &[Dialect::Postgres, Dialect::Mysql], d)?;
        for a in ["charset", "collate", "engine", "auto_increment"] {
            inst.only_on(a, &[Dialect::Mysql], d)?;
        }
        inst.only_on("strict", &[Dialect::Sqlite], d)?;
        inst.only_on("without_rowid", &[Dialect::Sqlite], d)?;
        for kind in ["partition", "exclude"] {
            if let Some(b) = inst.children(kind).next() {
                return Err(inst.err(
                    b.ident.span(),
                    ErrorKind::Unsupported {
                        what: format!(
                            "{kind} blocks are not supported by Strata's schema model yet: keep partitioned tables \
                             and exclusion constraints in a SQL desired state"
                        ),
                    },
                ));
            }
        }
        let mut t = Table::new(sym.name.clone());
        t.comment = inst.string("comment")?;
        t.options.charset = inst.string("charset")?;
        t.options.collation = inst.string("collate")?;
        t.options.engine = inst.keyword("engine", &[])?.map(|(w, _)| w);
        t.options.auto_increment = match inst.int("auto_increment")? {
            None => None,
            Some(n) => Some(u64::try_from(n).map_err(|_| {
                inst.here(ErrorKind::Value {
                    attr: "table.auto_increment".to_owned(),
                    expected: "a positive number",
                    got: n.to_string(),
                })
            })?),
        };
        t.options.strict = inst.bool("strict")?.unwrap_or(false);
        t.options.without_rowid = inst.bool("without_rowid")?.unwrap_or(false);
        let mut sequences = Vec::new();
        for c in &sym.columns {
            let col = self.column(&c.inst, &c.name, (&sym.schema, &sym.name), &mut sequences)?;
            t.columns.push(col);
        }
        let mut pk_seen = false;
        for b in inst.children("primary_key") {
            for p in expand(inst.src, b, &inst.ctx)? {
                if pk_seen {
                    return Err(p.here(ErrorKind::Unsupported {
                        what: format!(
                            "{} has two primary_key blocks: a table has one",
                            inst.title()
                        ),
                    }));
                }
                pk_seen = true;
                p.labels(0, 1, "no label, or one (the constraint's name)")?;
                p.check(&["columns", "name"], &["on"])?;
                let name = match p.string("name")? {
                    Some(n) => Some(n),
                    None => p.label().map(str::to_owned),
                };
                t.primary_key = Some(PrimaryKey {
                    name,
                    parts: self.parts(&p, ti)?,
                });
            }
        }
        for b in inst.children("index") {
            for x in expand(inst.src, b, &inst.ctx)? {
                x.labels(1, 1, "one label (the index's name)")?;
                x.check(
                    &[
                        "name",
                        "unique",
                        "columns",
                        "type",
                        "where",
                        "include",
                        "nulls_distinct",
                        "comment",
                    ],
                    &["on"],
                )?;
                x.only_on("where", &[Dialect::Postgres, Dialect::Sqlite], d)?;
                x.only_on("include", &[Dialect::Postgres], d)?;
                x.only_on("nulls_distinct", &[Dialect::Postgres], d)?;
                x.only_on("comment", &[Dialect::Postgres, Dialect::Mysql], d)?;
                x.only_on("type", &[Dialect::Postgres, Dialect::Mysql], d)?;
                let name = x.name()?;
                if t.indexes.iter().any(|i| i.name == name) {
                    return Err(x.here(ErrorKind::Duplicate {
                        kind: "index",
                        name,
                        first: "an earlier index block".to_owned(),
                    }));
                }
                let mut idx = Index::on(name, Vec::<String>::new());
                idx.parts = self.parts(&x, ti)?;
                idx.unique = x.bool("unique")?.unwrap_or(false);
                let methods: &[&str] = match d {
                    Dialect::Postgres => &["BTREE", "BRIN", "HASH", "GIN", "GIST", "SPGIST"],
                    _ => &["BTREE", "HASH", "FULLTEXT", "SPATIAL"],
                };
                idx.method = x.keyword("type", methods)?.map(|(w, _)| match d {
                    Dialect::Postgres => w.to_ascii_lowercase(),
                    _ => w.to_ascii_uppercase(),
                });
                idx.predicate = x.string("where")?;
                if let Some((_, cols)) = self.column_list(&x, ti, "include")? {
                    idx.include = cols;
                }
                idx.nulls_not_distinct = x.bool("nulls_distinct")? == Some(false);
                idx.comment = x.string("comment")?;
                // SQLite names the index of a table's UNIQUE constraint itself, and refuses that prefix for
                // CREATE INDEX: such an index (as inspection prints it) is the constraint.
                idx.constraint = d == Dialect::Sqlite && idx.name.starts_with("sqlite_autoindex_");
                t.indexes.push(idx);
            }
        }
        for b in inst.children("unique") {
            for x in expand(inst.src, b, &inst.ctx)? {
                if d != Dialect::Postgres {
                    return Err(x.here(ErrorKind::Unsupported {
                        what: format!(
                            "unique blocks are PostgreSQL's: on {} write an index with unique = true",
                            dialect_name(d)
                        ),
                    }));
                }
                x.labels(1, 1, "one label (the constraint's name)")?;
                x.check(&["name", "columns", "include", "nulls_distinct"], &[])?;
                let name = x.name()?;
                if t.indexes.iter().any(|i| i.name == name) {
                    return Err(x.here(ErrorKind::Duplicate {
                        kind: "index",
                        name,
                        first: "an earlier index or unique block".to_owned(),
                    }));
                }
                let mut idx = Index::on(name, Vec::<String>::new());
                idx.parts = self.parts(&x, ti)?;
                idx.unique = true;
                idx.constraint = true;
                if let Some((_, cols)) = self.column_list(&x, ti, "include")? {
                    idx.include = cols;
                }
                idx.nulls_not_distinct = x.bool("nulls_distinct")? == Some(false);
                t.indexes.push(idx);
            }
        }
        for b in inst.children("foreign_key") {
            for f in expand(inst.src, b, &inst.ctx)? {
                f.labels(1, 1, "one label (the constraint's name)")?;
                // `deferrable` / `initially_deferred`: the model's (the printer writes them when set), not Atlas's
                // community language.
                f.check(
                    &[
                        "name",
                        "columns",
                        "ref_columns",
                        "on_update",
                        "on_delete",
                        "deferrable",
                        "initially_deferred",
                    ],
                    &[],
                )?;
                f.only_on("deferrable", &[Dialect::Postgres, Dialect::Sqlite], d)?;
                f.only_on(
                    "initially_deferred",
                    &[Dialect::Postgres, Dialect::Sqlite],
                    d,
                )?;
                let name = f.name()?;
                let (own, columns) = self.column_list(&f, ti, "columns")?.ok_or_else(|| {
                    f.here(ErrorKind::MissingAttribute {
                        name: "columns",
                        within: f.title(),
                    })
                })?;
                if own != ti {
                    return Err(f.here(ErrorKind::Reference {
                        reference: "foreign_key.columns".to_owned(),
                        why: "the referencing columns are the table's own (column.<name>)"
                            .to_owned(),
                    }));
                }
                let (rt, ref_columns) =
                    self.column_list(&f, ti, "ref_columns")?.ok_or_else(|| {
                        f.here(ErrorKind::MissingAttribute {
                            name: "ref_columns",
                            within: f.title(),
                        })
                    })?;
                if ref_columns.len() != columns.len() {
                    return Err(f.here(ErrorKind::Unsupported {
                        what: format!(
                            "{} has {} columns and {} ref_columns: they pair up one to one",
                            f.title(),
                            columns.len(),
                            ref_columns.len()
                        ),
                    }));
                }
                let actions = [
                    "NO_ACTION",
                    "RESTRICT",
                    "CASCADE",
                    "SET_NULL",
                    "SET_DEFAULT",
                ];
                let action = |attr: &str| -> Result<FkAction, HclError> {
                    Ok(f.keyword(attr, &actions)?
                        .and_then(|(w, _)| FkAction::parse(&w))
                        .unwrap_or_default())
                };
                let target = &self.tables[rt];
                t.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_schema: target.schema.clone(),
                    ref_table: target.name.clone(),
                    ref_columns,
                    on_update: action("on_update")?,
                    on_delete: action("on_delete")?,
                    deferrable: f.bool("deferrable")?.unwrap_or(false),
                    initially_deferred: f.bool("initially_deferred")?.unwrap_or(false),
                });
            }
        }
        for b in inst.children("check") {
            for c in expand(inst.src, b, &inst.ctx)? {
                c.labels(0, 1, "no label, or one (the constraint's name)")?;
                c.check(&["name", "expr", "enforced", "no_inherit"], &[])?;
                c.only_on("enforced", &[Dialect::Mysql], d)?;
                c.only_on("no_inherit", &[Dialect::Postgres], d)?;
                let expr = c.string("expr")?.ok_or_else(|| {
                    c.here(ErrorKind::MissingAttribute {
                        name: "expr",
                        within: c.title(),
                    })
                })?;
                let mut check = Check::new(None, expr);
                check.name = match c.string("name")? {
                    Some(n) => Some(n),
                    None => c.label().map(str::to_owned),
                };
                check.enforced = c.bool("enforced")?.unwrap_or(true);
                check.no_inherit = c.bool("no_inherit")?.unwrap_or(false);
                t.checks.push(check);
            }
        }
        Ok((t, sequences))
    }

    /// A `function` or `procedure` block, in Atlas's attributes for the dialect.
    fn routine(&self, inst: &Inst<'a>) -> Result<Routine, HclError> {
        let d = self.d;
        let procedure = inst.kind() == "procedure";
        inst.labels(1, 2, "one label (the routine's name) or two (schema, name)")?;
        let attrs: &[&str] = match (d, procedure) {
            (Dialect::Postgres, false) => &[
                "name",
                "schema",
                "lang",
                "return",
                "as",
                "volatility",
                "strict",
                "leakproof",
                "security",
            ],
            (Dialect::Postgres, true) => &["name", "schema", "lang", "as", "security"],
            (Dialect::Mysql, false) => &[
                "name",
                "schema",
                "return",
                "as",
                "deterministic",
                "data_access",
                "security",
                "comment",
            ],
            (Dialect::Mysql, true) => &[
                "name",
                "schema",
                "as",
                "deterministic",
                "data_access",
                "security",
                "comment",
            ],
            (Dialect::Sqlite, _) => {
                return Err(inst.here(ErrorKind::Unsupported {
                    what: format!(
                        "SQLite has no stored {}s: remove the block (application-defined functions are \
                         registered by the program, not the schema)",
                        inst.kind()
                    ),
                }));
            }
        };
        inst.check(attrs, &["arg"])?;
        let schema = self.schema_of(inst)?;
        let name = inst.name()?;
        let body = inst.string("as")?.ok_or_else(|| {
            inst.here(ErrorKind::MissingAttribute {
                name: "as",
                within: inst.title(),
            })
        })?;
        let mut args = Vec::new();
        for b in inst.children("arg") {
            for a in expand(inst.src, b, &inst.ctx)? {
                a.labels(0, 1, "no label or one (the argument's name)")?;
                let allowed: &[&str] = match d {
                    Dialect::Postgres => &["name", "type", "mode", "default"],
                    _ if procedure => &["name", "type", "mode"],
                    _ => &["name", "type"],
                };
                a.check(allowed, &[])?;
                let arg_name = match a.string("name")? {
                    Some(n) => Some(n),
                    None => a.label().map(str::to_owned),
                };
                if d == Dialect::Mysql && arg_name.is_none() {
                    return Err(a.here(ErrorKind::Labels {
                        block: "arg block".to_owned(),
                        expected: "one label on MySQL (the argument's name)",
                        found: 0,
                    }));
                }
                let modes: &[&str] = match d {
                    Dialect::Postgres => &["IN", "OUT", "INOUT", "VARIADIC"],
                    _ => &["IN", "OUT", "INOUT"],
                };
                let mut mode = a
                    .keyword("mode", modes)?
                    .map(|(w, _)| w.to_ascii_uppercase());
                // PostgreSQL prints a procedure's IN, and MySQL every procedure argument's mode.
                if procedure && mode.is_none() {
                    mode = Some("IN".to_owned());
                }
                if !procedure && mode.as_deref() == Some("IN") {
                    mode = None;
                }
                let default = match a.value("default")? {
                    None => None,
                    Some((v, at)) => Some(match &v {
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::String(s) => literal(d, s),
                        _ => match as_sql(&v) {
                            Some(raw) => raw.to_owned(),
                            None => {
                                return Err(a.bad(at, "default", "a literal or sql(\"…\")", &v));
                            }
                        },
                    }),
                };
                args.push(crate::routine::Arg {
                    name: arg_name,
                    ty: self.type_sql(&a, "type")?,
                    mode,
                    default,
                });
            }
        }
        let returns = if procedure {
            None
        } else {
            Some(self.type_sql(inst, "return")?)
        };
        let lang = match inst.keyword("lang", &[])? {
            Some((w, _)) => Some(w.to_ascii_lowercase()),
            None if d == Dialect::Postgres => {
                return Err(inst.here(ErrorKind::MissingAttribute {
                    name: "lang",
                    within: inst.title(),
                }));
            }
            None => None,
        };
        let volatility = inst
            .keyword("volatility", &["IMMUTABLE", "STABLE", "VOLATILE"])?
            .map(|(w, _)| w.to_ascii_uppercase())
            .filter(|w| w != "VOLATILE");
        let security = match d {
            Dialect::Postgres => inst
                .keyword("security", &["DEFINER", "INVOKER"])?
                .map(|(w, _)| w.to_ascii_uppercase())
                .filter(|w| w == "DEFINER"),
            _ => inst
                .keyword("security", &["DEFINER", "INVOKER"])?
                .map(|(w, _)| w.to_ascii_uppercase())
                .filter(|w| w == "INVOKER"),
        };
        let data_access = inst
            .keyword(
                "data_access",
                &[
                    "CONTAINS_SQL",
                    "NO_SQL",
                    "READS_SQL_DATA",
                    "MODIFIES_SQL_DATA",
                ],
            )?
            .map(|(w, _)| w.to_ascii_uppercase().replace('_', " "))
            .filter(|w| w != "CONTAINS SQL");
        Ok(Routine {
            kind: if procedure {
                RoutineKind::Procedure
            } else {
                RoutineKind::Function
            },
            schema,
            name,
            qualified: true,
            lang,
            args,
            returns,
            body,
            volatility,
            strict: inst.bool("strict")?.unwrap_or(false),
            leakproof: inst.bool("leakproof")?.unwrap_or(false),
            security,
            deterministic: inst.bool("deterministic")?.unwrap_or(false),
            data_access,
            comment: inst.string("comment")?,
        })
    }

    /// A `trigger` block: `on`, one of `before` / `after` / `instead_of` with its events, `for`, `when`, and
    /// `execute { function = … }` (PostgreSQL) or `as` (MySQL, SQLite).
    fn trigger(&self, inst: &Inst<'a>, routines: &[FuncSym<'a>]) -> Result<TriggerSpec, HclError> {
        let d = self.d;
        inst.labels(1, 1, "one label (the trigger's name)")?;
        let (attrs, blocks): (&[&str], &[&str]) = match d {
            Dialect::Postgres => (
                &["name", "on", "for", "when", "depends_on"],
                &["before", "after", "instead_of", "execute"],
            ),
            Dialect::Mysql => (
                &["name", "on", "for", "as", "depends_on"],
                &["before", "after"],
            ),
            Dialect::Sqlite => (
                &["name", "on", "for", "when", "as", "depends_on"],
                &["before", "after", "instead_of"],
            ),
        };
        if let (Dialect::Postgres, Some(a)) = (d, inst.attr("as")) {
            return Err(inst.err(
                a.key.span(),
                ErrorKind::Unsupported {
                    what: "a PostgreSQL trigger runs a function, it has no body: put the body in a function block \
                           (return = trigger) and write execute { function = function.<name> }"
                        .to_owned(),
                },
            ));
        }
        inst.check(attrs, blocks)?;
        let name = inst.name()?;
        let on = inst.attr("on").ok_or_else(|| {
            inst.here(ErrorKind::MissingAttribute {
                name: "on",
                within: inst.title(),
            })
        })?;
        let table = match ref_path(inst, &on.value)? {
            Some(p) if p[0] == "table" && (p.len() == 2 || p.len() == 3) => {
                self.resolve_table(inst, &p, on.value.span())?
            }
            p => {
                return Err(inst.err(
                    on.value.span(),
                    ErrorKind::Reference {
                        reference: p
                            .as_deref()
                            .map(show_path)
                            .unwrap_or_else(|| "trigger.on".to_owned()),
                        why: "expected a reference to a table block, like table.users (triggers on views are \
                              not read from HCL yet: keep them in a SQL desired state)"
                            .to_owned(),
                    },
                ));
            }
        };
        let mut timings = inst
            .block
            .body
            .blocks()
            .filter(|b| matches!(b.ident.as_str(), "before" | "after" | "instead_of"));
        let (Some(tb), None) = (timings.next(), timings.next()) else {
            return Err(inst.here(ErrorKind::Unsupported {
                what: format!(
                    "{} needs exactly one of before {{ … }}, after {{ … }}{}: say when it fires",
                    inst.title(),
                    if d == Dialect::Mysql {
                        ""
                    } else {
                        " or instead_of { … }"
                    }
                ),
            }));
        };
        let ti = Inst {
            src: inst.src,
            block: tb,
            ctx: inst.ctx.clone(),
        };
        ti.labels(0, 0, "no label")?;
        let events_allowed: &[&str] = match d {
            Dialect::Postgres => &["insert", "update", "update_of", "delete", "truncate"],
            Dialect::Mysql => &["insert", "update", "delete"],
            Dialect::Sqlite => &["insert", "update", "update_of", "delete"],
        };
        ti.check(events_allowed, &[])?;
        let on_set = |k: &str| -> Result<bool, HclError> { Ok(ti.bool(k)?.unwrap_or(false)) };
        let update_of = match self.column_list(&ti, table, "update_of")? {
            Some((t, cols)) if t == table => Some(cols),
            Some(_) => {
                return Err(ti.here(ErrorKind::Unsupported {
                    what: "update_of names columns of another table than on: name columns of the trigger's table"
                        .to_owned(),
                }));
            }
            None => None,
        };
        let mut events = Vec::new();
        if on_set("insert")? {
            events.push(Event::Insert);
        }
        if on_set("delete")? {
            events.push(Event::Delete);
        }
        if on_set("update")? || update_of.is_some() {
            events.push(Event::Update(update_of.unwrap_or_default()));
        }
        if on_set("truncate")? {
            events.push(Event::Truncate);
        }
        let single = d != Dialect::Postgres;
        if events.is_empty() || (single && events.len() > 1) {
            return Err(ti.here(ErrorKind::Unsupported {
                what: if events.is_empty() {
                    format!(
                        "{} {} names no event: set insert, update or delete = true",
                        inst.title(),
                        ti.kind()
                    )
                } else {
                    format!(
                        "{} triggers fire on one event: write one trigger per event",
                        dialect_name(d)
                    )
                },
            }));
        }
        let for_row = match inst.keyword("for", &["ROW", "STATEMENT"])? {
            Some((w, a)) if d != Dialect::Postgres && w.eq_ignore_ascii_case("STATEMENT") => {
                return Err(inst.err(
                    a.value.span(),
                    ErrorKind::Unsupported {
                        what: format!(
                            "{} triggers fire for each row: write for = ROW or leave it out",
                            dialect_name(d)
                        ),
                    },
                ));
            }
            Some((w, _)) => w.eq_ignore_ascii_case("ROW"),
            // PostgreSQL's default is FOR EACH STATEMENT; SQLite writes no clause unless asked; MySQL has rows only.
            None => d == Dialect::Mysql,
        };
        let mut execute = None;
        let mut body = None;
        if d == Dialect::Postgres {
            let Some(eb) = inst.children("execute").next() else {
                return Err(inst.here(ErrorKind::Unsupported {
                    what: format!(
                        "{} has no execute block: PostgreSQL triggers run a function, execute {{ function = function.<name> }}",
                        inst.title()
                    ),
                }));
            };
            let ei = Inst {
                src: inst.src,
                block: eb,
                ctx: inst.ctx.clone(),
            };
            ei.check(&["function"], &[])?;
            let fa = ei.attr("function").ok_or_else(|| {
                ei.here(ErrorKind::MissingAttribute {
                    name: "function",
                    within: "execute".to_owned(),
                })
            })?;
            let path = ref_path(&ei, &fa.value)?.unwrap_or_default();
            let (qualifier, label) = match path.as_slice() {
                [f, l] if f == "function" => (None, l),
                [f, q, l] if f == "function" => (Some(q), l),
                _ => {
                    return Err(ei.err(
                        fa.value.span(),
                        ErrorKind::Reference {
                            reference: "execute.function".to_owned(),
                            why: "expected a reference to a function block, like function.audit"
                                .to_owned(),
                        },
                    ));
                }
            };
            let found: Vec<&FuncSym<'_>> = routines
                .iter()
                .filter(|f| {
                    &f.label == label
                        && f.inst.kind() == "function"
                        && qualifier
                            .is_none_or(|q| f.qualifier.as_ref() == Some(q) || &f.schema == q)
                })
                .collect();
            match found.as_slice() {
                [one] if one.args.is_empty() => {
                    execute = Some((one.schema.clone(), one.name.clone()))
                }
                [_] => {
                    return Err(ei.err(
                        fa.value.span(),
                        ErrorKind::Reference {
                            reference: show_path(&path),
                            why: "a trigger function takes no arguments: remove its arg blocks"
                                .to_owned(),
                        },
                    ));
                }
                [] => {
                    return Err(ei.err(
                        fa.value.span(),
                        ErrorKind::Reference {
                            reference: show_path(&path),
                            why: format!(
                                "there is no function block {label:?}: define it or fix the name"
                            ),
                        },
                    ));
                }
                _ => {
                    return Err(ei.err(
                        fa.value.span(),
                        ErrorKind::Reference {
                            reference: show_path(&path),
                            why: "several function blocks have this label: label them function \"<schema>\" \"<name>\""
                                .to_owned(),
                        },
                    ));
                }
            }
        } else {
            body = Some(inst.string("as")?.ok_or_else(|| {
                inst.here(ErrorKind::MissingAttribute {
                    name: "as",
                    within: inst.title(),
                })
            })?);
        }
        let tsym = &self.tables[table];
        Ok(TriggerSpec {
            schema: tsym.schema.clone(),
            name,
            table: tsym.name.clone(),
            qualified: true,
            timing: match ti.kind() {
                "before" => "BEFORE",
                "after" => "AFTER",
                _ => "INSTEAD OF",
            }
            .to_owned(),
            events,
            for_row,
            when: inst.string("when")?,
            execute,
            body,
        })
    }

    fn view(&self, inst: &Inst<'a>, materialized: bool) -> Result<(String, View), HclError> {
        let d = self.d;
        inst.labels(1, 1, "one label (the view's name)")?;
        if materialized && d != Dialect::Postgres {
            return Err(inst.here(ErrorKind::Unsupported {
                what: "materialized views are PostgreSQL's".to_owned(),
            }));
        }
        inst.check(
            &[
                "name",
                "schema",
                "as",
                "comment",
                "check_option",
                "depends_on",
            ],
            &["column"],
        )?;
        inst.only_on("comment", &[Dialect::Postgres, Dialect::Mysql], d)?;
        let schema = self.schema_of(inst)?;
        let name = inst.name()?;
        let query = inst.string("as")?.ok_or_else(|| {
            inst.here(ErrorKind::MissingAttribute {
                name: "as",
                within: inst.title(),
            })
        })?;
        let query = query.trim().to_owned();
        let check_option = inst
            .keyword("check_option", &["LOCAL", "CASCADED"])?
            .map(|(w, _)| {
                if w.eq_ignore_ascii_case("LOCAL") {
                    CheckOption::Local
                } else {
                    CheckOption::Cascaded
                }
            });
        let definition = match d {
            // SQLite keeps (and inspection returns) the whole statement.
            Dialect::Sqlite => {
                let quoted = if crate::types::is_hcl_ident(&name) && !name.contains('-') {
                    name.clone()
                } else {
                    format!("\"{}\"", name.replace('"', "\"\""))
                };
                format!("CREATE VIEW {quoted} AS {query}")
            }
            _ => query,
        };
        Ok((
            schema,
            View {
                name,
                definition,
                check_option,
                comment: inst.string("comment")?,
            },
        ))
    }
}

fn default_schema(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "public",
        Dialect::Mysql => "app",
        Dialect::Sqlite => "main",
    }
}

/// The integer type behind a PostgreSQL `serial` spelling, and its sequence's highest value.
fn serial_base(raw: &str) -> Option<(&'static str, i64)> {
    match raw {
        "serial" | "serial4" => Some(("integer", i64::from(i32::MAX))),
        "bigserial" | "serial8" => Some(("bigint", i64::MAX)),
        "smallserial" | "serial2" => Some(("smallint", i64::from(i16::MAX))),
        _ => None,
    }
}

/// A PostgreSQL name as `format_type` / `regclass` print it: bare when it is a plain lower-case identifier.
fn pg_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}
