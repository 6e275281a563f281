//! ST101: a statement that locks an existing table runs with no `lock_timeout` set (squawk's `require-lock-timeout`). Reported
//! once, at the first such statement of the file.

use super::q;
use crate::check::{Hit, StmtCx, touches_existing_table};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST101",
    name: "require-lock-timeout",
    analyzer: Analyzer::Timeouts,
    summary: "A statement locks an existing table with no lock_timeout set",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if cx.state.lock_timeout || cx.state.touched_existing || !touches_existing_table(cx) {
        return;
    }
    out.push(
        Hit::new(format!(
            "Statement locks an existing table with no {} set: it can queue behind a long-running query and hold up every query on the table behind it",
            q("lock_timeout")
        ))
        .fix("Add SET lock_timeout = '2s'; before the first statement that locks a table"),
    );
}
