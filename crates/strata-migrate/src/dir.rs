//! A migration directory: its `*.sql` files in Atlas order and its `atlas.sum`.
//!
//! Only top-level `*.sql` files are migrations; everything else (sub-directories, `atlas.sum`, READMEs) is
//! ignored. Order is the byte order of the whole file name — the version plays no part in sorting.

use std::path::{Path, PathBuf};

use crate::directive::{self, Directives};
use crate::error::DirError;

/// Name of the checksum file.
pub const SUM_FILE: &str = "atlas.sum";

/// One migration file: its name and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    name: String,
    bytes: Vec<u8>,
}

impl MigrationFile {
    /// A file from its name (e.g. `20220318104614_initial.sql`) and raw content.
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw content, exactly as read.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The content as text; migration files must be UTF-8 to be scanned.
    pub fn text(&self) -> Result<&str, DirError> {
        std::str::from_utf8(&self.bytes).map_err(|e| DirError::NotUtf8 {
            file: self.name.clone(),
            offset: e.valid_up_to(),
        })
    }

    /// Version: the name without `.sql`, cut at the first `_`.
    pub fn version(&self) -> &str {
        version_of(&self.name)
    }

    /// Description: what follows the first `_` (without `.sql`); empty when the name has no `_`.
    pub fn description(&self) -> &str {
        description_of(&self.name)
    }

    /// The file's directives (header, first line), validated.
    pub fn directives(&self) -> Result<Directives, DirError> {
        directive::parse_file(&self.name, self.text()?)
    }

    /// Whether the file is a checkpoint (`-- atlas:checkpoint` in its header).
    pub fn is_checkpoint(&self) -> Result<bool, DirError> {
        // Every directive spells `atlas:`; without it the only possible error is the UTF-8 check. This keeps the
        // answer (and its errors) identical while sparing a full parse of every file of a large directory.
        if !self.bytes.windows(6).any(|w| w == b"atlas:") {
            self.text()?;
            return Ok(false);
        }
        Ok(self.directives()?.checkpoint.is_some())
    }
}

/// Reads a whole file with plain reads through `buf`, without asking the file's size first (`std::fs::read` and
/// `File::read_to_end` stat and seek): migration files are small, and a directory of a thousand of them spends
/// most of its time in system calls.
fn read_to_end(mut file: impl std::io::Read, buf: &mut [u8]) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    loop {
        match file.read(buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Opens files by name inside one directory. On Unix the names resolve against an open handle of the directory
/// (`openat`), so the kernel walks one path component per file instead of the whole path.
struct DirReader {
    #[cfg(not(unix))]
    path: PathBuf,
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
}

impl DirReader {
    fn open(path: &Path) -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use rustix::fs::{CWD, Mode, OFlags};
            let fd = rustix::fs::openat(
                CWD,
                path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Self { fd })
        }
        #[cfg(not(unix))]
        Ok(Self {
            path: path.to_owned(),
        })
    }

    fn read(&self, name: &str, buf: &mut [u8]) -> std::io::Result<Vec<u8>> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            read_to_end(std::fs::File::from(fd), buf)
        }
        #[cfg(not(unix))]
        read_to_end(std::fs::File::open(self.path.join(name))?, buf)
    }

    /// Reads the named files, on several threads when there are many. Results keep the order of `names`.
    fn read_all(&self, names: &[String]) -> Vec<std::io::Result<Vec<u8>>> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        self.read_on(names, reader_threads(cores, names.len()))
    }

    /// [`DirReader::read_all`] on `threads` threads.
    fn read_on(&self, names: &[String], threads: usize) -> Vec<std::io::Result<Vec<u8>>> {
        let read_chunk = |chunk: &[String]| {
            let mut buf = vec![0; 64 * 1024];
            chunk
                .iter()
                .map(|n| self.read(n, &mut buf))
                .collect::<Vec<_>>()
        };
        if threads == 1 {
            return read_chunk(names);
        }
        let chunk = names.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut parts = names.chunks(chunk);
            let first = parts.next().unwrap_or_default();
            let others: Vec<_> = parts.map(|c| scope.spawn(move || read_chunk(c))).collect();
            let mut out = read_chunk(first);
            for handle in others {
                match handle.join() {
                    Ok(part) => out.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            out
        })
    }
}

