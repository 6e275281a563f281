//! `--exclude` globs, Atlas style: dot-separated segments matched level by level.
//!
//! Against a realm, one segment names schemas (`app_*`), two name schema-level objects (`public.users`, `*.t`,
//! `s.*`: tables, views, enums, sequences, functions, triggers), three name what a table holds
//! (`public.users.password`, `*.*.tmp_*`: columns, indexes, foreign keys, checks). Against one schema (a URL
//! bound to a schema; always on SQLite) the first level is dropped: `users`, `users.password`, `*.tmp_*`.
//! Segments are globs: `*` any run of characters, `?` one character, `[abc]` / `[a-z]` / `[!a]` classes.

use crate::model::{Realm, Table};

/// Whether `name` matches the glob `pat`.
pub fn glob_match(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with single-star backtracking.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&p, pi, n[ni])
                        && matched
                    {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[at] == '['`: (matched, index after `]`); `None` when unclosed.
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let start = i;
    while i < p.len() && (p[i] != ']' || i == start) {
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negate, i + 1))
}

/// Splits a pattern on dots that are not inside a `[...]` class.
fn segments(pat: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in pat.char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            '.' if depth == 0 => {
                out.push(&pat[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&pat[start..]);
    out
}

/// A copy of `realm` without what `patterns` name. `schema_relative`: the patterns start at the object level
/// (a schema-bound URL; SQLite).
pub fn exclude(realm: &Realm, patterns: &[String], schema_relative: bool) -> Realm {
    let parsed: Vec<Vec<&str>> = patterns
        .iter()
        .map(|p| {
            let mut s = segments(p);
            if schema_relative {
                s.insert(0, "*");
            }
            s
        })
        .collect();
    let hit = |path: &[&str]| {
        parsed
            .iter()
            .any(|p| p.len() == path.len() && p.iter().zip(path).all(|(g, n)| glob_match(g, n)))
    };
    let mut out = realm.clone();
    out.schemas.retain(|s| !hit(&[&s.name]));
    out.extensions.retain(|e| !hit(&[&e.schema, &e.name]));
    for s in &mut out.schemas {
        let sn = s.name.clone();
        s.tables.retain(|t| !hit(&[&sn, &t.name]));
        s.views.retain(|v| !hit(&[&sn, &v.name]));
        s.materialized_views.retain(|v| !hit(&[&sn, &v.name]));
        s.enums.retain(|v| !hit(&[&sn, &v.name]));
        s.sequences.retain(|v| !hit(&[&sn, &v.name]));
        s.functions.retain(|v| !hit(&[&sn, &v.name]));
        s.triggers
            .retain(|v| !hit(&[&sn, &v.name]) && !hit(&[&sn, &v.table]));
        for t in &mut s.tables {
            exclude_in_table(t, &sn, &hit);
        }
    }
    out
}

fn exclude_in_table(t: &mut Table, schema: &str, hit: &dyn Fn(&[&str]) -> bool) {
    let tn = t.name.clone();
    let gone: Vec<String> = t
        .columns
        .iter()
        .filter(|c| hit(&[schema, &tn, &c.name]))
        .map(|c| c.name.clone())
        .collect();
    t.columns.retain(|c| !gone.contains(&c.name));
    t.indexes.retain(|i| !hit(&[schema, &tn, &i.name]));
    t.foreign_keys.retain(|f| !hit(&[schema, &tn, &f.name]));
    t.checks
        .retain(|c| !c.name.as_deref().is_some_and(|n| hit(&[schema, &tn, n])));
    if !gone.is_empty() {
        // Whatever stood on an excluded column goes with it.
        let uses = |parts: &[crate::model::IndexPart]| {
            parts
                .iter()
                .any(|p| p.column_name().is_some_and(|c| gone.iter().any(|g| g == c)))
        };
        t.indexes.retain(|i| !uses(&i.parts));
        t.foreign_keys
            .retain(|f| !f.columns.iter().any(|c| gone.contains(c)));
        if t.primary_key.as_ref().is_some_and(|pk| uses(&pk.parts)) {
            t.primary_key = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "users"));
        assert!(glob_match("u*", "users"));
        assert!(glob_match("*s", "users"));
        assert!(glob_match("u?ers", "users"));
        assert!(glob_match("[ab]*", "bar"));
        assert!(!glob_match("[ab]*", "car"));
        assert!(glob_match("[!a]*", "car"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("users", "users2"));
        assert!(glob_match("*_tmp_*", "a_tmp_b"));
        assert!(!glob_match("a*b", "acbx"));
        assert!(glob_match("", ""));
        assert!(!glob_match("[ab", "a"));
    }

    #[test]
    fn segments_ignore_dots_in_classes() {
        assert_eq!(segments("a.[.b].c"), vec!["a", "[.b]", "c"]);
        assert_eq!(segments("users"), vec!["users"]);
    }
}
