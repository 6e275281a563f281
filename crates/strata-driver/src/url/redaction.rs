//! Redaction: the one home of hiding a URL's secrets. [`redact`] (password → `xxxxx`), [`without_credentials`]
//! (user-info removed) and [`scrub`] (a URL's secrets removed from other text) work on any text, also on URLs that
//! do not parse.

use percent_encoding::percent_decode_str;

/// Query parameters whose value is a secret and is redacted like the password.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "pass",
    "passwd",
    "pwd",
    "sslpassword",
    "secret",
    "token",
    "auth_token",
    "authtoken",
];

/// The text that replaces a password.
pub const REDACTED: &str = "xxxxx";

/// Replaces the password in `url` (and the value of secret query parameters such as `password=`) with `xxxxx`.
/// Everything else is kept byte for byte. Never fails, and works on text that does not parse: see
/// [`userinfo_end`] for how a password holding an unencoded `/`, `?`, `#` or `@` is still found.
pub fn redact(url: &str) -> String {
    redact_with(url, false).0
}

/// The URL without any credentials: the user-info (user and password) removed entirely and secret query
/// parameters redacted. The form stored and shown where the user name is not wanted either (deployment targets).
/// Built on the same reading as [`redact`], so it never shows more than `redact` does.
pub fn without_credentials(url: &str) -> String {
    redact_with(url, true).0
}

