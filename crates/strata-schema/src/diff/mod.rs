//! Diff two realms into typed [`Changes`].
//!
//! Objects are matched by name (SQLite names ignoring ASCII case); indexes the database named itself are matched
//! to an unmatched index of the other side that covers the same parts; SQLite foreign keys, whose names SQLite
//! does not keep, are matched by what they reference; unnamed checks by their expression. Matched objects are
//! compared after [`crate::normalize`], so spelling differences of the same schema produce no change.
//!
//! Every lookup goes through a hash map: the cost grows with the size of the realms, never with its square.
//! Tables that are equal as given are skipped before anything is normalised or copied.

pub mod changes;
pub mod describe;
pub mod exclude;

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use strata_migrate::Dialect;

pub use changes::{Change, ChangeKind, Changes, EnumValueAdd, Object, SchemaAttrs, TableChange};
pub use describe::describe;

use crate::model::{Check, Column, Enum, ForeignKey, Index, Realm, Schema, Table};
use crate::normalize::{self, name_key};

/// Kinds of change the diff can be told to leave out (Atlas's `diff { skip { … } }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// New schemas.
    AddSchema,
    /// Dropped schemas.
    DropSchema,
    /// Schema attribute changes.
    ModifySchema,
    /// New tables.
    AddTable,
    /// Dropped tables.
    DropTable,
    /// Any change inside a table.
    ModifyTable,
    /// New columns.
    AddColumn,
    /// Dropped columns.
    DropColumn,
    /// Changed columns.
    ModifyColumn,
    /// New indexes.
    AddIndex,
    /// Dropped indexes.
    DropIndex,
    /// Changed indexes.
    ModifyIndex,
    /// New foreign keys.
    AddForeignKey,
    /// Dropped foreign keys.
    DropForeignKey,
    /// Changed foreign keys.
    ModifyForeignKey,
    /// New checks.
    AddCheck,
    /// Dropped checks.
    DropCheck,
    /// Changed checks.
    ModifyCheck,
    /// New views, enums, sequences, functions, triggers, extensions.
    AddObject,
    /// Dropped views, enums, sequences, functions, triggers, extensions.
    DropObject,
    /// Changed views, enums, sequences, functions, triggers, extensions.
    ModifyObject,
}

/// How to diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// `--exclude` globs (see [`exclude`]), applied to both realms.
    pub exclude: Vec<String>,
    /// The globs start at the object level (a schema-bound URL); always so on SQLite.
    pub exclude_schema_relative: bool,
    /// Kinds of change to leave out.
    pub skip: Vec<SkipKind>,
}

impl DiffOptions {
    fn skips(&self, k: SkipKind) -> bool {
        self.skip.contains(&k)
    }
}

/// Why two realms cannot be diffed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// The realms are of different dialects.
    #[error(
        "cannot diff a {from} schema with a {to} schema: both sides must come from the same kind of database"
    )]
    DialectMismatch {
        /// The `from` side's dialect.
        from: &'static str,
        /// The `to` side's dialect.
        to: &'static str,
    },
}

/// The changes that turn `from` into `to`.
pub fn diff(from: &Realm, to: &Realm, opts: &DiffOptions) -> Result<Changes, DiffError> {
    if from.dialect != to.dialect {
        return Err(DiffError::DialectMismatch {
            from: crate::model::dialect_serde::name(from.dialect),
            to: crate::model::dialect_serde::name(to.dialect),
        });
    }
    let d = from.dialect;
    let (from, to): (Cow<'_, Realm>, Cow<'_, Realm>) = if opts.exclude.is_empty() {
        (Cow::Borrowed(from), Cow::Borrowed(to))
    } else {
        let rel = opts.exclude_schema_relative || d == Dialect::Sqlite;
        (
            Cow::Owned(exclude::exclude(from, &opts.exclude, rel)),
            Cow::Owned(exclude::exclude(to, &opts.exclude, rel)),
        )
    };
    let mut out = Vec::new();
    let to_schemas = keyed(d, &to.schemas, |s| &s.name);
    let mut seen = vec![false; to.schemas.len()];
    for a in &from.schemas {
        match to_schemas.get(&name_key(d, &a.name)) {
            None => {
                if !opts.skips(SkipKind::DropSchema) {
                    out.push(Change::DropSchema { schema: a.clone() });
                }
            }
            Some(&j) => {
                seen[j] = true;
                diff_schema(d, a, &to.schemas[j], opts, &mut out, false);
            }
        }
    }
    for (j, b) in to.schemas.iter().enumerate() {
        if seen[j] {
            continue;
        }
        if !opts.skips(SkipKind::AddSchema) {
            out.push(Change::AddSchema {
                schema: SchemaAttrs::of(b),
            });
        }
        diff_schema(d, &Schema::new(b.name.clone()), b, opts, &mut out, true);
    }
    objects(
        d,
        "",
        &from.extensions,
        &to.extensions,
        |e| Cow::Borrowed(&e.name),
        |a, b| a == b,
        |e| (e.schema.clone(), Object::Extension(e.clone())),
        opts,
        &mut out,
    );
    Ok(Changes {
        dialect: d,
        changes: out,
    })
}

