//! Push formats and push validation.
//!
//! A push carries the top-level files of one migration directory — its `*.sql` files and `atlas.sum` — in one of
//! two formats:
//!
//! - **JSON** (`Content-Type: application/json`):
//!   `{"files": [{"name": "atlas.sum", "base64": "…"}, {"name": "1_init.sql", "text": "CREATE …"}]}` — each
//!   file gives its content either as UTF-8 `text` or as standard `base64` (exactly one of the two);
//! - **tar** (`Content-Type: application/x-tar`): a plain (uncompressed) ustar/GNU/pax archive of regular files;
//!   a leading `./` and entries for the directory itself are accepted.
//!
//! Both are parsed defensively and refused, with the reason, when: a name repeats; a path is absolute, contains
//! `..` or names a sub-directory; an archive entry is a link or anything but a regular file; a file is neither
//! `*.sql` nor `atlas.sum`; a limit is exceeded; `atlas.sum` is missing or does not verify against the files.

use std::collections::BTreeSet;
use std::io::Read as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use strata_migrate::dir::SUM_FILE;
use strata_migrate::{MigrationDir, MigrationFile, sum};

use crate::error::{RegistryError, Result};
use crate::model::{AttachmentKind, JsonFile, JsonUpload, VersionContent};

/// Size limits of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Most files in one directory.
    pub max_files: usize,
    /// Largest single file, in bytes.
    pub max_file_bytes: usize,
    /// Most bytes of request bodies the server reads and processes at once, across all requests
    /// (`--max-upload-bytes-in-flight`). A request whose body does not fit waits until earlier ones finish; one
    /// larger than the whole budget runs alone. A push needs about 3 times its body in memory while it is
    /// validated and stored, so this bounds the memory of concurrent pushes.
    pub max_upload_bytes_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self::with_max_upload_bytes(32 << 20)
    }
}

impl Limits {
    /// The default limits for a largest push of `max_upload_bytes`: the budget in flight holds two of them.
    pub fn with_max_upload_bytes(max_upload_bytes: usize) -> Self {
        Self {
            max_upload_bytes,
            max_files: 10_000,
            max_file_bytes: 8 << 20,
            max_upload_bytes_in_flight: max_upload_bytes.saturating_mul(2),
        }
    }
}

/// A directory that passed every push check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedDir {
    /// Migration files in Atlas order.
    pub files: Vec<(String, Vec<u8>)>,
    /// `atlas.sum` as uploaded.
    pub sum: Vec<u8>,
    /// The version id: the header hash as hex.
    pub digest: String,
    /// The header as Atlas writes it: `h1:<base64>`.
    pub header: String,
    /// Total bytes of the migration files.
    pub size: i64,
    /// The version part of the last file's name.
    pub last_migration: String,
    /// What the push carries beside the files (JSON uploads only), as compact JSON text: stored with the
    /// version, never part of its id.
    pub attachments: Vec<(AttachmentKind, String)>,
}

fn invalid(msg: impl Into<String>) -> RegistryError {
    RegistryError::InvalidUpload(msg.into())
}

fn shown(name: &str) -> String {
    let mut s: String = name.chars().take(120).collect();
    if s.len() < name.len() {
        s.push('…');
    }
    format!("{s:?}")
}

