//! DS101: dropping a schema (Atlas `destructive`).

use strata_schema::Change;

use super::q;
use crate::check::{ChangeCx, Hit};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "DS101",
    name: "drop-schema",
    analyzer: Analyzer::Destructive,
    summary: "A schema is dropped, with every table in it",
    default_level: Level::Error,
    dialects: ALL_DIALECTS,
    check: Check::Change(check),
};

fn check(cx: &ChangeCx<'_>, out: &mut Vec<Hit>) {
    let Change::DropSchema { schema } = cx.change else {
        return;
    };
    let name = q(&schema.name);
    out.push(
        Hit::new(match schema.tables.len() {
            0 => format!("Dropping schema {name}"),
            1 => format!("Dropping non-empty schema {name} with 1 table"),
            n => format!("Dropping non-empty schema {name} with {n} tables"),
        })
        .fix(format!(
            "Add a pre-migration check to ensure schema {name} holds no data you need before dropping it"
        )),
    );
}
