//! The MySQL/MariaDB planner, in Atlas's MySQL style: `CREATE TABLE` with its indexes, keys and checks inline,
//! one `ALTER TABLE` per changed table with comma-joined clauses, backquoted names.
//!
//! MySQL commits every DDL statement on its own, so a plan is not atomic: it is ordered so that every prefix
//! leaves a consistent database (each statement succeeds on what the ones before it left, and nothing it needs
//! is gone yet):
//!
//! 1. new schemas, schema attribute changes;
//! 2. triggers, views and routines that go or change are dropped (they read tables about to change);
//! 3. foreign keys that would block what follows are dropped: keys of changed tables that are themselves
//!    replaced or that reference another changed or dropped table, and keys of dropped tables that reference a
//!    changed table or close a cycle among dropped tables;
//! 4. new tables, referenced tables first, their foreign keys inline (as Atlas writes them) — except keys to a
//!    table created later (a cycle) or to a changed table whose change touches the referenced columns, their
//!    index or its options, which are added in step 6;
//! 5. one `ALTER TABLE` per changed table, referenced tables first: drops, `MODIFY COLUMN`, `ADD COLUMN` (at its
//!    position, `AFTER` / `FIRST`), keys, indexes, checks, foreign keys, table options;
//! 6. the foreign keys left out of steps 4 and 5;
//! 7. new and changed views (`CREATE OR REPLACE`, readers after what they read), routines, triggers;
//! 8. dropped tables, referencing tables first; dropped schemas.
//!
//! Statements are unqualified when the changes touch one schema (a schema-bound connection, Atlas's default),
//! and qualified with the schema otherwise ([`Options::qualify`]).

pub mod render;

use std::collections::{HashMap, HashSet};

use strata_migrate::Dialect;

use super::{Loss, Plan, PlanError, Statement};
use crate::diff::{Change, Changes, Object, SchemaAttrs, TableChange};
use crate::model::{Column, ForeignKey, Function, RoutineKind, Table, Trigger, View};
use render::{create_table, ident, literal};

/// How to write the statements.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Qualify every name with its schema (`` `s`.`t` ``).
    pub qualify: bool,
    /// Indentation of `CREATE TABLE` bodies (see [`super::PlanOptions::indent`]).
    pub indent: String,
}

impl Options {
    /// Qualified when the changes create or drop a schema or touch more than one.
    pub fn for_changes(changes: &Changes) -> Self {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut qualify = false;
        for c in &changes.changes {
            let s = match c {
                Change::AddSchema { .. } | Change::DropSchema { .. } => {
                    qualify = true;
                    continue;
                }
                Change::ModifySchema { to, .. } => to.name.as_str(),
                Change::AddTable { schema, .. }
                | Change::DropTable { schema, .. }
                | Change::ModifyTable { schema, .. }
                | Change::AddObject { schema, .. }
                | Change::DropObject { schema, .. }
                | Change::ModifyObject { schema, .. }
                | Change::AddEnumValues { schema, .. } => schema.as_str(),
            };
            seen.insert(s);
        }
        Options {
            qualify: qualify || seen.len() > 1,
            indent: String::new(),
        }
    }
}

fn unsupported(what: String, hint: &'static str) -> PlanError {
    PlanError::Unsupported {
        dialect: "MySQL",
        what,
        hint,
    }
}

/// Plans MySQL/MariaDB changes with [`Options::for_changes`].
pub fn plan(changes: &Changes, to: &crate::model::Realm) -> Result<Plan, PlanError> {
    plan_with(changes, to, Options::for_changes(changes))
}

type Key = (String, String);

fn key(schema: &str, name: &str) -> Key {
    (schema.to_string(), name.to_string())
}

struct Ctx {
    qualify: bool,
    indent: String,
    /// Each schema's default character set and collation, from the desired realm.
    defaults: HashMap<String, (Option<String>, Option<String>)>,
}

impl Ctx {
    fn name(&self, schema: &str, name: &str) -> String {
        if self.qualify {
            format!("{}.{}", ident(schema), ident(name))
        } else {
            ident(name)
        }
    }

    fn ref_name(&self, schema: &str, f: &ForeignKey) -> String {
        if self.qualify || f.ref_schema != schema {
            format!("{}.{}", ident(&f.ref_schema), ident(&f.ref_table))
        } else {
            ident(&f.ref_table)
        }
    }
}

struct Modified<'a> {
    schema: &'a str,
    from: &'a Table,
    to: &'a Table,
    changes: &'a [TableChange],
}

