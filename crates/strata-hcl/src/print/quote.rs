//! The two string quotings Atlas's HCL output uses: HCL string literals (hclwrite's escaping, with `${`/`%{`
//! doubled so they are not templates) and Go's `%q` (`strconv.Quote`), which Atlas uses for `sql("…")` arguments
//! and for the values inside a type call such as `enum("a","b")`.

/// Whether Go's `unicode.IsPrint` would call `c` printable (letters, marks, numbers, punctuation, symbols and the
/// ASCII space). Rust has no general-category table in `std`, so the non-printable set is approximated by control
/// characters, non-ASCII spaces and the common invisible format characters.
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E000}'..='\u{F8FF}'
    )
}

/// `s` as Go's `strconv.Quote` writes it: `"…"` with `\"`, `\\`, `\n`, `\t`… and `\xNN`/`\uNNNN` escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `s` as an HCL quoted string, escaped the way hclwrite escapes it: `\n`, `\r`, `\t`, `\"`, `\\`, `$${`, `%%{`,
/// and `\uNNNN` for what is not printable.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' | '%' => {
                out.push(c);
                if chars.peek() == Some(&'{') {
                    out.push(c);
                }
            }
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        assert_eq!(go_quote("int[]"), r#""int[]""#);
        assert_eq!(go_quote(r"_utf8mb4'\'s'"), r#""_utf8mb4'\\'s'""#);
        assert_eq!(go_quote("a\"b\nc\td"), r#""a\"b\nc\td""#);
        assert_eq!(go_quote("\u{1}é"), r#""\x01é""#);
        assert_eq!(go_quote("a\u{a0}b"), r#""a\u00a0b""#);
        assert_eq!(go_quote("${x}"), r#""${x}""#);
    }

    #[test]
    fn hcl_strings_escape_templates() {
        assert_eq!(hcl_string("a'b"), r#""a'b""#);
        assert_eq!(hcl_string("${x} %{y} $ %"), r#""$${x} %%{y} $ %""#);
        assert_eq!(hcl_string("\"q\"\\\n"), r#""\"q\"\\\n""#);
        assert_eq!(hcl_string("\u{1}"), r#""\u0001""#);
        assert_eq!(hcl_string("(a > 0)"), r#""(a > 0)""#);
    }
}
