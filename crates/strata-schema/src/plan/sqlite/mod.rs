//! The SQLite planner.
//!
//! Order: views and triggers that go or change are dropped first (they read tables); new tables are created
//! parents first (SQLite accepts a reference to a table created later, so foreign-key cycles need nothing more);
//! changed tables are altered; dropped tables go last; new and changed views and triggers are created at the end.
//!
//! A table changes with `ALTER TABLE … ADD COLUMN` and `CREATE|DROP INDEX` when those are all it needs (a new
//! column that is not part of the key, not generated, whose default is a literal, non-null when the column is
//! `NOT NULL`). Anything else uses SQLite's table copy: `CREATE TABLE new_t` with the new definition, `INSERT INTO
//! new_t (…) SELECT … FROM t` (a column becoming `NOT NULL` with a default takes the default for its `NULL`s),
//! `DROP TABLE t`, `ALTER TABLE new_t RENAME TO t`, then the table's indexes and triggers again — Atlas's statements
//! and comments. When a view or another table's trigger that stays in place reads `t`, the rename runs under
//! `PRAGMA legacy_alter_table = ON` (SQLite would otherwise refuse it: the view names a table that does not exist
//! between the drop and the rename); Atlas has no such case (its community build plans no views or triggers). The
//! plan then asks for foreign keys off outside the transaction (or dropping `t` would delete every `ON DELETE
//! CASCADE` child row) and for `PRAGMA foreign_key_check` before commit, and — as Atlas does — starts with `PRAGMA
//! foreign_keys = off` and ends with `PRAGMA foreign_keys = on`, which do nothing inside the executor's transaction
//! but keep the children for runners that run the file without one.

pub mod render;

use std::collections::{HashMap, HashSet};

use strata_migrate::Dialect;

use super::{Loss, Plan, PlanError, PlanOptions, Statement};
use crate::diff::{Change, Changes, Object, TableChange};
use crate::model::{Column, Realm, Table, Trigger, View};
use crate::normalize::name_key;
use render::{create_index, create_table, ident, is_autoindex, is_literal, qualified};

fn unsupported(what: String, hint: &'static str) -> PlanError {
    PlanError::Unsupported {
        dialect: "SQLite",
        what,
        hint,
    }
}

/// Plans SQLite changes (see the module documentation).
pub fn plan(changes: &Changes, to: &Realm) -> Result<Plan, PlanError> {
    plan_with(changes, to, &PlanOptions::default())
}

