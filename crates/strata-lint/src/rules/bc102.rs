//! BC102: renaming a column breaks the applications that still use the old name (Atlas `incompatible`).

use super::q;
use crate::check::{Hit, StmtCx, renames};
use crate::names::TableKey;
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "BC102",
    name: "renaming-column",
    analyzer: Analyzer::Incompatible,
    summary: "A column of an existing table is renamed, which breaks clients that use the old name",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    for (table, from, to) in renames(cx.dialect(), cx.parsed).columns {
        let key = TableKey {
            schema: None,
            name: table,
        };
        if !cx.is_new(&key) {
            out.push(
                Hit::new(format!("Renaming column {} to {}", q(&from), q(&to))).fix(format!(
                    "Add column {} beside {}, copy the values, and drop {} once no client reads it",
                    q(&to),
                    q(&from),
                    q(&from)
                )),
            );
        }
    }
}
