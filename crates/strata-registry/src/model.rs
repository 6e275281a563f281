//! The registry's data model.
//!
//! A **project** owns **directories**; a directory has **versions**, each identified by its `atlas.sum` header
//! hash (as hex), so pushing the same directory twice stores it once; file contents are stored once across
//! versions (keyed by SHA-256). **Tags** name versions and move like Docker tags: `latest` follows every push;
//! a project may declare its other tags immutable. **Deployments** record what an apply from the registry did.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

use crate::error::{RegistryError, Result};

/// The tag every push moves.
pub const LATEST: &str = "latest";

/// Milliseconds since the Unix epoch, rendered as RFC 3339 in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// Now.
    pub fn now() -> Self {
        Self(jiff::Timestamp::now().as_millisecond())
    }

    /// RFC 3339, UTC, millisecond precision.
    pub fn rfc3339(self) -> String {
        jiff::Timestamp::from_millisecond(self.0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    /// `2026-01-02 15:04:05 UTC`, for pages.
    pub fn human(self) -> String {
        jiff::Timestamp::from_millisecond(self.0)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.human())
    }
}

/// A permission a token grants within its project.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Fetch directories, list tags, versions and deployments, browse the web UI.
    Read,
    /// Push directories and move tags.
    Push,
    /// Report deployments.
    Report,
    /// Everything above, plus project settings and tokens.
    Admin,
}

impl Scope {
    /// All scopes.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Push, Scope::Report, Scope::Admin];

    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Push => "push",
            Self::Report => "report",
            Self::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s.trim())
            .ok_or_else(|| RegistryError::InvalidName {
                kind: "scope",
                value: s.into(),
                reason: "use read, push, report or admin",
            })
    }
}

/// A set of scopes. `admin` implies every other scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// Builds a set.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Whether the set grants `scope` (directly or through `admin`).
    pub fn grants(self, scope: Scope) -> bool {
        self.0 & (scope.bit() | Scope::Admin.bit()) != 0
    }

    /// The scopes in the set.
    pub fn list(self) -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.0 & s.bit() != 0)
            .collect()
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.list().iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Scopes {
    type Err = RegistryError;
    /// `read,push` (comma or space separated).
    fn from_str(s: &str) -> Result<Self> {
        let list = s
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>>>()?;
        if list.is_empty() {
            return Err(RegistryError::InvalidName {
                kind: "scope list",
                value: s.into(),
                reason: "name at least one of read, push, report, admin",
            });
        }
        Ok(Self::of(&list))
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.list().serialize(s)
    }
}

/// Checks a project or directory name: 1–64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_name(kind: &'static str, value: &str) -> Result<()> {
    check(
        kind,
        value,
        64,
        "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    )
}

/// Checks a tag: 1–128 characters of `A-Z a-z 0-9 . _ -`, starting with a letter, digit or `_`.
pub fn check_tag(value: &str) -> Result<()> {
    check(
        "tag",
        value,
        128,
        "use 1-128 letters, digits, '.', '_' or '-', starting with a letter, digit or '_'",
    )
}

fn check(kind: &'static str, value: &str, max: usize, reason: &'static str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || (kind == "tag" && b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            kind,
            value: value.chars().take(200).collect(),
            reason,
        })
    }
}

/// Checks a version id: 64 lowercase hex digits (the `atlas.sum` header hash).
pub fn check_version(value: &str) -> Result<()> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            kind: "version",
            value: value.chars().take(200).collect(),
            reason: "a version is the 64-digit hex form of the atlas.sum header hash",
        })
    }
}

/// How a directory is addressed: by tag or by version id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// A tag, e.g. `latest` or a commit hash.
    Tag(String),
    /// A version id (64 hex digits).
    Version(String),
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(t) => write!(f, "tag {t:?}"),
            Self::Version(v) => write!(f, "version {v}"),
        }
    }
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Project {
    /// Name.
    pub name: String,
    /// Whether tags other than `latest` may never move once set.
    pub immutable_tags: bool,
    /// Creation time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
}

/// A directory of a project, with a summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Directory {
    /// Name.
    pub name: String,
    /// Number of versions.
    pub versions: i64,
    /// Number of tags.
    pub tags: i64,
    /// Time of the newest version.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Millis,
}

