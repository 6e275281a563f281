//! PG104: adding a primary key to an existing table builds its index under an exclusive lock.

use sqlparser::ast::{AlterTableOperation, ColumnOption, TableConstraint};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG104",
    name: "primary-key-without-index",
    analyzer: Analyzer::TableLock,
    summary: "A primary key is added to an existing table without an existing index, blocking reads and writes while the index builds",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    let adds = ops.iter().any(|op| match op {
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey(_),
            ..
        } => true,
        AlterTableOperation::AddColumn { column_def, .. } => column_def
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_))),
        _ => false,
    });
    if adds {
        out.push(
            Hit::new(format!(
                "Adding a primary key to table {} builds its index while blocking reads and writes",
                q(&t.name)
            ))
            .fix("Create a unique index CONCURRENTLY first, then ADD CONSTRAINT … PRIMARY KEY USING INDEX"),
        );
    }
}
