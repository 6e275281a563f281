//! A migration directory: its `*.sql` files in Atlas order and its `atlas.sum`.
//!
//! Only top-level `*.sql` files are migrations; everything else (sub-directories, READMEs) is ignored. Order is the
//! byte order of the whole file name — the version plays no part in sorting.
//!
//! Every `*.sql` entry and `atlas.sum` must be a regular file inside the directory (a symbolic link is followed
//! only to a regular file inside it) of at most [`MAX_FILE_BYTES`]; anything else is an error naming the entry,
//! as Atlas fails on a `*.sql` entry it cannot read, rather than something silently skipped.

use std::path::{Path, PathBuf};

use crate::directive::{self, Directives};
use crate::error::DirError;
use crate::snapshot::{self, Stamp};
use crate::sum::SumFile;

/// Name of the checksum file.
pub const SUM_FILE: &str = "atlas.sum";

/// The most bytes read from one file of a migration directory on disk (each `*.sql` file and `atlas.sum`): 64 MiB.
/// A larger file is refused by name before it is read whole; at this size `migrate apply` peaks at a few hundred
/// MiB of memory (the file, its statements and the report hold copies of the text).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// One migration file: its name and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    name: String,
    bytes: Vec<u8>,
    /// The length of [`MigrationFile::version`] in `name`: planning compares versions thousands of times.
    version_len: usize,
}

impl MigrationFile {
    /// A file from its name (e.g. `20220318104614_initial.sql`) and raw content.
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        let name = name.into();
        Self {
            version_len: version_of(&name).len(),
            name,
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

    /// The content as text; migration files must be UTF-8 without NUL bytes to be scanned.
    pub fn text(&self) -> Result<&str, DirError> {
        let text = std::str::from_utf8(&self.bytes).map_err(|e| DirError::NotUtf8 {
            file: self.name.clone(),
            offset: e.valid_up_to(),
        })?;
        // No database runs SQL with a NUL byte as written: PostgreSQL refuses it, and SQLite stops reading at it
        // (its driver then never gets past it). `contains` on bytes is a memchr.
        if self.bytes.contains(&0) {
            let at = text.find('\0').unwrap_or_default();
            let before = &text[..at];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            return Err(DirError::NulByte {
                file: self.name.clone(),
                line: before.matches('\n').count() + 1,
                column: before[line_start..].chars().count() + 1,
            });
        }
        Ok(text)
    }

    /// Version: the name without `.sql`, cut at the first `_`.
    pub fn version(&self) -> &str {
        &self.name[..self.version_len]
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

/// Reads a whole file of at most `limit` bytes with plain reads through `buf`. Small files are read without asking
/// their size (`std::fs::read` and `File::read_to_end` stat and seek): migration files are small, and a directory of
/// a thousand of them spends most of its time in system calls. A file still going after 1 MiB is asked its size
/// once, so one over the limit fails before it is read whole; whatever the size says, reading stops past `limit`.
/// Too large is an error of kind [`std::io::ErrorKind::FileTooLarge`].
fn read_to_end(mut file: std::fs::File, buf: &mut [u8], limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    const ASK_SIZE_AFTER: usize = 1 << 20;
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {limit} bytes"),
        )
    };
    let mut bytes = Vec::new();
    let mut sized = false;
    loop {
        match file.read(buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        if !sized && bytes.len() >= ASK_SIZE_AFTER {
            sized = true;
            let size = file.metadata()?.len();
            if size > limit {
                return Err(too_large());
            }
            // `size <= limit`, which fits in memory's address range on every supported target.
            bytes.reserve_exact(
                usize::try_from(size)
                    .unwrap_or(0)
                    .saturating_sub(bytes.len()),
            );
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

    /// Reads the named file, at most [`MAX_FILE_BYTES`]. The caller checked that it is a regular file.
    fn read(&self, name: &str, buf: &mut [u8]) -> std::io::Result<Vec<u8>> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            // Non-blocking, so an entry swapped for a named pipe after the check cannot hang the open; reads of
            // regular files ignore the flag.
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK,
                Mode::empty(),
            )?;
            read_to_end(std::fs::File::from(fd), buf, MAX_FILE_BYTES)
        }
        #[cfg(not(unix))]
        read_to_end(
            std::fs::File::open(self.path.join(name))?,
            buf,
            MAX_FILE_BYTES,
        )
    }

    /// The named file's stamp (following a symbolic link, as reading does); `None` where stamps are not taken.
    fn stamp(&self, name: &str) -> Option<Stamp> {
        #[cfg(unix)]
        {
            let st = rustix::fs::statat(&self.fd, name, rustix::fs::AtFlags::empty()).ok()?;
            Some(Stamp::from_stat(&st))
        }
        #[cfg(not(unix))]
        {
            let _ = name;
            None
        }
    }

    /// The directory's own stamp; `None` where stamps are not taken.
    fn own_stamp(&self) -> Option<Stamp> {
        #[cfg(unix)]
        {
            rustix::fs::fstat(&self.fd)
                .ok()
                .map(|st| Stamp::from_stat(&st))
        }
        #[cfg(not(unix))]
        None
    }

    /// Reads the named files, on several threads when there are many. Results keep the order of `names`.
    fn read_all(&self, names: &[String]) -> Vec<std::io::Result<Vec<u8>>> {
        // Asking for the cores reads cgroup files: not worth it for what one thread reads anyway.
        if names.len() <= PER_THREAD {
            return self.read_on(names, 1);
        }
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

/// The files one reader thread takes (see [`reader_threads`]).
const PER_THREAD: usize = 256;

/// How many threads read a directory of `files` files on a machine with `cores` cores: one per 256 files, at most
/// four, and one core left to the rest of the run. `migrate apply` reads the directory while its database session
/// starts, and on a small machine a second reader would take the core a local database server needs then (on
/// two cores it slowed the session's start by more than it sped up the read).
fn reader_threads(cores: usize, files: usize) -> usize {
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
#[derive(Debug, Clone)]
pub struct MigrationDir {
    location: String,
    files: Vec<MigrationFile>,
    sum: Option<Vec<u8>>,
    /// What `files` sum to, when a snapshot already knew it ([`MigrationDir::open_with_snapshot`]); a cache of
    /// [`SumFile::compute`], left out of comparisons.
    computed_sum: Option<SumFile>,
    /// The bytes `computed_sum` was recorded as (`SumFile::to_bytes`), when it came from a snapshot: an `atlas.sum`
    /// that is byte for byte the same needs no other check.
    computed_sum_bytes: Option<Vec<u8>>,
}

impl PartialEq for MigrationDir {
    fn eq(&self, other: &Self) -> bool {
        self.location == other.location && self.files == other.files && self.sum == other.sum
    }
}

impl Eq for MigrationDir {}

/// Where [`MigrationDir::open_with_snapshot`] took the files from (`atlas.sum` counts as a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenStats {
    /// Files read from disk.
    pub read: usize,
    /// Files taken from the snapshot.
    pub from_snapshot: usize,
    /// Whether the names came from the snapshot, the directory unchanged since it was listed (not listed again).
    pub listing_from_snapshot: bool,
}

impl AsRef<MigrationDir> for MigrationDir {
    fn as_ref(&self) -> &MigrationDir {
        self
    }
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
            computed_sum: None,
            computed_sum_bytes: None,
        })
    }

