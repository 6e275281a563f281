//! `atlas:*` directives.
//!
//! Atlas recognises directives with the pattern `^([ -~]*)atlas:(\w+)(?: +([ -~]*))*` matched against one string and
//! anchored at its start: a printable-ASCII prefix, the name, and the argument text. Where the string comes from
//! decides which directives count:
//!
//! - the first line of the file, any prefix: `atlas:sum ignore`;
//! - the first line, prefix exactly `-- `: `atlas:delimiter <d>`;
//! - the file header (leading `--`/`#` lines followed by a blank line): `txmode`, `checkpoint`, `nolint`;
//! - comments attached to a statement: `nolint` for that statement.
//!
//! Strata is stricter than Atlas in one way: a directive it does not know, or one in a place where it has no
//! effect, is an error naming the file and line, so a typo never silently changes how a file runs.

use std::fmt;
use std::str::FromStr;

use crate::error::DirError;

/// A directive found in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive<'a> {
    /// Everything before `atlas:`.
    pub prefix: &'a str,
    /// The name after `atlas:`.
    pub name: &'a str,
    /// The argument text; empty when there is none.
    pub arg: &'a str,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Matches Atlas's directive pattern against `s` (only its first line can match).
///
/// Mirrors the regular expression's leftmost-first, greedy semantics: the prefix extends to the *last*
/// `atlas:<word>` reachable through printable ASCII; the argument is the printable run after the spaces that
/// follow the name (so it stops before the `\r` of a CRLF line).
pub fn match_directive(s: &str) -> Option<Directive<'_>> {
    match_directive_bytes(s.as_bytes())
}

/// [`match_directive`] on raw bytes (file content before decoding, or a scanner's view of it). Everything the
/// pattern matches is printable ASCII, so the parts are always valid text.
pub fn match_directive_bytes(bytes: &[u8]) -> Option<Directive<'_>> {
    let printable_end = bytes
        .iter()
        .position(|b| !(b' '..=b'~').contains(b))
        .unwrap_or(bytes.len());
    // Everything up to `printable_end` is ASCII, hence valid UTF-8.
    let s = std::str::from_utf8(&bytes[..printable_end]).ok()?;
    let mut start = None;
    let mut from = 0;
    while let Some(i) = s[from..].find("atlas:") {
        let at = from + i;
        if bytes.get(at + 6).copied().is_some_and(is_word) {
            start = Some(at);
        }
        from = at + 1;
    }
    let at = start?;
    let name_start = at + 6;
    let name_end = name_start
        + bytes[name_start..]
            .iter()
            .take_while(|b| is_word(**b))
            .count();
    // `s` ends where printable ASCII ends, so the argument is simply what follows the spaces.
    let rest = &s[name_end..];
    let spaces = rest.bytes().take_while(|b| *b == b' ').count();
    let arg = if spaces == 0 { "" } else { &rest[spaces..] };
    Some(Directive {
        prefix: &s[..at],
        name: &s[name_start..name_end],
        arg,
    })
}

/// Transaction mode of a file or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TxMode {
    /// One transaction per file (the default).
    #[default]
    File,
    /// One transaction around all files.
    All,
    /// No transaction: every statement commits on its own.
    None,
}

impl FromStr for TxMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "file" => Ok(Self::File),
            "all" => Ok(Self::All),
            "none" => Ok(Self::None),
            other => Err(format!("unknown tx-mode \"{other}\"")),
        }
    }
}

impl fmt::Display for TxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::File => "file",
            Self::All => "all",
            Self::None => "none",
        })
    }
}

/// The directives of one file, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `atlas:sum ignore` on the first line.
    pub sum_ignore: bool,
    /// `-- atlas:delimiter <d>` on the first line, escapes decoded.
    pub delimiter: Option<String>,
    /// `atlas:txmode none|file` in the header.
    pub txmode: Option<TxMode>,
    /// `atlas:checkpoint [tag]` in the header: `Some(tag)`, the tag possibly empty.
    pub checkpoint: Option<String>,
    /// `atlas:nolint [names…]` in the header: `Some(vec![])` skips the file in lint; names suppress those checks.
    pub nolint: Option<Vec<String>>,
}

