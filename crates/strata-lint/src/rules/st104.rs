//! ST104: in a file that runs outside a transaction (`-- atlas:txmode none`), a statement that fails when the file
//! runs again after a partial run (squawk's `prefer-robust-stmts`): use `IF [NOT] EXISTS`.

use sqlparser::ast::{AlterTableOperation, ObjectType, Statement};

use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::source::Parsed;

pub(crate) static RULE: Rule = Rule {
    code: "ST104",
    name: "prefer-robust-stmts",
    analyzer: Analyzer::Risky,
    summary: "Outside a transaction, a CREATE or DROP without IF [NOT] EXISTS fails when the file is run again",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if cx.in_transaction() {
        return;
    }
    let what = match &cx.parsed {
        Parsed::Ast(Statement::CreateTable(ct)) if !ct.if_not_exists => {
            "CREATE TABLE without IF NOT EXISTS"
        }
        Parsed::Ast(Statement::CreateIndex(ci))
        | Parsed::DropIndexConcurrently(Statement::CreateIndex(ci))
            if !ci.if_not_exists =>
        {
            "CREATE INDEX without IF NOT EXISTS"
        }
        Parsed::Ast(Statement::Drop {
            object_type: ObjectType::Table | ObjectType::Index,
            if_exists: false,
            ..
        })
        | Parsed::DropIndexConcurrently(Statement::Drop {
            if_exists: false, ..
        }) => "DROP without IF EXISTS",
        Parsed::Ast(Statement::AlterTable(at))
            if at.operations.iter().any(|op| {
                matches!(
                    op,
                    AlterTableOperation::AddColumn {
                        if_not_exists: false,
                        ..
                    } | AlterTableOperation::DropColumn {
                        if_exists: false,
                        ..
                    }
                )
            }) =>
        {
            "ADD or DROP COLUMN without IF [NOT] EXISTS"
        }
        _ => return,
    };
    out.push(
        Hit::new(format!(
            "{what} fails when the file runs again after a partial run: it runs outside a transaction"
        ))
        .fix("Add IF NOT EXISTS / IF EXISTS so the file can be re-run"),
    );
}
