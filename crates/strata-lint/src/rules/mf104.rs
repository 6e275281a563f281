//! MF104: a nullable column made NOT NULL (Atlas `data_depend`); SQLite's variant is LT101.

use strata_schema::{Change, ChangeKind, TableChange};

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{Analyzer, Check, Level, Rule};
use strata_migrate::Dialect;

pub(crate) static RULE: Rule = Rule {
    code: "MF104",
    name: "column-made-not-null",
    analyzer: Analyzer::DataDepend,
    summary: "A nullable column is made NOT NULL, which fails if it holds NULLs",
    default_level: Level::Warning,
    dialects: &[Dialect::Postgres, Dialect::Mysql],
    check: Check::Change(check),
};

/// The columns of a change made NOT NULL that no `UPDATE` of the file fills.
pub(crate) fn made_not_null<'a>(cx: &'a ChangeCx<'_>) -> Vec<&'a strata_schema::Column> {
    let Change::ModifyTable { to, changes, .. } = cx.change else {
        return Vec::new();
    };
    changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ModifyColumn {
                from,
                to: col,
                what,
            } if what.contains(ChangeKind::NULL)
                && from.nullable
                && !col.nullable
                && !cx.is_backfilled(&to.name, &col.name) =>
            {
                Some(col)
            }
            _ => None,
        })
        .collect()
}

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    for col in made_not_null(cx) {
        let name = q(&col.name);
        out.push(
            Hit::new(format!(
                "Modifying nullable column {name} to non-nullable might fail in case it contains NULL values"
            ))
            .fix(format!(
                "Fill the NULL values of column {name} with an UPDATE before this statement, or add a pre-migration check that it has none"
            )),
        );
    }
}