/// Whether the first line of `content` carries `atlas:sum ignore` (any prefix). Works on raw bytes, as the
/// checksum is computed before anything is decoded.
pub fn is_sum_ignored(content: &[u8]) -> bool {
    match_directive_bytes(content).is_some_and(|d| d.name == "sum" && d.arg == "ignore")
}

/// The `-- atlas:delimiter` argument on the first line, escapes (`\n`, `\r`, `\t`) decoded.
pub fn delimiter(content: &str) -> Option<String> {
    let d = match_directive(content)?;
    (d.name == "delimiter" && d.prefix == "-- ").then(|| unescape(d.arg))
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
}

/// The header: the leading lines starting at column 0 with `--` or `#`, each trimmed, with 1-based line numbers.
/// A header counts only when a blank line follows it or the file holds nothing else.
pub fn header(content: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut rest = content;
    while rest.starts_with('#') || rest.starts_with("--") {
        match rest.find('\n') {
            Some(i) => {
                lines.push((lines.len() + 1, rest[..i].trim()));
                rest = &rest[i + 1..];
            }
            None => {
                lines.push((lines.len() + 1, rest.trim()));
                return lines;
            }
        }
    }
    // Atlas accepts only spaces and tabs on the separating line; Strata also accepts a CRLF blank line, so a
    // file checked out with Windows line endings keeps its directives.
    let blank = rest.trim_start_matches([' ', '\t', '\r']);
    if rest.is_empty() || blank.starts_with('\n') || (blank.is_empty() && !rest.is_empty()) {
        lines
    } else {
        Vec::new()
    }
}

/// Parses and validates the directives of a file.
pub fn parse_file(file: &str, content: &str) -> Result<Directives, DirError> {
    let err = |line: usize, message: String| DirError::Directive {
        file: file.into(),
        line,
        message,
    };
    let mut out = Directives {
        sum_ignore: is_sum_ignored(content.as_bytes()),
        delimiter: delimiter(content),
        ..Directives::default()
    };
    // First-line directives in the wrong shape.
    if let Some(d) = match_directive(content) {
        match d.name {
            "sum" if d.arg != "ignore" => {
                return Err(err(
                    1,
                    format!(
                        "unknown atlas:sum argument {:?}: the only form is `-- atlas:sum ignore`",
                        d.arg
                    ),
                ));
            }
            "delimiter" if d.prefix != "-- " => {
                return Err(err(1, "the delimiter directive must start the file with exactly `-- atlas:delimiter <d>`".into()));
            }
            "delimiter" if d.arg.is_empty() => {
                return Err(err(1, "atlas:delimiter needs a delimiter, e.g. `-- atlas:delimiter $$` or `-- atlas:delimiter \\n\\n`".into()));
            }
            _ => {}
        }
    }
    let mut txmodes: Vec<(usize, &str)> = Vec::new();
    for (line, text) in header(content) {
        let Some(d) = match_directive(text) else {
            continue;
        };
        match d.name {
            "sum" | "delimiter" if line == 1 => {}
            "sum" | "delimiter" => {
                return Err(err(
                    line,
                    format!("atlas:{} only works on the first line of the file", d.name),
                ));
            }
            "txmode" => txmodes.push((line, d.arg)),
            "checkpoint" => {
                if out.checkpoint.is_some() {
                    return Err(err(
                        line,
                        "atlas:checkpoint appears more than once; keep one".into(),
                    ));
                }
                out.checkpoint = Some(d.arg.to_owned());
            }
            "nolint" => {
                out.nolint
                    .get_or_insert_with(Vec::new)
                    .extend(d.arg.split_whitespace().map(str::to_owned));
            }
            "txtar" | "assert" | "import" => {
                return Err(err(
                    line,
                    format!(
                        "atlas:{} is an Atlas Pro directive that Strata does not support; remove it or run this file with Atlas",
                        d.name
                    ),
                ));
            }
            other => {
                return Err(err(
                    line,
                    format!(
                        "unknown directive atlas:{other}; known file directives are txmode, checkpoint and nolint"
                    ),
                ));
            }
        }
    }
    if txmodes.len() > 1 {
        let values: Vec<String> = txmodes.iter().map(|(_, v)| format!("{v:?}")).collect();
        return Err(err(
            txmodes[1].0,
            format!(
                "multiple txmode values found in file \"{file}\": [{}]",
                values.join(" ")
            ),
        ));
    }
    if let Some(&(line, value)) = txmodes.first() {
        out.txmode = Some(match value {
            "file" => TxMode::File,
            "none" => TxMode::None,
            "all" => {
                return Err(err(
                    line,
                    format!(
                        "txmode \"all\" is not allowed in file directive \"{file}\". Use \"file\" instead"
                    ),
                ));
            }
            other => {
                return Err(err(
                    line,
                    format!("unknown txmode \"{other}\" found in file directive \"{file}\""),
                ));
            }
        });
    }
    Ok(out)
}

