//! Strata's migration engine: runs a migration directory against a database and reports what happened.
//!
//! The CLI, the operator and the registry use this crate; it knows nothing of Kubernetes or HTTP.

pub mod godur;
pub mod report;
