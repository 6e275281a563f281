//! A migration file as the rules see it: split into statements exactly as `migrate apply` splits it
//! ([`strata_migrate::scan`], so line numbers match), each statement parsed once into a syntax tree, and the
//! file's `atlas:` directives (`nolint`, `txmode`).

use sqlparser::ast::Statement as Ast;
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use strata_migrate::directive::{self, TxMode};
use strata_migrate::{Dialect, DirError, scan};

/// Why a file could not be read as statements: the scanner or a directive refused it. Rendered as the file's error,
/// with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The statement scanner failed (an unclosed quote or comment).
    #[error("{file}:{line}: {message}")]
    Scan {
        /// The file.
        file: String,
        /// 1-based line (0: no position).
        line: usize,
        /// The scanner's message.
        message: String,
    },
    /// A directive is malformed or unknown.
    #[error("{file}:{line}: {message}")]
    Directive {
        /// The file.
        file: String,
        /// 1-based line of the directive.
        line: usize,
        /// What is wrong and what to do.
        message: String,
    },
}

impl SourceError {
    /// What went wrong, without the file and line (reports show those apart).
    pub fn message(&self) -> String {
        match self {
            SourceError::Scan { message, .. } => message.clone(),
            SourceError::Directive { message, .. } => message.clone(),
        }
    }

    /// The 1-based line the error is at (1 when the error has no position).
    pub fn line(&self) -> usize {
        match self {
            SourceError::Scan { line, .. } => (*line).max(1),
            SourceError::Directive { line, .. } => (*line).max(1),
        }
    }
}

/// One statement of a file.
#[derive(Debug, Clone)]
pub struct SqlStatement {
    /// Byte offset of the statement's first character in the file.
    pub pos: usize,
    /// 1-based line of `pos`.
    pub line: usize,
    /// The statement text as the scanner returns it.
    pub text: String,
    /// `-- atlas:nolint [names]` attached to the statement: `Some(vec![])` mutes every rule.
    pub nolint: Option<Vec<String>>,
}

impl SqlStatement {
    /// Parses the statement. Trees are made while the rules walk the file and dropped after each statement, so a
    /// file of any length is never held as trees all at once.
    pub fn parse(&self, dialect: Dialect) -> Parsed {
        parse_statement(dialect, &self.text)
    }
}

/// What the parser made of a statement.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// A syntax tree.
    Ast(Ast),
    /// `DROP INDEX CONCURRENTLY …`, which `sqlparser` does not read: the tree of the same statement without the
    /// keyword.
    DropIndexConcurrently(Ast),
    /// PostgreSQL statements `sqlparser` does not read, recognised by their leading keywords.
    Other(OtherStatement),
    /// The parser could not read the statement; the rules that need a tree skip it.
    Failed(String),
}

impl Parsed {
    /// The syntax tree, when the parser read the statement.
    pub fn ast(&self) -> Option<&Ast> {
        match self {
            Parsed::Ast(a) | Parsed::DropIndexConcurrently(a) => Some(a),
            _ => None,
        }
    }
}

/// PostgreSQL statements recognised by their keywords only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherStatement {
    /// `REINDEX …`.
    Reindex {
        /// `CONCURRENTLY` was given.
        concurrently: bool,
    },
    /// `CLUSTER …`.
    Cluster,
    /// `ALTER DOMAIN … ADD CONSTRAINT …`.
    AlterDomainAddConstraint,
}

/// A file split into statements (each parsed when the rules reach it).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name findings carry (as given on the command line, or the file name in a directory).
    pub name: String,
    /// The dialect its statements are read in.
    pub dialect: Dialect,
    /// The statements in file order.
    pub statements: Vec<SqlStatement>,
    /// `-- atlas:nolint [names]` in the header: `Some(vec![])` skips the file.
    pub nolint: Option<Vec<String>>,
    /// `-- atlas:txmode` in the header.
    pub txmode: Option<TxMode>,
}

impl SourceFile {
    /// Splits and parses `content`.
    pub fn parse(dialect: Dialect, name: &str, content: &str) -> Result<SourceFile, SourceError> {
        let directives = directive::parse_file(name, content).map_err(|e| match e {
            DirError::Directive {
                file,
                line,
                message,
            } => SourceError::Directive {
                file,
                line,
                message,
            },
            other => SourceError::Directive {
                file: name.to_owned(),
                line: 1,
                message: other.to_string(),
            },
        })?;
        let stmts = scan::split(dialect, name, content).map_err(|e| SourceError::Scan {
            file: name.to_owned(),
            line: e.line,
            message: e.message,
        })?;
        let statements = stmts
            .into_iter()
            .map(|s| SqlStatement {
                nolint: directive::statement_nolint(&s.comments),
                pos: s.pos,
                line: s.line,
                text: s.text,
            })
            .collect();
        Ok(SourceFile {
            name: name.to_owned(),
            dialect,
            statements,
            nolint: directives.nolint,
            txmode: directives.txmode,
        })
    }