    /// Reads a directory from disk: its top-level `*.sql` files and `atlas.sum` when present. Each must be a
    /// regular file inside the directory of at most [`MAX_FILE_BYTES`] (see the module documentation).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DirError> {
        Self::open_with(path.as_ref(), None, snapshot::RACY_WINDOW).map(|(d, _, _)| d)
    }

    /// [`MigrationDir::open`], taking unchanged files from `snapshot` (the bytes of the last snapshot of this
    /// directory, empty if none; see [`crate::snapshot`]). The same files, checks and errors as `open`; only where
    /// the bytes come from differs. Also returns where they came from and, when the snapshot should change (files
    /// were read, or files it holds are gone), the next snapshot's bytes for the caller to keep.
    pub fn open_with_snapshot(
        path: impl AsRef<Path>,
        snapshot: &[u8],
    ) -> Result<(Self, OpenStats, Option<Vec<u8>>), DirError> {
        Self::open_with(path.as_ref(), Some(snapshot), snapshot::RACY_WINDOW)
    }

    fn open_with(
        path: &Path,
        snapshot: Option<&[u8]>,
        racy_window: std::time::Duration,
    ) -> Result<(Self, OpenStats, Option<Vec<u8>>), DirError> {
        let location = path.display().to_string();
        let reader = DirReader::open(path).map_err(|source| DirError::ReadDir {
            dir: location.clone(),
            source,
        })?;
        // Stamps are only taken on Unix; elsewhere a snapshot could never be used.
        let snapshot = snapshot.filter(|_| cfg!(unix));
        let recorded = snapshot.and_then(snapshot::decode).unwrap_or_default();
        // The directory's own stamp, taken before it is listed: an entry made after it moves it.
        let dir_stamp = snapshot.and_then(|_| reader.own_stamp());
        let listing_from_snapshot = dir_stamp.is_some() && recorded.listing == dir_stamp;
        let listing = if listing_from_snapshot {
            Listing::recorded(&recorded)
        } else {
            Listing::read(path, &location)?
        };
        let Listing {
            mut names,
            has_sum,
            all_regular,
        } = listing;
        let snapshot = snapshot.filter(|_| names.len() >= snapshot::MIN_FILES);
        // Each file's stamp is taken before it is read, so a write after the stamp makes a newer one next time.
        let stamps: Vec<Option<Stamp>> = match snapshot {
            Some(_) => names.iter().map(|n| reader.stamp(n)).collect(),
            None => vec![None; names.len()],
        };
        let mut matched = 0;
        let mut contents: Vec<Option<Vec<u8>>> = names
            .iter()
            .zip(&stamps)
            .map(|(name, stamp)| {
                let r = recorded.file(name)?;
                matched += 1;
                (stamp.as_ref() == Some(&r.stamp)).then(|| r.bytes.to_vec())
            })
            .collect();
        let missing: Vec<String> = names
            .iter()
            .zip(&contents)
            .filter(|(_, c)| c.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        let stats = OpenStats {
            read: missing.len(),
            from_snapshot: names.len() - missing.len(),
            listing_from_snapshot,
        };
        let read_error = |name: &str, source: std::io::Error| read_error(path, name, source);
        let mut read = reader.read_all(&missing).into_iter();
        for (name, content) in names.iter().zip(contents.iter_mut()) {
            if content.is_none() {
                let bytes = read.next().unwrap_or_else(|| Ok(Vec::new()));
                *content = Some(bytes.map_err(|e| read_error(name, e))?);
            }
        }
        // Files it holds that are gone also make a new snapshot.
        let write_next = snapshot.is_some() && (stats.read > 0 || matched < recorded.files.len());
        // Stamps by name, to write the next snapshot from the sorted files.
        let stamp_of: std::collections::HashMap<String, Stamp> = if write_next {
            names
                .iter()
                .zip(&stamps)
                .filter_map(|(n, s)| Some((n.clone(), (*s)?)))
                .collect()
        } else {
            std::collections::HashMap::new()
        };
        let sql_from_snapshot = missing.iter().all(|n| n == SUM_FILE);
        let mut contents: Vec<Vec<u8>> = contents
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let sum = if has_sum {
            names.pop();
            contents.pop()
        } else {
            None
        };
        let files = names
            .into_iter()
            .zip(contents)
            .map(|(name, bytes)| MigrationFile::new(name, bytes))
            .collect();
        let mut dir = Self::from_parts(location, files, sum)?;
        // Every `*.sql` file as recorded: what they sum to was recorded with them (for exactly these names).
        if sql_from_snapshot {
            dir.computed_sum = recorded
                .computed_sum
                .and_then(|b| SumFile::parse(b).ok())
                .filter(|computed| {
                    let names = computed.entries().iter().map(|e| e.name.as_str());
                    names.eq(dir.files.iter().map(|f| f.name.as_str()))
                });
            if dir.computed_sum.is_some() {
                dir.computed_sum_bytes = recorded.computed_sum.map(<[u8]>::to_vec);
            }
        }
        let mut next = None;
        if write_next {
            let now = std::time::SystemTime::now();
            let kept = |name: &str| stamp_of.get(name).filter(|s| !s.is_racy(now, racy_window));
            let mut entries: Vec<(&str, &Stamp, &[u8])> = dir
                .files
                .iter()
                .filter_map(|f| Some((f.name.as_str(), kept(&f.name)?, f.bytes.as_slice())))
                .collect();
            // What every `*.sql` file sums to, worth recording only when every one of them is; computed once, for
            // this run's check too.
            let every_file_kept = entries.len() == dir.files.len();
            if every_file_kept && dir.computed_sum.is_none() {
                dir.computed_sum = Some(SumFile::compute(&dir.files));
            }
            let sum_kept = match (dir.sum.as_deref(), kept(SUM_FILE)) {
                (Some(bytes), Some(stamp)) => {
                    entries.push((SUM_FILE, stamp, bytes));
                    true
                }
                (sum, _) => sum.is_none(),
            };
            let computed = dir
                .computed_sum
                .as_ref()
                .filter(|_| every_file_kept)
                .map(SumFile::to_bytes);
            // The listing is recorded only when it found exactly the recorded entries, all regular files.
            let listing = dir_stamp.filter(|s| {
                all_regular && every_file_kept && sum_kept && !s.is_racy(now, racy_window)
            });
            next = Some(snapshot::encode(
                entries,
                computed.as_deref(),
                listing.as_ref(),
            ));
        }
        Ok((dir, stats, next))
    }

    /// Where the directory came from, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The migration files in Atlas order.
    pub fn files(&self) -> &[MigrationFile] {
        &self.files
    }

    /// What the files sum to, when it came with them (see [`crate::sum::validate`]).
    pub(crate) fn computed_sum(&self) -> Option<&SumFile> {
        self.computed_sum.as_ref()
    }

    /// [`MigrationDir::computed_sum`] as the bytes it was recorded as, when it came from a snapshot.
    pub(crate) fn computed_sum_bytes(&self) -> Option<&[u8]> {
        self.computed_sum_bytes.as_deref()
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
                self.computed_sum = None;
                self.computed_sum_bytes = None;
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

/// The error for a failed read of `name` in the directory `dir`.
fn read_error(dir: &Path, name: &str, source: std::io::Error) -> DirError {
    let file = dir.join(name).display().to_string();
    if source.kind() == std::io::ErrorKind::FileTooLarge {
        DirError::TooLarge {
            file,
            limit: MAX_FILE_BYTES,
        }
    } else {
        DirError::ReadFile { file, source }
    }
}

/// What a directory on disk holds for [`MigrationDir`]: its `*.sql` names (listing order) and then `atlas.sum`
/// when present.
struct Listing {
    names: Vec<String>,
    has_sum: bool,
    /// Whether every one of them is a regular file (no symbolic link).
    all_regular: bool,
}

impl Listing {
    /// Lists the directory, checking every entry that counts ([`EntryCheck`]).
    fn read(path: &Path, location: &str) -> Result<Self, DirError> {
        let list_error = |source| DirError::ReadDir {
            dir: location.to_owned(),
            source,
        };
        let mut entries = EntryCheck::new(path);
        let mut names = Vec::new();
        let mut all_regular = true;
        for entry in std::fs::read_dir(path).map_err(list_error)? {
            let entry = entry.map_err(list_error)?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                // A name that is not UTF-8 cannot be an Atlas migration; say so instead of skipping it.
                if entry.path().extension().is_some_and(|e| e == "sql") {
                    return Err(DirError::BadName {
                        dir: location.to_owned(),
                        file: entry.file_name().to_string_lossy().into_owned(),
                        reason: "the name is not valid UTF-8".into(),
                    });
                }
                continue;
            };
            if !name.ends_with(".sql") {
                continue;
            }
            // The entry's type comes with the listing, so only links cost a stat.
            let file_type = entry.file_type().map_err(|source| DirError::ReadFile {
                file: entry.path().display().to_string(),
                source,
            })?;
            entries.check(&name, file_type)?;
            all_regular &= file_type.is_file();
            names.push(name);
        }
        let has_sum = match std::fs::symlink_metadata(path.join(SUM_FILE)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(read_error(path, SUM_FILE, e)),
            Ok(meta) => {
                entries.check(SUM_FILE, meta.file_type())?;
                all_regular &= meta.file_type().is_file();
                true
            }
        };
        if has_sum {
            names.push(SUM_FILE.to_owned());
        }
        Ok(Self {
            names,
            has_sum,
            all_regular,
        })
    }

    /// The names a snapshot recorded with the directory's listing (see [`snapshot`]): regular files, all checked
    /// when they were listed.
    fn recorded(recorded: &snapshot::Snapshot<'_>) -> Self {
        let mut names: Vec<String> = recorded
            .files
            .iter()
            .map(|f| f.name)
            .filter(|n| *n != SUM_FILE)
            .map(str::to_owned)
            .collect();
        let has_sum = recorded.file(SUM_FILE).is_some();
        if has_sum {
            names.push(SUM_FILE.to_owned());
        }
        Self {
            names,
            has_sum,
            all_regular: true,
        }
    }
}

/// Decides whether an entry of a directory on disk may be read: a regular file, or a symbolic link that leads to a
/// regular file inside the directory (Kubernetes mounts ConfigMaps as links into a hidden sub-directory). Links
/// out of the directory are refused, so a directory cannot make Strata read (and echo, or apply, or push) a file
/// elsewhere on the machine; devices and named pipes are refused before they are opened.
struct EntryCheck<'a> {
    dir: &'a Path,
    /// The directory's canonical path, resolved at the first link.
    canonical: Option<PathBuf>,
}