/// The `atlas:nolint` arguments found in a statement's attached comments (`#`, `--`, `-- ` prefixes or a
/// single-line `/* … */`); `Some(vec![])` means "all checks".
pub fn statement_nolint(comments: &[String]) -> Option<Vec<String>> {
    let mut found: Option<Vec<String>> = None;
    for c in comments {
        let c = c.trim();
        let text = if let Some(inner) = c.strip_prefix("/*").and_then(|s| s.strip_suffix("*/")) {
            if inner.contains('\n') {
                continue;
            }
            inner.trim()
        } else {
            c
        };
        if let Some(d) = match_directive(text)
            && d.name == "nolint"
            && matches!(d.prefix, "" | "#" | "--" | "-- ")
        {
            found
                .get_or_insert_with(Vec::new)
                .extend(d.arg.split_whitespace().map(str::to_owned));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_follows_the_atlas_pattern() {
        let d = match_directive("-- atlas:sum ignore").unwrap();
        assert_eq!((d.prefix, d.name, d.arg), ("-- ", "sum", "ignore"));
        let d = match_directive("-- atlas:delimiter \\n\\n\nSELECT 1;").unwrap();
        assert_eq!((d.prefix, d.name, d.arg), ("-- ", "delimiter", "\\n\\n"));
        // greedy prefix: the last atlas:<word> wins
        let d = match_directive("# atlas:x atlas:txmode none").unwrap();
        assert_eq!((d.name, d.arg), ("txmode", "none"));
        // the argument is printable ASCII only: it stops before a carriage return or a tab
        assert_eq!(
            match_directive("-- atlas:sum ignore\r\n").unwrap().arg,
            "ignore"
        );
        // spaces only: the printable run after them is empty
        assert_eq!(match_directive("atlas:sum   ").unwrap().arg, "");
        assert_eq!(
            match_directive("atlas:sum ignore  ").unwrap().arg,
            "ignore  "
        );
        assert_eq!(
            match_directive("-- atlas:nolint a b\tc").unwrap().arg,
            "a b"
        );
        assert_eq!(match_directive("atlas:sum ").unwrap().arg, "");
        assert_eq!(match_directive("atlas:sum-x").unwrap().name, "sum");
        // non-printable prefix or no word after the colon
        assert!(match_directive("\t-- atlas:sum ignore").is_none());
        assert!(match_directive("SELECT 1;\n-- atlas:sum ignore").is_none());
        assert!(match_directive("-- atlas: sum").is_none());
    }

    #[test]
    fn sum_ignore_is_exact() {
        assert!(is_sum_ignored(b"-- atlas:sum ignore\nSELECT 1;"));
        assert!(is_sum_ignored(b"/* atlas:sum ignore"));
        assert!(is_sum_ignored(b"-- atlas:sum ignore\r\nSELECT 1;"));
        assert!(!is_sum_ignored(b"-- atlas:sum ignored\n"));
        assert!(!is_sum_ignored(b"SELECT 1;\n-- atlas:sum ignore\n"));
    }

    #[test]
    fn header_needs_a_blank_line() {
        assert_eq!(
            header("-- a\n--  b  \n\nSELECT 1;"),
            vec![(1, "-- a"), (2, "--  b")]
        );
        assert_eq!(header("-- a\n \t\nSELECT 1;"), vec![(1, "-- a")]);
        assert_eq!(header("-- a\r\n\r\nSELECT 1;"), vec![(1, "-- a")]);
        assert!(header("-- a\nSELECT 1;").is_empty());
        assert!(header(" -- a\n\nSELECT 1;").is_empty());
        assert_eq!(header("-- only"), vec![(1, "-- only")]);
        assert_eq!(header("-- only\n"), vec![(1, "-- only")]);
    }

    #[test]
    fn parses_file_directives() {
        let d = parse_file(
            "f.sql",
            "-- atlas:txmode none\n-- atlas:nolint DS102 destructive\n\nDROP TABLE t;",
        )
        .unwrap();
        assert_eq!(d.txmode, Some(TxMode::None));
        assert_eq!(d.nolint, Some(vec!["DS102".into(), "destructive".into()]));
        let d = parse_file("f.sql", "-- atlas:checkpoint v1\n\nCREATE TABLE t(a int);").unwrap();
        assert_eq!(d.checkpoint.as_deref(), Some("v1"));
        let d = parse_file("f.sql", "-- atlas:delimiter \\n\\n\nSELECT 1\n\nSELECT 2").unwrap();
        assert_eq!(d.delimiter.as_deref(), Some("\n\n"));
        // a header that is not followed by a blank line is a statement comment, not a directive
        let d = parse_file(
            "f.sql",
            "-- atlas:txmode none\nCREATE INDEX CONCURRENTLY i ON t(a);",
        )
        .unwrap();
        assert_eq!(d.txmode, None);
    }

    #[test]
    fn directive_errors_name_file_line_and_fix() {
        let cases = [
            (
                "-- atlas:txmode none\n-- atlas:txmode file\n\n",
                2,
                "multiple txmode values found in file \"f.sql\": [\"none\" \"file\"]",
            ),
            (
                "-- atlas:txmode all\n\n",
                1,
                "txmode \"all\" is not allowed in file directive \"f.sql\". Use \"file\" instead",
            ),
            (
                "-- x\n-- atlas:txmode maybe\n\n",
                2,
                "unknown txmode \"maybe\" found in file directive \"f.sql\"",
            ),
            (
                "-- atlas:txmod none\n\n",
                1,
                "unknown directive atlas:txmod",
            ),
            ("-- atlas:assert x\n\n", 1, "Atlas Pro directive"),
            ("-- atlas:sum yes\n", 1, "unknown atlas:sum argument"),
            (
                "-- x\n-- atlas:delimiter //\n\n",
                2,
                "only works on the first line",
            ),
            (
                "-- atlas:checkpoint\n-- atlas:checkpoint b\n\n",
                2,
                "more than once",
            ),
            ("-- atlas:delimiter\nSELECT 1", 1, "needs a delimiter"),
        ];
        for (content, line, msg) in cases {
            match parse_file("f.sql", content) {
                Err(DirError::Directive {
                    file,
                    line: l,
                    message,
                }) => {
                    assert_eq!(file, "f.sql");
                    assert_eq!(l, line, "{content:?}");
                    assert!(message.contains(msg), "{message} should contain {msg}");
                }
                other => panic!("{content:?}: expected a directive error, got {other:?}"),
            }
        }
    }

    #[test]
    fn statement_nolint_reads_attached_comments() {
        assert_eq!(
            statement_nolint(&["-- atlas:nolint DS103".into()]),
            Some(vec!["DS103".into()])
        );
        assert_eq!(
            statement_nolint(&["/* atlas:nolint */".into()]),
            Some(vec![])
        );
        assert_eq!(statement_nolint(&["-- plain comment".into()]), None);
        assert_eq!(
            statement_nolint(&["/* atlas:nolint\n DS103 */".into()]),
            None
        );
    }

    #[test]
    fn txmode_parses() {
        assert_eq!("all".parse::<TxMode>(), Ok(TxMode::All));
        assert_eq!("x".parse::<TxMode>(), Err("unknown tx-mode \"x\"".into()));
    }
}
