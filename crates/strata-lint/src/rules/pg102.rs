//! PG102: `DROP INDEX` without `CONCURRENTLY` takes an exclusive lock on the index's table.

use sqlparser::ast::{ObjectType, Statement};

use super::q;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::source::Parsed;

pub(crate) static RULE: Rule = Rule {
    code: "PG102",
    name: "require-concurrent-index-deletion",
    analyzer: Analyzer::ConcurrentIndex,
    summary: "An existing index is dropped without CONCURRENTLY, blocking reads and writes of its table",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Parsed::Ast(Statement::Drop {
        object_type: ObjectType::Index,
        names: list,
        ..
    }) = &cx.parsed
    else {
        return;
    };
    for n in list {
        let name = names::last(cx.dialect(), n);
        if cx.state.is_new_index(&name) {
            continue;
        }
        out.push(
            Hit::new(format!(
                "Dropping index {} non-concurrently blocks reads and writes of its table until it is gone",
                q(&name)
            ))
            .fix("Use DROP INDEX CONCURRENTLY, in a file whose header says -- atlas:txmode none"),
        );
    }
}