/// Plans MySQL/MariaDB changes (see the module documentation); `to` is the desired realm (its schemas'
/// default character sets are what a table without its own inherits).
pub fn plan_with(
    changes: &Changes,
    to: &crate::model::Realm,
    opts: Options,
) -> Result<Plan, PlanError> {
    let cx = Ctx {
        qualify: opts.qualify,
        indent: opts.indent,
        defaults: to
            .schemas
            .iter()
            .map(|s| (s.name.clone(), (s.charset.clone(), s.collation.clone())))
            .collect(),
    };
    let mut p = Plan::new(Dialect::Mysql);
    let mut schema_stmts = Vec::new();
    let mut schema_drops = Vec::new();
    let mut new_tables: Vec<(&str, &Table)> = Vec::new();
    let mut modified: Vec<Modified<'_>> = Vec::new();
    let mut dropped: Vec<(&str, &Table)> = Vec::new();
    let mut pre = Vec::new();
    let mut views: Vec<(&str, &View, Option<&View>)> = Vec::new();
    let mut gone_views: Vec<(&str, &View)> = Vec::new();
    let mut routines: Vec<Statement> = Vec::new();
    let mut triggers: Vec<Statement> = Vec::new();
    for c in &changes.changes {
        match c {
            Change::AddSchema { schema } => schema_stmts.push(create_schema(schema)),
            Change::DropSchema { schema } => {
                let mut s = Statement::new(
                    format!("DROP DATABASE {}", ident(&schema.name)),
                    format!("drop schema named {:?}", schema.name),
                    Some(create_schema(&SchemaAttrs::of(schema)).sql),
                );
                s.destructive.push(Loss::Schema {
                    name: schema.name.clone(),
                });
                schema_drops.push(s);
            }
            Change::ModifySchema { from, to, .. } => {
                if let Some(s) = alter_schema(from, to) {
                    schema_stmts.push(s);
                }
            }
            Change::AddTable { schema, table } => new_tables.push((schema, table)),
            Change::DropTable { schema, table } => dropped.push((schema, table)),
            Change::ModifyTable {
                schema,
                from,
                to,
                changes,
            } => modified.push(Modified {
                schema,
                from,
                to,
                changes,
            }),
            Change::AddObject { schema, object } => match object {
                Object::View(v) => views.push((schema, v, None)),
                Object::Function(f) => routines.push(create_routine(&cx, schema, f)),
                Object::Trigger(t) => triggers.push(create_trigger(&cx, schema, t)),
                other => return Err(object_unsupported(other)),
            },
            Change::DropObject { schema, object } => match object {
                Object::View(v) => gone_views.push((schema, v)),
                Object::Function(f) => pre.push(drop_routine(&cx, schema, f)),
                Object::Trigger(t) => pre.push(drop_trigger(&cx, schema, t)),
                other => return Err(object_unsupported(other)),
            },
            Change::ModifyObject { schema, from, to } => match (from, to) {
                (Object::View(a), Object::View(b)) => views.push((schema, b, Some(a))),
                (Object::Function(a), Object::Function(b)) => {
                    pre.push(drop_routine(&cx, schema, a));
                    routines.push(create_routine(&cx, schema, b));
                }
                (Object::Trigger(a), Object::Trigger(b)) => {
                    pre.push(drop_trigger(&cx, schema, a));
                    triggers.push(create_trigger(&cx, schema, b));
                }
                (other, _) => return Err(object_unsupported(other)),
            },
            Change::AddEnumValues { to, .. } => {
                return Err(object_unsupported(&Object::Enum(to.clone())));
            }
        }
    }

    // 1–2.
    p.statements.extend(schema_stmts);
    p.statements.extend(pre);
    let mut gone = order_views(gone_views.iter().map(|(s, v)| (*s, *v)).collect());
    gone.reverse();
    for (schema, v) in gone {
        p.statements.push(Statement::new(
            format!("DROP VIEW {}", cx.name(schema, &v.name)),
            format!("drop {:?} view", v.name),
            Some(view_sql(&cx, schema, v, false)),
        ));
    }

    // 3. Foreign keys that would block the steps after.
    let modified_keys: HashSet<Key> = modified.iter().map(|m| key(m.schema, &m.to.name)).collect();
    let dropped_order = {
        let mut d = order_tables(dropped.clone());
        d.reverse();
        d
    };
    let drop_pos: HashMap<Key, usize> = dropped_order
        .iter()
        .enumerate()
        .map(|(i, (s, t))| (key(s, &t.name), i))
        .collect();
    let mut early_fk_drops: HashSet<(Key, String)> = HashSet::new();
    for m in &modified {
        let me = key(m.schema, &m.to.name);
        let mut clauses = Vec::new();
        let mut reverse = Vec::new();
        for c in m.changes {
            let (fk, replaced) = match c {
                TableChange::DropForeignKey { fk } => (fk, false),
                TableChange::ModifyForeignKey { from, .. } => (from, true),
                _ => continue,
            };
            let target = key(&fk.ref_schema, &fk.ref_table);
            if replaced
                || (target != me
                    && (modified_keys.contains(&target) || drop_pos.contains_key(&target)))
            {
                early_fk_drops.insert((me.clone(), fk.name.clone()));
                clauses.push(format!("DROP FOREIGN KEY {}", ident(&fk.name)));
                reverse.push(format!(
                    "ADD {}",
                    render::foreign_key(fk, &cx.ref_name(m.schema, fk))
                ));
            }
        }
        if !clauses.is_empty() {
            p.statements.push(alter(
                &cx,
                m.schema,
                &m.to.name,
                clauses,
                reverse,
                Vec::new(),
            ));
        }
    }
    for (i, (schema, t)) in dropped_order.iter().enumerate() {
        let mut clauses = Vec::new();
        let mut reverse = Vec::new();
        for f in &t.foreign_keys {
            let target = key(&f.ref_schema, &f.ref_table);
            let blocks =
                modified_keys.contains(&target) || drop_pos.get(&target).is_some_and(|&j| j < i);
            if blocks && target != key(schema, &t.name) {
                clauses.push(format!("DROP FOREIGN KEY {}", ident(&f.name)));
                reverse.push(format!(
                    "ADD {}",
                    render::foreign_key(f, &cx.ref_name(schema, f))
                ));
            }
        }
        if !clauses.is_empty() {
            p.statements
                .push(alter(&cx, schema, &t.name, clauses, reverse, Vec::new()));
        }
    }

    // 4. New tables.
    let by_key: HashMap<Key, &Modified<'_>> = modified
        .iter()
        .map(|m| (key(m.schema, &m.to.name), m))
        .collect();
    let new_keys: HashSet<Key> = new_tables.iter().map(|(s, t)| key(s, &t.name)).collect();
    let mut created: HashSet<Key> = HashSet::new();
    let mut deferred: Vec<(&str, &str, &ForeignKey)> = Vec::new();
    for (schema, t) in order_tables(new_tables) {
        let me = key(schema, &t.name);
        let inline = |f: &ForeignKey| {
            let target = key(&f.ref_schema, &f.ref_table);
            target == me
                || created.contains(&target)
                || (!new_keys.contains(&target)
                    && by_key
                        .get(&target)
                        .is_none_or(|m| referable_before_alter(m, f)))
        };
        for f in t.foreign_keys.iter().filter(|f| !inline(f)) {
            deferred.push((schema, &t.name, f));
        }
        p.statements.push(Statement::new(
            create_table(
                &cx.name(schema, &t.name),
                t,
                inline,
                |f| cx.ref_name(schema, f),
                &cx.indent,
            ),
            format!("create {:?} table", t.name),
            Some(format!("DROP TABLE {}", cx.name(schema, &t.name))),
        ));
        created.insert(me);
    }

    // 5. Changed tables, referenced ones first.
    let order = order_tables(modified.iter().map(|m| (m.schema, m.to)).collect());
    let mut altered: HashSet<Key> = HashSet::new();
    for (schema, t) in order {
        let me = key(schema, &t.name);
        let Some(m) = by_key.get(&me) else { continue };
        let later = |f: &ForeignKey| {
            let target = key(&f.ref_schema, &f.ref_table);
            target != me && modified_keys.contains(&target) && !altered.contains(&target)
        };
        let (s, mut late) = alter_table(&cx, m, &early_fk_drops, later);
        deferred.append(&mut late);
        if let Some(s) = s {
            p.statements.push(s);
        }
        altered.insert(me);
    }

    // 6. Foreign keys left for last, one statement per table.
    let mut by_table: Vec<((&str, &str), Vec<&ForeignKey>)> = Vec::new();
    for (schema, table, f) in deferred {
        match by_table.iter_mut().find(|(k, _)| *k == (schema, table)) {
            Some((_, v)) => v.push(f),
            None => by_table.push(((schema, table), vec![f])),
        }
    }
    for ((schema, table), fks) in by_table {
        let clauses = fks
            .iter()
            .map(|f| format!("ADD {}", render::foreign_key(f, &cx.ref_name(schema, f))))
            .collect();
        let reverse = fks
            .iter()
            .map(|f| format!("DROP FOREIGN KEY {}", ident(&f.name)))
            .collect();
        p.statements
            .push(alter(&cx, schema, table, clauses, reverse, Vec::new()));
    }

    // 7. Views, routines, triggers.
    let new_views = order_views(views.iter().map(|(s, v, _)| (*s, *v)).collect());
    for (schema, v) in new_views {
        let old = views
            .iter()
            .find(|(s, w, _)| *s == schema && w.name == v.name)
            .and_then(|(_, _, o)| *o);
        p.statements.push(match old {
            None => Statement::new(
                view_sql(&cx, schema, v, false),
                format!("create {:?} view", v.name),
                Some(format!("DROP VIEW {}", cx.name(schema, &v.name))),
            ),
            Some(o) => Statement::new(
                view_sql(&cx, schema, v, true),
                format!("modify {:?} view", v.name),
                Some(view_sql(&cx, schema, o, true)),
            ),
        });
    }
    p.statements.extend(routines);
    p.statements.extend(triggers);

    // 8. Dropped tables, referencing ones first, then schemas.
    for (schema, t) in dropped_order {
        let mut s = Statement::new(
            format!("DROP TABLE {}", cx.name(schema, &t.name)),
            format!("drop {:?} table", t.name),
            Some(create_table(
                &cx.name(schema, &t.name),
                t,
                |_| true,
                |f| cx.ref_name(schema, f),
                "",
            )),
        );
        s.destructive.push(Loss::Table {
            schema: schema.to_string(),
            name: t.name.clone(),
        });
        p.statements.push(s);
    }
    p.statements.extend(schema_drops);
    Ok(p)
}

