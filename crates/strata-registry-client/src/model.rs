//! The registry's data model as it travels over HTTP: the wire types of the REST API, the name rules both sides
//! check, and how a directory is addressed ([`Ref`]). The server stores and serves these types (re-exported by
//! `strata_registry::model`, which adds the store-side ones); the client sends and reads them.
//!
//! A **project** owns **directories**; a directory has **versions**, each identified by its `atlas.sum` header
//! hash (as hex), so pushing the same directory twice stores it once; file contents are stored once across
//! versions (keyed by SHA-256). **Tags** name versions and move like Docker tags: `latest` follows every push;
//! a project may declare its other tags immutable. **Deployments** record what an apply from the registry did.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::InvalidName;

type Result<T, E = InvalidName> = std::result::Result<T, E>;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s.trim())
            .ok_or_else(|| InvalidName {
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
    type Err = InvalidName;
    /// `read,push` (comma or space separated).
    fn from_str(s: &str) -> Result<Self> {
        let list = s
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>>>()?;
        if list.is_empty() {
            return Err(InvalidName {
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

// The names as the OpenAPI document describes them (schemas only, never built). `check_name`, `check_tag` and
// `check_version` are the rules; `tests/openapi.rs` keeps these patterns in step with them.

/// A project or directory name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(
    as = Name,
    pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    min_length = 1,
    max_length = 64,
    example = "app"
)]
#[allow(dead_code)]
pub struct NameSchema(String);

/// A tag: 1-128 letters, digits, '.', '_' or '-', starting with a letter, digit or '_'.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(
    as = Tag,
    pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$",
    min_length = 1,
    max_length = 128,
    example = "v1"
)]
#[allow(dead_code)]
pub struct TagSchema(String);

/// A version id: the atlas.sum header hash as 64 lowercase hex digits.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(as = VersionId, pattern = "^[0-9a-f]{64}$", min_length = 64, max_length = 64)]
#[allow(dead_code)]
pub struct VersionIdSchema(String);

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
        Err(InvalidName {
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
        Err(InvalidName {
            kind: "version",
            value: value.chars().take(200).collect(),
            reason: "a version is the 64-digit hex form of the atlas.sum header hash",
        })
    }
}

/// The first character of `s` that is a control character (C0, DEL, C1: escape sequences rewrite terminals and
/// logs) or an invisible formatting character that reorders or hides text (bidirectional marks, overrides and
/// isolates, zero-width characters, the BOM), which make one name display as another. Names that people read
/// (pushed file names, reported file names) must have none.
pub fn hidden_or_control(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        c.is_control()
            || matches!(
                c,
                '\u{061C}'
                    | '\u{180E}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{206F}'
                    | '\u{FEFF}'
                    | '\u{FFF9}'..='\u{FFFB}'
            )
    })
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    /// Name.
    pub name: String,
    /// Whether tags other than `latest` may never move once set.
    pub immutable_tags: bool,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Millis,
}

/// A directory of a project, with a summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Directory {
    /// Name.
    pub name: String,
    /// Number of versions.
    pub versions: i64,
    /// Number of tags.
    pub tags: i64,
    /// Time of the newest version.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Millis,
}

/// A stored version of a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Millis,
    /// Tags pointing at it.
    pub tags: Vec<String>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagInfo {
    /// Name.
    pub name: String,
    /// The version it names.
    pub version: String,
    /// When it last moved.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Millis,
}

/// The outcome of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushOutcome {
    /// The version (new or existing).
    pub version: VersionInfo,
    /// Whether this push created the version (false: identical content was already stored).
    pub created: bool,
    /// The tags this push set.
    pub tags: Vec<String>,
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            "noop" => Ok(Self::Noop),
            _ => Err(InvalidName {
                kind: "deployment status",
                value: s.chars().take(200).collect(),
                reason: "use succeeded, failed or noop",
            }),
        }
    }
}

