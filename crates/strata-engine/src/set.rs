//! `migrate set [version]`: rewrite the revision history so the database counts as being at `version`, under the
//! migration lock (no waiting, as in Atlas) and in one transaction. With [`SetOptions::in_flight`] it settles
//! instead the statement an interrupted apply left in flight in `version` (see `apply`'s in-flight recovery).

use std::time::Duration;

use serde::Serialize;
use strata_driver::ConnectOptions;
use strata_migrate::plan::{self, InFlightOutcome, PlanError, RowStamp, SetChange};
use strata_migrate::revision::operator_version;
use strata_migrate::{MigrationDir, scan, sum};

use crate::EngineError;
use crate::apply::{APPLY_LOCK, with_lock};

/// Options of `migrate set`.
#[derive(Debug, Clone, Default)]
pub struct SetOptions {
    /// `--revisions-schema`.
    pub revisions_schema: Option<String>,
    /// `--in-flight applied|pending`: settle the statement an interrupted apply left in flight in the given
    /// version (which must then be given) instead of rewriting the history.
    pub in_flight: Option<InFlightOutcome>,
    /// Connection options.
    pub connect: ConnectOptions,
}

/// What `migrate set` changed: typed data, rendered at the edge ([`SetReport::to_text`], and as JSON by its
/// `Serialize`: `{"Target", "Set", "Removed"}`), like [`ApplyReport`](crate::report::ApplyReport).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetReport {
    /// The version the history now ends at (empty when the table was emptied).
    pub target: String,
    /// Rows written.
    pub set: usize,
    /// Rows deleted.
    pub removed: usize,
    /// Every change, in the order made (empty when nothing changed).
    #[serde(skip)]
    pub changes: Vec<SetChange>,
    /// The version of the last revision after the edit; `None` when the table ends empty.
    #[serde(skip)]
    pub current: Option<String>,
}

impl SetReport {
    /// Atlas's text output, byte for byte (empty when nothing changed).
    pub fn to_text(&self) -> String {
        plan::render_set(&self.changes, self.current.as_deref(), false)
    }
}

/// Runs `migrate set`.
pub async fn set(
    dir: &MigrationDir,
    url: &strata_driver::DbUrl,
    version: Option<&str>,
    opts: &SetOptions,
) -> Result<SetReport, EngineError> {
    let sum = sum::validate(dir)?;
    if opts.in_flight.is_some() && version.is_none() {
        return Err(PlanError::InFlightVersion.into());
    }
    let mut drv = strata_driver::connect_with(url, &opts.connect).await?;
    let result = with_lock(&mut *drv, APPLY_LOCK, Duration::ZERO, async |drv| {
        let loc = drv
            .revisions_location(opts.revisions_schema.as_deref())
            .await?;
        drv.ensure_revisions_table(&loc).await?;
        let revisions = drv.read_revisions(&loc).await?;
        let stamp = RowStamp {
            executed_at_unix_nanos: jiff::Timestamp::now().as_nanosecond(),
            operator_version: operator_version(),
        };
        let p = match opts.in_flight {
            None => {
                let args: Vec<&str> = version.into_iter().collect();
                plan::set(dir.files(), &revisions, &sum, &args, &stamp)?
            }
            Some(outcome) => {
                let v = version.ok_or(PlanError::InFlightVersion)?;
                let file = dir
                    .files()
                    .iter()
                    .rev()
                    .find(|f| f.version() == v)
                    .ok_or_else(|| PlanError::SetVersionNotFound {
                        version: v.to_owned(),
                    })?;
                let stmts = scan::split(drv.dialect(), file.name(), file.text()?)?;
                let texts: Vec<&str> = stmts.iter().map(|s| s.text.as_str()).collect();
                let sums = plan::statement_sums(texts.iter().copied());
                let hash = sum.hash_of(file.name()).unwrap_or_default();
                plan::set_in_flight(file, &texts, &sums, hash, &revisions, outcome)?
            }
        };
        if !p.is_noop() {
            drv.begin().await?;
            for v in &p.delete {
                drv.delete_revision(&loc, v).await?;
            }
            for r in &p.upsert {
                drv.upsert_revision(&loc, r).await?;
            }
            drv.commit().await?;
        }
        Ok(SetReport {
            target: p.target.clone(),
            set: p.upsert.len(),
            removed: p.delete.len(),
            changes: p.changes,
            current: p.current,
        })
    })
    .await;
    let closed = drv.close().await;
    let report = result?;
    closed?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use strata_migrate::plan::SetOp;

    use super::*;

    fn change(op: SetOp, version: &str, description: &str) -> SetChange {
        SetChange {
            op,
            version: version.into(),
            description: description.into(),
        }
    }

    #[test]
    fn text_and_json() {
        let r = SetReport {
            target: "1".into(),
            set: 1,
            removed: 2,
            changes: vec![
                change(SetOp::Removed, "3", ""),
                change(SetOp::Removed, "2", "b"),
                change(SetOp::Set, "1", "baseline"),
            ],
            current: Some("1".into()),
        };
        insta::assert_snapshot!(r.to_text(), @r"
        Current version is 1 (1 set, 2 removed):

          + 1 (baseline)
          - 2 (b)
          - 3
        ");
        insta::assert_snapshot!(serde_json::to_string(&r).unwrap(), @r#"{"Target":"1","Set":1,"Removed":2}"#);
        let emptied = SetReport {
            target: String::new(),
            set: 0,
            removed: 1,
            changes: vec![change(SetOp::Removed, "1", "a")],
            current: None,
        };
        insta::assert_snapshot!(emptied.to_text(), @r"
        All revisions deleted (1 in total):

          - 1 (a)
        ");
        let unchanged = SetReport {
            changes: Vec::new(),
            ..emptied
        };
        assert_eq!(unchanged.to_text(), "");
    }
}