impl<'a> EntryCheck<'a> {
    fn new(dir: &'a Path) -> Self {
        Self {
            dir,
            canonical: None,
        }
    }

    /// Checks the entry `name`, whose own type (links not followed) is `file_type`.
    fn check(&mut self, name: &str, file_type: std::fs::FileType) -> Result<(), DirError> {
        let path = self.dir.join(name);
        let file = || path.display().to_string();
        if file_type.is_file() {
            return Ok(());
        }
        if !file_type.is_symlink() {
            return Err(DirError::NotAFile {
                file: file(),
                what: kind_of(file_type).into(),
            });
        }
        let read_error = |source| DirError::ReadFile {
            file: file(),
            source,
        };
        let target = std::fs::canonicalize(&path).map_err(read_error)?;
        let meta = std::fs::metadata(&target).map_err(read_error)?;
        if !meta.is_file() {
            return Err(DirError::NotAFile {
                file: file(),
                what: format!("a symbolic link to {}", kind_of(meta.file_type())),
            });
        }
        let canonical = match self.canonical.take() {
            Some(c) => c,
            None => std::fs::canonicalize(self.dir).map_err(|source| DirError::ReadDir {
                dir: self.dir.display().to_string(),
                source,
            })?,
        };
        let inside = target.starts_with(&canonical);
        self.canonical = Some(canonical);
        if !inside {
            return Err(DirError::OutsideDir {
                file: file(),
                target: target.display().to_string(),
            });
        }
        Ok(())
    }
}

