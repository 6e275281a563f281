//! The two string quotings Atlas's HCL output uses: HCL string literals (hclwrite's escaping, with `${`/`%{`
//! doubled so they are not templates) and Go's `%q` (`strconv.Quote`), which Atlas uses for `sql("…")` arguments
//! and for the values inside a type call such as `enum("a","b")`.

/// `s` as Go's `strconv.Quote` writes it (`sql("…")` arguments): the one home is `strata_migrate::quote`.
pub use strata_migrate::quote::go_quote;
use strata_migrate::quote::is_go_printable as go_printable;

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
