//! `migrate status`: what is applied and what is pending, computed by the same code as `apply` — including
//! `--baseline`, `--allow-dirty` and an existing but empty revisions table — so the two never disagree. Read-only:
//! no lock, no table creation.

use serde::Serialize;
use serde_json::{Value, json};
use strata_driver::ConnectOptions;
use strata_migrate::plan::{self, ExecOrder, PendingOptions, StatusSummary};
use strata_migrate::{MigrationDir, MigrationFile, Revision, scan, sum};

use crate::report::{FileRef, UrlInfo};
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

/// The outcome of `migrate status`: typed data, rendered at the edge ([`StatusReport::to_text`],
/// [`StatusReport::to_json`]), like [`ApplyReport`](crate::report::ApplyReport).
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
    /// Where the status was read: driver, target (without credentials) and directory.
    pub env: StatusEnv,
    /// The files status compares against (Atlas's `Available`).
    pub available: Vec<FileRef>,
    /// Files added out of order, when the `linear` exec order stops the computation.
    pub out_of_order: Vec<FileRef>,
    /// What Atlas's text block shows: the status word, `Current`/`Next` as Atlas words them, statement counts of
    /// a partial file, the last error.
    pub summary: StatusSummary,
}

/// Atlas's `Env` object of the status JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusEnv {
    /// Atlas's driver name (`postgres`, `mysql`, `sqlite3`).
    pub driver: String,
    /// The target, without credentials.
    #[serde(rename = "URL")]
    pub url: UrlInfo,
    /// The directory's location; front ends put the directory as the user gave it.
    pub dir: String,
}

impl StatusReport {
    /// Atlas's text block, byte for byte.
    pub fn to_text(&self) -> String {
        self.summary.render(false)
    }

    /// Atlas's JSON object: `Env` first, then the non-empty fields in Atlas's order.
    pub fn to_json(&self) -> Value {
        let files = |v: &[FileRef]| -> Value { Value::Array(v.iter().map(|f| json!(f)).collect()) };
        let s = &self.summary;
        let mut obj = serde_json::Map::new();
        obj.insert("Env".into(), json!(self.env));
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
        put("Available", files(&self.available));
        put("OutOfOrder", files(&self.out_of_order));
        put("Pending", files(&self.pending));
        put(
            "Applied",
            Value::Array(self.applied.iter().map(revision_json).collect()),
        );
        put("Current", json!(s.current));
        put("Next", json!(s.next));
        put("Count", json!(s.count));
        put("Total", json!(s.total));
        put("Status", json!(s.status.as_str()));
        put("Error", json!(s.error));
        put("SQL", json!(s.sql));
        Value::Object(obj)
    }
}

