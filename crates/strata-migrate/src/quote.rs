//! Go's `%q` quoting, so messages that embed versions, file names and statements match Atlas byte for byte.

use std::fmt::Write as _;

/// A character as Go's `%q` prints it (`strconv.QuoteRune` for the quote characters the scanner reports).
pub fn go_quote_char(c: char) -> String {
    match c {
        '\'' => r"'\''".to_owned(),
        c => format!("'{c}'"),
    }
}

/// Quotes `s` the way Go's `%q` verb (`strconv.Quote`) does, so messages that embed versions and file names
/// match Atlas byte for byte.
///
/// Printable characters stay as they are; `"` and `\` are escaped; `\a \b \f \n \r \t \v` use their short
/// forms; other control characters become `\xNN`, and other non-printable characters `\uNNNN` or
/// `\UNNNNNNNN`. "Printable" follows Go's `unicode.IsPrint` for every assigned character Strata is likely to
/// meet (letters, marks, numbers, punctuation, symbols and the ASCII space); unassigned code points, which Go
/// escapes, are kept as they are.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_printable(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// `s` cut to its first `max_chars` characters, `…` marking the cut, so a message never echoes a whole line of
/// unbounded length (a junk `atlas.sum` line can be megabytes long).
pub fn shorten(s: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &s[..cut]).into(),
        None => s.into(),
    }
}

/// Go's `unicode.IsPrint`, without the tables for unassigned code points.
pub fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(
        u,
        // Format characters (category Cf).
        0xAD
            | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001..=0xE007F
            // Surrogates cannot occur in a `char`; private use (Co) and non-characters follow.
            | 0xE000..=0xF8FF
            | 0xFFFE..=0xFFFF
            | 0xF_0000..=0x10_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_at_characters() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "abc…");
        assert_eq!(shorten("日本語です", 2), "日本…");
        assert_eq!(shorten("", 0), "");
        assert_eq!(shorten(&"x".repeat(10_000_000), 80).chars().count(), 81);
    }

    #[test]
    fn quotes_like_go() {
        for (input, quoted) in [
            ("1", r#""1""#),
            (
                "20220318104614_initial.sql",
                r#""20220318104614_initial.sql""#,
            ),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("a\nb\tc\r", r#""a\nb\tc\r""#),
            ("\u{0}\u{1b}\u{7f}", r#""\x00\x1b\x7f""#),
            ("\u{7}\u{8}\u{b}\u{c}", r#""\a\b\v\f""#),
            ("é ü 日本", r#""é ü 日本""#),
            (
                "\u{a0}\u{ad}\u{200b}\u{feff}",
                r#""\u00a0\u00ad\u200b\ufeff""#,
            ),
            ("\u{85}", r#""\u0085""#),
            ("\u{10ffff}", r#""\U0010ffff""#),
            ("'", r#""'""#),
        ] {
            assert_eq!(go_quote(input), quoted, "{input:?}");
        }
    }
}
