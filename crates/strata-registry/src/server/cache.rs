//! Small in-memory caches: verified tokens (for [`super::Config::token_cache_ttl`], by default
//! [`super::TOKEN_CACHE_TTL`]) and version contents (immutable, so cached by id without expiry, bounded in size).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::model::VersionContent;

const MAX_TOKENS: usize = 10_000;
const MAX_CONTENT_BYTES: usize = 64 << 20;

pub(crate) struct Cache {
    /// How long a verified token stays trusted; zero disables the token cache.
    token_ttl: Duration,
    tokens: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    contents: Mutex<Contents>,
}

#[derive(Default)]
struct Contents {
    map: HashMap<(String, String, String), Arc<Cached>>,
    bytes: usize,
}

/// A version's content with its serialized forms, built once on first use.
pub(crate) struct Cached {
    pub(crate) content: VersionContent,
    tar: OnceLock<Bytes>,
    files_json: OnceLock<Bytes>,
}

impl Cached {
    pub(crate) fn new(content: VersionContent) -> Self {
        Self {
            content,
            tar: OnceLock::new(),
            files_json: OnceLock::new(),
        }
    }

    /// The tar archive.
    pub(crate) fn tar(&self) -> Bytes {
        self.tar
            .get_or_init(|| Bytes::from(crate::upload::to_tar(&self.content)))
            .clone()
    }

    /// The JSON array of files of a listing.
    pub(crate) fn files_json(&self) -> Bytes {
        self.files_json
            .get_or_init(|| {
                Bytes::from(
                    serde_json::to_vec(&crate::upload::to_json_files(&self.content))
                        .unwrap_or_else(|_| b"[]".to_vec()),
                )
            })
            .clone()
    }
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Cache {
    pub(crate) fn new(token_ttl: Duration) -> Self {
        Self {
            token_ttl,
            tokens: Mutex::default(),
            contents: Mutex::default(),
        }
    }

    pub(crate) fn principal(&self, token: &str) -> Option<Principal> {
        let k = key(token);
        let map = self.tokens.lock().ok()?;
        let (p, at) = map.get(&k)?;
        (at.elapsed() < self.token_ttl).then(|| p.clone())
    }

    pub(crate) fn remember_principal(&self, token: &str, p: &Principal) {
        if self.token_ttl.is_zero() {
            return;
        }
        if let Ok(mut map) = self.tokens.lock() {
            if map.len() >= MAX_TOKENS {
                let ttl = self.token_ttl;
                map.retain(|_, (_, at)| at.elapsed() < ttl);
                if map.len() >= MAX_TOKENS {
                    map.clear();
                }
            }
            map.insert(key(token), (p.clone(), Instant::now()));
        }
    }

    /// Forgets every cached token (after a revocation through this server).
    pub(crate) fn forget_tokens(&self) {
        if let Ok(mut map) = self.tokens.lock() {
            map.clear();
        }
    }

    pub(crate) fn content(&self, project: &str, dir: &str, id: &str) -> Option<Arc<Cached>> {
        let c = self.contents.lock().ok()?;
        c.map
            .get(&(project.to_owned(), dir.to_owned(), id.to_owned()))
            .cloned()
    }

    pub(crate) fn remember_content(&self, project: &str, dir: &str, content: Arc<Cached>) {
        // Content plus its two serialized forms.
        let c = &content.content;
        let size: usize = 3
            * (c.sum.len()
                + c.files
                    .iter()
                    .map(|(n, b)| n.len() + b.len())
                    .sum::<usize>());
        if size > MAX_CONTENT_BYTES / 4 {
            return;
        }
        if let Ok(mut c) = self.contents.lock() {
            if c.bytes + size > MAX_CONTENT_BYTES {
                c.map.clear();
                c.bytes = 0;
            }
            c.bytes += size;
            c.map.insert(
                (
                    project.to_owned(),
                    dir.to_owned(),
                    content.content.info.id.clone(),
                ),
                content,
            );
        }
    }
}
