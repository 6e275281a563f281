//! The `atlas_schema_revisions` row, dialect-neutral.
//!
//! Column semantics follow Atlas exactly (see `ARCHITECTURE.md`): `version` and `description` are never
//! updated, `executed_at` keeps the first attempt, `execution_time` is in nanoseconds and `partial_hashes`
//! holds `"h1:<b64>"` entries while a file is partially applied.

use std::fmt;

/// Name of the revisions table, as Atlas names it.
pub const REVISIONS_TABLE: &str = "atlas_schema_revisions";
/// The schema Atlas creates for the table when the URL binds none.
pub const DEFAULT_REVISIONS_SCHEMA: &str = "atlas_schema_revisions";
/// Version of the hidden cloud-identifier row; never read, written or deleted by the engine.
pub const CLOUD_IDENTIFIER_VERSION: &str = ".atlas_cloud_identifier";

/// The `type` column: a bit mask of baseline (1), executed (2) and resolved (4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RevisionType(pub u64);

impl RevisionType {
    /// Written by `--baseline`.
    pub const BASELINE: Self = Self(1);
    /// Written when a file is executed (the column default).
    pub const EXECUTED: Self = Self(2);
    /// Written by `migrate set`.
    pub const RESOLVED: Self = Self(4);

    /// Whether every bit of `other` is set.
    pub fn has(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// This type with the bits of `other` added.
    pub fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl fmt::Display for RevisionType {
    /// The names Atlas uses in JSON and text output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            1 => "baseline",
            2 => "applied",
            4 => "manually set",
            6 => "applied + manually set",
            other => return write!(f, "unknown ({other})"),
        };
        f.write_str(name)
    }
}

/// One row of `atlas_schema_revisions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// File version; the primary key.
    pub version: String,
    /// File description.
    pub description: String,
    /// Bit mask, see [`RevisionType`].
    pub kind: RevisionType,
    /// Statements applied so far.
    pub applied: u64,
    /// Statements in the file, fixed at the first attempt.
    pub total: u64,
    /// Start of the first attempt, in Unix nanoseconds (UTC).
    pub executed_at_unix_nanos: i128,
    /// Duration of the file, in nanoseconds.
    pub execution_time_nanos: i64,
    /// Last error, `""` when none.
    pub error: String,
    /// Statement that failed, `""` when none.
    pub error_stmt: String,
    /// The file's `atlas.sum` hash, base64 without `h1:`; `""` for a baseline row.
    pub hash: String,
    /// `"h1:<b64>"` per applied statement while partial; `None` (JSON `null`) otherwise.
    pub partial_hashes: Option<Vec<String>>,
    /// Writer, e.g. `Strata v0.1.0`.
    pub operator_version: String,
}

impl Revision {
    /// Whether the file behind this row stopped part-way (`applied != total`).
    pub fn is_partial(&self) -> bool {
        self.applied != self.total
    }

    /// Whether the last attempt left an error or stopped part-way and nobody resolved it with `migrate set`.
    pub fn needs_attention(&self) -> bool {
        (self.is_partial() || !self.error.is_empty()) && !self.kind.has(RevisionType::RESOLVED)
    }
}

/// The value written into `operator_version`.
pub fn operator_version() -> String {
    format!("Strata v{}", env!("CARGO_PKG_VERSION"))
}
