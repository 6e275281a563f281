//! ST106: `TRUNCATE … CASCADE` also empties every table that references the truncated ones (squawk's
//! `ban-truncate-cascade`).

use sqlparser::ast::{CascadeOption, Statement};

use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST106",
    name: "ban-truncate-cascade",
    analyzer: Analyzer::Risky,
    summary: "TRUNCATE … CASCADE empties every referencing table too, recursively",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if let Some(Statement::Truncate(t)) = cx.ast()
        && t.cascade == Some(CascadeOption::Cascade)
    {
        out.push(
            Hit::new("TRUNCATE … CASCADE also empties every table that references these tables, recursively")
                .fix("Truncate the referencing tables explicitly, by name"),
        );
    }
}
