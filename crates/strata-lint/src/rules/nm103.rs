//! NM103: column names must match the configured pattern (off until one is configured).

use super::naming::check_kind;
use crate::check::{Hit, StmtCx};
use crate::config::NameKind;
use crate::rule::{ALL_DIALECTS, Analyzer, Check, Level, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "NM103",
    name: "naming-column",
    analyzer: Analyzer::Naming,
    summary: "A new column name does not match the configured pattern",
    default_level: Level::Off,
    dialects: ALL_DIALECTS,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    check_kind(cx, NameKind::Column, out);
}
