//! PG306: a foreign key added to an existing table without `NOT VALID` scans it while blocking writes on both
//! tables.

use sqlparser::ast::{AlterTableOperation, TableConstraint};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG306",
    name: "foreign-key-missing-not-valid",
    analyzer: Analyzer::Rewrite,
    summary: "A foreign key is added to an existing table without NOT VALID, scanning it while blocking writes on both tables",
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
            constraint: TableConstraint::ForeignKey(fk),
            not_valid: false,
        } = op
        else {
            continue;
        };
        let what = fk
            .name
            .as_ref()
            .map(|n| format!("foreign key {}", q(&n.value)))
            .unwrap_or_else(|| "a foreign key".into());
        out.push(
            Hit::new(format!(
                "Adding {what} to table {} without NOT VALID scans it while blocking writes on {} and {}",
                q(&t.name),
                q(&t.name),
                q(&names::last(cx.dialect(), &fk.foreign_table))
            ))
            .fix("Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a later statement"),
        );
    }
}
