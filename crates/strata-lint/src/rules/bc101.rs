//! BC101: renaming a table breaks the applications that still use the old name (Atlas `incompatible`).

use super::q;
use crate::check::{Hit, StmtCx, renames};
use crate::names::TableKey;
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "BC101",
    name: "renaming-table",
    analyzer: Analyzer::Incompatible,
    summary: "An existing table is renamed, which breaks clients that use the old name",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    for (from, to) in renames(cx.dialect(), cx.parsed).tables {
        let key = TableKey {
            schema: None,
            name: from.clone(),
        };
        if !cx.is_new(&key) {
            out.push(
                Hit::new(format!("Renaming table {} to {}", q(&from), q(&to))).fix(format!(
                    "Create a view {} over table {} until no client uses the old name, or keep the old name",
                    q(&from),
                    q(&to)
                )),
            );
        }
    }
}