    /// Whether the whole file runs in one transaction when applied (`txmode file`, the default, unless the header
    /// says `none`).
    pub fn runs_in_transaction(&self) -> bool {
        !matches!(self.txmode, Some(TxMode::None))
    }
}

fn sql_dialect(d: Dialect) -> &'static dyn SqlDialect {
    match d {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Mysql => &MySqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    }
}

/// Parses one statement (the scanner already split the file, so there is at most one).
pub fn parse_statement(dialect: Dialect, text: &str) -> Parsed {
    let d = sql_dialect(dialect);
    match Parser::parse_sql(d, text) {
        Ok(mut v) if !v.is_empty() => Parsed::Ast(v.swap_remove(0)),
        Ok(_) => Parsed::Failed("empty statement".into()),
        Err(e) => {
            if dialect == Dialect::Postgres
                && let Some(p) = by_keywords(d, text)
            {
                return p;
            }
            Parsed::Failed(e.to_string())
        }
    }
}

/// Reads the PostgreSQL statements `sqlparser` cannot by their tokens (never by text patterns).
fn by_keywords(d: &dyn SqlDialect, text: &str) -> Option<Parsed> {
    let tokens = Tokenizer::new(d, text).tokenize().ok()?;
    let words: Vec<(usize, Keyword)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t {
            Token::Word(w) => Some((i, w.keyword)),
            _ => None,
        })
        .collect();
    let kw = |n: usize| words.get(n).map(|w| w.1);
    match (kw(0)?, kw(1), kw(2)) {
        (Keyword::DROP, Some(Keyword::INDEX), Some(Keyword::CONCURRENTLY)) => {
            let skip = words[2].0;
            let rest: String = tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, t)| t.to_string())
                .collect();
            let mut v = Parser::parse_sql(d, &rest).ok()?;
            (!v.is_empty()).then(|| Parsed::DropIndexConcurrently(v.swap_remove(0)))
        }
        (Keyword::REINDEX, ..) => Some(Parsed::Other(OtherStatement::Reindex {
            concurrently: words.iter().any(|w| w.1 == Keyword::CONCURRENTLY),
        })),
        (Keyword::CLUSTER, ..) => Some(Parsed::Other(OtherStatement::Cluster)),
        (Keyword::ALTER, Some(Keyword::DOMAIN), _)
            if words
                .windows(2)
                .any(|w| w[0].1 == Keyword::ADD && w[1].1 == Keyword::CONSTRAINT) =>
        {
            Some(Parsed::Other(OtherStatement::AlterDomainAddConstraint))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_the_scanner_lines_and_nolint() {
        let f = SourceFile::parse(
            Dialect::Postgres,
            "1.sql",
            "CREATE TABLE t (a int);\n\n-- atlas:nolint PG101\nCREATE INDEX i ON t (a);\n",
        )
        .unwrap();
        assert_eq!(f.statements.len(), 2);
        assert_eq!(f.statements[1].line, 4);
        assert_eq!(f.statements[1].nolint, Some(vec!["PG101".to_owned()]));
        assert!(f.statements[0].parse(Dialect::Postgres).ast().is_some());
    }

    #[test]
    fn keyword_fallbacks_read_what_the_parser_cannot() {
        let p = parse_statement(Dialect::Postgres, "DROP INDEX CONCURRENTLY IF EXISTS i;");
        assert!(matches!(p, Parsed::DropIndexConcurrently(_)), "{p:?}");
        let p = parse_statement(Dialect::Postgres, "REINDEX INDEX CONCURRENTLY i;");
        assert!(matches!(
            p,
            Parsed::Other(OtherStatement::Reindex { concurrently: true })
        ));
        let p = parse_statement(Dialect::Postgres, "CLUSTER t USING i;");
        assert!(matches!(p, Parsed::Other(OtherStatement::Cluster)));
        let p = parse_statement(Dialect::Postgres, "SELEC 1;");
        assert!(matches!(p, Parsed::Failed(_)));
    }

    #[test]
    fn scanner_errors_name_the_line() {
        let e = SourceFile::parse(Dialect::Postgres, "x.sql", "SELECT 1;\nSELECT 'open;\n")
            .unwrap_err();
        assert_eq!(e.line(), 2);
    }
}
