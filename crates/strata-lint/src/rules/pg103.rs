//! PG103: `CONCURRENTLY` inside a transaction, which PostgreSQL refuses: the file runs in one unless its header says
//! `-- atlas:txmode none`.

use sqlparser::ast::{AlterTableOperation, DetachPartitionMode, Statement};

use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::source::{OtherStatement, Parsed};

pub(crate) static RULE: Rule = Rule {
    code: "PG103",
    name: "ban-concurrent-index-creation-in-transaction",
    analyzer: Analyzer::ConcurrentIndex,
    summary: "A CONCURRENTLY statement runs inside a transaction, where PostgreSQL refuses it",
    default_level: Level::Error,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let what = match &cx.parsed {
        Parsed::Ast(Statement::CreateIndex(ci)) if ci.concurrently => "CREATE INDEX CONCURRENTLY",
        Parsed::DropIndexConcurrently(_) => "DROP INDEX CONCURRENTLY",
        Parsed::Other(OtherStatement::Reindex { concurrently: true }) => "REINDEX CONCURRENTLY",
        Parsed::Ast(Statement::AlterTable(at))
            if at.operations.iter().any(|op| {
                matches!(
                    op,
                    AlterTableOperation::DetachPartitionOf {
                        mode: Some(DetachPartitionMode::Concurrently),
                        ..
                    }
                )
            }) =>
        {
            "DETACH PARTITION CONCURRENTLY"
        }
        _ => return,
    };
    if !cx.in_transaction() {
        return;
    }
    let why = if cx.state.explicit_transaction {
        "inside the transaction the file's BEGIN opened"
    } else {
        "inside the transaction the file runs in"
    };
    out.push(
        Hit::new(format!("{what} cannot run {why}: PostgreSQL refuses it"))
            .fix("Put the statement in its own file whose header says -- atlas:txmode none (followed by a blank line)"),
    );
}
