//! Properties of the statement scanner on arbitrary input: it never panics or hangs, and what it
//! returns is consistent with the input.

use proptest::prelude::*;
use strata_migrate::scan::{Dialect, ScanError, Stmt, split};

/// Pieces that exercise every rule of the scanner when glued together at random.
const FRAGMENTS: &[&str] = &[
    "'",
    "\"",
    "`",
    "$$",
    "$a$",
    "$",
    "$1",
    "E'",
    "e'",
    "\\",
    "\\'",
    "''",
    "BEGIN",
    "begin ",
    "BEGIN ",
    "BEGIN\n",
    "BEGIN ATOMIC ",
    "atomic\n",
    "END",
    "END;",
    "end ",
    "END IF;",
    "END LOOP;",
    ";",
    ";;",
    "--",
    "-- c\n",
    "#",
    "# c\n",
    "/*",
    "*/",
    "/* c */",
    "\n",
    "\n\n",
    "\r\n",
    " ",
    "\t",
    "\u{b}",
    "(",
    ")",
    "DELIMITER ",
    "delimiter //\n",
    "DELIMITER ;\n",
    "DELIMITER '$'\n",
    "//",
    "-- atlas:delimiter ",
    "-- atlas:delimiter \\n\\n\n",
    "-- atlas:delimiter -- end\n",
    "-- end",
    "\\n",
    "SELECT 1",
    "x",
    "é",
    "€",
    "😀",
    "\u{a0}",
    "\u{2028}",
];

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![
        Just(Dialect::Postgres),
        Just(Dialect::Mysql),
        Just(Dialect::Sqlite)
    ]
}

fn sqlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat())
}

/// Checks a result against its input; returns the statements when there are any.
fn check(content: &str, result: Result<Vec<Stmt>, ScanError>) -> Result<Vec<Stmt>, TestCaseError> {
    let stmts = match result {
        Ok(stmts) => stmts,
        Err(e) => {
            if e.line > 0 {
                // Atlas's column: byte offset in the line, at most the line's length.
                let line = content.split('\n').nth(e.line - 1);
                prop_assert!(line.is_some(), "error line {} past the end: {e}", e.line);
                prop_assert!(
                    e.column <= line.unwrap_or_default().len(),
                    "error column past the line: {e}"
                );
            }
            prop_assert!(!e.message.is_empty());
            return Ok(Vec::new());
        }
    };
    let mut end_of_previous = 0;
    for s in &stmts {
        prop_assert!(
            content.is_char_boundary(s.pos),
            "position {} inside a character",
            s.pos
        );
        prop_assert!(
            s.pos >= end_of_previous,
            "statement at {} overlaps the previous one",
            s.pos
        );
        // The text is the file text at the position: trimmed, with a custom delimiter cut off.
        prop_assert!(
            content[s.pos..].starts_with(&s.text),
            "text {:?} is not at {}",
            s.text,
            s.pos
        );
        prop_assert_eq!(s.text.trim(), s.text.as_str());
        let before = &content[..s.pos];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        prop_assert_eq!((s.line, s.column), (line, column), "position {}", s.pos);
        // Comments come from before the statement.
        for c in &s.comments {
            prop_assert!(
                before.contains(c.as_str()),
                "comment {c:?} is not before {}",
                s.pos
            );
        }
        end_of_previous = s.pos + s.text.len().max(1);
    }
    Ok(stmts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text(dialect in dialect(), content in any::<String>()) {
        check(&content, split(dialect, "p.sql", &content))?;
    }

    #[test]
    fn sql_like_text(dialect in dialect(), content in sqlish()) {
        check(&content, split(dialect, "p.sql", &content))?;
    }

    /// Plain statements (no quotes, comments, blocks or commands) split exactly at their `;`.
    #[test]
    fn plain_statements_split_at_semicolons(
        dialect in dialect(),
        stmts in prop::collection::vec("[a-z][a-z0-9 =,]{0,20}", 1..8)
            .prop_filter("keywords", |v| v.iter().all(|s| !s.contains("begin") && !s.starts_with("delimiter"))),
        sep in "[ \n\t]{0,3}",
    ) {
        let content: String = stmts.iter().map(|s| format!("{s};{sep}")).collect();
        let got = check(&content, split(dialect, "p.sql", &content))?;
        let texts: Vec<_> = got.iter().map(|s| s.text.clone()).collect();
        let want: Vec<_> = stmts.iter().map(|s| format!("{s};")).collect();
        prop_assert_eq!(texts, want);
    }
}

#[test]
fn many_unclosed_blocks_do_not_take_exponential_time() {
    // Atlas rescans every unclosed BEGIN block inside every other one; this file would not finish.
    let content = "BEGIN TRANSACTION;\nSELECT 1;\nCOMMIT;\n".repeat(400);
    let stmts = split(Dialect::Sqlite, "f.sql", &content).expect("scans");
    assert_eq!(stmts.len(), 1200);
    assert_eq!(stmts[0].text, "BEGIN TRANSACTION;");
}

#[test]
fn deeply_nested_blocks_do_not_exhaust_the_stack() {
    let open = "BEGIN ".repeat(1500);
    let content = format!("{open}SELECT 1;\n");
    let stmts = split(Dialect::Mysql, "f.sql", &content).expect("scans");
    assert_eq!(stmts.len(), 1);
    // Closed at every level: one statement.
    let content = format!("{open}SELECT 1;{}", " END;".repeat(1500));
    let stmts = split(Dialect::Postgres, "f.sql", &content).expect("scans");
    assert_eq!(stmts.len(), 1);
    assert!(stmts[0].text.ends_with("END;"));
}
