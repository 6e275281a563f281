//! Tokens: `strata_<id>_<secret>`, where `<id>` (12 characters) is public and names the row, and the whole token
//! is stored only as its SHA-256 hash, compared in constant time. A token belongs to one project and grants
//! scopes within it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::error::{RegistryError, Result};
use crate::model::{Scope, Scopes, TokenInfo};
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

fn token_hash(token: &str) -> String {
    crate::upload::hex(&Sha256::digest(token.as_bytes()))
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
        return Err(RegistryError::InvalidName {
            kind: "scope list",
            value: String::new(),
            reason: "name at least one of read, push, report, admin",
        });
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
        .insert_token(project, &id, name, scopes, &token_hash(&token))
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
    let presented = token_hash(token);
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