/// The secrets [`redact`] hides in `url`: the password and the values of secret query parameters, each as
/// written and percent-decoded, empty ones left out. For scrubbing other text that may have echoed them (an error
/// message sent along with the URL).
pub fn secrets(url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in redact_with(url, false).1 {
        let decoded = percent_decode_str(&raw.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        let plain = percent_decode_str(raw).decode_utf8_lossy().into_owned();
        for s in [raw.to_owned(), plain, decoded] {
            if !s.is_empty() && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// `text` with every secret of `url` (see [`secrets`]) replaced by `xxxxx`: for a message that came with the URL
/// and may have echoed its password.
pub fn scrub(text: &str, url: &str) -> String {
    let mut secrets = secrets(url);
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .iter()
        .fold(text.to_owned(), |t, s| t.replace(s.as_str(), REDACTED))
}

/// The redacted text and the secrets it removed (as written).
fn redact_with(url: &str, drop_userinfo: bool) -> (String, Vec<&str>) {
    let (prefix, rest) = split_scheme(url);
    let is_sqlite = prefix.to_ascii_lowercase().starts_with("sqlite");
    let mut out = String::with_capacity(url.len());
    let mut removed = Vec::new();
    out.push_str(prefix);
    let remainder = match userinfo_end(rest).filter(|_| !is_sqlite) {
        Some(at) => {
            let password = rest[..at].split_once(':');
            if let Some((_, pw)) = password {
                removed.push(pw);
            }
            if !drop_userinfo {
                match password {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    None => out.push_str(&rest[..at]),
                }
                out.push('@');
            }
            &rest[at + 1..]
        }
        None => rest,
    };
    // A secret query value keeps everything up to the next `&`, a `#` included: the query is not cut at the
    // fragment first, so `password=a#b` hides `a#b`.
    match remainder.split_once('?') {
        Some((before, query)) => {
            out.push_str(before);
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) if is_secret_param(k) => {
                        removed.push(v);
                        format!("{k}={REDACTED}")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        None => out.push_str(remainder),
    }
    (out, removed)
}

/// Splits `scheme://` off the front: `(prefix, rest)`. Anything else is all `rest`, so a `user:` is never taken
/// for a scheme: `u:pw@host` (a bare DSN), and `u:/pw@host` too, which could as well be the malformed
/// `postgres:/u:pw@host`; read as user `postgres` with password `/u:pw`, both hide the password.
pub(crate) fn split_scheme(url: &str) -> (&str, &str) {
    match url.find("://") {
        Some(i) if is_scheme_token(&url[..i]) => url.split_at(i + 3),
        _ => ("", url),
    }
}

/// Whether `s` can be a URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
pub(crate) fn is_scheme_token(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Where the user-info of `rest` (the URL after `scheme://`) ends: the index of its closing `@`, if any.
///
/// The standard reading (Go's `net/url`, libpq) ends the authority at the first `/`, `?` or `#`, so a password
/// holding one of them unencoded (`u:S3cr/3t@host`) is cut in two and its tail taken for the path. Redaction
/// takes the widest reading instead: when a `:` comes before the last `@`, everything up to that `@` may be
/// user and password. That never shows a password, at worst it hides more than needed. [`parse`](super::parse) refuses a URL
/// whose two readings differ, so a URL that connects is always shown as it is read.
pub(crate) fn userinfo_end(rest: &str) -> Option<usize> {
    let last = rest.rfind('@')?;
    if rest[..last].contains(':') {
        return Some(last);
    }
    standard_userinfo_end(rest)
}

/// The standard reading: the last `@` before the first `/`, `?` or `#`.
pub(crate) fn standard_userinfo_end(rest: &str) -> Option<usize> {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..authority_end].rfind('@')
}

fn is_secret_param(key: &str) -> bool {
    let key = percent_decode_str(key)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    SECRET_PARAMS.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_table() {
        let cases = [
            (
                "postgres://u:secret@h:5432/db?sslmode=disable",
                "postgres://u:xxxxx@h:5432/db?sslmode=disable",
            ),
            (
                "mysql://root:p%40ss@localhost/app",
                "mysql://root:xxxxx@localhost/app",
            ),
            (
                "mysql://root:p@ss@localhost/app",
                "mysql://root:xxxxx@localhost/app",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?user=u&password=hunter2&sslmode=disable",
                "postgres://h/db?user=u&password=xxxxx&sslmode=disable",
            ),
            (
                "postgres://h/db?PassWord=hunter2",
                "postgres://h/db?PassWord=xxxxx",
            ),
            ("postgres://u:@h/db", "postgres://u:xxxxx@h/db"),
            ("sqlite://file.db?_fk=1", "sqlite://file.db?_fk=1"),
            ("not a url user:pw@host", "not a url user:xxxxx@host"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "redact({input:?})");
        }
    }

    /// Issue 10 item 8: a password holding an unencoded `/`, `?`, `#` or `@` was echoed whole, because the URL was
    /// cut at the first `/`, `?` or `#` before the `@` was looked for.
    #[test]
    fn passwords_with_reserved_characters_are_redacted() {
        let cases = [
            (
                "postgres://u:S3cr/3tPW@host:1/x",
                "postgres://u:xxxxx@host:1/x",
            ),
            ("mysql://u:S3cr/3tPW@host:1/x", "mysql://u:xxxxx@host:1/x"),
            (
                "postgres://u:a?b#c@host:1/x?sslmode=disable",
                "postgres://u:xxxxx@host:1/x?sslmode=disable",
            ),
            ("postgres://u:p@ss/w@h/db", "postgres://u:xxxxx@h/db"),
            ("postgres:/u:S3cr/3tPW@host/x", "postgres:xxxxx@host/x"),
            ("u:S3cr/3tPW@host/x", "u:xxxxx@host/x"),
            ("u:/S3cr3tPW@host/x", "u:xxxxx@host/x"),
            (
                "http://user:S3cr/3t@registry:8080",
                "http://user:xxxxx@registry:8080",
            ),
            (
                "postgres://h/db?password=a#b&sslmode=disable",
                "postgres://h/db?password=xxxxx&sslmode=disable",
            ),
            // No ':' before the '@': no password, nothing hidden.
            (
                "postgres://h/db?application_name=me@ci",
                "postgres://h/db?application_name=me@ci",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "redact({input:?})");
        }
        assert_eq!(
            without_credentials("postgres://u:S3cr/3tPW@host:1/x?password=p"),
            "postgres://host:1/x?password=xxxxx"
        );
        assert_eq!(without_credentials("mysql://root@h/x"), "mysql://h/x");
        assert_eq!(
            without_credentials("sqlite://a@b:c.db"),
            "sqlite://a@b:c.db"
        );
    }
}
