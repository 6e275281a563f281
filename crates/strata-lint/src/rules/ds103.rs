//! DS103: dropping columns that hold data (Atlas `destructive`); virtual generated columns hold none.

use strata_schema::{Change, TableChange};

use super::and_list;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "DS103",
    name: "drop-column",
    analyzer: Analyzer::Destructive,
    summary: "A non-virtual column of an existing table is dropped, with its values",
    default_level: Level::Error,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

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
    let dropped: Vec<&str> = changes
        .iter()
        .filter_map(|c| match c {
            TableChange::DropColumn { column }
                if column.generated.as_ref().is_none_or(|g| g.stored) =>
            {
                Some(column.name.as_str())
            }
            _ => None,
        })
        .collect();
    let list = and_list(&dropped);
    match dropped.len() {
        0 => {}
        1 => out.push(
            Hit::new(format!("Dropping non-virtual column {list}")).fix(format!(
                "Add a pre-migration check to ensure column {list} is NULL before dropping it"
            )),
        ),
        _ => out.push(
            Hit::new(format!("Dropping non-virtual columns {list}")).fix(format!(
                "Add pre-migration checks to ensure columns {list} are NULL before dropping them"
            )),
        ),
    }
}
