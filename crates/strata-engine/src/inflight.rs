//! Recovery of the statement an interrupted run left in flight (the marker and the pure decision are in
//! [`strata_migrate::inflight`]; the catalog look-ups are the driver's).
//!
//! Order matters: the server finishes a statement whose client died, so recovery first waits until the session
//! that ran it is gone (holding the migration lock usually proves that already: the session held it too), then
//! reads the statement's recorded text and looks at the objects it creates or removes.

use std::fmt;
use std::time::{Duration, Instant};

use strata_driver::Driver;
use strata_migrate::Revision;
use strata_migrate::inflight::{self, Check, Decision, Marker, Recovery};
use strata_migrate::scan::Stmt;

use crate::EngineError;
use crate::report::ApplyReport;

/// What became of a statement in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// It took effect: it counts as applied and is not run again. The text says what showed it.
    TookEffect(String),
    /// It did not take effect, or running it again gives the same result: it runs. The text says why.
    Run(String),
}

/// Why recovery could not decide on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undecided {
    /// The session that ran the statement is still on the server, after waiting `waited`.
    StillRunning {
        /// The session (MySQL connection id).
        connection: u64,
        /// How long this run waited for it (`--lock-timeout`).
        waited: Duration,
    },
    /// Nothing available tells; worded to follow "cannot tell whether it took effect: ".
    Unknown(String),
}

/// Decides the in-flight statement `marker` names in `rev`, the row of the file whose statements are `stmts`.
/// Waits up to `wait` for the interrupted session to end. The outer error is the database's; the inner one says
/// why no decision was possible.
pub(crate) async fn resolve(
    drv: &mut dyn Driver,
    stmts: &[Stmt],
    rev: &Revision,
    marker: Marker,
    wait: Duration,
) -> Result<Result<Resolved, Undecided>, EngineError> {
    let unknown = |why: String| Ok(Err(Undecided::Unknown(why)));
    let n = marker.statement;
    if n != rev.applied + 1 {
        return unknown(format!(
            "its row says {} statements were applied but names statement {n} as the one in flight (was the row \
             edited?)",
            rev.applied
        ));
    }
    let Some(stmt) = usize::try_from(n - 1).ok().and_then(|i| stmts.get(i)) else {
        return unknown(format!(
            "the file has {} statements now, so it changed since",
            stmts.len()
        ));
    };
    if stmt.text != rev.error_stmt {
        return unknown(format!(
            "the file changed since: statement {n} now reads differently from the one that ran, recorded as \
             {}",
            strata_migrate::plan::go_quote(&rev.error_stmt)
        ));
    }
    if let Some(id) = marker.connection
        && drv.session_id() != Some(id)
        && !wait_until_gone(drv, id, wait).await?
    {
        return Ok(Err(Undecided::StillRunning {
            connection: id,
            waited: wait,
        }));
    }
    match inflight::classify(drv.dialect(), &rev.error_stmt) {
        Recovery::Rerun { why } => Ok(Ok(Resolved::Run(why.to_owned()))),
        Recovery::Unknown { why } => unknown(why),
        Recovery::Check(checks) => {
            let objects: Vec<_> = checks.iter().map(|c| c.object.clone()).collect();
            let observed = drv.objects_exist(&objects).await?;
            Ok(match inflight::decide(&checks, &observed) {
                Decision::TookEffect => Ok(Resolved::TookEffect(evidence(&checks, true))),
                Decision::NotTaken => Ok(Resolved::Run(evidence(&checks, false))),
                Decision::Unknown(why) => Err(Undecided::Unknown(why)),
            })
        }
    }
}

