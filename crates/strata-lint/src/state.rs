//! What the statements before the current one did, as far as the rules care: tables and indexes made in the file,
//! timeouts set, an open `BEGIN`, columns known to be nullable, `CHECK (c IS NOT NULL)` constraints added.

use std::collections::{HashMap, HashSet};

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, Set, Statement, TableConstraint,
};
use strata_migrate::Dialect;

use crate::names::{self, TableKey};
use crate::source::Parsed;

/// The file's state before a statement.
#[derive(Debug, Default, Clone)]
pub struct FileState {
    /// Tables created in the file, by name → the schemas they were qualified with (`None`: unqualified).
    created: HashMap<String, Vec<Option<String>>>,
    /// Indexes created in the file, by name.
    created_indexes: HashSet<String>,
    /// `SET lock_timeout` ran.
    pub lock_timeout: bool,
    /// `SET statement_timeout` ran.
    pub statement_timeout: bool,
    /// A statement already changed an existing table (the timeout rules report the first one only).
    pub touched_existing: bool,
    /// Inside an explicit `BEGIN` … `COMMIT`.
    pub explicit_transaction: bool,
    /// Columns the file left nullable (added without `NOT NULL`, or `DROP NOT NULL`), by table name.
    nullable: HashSet<(String, String)>,
    /// Columns the file gave a `CHECK (c IS NOT NULL)`, by table name.
    not_null_checks: HashSet<(String, String)>,
}

impl FileState {
    /// Whether `t` was created earlier in the file.
    pub fn is_new(&self, t: &TableKey) -> bool {
        self.created.get(&t.name).is_some_and(|schemas| {
            schemas
                .iter()
                .any(|s| s.is_none() || t.schema.is_none() || *s == t.schema)
        })
    }

    /// Whether index `name` was created earlier in the file.
    pub fn is_new_index(&self, name: &str) -> bool {
        self.created_indexes.contains(name)
    }

    /// Whether the file left `column` of `t` nullable.
    pub fn known_nullable(&self, t: &TableKey, column: &str) -> bool {
        self.nullable.contains(&(t.name.clone(), column.to_owned()))
    }

    /// Whether the file added a `CHECK (column IS NOT NULL)` to `t`.
    pub fn has_not_null_check(&self, t: &TableKey, column: &str) -> bool {
        self.not_null_checks
            .contains(&(t.name.clone(), column.to_owned()))
    }

    fn create(&mut self, t: TableKey) {
        self.created.entry(t.name).or_default().push(t.schema);
    }

    /// Records what the statement did. `touches_existing` tells whether it changed a table that existed before the file.
    pub fn observe(&mut self, d: Dialect, parsed: &Parsed, touches_existing: bool) {
        self.touched_existing |= touches_existing;
        let Some(ast) = parsed.ast() else {
            return;
        };
        match ast {
            Statement::CreateTable(ct) => {
                let t = names::table(d, &ct.name);
                for c in &ct.columns {
                    let not_null = c.options.iter().any(|o| {
                        matches!(
                            o.option,
                            ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                        )
                    });
                    if !not_null {
                        self.nullable
                            .insert((t.name.clone(), names::ident(d, &c.name)));
                    }
                }
                self.create(t);
            }
            Statement::CreateIndex(ci) => {
                if let Some(n) = &ci.name {
                    self.created_indexes.insert(names::last(d, n));
                }
            }
            Statement::AlterTable(at) => {
                let t = names::table(d, &at.name);
                for op in &at.operations {
                    self.observe_op(d, &t, op);
                }
            }
            Statement::Set(Set::SingleAssignment { variable, .. }) => {
                match names::last(Dialect::Postgres, variable).as_str() {
                    "lock_timeout" => self.lock_timeout = true,
                    "statement_timeout" => self.statement_timeout = true,
                    _ => {}
                }
            }
            Statement::StartTransaction { .. } => self.explicit_transaction = true,
            Statement::Commit { .. } | Statement::Rollback { .. } => {
                self.explicit_transaction = false
            }
            _ => {}
        }
    }

    fn observe_op(&mut self, d: Dialect, t: &TableKey, op: &AlterTableOperation) {
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let not_null = column_def.options.iter().any(|o| {
                    matches!(
                        o.option,
                        ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                    )
                });
                if !not_null {
                    self.nullable
                        .insert((t.name.clone(), names::ident(d, &column_def.name)));
                }
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::DropNotNull,
            } => {
                self.nullable
                    .insert((t.name.clone(), names::ident(d, column_name)));
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetNotNull,
            } => {
                self.nullable
                    .remove(&(t.name.clone(), names::ident(d, column_name)));
            }
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::Check(c),
                ..
            } => {
                if let Expr::IsNotNull(inner) = c.expr.as_ref()
                    && let Some(col) = column_of(d, inner)
                {
                    self.not_null_checks.insert((t.name.clone(), col));
                }
            }
            AlterTableOperation::RenameTable {
                table_name:
                    sqlparser::ast::RenameTableNameKind::As(n)
                    | sqlparser::ast::RenameTableNameKind::To(n),
            } if self.is_new(t) => self.create(names::table(d, n)),
            _ => {}
        }
    }
}

/// The column an expression is, when it is a plain (possibly qualified) column reference.
pub fn column_of(d: Dialect, e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(names::ident(d, i)),
        Expr::CompoundIdentifier(p) => p.last().map(|i| names::ident(d, i)),
        Expr::Nested(inner) => column_of(d, inner),
        _ => None,
    }
}
