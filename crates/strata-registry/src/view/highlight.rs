//! SQL syntax highlighting for the version page: a small tokenizer that wraps keywords, strings, quoted
//! identifiers, comments and numbers in `<span class="…">` and escapes everything it emits. It never fails: any
//! text (unterminated strings or comments, other dialects' syntax, binary junk) comes out escaped, with the
//! unrecognised parts as plain text.

use super::escape;

/// Words shown as keywords (upper-cased for the lookup; the text keeps its case).
const KEYWORDS: &[&str] = &[
    "ADD",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "AUTOINCREMENT",
    "AUTO_INCREMENT",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CHECK",
    "COLUMN",
    "COMMENT",
    "COMMIT",
    "CONCURRENTLY",
    "CONSTRAINT",
    "CREATE",
    "DEFAULT",
    "DEFERRABLE",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "ENUM",
    "EXISTS",
    "EXTENSION",
    "FALSE",
    "FOREIGN",
    "FROM",
    "FUNCTION",
    "GENERATED",
    "GRANT",
    "GROUP",
    "IDENTITY",
    "IF",
    "IN",
    "INDEX",
    "INSERT",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "LIKE",
    "LIMIT",
    "MATERIALIZED",
    "MODIFY",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "PRIMARY",
    "REFERENCES",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "ROLLBACK",
    "SCHEMA",
    "SELECT",
    "SEQUENCE",
    "SET",
    "TABLE",
    "THEN",
    "TO",
    "TRIGGER",
    "TRUE",
    "TYPE",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

/// One piece of SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A reserved or common keyword.
    Keyword,
    /// A string literal (`'…'`, `E'…'`, `$tag$…$tag$`).
    String,
    /// A quoted identifier (`"…"`, `` `…` ``, `[…]`).
    Quoted,
    /// A comment (`-- …`, `# …`, `/* … */`).
    Comment,
    /// A number.
    Number,
    /// An unquoted identifier.
    Ident,
    /// Anything else: spaces, punctuation, operators.
    Other,
}

impl Token {
    /// The CSS class of the span, or none for plain text.
    fn class(self) -> Option<&'static str> {
        match self {
            Token::Keyword => Some("kw"),
            Token::String => Some("str"),
            Token::Quoted => Some("qid"),
            Token::Comment => Some("cm"),
            Token::Number => Some("num"),
            Token::Ident => Some("id"),
            Token::Other => None,
        }
    }
}

/// Splits `text` into tokens covering it exactly (the slices concatenate back to `text`).
pub fn tokens(text: &str) -> Vec<(Token, &str)> {
    let b = text.as_bytes();
    let mut out: Vec<(Token, &str)> = Vec::new();
    let mut i = 0;
    // End of a run that closes at `close` (doubled `close` escapes it), or the end of the text.
    let closing = |from: usize, close: u8, backslash: bool| -> usize {
        let mut j = from;
        while j < b.len() {
            if backslash && b[j] == b'\\' {
                j += 2;
                continue;
            }
            if b[j] == close {
                if j + 1 < b.len() && b[j + 1] == close {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j += 1;
        }
        b.len()
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let (kind, end) = if (c == b'-' && next == Some(b'-')) || c == b'#' {
            let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
            (Token::Comment, end)
        } else if c == b'/' && next == Some(b'*') {
            let end = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            (Token::Comment, end)
        } else if c == b'\'' {
            (Token::String, closing(i + 1, b'\'', true))
        } else if (c == b'E' || c == b'e') && next == Some(b'\'') {
            (Token::String, closing(i + 2, b'\'', true))
        } else if c == b'"' {
            (Token::Quoted, closing(i + 1, b'"', false))
        } else if c == b'`' {
            (Token::Quoted, closing(i + 1, b'`', false))
        } else if c == b'$'
            && let Some(tag_len) = dollar_tag(&b[i..])
        {
            let tag = &text[i..i + tag_len];
            let end = text[i + tag_len..]
                .find(tag)
                .map_or(b.len(), |n| i + tag_len + n + tag_len);
            (Token::String, end)
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.' || b[j] == b'_') {
                j += 1;
            }
            (Token::Number, j)
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let mut j = i;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'$' || b[j] >= 0x80)
            {
                j += 1;
            }
            let word = &text[i..j];
            let upper = word.to_ascii_uppercase();
            let kind = if KEYWORDS.binary_search(&upper.as_str()).is_ok() {
                Token::Keyword
            } else {
                Token::Ident
            };
            (kind, j)
        } else {
            // One character (whole, if it is not ASCII) of anything else.
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            (Token::Other, i + len)
        };
        // Every branch ends on a character boundary: the delimiters searched for are ASCII.
        let end = end.min(b.len()).max(i + 1);
        match out.last_mut() {
            Some((Token::Other, prev)) if kind == Token::Other => {
                let start = i - prev.len();
                *prev = &text[start..end];
            }
            _ => out.push((kind, &text[i..end])),
        }
        i = end;
    }
    out
}

/// The length of a PostgreSQL dollar-quote tag (`$$` or `$name$`) at the start of `b`.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        if j == 1 && b[j].is_ascii_digit() {
            return None; // `$1` is a parameter
        }
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

/// `text` as HTML: each token escaped, the highlighted ones in a `<span class="…">`.
pub fn sql_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    for (kind, t) in tokens(text) {
        match kind.class() {
            Some(class) => {
                out.push_str("<span class=\"");
                out.push_str(class);
                out.push_str("\">");
                out.push_str(&escape(t));
                out.push_str("</span>");
            }
            None => out.push_str(&escape(t)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_the_lookup() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn tokens_cover_the_text() {
        for text in [
            "CREATE TABLE t (id int);",
            "'unterminated",
            "/* open",
            "$$ body",
            "é'ü\"x\0",
            "$1 + $a$ b $a$",
            "x -- c\ny # d",
        ] {
            let joined: String = tokens(text).iter().map(|(_, t)| *t).collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn statements_are_highlighted() {
        let html = sql_html(
            "-- users\nCREATE TABLE \"users\" (id int DEFAULT 42, name text DEFAULT 'a''b');\n",
        );
        assert_eq!(
            html,
            "<span class=\"cm\">-- users</span>\n<span class=\"kw\">CREATE</span> <span class=\"kw\">TABLE</span> \
             <span class=\"qid\">&quot;users&quot;</span> (<span class=\"id\">id</span> <span class=\"id\">int</span> \
             <span class=\"kw\">DEFAULT</span> <span class=\"num\">42</span>, <span class=\"id\">name</span> \
             <span class=\"id\">text</span> <span class=\"kw\">DEFAULT</span> <span class=\"str\">'a''b'</span>);\n"
        );
    }

    #[test]
    fn markup_in_sql_is_escaped() {
        let html =
            sql_html("SELECT '<script>alert(1)</script>' AS \"<b>\" -- </pre><script>\n<i>&");
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<i>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;<span class=\"id\">i</span>&gt;&amp;"));
    }

    #[test]
    fn dollar_quoted_bodies_are_strings() {
        let t = tokens("AS $f$ SELECT 1; $f$;");
        assert!(t.contains(&(Token::String, "$f$ SELECT 1; $f$")));
        assert!(tokens("$1").iter().all(|(k, _)| *k != Token::String));
    }
}