fn keyed<'a, T>(
    d: Dialect,
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a str,
) -> HashMap<Cow<'a, str>, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| (name_key(d, name(t)), i))
        .collect()
}

fn diff_schema(
    d: Dialect,
    a: &Schema,
    b: &Schema,
    opts: &DiffOptions,
    out: &mut Vec<Change>,
    new: bool,
) {
    // A new schema's attributes come with its AddSchema.
    if !new {
        let (fa, fb) = (SchemaAttrs::of(a), SchemaAttrs::of(b));
        let mut what = ChangeKind::NONE;
        what.set_if(ChangeKind::COMMENT, fa.comment != fb.comment);
        what.set_if(
            ChangeKind::CHARSET,
            fb.charset.is_some() && fa.charset != fb.charset,
        );
        what.set_if(
            ChangeKind::COLLATION,
            fb.collation.is_some() && fa.collation != fb.collation,
        );
        if !what.is_empty() && !opts.skips(SkipKind::ModifySchema) {
            out.push(Change::ModifySchema {
                from: fa,
                to: fb,
                what,
            });
        }
    }
    let sn = &b.name;
    let to_tables = keyed(d, &b.tables, |t| &t.name);
    let mut seen = vec![false; b.tables.len()];
    for t in &a.tables {
        match to_tables.get(&name_key(d, &t.name)) {
            None => {
                if !opts.skips(SkipKind::DropTable) {
                    out.push(Change::DropTable {
                        schema: sn.clone(),
                        table: t.clone(),
                    });
                }
            }
            Some(&j) => {
                seen[j] = true;
                let u = &b.tables[j];
                if t == u || opts.skips(SkipKind::ModifyTable) {
                    continue;
                }
                let changes = diff_table(d, t, u, opts);
                if !changes.is_empty() {
                    out.push(Change::ModifyTable {
                        schema: sn.clone(),
                        from: t.clone(),
                        to: u.clone(),
                        changes,
                    });
                }
            }
        }
    }
    if !opts.skips(SkipKind::AddTable) {
        for (j, u) in b.tables.iter().enumerate() {
            if !seen[j] {
                out.push(Change::AddTable {
                    schema: sn.clone(),
                    table: u.clone(),
                });
            }
        }
    }
    let view_eq =
        |x: &crate::model::View, y: &crate::model::View| normalize::view(x) == normalize::view(y);
    objects(
        d,
        sn,
        &a.views,
        &b.views,
        |v| Cow::Borrowed(&v.name),
        view_eq,
        |v| (sn.clone(), Object::View(v.clone())),
        opts,
        out,
    );
    objects(
        d,
        sn,
        &a.materialized_views,
        &b.materialized_views,
        |v| Cow::Borrowed(&v.name),
        view_eq,
        |v| (sn.clone(), Object::MaterializedView(v.clone())),
        opts,
        out,
    );
    enums(d, sn, &a.enums, &b.enums, opts, out);
    objects(
        d,
        sn,
        &a.sequences,
        &b.sequences,
        |s| Cow::Borrowed(&s.name),
        |x, y| x == y,
        |s| (sn.clone(), Object::Sequence(s.clone())),
        opts,
        out,
    );
    objects(
        d,
        sn,
        &a.functions,
        &b.functions,
        |f| Cow::Owned(format!("{}({})", f.name, f.args)),
        |x, y| {
            x.kind == y.kind
                && normalize::collapse(&x.definition) == normalize::collapse(&y.definition)
        },
        |f| (sn.clone(), Object::Function(f.clone())),
        opts,
        out,
    );
    objects(
        d,
        sn,
        &a.triggers,
        &b.triggers,
        |t| Cow::Owned(format!("{}\u{0}{}", name_key(d, &t.table), t.name)),
        |x, y| normalize::collapse(&x.definition) == normalize::collapse(&y.definition),
        |t| (sn.clone(), Object::Trigger(t.clone())),
        opts,
        out,
    );
}

