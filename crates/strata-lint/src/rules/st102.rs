//! ST102: a statement that locks an existing table runs with no `statement_timeout` set (squawk's `require-statement-timeout`). Reported
//! once, at the first such statement of the file.

use super::q;
use crate::check::{Hit, StmtCx, touches_existing_table};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST102",
    name: "require-statement-timeout",
    analyzer: Analyzer::Timeouts,
    summary: "A statement locks an existing table with no statement_timeout set",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if cx.state.statement_timeout || cx.state.touched_existing || !touches_existing_table(cx) {
        return;
    }
    out.push(
        Hit::new(format!(
            "Statement locks an existing table with no {} set: it can run for as long as the table is large while holding its lock",
            q("statement_timeout")
        ))
        .fix("Add SET statement_timeout = '5min'; before the first statement that locks a table"),
    );
}
