//! `atlas.sum`: compute, write, parse and validate, byte-identical with Atlas.
//!
//! One SHA-256 state runs over the whole directory and is never reset: for each file (in directory order) its
//! name is fed, then — unless its first line says `atlas:sum ignore` — its raw bytes, and the digest so far is the
//! file's entry. The header is the SHA-256 of every `name ‖ hash` pair concatenated. So changing one file changes
//! its entry and every later one, never an earlier one.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::dir::{MigrationDir, MigrationFile, SUM_FILE};
use crate::directive::is_sum_ignored;
use crate::quote::{go_quote, shorten};

/// How many characters of an `atlas.sum` line or name a message shows at most.
const SHOWN_CHARS: usize = 120;

/// One `atlas.sum` line after the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumEntry {
    /// The file name.
    pub name: String,
    /// The base64 hash, without `h1:`.
    pub hash: String,
}

/// The content of an `atlas.sum` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumFile {
    entries: Vec<SumEntry>,
}

impl SumFile {
    /// Computes the sum of a directory's files.
    pub fn compute(files: &[MigrationFile]) -> Self {
        Self::compute_with(files, |_, bytes| std::borrow::Cow::Borrowed(bytes))
    }

    /// Computes the sum after passing each file's content through `view` (used to test whether only line
    /// endings differ; the real sum never transforms anything).
    fn compute_with<'a>(
        files: &'a [MigrationFile],
        view: impl Fn(usize, &'a [u8]) -> std::borrow::Cow<'a, [u8]>,
    ) -> Self {
        let mut h = Sha256::new();
        let mut entries = Vec::with_capacity(files.len());
        for (i, f) in files.iter().enumerate() {
            h.update(f.name().as_bytes());
            let bytes = view(i, f.bytes());
            if is_sum_ignored(&bytes) {
                continue;
            }
            h.update(&bytes);
            entries.push(SumEntry {
                name: f.name().to_owned(),
                hash: B64.encode(h.clone().finalize()),
            });
        }
        Self { entries }
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[SumEntry] {
        &self.entries
    }

    /// The hash of the file with this name (base64, without `h1:`).
    pub fn hash_of(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.hash.as_str())
    }

    /// The directory sum in the header (base64, without `h1:`).
    pub fn dir_sum(&self) -> String {
        let mut h = Sha256::new();
        for e in &self.entries {
            h.update(e.name.as_bytes());
            h.update(e.hash.as_bytes());
        }
        B64.encode(h.finalize())
    }

    /// The file's bytes: `h1:<sum>` then `<name> h1:<hash>` per entry, every line ending in `\n`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("h1:{}\n", self.dir_sum());
        for e in &self.entries {
            out.push_str(&e.name);
            out.push_str(" h1:");
            out.push_str(&e.hash);
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Parses an `atlas.sum` file as Atlas does: lines may end in `\r\n`; every line after the first is split at
    /// its first `h1:`; the header must equal the sum recomputed from the entries.
    pub fn parse(bytes: &[u8]) -> Result<Self, SumError> {
        let text = std::str::from_utf8(bytes).map_err(|e| SumError::Format {
            line: bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1,
            reason: "it is not valid UTF-8".into(),
        })?;
        let mut lines = text.split_inclusive('\n').map(|l| {
            let l = l.strip_suffix('\n').unwrap_or(l);
            l.strip_suffix('\r').unwrap_or(l)
        });
        let header = lines.next().unwrap_or_default();
        let stored = header.strip_prefix("h1:").unwrap_or(header).to_owned();
        let mut entries = Vec::new();
        for (i, line) in lines.enumerate() {
            let Some((name, hash)) = line.split_once("h1:") else {
                return Err(SumError::Format {
                    line: i + 2,
                    reason: format!(
                        "expected `<file> h1:<hash>`, found {}",
                        go_quote(&shorten(line, SHOWN_CHARS))
                    ),
                });
            };
            entries.push(SumEntry {
                name: name.trim().to_owned(),
                hash: hash.to_owned(),
            });
        }
        let sum = Self { entries };
        if sum.dir_sum() != stored {
            return Err(SumError::HeaderMismatch);
        }
        Ok(sum)
    }
}

/// How a file differs from what `atlas.sum` recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A file that `atlas.sum` does not list.
    Added,
    /// A listed file whose content (or an earlier file's) changed.
    Edited,
    /// A listed file that no longer exists.
    Removed,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Added => "added",
            Self::Edited => "edited",
            Self::Removed => "removed",
        })
    }
}