/// Add/drop/modify of one kind of object, matched by `key`.
#[allow(clippy::too_many_arguments)]
fn objects<'a, T>(
    d: Dialect,
    _schema: &str,
    a: &'a [T],
    b: &'a [T],
    key: impl Fn(&'a T) -> Cow<'a, str>,
    same: impl Fn(&T, &T) -> bool,
    wrap: impl Fn(&T) -> (String, Object),
    opts: &DiffOptions,
    out: &mut Vec<Change>,
) {
    let norm = |k: Cow<'a, str>| -> Cow<'a, str> {
        match k {
            Cow::Borrowed(s) => name_key(d, s),
            Cow::Owned(s) => Cow::Owned(name_key(d, &s).into_owned()),
        }
    };
    let to: HashMap<Cow<'a, str>, usize> = b
        .iter()
        .enumerate()
        .map(|(i, x)| (norm(key(x)), i))
        .collect();
    let mut seen = vec![false; b.len()];
    for x in a {
        match to.get(&norm(key(x))) {
            None => {
                if !opts.skips(SkipKind::DropObject) {
                    let (schema, object) = wrap(x);
                    out.push(Change::DropObject { schema, object });
                }
            }
            Some(&j) => {
                seen[j] = true;
                if !same(x, &b[j]) && !opts.skips(SkipKind::ModifyObject) {
                    let (schema, from) = wrap(x);
                    let (_, to) = wrap(&b[j]);
                    out.push(Change::ModifyObject { schema, from, to });
                }
            }
        }
    }
    if !opts.skips(SkipKind::AddObject) {
        for (j, y) in b.iter().enumerate() {
            if !seen[j] {
                let (schema, object) = wrap(y);
                out.push(Change::AddObject { schema, object });
            }
        }
    }
}

fn enums(d: Dialect, sn: &str, a: &[Enum], b: &[Enum], opts: &DiffOptions, out: &mut Vec<Change>) {
    let mut modified = Vec::new();
    let mut rest = Vec::new();
    objects(
        d,
        sn,
        a,
        b,
        |e| Cow::Borrowed(&e.name),
        |x, y| x == y,
        |e| (sn.to_string(), Object::Enum(e.clone())),
        opts,
        &mut rest,
    );
    for c in rest {
        match c {
            Change::ModifyObject {
                schema,
                from: Object::Enum(from),
                to: Object::Enum(to),
            } => match added_values(&from.values, &to.values) {
                Some(values) => modified.push(Change::AddEnumValues {
                    schema,
                    from,
                    to,
                    values,
                }),
                None => modified.push(Change::ModifyObject {
                    schema,
                    from: Object::Enum(from),
                    to: Object::Enum(to),
                }),
            },
            other => modified.push(other),
        }
    }
    out.extend(modified);
}

/// The labels to add when `from` keeps its order inside `to` (else the type must be recreated).
fn added_values(from: &[String], to: &[String]) -> Option<Vec<EnumValueAdd>> {
    let mut i = 0;
    let mut adds = Vec::new();
    let mut prev: Option<&String> = None;
    for v in to {
        if i < from.len() && from[i] == *v {
            i += 1;
        } else if from.contains(v) {
            return None;
        } else {
            adds.push(EnumValueAdd {
                value: v.clone(),
                after: prev.cloned(),
            });
        }
        prev = Some(v);
    }
    (i == from.len()).then_some(adds)
}