/// Checks one name from an upload and returns the plain file name.
fn clean_name(raw: &str) -> Result<String> {
    if raw.is_empty() {
        return Err(invalid("a file has an empty name"));
    }
    if raw.contains('\0') {
        return Err(invalid(format!(
            "file name {} contains a NUL byte",
            shown(raw)
        )));
    }
    if let Some(c) = crate::model::hidden_or_control(raw) {
        return Err(invalid(format!(
            "file name {} contains the control or invisible formatting character U+{:04X}, which can make a name \
             display as another; rename the file",
            shown(raw),
            c as u32
        )));
    }
    let bytes = raw.as_bytes();
    if raw.starts_with('/')
        || raw.starts_with('\\')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
    {
        return Err(invalid(format!(
            "file name {} is an absolute path; upload the directory's files by plain name",
            shown(raw)
        )));
    }
    let mut name = raw;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    if name.split(['/', '\\']).any(|seg| seg == "..") {
        return Err(invalid(format!(
            "file name {} escapes the directory (\"..\")",
            shown(raw)
        )));
    }
    if name.contains(['/', '\\']) {
        return Err(invalid(format!(
            "file name {} is inside a sub-directory; a migration directory is flat (upload its top-level files only)",
            shown(raw)
        )));
    }
    if name != SUM_FILE && (!name.ends_with(".sql") || name == ".sql") {
        return Err(invalid(format!(
            "file {} is neither a *.sql migration nor atlas.sum; upload only those",
            shown(raw)
        )));
    }
    Ok(name.to_owned())
}

/// Collects named files while enforcing the limits and unique names.
struct Collector<'a> {
    limits: &'a Limits,
    names: BTreeSet<String>,
    files: Vec<(String, Vec<u8>)>,
    total: usize,
}

impl<'a> Collector<'a> {
    fn new(limits: &'a Limits) -> Self {
        Self {
            limits,
            names: BTreeSet::new(),
            files: Vec::new(),
            total: 0,
        }
    }

    /// Checks a file's name and announced size before its content is read.
    fn admit(&mut self, raw: &str, size: u64) -> Result<String> {
        let name = clean_name(raw)?;
        if self.names.contains(&name) {
            return Err(invalid(format!(
                "file {} appears more than once",
                shown(&name)
            )));
        }
        if self.files.len() >= self.limits.max_files {
            return Err(RegistryError::TooLarge(format!(
                "more than {} files; split the directory or raise the server's limit",
                self.limits.max_files
            )));
        }
        if size > self.limits.max_file_bytes as u64 {
            return Err(RegistryError::TooLarge(format!(
                "file {} has {size} bytes, more than the limit of {} bytes per file",
                shown(&name),
                self.limits.max_file_bytes
            )));
        }
        self.total = self.total.saturating_add(size as usize);
        if self.total > self.limits.max_upload_bytes {
            return Err(RegistryError::TooLarge(format!(
                "the files add up to more than the upload limit of {} bytes",
                self.limits.max_upload_bytes
            )));
        }
        Ok(name)
    }

    fn push(&mut self, name: String, bytes: Vec<u8>) {
        self.names.insert(name.clone());
        self.files.push((name, bytes));
    }
}

/// Parses a JSON body that must be an object. (Serde also builds a struct from an array of its fields in order,
/// so `[true]` would pass for `{"immutable_tags": true}`; no documented body is an array.)
pub(crate) fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(serde::de::Error::custom("expected a JSON object ({…})"));
    }
    serde_json::from_slice(body)
}

/// Parses and validates a JSON upload.
pub fn from_json(body: &[u8], limits: &Limits) -> Result<ValidatedDir> {
    if body.len() > limits.max_upload_bytes {
        return Err(RegistryError::TooLarge(format!(
            "the upload has more than {} bytes",
            limits.max_upload_bytes
        )));
    }
    let upload: JsonUpload = json_object(body).map_err(|e| {
        invalid(format!(
            "the body is not a valid JSON upload ({e}); send {{\"files\": [{{\"name\": \"…\", \"text\" or \"base64\": \"…\"}}]}}"
        ))
    })?;
    let mut c = Collector::new(limits);
    for f in upload.files {
        let bytes = match (f.text, f.base64) {
            (Some(t), None) => t.into_bytes(),
            (None, Some(b)) => B64.decode(b.as_bytes()).map_err(|e| {
                invalid(format!(
                    "file {}: \"base64\" is not valid base64: {e}",
                    shown(&f.name)
                ))
            })?,
            _ => {
                return Err(invalid(format!(
                    "file {} must have exactly one of \"text\" and \"base64\"",
                    shown(&f.name)
                )));
            }
        };
        let name = c.admit(&f.name, bytes.len() as u64)?;
        c.push(name, bytes);
    }
    let mut dir = finish(c.files)?;
    if let Some(report) = upload.lint_report {
        dir.attachments
            .push((AttachmentKind::LintReport, lint_report_json(report)?));
    }
    if let Some(schema) = upload.schema {
        dir.attachments
            .push((AttachmentKind::Schema, schema_json(schema)?));
    }
    Ok(dir)
}

