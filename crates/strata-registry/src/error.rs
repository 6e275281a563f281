//! Errors of the registry library. Each says what went wrong and what to do; none carries a credential.

use strata_registry_client::InvalidName;
use thiserror::Error;

/// A registry failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A push was refused: the upload or its directory is invalid.
    #[error("push refused: {0}")]
    InvalidUpload(String),
    /// The upload exceeds a configured limit.
    #[error("push refused: {0}")]
    TooLarge(String),
    /// A name (project, directory, tag, version, scope) is malformed.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// A project, directory, tag, version or token does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The project declares immutable tags and the tag already names another version.
    #[error(
        "tag {tag:?} of {dir:?} already points at version {existing} and the project's tags are immutable; push under a new tag"
    )]
    TagImmutable {
        /// The directory.
        dir: String,
        /// The tag.
        tag: String,
        /// The version the tag keeps.
        existing: String,
    },
    /// Something already exists.
    #[error("{0}")]
    Conflict(String),
    /// The registry database failed.
    #[error("registry database error: {0}")]
    Database(String),
    /// The registry database URL is not usable.
    #[error("{0}")]
    DatabaseUrl(String),
    /// A token is missing, malformed, unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// The token is valid but lacks the scope.
    #[error("{0}")]
    Forbidden(String),
    /// The server cannot listen or serve.
    #[error("{0}")]
    Http(String),
}

impl From<sqlx::Error> for RegistryError {
    fn from(e: sqlx::Error) -> Self {
        // sqlx errors never include the connection URL; keep the message, which names the failing step.
        Self::Database(e.to_string())
    }
}

/// Shorthand.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
