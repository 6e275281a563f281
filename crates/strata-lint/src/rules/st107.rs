//! ST107: `BEGIN` / `COMMIT` in a file that already runs in a transaction (squawk's `transaction-nesting`): the
//! `COMMIT` ends the runner's transaction early, so a later failure leaves the file half applied.

use sqlparser::ast::Statement;

use crate::check::{Hit, StmtCx};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST107",
    name: "transaction-nesting",
    analyzer: Analyzer::Risky,
    summary: "BEGIN or COMMIT in a file that already runs in a transaction",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if !cx.file.runs_in_transaction() {
        return;
    }
    let what = match cx.ast() {
        Some(Statement::StartTransaction { .. }) => "BEGIN",
        Some(Statement::Commit { .. }) => "COMMIT",
        Some(Statement::Rollback { .. }) => "ROLLBACK",
        _ => return,
    };
    out.push(
        Hit::new(format!(
            "{what} inside a file that already runs in a transaction ends or nests the runner's transaction"
        ))
        .fix("Remove it, or say -- atlas:txmode none in the file header to manage transactions yourself"),
    );
}
