//! `migrate diff --format`: Atlas accepts a Go template there, and its community build honours one form for the
//! migration file's statements, the indentation call `{{ sql . "<indent>" }}` (or `$` for `.`; without the
//! string, no indentation). [`indent`] reads that form; any other template that calls `sql` is Atlas's error
//! (`'sql' can only be used to indent statements. got: …`, the template as Go prints it back). Other templates
//! (which Atlas would use as the file's body template) are refused: Strata does not evaluate Go templates.

use thiserror::Error;

/// Why a `--format` value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A template that uses `sql` other than as the whole indentation call (Atlas's wording).
    #[error("'sql' can only be used to indent statements. got: {normalized}")]
    SqlMisused {
        /// The template as Go's parser prints it (`{{if .}}{{sql . "  "}}{{end}}`).
        normalized: String,
    },
    /// The indentation argument is not a Go string literal (Atlas's wording first).
    #[error(
        "parse indent: invalid syntax: {arg}: write it as a quoted string, e.g. \"  \" or \"\\t\""
    )]
    BadIndent {
        /// The argument as written.
        arg: String,
    },
    /// A template of another kind.
    #[error(
        "unsupported --format template {given:?}: migrate diff takes only the indentation form {{{{ sql . \"  \" }}}} \
         (file names and bodies follow Atlas's default layout)"
    )]
    Unsupported {
        /// The template as given.
        given: String,
    },
}

/// The indentation `format` asks for: `""` for no format (or the call without an argument).
pub fn indent(format: &str) -> Result<String, FormatError> {
    if format.is_empty() {
        return Ok(String::new());
    }
    let actions = actions(format);
    if let [(start, end, inner)] = actions.as_slice()
        && *start == 0
        && *end == format.len()
    {
        let words = words(inner);
        if let Some(["sql", dot, rest @ ..]) = words.as_deref()
            && (*dot == "." || *dot == "$")
            && rest.len() <= 1
        {
            return match rest.first() {
                None => Ok(String::new()),
                Some(arg) => unquote(arg).ok_or_else(|| FormatError::BadIndent {
                    arg: (*arg).to_owned(),
                }),
            };
        }
    }
    let calls_sql = actions.iter().any(|(_, _, inner)| {
        words(inner).is_some_and(|w| w.iter().any(|t| t.trim_start_matches('(') == "sql"))
    });
    if calls_sql {
        return Err(FormatError::SqlMisused {
            normalized: normalize(format, &actions),
        });
    }
    Err(FormatError::Unsupported {
        given: format.to_owned(),
    })
}

/// The `{{ … }}` actions of a template: (start, end, inner text without the trim markers).
fn actions(t: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = t[at..].find("{{").map(|i| at + i) {
        let Some(close) = t[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        let mut inner = &t[open + 2..close];
        inner = inner.strip_prefix("- ").unwrap_or(inner);
        inner = inner.strip_suffix(" -").unwrap_or(inner);
        out.push((open, close + 2, inner));
        at = close + 2;
    }
    out
}

/// The words of an action: quoted strings (`"…"` with escapes, `` `…` ``) are single words. `None` when a
/// quote does not close.
fn words(inner: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match b[i] {
            q @ (b'"' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return None;
                }
                i += 1;
            }
            _ => {
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
        }
        out.push(&inner[start..i]);
    }
    Some(out)
}

/// A Go string literal's value: interpreted (`"…"`, the common escapes) or raw (`` `…` ``).
fn unquote(lit: &str) -> Option<String> {
    if let Some(raw) = lit.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Some(raw.to_owned());
    }
    let body = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            '\\' => '\\',
            '"' => '"',
            _ => return None,
        });
    }
    Some(out)
}

/// The template as Go prints its parse tree: each action's words joined by one space.
fn normalize(t: &str, actions: &[(usize, usize, &str)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (start, end, inner) in actions {
        out.push_str(&t[at..*start]);
        out.push_str("{{");
        out.push_str(&words(inner).map_or_else(|| inner.trim().to_owned(), |w| w.join(" ")));
        out.push_str("}}");
        at = *end;
    }
    out.push_str(&t[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_indent_forms_atlas_accepts() {
        assert_eq!(indent("").unwrap(), "");
        assert_eq!(indent(r#"{{ sql . "  " }}"#).unwrap(), "  ");
        assert_eq!(indent(r#"{{sql . "  "}}"#).unwrap(), "  ");
        assert_eq!(indent(r#"{{ sql . "\t" }}"#).unwrap(), "\t");
        assert_eq!(indent(r#"{{sql $ "  \t  "}}"#).unwrap(), "  \t  ");
        assert_eq!(indent("{{ sql . `    ` }}").unwrap(), "    ");
        assert_eq!(indent("{{ sql . }}").unwrap(), "");
        assert_eq!(indent(r#"{{- sql . "  " -}}"#).unwrap(), "  ");
    }

    #[test]
    fn other_uses_of_sql_are_atlas_errors() {
        assert_eq!(
            indent(r#"{{ if . }}{{ sql . "  " }}{{ end }}"#)
                .unwrap_err()
                .to_string(),
            r#"'sql' can only be used to indent statements. got: {{if .}}{{sql . "  "}}{{end}}"#
        );
        assert_eq!(
            indent(r#" {{ sql . "  " }}"#).unwrap_err().to_string(),
            r#"'sql' can only be used to indent statements. got:  {{sql . "  "}}"#
        );
        assert!(matches!(
            indent(r#"{{ sql . "  " "x" }}"#),
            Err(FormatError::SqlMisused { .. })
        ));
        assert!(matches!(
            indent(r#"{{ sql . "\q" }}"#),
            Err(FormatError::BadIndent { .. })
        ));
        assert_eq!(
            indent("{{ range .Changes }}{{ .Cmd }}{{ end }}")
                .unwrap_err()
                .to_string(),
            "unsupported --format template \"{{ range .Changes }}{{ .Cmd }}{{ end }}\": migrate diff takes only the \
             indentation form {{ sql . \"  \" }} (file names and bodies follow Atlas's default layout)"
        );
        assert!(matches!(
            indent("json"),
            Err(FormatError::Unsupported { .. })
        ));
    }
}
