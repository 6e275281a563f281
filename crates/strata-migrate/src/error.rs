//! Errors about migration directories and their files.

use thiserror::Error;

/// Something is wrong with a migration directory or one of its files.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DirError {
    /// The directory cannot be listed.
    #[error(
        "cannot read migration directory \"{dir}\": {source}. Check that it exists and that --dir points at it"
    )]
    ReadDir {
        /// The directory.
        dir: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file cannot be read.
    #[error("cannot read \"{file}\": {source}")]
    ReadFile {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A migration file name is unusable.
    #[error("invalid migration file name \"{file}\" in \"{dir}\": {reason}")]
    BadName {
        /// The directory.
        dir: String,
        /// The file name.
        file: String,
        /// Why.
        reason: String,
    },
    /// Two files share a name.
    #[error("migration file \"{file}\" appears twice in \"{dir}\"")]
    DuplicateFile {
        /// The directory.
        dir: String,
        /// The file name.
        file: String,
    },
    /// A migration file is not UTF-8.
    #[error(
        "migration file \"{file}\" is not valid UTF-8 (first bad byte at offset {offset}); save it as UTF-8"
    )]
    NotUtf8 {
        /// The file name.
        file: String,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A migration file holds a NUL byte, which no SQL text may contain.
    #[error(
        "{file}:{line}:{column}: the file contains a NUL byte, which cannot be part of SQL (PostgreSQL refuses it \
         and SQLite stops reading there); remove it, then run 'strata migrate hash'"
    )]
    NulByte {
        /// The file name.
        file: String,
        /// 1-based line of the first NUL byte.
        line: usize,
        /// 1-based column (in characters) of the first NUL byte.
        column: usize,
    },
    /// An entry named like a migration file (`*.sql`), or `atlas.sum`, is not a regular file.
    #[error(
        "\"{file}\" is {what}, not a regular file; a migration directory's *.sql entries and its atlas.sum must be \
         files: rename it or move it out of the directory"
    )]
    NotAFile {
        /// The path of the entry.
        file: String,
        /// What it is instead, e.g. `a directory`.
        what: String,
    },
    /// A symbolic link in the directory leads outside it.
    #[error(
        "\"{file}\" is a symbolic link to \"{target}\", outside the migration directory; Strata reads only files \
         inside it: replace the link with a copy of the file"
    )]
    OutsideDir {
        /// The path of the link.
        file: String,
        /// Where it leads.
        target: String,
    },
    /// A file is larger than Strata reads from a migration directory.
    #[error(
        "\"{file}\" is larger than {} MiB, the most Strata reads from one file of a migration directory; {}",
        .limit >> 20,
        if .file.ends_with(crate::dir::SUM_FILE) {
            "an atlas.sum that large is not one Strata wrote: regenerate it with 'strata migrate hash'"
        } else {
            "split it into several smaller migration files"
        }
    )]
    TooLarge {
        /// The path of the file.
        file: String,
        /// The limit in bytes ([`crate::dir::MAX_FILE_BYTES`]).
        limit: u64,
    },
    /// The `--dir` URL has a scheme this command cannot read.
    #[error("unsupported migration directory URL scheme \"{scheme}\": {hint}")]
    UnsupportedDirUrl {
        /// The scheme.
        scheme: String,
        /// What to use instead.
        hint: String,
    },
    /// The directory layout (`?format=`) is not Atlas's own.
    #[error("{}", if *.unknown { format!("unknown directory format \"{format}\": use atlas (the default), golang-migrate, goose, flyway, liquibase or dbmate") } else { format!("directory format \"{format}\" is not supported yet: Strata reads Atlas-layout directories only (drop ?format= or convert the directory)") })]
    UnsupportedFormat {
        /// The format asked for.
        format: String,
        /// Whether the name is not a layout Atlas knows (rather than known but unimplemented).
        unknown: bool,
    },
    /// A directive is unknown, malformed or conflicts with another.
    #[error("{file}:{line}: {message}")]
    Directive {
        /// The file name.
        file: String,
        /// 1-based line of the directive.
        line: usize,
        /// What is wrong and what to do.
        message: String,
    },
}
