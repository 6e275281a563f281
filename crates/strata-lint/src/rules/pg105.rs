//! PG105: adding a unique constraint to an existing table builds its index under an exclusive lock.

use sqlparser::ast::{AlterTableOperation, ColumnOption, TableConstraint};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG105",
    name: "unique-constraint-without-index",
    analyzer: Analyzer::TableLock,
    summary: "A unique constraint is added to an existing table without an existing index, blocking reads and writes while the index builds",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    for op in ops {
        let name = match op {
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::Unique(u),
                ..
            } => u.name.as_ref().map(|n| n.value.clone()),
            AlterTableOperation::AddColumn { column_def, .. }
                if column_def
                    .options
                    .iter()
                    .any(|o| matches!(o.option, ColumnOption::Unique(_))) =>
            {
                None
            }
            _ => continue,
        };
        let what = name
            .map(|n| format!("unique constraint {}", q(&n)))
            .unwrap_or_else(|| "a unique constraint".into());
        out.push(
            Hit::new(format!(
                "Adding {what} to table {} builds its index while blocking reads and writes",
                q(&t.name)
            ))
            .fix("Create a unique index CONCURRENTLY first, then ADD CONSTRAINT … UNIQUE USING INDEX"),
        );
    }
}
