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
    /// The statement cannot run inside a transaction block (PostgreSQL's `CREATE INDEX CONCURRENTLY` and
    /// `DROP INDEX CONCURRENTLY`): it runs on its own, and a migration file holding it runs without a
    /// transaction (`-- atlas:txmode none`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_transaction: bool,
    /// What to run when this statement fails outside a transaction, so it leaves nothing half-built (a failed
    /// `CREATE INDEX CONCURRENTLY` leaves an invalid index behind; this drops it when, and only when, it is
    /// invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
}

impl Statement {
    /// A statement that runs inside the plan's transaction and destroys nothing.
    pub fn new(sql: String, comment: String, reverse: Option<String>) -> Self {
        Statement {
            sql,
            comment,
            reverse,
            destructive: Vec::new(),
            outside_transaction: false,
            cleanup: None,
        }
    }
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

    /// Whether every statement may run inside a transaction (none is [`Statement::outside_transaction`]).
    pub fn transactional(&self) -> bool {
        !self.statements.iter().any(|s| s.outside_transaction)
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

/// Delimiters a migration file may switch to when `;` cannot separate its statements (MySQL routine bodies
/// the scanner cannot see the end of), tried in order; the first that no statement contains and that splits
/// the file back into exactly the plan's statements is used.
const DELIMITERS: [&str; 4] = ["$$", "//", "@@", "~~"];

impl Plan {
    /// The plan as the migration file `migrate diff` writes, in Atlas's layout: per statement
    /// `-- <Comment capitalised>\n<sql>;\n`, no header, no trailing blank line. The file is split back with
    /// the dialect's scanner (as `migrate apply` will split it); when that does not give exactly the plan's
    /// statements, the file starts with `-- atlas:delimiter <d>` and a blank line, and each statement ends with
    /// `<d>` instead of `;`. A plan with a statement that cannot run in a transaction
    /// ([`Plan::transactional`]) starts with `-- atlas:txmode none` (after the delimiter line, when there is one)
    /// and a blank line, so `migrate apply` runs it as the plan runs.
    pub fn to_migration_file(&self) -> Result<String, PlanError> {
        let txmode = if self.transactional() {
            ""
        } else {
            "-- atlas:txmode none\n"
        };
        let plain = match txmode {
            "" => self.to_sql(),
            header => format!("{header}\n{}", self.to_sql()),
        };
        if self.splits_back(&plain, ";") {
            return Ok(plain);
        }
        for d in DELIMITERS {
            if self.statements.iter().any(|s| s.sql.contains(d)) {
                continue;
            }
            let mut out = format!("-- atlas:delimiter {d}\n{txmode}\n");
            for s in &self.statements {
                out.push_str("-- ");
                out.push_str(&capitalise(&s.comment));
                out.push('\n');
                out.push_str(&s.sql);
                out.push_str(d);
                out.push('\n');
            }
            if self.splits_back(&out, "") {
                return Ok(out);
            }
        }
        let first = self
            .statements
            .iter()
            .find(|s| s.sql.contains(';'))
            .or(self.statements.first());
        Err(PlanError::Unsupported {
            dialect: dialect_label(self.dialect),
            what: format!(
                "write the statement {:?} to a migration file that splits back into the same statements",
                first.map(|s| s.comment.as_str()).unwrap_or_default()
            ),
            hint: "write this change by hand in a file with its own `-- atlas:delimiter`",
        })
    }

    /// Whether `file` splits into exactly this plan's statements, each followed by `terminator`.
    fn splits_back(&self, file: &str, terminator: &str) -> bool {
        let Ok(stmts) = strata_migrate::scan::split(self.dialect, "plan.sql", file) else {
            return false;
        };
        stmts.len() == self.statements.len()
            && stmts
                .iter()
                .zip(&self.statements)
                .all(|(got, want)| got.text.trim() == format!("{}{terminator}", want.sql.trim()))
    }
}

fn dialect_label(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
        Dialect::Sqlite => "SQLite",
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

/// How to write a plan's statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Indentation of `CREATE TABLE` bodies (Atlas's `--format '{{ sql . "  " }}'`): non-empty puts every
    /// column and constraint on its own line under it, the closing parenthesis on a line of its own. Empty
    /// (the default) writes the body on one line.
    pub indent: String,
    /// Qualify every name with its schema even when the changes touch one schema (`migrate diff --qualifier`).
    /// PostgreSQL and SQLite qualify by the schema's name anyway (PostgreSQL's empty name and SQLite's `main`
    /// are written without one); MySQL leaves a lone schema out unless this is set.
    pub qualify: bool,
    /// Build and drop indexes of existing PostgreSQL tables without blocking writes (`diff.concurrent_index`,
    /// `policy.diff.concurrent_index`); the other dialects have no such statement and ignore it.
    pub concurrent_index: ConcurrentIndex,
}

/// Which index statements on existing PostgreSQL tables use `CONCURRENTLY`. Indexes of tables the plan creates
/// never do (an empty table blocks nobody, and the table's statements stay in the plan's transaction); neither
/// do indexes behind constraints (`UNIQUE`/`PRIMARY KEY` constraints are `ALTER TABLE` clauses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConcurrentIndex {
    /// `CREATE INDEX CONCURRENTLY` (Atlas's `create`, or its older `add`).
    pub create: bool,
    /// `DROP INDEX CONCURRENTLY`.
    pub drop: bool,
}

impl PlanOptions {
    /// Sets [`PlanOptions::indent`].
    pub fn indent(mut self, indent: impl Into<String>) -> Self {
        self.indent = indent.into();
        self
    }