/// How many threads read a directory of `files` files on a machine with `cores` cores: one per 256 files, at most
/// four, and one core left to the rest of the run. `migrate apply` reads the directory while its database session
/// starts, and on a small machine a second reader would take the core a local database server needs then (on
/// two cores it slowed the session's start by more than it sped up the read).
fn reader_threads(cores: usize, files: usize) -> usize {
    const PER_THREAD: usize = 256;
    cores
        .saturating_sub(1)
        .min(files.div_ceil(PER_THREAD))
        .clamp(1, 4)
}

fn stem(name: &str) -> &str {
    name.strip_suffix(".sql").unwrap_or(name)
}

/// The version part of a migration file name.
pub fn version_of(name: &str) -> &str {
    let stem = stem(name);
    stem.split_once('_').map_or(stem, |(v, _)| v)
}

/// The description part of a migration file name.
pub fn description_of(name: &str) -> &str {
    stem(name).split_once('_').map_or("", |(_, d)| d)
}

/// A migration directory loaded into memory.
///
/// The engine reads directories from disk, from a ConfigMap or from the registry; all of them end up here, so
/// everything downstream works on the same value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationDir {
    location: String,
    files: Vec<MigrationFile>,
    sum: Option<Vec<u8>>,
}

impl MigrationDir {
    /// Builds a directory from files and an optional `atlas.sum`, sorting the files into Atlas order.
    ///
    /// `location` names the source in messages (a path, `strata://app?tag=v1`, a ConfigMap).
    /// Files whose names do not end in `.sql` and duplicate names are rejected, so the result is always a
    /// valid flat directory.
    pub fn from_parts(
        location: impl Into<String>,
        mut files: Vec<MigrationFile>,
        sum: Option<Vec<u8>>,
    ) -> Result<Self, DirError> {
        let location = location.into();
        for f in &files {
            validate_name(&location, &f.name)?;
        }
        files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        if let Some(w) = files.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(DirError::DuplicateFile {
                dir: location,
                file: w[0].name.clone(),
            });
        }
        Ok(Self {
            location,
            files,
            sum,
        })
    }

    /// Reads a directory from disk: its top-level `*.sql` files and `atlas.sum` when present.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DirError> {
        let path = path.as_ref();
        let location = path.display().to_string();
        let list_error = |source| DirError::ReadDir {
            dir: location.clone(),
            source,
        };
        let reader = DirReader::open(path).map_err(list_error)?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(list_error)? {
            let entry = entry.map_err(list_error)?;
            let file_path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                // A name that is not UTF-8 cannot be an Atlas migration; say so instead of skipping it.
                if file_path.extension().is_some_and(|e| e == "sql") {
                    return Err(DirError::BadName {
                        dir: location,
                        file: entry.file_name().to_string_lossy().into_owned(),
                        reason: "the name is not valid UTF-8".into(),
                    });
                }
                continue;
            };
            if !name.ends_with(".sql") {
                continue;
            }
            // Follow links like Atlas does (os.ReadFile), but only regular files are migrations. The entry's
            // type comes with the listing, so only links cost a stat.
            let read_error = |source| DirError::ReadFile {
                file: file_path.display().to_string(),
                source,
            };
            let file_type = entry.file_type().map_err(read_error)?;
            let is_file = if file_type.is_symlink() {
                std::fs::metadata(&file_path).map_err(read_error)?.is_file()
            } else {
                file_type.is_file()
            };
            if is_file {
                names.push(name);
            }
        }
        let mut files = Vec::with_capacity(names.len());
        for (name, bytes) in names.iter().zip(reader.read_all(&names)) {
            let bytes = bytes.map_err(|source| DirError::ReadFile {
                file: path.join(name).display().to_string(),
                source,
            })?;
            files.push(MigrationFile::new(name.clone(), bytes));
        }
        let sum = match reader.read(SUM_FILE, &mut vec![0; 64 * 1024]) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(DirError::ReadFile {
                    file: path.join(SUM_FILE).display().to_string(),
                    source,
                });
            }
        };
        Self::from_parts(location, files, sum)
    }

    /// Where the directory came from, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The migration files in Atlas order.
    pub fn files(&self) -> &[MigrationFile] {
        &self.files
    }

    /// The raw `atlas.sum`, when the directory has one.
    pub fn sum_bytes(&self) -> Option<&[u8]> {
        self.sum.as_deref()
    }

    /// Replaces the in-memory `atlas.sum` (after `hash`).
    pub fn set_sum_bytes(&mut self, sum: Vec<u8>) {
        self.sum = Some(sum);
    }

    /// Adds a file, keeping Atlas order.
    pub fn add_file(&mut self, file: MigrationFile) -> Result<(), DirError> {
        validate_name(&self.location, &file.name)?;
        match self
            .files
            .binary_search_by(|f| f.name.as_bytes().cmp(file.name.as_bytes()))
        {
            Ok(_) => Err(DirError::DuplicateFile {
                dir: self.location.clone(),
                file: file.name,
            }),
            Err(i) => {
                self.files.insert(i, file);
                Ok(())
            }
        }
    }

    /// The file with this exact name.
    pub fn file(&self, name: &str) -> Option<&MigrationFile> {
        self.files
            .binary_search_by(|f| f.name.as_bytes().cmp(name.as_bytes()))
            .ok()
            .map(|i| &self.files[i])
    }
}

