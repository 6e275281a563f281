//! Golden fixtures for the statement scanner: `testdata/scan/<dialect>/<case>.sql`, each split
//! and compared with its accepted snapshot in `testdata/scan/snapshots/`.

use std::path::Path;

use serde::Serialize;
use strata_migrate::scan::{Dialect, split};

/// What a fixture scans to.
#[derive(Serialize)]
enum Outcome {
    Statements(Vec<Statement>),
    Error(String),
}

#[derive(Serialize)]
struct Statement {
    pos: usize,
    line: usize,
    column: usize,
    text: String,
    comments: Vec<String>,
}

fn outcome(dialect: Dialect, path: &Path) -> Outcome {
    let content = std::fs::read_to_string(path).expect("fixture is readable UTF-8");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match split(dialect, name, &content) {
        Ok(stmts) => Outcome::Statements(
            stmts
                .into_iter()
                .map(|s| {
                    // A statement text is the file text at its position, trimmed and without a
                    // custom delimiter: a cheap cross-check of the positions in every snapshot.
                    assert!(
                        content[s.pos..].starts_with(&s.text),
                        "{name}: text of the statement at {} is not found there",
                        s.pos
                    );
                    Statement {
                        pos: s.pos,
                        line: s.line,
                        column: s.column,
                        text: s.text,
                        comments: s.comments,
                    }
                })
                .collect(),
        ),
        Err(e) => Outcome::Error(e.to_string()),
    }
}

fn run(dialect: Dialect, dir: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../testdata/scan/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../../testdata/scan", &format!("{dir}/*.sql"), |path| {
            insta::assert_yaml_snapshot!(dir, outcome(dialect, path));
        });
    });
}

#[test]
fn postgres() {
    run(Dialect::Postgres, "postgres");
}

#[test]
fn mysql() {
    run(Dialect::Mysql, "mysql");
}

#[test]
fn sqlite() {
    run(Dialect::Sqlite, "sqlite");
}