    /// Sets [`PlanOptions::qualify`].
    pub fn qualify(mut self, qualify: bool) -> Self {
        self.qualify = qualify;
        self
    }

    /// Sets [`PlanOptions::concurrent_index`].
    pub fn concurrent_index(mut self, c: ConcurrentIndex) -> Self {
        self.concurrent_index = c;
        self
    }
}

/// Plans `changes`; `to` is the desired realm they lead to (the planner reads the objects that must be rebuilt
/// with a changed table from it, such as an SQLite table's triggers).
pub fn plan(changes: &Changes, to: &Realm) -> Result<Plan, PlanError> {
    plan_with(changes, to, &PlanOptions::default())
}

/// [`plan`] with [`PlanOptions`].
pub fn plan_with(changes: &Changes, to: &Realm, opts: &PlanOptions) -> Result<Plan, PlanError> {
    match changes.dialect {
        Dialect::Sqlite => sqlite::plan_with(changes, to, opts),
        Dialect::Postgres => postgres::plan_with(changes, to, opts),
        Dialect::Mysql => {
            let mut o = mysql::Options::for_changes(changes);
            o.qualify |= opts.qualify;
            o.indent.clone_from(&opts.indent);
            mysql::plan_with(changes, to, o)
        }
    }
}

/// A parenthesised list of `CREATE TABLE` items: `(a, b)` on one line without `indent`, else one item per line
/// under `indent` and the closing parenthesis on its own line (Atlas's indented layout).
pub(crate) fn wrap_items(items: &[String], indent: &str) -> String {
    if indent.is_empty() {
        return format!("({})", items.join(", "));
    }
    let mut s = String::from("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('\n');
        s.push_str(indent);
        s.push_str(item);
    }
    s.push_str("\n)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Check, Column, Schema, Table};
    use crate::types::ColumnType;

    fn st(sql: &str, comment: &str) -> Statement {
        Statement::new(sql.into(), comment.into(), None)
    }

    #[test]
    fn items_wrap_inline_or_one_per_line() {
        let items = vec!["`a` int NULL".to_string(), "PRIMARY KEY (`a`)".to_string()];
        assert_eq!(wrap_items(&items, ""), "(`a` int NULL, PRIMARY KEY (`a`))");
        assert_eq!(
            wrap_items(&items, "  "),
            "(\n  `a` int NULL,\n  PRIMARY KEY (`a`)\n)"
        );
        assert_eq!(wrap_items(&items[..1], "\t"), "(\n\t`a` int NULL\n)");
    }

    /// The golden of Atlas's MySQL `check` test, `--format '{{ sql . "  " }}'` (authoring-compat.md §1.5).
    #[test]
    fn indented_create_table_matches_atlas_mysql_golden() {
        let d = Dialect::Mysql;
        let mut t = Table::new("t1");
        t.columns = vec![
            Column::new("name", ColumnType::parse(d, "varchar(20)")),
            Column::new("age", ColumnType::parse(d, "int")),
        ];
        t.checks = vec![
            Check::new(
                Some("t1_check"),
                "((`name` <> _utf8mb4'a') or (`age` > 10))",
            ),
            Check::new(
                Some("t1_chk_1"),
                "(`name` in (_utf8mb4'a',_utf8mb4'b',_utf8mb4'c'))",
            ),
            Check::new(Some("t1_chk_2"), "(`age` > 0)"),
        ];
        t.options.charset = Some("utf8mb4".into());
        t.options.collation = Some("utf8mb4_0900_ai_ci".into());
        let mut s = Schema::new("test");
        s.charset = Some("utf8mb4".into());
        s.collation = Some("utf8mb4_0900_ai_ci".into());
        let mut from = Realm::new(d);
        from.schemas = vec![s.clone()];
        s.tables = vec![t];
        let mut to = Realm::new(d);
        to.schemas = vec![s];
        let changes = crate::diff(&from, &to, &crate::DiffOptions::default()).unwrap();
        let p = plan_with(&changes, &to, &PlanOptions::default().indent("  ")).unwrap();
        assert_eq!(
            p.to_migration_file().unwrap(),
            "-- Create \"t1\" table\nCREATE TABLE `t1` (\n  `name` varchar(20) NULL,\n  `age` int NULL,\n  \
             CONSTRAINT `t1_check` CHECK ((`name` <> _utf8mb4'a') or (`age` > 10)),\n  \
             CONSTRAINT `t1_chk_1` CHECK (`name` in (_utf8mb4'a',_utf8mb4'b',_utf8mb4'c')),\n  \
             CONSTRAINT `t1_chk_2` CHECK (`age` > 0)\n) CHARSET utf8mb4 COLLATE utf8mb4_0900_ai_ci;\n"
        );
        // The same plan unindented stays on one line, and --qualifier's flag names the schema.
        let p = plan_with(&changes, &to, &PlanOptions::default().qualify(true)).unwrap();
        assert!(
            p.statements[0]
                .sql
                .starts_with("CREATE TABLE `test`.`t1` (`name` varchar(20) NULL, `age` int NULL, "),
            "{}",
            p.statements[0].sql
        );
    }

    #[test]
    fn migration_files_use_a_delimiter_only_when_semicolons_cannot_split_them() {
        let mut p = Plan::new(Dialect::Mysql);
        p.statements = vec![
            st("CREATE TABLE `t` (`c` int NULL)", "create \"t\" table"),
            st(
                "CREATE PROCEDURE `p` () BEGIN\n  IF 1 THEN SELECT 1; END IF;\nEND",
                "create \"p\" procedure",
            ),
        ];
        // The scanner sees the end of a BEGIN … END block: plain layout.
        assert_eq!(
            p.to_migration_file().unwrap(),
            "-- Create \"t\" table\nCREATE TABLE `t` (`c` int NULL);\n-- Create \"p\" procedure\n\
             CREATE PROCEDURE `p` () BEGIN\n  IF 1 THEN SELECT 1; END IF;\nEND;\n"
        );
        // A statement holding a `;` the scanner would split at: a delimiter header, the statements end with it.
        p.statements.push(st(
            "CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO INSERT INTO t VALUES (1); ",
            "create \"e\" event",
        ));
        p.statements[2].sql =
            "CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1; SELECT 2".into();
        let file = p.to_migration_file().unwrap();
        assert_eq!(
            file,
            "-- atlas:delimiter $$\n\n-- Create \"t\" table\nCREATE TABLE `t` (`c` int NULL)$$\n\
             -- Create \"p\" procedure\nCREATE PROCEDURE `p` () BEGIN\n  IF 1 THEN SELECT 1; END IF;\nEND$$\n\
             -- Create \"e\" event\nCREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1; SELECT 2$$\n"
        );
        // … and the next candidate when a statement contains `$$`.
        p.statements[2].sql =
            "CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT '$$'; SELECT 2".into();
        assert!(
            p.to_migration_file()
                .unwrap()
                .starts_with("-- atlas:delimiter //\n\n")
        );
    }
}