/// [`plan`] with [`PlanOptions`] (the indentation of `CREATE TABLE` bodies).
pub fn plan_with(changes: &Changes, to: &Realm, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let indent = opts.indent.as_str();
    let mut p = Plan::new(Dialect::Sqlite);
    let mut pre = Vec::new();
    let mut new_tables: Vec<(&str, &Table)> = Vec::new();
    let mut modified = Vec::new();
    let mut dropped: Vec<(&str, &Table)> = Vec::new();
    let mut new_views: Vec<(&str, &View)> = Vec::new();
    let mut new_triggers: Vec<(&str, &Trigger)> = Vec::new();
    let mut gone_views: Vec<(&str, &View)> = Vec::new();
    for c in &changes.changes {
        match c {
            // `main` always exists.
            Change::AddSchema { schema } if schema.name == "main" => {}
            Change::AddSchema { schema } => {
                return Err(unsupported(
                    format!("create schema {:?}", schema.name),
                    "SQLite schemas are attached database files: attach the file instead",
                ));
            }
            Change::DropSchema { schema } => {
                return Err(unsupported(
                    format!("drop schema {:?}", schema.name),
                    "SQLite schemas are attached database files: detach or delete the file instead",
                ));
            }
            // SQLite keeps no schema comment, charset or collation.
            Change::ModifySchema { .. } => {}
            Change::AddTable { schema, table } => new_tables.push((schema, table)),
            Change::DropTable { schema, table } => dropped.push((schema, table)),
            Change::ModifyTable {
                schema,
                from,
                to,
                changes,
            } => modified.push((schema.as_str(), from, to, changes)),
            Change::AddObject { schema, object } => match object {
                Object::View(v) => new_views.push((schema, v)),
                Object::Trigger(t) => new_triggers.push((schema, t)),
                other => return Err(object_unsupported(other)),
            },
            Change::DropObject { schema, object } => match object {
                Object::View(v) => gone_views.push((schema, v)),
                Object::Trigger(t) => pre.push(drop_trigger(schema, t)),
                other => return Err(object_unsupported(other)),
            },
            Change::ModifyObject { schema, from, to } => match (from, to) {
                (Object::View(a), Object::View(b)) => {
                    gone_views.push((schema, a));
                    new_views.push((schema, b));
                }
                (Object::Trigger(a), Object::Trigger(b)) => {
                    pre.push(drop_trigger(schema, a));
                    new_triggers.push((schema, b));
                }
                (other, _) => return Err(object_unsupported(other)),
            },
            Change::AddEnumValues { to, .. } => {
                return Err(object_unsupported(&Object::Enum(to.clone())));
            }
        }
    }
    // Views that read other views go after them; dropped in the opposite order.
    let mut gone_views = order_views(gone_views);
    gone_views.reverse();
    for (schema, v) in gone_views {
        pre.push(Statement::new(
            format!("DROP VIEW {}", qualified(schema, &v.name)),
            format!("drop {:?} view", v.name),
            Some(view_sql(schema, v)),
        ));
    }
    p.statements.extend(pre);

    for (schema, t) in order_tables(new_tables) {
        p.statements.push(Statement::new(
            create_table(schema, &t.name, t, indent),
            format!("create {:?} table", t.name),
            Some(format!("DROP TABLE {}", qualified(schema, &t.name))),
        ));
        for i in t.indexes.iter().filter(|i| !is_autoindex(i)) {
            p.statements.push(add_index(schema, &t.name, i));
        }
    }

    let rebuilt: HashSet<(String, String)> = new_triggers
        .iter()
        .map(|(_, t)| {
            (
                name_key(Dialect::Sqlite, &t.table).into_owned(),
                t.name.clone(),
            )
        })
        .collect();
    let rebuilt_views: HashSet<String> = new_views
        .iter()
        .map(|(_, v)| name_key(Dialect::Sqlite, &v.name).into_owned())
        .collect();
    for (schema, from, to_table, tc) in modified {
        if alterable(to_table, tc) {
            alter(&mut p, schema, to_table, tc);
        } else {
            let cx = CopyCx {
                realm: to,
                rebuilt: &rebuilt,
                rebuilt_views: &rebuilt_views,
                indent,
            };
            copy(&mut p, schema, from, to_table, tc, &cx);
        }
    }

    if !dropped.is_empty() {
        p.needs_foreign_keys_off = true;
        p.foreign_key_check = true;
    }
    let mut dropped = order_tables(dropped);
    dropped.reverse();
    for (schema, t) in dropped {
        let mut s = Statement::new(
            format!("DROP TABLE {}", qualified(schema, &t.name)),
            format!("drop {:?} table", t.name),
            Some(create_table(schema, &t.name, t, "")),
        );
        s.destructive.push(Loss::Table {
            schema: schema.to_string(),
            name: t.name.clone(),
        });
        p.statements.push(s);
    }

    for (schema, v) in order_views(new_views) {
        p.statements.push(Statement::new(
            view_sql(schema, v),
            format!("create {:?} view", v.name),
            Some(format!("DROP VIEW {}", qualified(schema, &v.name))),
        ));
    }
    for (schema, t) in new_triggers {
        p.statements.push(create_trigger(schema, t));
    }
    if p.needs_foreign_keys_off {
        // Atlas's statements around such a plan. Inside a transaction they do nothing (SQLite ignores the pragma
        // there): the flag makes the executor switch enforcement off before `BEGIN`. They serve runners that
        // run the file without one.
        p.statements.insert(
            0,
            Statement::new(
                "PRAGMA foreign_keys = off".into(),
                "disable the enforcement of foreign-keys constraints".into(),
                None,
            ),
        );
        p.statements.push(Statement::new(
            "PRAGMA foreign_keys = on".into(),
            "enable back the enforcement of foreign-keys constraints".into(),
            None,
        ));
    }
    Ok(p)
}

fn object_unsupported(o: &Object) -> PlanError {
    let what = match o {
        Object::MaterializedView(_) => "materialized views",
        Object::Enum(_) => "enum types",
        Object::Sequence(_) => "sequences",
        Object::Function(_) => "functions or procedures",
        Object::Extension(_) => "extensions",
        Object::View(_) | Object::Trigger(_) => "this object",
    };
    unsupported(
        format!("create or change {what} ({:?})", o.name()),
        "remove it from the desired schema",
    )
}

fn view_sql(schema: &str, v: &View) -> String {
    let def = v.definition.trim().trim_end_matches(';').trim();
    if def.len() >= 6 && def[..6].eq_ignore_ascii_case("create") {
        def.to_string()
    } else {
        format!("CREATE VIEW {} AS {def}", qualified(schema, &v.name))
    }
}

fn create_trigger(schema: &str, t: &Trigger) -> Statement {
    Statement::new(
        t.definition.trim().trim_end_matches(';').to_string(),
        format!("create trigger {:?}", t.name),
        Some(format!("DROP TRIGGER {}", qualified(schema, &t.name))),
    )
}

