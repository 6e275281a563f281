//! Plans: the ordered statements that carry out [`Changes`], one folder per dialect.
//!
//! Each [`Statement`] has an Atlas-style comment (lower-case here, capitalised by [`Plan::to_sql`] like Atlas's
//! formatter), its reverse where one exists, and what it destroys. Conditions the executor must set up around
//! the statements are plan-level flags ([`Plan::needs_foreign_keys_off`], [`Plan::foreign_key_check`]), since
//! some cannot be statements inside the transaction (SQLite ignores `PRAGMA foreign_keys` there).

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use serde::{Deserialize, Serialize};
use strata_migrate::Dialect;

use crate::diff::Changes;
use crate::model::Realm;

/// The ordered statements of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The dialect the statements are written in.
    #[serde(with = "crate::model::dialect_serde")]
    pub dialect: Dialect,
    /// Foreign-key enforcement must be off while the statements run, switched off *before* the transaction
    /// opens (SQLite's table copy: with enforcement on, dropping the old table deletes every `ON DELETE
    /// CASCADE` child row).
    pub needs_foreign_keys_off: bool,
    /// `PRAGMA foreign_key_check` must find nothing before the transaction commits (roll back otherwise).
    pub foreign_key_check: bool,
    /// The statements in execution order.
    pub statements: Vec<Statement>,
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The SQL, without a trailing `;`.
    pub sql: String,
    /// Atlas-style lower-case comment (`create "t" table`).
    pub comment: String,
    /// The statement that undoes this one, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse: Option<String>,
    /// What this statement destroys (drops of schemas, tables, columns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destructive: Vec<Loss>,
}

/// Something a statement destroys, with its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    /// A schema with everything in it.
    Schema {
        /// Its name.
        name: String,
    },
    /// A table and its rows.
    Table {
        /// Its schema.
        schema: String,
        /// Its name.
        name: String,
    },
    /// A column and its values.
    Column {
        /// Its schema.
        schema: String,
        /// Its table.
        table: String,
        /// Its name.
        name: String,
    },
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loss::Schema { name } => write!(f, "drop schema {name:?}"),
            Loss::Table { name, .. } => write!(f, "drop table {name:?}"),
            Loss::Column { table, name, .. } => {
                write!(f, "drop column {name:?} of table {table:?}")
            }
        }
    }
}

impl Plan {
    /// An empty plan.
    pub fn new(dialect: Dialect) -> Self {
        Plan {
            dialect,
            needs_foreign_keys_off: false,
            foreign_key_check: false,
            statements: Vec::new(),
        }
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Every drop of a schema, table or column the plan makes, in statement order.
    pub fn destructive(&self) -> Vec<&Loss> {
        self.statements
            .iter()
            .flat_map(|s| &s.destructive)
            .collect()
    }

    /// Whether every statement has a reverse.
    pub fn reversible(&self) -> bool {
        self.statements.iter().all(|s| s.reverse.is_some())
    }

    /// The plan as an Atlas migration file body: `-- <Comment capitalised>\n<sql>;\n` per statement.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for s in &self.statements {
            out.push_str("-- ");
            out.push_str(&capitalise(&s.comment));
            out.push('\n');
            out.push_str(&s.sql);
            out.push_str(";\n");
        }
        out
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `tables` (schema, table) in an order where a referenced table comes before the tables whose foreign keys
/// reference it; tables in a reference cycle keep their given order among themselves (each planner closes cycles
/// its own way). `key(schema, name)` is the dialect's name identity, applied alike to tables and to the targets
/// of their foreign keys. Depth-first, iterative: a chain of any length needs no call stack.
pub(crate) fn order_by_references<'a, K: Eq + std::hash::Hash>(
    tables: Vec<(&'a str, &'a crate::model::Table)>,
    key: impl Fn(&str, &str) -> K,
) -> Vec<(&'a str, &'a crate::model::Table)> {
    let pos: std::collections::HashMap<K, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, (s, t))| (key(s, &t.name), i))
        .collect();
    // 0: not reached, 1: on the current path, 2: placed.
    let mut state = vec![0u8; tables.len()];
    let mut out = Vec::with_capacity(tables.len());
    // (table, index of its next foreign key to follow)
    let mut path: Vec<(usize, usize)> = Vec::new();
    for root in 0..tables.len() {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        path.push((root, 0));
        while let Some(&(i, next)) = path.last() {
            match tables[i].1.foreign_keys.get(next) {
                Some(f) => {
                    if let Some(top) = path.last_mut() {
                        top.1 += 1;
                    }
                    if let Some(&j) = pos.get(&key(&f.ref_schema, &f.ref_table))
                        && state[j] == 0
                    {
                        state[j] = 1;
                        path.push((j, 0));
                    }
                }
                None => {
                    state[i] = 2;
                    out.push(tables[i]);
                    path.pop();
                }
            }
        }
    }
    out
}

/// Why a change set cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The dialect cannot express the change.
    #[error("{dialect} cannot {what}: {hint}")]
    Unsupported {
        /// The dialect.
        dialect: &'static str,
        /// What was asked.
        what: String,
        /// What to do instead.
        hint: &'static str,
    },
}

/// Plans `changes`; `to` is the desired realm they lead to (the planner reads the objects that must be rebuilt
/// with a changed table from it, such as an SQLite table's triggers).
pub fn plan(changes: &Changes, to: &Realm) -> Result<Plan, PlanError> {
    match changes.dialect {
        Dialect::Sqlite => sqlite::plan(changes, to),
        Dialect::Postgres => postgres::plan(changes, to),
        Dialect::Mysql => mysql::plan(changes, to),
    }
}
