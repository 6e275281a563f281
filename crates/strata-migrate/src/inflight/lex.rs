//! Tokens of one MySQL/MariaDB statement text, as the server reads them: comments dropped (the contents of
//! `/*! … */` and `/*M! … */` kept, since the server executes them), quotes decoded, everything else a word or a
//! punctuation character. Enough to recognise a statement's shape; not a parser.

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An unquoted word: a keyword, an identifier or a number, as written.
    Word(String),
    /// A quoted text, decoded: `` `…` `` (an identifier), `"…"` (a string, or an identifier under `ANSI_QUOTES`)
    /// or `'…'` (a string).
    Quoted { quote: char, text: String },
    /// Any other character.
    Punct(char),
}

impl Tok {
    /// Whether this is the unquoted word `kw` (ASCII case-insensitive).
    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// Characters of an unquoted word: letters, digits, `_`, `$` and everything beyond ASCII.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// Splits `text` into tokens. Fails on an unterminated quote or comment (the server could not have run it).
pub(crate) fn tokens(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Inside `/*! … */`: its closing `*/` is skipped like whitespace.
    let mut executable = false;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == '#'
            || (c == '-' && at(i + 1) == Some('-') && at(i + 2).is_none_or(is_comment_gap))
        {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            let bang = match (at(i + 2), at(i + 3)) {
                (Some('!'), _) => Some(3),
                (Some('M'), Some('!')) => Some(4),
                _ => None,
            };
            if let Some(skip) = bang {
                if executable {
                    return Err("nested executable comment".into());
                }
                executable = true;
                i += skip;
                // The server version the comment is for (`/*!50100`, `/*M!100301`).
                let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 5 || digits == 6 {
                    i += digits;
                }
            } else {
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                    .ok_or("unterminated comment")?;
                i = end + 2;
            }
        } else if executable && c == '*' && at(i + 1) == Some('/') {
            executable = false;
            i += 2;
        } else if matches!(c, '`' | '"' | '\'') {
            let (text, next) = quoted(&chars, i)?;
            out.push(Tok::Quoted { quote: c, text });
            i = next;
        } else if word_char(c) {
            let start = i;
            while at(i).is_some_and(word_char) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    if executable {
        return Err("unterminated executable comment".into());
    }
    Ok(out)
}

/// `--` starts a comment only before whitespace or a control character.
fn is_comment_gap(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// The quote starting at `start`: its decoded text and the index after it. A doubled quote stands for itself;
/// in strings (not in back-quoted names) a backslash escapes the next character.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let q = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(format!("unterminated quote {q}")),
            Some('\\') if q != '`' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(format!("unterminated quote {q}"));
                };
                text.push(match next {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    other => other,
                });
                i += 2;
            }
            Some(&c) if c == q => {
                if chars.get(i + 1) == Some(&q) {
                    text.push(q);
                    i += 2;
                } else {
                    return Ok((text, i + 1));
                }
            }
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Tok {
        Tok::Word(s.into())
    }

    fn q(quote: char, s: &str) -> Tok {
        Tok::Quoted {
            quote,
            text: s.into(),
        }
    }

    #[test]
    fn words_quotes_and_punctuation() {
        assert_eq!(
            tokens("ALTER TABLE `my``t`.c ADD `x y` int DEFAULT 'it''s \\' ok';").unwrap(),
            vec![
                w("ALTER"),
                w("TABLE"),
                q('`', "my`t"),
                Tok::Punct('.'),
                w("c"),
                w("ADD"),
                q('`', "x y"),
                w("int"),
                w("DEFAULT"),
                q('\'', "it's ' ok"),
                Tok::Punct(';'),
            ]
        );
        assert_eq!(
            tokens("DROP TABLE \"a\\\"b\", ünï_$1").unwrap(),
            vec![
                w("DROP"),
                w("TABLE"),
                q('"', "a\"b"),
                Tok::Punct(','),
                w("ünï_$1")
            ]
        );
    }

    #[test]
    fn comments_are_dropped_and_executable_comments_kept() {
        assert_eq!(
            tokens("-- lead\nDROP /* DROP */ TABLE # x\n t --\n").unwrap(),
            vec![w("DROP"), w("TABLE"), w("t")]
        );
        // `--` without a following space is two minus signs.
        assert_eq!(
            tokens("SELECT 1--1").unwrap(),
            vec![
                w("SELECT"),
                w("1"),
                Tok::Punct('-'),
                Tok::Punct('-'),
                w("1")
            ]
        );
        assert_eq!(
            tokens("/*!40101 SET NAMES utf8 */;").unwrap(),
            vec![w("SET"), w("NAMES"), w("utf8"), Tok::Punct(';')]
        );
        assert_eq!(
            tokens("CREATE TABLE t (a int) /*M!100301 PAGE_COMPRESSED=1*/").unwrap()[7..],
            [w("PAGE_COMPRESSED"), Tok::Punct('='), w("1")]
        );
        // Quote characters inside comments are not quotes.
        assert_eq!(
            tokens("/* it's */ DROP TABLE t -- don't\n").unwrap(),
            vec![w("DROP"), w("TABLE"), w("t")]
        );
    }

    #[test]
    fn unterminated_input_is_an_error() {
        for bad in [
            "SELECT 'a",
            "SELECT `a",
            "SELECT 'a\\",
            "SELECT /* a",
            "SELECT /*! 1",
        ] {
            assert!(tokens(bad).is_err(), "{bad}");
        }
    }
}