/// The first difference between `atlas.sum` and the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The `atlas.sum` line of the difference (line 1 is the header).
    pub line: usize,
    /// The file concerned.
    pub file: String,
    /// What happened to it.
    pub change: Change,
    /// Set when the sum would verify with line endings flipped (CRLF ↔ LF, BOM removed): the files named here
    /// differ from what was hashed only in their line endings.
    pub line_endings: Option<LineEndings>,
}

impl Mismatch {
    /// The file name for messages: a name taken from `atlas.sum` can be any length, so long ones are cut.
    pub fn shown_file(&self) -> std::borrow::Cow<'_, str> {
        shorten(&self.file, SHOWN_CHARS)
    }
}

/// Which line endings the files have now, when only line endings differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEndings {
    /// The files whose line endings changed.
    pub files: Vec<String>,
    /// Whether they now have Windows line endings (CRLF) rather than Unix ones (LF).
    pub now_crlf: bool,
}

/// `atlas.sum` is missing, malformed or does not match the files.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SumError {
    /// The directory has migration files but no `atlas.sum`.
    #[error(
        "checksum file not found: the directory has migration files but no atlas.sum; run 'strata migrate hash' to create it"
    )]
    NotFound,
    /// A line of `atlas.sum` cannot be read.
    #[error(
        "checksum file format invalid: atlas.sum line {line}: {reason}; regenerate it with 'strata migrate hash'"
    )]
    Format {
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The header does not match the entries (the file was edited by hand).
    #[error(
        "checksum mismatch: the atlas.sum header does not match its entries (was it edited by hand?); run 'strata migrate hash' to regenerate it"
    )]
    HeaderMismatch,
    /// The files changed since `atlas.sum` was written.
    #[error("checksum mismatch: {}", describe(.0))]
    Mismatch(Box<Mismatch>),
}

fn describe(m: &Mismatch) -> String {
    let mut s = format!(
        "{} was {} (atlas.sum line {})",
        m.shown_file(),
        m.change,
        m.line
    );
    if let Some(le) = &m.line_endings {
        s.push_str("; ");
        s.push_str(&le.explain());
    } else {
        s.push_str(
            "; if the change is intended, run 'strata migrate hash' to re-hash the directory",
        );
    }
    s
}

impl LineEndings {
    /// A sentence saying which files changed line endings and how to fix it.
    pub fn explain(&self) -> String {
        let (now, was) = if self.now_crlf {
            ("Windows (CRLF)", "Unix (LF)")
        } else {
            ("Unix (LF)", "Windows (CRLF)")
        };
        let files = match self.files.as_slice() {
            [one] => one.clone(),
            many => format!("{} files ({} …)", many.len(), many[0]),
        };
        format!(
            "only line endings differ: {files} now has {now} line endings but atlas.sum was computed with {was} ones. \
             Restore the original line endings (add `*.sql -text` or `*.sql eol=lf` to .gitattributes and check the \
             files out again), or run 'strata migrate hash' if the new endings are deliberate"
        )
    }
}

impl SumError {
    /// The short error Atlas prints after `Error: `.
    pub fn atlas_error(&self) -> &'static str {
        match self {
            Self::NotFound => "checksum file not found",
            Self::Format { .. } => "checksum file format invalid",
            Self::HeaderMismatch | Self::Mismatch(_) => "checksum mismatch",
        }
    }
}

/// Validates a directory against its `atlas.sum`, returning the parsed sum when it verifies.
pub fn validate(dir: &MigrationDir) -> Result<SumFile, SumError> {
    let Some(bytes) = dir.sum_bytes() else {
        return if dir.files().is_empty() {
            Ok(SumFile::compute(&[]))
        } else {
            Err(SumError::NotFound)
        };
    };
    // A directory from a snapshot may already know what its files sum to, and an `atlas.sum` that is exactly
    // those bytes is valid without parsing it again.
    if let (Some(known), Some(known_bytes)) = (dir.computed_sum(), dir.computed_sum_bytes())
        && known_bytes == bytes
    {
        return Ok(known.clone());
    }
    let stored = SumFile::parse(bytes)?;
    let actual = match dir.computed_sum() {
        Some(known) => known.clone(),
        None => SumFile::compute(dir.files()),
    };
    if stored.dir_sum() == actual.dir_sum() {
        return Ok(actual);
    }
    let (line, file, change) = first_difference(&stored, &actual);
    let line_endings = line_endings_hint(dir.files(), &stored, &file);
    Err(SumError::Mismatch(Box::new(Mismatch {
        line,
        file,
        change,
        line_endings,
    })))
}