/// A stored version of a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VersionInfo {
    /// The version id: the `atlas.sum` header hash as 64 hex digits.
    pub id: String,
    /// The `atlas.sum` header as written in the file (`h1:<base64>`).
    pub sum: String,
    /// Number of migration files.
    pub files: i64,
    /// Total size of the migration files in bytes.
    pub size: i64,
    /// The last migration version in the directory (e.g. `20240102150405`).
    pub last_migration: String,
    /// When it was first pushed.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// Tags pointing at it.
    pub tags: Vec<String>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TagInfo {
    /// Name.
    pub name: String,
    /// The version it names.
    pub version: String,
    /// When it last moved.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Millis,
}

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

/// The outcome of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PushOutcome {
    /// The version (new or existing).
    pub version: VersionInfo,
    /// Whether this push created the version (false: identical content was already stored).
    pub created: bool,
    /// The tags this push set.
    pub tags: Vec<String>,
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeployStatus {
    /// Every pending file ran.
    Succeeded,
    /// A statement failed or the run stopped.
    Failed,
    /// Nothing was pending.
    Noop,
}

impl DeployStatus {
    /// The status's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Noop => "noop",
        }
    }
}

impl FromStr for DeployStatus {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            "noop" => Ok(Self::Noop),
            _ => Err(RegistryError::Database(format!(
                "unknown deployment status {s:?}"
            ))),
        }
    }
}

/// One file of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeployedFile {
    /// File name.
    pub name: String,
    /// Statements run.
    pub statements: i64,
    /// Its error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A deployment as reported by a client (`POST …/deployments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeployment {
    /// The directory deployed.
    pub dir: String,
    /// The target database URL without credentials (the registry redacts it again).
    pub target: String,
    /// The tag the directory was fetched by, if any.
    #[serde(default)]
    pub tag: Option<String>,
    /// The registry version id deployed, if known.
    #[serde(default)]
    pub version: Option<String>,
    /// Migration version of the database before the run (empty on a first run).
    #[serde(default)]
    pub from_version: String,
    /// Migration version the run aimed at.
    #[serde(default)]
    pub to_version: String,
    /// How it ended.
    pub status: DeployStatus,
    /// The error that stopped the run.
    #[serde(default)]
    pub error: Option<String>,
    /// Files run.
    #[serde(default)]
    pub files: Vec<DeployedFile>,
    /// Statements run in all.
    #[serde(default)]
    pub statements: i64,
    /// Duration of the run in milliseconds.
    #[serde(default)]
    pub duration_ms: i64,
    /// Start of the run (RFC 3339).
    pub started_at: String,
    /// End of the run (RFC 3339).
    pub finished_at: String,
}

/// A recorded deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Deployment {
    /// Id, increasing.
    pub id: i64,
    /// The report as sent (target redacted).
    #[serde(flatten)]
    pub report: NewDeployment,
    /// When the registry recorded it.
    #[schema(value_type = String, format = DateTime)]
    pub reported_at: Millis,
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

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TokenInfo {
    /// Public id (the part of the token after `strata_` and before the secret).
    pub id: String,
    /// The project it belongs to.
    pub project: String,
    /// A label.
    pub name: String,
    /// Scopes granted.
    #[schema(value_type = Vec<Scope>)]
    pub scopes: Scopes,
    /// Creation time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// Revocation time, if revoked.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Millis>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_admin_implies_all() {
        let s: Scopes = "read,push".parse().unwrap();
        assert!(s.grants(Scope::Read) && s.grants(Scope::Push));
        assert!(!s.grants(Scope::Report) && !s.grants(Scope::Admin));
        assert_eq!(s.to_string(), "read,push");
        let a: Scopes = "admin".parse().unwrap();
        assert!(Scope::ALL.iter().all(|sc| a.grants(*sc)));
        assert!("read,write".parse::<Scopes>().is_err());
        assert!("".parse::<Scopes>().is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("project", "app-1.x_y").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "-x", &"a".repeat(65), "ä"] {
            assert!(check_name("project", bad).is_err(), "{bad}");
        }
        assert!(check_tag("_v1").is_ok());
        assert!(check_tag(&"f".repeat(40)).is_ok());
        assert!(check_tag("a:b").is_err());
        assert!(check_version(&"a".repeat(64)).is_ok());
        assert!(check_version(&"A".repeat(64)).is_err());
    }
}