/// Checks a pushed lint report: `strata migrate lint --format json`'s object, `{"Files": [{"Name": …}, …]}`.
fn lint_report_json(v: serde_json::Value) -> Result<String> {
    let files = v.get("Files").and_then(|f| f.as_array()).ok_or_else(|| {
        invalid(
            "\"lint_report\" must be the object 'strata migrate lint --format json' prints ({\"Files\": [...]}); \
             produce it with that command and push it with --lint-report FILE",
        )
    })?;
    for (i, f) in files.iter().enumerate() {
        if f.get("Name").and_then(|n| n.as_str()).is_none() {
            return Err(invalid(format!(
                "\"lint_report\": Files[{i}] has no \"Name\" string; push the unmodified output of \
                 'strata migrate lint --format json'"
            )));
        }
    }
    Ok(v.to_string())
}

/// Checks a pushed schema model: the schema engine's JSON form of a realm (`{"dialect": …, "schemas": […]}`).
fn schema_json(v: serde_json::Value) -> Result<String> {
    let text = v.to_string();
    serde_json::from_str::<strata_schema::Realm>(&text).map_err(|e| {
        invalid(format!(
            "\"schema\" is not a schema model ({e}); it must be the schema engine's JSON model of the directory, \
             as 'strata migrate push --dev-url URL' sends it"
        ))
    })?;
    Ok(text)
}

/// Parses and validates a tar upload.
pub fn from_tar(body: &[u8], limits: &Limits) -> Result<ValidatedDir> {
    if body.len() > limits.max_upload_bytes {
        return Err(RegistryError::TooLarge(format!(
            "the upload has more than {} bytes",
            limits.max_upload_bytes
        )));
    }
    if body.starts_with(&[0x1f, 0x8b]) {
        return Err(invalid(
            "the archive is gzip-compressed; send a plain tar (Content-Type: application/x-tar)",
        ));
    }
    let bad = |e: std::io::Error| invalid(format!("the body is not a readable tar archive: {e}"));
    let mut archive = tar::Archive::new(body);
    let mut c = Collector::new(limits);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let raw = entry.path_bytes();
        let raw = std::str::from_utf8(&raw)
            .map_err(|_| invalid("an archive entry's name is not valid UTF-8"))?
            .to_owned();
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous => {}
            T::Directory => {
                let trimmed = raw.trim_end_matches('/');
                if trimmed.is_empty() || trimmed == "." {
                    continue;
                }
                return Err(invalid(format!(
                    "the archive contains the sub-directory {}; a migration directory is flat",
                    shown(&raw)
                )));
            }
            T::Symlink | T::Link => {
                return Err(invalid(format!(
                    "archive entry {} is a link; links are not accepted, archive the files themselves",
                    shown(&raw)
                )));
            }
            other => {
                return Err(invalid(format!(
                    "archive entry {} is not a regular file (type {:?})",
                    shown(&raw),
                    other
                )));
            }
        }
        let size = entry.size();
        let name = c.admit(&raw, size)?;
        let mut bytes = Vec::with_capacity(size.min(1 << 20) as usize);
        (&mut entry)
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(bad)?;
        if bytes.len() as u64 != size {
            return Err(invalid(format!(
                "archive entry {} is truncated",
                shown(&name)
            )));
        }
        c.push(name, bytes);
    }
    finish(c.files)
}

