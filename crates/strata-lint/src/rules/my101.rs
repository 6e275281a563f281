//! MY101: MySQL fills a new NOT NULL column without a default with the type's implicit value (Atlas
//! `data_depend`).

use strata_schema::{Change, TableChange, TimeVariant, TypeKind};

use super::mf103::{mysql_fails, needs_value};
use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{Analyzer, Check, Level, MYSQL, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "MY101",
    name: "mysql-implicit-default",
    analyzer: Analyzer::DataDepend,
    summary: "A NOT NULL column without a default is added; MySQL fills existing rows with the type's zero value",
    default_level: Level::Warning,
    dialects: MYSQL,
    check: Check::Change(check),
};

/// The value MySQL gives existing rows, as Atlas spells it.
fn implicit_value(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Integer { .. }
        | TypeKind::Decimal { .. }
        | TypeKind::Float { .. }
        | TypeKind::Bool => "0".into(),
        TypeKind::Enum { values } => values.first().cloned().unwrap_or_default(),
        TypeKind::Time { variant, .. } => match variant {
            TimeVariant::Time => "00:00:00".into(),
            TimeVariant::Year => "0000".into(),
            TimeVariant::Timestamp | TimeVariant::TimestampTz => "CURRENT_TIMESTAMP".into(),
            _ => "0000-00-00 00:00:00".into(),
        },
        _ => "\"\"".into(),
    }
}

/// The type's name without its arguments (`varchar`, `int`).
fn base_name(raw: &str) -> &str {
    raw.split(['(', ' ']).next().unwrap_or(raw)
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
        if !needs_value(column) || mysql_fails(column) {
            continue;
        }
        out.push(
            Hit::new(format!(
                "Adding a non-nullable {} column {} on table {} without a default value implicitly sets existing rows with {}",
                q(base_name(&column.ty.raw)),
                q(&column.name),
                q(&to.name),
                implicit_value(&column.ty.kind)
            ))
            .fix(format!(
                "Give column {} an explicit DEFAULT so existing rows get a value you chose",
                q(&column.name)
            )),
        );
    }
}
