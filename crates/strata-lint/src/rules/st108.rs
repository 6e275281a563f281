//! ST108: `REINDEX` without `CONCURRENTLY` blocks writes (squawk's `require-concurrent-reindex`).

use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};
use crate::source::{OtherStatement, Parsed};

pub(crate) static RULE: Rule = Rule {
    code: "ST108",
    name: "require-concurrent-reindex",
    analyzer: Analyzer::ConcurrentIndex,
    summary: "REINDEX without CONCURRENTLY blocks writes while the index is rebuilt",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if let Parsed::Other(OtherStatement::Reindex {
        concurrently: false,
    }) = cx.parsed
    {
        out.push(
            Hit::new("REINDEX without CONCURRENTLY blocks writes to the table until the index is rebuilt")
                .fix("Use REINDEX … CONCURRENTLY, in a file whose header says -- atlas:txmode none"),
        );
    }
}