/// The changes inside one table (empty when the tables are the same after normalisation).
pub fn diff_table(d: Dialect, a: &Table, b: &Table, opts: &DiffOptions) -> Vec<TableChange> {
    if a == b {
        return Vec::new();
    }
    let (mut na, nb) = (normalize::table(d, a), normalize::table(d, b));
    normalize::options_pair(d, &mut na.options, &nb.options);
    if na == nb {
        return Vec::new();
    }
    let mut drops = Vec::new();
    let mut mods = Vec::new();
    let mut adds = Vec::new();

    // Columns.
    let to_cols = keyed(d, &nb.columns, |c| &c.name);
    let mut seen = vec![false; nb.columns.len()];
    for (i, c) in na.columns.iter().enumerate() {
        match to_cols.get(&name_key(d, &c.name)) {
            None => {
                if !opts.skips(SkipKind::DropColumn) {
                    drops.push(TableChange::DropColumn {
                        column: a.columns[i].clone(),
                    });
                }
            }
            Some(&j) => {
                seen[j] = true;
                let what = column_change(c, &nb.columns[j]);
                if !what.is_empty() && !opts.skips(SkipKind::ModifyColumn) {
                    mods.push(TableChange::ModifyColumn {
                        from: a.columns[i].clone(),
                        to: b.columns[j].clone(),
                        what,
                    });
                }
            }
        }
    }
    if !opts.skips(SkipKind::AddColumn) {
        for (j, s) in seen.iter().enumerate() {
            if !s {
                adds.push(TableChange::AddColumn {
                    column: b.columns[j].clone(),
                });
            }
        }
    }

    // Primary key.
    match (&na.primary_key, &nb.primary_key) {
        (Some(_), None) => drops.push(TableChange::DropPrimaryKey {
            key: a
                .primary_key
                .clone()
                .unwrap_or_else(|| crate::model::PrimaryKey::columns(Vec::<String>::new())),
        }),
        (None, Some(_)) => adds.push(TableChange::AddPrimaryKey {
            key: b
                .primary_key
                .clone()
                .unwrap_or_else(|| crate::model::PrimaryKey::columns(Vec::<String>::new())),
        }),
        (Some(x), Some(y)) if x != y => {
            if let (Some(from), Some(to)) = (a.primary_key.clone(), b.primary_key.clone()) {
                mods.push(TableChange::ModifyPrimaryKey { from, to });
            }
        }
        _ => {}
    }

    diff_indexes(d, a, b, &na, &nb, opts, &mut drops, &mut mods, &mut adds);
    diff_fks(d, a, b, &na, &nb, opts, &mut drops, &mut mods, &mut adds);
    diff_checks(d, a, b, &na, &nb, opts, &mut drops, &mut mods, &mut adds);

    if na.comment != nb.comment {
        mods.push(TableChange::ModifyComment {
            from: a.comment.clone(),
            to: b.comment.clone(),
        });
    }
    if na.options != nb.options {
        mods.push(TableChange::ModifyOptions {
            from: a.options.clone(),
            to: b.options.clone(),
        });
    }
    drops.extend(mods);
    drops.extend(adds);
    drops
}

fn column_change(a: &Column, b: &Column) -> ChangeKind {
    let mut k = ChangeKind::NONE;
    k.set_if(ChangeKind::TYPE, a.ty.raw != b.ty.raw);
    k.set_if(ChangeKind::NULL, a.nullable != b.nullable);
    k.set_if(ChangeKind::DEFAULT, a.default != b.default);
    k.set_if(ChangeKind::GENERATED, a.generated != b.generated);
    k.set_if(ChangeKind::COLLATION, a.collation != b.collation);
    k.set_if(ChangeKind::CHARSET, a.charset != b.charset);
    k.set_if(ChangeKind::COMMENT, a.comment != b.comment);
    k.set_if(
        ChangeKind::IDENTITY,
        a.identity != b.identity || a.auto_increment != b.auto_increment,
    );
    k.set_if(ChangeKind::ON_UPDATE, a.on_update != b.on_update);
    k
}

