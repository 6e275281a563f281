//! MF103: a non-nullable column without a default added to an existing table (Atlas `data_depend`). On MySQL only
//! for the types MySQL has no implicit value for (date and time, spatial); the others are MY101.

use strata_migrate::Dialect;
use strata_schema::{Change, Column, TableChange, TimeVariant, TypeKind};

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "MF103",
    name: "add-not-null-column",
    analyzer: Analyzer::DataDepend,
    summary: "A NOT NULL column without a default is added to an existing table, which fails if it has rows",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

/// Whether adding `c` leaves existing rows without a value: NOT NULL, no default, not generated or auto-filled.
pub(crate) fn needs_value(c: &Column) -> bool {
    !c.nullable
        && c.default.is_none()
        && c.generated.is_none()
        && c.identity.is_none()
        && !c.auto_increment
}

/// Whether MySQL has no implicit value for the type (adding the column fails instead).
pub(crate) fn mysql_fails(c: &Column) -> bool {
    match &c.ty.kind {
        TypeKind::Time { variant, .. } => {
            matches!(variant, TimeVariant::Date | TimeVariant::Datetime)
        }
        TypeKind::Other => true,
        _ => false,
    }
}

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    let Change::ModifyTable {
        schema,
        to,
        changes,
        ..
    } = cx.change
    else {
        return;
    };
    if cx.is_new(schema, &to.name) {
        return;
    }
    for c in changes {
        let TableChange::AddColumn { column } = c else {
            continue;
        };
        if !needs_value(column) || cx.is_backfilled(&to.name, &column.name) {
            continue;
        }
        if cx.dialect() == Dialect::Mysql && !mysql_fails(column) {
            continue;
        }
        out.push(
            Hit::new(format!(
                "Adding a non-nullable {} column {} will fail in case table {} is not empty",
                q(&column.ty.raw),
                q(&column.name),
                q(&to.name)
            ))
            .fix(format!(
                "Give column {} a default value, or add it as nullable, fill it with an UPDATE and then set it NOT NULL",
                q(&column.name)
            )),
        );
    }
}
