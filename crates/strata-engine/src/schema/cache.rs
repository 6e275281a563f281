//! The replay cache: the schema a migration directory prefix builds, stored under the prefix's content address
//! ([`strata_migrate::replay::prefix_keys`]) so a later replay starts where the cached one ended.
//!
//! **Where**: the `replay/` folder of the user's cache ([`crate::cache::root`]), never a migration directory.
//! Without a cache folder the replay cache is off.
//!
//! **Entries**: one file per key, `<key>.json`: a header line `strata-replay-cache 1 <key> <sha256 of the
//! body>` and the body, the model's JSON. A read that finds a wrong header, another key, a checksum that does
//! not match, JSON that does not parse or a realm of another dialect is a miss: the entry is never trusted, and
//! the replay that follows writes it again. Writes go to a temporary file renamed into place, so a reader never
//! sees half an entry and two writers of one key leave one whole entry. At most [`MAX_ENTRIES`] entries are
//! kept: after a write, the least recently used (by modification time, which a hit refreshes) go.
//!
//! Nothing here is required for correctness: every failure to read or write the cache only costs a replay.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use strata_migrate::Dialect;
use strata_migrate::replay::PrefixKey;
use strata_schema::Realm;

use crate::cache::hex;
pub use crate::cache::{CACHE_DIR_ENV, MAX_ENTRIES};

const MAGIC: &str = "strata-replay-cache 1";

/// The replay cache in one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayCache {
    root: PathBuf,
}

impl ReplayCache {
    /// The cache under `dir` (its `replay/` folder, created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ReplayCache {
            root: dir.into().join("replay"),
        }
    }

    /// The user's cache ([`crate::cache::root`]), or `None` when it is turned off or has no place.
    pub fn from_env() -> Option<Self> {
        crate::cache::root().map(Self::new)
    }

    /// The folder holding the entries.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &PrefixKey) -> PathBuf {
        self.root.join(format!("{key}.json"))
    }

    /// The realm cached under `key`, if a valid entry of `dialect` is there.
    pub fn get(&self, key: &PrefixKey, dialect: Dialect) -> Option<Realm> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        let realm = decode(key, dialect, &bytes)?;
        crate::cache::touch(&path);
        Some(realm)
    }

    /// Stores `realm` under `key`, replacing what was there; then trims the cache to [`MAX_ENTRIES`].
    pub fn put(&self, key: &PrefixKey, realm: &Realm) -> std::io::Result<()> {
        let bytes = encode(key, realm)?;
        crate::cache::write_entry(&self.root, key.as_str(), "json", &bytes)
    }
}

/// An entry's bytes: the header line, then the realm's JSON.
pub fn encode(key: &PrefixKey, realm: &Realm) -> std::io::Result<Vec<u8>> {
    let body = serde_json::to_vec(realm)?;
    let mut out = format!("{MAGIC} {key} {}\n", hex(&Sha256::digest(&body))).into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// The realm of an entry read for `key`, or `None` when the entry is not a whole, matching one of `dialect`.
pub fn decode(key: &PrefixKey, dialect: Dialect, bytes: &[u8]) -> Option<Realm> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let (header, body) = (std::str::from_utf8(&bytes[..nl]).ok()?, &bytes[nl + 1..]);
    let rest = header.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    let (k, sum) = rest.split_once(' ')?;
    if k != key.as_str() || sum != hex(&Sha256::digest(body)) {
        return None;
    }
    let realm: Realm = serde_json::from_slice(body).ok()?;
    (realm.dialect == dialect).then_some(realm)
}

#[cfg(test)]
mod tests {
    use strata_migrate::MigrationFile;
    use strata_migrate::replay::prefix_keys;
    use strata_schema::{Column, ColumnType, Schema, Table};

    use super::*;

    fn key(n: &str) -> PrefixKey {
        prefix_keys(b"test", &[MigrationFile::new(n, "x")])
            .pop()
            .unwrap()
    }

    fn realm() -> Realm {
        let mut r = Realm::new(Dialect::Postgres);
        let mut s = Schema::new("public");
        let mut t = Table::new("users");
        let mut c = Column::new("id", ColumnType::parse(Dialect::Postgres, "bigint"));
        c.nullable = false;
        t.columns.push(c);
        s.tables.push(t);
        r.schemas.push(s);
        r
    }

    #[test]
    fn entries_round_trip_and_anything_else_is_a_miss() {
        let k = key("1.sql");
        let bytes = encode(&k, &realm()).unwrap();
        assert_eq!(decode(&k, Dialect::Postgres, &bytes), Some(realm()));
        // Another key, another dialect.
        assert_eq!(decode(&key("2.sql"), Dialect::Postgres, &bytes), None);
        assert_eq!(decode(&k, Dialect::Mysql, &bytes), None);
        // Truncated anywhere, a flipped byte anywhere in the body, an empty file, garbage.
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(decode(&k, Dialect::Postgres, &bytes[..cut]), None, "{cut}");
        }
        let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
        for at in [nl + 1, nl + 20, bytes.len() - 2] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x01;
            assert_eq!(decode(&k, Dialect::Postgres, &bad), None, "{at}");
        }
        assert_eq!(decode(&k, Dialect::Postgres, b"not a cache entry"), None);
        // A correct checksum over a body that is not a realm is still a miss.
        let body = b"{\"x\":1}";
        let mut forged = format!("{MAGIC} {k} {}\n", hex(&Sha256::digest(body))).into_bytes();
        forged.extend_from_slice(body);
        assert_eq!(decode(&k, Dialect::Postgres, &forged), None);
    }

    #[test]
    fn the_store_reads_back_ignores_corruption_and_trims() {
        let t = tempfile::tempdir().unwrap();
        let c = ReplayCache::new(t.path());
        let k = key("1.sql");
        assert_eq!(c.get(&k, Dialect::Postgres), None);
        c.put(&k, &realm()).unwrap();
        assert_eq!(c.get(&k, Dialect::Postgres), Some(realm()));
        // Corrupt the entry: a miss, and the next put rewrites it.
        let path = c.root().join(format!("{k}.json"));
        std::fs::write(&path, b"strata-replay-cache 1 garbage").unwrap();
        assert_eq!(c.get(&k, Dialect::Postgres), None);
        c.put(&k, &realm()).unwrap();
        assert_eq!(c.get(&k, Dialect::Postgres), Some(realm()));
        // An unreadable entry (a folder in its place) is a miss too.
        let k2 = key("2.sql");
        std::fs::create_dir_all(c.root().join(format!("{k2}.json"))).unwrap();
        assert_eq!(c.get(&k2, Dialect::Postgres), None);
        std::fs::remove_dir(c.root().join(format!("{k2}.json"))).unwrap();
        // Trimmed to MAX_ENTRIES, oldest first.
        for i in 0..MAX_ENTRIES + 3 {
            c.put(&key(&format!("{i}.sql")), &realm()).unwrap();
        }
        let n = std::fs::read_dir(c.root()).unwrap().count();
        assert_eq!(n, MAX_ENTRIES);
        assert_eq!(
            c.get(&key(&format!("{}.sql", MAX_ENTRIES + 2)), Dialect::Postgres),
            Some(realm())
        );
    }
}