fn object_unsupported(o: &crate::diff::Object) -> PlanError {
    let what = match o {
        Object::MaterializedView(_) => "materialized views",
        Object::Enum(_) => "enum types (MySQL enums are column types: enum('a','b'))",
        Object::Sequence(_) => "sequences",
        Object::Extension(_) => "extensions",
        Object::View(_) | Object::Function(_) | Object::Trigger(_) => "this object",
    };
    unsupported(
        format!("create or change {what} ({:?})", o.name()),
        "remove it from the desired schema",
    )
}

fn schema_options(s: &SchemaAttrs) -> String {
    let mut out = String::new();
    if let Some(c) = &s.charset {
        out.push_str(&format!(" CHARSET {c}"));
    }
    if let Some(c) = &s.collation {
        out.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(c) = &s.comment {
        out.push_str(&format!(" COMMENT {}", literal(c)));
    }
    out
}

fn create_schema(s: &SchemaAttrs) -> Statement {
    Statement::new(
        format!("CREATE DATABASE {}{}", ident(&s.name), schema_options(s)),
        format!("add new schema named {:?}", s.name),
        Some(format!("DROP DATABASE {}", ident(&s.name))),
    )
}

fn alter_schema(from: &SchemaAttrs, to: &SchemaAttrs) -> Option<Statement> {
    let mut want = to.clone();
    let mut back = from.clone();
    // The diff reports a charset or collation change only when the desired side names one.
    if to.charset.is_none() {
        want.charset = None;
        back.charset = None;
    }
    if to.collation.is_none() {
        want.collation = None;
        back.collation = None;
    }
    if want.comment.is_none() && from.comment.is_some() {
        want.comment = Some(String::new());
    }
    if back.comment.is_none() && to.comment.is_some() {
        back.comment = Some(String::new());
    }
    let fwd = schema_options(&want);
    if fwd.is_empty() {
        return None;
    }
    let rev = schema_options(&back);
    Some(Statement::new(
        format!("ALTER DATABASE {}{fwd}", ident(&to.name)),
        format!("modify {:?} schema", to.name),
        (!rev.is_empty()).then(|| format!("ALTER DATABASE {}{rev}", ident(&to.name))),
    ))
}

fn view_sql(cx: &Ctx, schema: &str, v: &View, replace: bool) -> String {
    let def = v.definition.trim().trim_end_matches(';').trim();
    let head = if replace {
        "CREATE OR REPLACE VIEW"
    } else {
        "CREATE VIEW"
    };
    let mut s = format!("{head} {} AS {def}", cx.name(schema, &v.name));
    if let Some(o) = v.check_option {
        s.push_str(match o {
            crate::model::CheckOption::Local => " WITH LOCAL CHECK OPTION",
            crate::model::CheckOption::Cascaded => " WITH CASCADED CHECK OPTION",
        });
    }
    s
}

fn routine_word(f: &Function) -> &'static str {
    match f.kind {
        RoutineKind::Function => "FUNCTION",
        RoutineKind::Procedure => "PROCEDURE",
    }
}