/// One file of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployedFile {
    /// File name (no control or invisible formatting characters).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB]*$"
        )
    )]
    pub name: String,
    /// Statements run.
    #[serde(deserialize_with = "json_integer")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub statements: i64,
    /// Its error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The file's migration version (the part of its name before `_`); absent in reports of older clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub version: Option<String>,
    /// How the file ended; absent in reports of older clients (then read `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<FileOutcome>,
    /// Time spent on the file in milliseconds; absent in reports of older clients.
    #[serde(
        default,
        deserialize_with = "json_integer_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub duration_ms: Option<i64>,
}

impl DeployedFile {
    /// A file record with only the fields every client sends (older ones send no more).
    pub fn new(name: impl Into<String>, statements: i64, error: Option<String>) -> Self {
        Self {
            name: name.into(),
            statements,
            error,
            version: None,
            outcome: None,
            duration_ms: None,
        }
    }

    /// The outcome as recorded, or as implied by `error` for reports of older clients.
    pub fn outcome_or_implied(&self) -> FileOutcome {
        self.outcome.unwrap_or(if self.error.is_some() {
            FileOutcome::Failed
        } else {
            FileOutcome::Applied
        })
    }
}

/// How one file of a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FileOutcome {
    /// Every statement ran.
    Applied,
    /// A statement failed (the file's `error`).
    Failed,
    /// The run stopped inside the file (cancelled or interrupted) without a statement error.
    Partial,
}

impl FileOutcome {
    /// The outcome's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Failed => "failed",
            Self::Partial => "partial",
        }
    }
}

/// A drift check of one target, as an operator reports it (`POST …/drift`): what differs between the target
/// and what the directory (or desired schema) says it should be, one English line per difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDrift {
    /// The directory (or resource) the target is checked against.
    #[cfg_attr(feature = "openapi", schema(value_type = NameSchema))]
    pub dir: String,
    /// The target database URL without credentials (the registry redacts it again).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
    pub target: String,
    /// The differences, one line each (`table "users": column "nickname" added outside migrations`); empty
    /// when the target is as it should be.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10_000))]
    pub lines: Vec<String>,
    /// When the check ran (RFC 3339).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub checked_at: String,
}

/// A recorded drift check: the latest one per directory and target is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drift {
    /// The directory (or resource) the target was checked against.
    pub dir: String,
    /// The target, without credentials.
    pub target: String,
    /// The differences, one line each; empty: no drift.
    pub lines: Vec<String>,
    /// When the check ran (RFC 3339), as reported.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub checked_at: String,
    /// When the registry recorded it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub reported_at: Millis,
}

impl Drift {
    /// The record of report `d`, received at `reported_at`.
    pub fn of(d: NewDrift, reported_at: Millis) -> Self {
        Self {
            dir: d.dir,
            target: d.target,
            lines: d.lines,
            checked_at: d.checked_at,
            reported_at,
        }
    }
}

/// A deployment as reported by a client (`POST …/deployments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDeployment {
    /// The directory deployed.
    #[cfg_attr(feature = "openapi", schema(value_type = NameSchema))]
    pub dir: String,
    /// The target database URL without credentials (the registry redacts it again).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
    pub target: String,
    /// The tag the directory was fetched by, if any.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<TagSchema>))]
    pub tag: Option<String>,
    /// The registry version id deployed, if known.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<VersionIdSchema>))]
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
    /// Files run (at most 100,000).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100_000))]
    pub files: Vec<DeployedFile>,
    /// Statements run in all.
    #[serde(default, deserialize_with = "json_integer")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub statements: i64,
    /// Duration of the run in milliseconds.
    #[serde(default, deserialize_with = "json_integer")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub duration_ms: i64,
    /// Start of the run (RFC 3339).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub started_at: String,
    /// End of the run (RFC 3339).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub finished_at: String,
}

