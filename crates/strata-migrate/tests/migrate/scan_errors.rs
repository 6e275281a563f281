//! Scanner errors: Atlas's wording and positions (line, then the byte offset in the line of the
//! byte after the offending character), and the unterminated constructs Atlas does not report.

use strata_migrate::scan::{Dialect, ScanError, split};

fn error(dialect: Dialect, content: &str) -> ScanError {
    match split(dialect, "1_init.sql", content) {
        Ok(stmts) => panic!("expected an error, got {stmts:#?}"),
        Err(e) => e,
    }
}

fn texts(dialect: Dialect, content: &str) -> Vec<String> {
    split(dialect, "1_init.sql", content)
        .expect("scans")
        .into_iter()
        .map(|s| s.text)
        .collect()
}

#[test]
fn unclosed_single_quote() {
    let e = error(Dialect::Postgres, "SELECT 1;\nSELECT 'abc;\n");
    assert_eq!((e.line, e.column), (2, 8));
    assert_eq!(
        e.to_string(),
        r#"sql/migrate: scanning statements from "1_init.sql": 2:8: unclosed quote '\''"#
    );
}

#[test]
fn unclosed_double_quote_and_backtick() {
    let e = error(Dialect::Mysql, "SELECT \"abc");
    assert_eq!(
        e.to_string(),
        r#"sql/migrate: scanning statements from "1_init.sql": 1:8: unclosed quote '"'"#
    );
    let e = error(Dialect::Sqlite, "CREATE TABLE `t (id int);");
    assert_eq!(
        e.to_string(),
        "sql/migrate: scanning statements from \"1_init.sql\": 1:14: unclosed quote '`'"
    );
}

#[test]
fn backslash_escapes_the_closing_quote_only_where_the_dialect_says_so() {
    let content = "SELECT 'abc\\';\nSELECT 1;\n";
    let e = error(Dialect::Mysql, content);
    assert_eq!(e.message, r"unclosed quote '\''");
    assert_eq!((e.line, e.column), (1, 8));
    assert_eq!(
        texts(Dialect::Postgres, content),
        ["SELECT 'abc\\';", "SELECT 1;"]
    );
    assert_eq!(
        texts(Dialect::Sqlite, content),
        ["SELECT 'abc\\';", "SELECT 1;"]
    );
    // Postgres escapes only in E'' strings.
    let e = error(Dialect::Postgres, "SELECT E'abc\\';\nSELECT 1;\n");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (1, 9, r"unclosed quote '\''")
    );
}

#[test]
fn unclosed_parenthesis() {
    let e = error(Dialect::Postgres, "CREATE TABLE t (\n  id int;\n");
    assert_eq!(
        e.to_string(),
        r#"sql/migrate: scanning statements from "1_init.sql": 1:16: unclosed '('"#
    );
    let e = error(Dialect::Sqlite, "SELECT ((1), (2);");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (1, 8, "unclosed '('")
    );
}

#[test]
fn stray_closing_parenthesis() {
    let e = error(Dialect::Mysql, "SELECT 1;\n  SELECT 1);");
    assert_eq!(
        e.to_string(),
        r#"sql/migrate: scanning statements from "1_init.sql": 2:11: unexpected ')'"#
    );
}

#[test]
fn columns_count_bytes() {
    // 'é' is two bytes: Atlas reports 14 where a character count would give 13.
    let e = error(Dialect::Postgres, "SELECT 'é', 'x");
    assert_eq!((e.line, e.column), (1, 14));
}

#[test]
fn errors_inside_blocks_are_reported_where_they_are() {
    let e = error(
        Dialect::Sqlite,
        "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  SELECT 'oops;\nEND;\n",
    );
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (2, 10, r"unclosed quote '\''")
    );
}

#[test]
fn positions_count_the_removed_directive_line() {
    let e = error(Dialect::Postgres, "-- atlas:delimiter ;;\nSELECT 'x;;");
    assert_eq!((e.line, e.column), (2, 8));
}

#[test]
fn unterminated_dollar_quote_is_not_an_error() {
    let content = "SELECT 1;\nSELECT $tag$ never closed; SELECT 2;\n";
    assert_eq!(
        texts(Dialect::Postgres, content),
        ["SELECT 1;", "SELECT $tag$ never closed; SELECT 2;"]
    );
    // Only Postgres knows dollar quotes.
    assert_eq!(
        texts(Dialect::Mysql, content),
        ["SELECT 1;", "SELECT $tag$ never closed;", "SELECT 2;"]
    );
}

#[test]
fn unterminated_block_comment_is_scanned_as_sql() {
    assert_eq!(
        texts(Dialect::Postgres, "SELECT 1;\n/* not closed; SELECT 2"),
        ["SELECT 1;", "/* not closed;", "SELECT 2"]
    );
    // ... so a quote inside it is a real quote.
    let e = error(Dialect::Postgres, "SELECT 1;\n/* it's not closed");
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (2, 6, r"unclosed quote '\''")
    );
}

#[test]
fn line_comment_at_end_of_file_without_newline_is_a_statement() {
    assert_eq!(
        texts(Dialect::Sqlite, "SELECT 1;\n-- the end"),
        ["SELECT 1;", "-- the end"]
    );
}

#[test]
fn delimiter_directive_without_input() {
    let e = error(Dialect::Postgres, "-- atlas:delimiter \\n\\n");
    assert_eq!((e.line, e.column), (1, 0));
    assert_eq!(
        e.to_string(),
        r#"sql/migrate: scanning statements from "1_init.sql": 1:0: no input found after delimiter "\\n\\n""#
    );
    // A newline, even with nothing after it, is input.
    assert_eq!(
        texts(Dialect::Postgres, "-- atlas:delimiter \\n\\n\n"),
        Vec::<String>::new()
    );
}

#[test]
fn empty_delimiters_have_no_position() {
    for (dialect, content) in [
        (Dialect::Postgres, "-- atlas:delimiter\nSELECT 1;"),
        (Dialect::Postgres, "-- atlas:delimiter   \nSELECT 1;"),
        (Dialect::Mysql, "SELECT 1;\nDELIMITER \nSELECT 2;"),
        (Dialect::Mysql, "DELIMITER ''\nSELECT 2;"),
        (Dialect::Sqlite, "DELIMITER '\nSELECT 2;"),
    ] {
        let e = error(dialect, content);
        assert_eq!((e.line, e.column), (0, 0), "{content:?}");
        assert_eq!(
            e.to_string(),
            r#"sql/migrate: scanning statements from "1_init.sql": empty delimiter"#
        );
    }
}

#[test]
fn file_names_are_quoted_like_go() {
    let e = split(Dialect::Postgres, "we\"ird\tname.sql", "SELECT (").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"sql/migrate: scanning statements from "we\"ird\tname.sql": 1:8: unclosed '('"#
    );
}

#[test]
fn a_delimiter_alone_is_an_empty_statement() {
    // Atlas emits it too; what runs it decides what to do with it.
    assert_eq!(
        texts(Dialect::Mysql, "DELIMITER //\n//\nSELECT 1//"),
        ["", "SELECT 1"]
    );
}