fn index_change(a: &Index, b: &Index) -> ChangeKind {
    let mut k = ChangeKind::NONE;
    k.set_if(ChangeKind::UNIQUE, a.unique != b.unique);
    k.set_if(ChangeKind::PARTS, a.parts != b.parts);
    k.set_if(ChangeKind::METHOD, a.method != b.method);
    k.set_if(ChangeKind::PREDICATE, a.predicate != b.predicate);
    k.set_if(
        ChangeKind::INCLUDE,
        a.include != b.include || a.nulls_not_distinct != b.nulls_not_distinct,
    );
    k.set_if(ChangeKind::COMMENT, a.comment != b.comment);
    k
}

/// Matches `a`'s and `b`'s items: by `key` first, then the leftovers `loose` says may pair up, by `signature`.
/// Returns pairs (index in a, index in b) and the unmatched indices of each side.
fn pair<T>(
    d: Dialect,
    a: &[T],
    b: &[T],
    key: impl Fn(&T) -> String,
    loose: impl Fn(&T, bool) -> bool,
    signature: impl Fn(&T) -> String,
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let to: HashMap<String, usize> = b
        .iter()
        .enumerate()
        .map(|(j, x)| (name_key(d, &key(x)).into_owned(), j))
        .collect();
    let mut pairs = Vec::new();
    let mut seen = vec![false; b.len()];
    let mut left_a = Vec::new();
    for (i, x) in a.iter().enumerate() {
        match to.get(name_key(d, &key(x)).as_ref()) {
            Some(&j) if !seen[j] => {
                seen[j] = true;
                pairs.push((i, j));
            }
            _ => left_a.push(i),
        }
    }
    let mut left_b: Vec<usize> = (0..b.len()).filter(|&j| !seen[j]).collect();
    if !left_a.is_empty() && !left_b.is_empty() {
        let mut by_sig: HashMap<String, Vec<usize>> = HashMap::new();
        for &j in &left_b {
            by_sig.entry(signature(&b[j])).or_default().push(j);
        }
        let mut still_a = Vec::new();
        let mut taken = Vec::new();
        for i in left_a {
            let cand = by_sig.get_mut(&signature(&a[i])).and_then(|v| {
                let pos = v
                    .iter()
                    .position(|&j| loose(&a[i], true) || loose(&b[j], false))?;
                Some(v.remove(pos))
            });
            match cand {
                Some(j) => {
                    pairs.push((i, j));
                    taken.push(j);
                }
                None => still_a.push(i),
            }
        }
        left_a = still_a;
        left_b.retain(|j| !taken.contains(j));
    }
    (pairs, left_a, left_b)
}

#[allow(clippy::too_many_arguments)]
fn diff_indexes(
    d: Dialect,
    a: &Table,
    b: &Table,
    na: &Table,
    nb: &Table,
    opts: &DiffOptions,
    drops: &mut Vec<TableChange>,
    mods: &mut Vec<TableChange>,
    adds: &mut Vec<TableChange>,
) {
    let sig = |i: &Index| {
        let mut x = i.clone();
        x.name = String::new();
        x.constraint = false;
        format!("{x:?}")
    };
    let (pairs, left_a, left_b) = pair(
        d,
        &na.indexes,
        &nb.indexes,
        |i| i.name.clone(),
        |i, from_side| normalize::implicit_index_name(d, if from_side { na } else { nb }, i),
        sig,
    );
    for (i, j) in pairs {
        let (x, y) = (&na.indexes[i], &nb.indexes[j]);
        let what = index_change(x, y);
        if !what.is_empty() && !opts.skips(SkipKind::ModifyIndex) {
            mods.push(TableChange::ModifyIndex {
                from: a.indexes[i].clone(),
                to: b.indexes[j].clone(),
                what,
            });
        }
    }
    for i in left_a {
        if !normalize::fk_backing_index(d, na, &na.indexes[i]) && !opts.skips(SkipKind::DropIndex) {
            drops.push(TableChange::DropIndex {
                index: a.indexes[i].clone(),
            });
        }
    }
    for j in left_b {
        if !normalize::fk_backing_index(d, nb, &nb.indexes[j]) && !opts.skips(SkipKind::AddIndex) {
            adds.push(TableChange::AddIndex {
                index: b.indexes[j].clone(),
            });
        }
    }
}

