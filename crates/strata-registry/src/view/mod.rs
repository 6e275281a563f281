//! What the web UI's pages compute, as pure functions over what the store holds (no I/O): SQL highlighting
//! ([`highlight`]), the difference between two versions ([`diff`]), a pushed lint report as rows ([`lint`]) and
//! a schema model's ER diagram as SVG ([`er`]). Each escapes every text it emits.

pub mod diff;
pub mod er;
pub mod highlight;
pub mod lint;

/// `s` escaped for HTML text and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
