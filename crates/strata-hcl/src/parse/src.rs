//! One parsed file: its syntax tree (with byte spans) and the line table that turns a span into
//! `line:column`.

use std::ops::Range;

use hcl::edit::structure::Body;

use super::{ErrorKind, HclError};

/// A parsed HCL file.
#[derive(Debug)]
pub(super) struct Source {
    pub path: String,
    text: String,
    /// Byte offset of every line's start.
    line_starts: Vec<usize>,
    pub body: Body,
}

impl Source {
    /// Parses `text`; a syntax error points at hcl-edit's location.
    pub fn parse(path: &str, text: &str) -> Result<Source, HclError> {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        match hcl::edit::parser::parse_body(text) {
            Ok(body) => Ok(Source {
                path: path.to_owned(),
                text: text.to_owned(),
                line_starts,
                body,
            }),
            Err(e) => {
                let loc = e.location();
                Err(HclError {
                    file: path.to_owned(),
                    line: loc.line(),
                    column: loc.column(),
                    kind: ErrorKind::Syntax(format!(
                        "invalid HCL: {}: fix the syntax at this position",
                        e.message()
                    )),
                })
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }

    /// An error at `span` of this file (the file's start when the span is unknown).
    pub fn err(&self, span: Option<Range<usize>>, kind: ErrorKind) -> HclError {
        let (line, column) = self.line_col(span.map_or(0, |s| s.start));
        HclError {
            file: self.path.clone(),
            line,
            column,
            kind,
        }
    }

    /// `file:line:column` of a span, for messages that point at a second place.
    pub fn at(&self, span: Option<Range<usize>>) -> String {
        let (line, column) = self.line_col(span.map_or(0, |s| s.start));
        format!("{}:{line}:{column}", self.path)
    }
}
