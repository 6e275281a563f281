//! The scanner never panics, and what it returns is consistent with its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_migrate::scan::{self, Dialect};

fuzz_target!(|input: &str| {
    for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        let Ok(stmts) = scan::split(dialect, "fuzz.sql", input) else { continue };
        let mut last = None;
        for s in &stmts {
            assert!(s.pos <= input.len(), "position past the end");
            assert!(input.is_char_boundary(s.pos), "position inside a character");
            assert!(last.is_none_or(|p| s.pos > p), "positions must increase");
            last = Some(s.pos);
            let before = &input[..s.pos];
            assert_eq!(s.line, before.matches('\n').count() + 1, "line of {s:?}");
        }
    }
});
