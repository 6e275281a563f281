//! The registry's data model.
//!
//! A **project** owns **directories**; a directory has **versions**, each identified by its `atlas.sum` header
//! hash (as hex), so pushing the same directory twice stores it once; file contents are stored once across
//! versions (keyed by SHA-256). **Tags** name versions and move like Docker tags: `latest` follows every push;
//! a project may declare its other tags immutable. **Deployments** record what an apply from the registry did.
//!
//! The types that travel over HTTP, and the name rules, have one home in the client crate
//! ([`strata_registry_client::model`], with their OpenAPI schemas under its `openapi` feature); they are
//! re-exported here so that the store and the server speak one model. The types below never leave the server.

pub use strata_registry_client::model::{
    DeployStatus, DeployedFile, Deployment, DirListing, Directory, Drift, FileOutcome, JsonFile,
    JsonUpload, LATEST, Millis, NameSchema, NewDeployment, NewDrift, Project, PushOutcome, Ref,
    Scope, Scopes, TagInfo, TagSchema, TokenInfo, VersionIdSchema, VersionInfo, VersionInfoJson,
    check_name, check_tag, check_version, hidden_or_control,
};

/// A version with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionContent {
    /// The version.
    pub info: VersionInfo,
    /// Migration files in Atlas order: name and bytes.
    pub files: Vec<(String, Vec<u8>)>,
    /// The raw `atlas.sum`, byte for byte as pushed.
    pub sum: Vec<u8>,
}

/// What the registry keeps beside a version (never part of its id): its lint report and its schema model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachmentKind {
    /// `strata migrate lint --format json`'s report.
    LintReport,
    /// The schema model the directory builds (`strata_schema::Realm` as JSON).
    Schema,
}

impl AttachmentKind {
    /// Both kinds.
    pub const ALL: [AttachmentKind; 2] = [AttachmentKind::LintReport, AttachmentKind::Schema];

    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LintReport => "lint_report",
            Self::Schema => "schema",
        }
    }
}

/// An attachment as stored: its JSON text and when it was pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The JSON document, as pushed (re-serialised compactly).
    pub json: String,
    /// When the push that carried it was stored.
    pub updated_at: Millis,
}

/// Which deployments to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentFilter {
    /// Only this directory.
    pub dir: Option<String>,
    /// Only this target (exact, redacted form).
    pub target: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A token row as stored: the record plus the SHA-256 hash (hex) of the whole token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The listing.
    pub info: TokenInfo,
    /// SHA-256 of the token, hex.
    pub hash: String,
}

/// A web UI session as stored: the token it was created from (with its revocation) and its lifetime. The
/// session id itself is never stored, only its SHA-256 (see [`crate::auth::create_session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The token the session was created from.
    pub token: TokenInfo,
    /// Login time.
    pub created_at: Millis,
    /// The session is refused from this time on.
    pub expires_at: Millis,
}
