//! LT101: on SQLite, a nullable column made NOT NULL without a default (Atlas `data_depend`): the table copy
//! fails on a NULL.

use super::mf104::made_not_null;
use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{Analyzer, Check, Level, Rule, SQLITE};

pub(crate) static RULE: Rule = Rule {
    code: "LT101",
    name: "sqlite-column-made-not-null",
    analyzer: Analyzer::DataDepend,
    summary: "SQLite: a nullable column is made NOT NULL without a default, which fails if it holds NULLs",
    default_level: Level::Warning,
    dialects: SQLITE,
    check: Check::Change(check),
};

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    for col in made_not_null(cx) {
        if col.default.is_none() {
            let name = q(&col.name);
            out.push(Hit::new(format!(
                "Modifying nullable column {name} to non-nullable without default value might fail in case it contains NULL values"
            )).fix(format!(
                "Give column {name} a default value, or fill its NULL values with an UPDATE before this statement"
            )));
        }
    }
}
