//! PG302: a new column whose default is volatile (or `serial`, or a stored generated column) rewrites the table
//! under an exclusive lock; a constant or stable default is stored in the catalog instead (PostgreSQL 11+).

use sqlparser::ast::{AlterTableOperation, ColumnOption, GeneratedExpressionMode};

use super::q;
use super::sql::{alter_existing, calls_volatile, is_serial};
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG302",
    name: "adding-field-with-volatile-default",
    analyzer: Analyzer::Rewrite,
    summary: "A column with a volatile default is added to an existing table, rewriting it while blocking reads and writes",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    for op in ops {
        let AlterTableOperation::AddColumn { column_def: c, .. } = op else {
            continue;
        };
        let volatile = is_serial(&c.data_type)
            || c.options.iter().any(|o| match &o.option {
                ColumnOption::Default(e) => calls_volatile(e),
                ColumnOption::Generated {
                    generation_expr: Some(_),
                    generation_expr_mode,
                    ..
                } => !matches!(generation_expr_mode, Some(GeneratedExpressionMode::Virtual)),
                _ => false,
            });
        if volatile {
            out.push(
                Hit::new(format!(
                    "Adding column {} to table {} with a volatile default rewrites the table while blocking reads and writes",
                    q(&names::ident(cx.dialect(), &c.name)),
                    q(&t.name)
                ))
                .fix("Add the column without a default (or with a constant one), then fill it in batches"),
            );
        }
    }
}