fn create_routine(cx: &Ctx, schema: &str, f: &Function) -> Statement {
    let word = routine_word(f);
    Statement::new(
        f.definition.trim().trim_end_matches(';').to_string(),
        format!("create {:?} {}", f.name, word.to_ascii_lowercase()),
        Some(format!("DROP {word} {}", cx.name(schema, &f.name))),
    )
}

fn drop_routine(cx: &Ctx, schema: &str, f: &Function) -> Statement {
    let word = routine_word(f);
    Statement::new(
        format!("DROP {word} {}", cx.name(schema, &f.name)),
        format!("drop {:?} {}", f.name, word.to_ascii_lowercase()),
        Some(f.definition.trim().trim_end_matches(';').to_string()),
    )
}

fn create_trigger(cx: &Ctx, schema: &str, t: &Trigger) -> Statement {
    Statement::new(
        t.definition.trim().trim_end_matches(';').to_string(),
        format!("create trigger {:?}", t.name),
        Some(format!("DROP TRIGGER {}", cx.name(schema, &t.name))),
    )
}

fn drop_trigger(cx: &Ctx, schema: &str, t: &Trigger) -> Statement {
    Statement::new(
        format!("DROP TRIGGER {}", cx.name(schema, &t.name)),
        format!("drop trigger {:?}", t.name),
        Some(t.definition.trim().trim_end_matches(';').to_string()),
    )
}

