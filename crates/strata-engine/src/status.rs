//! `migrate status`: what is applied and what is pending, computed by the same code as `apply` — including
//! `--baseline`, `--allow-dirty` and an existing but empty revisions table — so the two never disagree. Read-only:
//! no lock, no table creation.

use serde_json::{Value, json};
use strata_driver::ConnectOptions;
use strata_migrate::plan::{self, ExecOrder, PendingOptions};
use strata_migrate::{MigrationDir, MigrationFile, Revision, scan, sum};

use crate::report::FileRef;
use crate::{EngineError, driver_name, target_info};

/// Options of `migrate status`.
#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    /// `--revisions-schema`.
    pub revisions_schema: Option<String>,
    /// `--baseline`.
    pub baseline: Option<String>,
    /// `--allow-dirty`.
    pub allow_dirty: bool,
    /// `--exec-order`.
    pub exec_order: ExecOrder,
    /// Connection options.
    pub connect: ConnectOptions,
}

/// The outcome of `migrate status`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// `true` when nothing is pending (`OK`), `false` for `PENDING`.
    pub ok: bool,
    /// The current version, if any file is applied.
    pub current: Option<String>,
    /// The next version to apply, if any.
    pub next: Option<String>,
    /// Pending files, in the order apply would run them.
    pub pending: Vec<FileRef>,
    /// Revisions read from the table.
    pub applied: Vec<Revision>,
    /// Atlas's text block.
    pub text: String,
    /// Atlas's JSON object.
    pub json: Value,
}

/// Reads the status of `dir` on the database at `url`.
pub async fn status(
    dir: &MigrationDir,
    url: &str,
    opts: &StatusOptions,
) -> Result<StatusReport, EngineError> {
    sum::validate(dir)?;
    let mut drv = strata_driver::connect_with(url, &opts.connect).await?;
    let result = read(&mut *drv, dir, opts).await;
    let closed = drv.close().await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn read(
    drv: &mut dyn strata_driver::Driver,
    dir: &MigrationDir,
    opts: &StatusOptions,
) -> Result<StatusReport, EngineError> {
    let loc = drv
        .revisions_location(opts.revisions_schema.as_deref())
        .await?;
    let revisions = if drv.revisions_table_exists(&loc).await? {
        drv.read_revisions(&loc).await?
    } else {
        Vec::new()
    };
    let dirty_reason = if revisions.is_empty() && !opts.allow_dirty && opts.baseline.is_none() {
        drv.check_clean(&loc).await?
    } else {
        None
    };
    let popts = PendingOptions {
        baseline: opts.baseline.clone(),
        allow_dirty: opts.allow_dirty,
        exec_order: opts.exec_order,
        dirty_reason,
    };
    let dialect = drv.dialect();
    let st = plan::status(dir.files(), &revisions, &popts, |f: &MigrationFile| {
        Ok::<_, EngineError>(scan::split(dialect, f.name(), f.text()?)?.len())
    })?;
    let files =
        |v: &[&MigrationFile]| -> Vec<Value> { v.iter().map(|f| json!(FileRef::of(f))).collect() };
    let mut obj = serde_json::Map::new();
    obj.insert(
        "Env".into(),
        json!({ "Driver": driver_name(dialect), "URL": target_info(drv), "Dir": dir.location() }),
    );
    let mut put = |k: &str, v: Value| {
        let empty = match &v {
            Value::Array(a) => a.is_empty(),
            Value::String(s) => s.is_empty(),
            Value::Number(n) => n.as_i64() == Some(0),
            _ => false,
        };
        if !empty {
            obj.insert(k.into(), v);
        }
    };
    put("Available", Value::Array(files(&st.available)));
    put("OutOfOrder", Value::Array(files(&st.out_of_order)));
    put("Pending", Value::Array(files(&st.pending)));
    put(
        "Applied",
        Value::Array(st.applied.iter().map(|r| revision_json(r)).collect()),
    );
    put("Current", json!(st.current));
    put("Next", json!(st.next));
    put("Count", json!(st.count));
    put("Total", json!(st.total));
    put("Status", json!(st.status.as_str()));
    put("Error", json!(st.error));
    put("SQL", json!(st.sql));
    Ok(StatusReport {
        ok: st.pending.is_empty() && st.out_of_order.is_empty(),
        current: st.current_version().map(str::to_owned),
        next: st.next_version().map(str::to_owned),
        pending: st.pending.iter().map(|f| FileRef::of(f)).collect(),
        applied: st.applied.iter().map(|r| (*r).clone()).collect(),
        text: st.render(false),
        json: Value::Object(obj),
    })
}

/// A revision as Atlas's status JSON shows it (no hashes).
fn revision_json(r: &Revision) -> Value {
    let executed_at = jiff::Timestamp::from_nanosecond(r.executed_at_unix_nanos)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut v = json!({
        "Version": r.version,
        "Description": r.description,
        "Type": r.kind.to_string(),
        "Applied": r.applied,
        "Total": r.total,
        "ExecutedAt": executed_at,
        "ExecutionTime": r.execution_time_nanos,
    });
    if !r.error.is_empty() {
        v["Error"] = json!(r.error);
    }
    if !r.error_stmt.is_empty() {
        v["ErrorStmt"] = json!(r.error_stmt);
    }
    v["OperatorVersion"] = json!(r.operator_version);
    v
}
