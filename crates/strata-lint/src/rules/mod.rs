//! The rules, one per file, registered in [`ALL`].
//!
//! - Change rules (Atlas's community analyzers, Atlas's codes and words): DS101–DS103, MF101–MF104, MY101, LT101,
//!   CD101. They read the schema changes a replay on the dev database found for each statement.
//! - Statement rules: BC101/BC102 (renames, which Atlas also reads from the statements), MY102, the PostgreSQL lock
//!   and rewrite rules with Atlas Pro's codes (PG101–PG106, PG301–PG306), squawk's rules that add to those (ST1xx),
//!   and the naming rules (NM101–NM106, off until a pattern is configured).

use strata_migrate::quote::go_quote;

use crate::config::NameKind;
use crate::rule::Rule;

mod bc101;
mod bc102;
mod cd101;
mod ds101;
mod ds102;
mod ds103;
mod lt101;
mod mf101;
mod mf102;
mod mf103;
mod mf104;
mod my101;
mod my102;
mod naming;
mod nm101;
mod nm102;
mod nm103;
mod nm104;
mod nm105;
mod nm106;
mod pg101;
mod pg102;
mod pg103;
mod pg104;
mod pg105;
mod pg106;
mod pg301;
mod pg302;
mod pg303;
mod pg304;
mod pg305;
mod pg306;
mod sql;
mod st100;
mod st101;
mod st102;
mod st103;
mod st104;
mod st105;
mod st106;
mod st107;
mod st108;
mod st109;
mod st110;
mod st111;
mod st112;
mod st113;

/// Every rule, in code order.
pub static ALL: &[&Rule] = &[
    &bc101::RULE,
    &bc102::RULE,
    &cd101::RULE,
    &ds101::RULE,
    &ds102::RULE,
    &ds103::RULE,
    &lt101::RULE,
    &mf101::RULE,
    &mf102::RULE,
    &mf103::RULE,
    &mf104::RULE,
    &my101::RULE,
    &my102::RULE,
    &nm101::RULE,
    &nm102::RULE,
    &nm103::RULE,
    &nm104::RULE,
    &nm105::RULE,
    &nm106::RULE,
    &pg101::RULE,
    &pg102::RULE,
    &pg103::RULE,
    &pg104::RULE,
    &pg105::RULE,
    &pg106::RULE,
    &pg301::RULE,
    &pg302::RULE,
    &pg303::RULE,
    &pg304::RULE,
    &pg305::RULE,
    &pg306::RULE,
    &st100::RULE,
    &st101::RULE,
    &st102::RULE,
    &st103::RULE,
    &st104::RULE,
    &st105::RULE,
    &st106::RULE,
    &st107::RULE,
    &st108::RULE,
    &st109::RULE,
    &st110::RULE,
    &st111::RULE,
    &st112::RULE,
    &st113::RULE,
];

/// The rule with code (any case) or name `s`.
pub fn find(s: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(s) || r.name == s)
}

/// The object kind a naming rule checks.
pub(crate) fn naming_kind(rule: &Rule) -> NameKind {
    match rule.code {
        "NM101" => NameKind::Schema,
        "NM102" => NameKind::Table,
        "NM103" => NameKind::Column,
        "NM104" => NameKind::Index,
        "NM105" => NameKind::ForeignKey,
        _ => NameKind::Check,
    }
}

/// `"a"`, `"a" and "b"`, `"a", "b" and "c"` (Go-quoted, as Atlas lists names).
pub(crate) fn and_list<S: AsRef<str>>(names: &[S]) -> String {
    let q: Vec<String> = names.iter().map(|n| go_quote(n.as_ref())).collect();
    match q.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A Go-quoted name.
pub(crate) fn q(s: &str) -> String {
    go_quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_found() {
        let mut seen = HashSet::new();
        for r in ALL {
            assert!(seen.insert(r.code), "duplicate code {}", r.code);
            assert!(seen.insert(r.name), "duplicate name {}", r.name);
            assert_eq!(find(r.code).map(|f| f.code), Some(r.code));
            assert_eq!(find(&r.code.to_lowercase()).map(|f| f.code), Some(r.code));
            assert_eq!(find(r.name).map(|f| f.code), Some(r.code));
            assert!(!r.summary.is_empty() && !r.summary.contains('\n'));
        }
    }

    #[test]
    fn lists_read_as_atlas_writes_them() {
        assert_eq!(and_list(&["a"]), r#""a""#);
        assert_eq!(and_list(&["a", "b"]), r#""a" and "b""#);
        assert_eq!(and_list(&["a", "b", "c"]), r#""a", "b" and "c""#);
    }
}
