//! PG303: `SET NOT NULL` on an existing table scans every row under an exclusive lock, unless a validated
//! `CHECK (c IS NOT NULL)` already proves it (PostgreSQL 12+).

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG303",
    name: "set-not-null-scans-table",
    analyzer: Analyzer::Rewrite,
    summary: "SET NOT NULL on an existing table scans every row while blocking reads and writes",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    for op in ops {
        let AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetNotNull,
        } = op
        else {
            continue;
        };
        let col = names::ident(cx.dialect(), column_name);
        if cx.state.has_not_null_check(&t, &col) {
            continue;
        }
        out.push(
            Hit::new(format!(
                "Setting column {} NOT NULL on table {} scans the whole table while blocking reads and writes",
                q(&col),
                q(&t.name)
            ))
            .fix(format!(
                "Add CHECK ({} IS NOT NULL) NOT VALID, VALIDATE it in a later statement, then SET NOT NULL",
                q(&col)
            )),
        );
    }
}