fn first_difference(stored: &SumFile, actual: &SumFile) -> (usize, String, Change) {
    for (i, s) in stored.entries.iter().enumerate() {
        match actual.entries.get(i) {
            Some(a) if a == s => continue,
            Some(a) if a.name == s.name => return (i + 2, s.name.clone(), Change::Edited),
            _ if !actual.entries.iter().any(|a| a.name == s.name) => {
                return (i + 2, s.name.clone(), Change::Removed);
            }
            Some(a) => return (i + 2, a.name.clone(), Change::Added),
            // Unreachable in practice: fewer actual entries means a stored one is absent (removed).
            None => return (i + 2, s.name.clone(), Change::Removed),
        }
    }
    let extra = &actual.entries[stored.entries.len()];
    (stored.entries.len() + 2, extra.name.clone(), Change::Added)
}

/// Line endings flipped one way: CRLF → LF (and a leading UTF-8 BOM dropped), or LF → CRLF.
fn flip(bytes: &[u8], to_crlf: bool) -> Vec<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for (i, &b) in bytes.iter().enumerate() {
        if to_crlf {
            if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(b);
        } else if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

fn has_crlf(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == b"\r\n")
}

/// When the sum verifies after flipping line endings — of every file, or of the reported one — say so.
fn line_endings_hint(
    files: &[MigrationFile],
    stored: &SumFile,
    reported: &str,
) -> Option<LineEndings> {
    let target = stored.dir_sum();
    for to_crlf in [false, true] {
        let all = SumFile::compute_with(files, |_, b| std::borrow::Cow::Owned(flip(b, to_crlf)));
        if all.dir_sum() == target {
            let changed: Vec<String> = files
                .iter()
                .filter(|f| flip(f.bytes(), to_crlf) != f.bytes())
                .map(|f| f.name().to_owned())
                .collect();
            return Some(LineEndings {
                files: changed,
                now_crlf: !to_crlf,
            });
        }
        let idx = files.iter().position(|f| f.name() == reported)?;
        let one = SumFile::compute_with(files, |i, b| {
            if i == idx {
                std::borrow::Cow::Owned(flip(b, to_crlf))
            } else {
                std::borrow::Cow::Borrowed(b)
            }
        });
        if one.dir_sum() == target {
            return Some(LineEndings {
                files: vec![reported.to_owned()],
                now_crlf: has_crlf(files[idx].bytes()),
            });
        }
    }
    None
}

