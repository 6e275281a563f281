//! Tokens: `strata_<id>_<secret>`, where `<id>` (12 characters) is public and names the row, and the whole token
//! is stored only as its SHA-256 hash, compared in constant time. A token belongs to one project and grants
//! scopes within it.
//!
//! Web UI sessions: logging in with a token creates a session whose random id (256 bits) is all the browser
//! keeps; the database keeps only the id's SHA-256, the token it came from and its expiry ([`SESSION_TTL`]). A
//! session grants `read` in the token's project and nothing else, ends on logout, at expiry, and as soon as its
//! token is revoked.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};
use strata_registry_client::InvalidName;
use subtle::ConstantTimeEq as _;

use crate::error::{RegistryError, Result};
use crate::model::{Millis, Scope, Scopes, TokenInfo};
use crate::store::Store;

const PREFIX: &str = "strata_";
const ID_LEN: usize = 12;

/// A verified caller: the token's project and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's public id.
    pub token_id: String,
    /// The project the token belongs to.
    pub project: String,
    /// What it may do there.
    pub scopes: Scopes,
}

impl Principal {
    /// Whether the caller may do `scope` in `project`.
    pub fn allows(&self, project: &str, scope: Scope) -> bool {
        self.project == project && self.scopes.grants(scope)
    }
}

fn random_string(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    B64URL.encode(buf)
}

/// The SHA-256 (hex) under which a token or a session id is stored.
fn secret_hash(secret: &str) -> String {
    crate::upload::hex(&Sha256::digest(secret.as_bytes()))
}

/// Creates a token for `project` (creating the project if needed); returns its listing and the token itself,
/// which is shown once and never stored.
pub async fn create_token(
    store: &dyn Store,
    project: &str,
    name: &str,
    scopes: Scopes,
) -> Result<(TokenInfo, String)> {
    if scopes.is_empty() {
        return Err(RegistryError::InvalidName(InvalidName {
            kind: "scope list",
            value: String::new(),
            reason: "name at least one of read, push, report, admin",
        }));
    }
    store.ensure_project(project).await?;
    // Ids are lowercase alphanumerics so they read well in listings.
    let id: String = random_string(16)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(ID_LEN)
        .collect();
    let id = format!("{id:0<ID_LEN$}");
    let token = format!("{PREFIX}{id}_{}", random_string(32));
    let info = store
        .insert_token(project, &id, name, scopes, &secret_hash(&token))
        .await?;
    Ok((info, token))
}

/// Verifies a presented token. Unknown, malformed, mismatching and revoked tokens are all refused with the same
/// message, so a caller learns nothing about which tokens exist.
pub async fn verify(store: &dyn Store, token: &str) -> Result<Principal> {
    let refused = || {
        RegistryError::Unauthorized(
            "the token is not valid (unknown, malformed or revoked); create one with 'strata registry token create'"
                .into(),
        )
    };
    let id = token
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.get(..ID_LEN))
        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(refused)?;
    let stored = store.token(id).await?;
    // Hash even when the id is unknown, so timing does not tell the two apart.
    let presented = secret_hash(token);
    let expected = stored
        .as_ref()
        .map(|s| s.hash.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let same: bool = presented.as_bytes().ct_eq(expected.as_bytes()).into();
    match stored {
        Some(s) if same && s.info.revoked_at.is_none() => Ok(Principal {
            token_id: s.info.id,
            project: s.info.project,
            scopes: s.info.scopes,
        }),
        _ => Err(refused()),
    }
}

/// How long a web UI session lasts from its login (an absolute lifetime: using the session does not extend it).
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// Bytes of randomness in a session id, which is their URL-safe base64: [`SESSION_ID_LEN`] characters.
const SESSION_BYTES: usize = 32;
const SESSION_ID_LEN: usize = 43;

/// Whether `id` has the shape of a session id (checked before any lookup).
fn session_id_shape(id: &str) -> bool {
    id.len() == SESSION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Starts a web UI session for a caller verified by token, lasting `ttl`; returns the session id for the
/// browser's cookie. Only its hash is stored. Sessions that expired or whose token was revoked are deleted on
/// the way.
pub async fn create_session(store: &dyn Store, p: &Principal, ttl: Duration) -> Result<String> {
    let id = random_string(SESSION_BYTES);
    let now = Millis::now();
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    store.purge_sessions(now).await?;
    store
        .insert_session(
            &secret_hash(&id),
            &p.token_id,
            now,
            Millis(now.0.saturating_add(ttl_ms)),
        )
        .await?;
    Ok(id)
}

/// The caller of a web UI session: `read` in its token's project. Unknown, malformed, expired and ended sessions
/// and those of revoked tokens are all refused with the same message.
pub async fn session(store: &dyn Store, id: &str) -> Result<Principal> {
    let refused = || {
        RegistryError::Unauthorized(
            "your session has expired or ended (logged out, or its token was revoked); log in again".into(),
        )
    };
    if !session_id_shape(id) {
        return Err(refused());
    }
    match store.session(&secret_hash(id)).await? {
        Some(s) if s.expires_at > Millis::now() && s.token.revoked_at.is_none() => Ok(Principal {
            token_id: s.token.id,
            project: s.token.project,
            scopes: Scopes::of(&[Scope::Read]),
        }),
        _ => Err(refused()),
    }
}

/// Ends a web UI session (logout). Ending an unknown or already ended session does nothing.
pub async fn end_session(store: &dyn Store, id: &str) -> Result<()> {
    if session_id_shape(id) {
        store.delete_session(&secret_hash(id)).await?;
    }
    Ok(())
}

/// The CSRF value of a session's forms (logout): derived from the secret session id, so only pages served to
/// the session's browser can carry it, and it reveals nothing of the id.
pub fn session_csrf(id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"strata-registry session csrf\0");
    h.update(id.as_bytes());
    crate::upload::hex(&h.finalize())
}

/// A fresh random value for a login form's CSRF cookie and field.
pub fn new_csrf() -> String {
    random_string(SESSION_BYTES)
}

/// Whether `value` has the shape of a login CSRF value (see [`new_csrf`]).
pub fn csrf_shape(value: &str) -> bool {
    session_id_shape(value)
}

/// Compares two secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_and_csrf_values_have_their_shape() {
        let id = random_string(SESSION_BYTES);
        assert_eq!(id.len(), SESSION_ID_LEN);
        assert!(session_id_shape(&id) && csrf_shape(&new_csrf()));
        assert!(!session_id_shape(&id[1..]) && !session_id_shape(&format!("{}=", &id[1..])));
        // The logout CSRF value is per session and is not the id.
        let other = random_string(SESSION_BYTES);
        assert_ne!(session_csrf(&id), session_csrf(&other));
        assert_eq!(session_csrf(&id), session_csrf(&id));
        assert!(!session_csrf(&id).contains(&id));
    }
}
