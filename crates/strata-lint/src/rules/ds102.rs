//! DS102: dropping a table (Atlas `destructive`).

use strata_schema::Change;

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "DS102",
    name: "drop-table",
    analyzer: Analyzer::Destructive,
    summary: "A table that existed before the file is dropped, with its rows",
    default_level: Level::Error,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    let Change::DropTable { schema, table } = cx.change else {
        return;
    };
    if cx.is_new(schema, &table.name) {
        return;
    }
    let t = q(&table.name);
    out.push(Hit::new(format!("Dropping table {t}")).fix(format!(
        "Add a pre-migration check to ensure table {t} is empty before dropping it"
    )));
}
