//! CD101: dropping a foreign key (Atlas `condrop`).

use strata_schema::{Change, TableChange};

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "CD101",
    name: "drop-foreign-key",
    analyzer: Analyzer::Condrop,
    summary: "A foreign key is dropped: the database stops checking the reference",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    let Change::ModifyTable { changes, .. } = cx.change else {
        return;
    };
    for c in changes {
        if let TableChange::DropForeignKey { fk } = c {
            let name = q(&fk.name);
            out.push(
                Hit::new(format!("Dropping foreign-key constraint {name}")).fix(format!(
                    "Make sure nothing relies on foreign key {name} to keep the rows consistent before dropping it"
                )),
            );
        }
    }
}
