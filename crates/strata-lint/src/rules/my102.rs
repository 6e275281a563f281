//! MY102: MySQL parses and ignores a column's inline `REFERENCES` (Atlas's MySQL check).

use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption, Statement};

use super::q;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, MYSQL, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "MY102",
    name: "mysql-inline-references",
    analyzer: Analyzer::InlineRef,
    summary: "MySQL: a column's inline REFERENCES creates no foreign key",
    default_level: Level::Warning,
    dialects: MYSQL,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let d = cx.dialect();
    let (table, cols): (String, Vec<&ColumnDef>) = match cx.ast() {
        Some(Statement::CreateTable(ct)) => (names::last(d, &ct.name), ct.columns.iter().collect()),
        Some(Statement::AlterTable(at)) => (
            names::last(d, &at.name),
            at.operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                    _ => None,
                })
                .collect(),
        ),
        _ => return,
    };
    for c in cols {
        if c.options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::ForeignKey(_)))
        {
            out.push(
                Hit::new(format!(
                    "Defining column {} on table {} with inline REFERENCES is ignored by MySQL",
                    q(&names::ident(d, &c.name)),
                    q(&table)
                ))
                .fix("Declare the key as a table constraint: FOREIGN KEY (column) REFERENCES table (column)"),
            );
        }
    }
}
