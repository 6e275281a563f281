//! ST111: `timestamp` without time zone (squawk's `prefer-timestamptz`).

use sqlparser::ast::{DataType, TimezoneInfo};

use super::q;
use super::sql::new_columns;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST111",
    name: "prefer-timestamptz",
    analyzer: Analyzer::Types,
    summary: "A column is timestamp without time zone, which stores wall-clock times that shift with the session zone",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let d = cx.dialect();
    for (table, c) in new_columns(cx) {
        if let DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) =
            c.data_type
        {
            out.push(
                Hit::new(format!(
                    "Column {} of table {} is timestamp without time zone",
                    q(&names::ident(d, &c.name)),
                    q(&table)
                ))
                .fix("Use timestamptz (timestamp with time zone)"),
            );
        }
    }
}
