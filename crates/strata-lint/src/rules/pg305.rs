//! PG305: a `CHECK` constraint added to an existing table without `NOT VALID` scans it under an exclusive lock.

use sqlparser::ast::{AlterTableOperation, TableConstraint};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG305",
    name: "check-constraint-missing-not-valid",
    analyzer: Analyzer::Rewrite,
    summary: "A CHECK constraint is added to an existing table without NOT VALID, scanning it while blocking reads and writes",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    for op in ops {
        let AlterTableOperation::AddConstraint {
            constraint: TableConstraint::Check(c),
            not_valid: false,
        } = op
        else {
            continue;
        };
        let what = c
            .name
            .as_ref()
            .map(|n| format!("check constraint {}", q(&n.value)))
            .unwrap_or_else(|| "a check constraint".into());
        out.push(
            Hit::new(format!(
                "Adding {what} to table {} without NOT VALID scans the whole table while blocking reads and writes",
                q(&t.name)
            ))
            .fix("Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later statement"),
        );
    }
}