/// Validates a set of uploaded files: `atlas.sum` present and verifying, at least one migration file.
pub fn finish(files: Vec<(String, Vec<u8>)>) -> Result<ValidatedDir> {
    let mut sum_bytes = None;
    let mut migrations = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        if name == SUM_FILE {
            sum_bytes = Some(bytes);
        } else {
            migrations.push(MigrationFile::new(name, bytes));
        }
    }
    if migrations.is_empty() {
        return Err(invalid("the directory has no *.sql migration files"));
    }
    let Some(sum_bytes) = sum_bytes else {
        return Err(invalid(
            "atlas.sum is missing; run 'strata migrate hash' and push the directory with it",
        ));
    };
    let dir = MigrationDir::from_parts("upload", migrations, Some(sum_bytes))
        .map_err(|e| invalid(e.to_string()))?;
    let parsed = sum::validate(&dir).map_err(|e| invalid(e.to_string()))?;
    let b64 = parsed.dir_sum();
    let raw = B64
        .decode(b64.as_bytes())
        .map_err(|e| invalid(format!("atlas.sum header: {e}")))?;
    let digest = hex(&raw);
    let size = dir.files().iter().map(|f| f.bytes().len() as i64).sum();
    let last_migration = dir
        .files()
        .last()
        .map(|f| f.version().to_owned())
        .unwrap_or_default();
    let sum = dir.sum_bytes().unwrap_or_default().to_vec();
    let files = dir
        .files()
        .iter()
        .map(|f| (f.name().to_owned(), f.bytes().to_vec()))
        .collect();
    Ok(ValidatedDir {
        files,
        sum,
        digest,
        header: format!("h1:{b64}"),
        size,
        last_migration,
        attachments: Vec::new(),
    })
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 as lowercase hex: the key of stored file contents.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A deterministic tar of a version: `atlas.sum` then the files in Atlas order, mode 0644, time 0.
pub fn to_tar(content: &VersionContent) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        // Writing into a Vec cannot fail; names were validated when pushed.
        let _ = b.append_data(&mut h, name, bytes);
    };
    add(SUM_FILE, &content.sum);
    for (name, bytes) in &content.files {
        add(name, bytes);
    }
    b.into_inner().unwrap_or_default()
}

