//! ST112: `char(n)` pads with spaces and saves nothing in PostgreSQL (squawk's `ban-char-field`).

use sqlparser::ast::DataType;

use super::q;
use super::sql::new_columns;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST112",
    name: "ban-char-field",
    analyzer: Analyzer::Types,
    summary: "A column is char(n), which pads values with spaces",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let d = cx.dialect();
    for (table, c) in new_columns(cx) {
        if let DataType::Char(_) | DataType::Character(_) = c.data_type {
            out.push(
                Hit::new(format!(
                    "Column {} of table {} is char(n), which pads every value with spaces",
                    q(&names::ident(d, &c.name)),
                    q(&table)
                ))
                .fix("Use text (with a CHECK on its length if one is needed)"),
            );
        }
    }
}