fn drop_trigger(schema: &str, t: &Trigger) -> Statement {
    Statement::new(
        format!("DROP TRIGGER {}", qualified(schema, &t.name)),
        format!("drop trigger {:?}", t.name),
        Some(t.definition.trim().trim_end_matches(';').to_string()),
    )
}

fn add_index(schema: &str, table: &str, i: &crate::model::Index) -> Statement {
    Statement::new(
        create_index(schema, table, i),
        format!("create index {:?} to table: {:?}", i.name, table),
        Some(format!("DROP INDEX {}", qualified(schema, &i.name))),
    )
}

fn drop_index(schema: &str, table: &str, i: &crate::model::Index) -> Statement {
    Statement::new(
        format!("DROP INDEX {}", qualified(schema, &i.name)),
        format!("drop index {:?} from table: {:?}", i.name, table),
        Some(create_index(schema, table, i)),
    )
}

/// Tables in an order where referenced tables come before the tables referencing them (cycles: declaration
/// order, which SQLite accepts). SQLite references name no schema: tables are keyed by name alone.
fn order_tables<'a>(tables: Vec<(&'a str, &'a Table)>) -> Vec<(&'a str, &'a Table)> {
    super::order_by_references(tables, |_, name| {
        name_key(Dialect::Sqlite, name).into_owned()
    })
}

/// Views in an order where a view another one reads comes first.
fn order_views<'a>(views: Vec<(&'a str, &'a View)>) -> Vec<(&'a str, &'a View)> {
    let mut left = views;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let lower: Vec<String> = left
            .iter()
            .map(|(_, v)| v.definition.to_lowercase())
            .collect();
        // A view is ready when no other waiting view's name appears in its definition.
        let ready = (0..left.len()).find(|&i| {
            !left.iter().enumerate().any(|(j, (_, w))| {
                j != i
                    && lower[i].contains(&w.name.to_lowercase())
                    && !lower[j].contains(&left[i].1.name.to_lowercase())
            })
        });
        let i = ready.unwrap_or(0);
        out.push(left.remove(i));
    }
    out
}

fn simple_new_column(t: &Table, c: &Column) -> bool {
    let in_pk = t.primary_key.as_ref().is_some_and(|pk| {
        pk.parts
            .iter()
            .any(|p| p.column_name() == Some(c.name.as_str()))
    });
    let default_ok = match &c.default {
        None => c.nullable,
        Some(d) => is_literal(d) && (c.nullable || !d.trim().eq_ignore_ascii_case("null")),
    };
    !in_pk && !c.auto_increment && c.generated.is_none() && default_ok
}

/// Whether `ALTER TABLE ADD COLUMN` and index statements carry out every change.
fn alterable(to: &Table, changes: &[TableChange]) -> bool {
    changes.iter().all(|c| match c {
        TableChange::AddColumn { column } => simple_new_column(to, column),
        TableChange::AddIndex { index } | TableChange::DropIndex { index } => !is_autoindex(index),
        TableChange::ModifyIndex { from, to, .. } => !is_autoindex(from) && !is_autoindex(to),
        TableChange::ModifyComment { .. } => true,
        _ => false,
    })
}

fn alter(p: &mut Plan, schema: &str, t: &Table, changes: &[TableChange]) {
    let name = &t.name;
    for c in changes {
        match c {
            TableChange::DropIndex { index } | TableChange::ModifyIndex { from: index, .. } => {
                p.statements.push(drop_index(schema, name, index))
            }
            _ => {}
        }
    }
    for c in changes {
        if let TableChange::AddColumn { column } = c {
            p.statements.push(Statement::new(
                format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    qualified(schema, name),
                    render::column(column, false)
                ),
                format!("add column {:?} to table: {:?}", column.name, name),
                Some(format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    qualified(schema, name),
                    ident(&column.name)
                )),
            ));
        }
    }
    for c in changes {
        match c {
            TableChange::AddIndex { index } | TableChange::ModifyIndex { to: index, .. } => {
                p.statements.push(add_index(schema, name, index))
            }
            _ => {}
        }
    }
}

/// What a table copy reads besides the table: the desired realm (the table's triggers), the triggers created
/// anyway, and the `CREATE TABLE` indentation.
struct CopyCx<'a> {
    realm: &'a Realm,
    rebuilt: &'a HashSet<(String, String)>,
    /// Views the plan drops before the copies and creates after them (new or changed), by name.
    rebuilt_views: &'a HashSet<String>,
    indent: &'a str,
}