/// What a directory entry that is not a regular file is, for messages.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
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

    /// A directory of `n` files and an `atlas.sum`, and where its snapshot goes.
    fn snapshot_fixture(n: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        std::fs::create_dir(&dir).unwrap();
        for i in 0..n {
            std::fs::write(
                dir.join(format!("{i:03}_f.sql")),
                format!("SELECT {i:03};\n"),
            )
            .unwrap();
        }
        std::fs::write(dir.join(SUM_FILE), "h1:sum\n").unwrap();
        let snap = tmp.path().join("dir.snap");
        (tmp, dir, snap)
    }

    /// Opens `dir` with the snapshot kept in the file `snap`, as a caller would, recording files at once.
    fn open_snap(dir: &Path, snap: &Path) -> (MigrationDir, OpenStats) {
        let previous = std::fs::read(snap).unwrap_or_default();
        let (d, stats, next) =
            MigrationDir::open_with(dir, Some(&previous), std::time::Duration::ZERO).unwrap();
        if let Some(next) = next {
            std::fs::write(snap, next).unwrap();
        }
        (d, stats)
    }

    #[test]
    fn a_snapshot_serves_unchanged_files_and_rereads_changed_ones() {
        let (_tmp, dir, snap) = snapshot_fixture(80);
        let plain = MigrationDir::open(&dir).unwrap();
        let (first, stats) = open_snap(&dir, &snap);
        assert_eq!((stats.read, stats.from_snapshot), (81, 0));
        assert_eq!(first, plain);
        assert!(snap.exists());
        let (second, stats) = open_snap(&dir, &snap);
        assert_eq!((stats.read, stats.from_snapshot), (0, 81));
        assert_eq!(second, plain, "the snapshot gives the same directory");

        // Rewritten in place with the same length: the change time moves, so it is read again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("005_f.sql"), "SELECT 555;\n").unwrap();
        let (third, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, 1);
        assert_eq!(third.file("005_f.sql").unwrap().bytes(), b"SELECT 555;\n");
        // Replaced by another file with the same bytes (another inode): read again.
        let other = dir.join("tmp.other");
        std::fs::write(&other, "SELECT 006;\n").unwrap();
        std::fs::rename(&other, dir.join("006_f.sql")).unwrap();
        assert_eq!(open_snap(&dir, &snap).1.read, 1);
        // atlas.sum is a file like the others.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join(SUM_FILE), "h1:new\n").unwrap();
        let (d, stats) = open_snap(&dir, &snap);
        assert_eq!((stats.read, d.sum_bytes()), (1, Some(&b"h1:new\n"[..])));
        // A removed file is gone from the result; a damaged snapshot is read around.
        std::fs::remove_file(dir.join("007_f.sql")).unwrap();
        let (d, stats) = open_snap(&dir, &snap);
        assert_eq!((stats.read, d.files().len()), (0, 79));
        std::fs::write(&snap, b"strata-dir-snapshot 1\ngarbage").unwrap();
        let (d, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, 80);
        assert_eq!(d, MigrationDir::open(&dir).unwrap());
        assert_eq!(
            open_snap(&dir, &snap).1.read,
            0,
            "rewritten after the damaged one"
        );
    }

    #[test]
    fn what_the_files_sum_to_comes_with_them_from_the_snapshot() {
        let (_tmp, dir, snap) = snapshot_fixture(80);
        let sums_right = |d: &MigrationDir| {
            assert_eq!(d.computed_sum(), Some(&SumFile::compute(d.files())));
        };
        // The run that writes the snapshot computes the sum once, for itself and the snapshot.
        let (first, _) = open_snap(&dir, &snap);
        sums_right(&first);
        // Every file from the snapshot: the sum comes with them, and validates as the files themselves would.
        let (second, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, 0);
        sums_right(&second);
        std::fs::write(
            dir.join(SUM_FILE),
            SumFile::compute(second.files()).to_bytes(),
        )
        .unwrap();
        let (third, _) = open_snap(&dir, &snap);
        assert!(crate::sum::validate(&third).is_ok());
        // An atlas.sum that is byte for byte what the files sum to is the recorded sum.
        assert_eq!(third.computed_sum_bytes(), third.sum_bytes());
        // One that is not is checked as always: a wrong hash is refused.
        let good = third.sum_bytes().unwrap().to_vec();
        let text = String::from_utf8(good.clone()).unwrap();
        // The second file's line with the third file's hash.
        let (second_line, third_line) = (
            text.split('\n').nth(2).unwrap(),
            text.split('\n').nth(3).unwrap(),
        );
        let (name, _) = second_line.split_once(' ').unwrap();
        let (_, hash) = third_line.split_once(' ').unwrap();
        let bad = text.replacen(second_line, &format!("{name} {hash}"), 1);
        std::fs::write(dir.join(SUM_FILE), &bad).unwrap();
        let (tampered, _) = open_snap(&dir, &snap);
        assert_ne!(tampered.computed_sum_bytes(), tampered.sum_bytes());
        let r = crate::sum::validate(&tampered);
        assert!(
            matches!(r, Err(crate::sum::SumError::HeaderMismatch)),
            "{r:?}"
        );
        std::fs::write(dir.join(SUM_FILE), &good).unwrap();
        assert!(crate::sum::validate(&open_snap(&dir, &snap).0).is_ok());
        // A file changed, added or removed: not from the recorded sum.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("005_f.sql"), "SELECT 555;\n").unwrap();
        let (d, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, 1);
        sums_right(&d);
        assert!(matches!(
            crate::sum::validate(&d),
            Err(crate::sum::SumError::Mismatch(_))
        ));
        std::fs::write(dir.join("080_f.sql"), "SELECT 80;\n").unwrap();
        sums_right(&open_snap(&dir, &snap).0);
        // Past the directory's timestamp tick, so the removal moves its modification time.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::remove_file(dir.join("003_f.sql")).unwrap();
        let (d, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, 0);
        sums_right(&d);
        let (d, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, 0);
        sums_right(&d);
        // A file added in memory drops what the snapshot knew.
        let mut d = d;
        d.add_file(MigrationFile::new("999_z.sql", "SELECT 9;\n"))
            .unwrap();
        assert_eq!(d.computed_sum(), None);
    }

    #[test]
    fn an_unchanged_directory_is_not_listed_again() {
        let (_tmp, dir, snap) = snapshot_fixture(80);
        let plain = || MigrationDir::open(&dir).unwrap();
        let (_, stats) = open_snap(&dir, &snap);
        assert!(!stats.listing_from_snapshot);
        let (d, stats) = open_snap(&dir, &snap);
        assert!(stats.listing_from_snapshot, "{stats:?}");
        assert_eq!((stats.read, stats.from_snapshot), (0, 81));
        assert_eq!(d, plain());
        // Every change to the entries moves the directory's times (each after the timestamp tick of the last):
        // listed again, and the result is what a plain open sees.
        let step = || std::thread::sleep(std::time::Duration::from_millis(20));
        let changes: [&dyn Fn(); 5] = [
            &|| std::fs::write(dir.join("100_new.sql"), "SELECT 100;\n").unwrap(),
            &|| std::fs::remove_file(dir.join("004_f.sql")).unwrap(),
            &|| std::fs::rename(dir.join("005_f.sql"), dir.join("105_f.sql")).unwrap(),
            &|| std::fs::remove_file(dir.join(SUM_FILE)).unwrap(),
            &|| std::fs::write(dir.join(SUM_FILE), "h1:back\n").unwrap(),
        ];
        for (i, change) in changes.iter().enumerate() {
            step();
            change();
            let (d, stats) = open_snap(&dir, &snap);
            assert!(!stats.listing_from_snapshot, "change {i}");
            assert_eq!(d, plain(), "change {i}");
            let (d, stats) = open_snap(&dir, &snap);
            assert!(stats.listing_from_snapshot, "change {i}, then unchanged");
            assert_eq!(d, plain(), "change {i}, then unchanged");
        }
        // A file changed in place leaves the entries alone: not listed again, but read again.
        step();
        std::fs::write(dir.join("006_f.sql"), "SELECT 666;\n").unwrap();
        let (d, stats) = open_snap(&dir, &snap);
        assert!(stats.listing_from_snapshot);
        assert_eq!(stats.read, 1);
        assert_eq!(d.file("006_f.sql").unwrap().bytes(), b"SELECT 666;\n");
        // The listing recorded by an older snapshot is worth nothing once the directory moved.
        let old = std::fs::read(&snap).unwrap();
        step();
        std::fs::write(dir.join("101_new.sql"), "SELECT 101;\n").unwrap();
        let (d, stats, _) =
            MigrationDir::open_with(&dir, Some(&old), std::time::Duration::ZERO).unwrap();
        assert!(!stats.listing_from_snapshot);
        assert!(d.file("101_new.sql").is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_listing_with_links_or_recent_changes_is_not_recorded() {
        // A link: what it leads to may change without the directory changing.
        let (_tmp, dir, snap) = snapshot_fixture(80);
        std::fs::write(dir.join("target.txt"), "SELECT 'linked';\n").unwrap();
        std::os::unix::fs::symlink("target.txt", dir.join("090_link.sql")).unwrap();
        open_snap(&dir, &snap);
        let (_, stats) = open_snap(&dir, &snap);
        assert!(!stats.listing_from_snapshot);
        assert_eq!(
            stats.from_snapshot, 82,
            "the files themselves still come from it"
        );
        // A directory whose times are within the racy window (here: in the future) while its files' are not.
        let (_tmp, dir, snap) = snapshot_fixture(80);
        let future = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        std::fs::File::open(&dir)
            .unwrap()
            .set_modified(future)
            .unwrap();
        open_snap(&dir, &snap);
        let recorded = std::fs::read(&snap).unwrap();
        let recorded = snapshot::decode(&recorded).unwrap();
        assert_eq!((recorded.files.len(), recorded.listing), (81, None));
        let (_, stats) = open_snap(&dir, &snap);
        assert!(!stats.listing_from_snapshot);
    }

    #[test]
    fn recently_changed_files_are_not_recorded_and_small_directories_get_no_snapshot() {
        let (_tmp, dir, _) = snapshot_fixture(80);
        // Files written just now are within the racy window: recorded stamps could miss a write in the same tick.
        let (_, stats, next) = MigrationDir::open_with_snapshot(&dir, b"").unwrap();
        assert_eq!(stats.read, 81);
        let (_, stats, _) = MigrationDir::open_with_snapshot(&dir, &next.unwrap()).unwrap();
        assert_eq!(
            stats.read, 81,
            "nothing recent was served from the snapshot"
        );

        let (_tmp, dir, snap) = snapshot_fixture(snapshot::MIN_FILES - 2);
        let (_, stats) = open_snap(&dir, &snap);
        assert_eq!(stats.read, snapshot::MIN_FILES - 1);
        assert!(!snap.exists());
    }

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

    /// Runs `MigrationDir::open` on a thread and gives up after a while, so a read that hangs fails the test.
    fn open_within_seconds(path: &Path) -> Result<MigrationDir, DirError> {
        let path = path.to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(MigrationDir::open(&path));
        });
        rx.recv_timeout(std::time::Duration::from_secs(20))
            .expect("MigrationDir::open hung")
    }

    #[test]
    fn a_nul_byte_is_refused_with_its_line_and_column() {
        let f = MigrationFile::new("2_b.sql", "CREATE TABLE b (id int);\n\0");
        let e = f.text().unwrap_err();
        assert!(
            matches!(&e, DirError::NulByte { file, line: 2, column: 1 } if file == "2_b.sql"),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("2_b.sql:2:1: "), "{e}");
        assert!(e.to_string().contains("NUL byte"), "{e}");
        // Columns count characters; every way into the text reports it.
        let f = MigrationFile::new("3.sql", "SELECT 1;\nSELECT 'é\0';\n");
        assert!(matches!(
            f.text(),
            Err(DirError::NulByte {
                line: 2,
                column: 10,
                ..
            })
        ));
        assert!(matches!(f.is_checkpoint(), Err(DirError::NulByte { .. })));
        assert!(matches!(f.directives(), Err(DirError::NulByte { .. })));
        // Hashing works on bytes and is unaffected.
        let d = MigrationDir::from_parts("d", vec![f], None).unwrap();
        assert_eq!(crate::sum::SumFile::compute(d.files()).entries().len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_named_like_a_migration_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("1_a.sql"), "SELECT 1;\n").unwrap();
        std::fs::create_dir(tmp.path().join("2_x.sql")).unwrap();
        let e = MigrationDir::open(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::NotAFile { file, what } if file.ends_with("2_x.sql") && what == "a directory"),
            "{e:?}"
        );
        assert!(e.to_string().contains("rename it or move it"), "{e}");
        // A link to a directory, too.
        std::fs::remove_dir(tmp.path().join("2_x.sql")).unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", tmp.path().join("2_x.sql")).unwrap();
        let e = MigrationDir::open(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::NotAFile { what, .. } if what == "a symbolic link to a directory"),
            "{e:?}"
        );
        // Other entries stay ignored.
        std::fs::remove_file(tmp.path().join("2_x.sql")).unwrap();
        std::fs::create_dir(tmp.path().join("sub.sql.d")).unwrap();
        assert_eq!(MigrationDir::open(tmp.path()).unwrap().files().len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_or_device_is_refused_before_it_is_opened() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("1_a.sql"), "SELECT 1;\n").unwrap();
        // atlas.sum as a link to /dev/zero: once an endless read.
        std::os::unix::fs::symlink("/dev/zero", tmp.path().join(SUM_FILE)).unwrap();
        let e = open_within_seconds(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::NotAFile { file, what } if file.ends_with(SUM_FILE) && what == "a symbolic link to a character device"),
            "{e:?}"
        );
        // atlas.sum as a named pipe: once a read that waited for a writer forever.
        std::fs::remove_file(tmp.path().join(SUM_FILE)).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            tmp.path().join(SUM_FILE),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
            0,
        )
        .unwrap();
        let e = open_within_seconds(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::NotAFile { what, .. } if what == "a named pipe (FIFO)"),
            "{e:?}"
        );
        // The same for a migration file.
        std::fs::rename(tmp.path().join(SUM_FILE), tmp.path().join("2_b.sql")).unwrap();
        let e = open_within_seconds(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::NotAFile { file, .. } if file.ends_with("2_b.sql")),
            "{e:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_only_inside_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("m");
        std::fs::create_dir(&m).unwrap();
        std::fs::write(tmp.path().join("secret"), "h1:x\nTOP-SECRET-LINE\n").unwrap();
        std::os::unix::fs::symlink("../secret", m.join(SUM_FILE)).unwrap();
        let e = MigrationDir::open(&m).unwrap_err();
        assert!(
            matches!(&e, DirError::OutsideDir { file, target } if file.ends_with(SUM_FILE) && target.ends_with("secret")),
            "{e:?}"
        );
        assert!(!e.to_string().contains("TOP-SECRET"), "{e}");
        std::fs::remove_file(m.join(SUM_FILE)).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), m.join("1_a.sql")).unwrap();
        assert!(matches!(
            MigrationDir::open(&m),
            Err(DirError::OutsideDir { .. })
        ));
        std::fs::remove_file(m.join("1_a.sql")).unwrap();

        // Kubernetes mounts a ConfigMap as links into a hidden sub-directory: inside, so they are read. The
        // directory itself may be reached through a link too.
        let data = m.join("..2026_01_01_00_00_00.1");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("1_a.sql"), "SELECT 1;\n").unwrap();
        std::fs::write(data.join(SUM_FILE), "h1:x\n").unwrap();
        std::os::unix::fs::symlink("..2026_01_01_00_00_00.1", m.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/1_a.sql", m.join("1_a.sql")).unwrap();
        std::os::unix::fs::symlink("..data/atlas.sum", m.join(SUM_FILE)).unwrap();
        std::os::unix::fs::symlink(&m, tmp.path().join("via-link")).unwrap();
        for path in [m.clone(), tmp.path().join("via-link")] {
            let d = MigrationDir::open(&path).unwrap();
            assert_eq!(d.files()[0].bytes(), b"SELECT 1;\n");
            assert_eq!(d.sum_bytes(), Some(&b"h1:x\n"[..]));
        }
    }

    #[test]
    fn files_over_the_limit_are_refused_without_reading_them() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("1_a.sql"), "SELECT 1;\n").unwrap();
        // Sparse: no disk space, and reading it whole would take the limit's worth of memory and more.
        let big = std::fs::File::create(tmp.path().join("2_big.sql")).unwrap();
        big.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = MigrationDir::open(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::TooLarge { file, limit } if file.ends_with("2_big.sql") && *limit == MAX_FILE_BYTES),
            "{e:?}"
        );
        assert!(e.to_string().contains("64 MiB"), "{e}");
        assert!(e.to_string().contains("split it"), "{e}");
        std::fs::remove_file(tmp.path().join("2_big.sql")).unwrap();
        let sum = std::fs::File::create(tmp.path().join(SUM_FILE)).unwrap();
        sum.set_len(100 << 30).unwrap();
        let e = MigrationDir::open(tmp.path()).unwrap_err();
        assert!(
            matches!(&e, DirError::TooLarge { file, .. } if file.ends_with(SUM_FILE)),
            "{e:?}"
        );
        assert!(e.to_string().contains("regenerate it"), "{e}");
    }

    #[test]
    fn reads_stop_past_the_limit_whatever_the_size_said() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        let mut buf = vec![0; 7];
        std::fs::write(&path, vec![b'x'; 20]).unwrap();
        let read =
            |limit| read_to_end(std::fs::File::open(&path).unwrap(), &mut buf.clone(), limit);
        assert_eq!(read(20).unwrap().len(), 20);
        assert_eq!(
            read(19).unwrap_err().kind(),
            std::io::ErrorKind::FileTooLarge
        );
        // Past 1 MiB the size is asked once; a file at the limit is read whole into exactly its size.
        std::fs::write(&path, vec![b'y'; (1 << 20) + 5]).unwrap();
        let bytes =
            read_to_end(std::fs::File::open(&path).unwrap(), &mut buf, (1 << 20) + 5).unwrap();
        assert_eq!(bytes.len(), (1 << 20) + 5);
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