/// An integer as JSON may write it: `34`, or `34.0` (the same number; JSON Schema's `integer` admits both, so a
/// client generated from the OpenAPI document may send either). A fraction or a value out of range is refused.
fn json_integer<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct Integer;
    impl serde::de::Visitor<'_> for Integer {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            // i64::MAX as f64 rounds up to 2^63, which is out of range: compare with the exclusive bound.
            if v.fract() == 0.0 && v >= -(2f64.powi(63)) && v < 2f64.powi(63) {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    d.deserialize_any(Integer)
}

/// [`json_integer`] for an optional field (`null` is `None`).
fn json_integer_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "json_integer")] i64);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}

/// A recorded deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// Id, increasing.
    pub id: i64,
    /// The report as sent (target redacted).
    #[serde(flatten)]
    pub report: NewDeployment,
    /// When the registry recorded it.
    pub reported_at: Millis,
}

// The schema of a listed deployment is one object: the report's fields plus `id` and `reported_at`. (Derived, it
// would be `allOf` the report, whose `additionalProperties: false` refuses those two, so no listing would
// validate.)
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Deployment {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
        let RefOr::T(Schema::Object(mut o)) = <NewDeployment as utoipa::PartialSchema>::schema()
        else {
            unreachable!("a derived struct schema is an object");
        };
        o.additional_properties = None;
        o.description = Some(
            "A recorded deployment: the report as sent (target redacted), its id and when it was recorded.".into(),
        );
        let id = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .description(Some("Id, increasing."));
        let reported_at = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("When the registry recorded it."));
        o.properties
            .insert("id".into(), RefOr::T(Schema::Object(id.build())));
        o.properties.insert(
            "reported_at".into(),
            RefOr::T(Schema::Object(reported_at.build())),
        );
        o.required
            .extend(["id".to_owned(), "reported_at".to_owned()]);
        RefOr::T(Schema::Object(o))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Deployment {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <NewDeployment as utoipa::ToSchema>::schemas(schemas);
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// Public id (the part of the token after `strata_` and before the secret).
    pub id: String,
    /// The project it belongs to.
    pub project: String,
    /// A label.
    pub name: String,
    /// Scopes granted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Scope>))]
    pub scopes: Scopes,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Millis,
    /// Revocation time, if revoked.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Millis>,
}

/// One file of a JSON upload or listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JsonFile {
    /// File name, e.g. `20240102150405_init.sql` or `atlas.sum` (no control or invisible formatting
    /// characters).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB]*$"
        )
    )]
    pub name: String,
    /// Content as UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Content as standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// A JSON upload: the directory's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JsonUpload {
    /// The files, `atlas.sum` included.
    pub files: Vec<JsonFile>,
    /// The lint report of this directory as `strata migrate lint --format json` prints it (`{"Files": [...]}`),
    /// kept with the version (it does not change the version id). Optional: older clients send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub lint_report: Option<serde_json::Value>,
    /// The schema the directory builds, as the schema engine's JSON model (`strata_schema::Realm`), kept with the
    /// version. Optional: older clients send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub schema: Option<serde_json::Value>,
}

/// A directory version with its files (`atlas.sum` first).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirListing {
    /// The project.
    pub project: String,
    /// The directory.
    pub dir: String,
    /// The version.
    pub version: VersionInfoJson,
    /// `atlas.sum` then the migration files, as `text` (UTF-8) or `base64`.
    pub files: Vec<JsonFile>,
}

/// [`VersionInfo`] as read back by clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfoJson {
    /// Version id (64 hex digits).
    pub id: String,
    /// `atlas.sum` header.
    pub sum: String,
    /// Number of migration files.
    pub files: i64,
    /// Last migration version.
    pub last_migration: String,
    /// Tags naming it.
    pub tags: Vec<String>,
}

impl From<&VersionInfo> for VersionInfoJson {
    fn from(v: &VersionInfo) -> Self {
        Self {
            id: v.id.clone(),
            sum: v.sum.clone(),
            files: v.files,
            last_migration: v.last_migration.clone(),
            tags: v.tags.clone(),
        }
    }
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
