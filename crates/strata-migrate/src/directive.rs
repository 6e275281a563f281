//! `atlas:*` directives (placeholder: being written).
use crate::error::DirError;

/// Directives of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `atlas:checkpoint [tag]`: `Some(tag)` (tag possibly empty) when present.
    pub checkpoint: Option<String>,
}

/// Parses a file's directives.
pub fn parse_file(_file: &str, _content: &str) -> Result<Directives, DirError> {
    Ok(Directives::default())
}
