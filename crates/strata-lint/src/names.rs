//! Names as written in statements, compared as the database compares them.

use sqlparser::ast::{Ident, ObjectName};
use strata_migrate::Dialect;

/// A table named in a statement: optional schema and name, each as the database stores it (PostgreSQL folds
/// unquoted names to lower case; SQLite compares ignoring ASCII case; MySQL as written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableKey {
    /// The schema, when the statement qualifies the name.
    pub schema: Option<String>,
    /// The table name.
    pub name: String,
}

impl TableKey {
    /// Whether both name the same table: equal names, and equal schemas where both give one.
    pub fn same(&self, other: &TableKey) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// The stored form of an identifier.
pub fn ident(d: Dialect, i: &Ident) -> String {
    match d {
        Dialect::Postgres if i.quote_style.is_none() => i.value.to_lowercase(),
        Dialect::Postgres | Dialect::Mysql => i.value.clone(),
        Dialect::Sqlite => i.value.to_ascii_lowercase(),
    }
}

/// The parts of an object name, stored form.
pub fn parts(d: Dialect, n: &ObjectName) -> Vec<String> {
    n.0.iter()
        .filter_map(|p| p.as_ident())
        .map(|i| ident(d, i))
        .collect()
}

/// The table an object name denotes.
pub fn table(d: Dialect, n: &ObjectName) -> TableKey {
    let mut p = parts(d, n);
    let name = p.pop().unwrap_or_default();
    TableKey {
        schema: p.pop(),
        name,
    }
}

/// The last part of an object name, stored form (an index or table name without its schema).
pub fn last(d: Dialect, n: &ObjectName) -> String {
    parts(d, n).pop().unwrap_or_default()
}

/// The name as shown in messages: the last part as stored.
pub fn shown(d: Dialect, n: &ObjectName) -> String {
    last(d, n)
}
