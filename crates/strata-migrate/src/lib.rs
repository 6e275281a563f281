//! Atlas-compatible migration directories.
//!
//! - [`diff_format`]: `migrate diff --format`, the indentation template Atlas accepts;
//! - [`dir`]: the directory model (files, order, version and description);
//! - [`sum`]: `atlas.sum` — compute, write, parse and validate, byte-identical with Atlas;
//! - [`directive`]: `atlas:*` directives in file headers and statement comments;
//! - [`scan`]: the statement scanner for the `postgres`, `mysql` and `sqlite` dialects;
//! - [`history`]: the tamper check — applied files that changed or vanished since they ran;
//! - [`new`]: `migrate new` — a new empty file with a timestamp version, and the re-hash after it (also the file
//!   `migrate diff` writes);
//! - [`noop_memo`]: what a run that found nothing to do keeps, so the next one over the same directory and table
//!   can tell without reading the table;
//! - [`replay`]: where a replay on a dev database starts, and the content addresses of its prefixes (the replay
//!   cache's keys);
//! - [`revision`]: the dialect-neutral `atlas_schema_revisions` row;
//! - [`inflight`]: the statement a crash may leave applied but unrecorded, and how recovery decides it.
//!
//! Nothing here touches a database, Kubernetes or the network.
#![warn(missing_docs)]

pub mod diff_format;
pub mod dir;
pub mod directive;
mod error;
pub mod history;
pub mod inflight;
pub mod new;
pub mod noop_memo;
pub mod plan;
pub mod quote;
pub mod replay;
pub mod revision;
pub mod scan;
pub mod snapshot;
pub mod sum;

pub use dir::{MigrationDir, MigrationFile};
pub use error::DirError;
pub use revision::{Revision, RevisionType};
pub use scan::{Dialect, ScanError, Stmt};
