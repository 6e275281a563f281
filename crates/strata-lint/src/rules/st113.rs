//! ST113: names longer than 63 bytes, which PostgreSQL silently truncates (squawk's `identifier-too-long`).

use super::naming::declared_names;
use super::q;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST113",
    name: "identifier-too-long",
    analyzer: Analyzer::Types,
    summary: "A name is longer than 63 bytes; PostgreSQL cuts it short without an error",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

/// PostgreSQL's `NAMEDATALEN - 1`.
const MAX: usize = 63;

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    for (kind, name) in declared_names(cx) {
        if name.len() > MAX {
            out.push(
                Hit::new(format!(
                    "The {} name {} is {} bytes long; PostgreSQL keeps only the first {MAX}",
                    kind.word(),
                    q(&name),
                    name.len()
                ))
                .fix("Use a name of at most 63 bytes"),
            );
        }
    }
}
