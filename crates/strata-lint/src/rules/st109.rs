//! ST109: `VACUUM FULL` and `CLUSTER` rewrite a table under an exclusive lock (squawk's `prefer-repack`).

use sqlparser::ast::Statement;

use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::source::{OtherStatement, Parsed};

pub(crate) static RULE: Rule = Rule {
    code: "ST109",
    name: "prefer-repack",
    analyzer: Analyzer::TableLock,
    summary: "VACUUM FULL or CLUSTER rewrites a table while blocking reads and writes",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let what = match &cx.parsed {
        Parsed::Ast(Statement::Vacuum(v)) if v.full => "VACUUM FULL",
        Parsed::Other(OtherStatement::Cluster) => "CLUSTER",
        _ => return,
    };
    out.push(
        Hit::new(format!(
            "{what} rewrites the table while blocking reads and writes"
        ))
        .fix("Use pg_repack (or pg_squeeze) outside the migration"),
    );
}