/// `ALTER TABLE t a, b` with its reverse (the inverse clauses in the opposite order).
fn alter(
    cx: &Ctx,
    schema: &str,
    table: &str,
    clauses: Vec<String>,
    mut reverse: Vec<String>,
    losses: Vec<Loss>,
) -> Statement {
    let name = cx.name(schema, table);
    reverse.reverse();
    let mut st = Statement::new(
        format!("ALTER TABLE {name} {}", clauses.join(", ")),
        format!("modify {table:?} table"),
        (!reverse.is_empty()).then(|| format!("ALTER TABLE {name} {}", reverse.join(", "))),
    );
    st.destructive = losses;
    st
}

/// Where an added column goes: after the column before it in the desired table, or first.
fn position(to: &Table, c: &Column) -> String {
    match to.columns.iter().position(|x| x.name == c.name) {
        Some(0) => " FIRST".into(),
        Some(i) if i + 1 == to.columns.len() => String::new(),
        Some(i) => format!(" AFTER {}", ident(&to.columns[i - 1].name)),
        None => String::new(),
    }
}

/// The one `ALTER TABLE` of a changed table, and the foreign keys it leaves for later (`later` says which).
fn alter_table<'a>(
    cx: &Ctx,
    m: &Modified<'a>,
    early: &HashSet<(Key, String)>,
    later: impl Fn(&ForeignKey) -> bool,
) -> (Option<Statement>, Vec<(&'a str, &'a str, &'a ForeignKey)>) {
    let schema = m.schema;
    let me = key(schema, &m.to.name);
    let mut fwd: Vec<String> = Vec::new();
    let mut rev: Vec<String> = Vec::new();
    let mut losses = Vec::new();
    let mut late = Vec::new();
    let to_index_names: HashSet<&str> = m.to.indexes.iter().map(|i| i.name.as_str()).collect();
    let dropped_cols: HashSet<&str> = m
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::DropColumn { column } => Some(column.name.as_str()),
            _ => None,
        })
        .collect();
    let fk_sql = |f: &ForeignKey| render::foreign_key(f, &cx.ref_name(schema, f));
    // The keys given an index of their own by this statement: two dropped indexes that both covered a key add
    // its index once.
    let mut backed: HashSet<&str> = HashSet::new();
    // Drops first.
    for c in m.changes {
        match c {
            TableChange::DropForeignKey { fk } => {
                if !early.contains(&(me.clone(), fk.name.clone())) {
                    fwd.push(format!("DROP FOREIGN KEY {}", ident(&fk.name)));
                    rev.push(format!("ADD {}", fk_sql(fk)));
                }
                // The index MySQL made for the key stays behind it: it goes with it, unless kept or its
                // columns go anyway.
                if let Some(i) = m.from.indexes.iter().find(|i| {
                    crate::normalize::fk_backing_index(Dialect::Mysql, m.from, i)
                        && i.name == fk.name
                }) && !to_index_names.contains(i.name.as_str())
                    && !i
                        .parts
                        .iter()
                        .any(|p| p.column_name().is_some_and(|n| dropped_cols.contains(n)))
                {
                    fwd.push(format!("DROP INDEX {}", ident(&i.name)));
                    rev.push(format!("ADD {}", render::index(i)));
                }
            }
            TableChange::DropCheck { check } | TableChange::ModifyCheck { from: check, .. } => {
                if let Some(n) = &check.name {
                    fwd.push(format!("DROP CONSTRAINT {}", ident(n)));
                    rev.push(format!("ADD {}", render::check(check)));
                }
            }
            TableChange::DropIndex { index } | TableChange::ModifyIndex { from: index, .. } => {
                fwd.push(format!("DROP INDEX {}", ident(&index.name)));
                rev.push(format!("ADD {}", render::index(index)));
                // A foreign key that stays needs an index over its columns: MySQL refuses to drop the one it
                // uses unless another covers them, so one named after the key takes its place (the name MySQL
                // itself would give it).
                for f in &m.to.foreign_keys {
                    let kept = m.from.foreign_keys.iter().any(|g| g.name == f.name)
                        && !m.changes.iter().any(|c| {
                            matches!(c, TableChange::ModifyForeignKey { to, .. } if to.name == f.name)
                        });
                    let own = m.from.indexes.iter().any(|i| i.name == f.name);
                    if kept
                        && !own
                        && covers(index, f)
                        && !to_covers(m.to, f)
                        && backed.insert(f.name.as_str())
                    {
                        let backing = crate::model::Index::on(f.name.clone(), f.columns.clone());
                        fwd.push(format!("ADD {}", render::index(&backing)));
                        rev.push(format!("DROP INDEX {}", ident(&f.name)));
                    }
                }
            }
            TableChange::DropPrimaryKey { key: k }
            | TableChange::ModifyPrimaryKey { from: k, .. } => {
                fwd.push("DROP PRIMARY KEY".into());
                rev.push(format!("ADD PRIMARY KEY {}", render::parts(&k.parts)));
            }
            _ => {}
        }
    }
    // MariaDB cannot change a generated column's expression or storage in place: it is dropped and added again
    // (its values are derived, nothing is lost; a plain column becoming generated loses its values).
    let regenerated: HashSet<&str> = m
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ModifyColumn { from, to, what }
                if what.contains(crate::diff::ChangeKind::GENERATED) && to.generated.is_some() =>
            {
                Some(from.name.as_str())
            }
            _ => None,
        })
        .collect();
    for c in m.changes {
        if let TableChange::ModifyColumn { from, .. } = c
            && regenerated.contains(from.name.as_str())
        {
            fwd.push(format!("DROP COLUMN {}", ident(&from.name)));
            rev.push(format!("ADD COLUMN {}", render::column(from)));
            if from.generated.is_none() {
                losses.push(Loss::Column {
                    schema: schema.to_string(),
                    table: m.to.name.clone(),
                    name: from.name.clone(),
                });
            }
        }
    }
    for c in m.changes {
        if let TableChange::DropColumn { column } = c {
            fwd.push(format!("DROP COLUMN {}", ident(&column.name)));
            rev.push(format!("ADD COLUMN {}", render::column(column)));
            losses.push(Loss::Column {
                schema: schema.to_string(),
                table: m.to.name.clone(),
                name: column.name.clone(),
            });
        }
    }
    for c in m.changes {
        if let TableChange::ModifyColumn { from, to, .. } = c
            && !regenerated.contains(from.name.as_str())
        {
            fwd.push(format!("MODIFY COLUMN {}", render::column(to)));
            rev.push(format!("MODIFY COLUMN {}", render::column(from)));
        }
    }
    // Added columns in the desired order, each at its place.
    let added: HashSet<&str> = m
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::AddColumn { column } => Some(column.name.as_str()),
            _ => None,
        })
        .chain(regenerated.iter().copied())
        .collect();
    for col in
        m.to.columns
            .iter()
            .filter(|c| added.contains(c.name.as_str()))
    {
        fwd.push(format!(
            "ADD COLUMN {}{}",
            render::column(col),
            position(m.to, col)
        ));
        rev.push(format!("DROP COLUMN {}", ident(&col.name)));
    }
    for c in m.changes {
        match c {
            TableChange::AddPrimaryKey { key: k } | TableChange::ModifyPrimaryKey { to: k, .. } => {
                fwd.push(format!("ADD PRIMARY KEY {}", render::parts(&k.parts)));
                rev.push("DROP PRIMARY KEY".into());
            }
            TableChange::AddIndex { index } | TableChange::ModifyIndex { to: index, .. } => {
                fwd.push(format!("ADD {}", render::index(index)));
                rev.push(format!("DROP INDEX {}", ident(&index.name)));
            }
            TableChange::AddCheck { check } | TableChange::ModifyCheck { to: check, .. } => {
                fwd.push(format!("ADD {}", render::check(check)));
                if let Some(n) = &check.name {
                    rev.push(format!("DROP CONSTRAINT {}", ident(n)));
                }
            }
            _ => {}
        }
    }
    for c in m.changes {
        match c {
            TableChange::AddForeignKey { fk } | TableChange::ModifyForeignKey { to: fk, .. } => {
                if later(fk) {
                    let to_fk = m.to.foreign_keys.iter().find(|f| f.name == fk.name);
                    if let Some(f) = to_fk {
                        late.push((m.schema, m.to.name.as_str(), f));
                    }
                } else {
                    fwd.push(format!("ADD {}", fk_sql(fk)));
                    rev.push(format!("DROP FOREIGN KEY {}", ident(&fk.name)));
                }
            }
            TableChange::ModifyComment { from, to } => {
                fwd.push(format!(
                    "COMMENT {}",
                    literal(to.as_deref().unwrap_or_default())
                ));
                rev.push(format!(
                    "COMMENT {}",
                    literal(from.as_deref().unwrap_or_default())
                ));
            }
            TableChange::ModifyOptions { from, to } => {
                let (f, t) = option_changes(from, to);
                fwd.extend(t);
                rev.extend(f);
                charset_change(cx, m, &mut fwd, &mut rev);
            }
            _ => {}
        }
    }
    if fwd.is_empty() {
        return (None, late);
    }
    (Some(alter(cx, schema, &m.to.name, fwd, rev, losses)), late)
}

