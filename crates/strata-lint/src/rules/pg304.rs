//! PG304: a primary key over nullable columns of an existing table makes them NOT NULL first, which scans the table
//! under an exclusive lock. Nullability comes from the file itself or, in `migrate lint`, the schema before it.

use sqlparser::ast::{AlterTableOperation, TableConstraint};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::state::column_of;

pub(crate) static RULE: Rule = Rule {
    code: "PG304",
    name: "primary-key-on-nullable-columns",
    analyzer: Analyzer::Rewrite,
    summary: "A primary key over nullable columns of an existing table scans it to set them NOT NULL",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    let d = cx.dialect();
    for op in ops {
        let AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey(pk),
            ..
        } = op
        else {
            continue;
        };
        let nullable: Vec<String> = pk
            .columns
            .iter()
            .filter_map(|c| column_of(d, &c.column.expr))
            .filter(|c| {
                cx.state.known_nullable(&t, c) || cx.model_column(&t, c).is_some_and(|m| m.nullable)
            })
            .collect();
        if nullable.is_empty() {
            continue;
        }
        let (word, list, them) = if nullable.len() == 1 {
            ("column", q(&nullable[0]), "it")
        } else {
            ("columns", super::and_list(&nullable), "them")
        };
        out.push(
            Hit::new(format!(
                "Adding a primary key on nullable {word} {list} of table {} sets {them} NOT NULL, which scans the whole table while blocking reads and writes",
                q(&t.name)
            ))
            .fix("Make the columns NOT NULL through a validated CHECK (… IS NOT NULL) constraint first"),
        );
    }
}
