//! Errors of the registry client. Each says what went wrong and what to do; none carries a credential.

use thiserror::Error;

/// A malformed name (project, directory, tag, version, scope) or registry directory URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct InvalidName {
    /// What kind of name.
    pub kind: &'static str,
    /// The name as given (at most 200 characters of it).
    pub value: String,
    /// The rule it breaks.
    pub reason: &'static str,
}

/// A failure of the registry client: a malformed name, or an HTTP exchange with the registry that failed or was
/// refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A name or a `strata://` URL is malformed.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// 401: the token is missing, malformed, unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token is valid but lacks the scope.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the project, directory, tag or version does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The registry URL is unusable, the registry is unreachable, or it answered something unexpected.
    #[error("{0}")]
    Http(String),
}

/// Shorthand.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
