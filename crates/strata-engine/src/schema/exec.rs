//! Running a [`Plan`] on a database, and desired-state SQL files on a dev database.

use serde::Serialize;
use strata_driver::url::Target;
use strata_driver::{DbUrl, Driver, DriverError};
use strata_migrate::directive::TxMode;
use strata_schema::Plan;

use super::SchemaError;

/// What a plan run did, in the shape of Atlas's `schema apply` JSON (`Changes`): statements without their `;`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaApplyReport {
    /// Statements that ran (and, in a transaction, were committed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
    /// Statements that did not run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    /// The statement that failed and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PlanStmtError>,
}

/// A failed plan statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PlanStmtError {
    /// The statement (empty when the commit failed).
    pub stmt: String,
    /// The database's message, with what became of the rest.
    pub text: String,
}

impl std::fmt::Display for PlanStmtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a plan runs: `file` (one transaction around every statement where DDL is transactional; MySQL commits
/// each DDL statement anyway) or `none`. `all` means `file` here: a plan is one unit.
fn transactional(drv: &dyn Driver, mode: TxMode) -> bool {
    mode != TxMode::None && drv.transactional_ddl()
}

/// Runs `plan` on the database at `url` (see [`apply_plan_on`]).
pub async fn apply_plan(
    url: &DbUrl,
    plan: &Plan,
    tx_mode: TxMode,
) -> Result<SchemaApplyReport, SchemaError> {
    let mut drv = strata_driver::connect(url).await?;
    let r = apply_plan_on(drv.as_mut(), plan, tx_mode).await;
    let closed = drv.close().await;
    let report = r?;
    closed?;
    Ok(report)
}

/// Runs `plan` on an open connection.
///
/// In a transaction (`tx_mode` `file` on PostgreSQL and SQLite) every statement commits together or none does —
/// except statements that cannot run in a transaction block ([`strata_schema::Statement::outside_transaction`]:
/// `CREATE/DROP INDEX CONCURRENTLY`), which run on their own between the transactions of the statements around
/// them; when one fails its [`strata_schema::Statement::cleanup`] runs, and what committed before it stays.
/// On SQLite, [`Plan::needs_foreign_keys_off`] and [`Plan::foreign_key_check`] are honoured by the driver's
/// transaction: enforcement is switched off *before* `BEGIN` (inside a transaction the pragma does nothing) and
/// back on after, and `PRAGMA foreign_key_check` runs before `COMMIT`, rolling back and naming the rows it finds.
/// Without a transaction (`none`) enforcement is switched off around the statements, and no check runs.
pub async fn apply_plan_on(
    drv: &mut dyn Driver,
    plan: &Plan,
    tx_mode: TxMode,
) -> Result<SchemaApplyReport, SchemaError> {
    let mut report = SchemaApplyReport::default();
    if plan.statements.is_empty() {
        return Ok(report);
    }
    let tx = transactional(drv, tx_mode);
    let fk_toggle = !tx && plan.needs_foreign_keys_off && sqlite_fk_on(drv.url());
    if fk_toggle {
        drv.execute("PRAGMA foreign_keys = off").await?;
    }
    let outcome = run_units(drv, plan, tx).await;
    if fk_toggle {
        let restored = drv.execute("PRAGMA foreign_keys = on").await;
        if outcome.is_ok() {
            restored?;
        }
    }
    let all = || plan.statements.iter().map(|s| s.sql.clone());
    match outcome {
        Ok(()) => {
            report.applied = all().collect();
            Ok(report)
        }
        // Nothing ran: the connection's error as it is (a lost connection stays retryable for callers).
        Err(f) if f.begin_failed && f.unit_start == 0 => Err(f.error.into()),
        Err(f) => {
            let failed = f.failed.and_then(|i| plan.statements.get(i));
            let what = failed.map_or_else(|| "commit".into(), |s| s.comment.clone());
            let e = f.error;
            let kept = f.unit_start;
            let text = match (f.rolled_back, kept) {
                (true, 0) => {
                    format!("{what}: {e} (the transaction was rolled back: nothing was applied)")
                }
                (true, _) => format!(
                    "{what}: {e} (its transaction was rolled back; the {kept} statement(s) before it were applied \
                     and stay: plan again to continue)"
                ),
                (false, _) => format!(
                    "{what}: {e} ({kept} statement(s) before it were applied and stay; it and the rest did not \
                     run{}: plan again to continue)",
                    if f.cleaned_up {
                        ", and what it left half-built was removed"
                    } else {
                        ""
                    }
                ),
            };
            report.applied = all().take(kept).collect();
            report.pending = all().skip(kept).collect();
            let stmt = failed.map(|s| s.sql.clone()).unwrap_or_default();
            report.error = Some(PlanStmtError { stmt, text });
            Err(SchemaError::Execution(Box::new(report)))
        }
    }
}

/// Where a plan run stopped.
struct UnitFailure {
    /// The failed statement's index (`None` when a commit failed).
    failed: Option<usize>,
    /// The first statement of the unit that failed: everything before it was applied and stays.
    unit_start: usize,
    /// The unit was a transaction, rolled back.
    rolled_back: bool,
    /// The failed statement's cleanup ran.
    cleaned_up: bool,
    /// `BEGIN` failed: no statement of the unit ran.
    begin_failed: bool,
    error: DriverError,
}

/// Runs the plan's units: with `tx`, each run of statements that may share a transaction in one, each
/// [`strata_schema::Statement::outside_transaction`] statement on its own; without, every statement on its own.
async fn run_units(drv: &mut dyn Driver, plan: &Plan, tx: bool) -> Result<(), UnitFailure> {
    let stmts = &plan.statements;
    let mut i = 0;
    while i < stmts.len() {
        if tx && !stmts[i].outside_transaction {
            let end = stmts[i..]
                .iter()
                .position(|s| s.outside_transaction)
                .map_or(stmts.len(), |n| i + n);
            let fail = |failed, error| UnitFailure {
                failed,
                unit_start: i,
                rolled_back: true,
                cleaned_up: false,
                begin_failed: false,
                error,
            };
            if let Err(e) = drv.begin().await {
                return Err(UnitFailure {
                    begin_failed: true,
                    ..fail(Some(i), e)
                });
            }
            for (k, s) in stmts.iter().enumerate().take(end).skip(i) {
                if let Err(e) = drv.execute(&s.sql).await {
                    let _ = drv.rollback().await;
                    return Err(fail(Some(k), e));
                }
            }
            drv.commit().await.map_err(|e| fail(None, e))?;
            i = end;
        } else {
            let s = &stmts[i];
            if let Err(error) = drv.execute(&s.sql).await {
                let mut cleaned_up = false;
                if let Some(c) = &s.cleanup {
                    cleaned_up = drv.execute(c).await.is_ok();
                }
                return Err(UnitFailure {
                    failed: Some(i),
                    unit_start: i,
                    rolled_back: false,
                    cleaned_up,
                    begin_failed: false,
                    error,
                });
            }
            i += 1;
        }
    }
    Ok(())
}

/// Whether the URL is a SQLite one with foreign-key enforcement on (`_fk=1`).
fn sqlite_fk_on(url: &DbUrl) -> bool {
    matches!(&url.target, Target::Sqlite(s) if s.foreign_keys)
}

/// Runs one desired-state SQL file on a dev connection, statement by statement, split by the dialect's rules. A
/// failure names `file:line` and keeps the database's message.
pub(crate) async fn run_sql_file(
    drv: &mut dyn Driver,
    file: &str,
    content: &str,
) -> Result<(), SchemaError> {
    let stmts = strata_migrate::scan::split(drv.dialect(), file, content)?;
    for s in stmts {
        if let Err(e) = drv.execute(&s.text).await {
            let message = match e {
                DriverError::Sql { message, .. } => message,
                other => other.to_string(),
            };
            return Err(SchemaError::SqlFile {
                file: file.to_owned(),
                line: s.line,
                message,
            });
        }
    }
    Ok(())
}

/// The whole of Atlas's `schema apply --format '{{ json . }}'` document: driver, target URL (no credentials),
/// the changes and the error text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaApplyJson {
    /// Atlas's driver name (`postgres`, `mysql`, `sqlite3`).
    pub driver: &'static str,
    /// The target as Atlas serialises URLs.
    #[serde(rename = "URL")]
    pub url: crate::report::UrlInfo,
    /// Applied, pending and the failed statement; `{}` when there was nothing to do.
    pub changes: SchemaApplyReport,
    /// The error text, when the run failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SchemaApplyJson {
    /// The document for a run on `url`.
    pub fn new(url: &DbUrl, changes: SchemaApplyReport, error: Option<String>) -> Self {
        let parts = url.parts();
        SchemaApplyJson {
            driver: crate::driver_name(url.dialect()),
            url: crate::report::UrlInfo {
                scheme: parts.scheme,
                user: parts.has_user,
                host: parts.host,
                path: parts.path,
                raw_query: parts.query,
                fragment: parts.fragment,
                schema: url.bound_schema().unwrap_or_default().to_owned(),
                ..Default::default()
            },
            changes,
            error,
        }
    }
}