/// A table's character set and collation as they are in effect (its own, else its schema's).
fn effective(cx: &Ctx, schema: &str, t: &Table) -> (Option<String>, Option<String>) {
    let (cs, coll) = cx.defaults.get(schema).cloned().unwrap_or_default();
    if t.options.collation.is_some() || t.options.charset.is_some() {
        (
            t.options.charset.clone().or(cs),
            t.options.collation.clone(),
        )
    } else {
        (cs, coll)
    }
}

/// When a table's character set goes back to its schema's (options that name none), the default is set
/// explicitly; and since a table's default applies to new columns only, every string column that inherits it
/// and is not otherwise changed is modified to the new one (so its table's and its own stay equal).
fn charset_change(cx: &Ctx, m: &Modified<'_>, fwd: &mut Vec<String>, rev: &mut Vec<String>) {
    let (old_cs, old_coll) = effective(cx, m.schema, m.from);
    let (new_cs, new_coll) = effective(cx, m.schema, m.to);
    if old_coll == new_coll && old_cs == new_cs {
        return;
    }
    if m.to.options.charset.is_none() && m.to.options.collation.is_none() {
        let t = crate::model::TableOptions {
            charset: new_cs.clone(),
            collation: new_coll.clone(),
            ..Default::default()
        };
        fwd.extend(render::table_options(&t, None));
    }
    let touched: HashSet<&str> = m
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ModifyColumn { to, .. } => Some(to.name.as_str()),
            TableChange::AddColumn { column } | TableChange::DropColumn { column } => {
                Some(column.name.as_str())
            }
            _ => None,
        })
        .collect();
    for c in &m.to.columns {
        let stringy = matches!(
            c.ty.kind,
            crate::types::TypeKind::String { .. }
                | crate::types::TypeKind::Enum { .. }
                | crate::types::TypeKind::Set { .. }
        );
        if !stringy
            || c.charset.is_some()
            || c.collation.is_some()
            || c.generated.is_some()
            || touched.contains(c.name.as_str())
        {
            continue;
        }
        let Some(before) = m.from.column(&c.name) else {
            continue;
        };
        if before.charset.is_some() || before.collation.is_some() {
            continue;
        }
        let mut now = c.clone();
        now.charset = new_cs.clone();
        now.collation = new_coll.clone();
        let mut then = before.clone();
        then.charset = old_cs.clone();
        then.collation = old_coll.clone();
        fwd.push(format!("MODIFY COLUMN {}", render::column(&now)));
        rev.push(format!("MODIFY COLUMN {}", render::column(&then)));
    }
}

