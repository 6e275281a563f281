//! PG101: `CREATE INDEX` without `CONCURRENTLY` on an existing table blocks its writes while the index builds.

use sqlparser::ast::Statement;

use super::q;
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG101",
    name: "require-concurrent-index-creation",
    analyzer: Analyzer::ConcurrentIndex,
    summary: "An index is built on an existing table without CONCURRENTLY, blocking writes until it is done",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let d = cx.dialect();
    let Some(Statement::CreateIndex(ci)) = cx.ast() else {
        return;
    };
    let t = names::table(d, &ci.table_name);
    if ci.concurrently || cx.is_new(&t) {
        return;
    }
    let index = ci
        .name
        .as_ref()
        .map(|n| format!("index {}", q(&names::last(d, n))))
        .unwrap_or_else(|| "an index".into());
    out.push(
        Hit::new(format!(
            "Creating {index} non-concurrently blocks writes to table {} until the index is built",
            q(&t.name)
        ))
        .fix("Use CREATE INDEX CONCURRENTLY, in a file whose header says -- atlas:txmode none"),
    );
}
