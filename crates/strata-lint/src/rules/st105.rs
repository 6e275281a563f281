//! ST105: `DROP DATABASE` in a migration (squawk's `ban-drop-database`).

use sqlparser::ast::{ObjectType, Statement};

use super::q;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST105",
    name: "ban-drop-database",
    analyzer: Analyzer::Risky,
    summary: "A migration drops a whole database",
    default_level: Level::Error,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some(Statement::Drop {
        object_type: ObjectType::Database,
        names: list,
        ..
    }) = cx.ast()
    else {
        return;
    };
    for n in list {
        out.push(
            Hit::new(format!(
                "Dropping database {}",
                q(&names::last(cx.dialect(), n))
            ))
            .fix("Drop databases by hand, never from a migration"),
        );
    }
}