/// A JSON listing's files: `atlas.sum` then the migrations, as UTF-8 `text` when possible, else `base64`.
pub fn to_json_files(content: &VersionContent) -> Vec<JsonFile> {
    let one = |name: &str, bytes: &[u8]| match std::str::from_utf8(bytes) {
        Ok(t) => JsonFile {
            name: name.to_owned(),
            text: Some(t.to_owned()),
            base64: None,
        },
        Err(_) => JsonFile {
            name: name.to_owned(),
            text: None,
            base64: Some(B64.encode(bytes)),
        },
    };
    std::iter::once(one(SUM_FILE, &content.sum))
        .chain(content.files.iter().map(|(n, b)| one(n, b)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn dir_files(files: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        let migrations: Vec<_> = files
            .iter()
            .map(|(n, b)| MigrationFile::new(*n, b.as_bytes()))
            .collect();
        let sum = sum::SumFile::compute(&migrations).to_bytes();
        let mut out: Vec<_> = files
            .iter()
            .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
            .collect();
        out.push((SUM_FILE.into(), sum));
        out
    }

    fn tar_of(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, bytes, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(if *kind == tar::EntryType::Regular {
                bytes.len() as u64
            } else {
                0
            });
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            // Write the raw name (bypassing the builder's own path checks) to test ours.
            let n = name.as_bytes();
            h.as_old_mut().name[..n.len()].copy_from_slice(n);
            h.set_cksum();
            let data: &[u8] = if *kind == tar::EntryType::Regular {
                bytes
            } else {
                &[]
            };
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn tar_round_trip() {
        let files = dir_files(&[
            ("1_a.sql", "create table a(id int);\n"),
            ("2_b.sql", "select 1;\n"),
        ]);
        let entries: Vec<_> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice(), tar::EntryType::Regular))
            .collect();
        let v = from_tar(&tar_of(&entries), &Limits::default()).unwrap();
        assert_eq!(v.files.len(), 2);
        assert_eq!(v.last_migration, "2");
        assert_eq!(v.digest.len(), 64);
        let content = VersionContent {
            info: crate::model::VersionInfo {
                id: v.digest.clone(),
                sum: v.header.clone(),
                files: 2,
                size: v.size,
                last_migration: v.last_migration.clone(),
                created_at: crate::model::Millis(0),
                tags: vec![],
            },
            files: v.files.clone(),
            sum: v.sum.clone(),
        };
        let again = from_tar(&to_tar(&content), &Limits::default()).unwrap();
        assert_eq!(again, v);
    }

    #[test]
    fn refusals_say_why() {
        let l = Limits::default();
        let files = dir_files(&[("1_a.sql", "select 1;\n")]);
        let sum = files[1].1.clone();
        let reg = tar::EntryType::Regular;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                tar_of(&[("../1_a.sql", b"x", reg)]),
                "escapes the directory",
            ),
            (tar_of(&[("/etc/1_a.sql", b"x", reg)]), "absolute path"),
            (tar_of(&[("sub/1_a.sql", b"x", reg)]), "sub-directory"),
            (
                tar_of(&[("1_a.sql", b"", tar::EntryType::Symlink)]),
                "is a link",
            ),
            (
                tar_of(&[("1_a.sql", b"x", reg), ("./1_a.sql", b"x", reg)]),
                "more than once",
            ),
            (tar_of(&[("README.md", b"x", reg)]), "neither a *.sql"),
            (
                tar_of(&[("1_a.sql", b"select 1;\n", reg)]),
                "atlas.sum is missing",
            ),
            (
                tar_of(&[("1_a.sql", b"select 2;\n", reg), ("atlas.sum", &sum, reg)]),
                "checksum mismatch",
            ),
            (b"\x1f\x8b\x08junk".to_vec(), "gzip"),
        ];
        for (body, want) in cases {
            let e = from_tar(&body, &l).unwrap_err().to_string();
            assert!(e.contains(want), "{e} should mention {want}");
        }
        let small = Limits {
            max_file_bytes: 4,
            ..l
        };
        let e = from_tar(&tar_of(&[("1_a.sql", b"select 1;\n", reg)]), &small).unwrap_err();
        assert!(matches!(e, RegistryError::TooLarge(_)), "{e}");
    }

    #[test]
    fn json_upload_checks() {
        let l = Limits::default();
        let files = dir_files(&[("1_a.sql", "select 1;\n")]);
        let body = serde_json::json!({"files": [
            {"name": "1_a.sql", "text": "select 1;\n"},
            {"name": "atlas.sum", "base64": B64.encode(&files[1].1)},
        ]});
        let v = from_json(body.to_string().as_bytes(), &l).unwrap();
        assert_eq!(v.files[0].0, "1_a.sql");
        for (body, want) in [
            (
                serde_json::json!({"files": [{"name": "x.sql"}]}),
                "exactly one",
            ),
            (
                serde_json::json!({"files": [{"name": "x.sql", "base64": "!!"}]}),
                "not valid base64",
            ),
            (serde_json::json!({"file": []}), "not a valid JSON upload"),
            (serde_json::json!({"files": []}), "no *.sql"),
            (
                serde_json::json!({"files": [{"name": "..\\x.sql", "text": ""}]}),
                "escapes",
            ),
            (
                serde_json::json!({"files": [{"name": "C:x.sql", "text": ""}]}),
                "absolute",
            ),
        ] {
            let e = from_json(body.to_string().as_bytes(), &l)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e} should mention {want}");
        }
    }
}
