//! MF101: a unique index over columns that already hold data (Atlas `data_depend`).

use strata_schema::{Change, TableChange};

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "MF101",
    name: "unique-index-on-existing-columns",
    analyzer: Analyzer::DataDepend,
    summary: "A unique index is added over existing columns, which fails if they hold duplicates",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    let Change::ModifyTable {
        schema,
        from,
        to,
        changes,
    } = cx.change
    else {
        return;
    };
    if cx.is_new(schema, &to.name) {
        return;
    }
    for c in changes {
        let TableChange::AddIndex { index } = c else {
            continue;
        };
        if !index.unique {
            continue;
        }
        let existing: Vec<String> = index
            .parts
            .iter()
            .filter_map(|p| p.column_name())
            .filter(|c| from.columns.iter().any(|fc| fc.name == *c))
            .map(q)
            .collect();
        let (what, verb) = match existing.len() {
            0 => continue,
            1 => ("column", "contains"),
            _ => ("columns", "contain"),
        };
        let cols = existing.join(", ");
        out.push(
            Hit::new(format!(
                "Adding a unique index {} on table {} might fail in case {what} {cols} {verb} duplicate entries",
                q(&index.name),
                q(&to.name),
            ))
            .fix(format!(
                "Add a pre-migration check to ensure {what} {cols} {} no duplicate values before adding the index",
                if existing.len() == 1 { "has" } else { "have" }
            )),
        );
    }
}
