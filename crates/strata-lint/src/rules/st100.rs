//! ST100: a statement the parser could not read; no statement rule checked it.

use crate::check::{Hit, StmtCx};
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};
use crate::source::Parsed;

pub(crate) static RULE: Rule = Rule {
    code: "ST100",
    name: "unparsed-statement",
    analyzer: Analyzer::Syntax,
    summary: "A statement could not be parsed, so no statement rule checked it",
    default_level: Level::Warning,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    if let Parsed::Failed(message) = &cx.parsed {
        out.push(
            Hit::new(format!("Statement could not be parsed, so it was not checked: {message}"))
                .fix("Check the statement's syntax, or mute this code with -- atlas:nolint ST100 above it"),
        );
    }
}