/// Whether a view or a trigger of another table that stays in place while `table` is copied mentions it (a
/// textual match: one too many only costs the legacy rename).
fn read_during_rename(realm: &Realm, schema: &str, table: &str, cx: &CopyCx<'_>) -> bool {
    let Some(s) = realm.schemas.iter().find(|s| s.name == schema) else {
        return false;
    };
    let d = Dialect::Sqlite;
    let key = name_key(d, table);
    let needle = table.to_lowercase();
    let views = s
        .views
        .iter()
        .filter(|v| !cx.rebuilt_views.contains(name_key(d, &v.name).as_ref()))
        .map(|v| &v.definition);
    let triggers = s
        .triggers
        .iter()
        .filter(|t| {
            let on = name_key(d, &t.table);
            on != key && !cx.rebuilt.contains(&(on.into_owned(), t.name.clone()))
        })
        .map(|t| &t.definition);
    views
        .chain(triggers)
        .any(|def| def.to_lowercase().contains(&needle))
}

fn copy(
    p: &mut Plan,
    schema: &str,
    from: &Table,
    to: &Table,
    changes: &[TableChange],
    cx: &CopyCx<'_>,
) {
    let CopyCx {
        realm,
        rebuilt,
        indent,
        ..
    } = *cx;
    let d = Dialect::Sqlite;
    p.needs_foreign_keys_off = true;
    p.foreign_key_check = true;
    let name = &to.name;
    let tmp = format!("new_{name}");
    p.statements.push(Statement::new(
        create_table(schema, &tmp, to, indent),
        format!("create {tmp:?} table"),
        None,
    ));
    let old: HashMap<String, &Column> = from
        .columns
        .iter()
        .map(|c| (name_key(d, &c.name).into_owned(), c))
        .collect();
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for c in to.columns.iter().filter(|c| c.generated.is_none()) {
        let Some(o) = old.get(name_key(d, &c.name).as_ref()) else {
            continue;
        };
        targets.push(ident(&c.name));
        let src = ident(&o.name);
        sources.push(match (&c.default, o.nullable && !c.nullable) {
            (Some(def), true) => {
                let def = def.trim();
                let def = if is_literal(def) {
                    def.to_string()
                } else {
                    format!("({def})")
                };
                format!("IFNULL({src}, {def}) AS {src}")
            }
            _ => src,
        });
    }
    if !targets.is_empty() {
        p.statements.push(Statement::new(
            format!(
                "INSERT INTO {} ({}) SELECT {} FROM {}",
                qualified(schema, &tmp),
                targets.join(", "),
                sources.join(", "),
                qualified(schema, name)
            ),
            format!("copy rows from old table {name:?} to new temporary table {tmp:?}"),
            None,
        ));
    }
    let mut drop = Statement::new(
        format!("DROP TABLE {}", qualified(schema, &from.name)),
        format!("drop {name:?} table after copying rows"),
        None,
    );
    for c in changes {
        if let TableChange::DropColumn { column } = c {
            drop.destructive.push(Loss::Column {
                schema: schema.to_string(),
                table: name.clone(),
                name: column.name.clone(),
            });
        }
    }
    p.statements.push(drop);
    // SQLite checks every view and trigger when a table is renamed; one that reads the dropped table fails the
    // rename ("error in view v: no such table: main.t") unless the legacy rename is on. Only then is it written.
    let legacy = read_during_rename(realm, schema, name, cx);
    if legacy {
        p.statements.push(Statement::new(
            "PRAGMA legacy_alter_table = ON".into(),
            format!("leave views and triggers that read {name:?} as they are while it is renamed"),
            None,
        ));
    }
    p.statements.push(Statement::new(
        format!(
            "ALTER TABLE {} RENAME TO {}",
            qualified(schema, &tmp),
            ident(name)
        ),
        format!("rename temporary table {tmp:?} to {name:?}"),
        None,
    ));
    if legacy {
        p.statements.push(Statement::new(
            "PRAGMA legacy_alter_table = OFF".into(),
            "check views and triggers on renames again".into(),
            None,
        ));
    }
    for i in to.indexes.iter().filter(|i| !is_autoindex(i)) {
        p.statements.push(add_index(schema, name, i));
    }
    // Dropping the old table dropped its triggers: those not created anew by the plan come back.
    if let Some(s) = realm.schemas.iter().find(|s| s.name == schema) {
        let key = name_key(d, name);
        for t in &s.triggers {
            if name_key(d, &t.table) == key
                && !rebuilt.contains(&(key.clone().into_owned(), t.name.clone()))
            {
                p.statements.push(create_trigger(schema, t));
            }
        }
    }
}

#[cfg(test)]
mod tests;
