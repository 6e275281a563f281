//! NM106: check names must match the configured pattern (off until one is configured).

use super::naming::check_kind;
use crate::check::{Hit, StmtCx};
use crate::config::NameKind;
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "NM106",
    name: "naming-check",
    analyzer: Analyzer::Naming,
    summary: "A new check name does not match the configured pattern",
    default_level: Level::Off,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    check_kind(cx, NameKind::Check, out);
}