/// Whether a foreign key of a new table to the changed table `m` can be created before `m`'s `ALTER TABLE` (inline
/// in `CREATE TABLE`, as Atlas writes it) and still holds after it: the change touches none of the referenced
/// columns, no key or index over them (the one the reference needs may be the one being added), and no table
/// option (a charset change converts the columns).
fn referable_before_alter(m: &Modified<'_>, f: &ForeignKey) -> bool {
    let referenced = |name: &str| f.ref_columns.iter().any(|c| c.eq_ignore_ascii_case(name));
    let over = |parts: &[crate::model::IndexPart]| {
        parts
            .iter()
            .any(|p| p.column_name().is_none_or(&referenced))
    };
    m.changes.iter().all(|c| match c {
        TableChange::AddColumn { column } | TableChange::DropColumn { column } => {
            !referenced(&column.name)
        }
        TableChange::ModifyColumn { from, to, .. } => {
            !referenced(&from.name) && !referenced(&to.name)
        }
        TableChange::AddIndex { index } | TableChange::DropIndex { index } => !over(&index.parts),
        TableChange::ModifyIndex { from, to, .. } => !over(&from.parts) && !over(&to.parts),
        TableChange::AddPrimaryKey { key } | TableChange::DropPrimaryKey { key } => {
            !over(&key.parts)
        }
        TableChange::ModifyPrimaryKey { from, to } => !over(&from.parts) && !over(&to.parts),
        TableChange::ModifyOptions { .. } => false,
        TableChange::AddForeignKey { .. }
        | TableChange::DropForeignKey { .. }
        | TableChange::ModifyForeignKey { .. }
        | TableChange::AddCheck { .. }
        | TableChange::DropCheck { .. }
        | TableChange::ModifyCheck { .. }
        | TableChange::ModifyComment { .. } => true,
    })
}