impl Serialize for StatusReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Reads the status of `dir` on the database at `url`.
pub async fn status(
    dir: &MigrationDir,
    url: &strata_driver::DbUrl,
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
        |v: &[&MigrationFile]| -> Vec<FileRef> { v.iter().map(|f| FileRef::of(f)).collect() };
    Ok(StatusReport {
        ok: st.pending.is_empty() && st.out_of_order.is_empty(),
        current: st.current_version().map(str::to_owned),
        next: st.next_version().map(str::to_owned),
        pending: files(&st.pending),
        applied: st.applied.iter().map(|r| (*r).clone()).collect(),
        env: StatusEnv {
            driver: driver_name(dialect).to_owned(),
            url: target_info(drv),
            dir: dir.location().to_owned(),
        },
        available: files(&st.available),
        out_of_order: files(&st.out_of_order),
        summary: st.summary(),
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

#[cfg(test)]
mod tests {
    use strata_migrate::RevisionType;
    use strata_migrate::plan::StatusWord;

    use super::*;

    fn file(v: &str, d: &str) -> FileRef {
        FileRef {
            name: format!("{v}_{d}.sql"),
            version: v.into(),
            description: d.into(),
        }
    }

    fn report(summary: StatusSummary) -> StatusReport {
        StatusReport {
            ok: false,
            current: None,
            next: None,
            pending: vec![file("2", "b"), file("3", "c")],
            applied: Vec::new(),
            env: StatusEnv {
                driver: "postgres".into(),
                url: UrlInfo {
                    scheme: "postgres".into(),
                    user: true,
                    host: "localhost:5432".into(),
                    path: "/app".into(),
                    raw_query: "sslmode=disable".into(),
                    ..UrlInfo::default()
                },
                dir: "file://migrations".into(),
            },
            available: vec![file("2", "b"), file("3", "c")],
            out_of_order: Vec::new(),
            summary,
        }
    }

    fn first_run() -> StatusSummary {
        StatusSummary {
            status: StatusWord::Pending,
            current: plan::NO_MIGRATION_APPLIED_YET.into(),
            next: "2".into(),
            count: 0,
            total: 0,
            executed: 0,
            pending: 2,
            out_of_order: 0,
            error: String::new(),
            sql: String::new(),
            from_checkpoint: false,
        }
    }

    #[test]
    fn first_run_text_and_json() {
        let r = report(first_run());
        insta::assert_snapshot!(r.to_text(), @r"
        Migration Status: PENDING
          -- Current Version: No migration applied yet
          -- Next Version:    2
          -- Executed Files:  0
          -- Pending Files:   2
        ");
        insta::assert_snapshot!(serde_json::to_string(&r).unwrap(), @r#"{"Env":{"Driver":"postgres","URL":{"Scheme":"postgres","Opaque":"","User":{},"Host":"localhost:5432","Path":"/app","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"sslmode=disable","Fragment":"","RawFragment":"","Schema":""},"Dir":"file://migrations"},"Available":[{"Name":"2_b.sql","Version":"2","Description":"b"},{"Name":"3_c.sql","Version":"3","Description":"c"}],"Pending":[{"Name":"2_b.sql","Version":"2","Description":"b"},{"Name":"3_c.sql","Version":"3","Description":"c"}],"Current":"No migration applied yet","Next":"2","Status":"PENDING"}"#);
    }

    #[test]
    fn partial_attempt_text_and_json() {
        let mut r = report(StatusSummary {
            current: "2".into(),
            next: "2".into(),
            count: 1,
            total: 3,
            executed: 1,
            pending: 1,
            error: "table t exists".into(),
            sql: "CREATE TABLE t (id int);".into(),
            ..first_run()
        });
        r.pending.truncate(1);
        r.applied.push(Revision {
            version: "2".into(),
            description: "b".into(),
            kind: RevisionType::EXECUTED,
            applied: 1,
            total: 3,
            executed_at_unix_nanos: 1_705_363_200_000_000_000,
            execution_time_nanos: 1500,
            error: "table t exists".into(),
            error_stmt: "CREATE TABLE t (id int);".into(),
            hash: "h1".into(),
            partial_hashes: None,
            operator_version: "Strata v0.1.0".into(),
        });
        insta::assert_snapshot!(r.to_text(), @r"
        Migration Status: PENDING
          -- Current Version: 2 (1 statements applied)
          -- Next Version:    2 (2 statements left)
          -- Executed Files:  1 (last one partially)
          -- Pending Files:   1

        Last migration attempt had errors:
          -- SQL:   CREATE TABLE t (id int);
          -- ERROR: table t exists
        ");
        r.env.url.user = false;
        insta::assert_snapshot!(r.to_json().to_string(), @r#"{"Env":{"Driver":"postgres","URL":{"Scheme":"postgres","Opaque":"","User":null,"Host":"localhost:5432","Path":"/app","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"sslmode=disable","Fragment":"","RawFragment":"","Schema":""},"Dir":"file://migrations"},"Available":[{"Name":"2_b.sql","Version":"2","Description":"b"},{"Name":"3_c.sql","Version":"3","Description":"c"}],"Pending":[{"Name":"2_b.sql","Version":"2","Description":"b"}],"Applied":[{"Version":"2","Description":"b","Type":"applied","Applied":1,"Total":3,"ExecutedAt":"2024-01-16T00:00:00Z","ExecutionTime":1500,"Error":"table t exists","ErrorStmt":"CREATE TABLE t (id int);","OperatorVersion":"Strata v0.1.0"}],"Current":"2","Next":"2","Count":1,"Total":3,"Status":"PENDING","Error":"table t exists","SQL":"CREATE TABLE t (id int);"}"#);
    }
}
