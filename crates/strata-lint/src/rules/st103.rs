//! ST103: a key column of 32 bits or less (squawk's `prefer-bigint-over-int`, for keys): it runs out.

use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption, Statement, TableConstraint};
use strata_schema::TypeKind;

use super::q;
use super::sql::{column_type, custom_name};
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::state::column_of;

pub(crate) static RULE: Rule = Rule {
    code: "ST103",
    name: "prefer-bigint-keys",
    analyzer: Analyzer::Types,
    summary: "A primary key or identity column is smaller than bigint and can run out of values",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

/// The type's name when it is a 16- or 32-bit integer (or `serial`, `smallserial`).
fn small_int(cx: &StmtCx<'_>, c: &ColumnDef) -> Option<String> {
    if let Some(n) = custom_name(&c.data_type)
        && matches!(n.as_str(), "serial" | "serial4" | "serial2" | "smallserial")
    {
        return Some(n);
    }
    let ty = column_type(cx.dialect(), &c.data_type);
    matches!(ty.kind, TypeKind::Integer { bits, .. } if bits < 64).then_some(ty.raw)
}

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let d = cx.dialect();
    let (table, cols, pk): (String, Vec<&ColumnDef>, Vec<String>) = match cx.ast() {
        Some(Statement::CreateTable(ct)) => (
            names::last(d, &ct.name),
            ct.columns.iter().collect(),
            ct.constraints
                .iter()
                .filter_map(|c| match c {
                    TableConstraint::PrimaryKey(pk) => Some(pk),
                    _ => None,
                })
                .flat_map(|pk| {
                    pk.columns
                        .iter()
                        .filter_map(|c| column_of(d, &c.column.expr))
                })
                .collect(),
        ),
        Some(Statement::AlterTable(at)) => (
            names::last(d, &at.name),
            at.operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                    _ => None,
                })
                .collect(),
            Vec::new(),
        ),
        _ => return,
    };
    for c in cols {
        let name = names::ident(d, &c.name);
        let key = pk.contains(&name)
            || c.options.iter().any(|o| {
                matches!(
                    o.option,
                    ColumnOption::PrimaryKey(_)
                        | ColumnOption::Generated { .. }
                        | ColumnOption::Identity(_)
                )
            })
            || custom_name(&c.data_type).is_some_and(|n| n.contains("serial"));
        if !key {
            continue;
        }
        if let Some(ty) = small_int(cx, c) {
            out.push(
                Hit::new(format!(
                    "Key column {} of table {} is {}, which runs out of values at 2,147,483,647 or less",
                    q(&name),
                    q(&table),
                    q(&ty)
                ))
                .fix("Use bigint (bigint GENERATED ALWAYS AS IDENTITY, or bigserial)"),
            );
        }
    }
}
