//! ST110: `DETACH PARTITION` without `CONCURRENTLY` blocks the parent table (squawk's
//! `require-concurrent-partition-detach`).

use sqlparser::ast::{AlterTableOperation, DetachPartitionMode};

use super::q;
use super::sql::alter_existing;
use crate::check::{Hit, StmtCx};
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "ST110",
    name: "require-concurrent-partition-detach",
    analyzer: Analyzer::ConcurrentIndex,
    summary: "DETACH PARTITION without CONCURRENTLY blocks reads and writes of the partitioned table",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    for op in ops {
        if let AlterTableOperation::DetachPartitionOf { mode, .. } = op
            && *mode != Some(DetachPartitionMode::Concurrently)
        {
            out.push(
                Hit::new(format!(
                    "Detaching a partition of table {} without CONCURRENTLY blocks its reads and writes",
                    q(&t.name)
                ))
                .fix("Use DETACH PARTITION … CONCURRENTLY, in a file whose header says -- atlas:txmode none"),
            );
        }
    }
}