/// Polls until session `id` has left the server (or the driver cannot tell), at most `wait`. `false`: still there.
async fn wait_until_gone(
    drv: &mut dyn Driver,
    id: u64,
    wait: Duration,
) -> Result<bool, EngineError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(25);
    loop {
        if drv.session_alive(id).await? != Some(true) {
            return Ok(true);
        }
        let left = wait.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(false);
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// `column c of t exists, index i of t exists` (`true`: as after the statement) or the opposite.
fn evidence(checks: &[Check], after: bool) -> String {
    checks
        .iter()
        .map(|c| {
            let exists = c.exists == after;
            format!(
                "{} {}",
                c.object,
                if exists { "exists" } else { "does not exist" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A run stopped because an earlier run left a statement in flight and recovery cannot decide on its own whether
/// it took effect. The message names the file, the statement and the `migrate set` commands that settle it.
#[derive(Debug)]
pub struct InFlightStop {
    /// The file.
    pub file: String,
    /// Its version.
    pub version: String,
    /// 1-based index of the statement in the file.
    pub statement: u64,
    /// Where the statement starts in the file (1-based line and column).
    pub line: usize,
    /// See `line`.
    pub column: usize,
    /// The statement's text.
    pub text: String,
    /// The session that ran it, when recorded.
    pub connection: Option<u64>,
    /// Why no decision was possible.
    pub problem: Undecided,
    /// The run up to here (`error` holds this message).
    pub report: ApplyReport,
}

impl fmt::Display for InFlightStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = format!("[at {}:{}:{}]", self.file, self.line, self.column);
        let file = strata_migrate::plan::go_quote(&self.file);
        let n = self.statement;
        let shown = self.text.replace('\n', "\n       ");
        match &self.problem {
            Undecided::StillRunning { connection, waited } => write!(
                f,
                "sql/migrate: statement {n} of {file} is still running on connection {connection}, started by an \
                 earlier run that stopped {at}\n\n    -> {shown}\n\nWaited {} for it. Wait until the server \
                 finishes it (SHOW PROCESSLIST lists connection {connection}), then apply again: apply then checks \
                 whether it took effect. --lock-timeout sets how long apply waits.",
                crate::godur::format(*waited)
            ),
            Undecided::Unknown(why) => {
                let by = self
                    .connection
                    .map(|c| format!(" (connection {c})"))
                    .unwrap_or_default();
                write!(
                    f,
                    "sql/migrate: cannot tell whether statement {n} of {file} took effect: an earlier run stopped \
                     while it ran{by}, and {why} {at}\n\n    -> {shown}\n\nCheck the database, then record what \
                     happened and apply again (with the --url, --dir and --revisions-schema of this apply):\n  \
                     it took effect:                   strata migrate set {v} --in-flight applied\n  \
                     it did not, or you reverted it:   strata migrate set {v} --in-flight pending",
                    v = self.version
                )
            }
        }
    }
}

impl std::error::Error for InFlightStop {}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_migrate::inflight::{Name, Object};

    fn stop(problem: Undecided) -> InFlightStop {
        InFlightStop {
            file: "20240101000002_add.sql".into(),
            version: "20240101000002".into(),
            statement: 3,
            line: 7,
            column: 1,
            text: "ALTER TABLE t\n  PARTITION BY HASH (id);".into(),
            connection: Some(42),
            problem,
            report: ApplyReport {
                driver: "mysql".into(),
                url: None,
                dir: "file://m".into(),
                pending: Vec::new(),
                applied: Vec::new(),
                current: String::new(),
                target: String::new(),
                start: jiff::Timestamp::UNIX_EPOCH,
                end: jiff::Timestamp::UNIX_EPOCH,
                error: String::new(),
                message: None,
            },
        }
    }

    #[test]
    fn messages_name_the_file_the_statement_and_the_commands() {
        insta::assert_snapshot!(stop(Undecided::Unknown(
            "no clause of it shows in the schema (Strata does not look up the clause PARTITION)".into()
        ))
        .to_string(), @r#"
        sql/migrate: cannot tell whether statement 3 of "20240101000002_add.sql" took effect: an earlier run stopped while it ran (connection 42), and no clause of it shows in the schema (Strata does not look up the clause PARTITION) [at 20240101000002_add.sql:7:1]

            -> ALTER TABLE t
                 PARTITION BY HASH (id);

        Check the database, then record what happened and apply again (with the --url, --dir and --revisions-schema of this apply):
          it took effect:                   strata migrate set 20240101000002 --in-flight applied
          it did not, or you reverted it:   strata migrate set 20240101000002 --in-flight pending
        "#);
        insta::assert_snapshot!(stop(Undecided::StillRunning {
            connection: 42,
            waited: Duration::from_secs(10)
        })
        .to_string(), @r#"
        sql/migrate: statement 3 of "20240101000002_add.sql" is still running on connection 42, started by an earlier run that stopped [at 20240101000002_add.sql:7:1]

            -> ALTER TABLE t
                 PARTITION BY HASH (id);

        Waited 10s for it. Wait until the server finishes it (SHOW PROCESSLIST lists connection 42), then apply again: apply then checks whether it took effect. --lock-timeout sets how long apply waits.
        "#);
    }

    #[test]
    fn evidence_reads_both_ways() {
        let t = Name {
            schema: None,
            name: "t".into(),
        };
        let checks = [
            Check {
                object: Object::Column {
                    table: t.clone(),
                    column: "a".into(),
                },
                exists: true,
            },
            Check {
                object: Object::Column {
                    table: t,
                    column: "b".into(),
                },
                exists: false,
            },
        ];
        assert_eq!(
            evidence(&checks, true),
            "column a of t exists, column b of t does not exist"
        );
        assert_eq!(
            evidence(&checks, false),
            "column a of t does not exist, column b of t exists"
        );
    }
}
