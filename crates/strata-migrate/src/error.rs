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
