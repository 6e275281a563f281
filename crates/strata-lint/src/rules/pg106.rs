//! PG106: adding an exclusion constraint to an existing table builds its index under an exclusive lock (there is
//! no `USING INDEX` form).

use sqlparser::ast::{AlterTableOperation, TableConstraint};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG106",
    name: "exclusion-constraint-lock",
    analyzer: Analyzer::TableLock,
    summary: "An exclusion constraint is added to an existing table, blocking reads and writes while its index builds",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    for op in ops {
        if let AlterTableOperation::AddConstraint {
            constraint: TableConstraint::Exclude(_),
            ..
        } = op
        {
            out.push(Hit::new(format!(
                "Adding an exclusion constraint to table {} builds its index while blocking reads and writes",
                q(&t.name)
            )).fix("Add the constraint when the table is created, or in a maintenance window"));
        }
    }
}
