//! Strata's migration engine: runs a migration directory against a database and reports what happened.
//!
//! - [`apply()`]: pending files, exactly once, under the migration lock ([`ApplyOptions`], [`Cancel`], [`Observer`]);
//! - [`status()`]: what is applied and pending, computed exactly as `apply` would;
//! - [`set()`]: edit the revision history (`migrate set`);
//! - [`schema`]: inspect, diff, plan and apply schemas (`schema inspect | diff | apply | clean`).
//!
//! The CLI, the operator and the registry use this crate as a library; it knows nothing of Kubernetes or HTTP,
//! spawns no processes and keeps no global state. Directories come in as [`MigrationDir`] values, whatever their
//! source (disk, ConfigMap, registry).
#![warn(missing_docs)]

pub mod apply;
pub mod cache;
mod error;
pub mod godur;
mod inflight;
pub mod query;
pub mod report;
pub mod schema;
pub mod set;
pub mod status;

pub use apply::{ApplyOptions, Cancel, Observer, Quiet, apply};
pub use error::EngineError;
pub use inflight::{InFlightStop, Undecided};
pub use set::{SetOptions, SetReport, set};
pub use status::{StatusOptions, StatusReport, status};
pub use strata_driver::{ConnectOptions, DbUrl, redact};
pub use strata_migrate::MigrationDir;
pub use strata_migrate::directive::TxMode;
pub use strata_migrate::history::HistoryError;
pub use strata_migrate::plan::{ExecOrder, Limit, PlanError};

use strata_driver::Driver;
use strata_migrate::Dialect;

use crate::report::UrlInfo;

/// The driver name Atlas reports for a dialect.
pub fn driver_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
        Dialect::Sqlite => "sqlite3",
    }
}

/// The target as reports show it, built from the redacted URL only.
pub(crate) fn target_info(drv: &dyn Driver) -> UrlInfo {
    let parts = drv.url().parts();
    UrlInfo {
        scheme: parts.scheme,
        user: parts.has_user,
        host: parts.host,
        path: parts.path,
        raw_query: parts.query,
        fragment: parts.fragment,
        schema: drv.bound_schema().unwrap_or_default().to_owned(),
        ..UrlInfo::default()
    }
}
