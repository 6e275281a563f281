//! MF102: an index made unique (Atlas `data_depend`).

use strata_schema::{Change, ChangeKind, TableChange};

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "MF102",
    name: "index-made-unique",
    analyzer: Analyzer::DataDepend,
    summary: "An existing index is made unique, which fails if its columns hold duplicates",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    let Change::ModifyTable { to, changes, .. } = cx.change else {
        return;
    };
    for c in changes {
        if let TableChange::ModifyIndex { from, to: ix, what } = c
            && what.contains(ChangeKind::UNIQUE)
            && !from.unique
            && ix.unique
        {
            out.push(
                Hit::new(format!(
                    "Modifying an index {} on table {} might fail in case of duplicate entries",
                    q(&ix.name),
                    q(&to.name)
                ))
                .fix(format!(
                    "Add a pre-migration check to ensure the columns of index {} hold no duplicate values before making it unique",
                    q(&ix.name)
                )),
            );
        }
    }
}
