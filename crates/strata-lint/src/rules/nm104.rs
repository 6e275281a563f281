//! NM104: index names must match the configured pattern (off until one is configured).

use super::naming::check_kind;
use crate::check::{Hit, StmtCx};
use crate::config::NameKind;
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "NM104",
    name: "naming-index",
    analyzer: Analyzer::Naming,
    summary: "A new index name does not match the configured pattern",
    default_level: Level::Off,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    check_kind(cx, NameKind::Index, out);
}