/// Recomputes `atlas.sum` for a directory on disk and writes it (mode 0644), as `migrate hash` does.
pub fn write(path: &std::path::Path, dir: &MigrationDir) -> Result<SumFile, std::io::Error> {
    let sum = SumFile::compute(dir.files());
    let target = path.join(SUM_FILE);
    // Write to a temporary file and rename, so a crash never leaves a half-written atlas.sum.
    let tmp = path.join(format!(".{SUM_FILE}.tmp{}", std::process::id()));
    std::fs::write(&tmp, sum.to_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))?;
    }
    std::fs::rename(&tmp, &target).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_files() -> Vec<MigrationFile> {
        vec![
            MigrationFile::new(
                "20220318104614_initial.sql",
                "-- create \"tbl\" table\nCREATE TABLE tbl (`col` int NOT NULL);\n",
            ),
            MigrationFile::new(
                "20220318104615_second.sql",
                "ALTER TABLE `tbl` ADD `col_2` bigint;\n",
            ),
        ]
    }

    const VECTOR_SUM: &str = "h1:GMi7mvWSIHv0I/Wrc2NCGVt9Z5hWZbPa6wL986t7Z2o=\n\
        20220318104614_initial.sql h1:FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc=\n\
        20220318104615_second.sql h1:wbPDlODOQeixCiopAhlT7W4xOO9TgJxzjYjxf4TA2f4=\n";

    #[test]
    fn golden_vector() {
        let sum = SumFile::compute(&vector_files());
        assert_eq!(String::from_utf8(sum.to_bytes()).unwrap(), VECTOR_SUM);
        assert_eq!(SumFile::parse(VECTOR_SUM.as_bytes()).unwrap(), sum);
    }

    #[test]
    fn empty_sum() {
        assert_eq!(
            SumFile::compute(&[]).to_bytes(),
            b"h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
    }

    #[test]
    fn sum_ignore_skips_the_entry_but_hashes_the_name() {
        let mut files = vector_files();
        files.insert(
            1,
            MigrationFile::new("20220318104614_z.sql", "-- atlas:sum ignore\nSELECT 1;\n"),
        );
        let sum = SumFile::compute(&files);
        assert_eq!(sum.entries().len(), 2);
        assert_eq!(
            sum.entries()[0].hash,
            "FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc="
        );
        // the ignored name entered the running hash, so the next entry differs from the vector
        assert_ne!(
            sum.entries()[1].hash,
            "wbPDlODOQeixCiopAhlT7W4xOO9TgJxzjYjxf4TA2f4="
        );
        let mut h = Sha256::new();
        h.update(files[0].name());
        h.update(files[0].bytes());
        h.update(files[1].name());
        h.update(files[2].name());
        h.update(files[2].bytes());
        assert_eq!(sum.entries()[1].hash, B64.encode(h.finalize()));
    }

    #[test]
    fn parse_accepts_crlf_sum_and_rejects_bad_lines() {
        let crlf = VECTOR_SUM.replace('\n', "\r\n");
        assert_eq!(
            SumFile::parse(crlf.as_bytes()).unwrap(),
            SumFile::compute(&vector_files())
        );
        let bad = VECTOR_SUM.replace(
            "20220318104615_second.sql h1:",
            "20220318104615_second.sql ",
        );
        assert!(matches!(
            SumFile::parse(bad.as_bytes()),
            Err(SumError::Format { line: 3, .. })
        ));
        let edited = VECTOR_SUM.replace("h1:GMi7", "h1:XMi7");
        assert_eq!(
            SumFile::parse(edited.as_bytes()),
            Err(SumError::HeaderMismatch)
        );
        assert_eq!(SumFile::parse(b""), Err(SumError::HeaderMismatch));
        assert!(matches!(
            SumFile::parse(b"\xff\n"),
            Err(SumError::Format { line: 1, .. })
        ));
    }

    #[test]
    fn echoed_lines_are_cut() {
        let junk = format!("h1:x\n{}\n", "j".repeat(10 << 20));
        let e = SumFile::parse(junk.as_bytes()).unwrap_err();
        let SumError::Format { line: 2, reason } = &e else {
            panic!("{e:?}")
        };
        assert!(
            reason.ends_with(&format!("found \"{}…\"", "j".repeat(120))),
            "{reason}"
        );
        assert!(e.to_string().len() < 400, "{} bytes", e.to_string().len());
        // Control characters are quoted, not echoed.
        let e = SumFile::parse(b"h1:x\n\x1b[2J\n").unwrap_err();
        assert!(e.to_string().contains(r#"found "\x1b[2J""#), "{e}");
        // A name taken from atlas.sum (a removed file) is cut too.
        let name = format!("{}.sql", "n".repeat(5000));
        let stored = SumFile {
            entries: vec![SumEntry {
                name: name.clone(),
                hash: "x".into(),
            }],
        };
        let d = dir(vec![], &String::from_utf8(stored.to_bytes()).unwrap());
        let m = mismatch(&d);
        assert_eq!(
            (m.file.as_str(), m.change),
            (name.as_str(), Change::Removed)
        );
        let text = SumError::Mismatch(Box::new(m)).to_string();
        assert!(text.len() < 400, "{text}");
    }

    fn dir(files: Vec<MigrationFile>, sum: &str) -> MigrationDir {
        MigrationDir::from_parts("d", files, Some(sum.as_bytes().to_vec())).unwrap()
    }

    fn mismatch(d: &MigrationDir) -> Mismatch {
        match validate(d) {
            Err(SumError::Mismatch(m)) => *m,
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn validate_reports_added_edited_removed() {
        assert!(validate(&dir(vector_files(), VECTOR_SUM)).is_ok());
        let mut files = vector_files();
        files.push(MigrationFile::new("20220318104616_third.sql", "SELECT 1;"));
        let m = mismatch(&dir(files, VECTOR_SUM));
        assert_eq!(
            (m.line, m.file.as_str(), m.change),
            (4, "20220318104616_third.sql", Change::Added)
        );

        let mut files = vector_files();
        files.insert(
            0,
            MigrationFile::new("20220318104613_zero.sql", "SELECT 1;"),
        );
        let m = mismatch(&dir(files, VECTOR_SUM));
        assert_eq!(
            (m.line, m.file.as_str(), m.change),
            (2, "20220318104613_zero.sql", Change::Added)
        );

        let mut files = vector_files();
        files[1] = MigrationFile::new("20220318104615_second.sql", "SELECT 2;");
        let m = mismatch(&dir(files, VECTOR_SUM));
        assert_eq!(
            (m.line, m.file.as_str(), m.change, m.line_endings),
            (3, "20220318104615_second.sql", Change::Edited, None)
        );

        let files = vec![vector_files().remove(1)];
        let m = mismatch(&dir(files, VECTOR_SUM));
        assert_eq!(
            (m.line, m.file.as_str(), m.change),
            (2, "20220318104614_initial.sql", Change::Removed)
        );
    }

    #[test]
    fn missing_sum() {
        let d = MigrationDir::from_parts("d", vec![], None).unwrap();
        assert!(validate(&d).is_ok());
        let d = MigrationDir::from_parts("d", vector_files(), None).unwrap();
        assert_eq!(validate(&d), Err(SumError::NotFound));
    }

    #[test]
    fn crlf_is_explained_not_normalised() {
        let crlf: Vec<_> = vector_files()
            .into_iter()
            .map(|f| {
                MigrationFile::new(
                    f.name(),
                    String::from_utf8_lossy(f.bytes()).replace('\n', "\r\n"),
                )
            })
            .collect();
        let m = mismatch(&dir(crlf.clone(), VECTOR_SUM));
        assert_eq!(m.change, Change::Edited);
        let le = m.line_endings.expect("line endings hint");
        assert!(le.now_crlf);
        assert_eq!(le.files.len(), 2);
        // a sum computed over the CRLF files verifies them byte-exactly
        let crlf_sum = String::from_utf8(SumFile::compute(&crlf).to_bytes()).unwrap();
        assert!(validate(&dir(crlf.clone(), &crlf_sum)).is_ok());
        // back to LF against the CRLF sum: the hint says LF now
        let m = mismatch(&dir(vector_files(), &crlf_sum));
        assert!(!m.line_endings.unwrap().now_crlf);
        // only the second file converted
        let mut files = vector_files();
        files[1] = crlf[1].clone();
        let m = mismatch(&dir(files, VECTOR_SUM));
        assert_eq!(
            m.line_endings.unwrap().files,
            vec!["20220318104615_second.sql".to_string()]
        );
        let msg = mismatch(&dir(crlf, VECTOR_SUM));
        let text = SumError::Mismatch(Box::new(msg)).to_string();
        assert!(
            text.contains("Windows (CRLF)") && text.contains(".gitattributes"),
            "{text}"
        );
    }

    #[test]
    fn non_ascii_names() {
        let files = vec![
            MigrationFile::new("1_ünïcode_表.sql", "SELECT 'é';\n"),
            MigrationFile::new("2_b.sql", "x"),
        ];
        let sum = SumFile::compute(&files);
        let bytes = sum.to_bytes();
        assert!(
            String::from_utf8(bytes.clone())
                .unwrap()
                .contains("1_ünïcode_表.sql h1:")
        );
        assert_eq!(SumFile::parse(&bytes).unwrap(), sum);
        let mut h = Sha256::new();
        h.update("1_ünïcode_表.sql".as_bytes());
        h.update("SELECT 'é';\n".as_bytes());
        assert_eq!(sum.entries()[0].hash, B64.encode(h.finalize()));
    }
}