fn fk_signature(d: Dialect, f: &ForeignKey) -> String {
    format!(
        "{:?}\u{0}{}\u{0}{}\u{0}{:?}",
        f.columns,
        name_key(d, &f.ref_schema),
        name_key(d, &f.ref_table),
        f.ref_columns
    )
}

#[allow(clippy::too_many_arguments)]
fn diff_fks(
    d: Dialect,
    a: &Table,
    b: &Table,
    na: &Table,
    nb: &Table,
    opts: &DiffOptions,
    drops: &mut Vec<TableChange>,
    mods: &mut Vec<TableChange>,
    adds: &mut Vec<TableChange>,
) {
    let by_signature = d == Dialect::Sqlite;
    let (pairs, left_a, left_b) = pair(
        d,
        &na.foreign_keys,
        &nb.foreign_keys,
        |f| {
            if by_signature {
                fk_signature(d, f)
            } else {
                f.name.clone()
            }
        },
        |_, _| false,
        |f| fk_signature(d, f),
    );
    for (i, j) in pairs {
        let (x, y) = (&na.foreign_keys[i], &nb.foreign_keys[j]);
        let mut what = ChangeKind::NONE;
        what.set_if(ChangeKind::COLUMNS, x.columns != y.columns);
        what.set_if(
            ChangeKind::REF_TABLE,
            name_key(d, &x.ref_table) != name_key(d, &y.ref_table) || x.ref_schema != y.ref_schema,
        );
        what.set_if(ChangeKind::REF_COLUMNS, x.ref_columns != y.ref_columns);
        what.set_if(ChangeKind::UPDATE_ACTION, x.on_update != y.on_update);
        what.set_if(ChangeKind::DELETE_ACTION, x.on_delete != y.on_delete);
        what.set_if(
            ChangeKind::DEFERRABLE,
            x.deferrable != y.deferrable || x.initially_deferred != y.initially_deferred,
        );
        if !what.is_empty() && !opts.skips(SkipKind::ModifyForeignKey) {
            mods.push(TableChange::ModifyForeignKey {
                from: a.foreign_keys[i].clone(),
                to: b.foreign_keys[j].clone(),
                what,
            });
        }
    }
    if !opts.skips(SkipKind::DropForeignKey) {
        for i in left_a {
            drops.push(TableChange::DropForeignKey {
                fk: a.foreign_keys[i].clone(),
            });
        }
    }
    if !opts.skips(SkipKind::AddForeignKey) {
        for j in left_b {
            adds.push(TableChange::AddForeignKey {
                fk: b.foreign_keys[j].clone(),
            });
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn diff_checks(
    d: Dialect,
    a: &Table,
    b: &Table,
    na: &Table,
    nb: &Table,
    opts: &DiffOptions,
    drops: &mut Vec<TableChange>,
    mods: &mut Vec<TableChange>,
    adds: &mut Vec<TableChange>,
) {
    let key = |c: &Check| match &c.name {
        Some(n) => format!("n\u{0}{n}"),
        None => format!("e\u{0}{}", c.expr),
    };
    let (pairs, left_a, left_b) = pair(
        d,
        &na.checks,
        &nb.checks,
        key,
        |c, _| c.name.is_none(),
        |c| c.expr.clone(),
    );
    for (i, j) in pairs {
        let (x, y) = (&na.checks[i], &nb.checks[j]);
        let mut what = ChangeKind::NONE;
        what.set_if(ChangeKind::EXPR, x.expr != y.expr);
        what.set_if(
            ChangeKind::ENFORCEMENT,
            x.enforced != y.enforced || x.no_inherit != y.no_inherit,
        );
        if !what.is_empty() && !opts.skips(SkipKind::ModifyCheck) {
            mods.push(TableChange::ModifyCheck {
                from: a.checks[i].clone(),
                to: b.checks[j].clone(),
                what,
            });
        }
    }
    if !opts.skips(SkipKind::DropCheck) {
        for i in left_a {
            drops.push(TableChange::DropCheck {
                check: a.checks[i].clone(),
            });
        }
    }
    if !opts.skips(SkipKind::AddCheck) {
        for j in left_b {
            adds.push(TableChange::AddCheck {
                check: b.checks[j].clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