/// Whether `i`'s leading parts are the key's columns, whole.
fn covers(i: &crate::model::Index, f: &ForeignKey) -> bool {
    i.method.is_none()
        && i.parts.len() >= f.columns.len()
        && i.parts
            .iter()
            .zip(&f.columns)
            .all(|(p, c)| p.column_name() == Some(c.as_str()) && p.prefix.is_none())
}

/// Whether the primary key or an index of `t` covers the key's columns.
fn to_covers(t: &Table, f: &ForeignKey) -> bool {
    let pk = t.primary_key.as_ref().is_some_and(|pk| {
        pk.parts.len() >= f.columns.len()
            && pk
                .parts
                .iter()
                .zip(&f.columns)
                .all(|(p, c)| p.column_name() == Some(c.as_str()))
    });
    pk || t.indexes.iter().any(|i| covers(i, f))
}

/// The option clauses that change `from` into `to`, and back.
fn option_changes(
    from: &crate::model::TableOptions,
    to: &crate::model::TableOptions,
) -> (Vec<String>, Vec<String>) {
    let mut back = Vec::new();
    let mut fwd = Vec::new();
    if from.engine != to.engine
        && let Some(e) = &to.engine
    {
        fwd.push(format!("ENGINE {e}"));
        if let Some(b) = &from.engine {
            back.push(format!("ENGINE {b}"));
        }
    }
    if (from.charset != to.charset || from.collation != to.collation)
        && (to.charset.is_some() || to.collation.is_some())
    {
        let t = crate::model::TableOptions {
            charset: to.charset.clone(),
            collation: to.collation.clone(),
            ..Default::default()
        };
        fwd.extend(render::table_options(&t, None));
        let f = crate::model::TableOptions {
            charset: from.charset.clone(),
            collation: from.collation.clone(),
            ..Default::default()
        };
        back.extend(render::table_options(&f, None));
    }
    if from.auto_increment != to.auto_increment
        && let Some(n) = to.auto_increment
    {
        fwd.push(format!("AUTO_INCREMENT {n}"));
    }
    (back, fwd)
}

/// Tables in an order where referenced tables come before the tables referencing them (cycles: declaration
/// order; their keys are added later).
fn order_tables<'a>(tables: Vec<(&'a str, &'a Table)>) -> Vec<(&'a str, &'a Table)> {
    super::order_by_references(tables, key)
}

/// Views in an order where a view another one reads comes first (by its quoted name in the definition).
fn order_views<'a>(views: Vec<(&'a str, &'a View)>) -> Vec<(&'a str, &'a View)> {
    let mut left = views;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let reads = |i: usize, j: usize| {
            let (a, b) = (&left[i].1, &left[j].1);
            a.definition.contains(&ident(&b.name))
                || a.definition
                    .to_lowercase()
                    .contains(&format!(" {}", b.name.to_lowercase()))
        };
        let ready = (0..left.len())
            .find(|&i| !(0..left.len()).any(|j| j != i && reads(i, j) && !reads(j, i)));
        out.push(left.remove(ready.unwrap_or(0)));
    }
    out
}

#[cfg(test)]
mod tests;