fn validate_name(dir: &str, name: &str) -> Result<(), DirError> {
    let reason = if !name.ends_with(".sql") {
        "migration files must end in .sql"
    } else if name.contains(['/', '\\']) || name == ".sql" {
        "migration files must be plain names inside the directory"
    } else if name.contains('\0') {
        "the name contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(DirError::BadName {
        dir: dir.into(),
        file: name.into(),
        reason: reason.into(),
    })
}

/// Directory layouts Atlas can read through `?format=` on the dir URL.
const KNOWN_FORMATS: [&str; 6] = [
    "atlas",
    "golang-migrate",
    "goose",
    "flyway",
    "liquibase",
    "dbmate",
];

/// Resolves a local `--dir` URL (`file://path` or a bare path) to a path. `file://` with an empty path means
/// `migrations`, as in Atlas. The layout comes from `?format=` (or the deprecated `--dir-format` flag); only
/// Atlas's own layout is implemented, and other known layouts are refused by name rather than misread.
pub fn local_path_from_url(url: &str, format_flag: Option<&str>) -> Result<PathBuf, DirError> {
    let (path, query) = match url.split_once("://") {
        Some(("file", rest)) => {
            let rest = rest.split('#').next().unwrap_or_default();
            rest.split_once('?').unwrap_or((rest, ""))
        }
        Some((scheme, _)) => {
            return Err(DirError::UnsupportedDirUrl {
                scheme: scheme.to_owned(),
                hint: "use file://<path> for a local directory".into(),
            });
        }
        None => (url, ""),
    };
    let query_format = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "format")
        .map(|(_, v)| v);
    let format = query_format.or(format_flag).unwrap_or("atlas");
    match format {
        "atlas" => {}
        f if KNOWN_FORMATS.contains(&f) => {
            return Err(DirError::UnsupportedFormat {
                format: f.to_owned(),
                unknown: false,
            });
        }
        f => {
            return Err(DirError::UnsupportedFormat {
                format: f.to_owned(),
                unknown: true,
            });
        }
    }
    Ok(PathBuf::from(if path.is_empty() {
        "migrations"
    } else {
        path
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_directory_reads_every_file_in_order() {
        // Enough files for several reader threads; names written in reverse so listing order is not Atlas order.
        let tmp = tempfile::tempdir().unwrap();
        for i in (0..1_100).rev() {
            std::fs::write(
                tmp.path().join(format!("{i:05}_f.sql")),
                format!("SELECT {i};\n"),
            )
            .unwrap();
        }
        std::fs::write(tmp.path().join(SUM_FILE), b"h1:x\n").unwrap();
        std::fs::write(tmp.path().join("README.md"), b"not a migration").unwrap();
        let dir = MigrationDir::open(tmp.path()).unwrap();
        assert_eq!(dir.files().len(), 1_100);
        for (i, f) in dir.files().iter().enumerate() {
            assert_eq!(f.name(), format!("{i:05}_f.sql"));
            assert_eq!(f.bytes(), format!("SELECT {i};\n").as_bytes());
        }
        assert_eq!(dir.sum_bytes(), Some(&b"h1:x\n"[..]));
        // The same files on several threads, whatever this machine's core count chose above.
        let names: Vec<String> = dir.files().iter().map(|f| f.name().to_owned()).collect();
        let reader = DirReader::open(tmp.path()).unwrap();
        for threads in [1, 3, 4] {
            let read = reader.read_on(&names, threads);
            assert_eq!(read.len(), names.len());
            for (i, bytes) in read.into_iter().enumerate() {
                assert_eq!(
                    bytes.unwrap(),
                    format!("SELECT {i};\n").as_bytes(),
                    "{threads} threads"
                );
            }
        }
    }

    #[test]
    fn reader_threads_leave_a_core_and_stay_few() {
        assert_eq!(reader_threads(1, 1_000), 1);
        assert_eq!(
            reader_threads(2, 1_000),
            1,
            "two cores: one reader, one core for the session"
        );
        assert_eq!(reader_threads(4, 1_000), 3);
        assert_eq!(reader_threads(64, 1_000), 4);
        assert_eq!(reader_threads(64, 300), 2, "one thread per 256 files");
        assert_eq!(reader_threads(64, 10), 1);
        assert_eq!(reader_threads(64, 0), 1);
    }

    #[test]
    fn checkpoint_detection_keeps_its_errors() {
        let plain = MigrationFile::new("1.sql", "SELECT 1;\n");
        assert!(!plain.is_checkpoint().unwrap());
        let cp = MigrationFile::new("2.sql", "-- atlas:checkpoint\n\nCREATE TABLE t (id int);\n");
        assert!(cp.is_checkpoint().unwrap());
        // Not UTF-8 and no directive at all: still an error, as the full parse reports it.
        let bad = MigrationFile::new("3.sql", vec![b'S', 0xff, b';']);
        assert!(matches!(bad.is_checkpoint(), Err(DirError::NotUtf8 { .. })));
        // A malformed directive is still reported.
        let twice = MigrationFile::new(
            "4.sql",
            "-- atlas:checkpoint\n-- atlas:checkpoint\n\nSELECT 1;\n",
        );
        assert!(twice.is_checkpoint().is_err());
    }

    #[test]
    fn version_and_description_follow_atlas() {
        for (name, v, d) in [
            ("20220318104614_initial.sql", "20220318104614", "initial"),
            ("1.sql", "1", ""),
            ("1_initial.up.sql", "1", "initial.up"),
            ("2.10.x-20_description.sql", "2.10.x-20", "description"),
            ("3_a_b.sql", "3", "a_b"),
        ] {
            assert_eq!(version_of(name), v, "{name}");
            assert_eq!(description_of(name), d, "{name}");
        }
    }

    #[test]
    fn order_is_bytewise_not_numeric() {
        let dir = MigrationDir::from_parts(
            "t",
            vec![
                MigrationFile::new("9.sql", ""),
                MigrationFile::new("10.sql", ""),
                MigrationFile::new("1_b.sql", ""),
                MigrationFile::new("1.sql", ""),
            ],
            None,
        )
        .unwrap();
        let names: Vec<_> = dir.files().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["1.sql", "10.sql", "1_b.sql", "9.sql"]);
    }

    #[test]
    fn rejects_bad_and_duplicate_names() {
        let e = MigrationDir::from_parts("d", vec![MigrationFile::new("../x.sql", "")], None);
        assert!(matches!(e, Err(DirError::BadName { .. })));
        let e = MigrationDir::from_parts(
            "d",
            vec![
                MigrationFile::new("1.sql", ""),
                MigrationFile::new("1.sql", ""),
            ],
            None,
        );
        assert!(matches!(e, Err(DirError::DuplicateFile { .. })));
    }

    #[test]
    fn file_urls() {
        let ok = |u: &str| local_path_from_url(u, None).unwrap();
        assert_eq!(ok("file://migrations"), PathBuf::from("migrations"));
        assert_eq!(ok("file://"), PathBuf::from("migrations"));
        assert_eq!(ok("file:///abs/dir"), PathBuf::from("/abs/dir"));
        assert_eq!(ok("file://a/b?format=atlas"), PathBuf::from("a/b"));
        assert_eq!(ok("plain/dir"), PathBuf::from("plain/dir"));
        let err = |u: &str, f: Option<&str>| local_path_from_url(u, f).unwrap_err().to_string();
        assert!(err("strata://app", None).contains("\"strata\""));
        assert!(err("file://m?format=goose", None).contains("not supported yet"));
        assert!(err("file://m", Some("flyway")).contains("\"flyway\""));
        assert!(err("file://m?format=nope", None).contains("unknown directory format"));
    }
}
