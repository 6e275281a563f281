//! Statements in flight: the one statement whose effect a crash can leave unrecorded, and how recovery decides
//! whether it took effect.
//!
//! Where a statement commits on its own — DDL on MySQL/MariaDB, every statement under `txmode none` — it can take
//! effect while the progress row that says so is never written: the client dies, the server finishes the
//! statement anyway. Before such a statement runs, the engine records it in the row it writes anyway (the one
//! after the previous statement, or the file's first): `error` holds a [`Marker`] naming the statement and the
//! session, `error_stmt` its text. A finished statement's progress write clears them.
//!
//! On the next run the marker says exactly which statement may have run. [`classify`] reads its text (no I/O)
//! and says what decides it: nothing ([`Recovery::Rerun`]: running it again gives the same result), the presence
//! or absence of schema objects ([`Recovery::Check`]; the driver looks them up, [`decide`] combines the answers),
//! or nothing available ([`Recovery::Unknown`]: a human decides, with `migrate set --in-flight`).
//!
//! Recognised on MySQL/MariaDB: `CREATE TABLE` / `VIEW` / `INDEX` / `DATABASE`, `DROP TABLE` / `VIEW` / `INDEX` /
//! `DATABASE`, `RENAME TABLE`, `ALTER TABLE` with `ADD` / `DROP` / `MODIFY` / `CHANGE` / `RENAME COLUMN`,
//! `ADD` / `DROP` / `RENAME` `INDEX` / `KEY`, `PRIMARY KEY`, `CONSTRAINT`, `FOREIGN KEY`, `CHECK`, table options,
//! and the statements whose repetition changes nothing (`IF [NOT] EXISTS`, `OR REPLACE`, `SET`, `TRUNCATE`, …).
//! A MariaDB/MySQL `ALTER TABLE` is atomic, so one recognised clause decides the whole statement. The decision
//! assumes the statement would have succeeded: a `CREATE TABLE t` that failed because `t` already existed reads
//! as taken effect.

mod lex;
mod mysql;

use std::fmt;

use crate::scan::Dialect;

/// Start of every marker text.
const HEAD: &str = "strata: statement ";
/// What follows the statement number (and the connection, when known).
const NOT_DONE: &str = " and is not recorded as done";
const TAIL: &str = "; if no apply is running, the run was interrupted, and the next strata apply checks whether it \
                    took effect";

/// The in-flight marker: statement `statement` (1-based) of the row's file was started by database session
/// `connection` and has not been recorded as done. Stored as text in the row's `error` column (so Atlas, which
/// knows nothing of it, shows the row as an attempt with an error that needs attention), the statement's text in
/// `error_stmt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// 1-based index of the statement in its file (`applied + 1` of the row).
    pub statement: u64,
    /// The database session that ran it (MySQL `CONNECTION_ID()`), when the driver knows it.
    pub connection: Option<u64>,
}

impl Marker {
    /// Reads a marker from an `error` column; `None` for anything else (a real error, or nothing).
    pub fn parse(error: &str) -> Option<Marker> {
        let rest = error.strip_prefix(HEAD)?;
        let (statement, rest) = number(rest)?;
        let (connection, rest) = match rest.strip_prefix(" started on connection ") {
            Some(r) => {
                let (c, r) = number(r)?;
                (Some(c), r)
            }
            None => (None, rest.strip_prefix(" started")?),
        };
        rest.starts_with(NOT_DONE)
            .then_some(Marker {
                statement,
                connection,
            })
            .filter(|m| m.statement > 0)
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{HEAD}{} started", self.statement)?;
        if let Some(c) = self.connection {
            write!(f, " on connection {c}")?;
        }
        write!(f, "{NOT_DONE}{TAIL}")
    }
}

/// A leading decimal number and the rest.
fn number(s: &str) -> Option<(u64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    Some((s[..digits].parse().ok()?, &s[digits..]))
}

/// Whether `stmt` can take effect apart from the progress row written after it, and so needs a [`Marker`]
/// before it runs. Outside a transaction every statement commits on its own. Inside one, a MySQL/MariaDB statement
/// does unless it is known not to commit implicitly (data changes and queries on transactional tables,
/// temporary tables); on PostgreSQL and SQLite nothing does.
pub fn commits_alone(dialect: Dialect, stmt: &str, in_transaction: bool) -> bool {
    if !in_transaction {
        return true;
    }
    match dialect {
        Dialect::Mysql => !mysql::stays_in_transaction(stmt),
        Dialect::Postgres | Dialect::Sqlite => false,
    }
}

/// A name as a statement writes it, optionally qualified by a schema (MySQL: a database).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    /// The schema, when the statement names one; otherwise the session's default schema.
    pub schema: Option<String>,
    /// The object's name.
    pub name: String,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A schema object whose existence recovery looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Object {
    /// A schema (MySQL database).
    Schema(String),
    /// A base table.
    Table(Name),
    /// A view.
    View(Name),
    /// A table or a view (`RENAME TABLE` renames either).
    Relation(Name),
    /// A column of a table.
    Column {
        /// The table.
        table: Name,
        /// The column.
        column: String,
    },
    /// An index (or key) of a table; the primary key is the index `PRIMARY`.
    Index {
        /// The table.
        table: Name,
        /// The index.
        index: String,
    },
    /// A named constraint of a table (primary key, unique, foreign key, check).
    Constraint {
        /// The table.
        table: Name,
        /// The constraint.
        constraint: String,
    },
}

impl Object {
    /// Identity for contradiction checks: table and schema names as written, the rest case-insensitively (as
    /// MySQL compares column, index and constraint names).
    fn key(&self) -> String {
        let fold = |s: &str| s.to_lowercase();
        match self {
            Object::Schema(s) => format!("schema:{s}"),
            Object::Table(n) | Object::View(n) | Object::Relation(n) => format!("relation:{n}"),
            Object::Column { table, column } => format!("column:{table}:{}", fold(column)),
            Object::Index { table, index } => format!("index:{table}:{}", fold(index)),
            Object::Constraint { table, constraint } => {
                format!("constraint:{table}:{}", fold(constraint))
            }
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Schema(s) => write!(f, "schema {s}"),
            Object::Table(n) => write!(f, "table {n}"),
            Object::View(n) => write!(f, "view {n}"),
            Object::Relation(n) => write!(f, "table or view {n}"),
            Object::Column { table, column } => write!(f, "column {column} of {table}"),
            Object::Index { table, index } => write!(f, "index {index} of {table}"),
            Object::Constraint { table, constraint } => {
                write!(f, "constraint {constraint} of {table}")
            }
        }
    }
}

/// One fact that holds once the statement took effect, and not before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The object.
    pub object: Object,
    /// Whether it exists once the statement took effect.
    pub exists: bool,
}

/// What decides whether an in-flight statement took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Running the statement again gives the same result as running it once (or its effect ended with the
    /// interrupted session): run it.
    Rerun {
        /// Why, for logs and messages.
        why: &'static str,
    },
    /// It took effect when every check holds, and did not when none holds.
    Check(Vec<Check>),
    /// Nothing available decides it.
    Unknown {
        /// Why, worded to follow "cannot tell whether it took effect: ".
        why: String,
    },
}

/// Says what decides whether `stmt`, interrupted while it ran, took effect.
pub fn classify(dialect: Dialect, stmt: &str) -> Recovery {
    let recovery = match dialect {
        Dialect::Mysql => mysql::classify(stmt),
        Dialect::Postgres | Dialect::Sqlite => Recovery::Unknown {
            why: "deciding it automatically is implemented for MySQL and MariaDB only".into(),
        },
    };
    match recovery {
        Recovery::Check(checks) => consistent(checks),
        other => other,
    }
}

/// Drops repeated checks; a statement that expects an object both present and absent (`RENAME TABLE a TO b, b
/// TO a`) cannot be decided by presence.
fn consistent(checks: Vec<Check>) -> Recovery {
    let mut kept: Vec<Check> = Vec::with_capacity(checks.len());
    for c in checks {
        match kept.iter().find(|k| k.object.key() == c.object.key()) {
            Some(k) if k.exists == c.exists => {}
            Some(_) => {
                return Recovery::Unknown {
                    why: format!(
                        "it both creates and removes {}, so its presence says nothing",
                        c.object
                    ),
                };
            }
            None => kept.push(c),
        }
    }
    Recovery::Check(kept)
}

/// The outcome of recovery for one in-flight statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The statement took effect: record it as applied and go on with the next one.
    TookEffect,
    /// The statement did not take effect (or may run again): run it.
    NotTaken,
    /// Nothing decides it; the reason is worded to follow "cannot tell whether it took effect: ".
    Unknown(String),
}

/// Combines what the catalog says (`observed[i]`: whether `checks[i].object` exists now; `None`: cannot tell)
/// into a decision: every check holds → took effect; none holds → did not; anything else → unknown.
pub fn decide(checks: &[Check], observed: &[Option<bool>]) -> Decision {
    if checks.is_empty() || checks.len() != observed.len() {
        return Decision::Unknown("no object to look up".into());
    }
    let mut holds = Vec::with_capacity(checks.len());
    for (c, o) in checks.iter().zip(observed) {
        match o {
            Some(exists) => holds.push(*exists == c.exists),
            None => {
                return Decision::Unknown(format!(
                    "the database cannot say whether {} exists",
                    c.object
                ));
            }
        }
    }
    if holds.iter().all(|h| *h) {
        Decision::TookEffect
    } else if holds.iter().all(|h| !*h) {
        Decision::NotTaken
    } else {
        let describe = |want: bool| {
            checks
                .iter()
                .zip(&holds)
                .filter(|(_, h)| **h == want)
                .map(|(c, _)| {
                    format!(
                        "{} {}",
                        c.object,
                        if c.exists { "exists" } else { "is gone" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        Decision::Unknown(format!(
            "the database is in between: {}, but not: {}",
            describe(true),
            describe(false)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trip() {
        let m = Marker {
            statement: 6,
            connection: Some(1234),
        };
        let text = m.to_string();
        assert_eq!(
            text,
            "strata: statement 6 started on connection 1234 and is not recorded as done; if no apply is running, \
             the run was interrupted, and the next strata apply checks whether it took effect"
        );
        assert_eq!(Marker::parse(&text), Some(m));
        let anonymous = Marker {
            statement: 1,
            connection: None,
        };
        assert_eq!(Marker::parse(&anonymous.to_string()), Some(anonymous));
        // A wording change after the fixed head still reads.
        assert_eq!(
            Marker::parse("strata: statement 2 started and is not recorded as done"),
            Some(Marker {
                statement: 2,
                connection: None
            })
        );
    }

    #[test]
    fn other_errors_are_not_markers() {
        for e in [
            "",
            "Error 1060 (42S21): Duplicate column name 'c'",
            "strata: statement",
            "strata: statement x started and is not recorded as done",
            "strata: statement 0 started and is not recorded as done",
            "strata: statement 3 started on connection and is not recorded as done",
            "strata: statement 3 finished",
            "strata: statement 99999999999999999999999 started and is not recorded as done",
            " strata: statement 3 started and is not recorded as done",
        ] {
            assert_eq!(Marker::parse(e), None, "{e:?}");
        }
    }

    #[test]
    fn which_statements_need_a_marker() {
        let d = Dialect::Mysql;
        for s in [
            "CREATE TABLE t (id int);",
            "ALTER TABLE t ADD c int;",
            "TRUNCATE t;",
            "SET autocommit = 1;",
            "CALL p();",
            "GRANT ALL ON *.* TO u;",
            "/*!40101 SET NAMES utf8 */;",
            "LOCK TABLES t WRITE;",
            "SELECT 'unterminated",
        ] {
            assert!(commits_alone(d, s, true), "{s}");
        }
        for s in [
            "INSERT INTO t VALUES (1);",
            "update t set a = 1;",
            "DELETE FROM t;",
            "REPLACE INTO t VALUES (1);",
            "SELECT SLEEP(1);",
            "(SELECT 1) UNION (SELECT 2);",
            "WITH x AS (SELECT 1) SELECT * FROM x;",
            "DO SLEEP(1);",
            "LOAD DATA INFILE 'f' INTO TABLE t;",
            "CREATE TEMPORARY TABLE tmp (id int);",
            "DROP TEMPORARY TABLE IF EXISTS tmp;",
            "-- note\nINSERT INTO t VALUES (1);",
        ] {
            assert!(!commits_alone(d, s, true), "{s}");
            assert!(commits_alone(d, s, false), "outside a transaction: {s}");
        }
        assert!(!commits_alone(
            Dialect::Postgres,
            "CREATE TABLE t ();",
            true
        ));
        assert!(commits_alone(
            Dialect::Postgres,
            "INSERT INTO t VALUES (1);",
            false
        ));
        assert!(!commits_alone(Dialect::Sqlite, "CREATE TABLE t (a);", true));
    }

    fn col(t: &str, c: &str, exists: bool) -> Check {
        Check {
            object: Object::Column {
                table: Name {
                    schema: None,
                    name: t.into(),
                },
                column: c.into(),
            },
            exists,
        }
    }

    #[test]
    fn decisions() {
        let checks = [col("t", "a", true), col("t", "b", false)];
        assert_eq!(
            decide(&checks, &[Some(true), Some(false)]),
            Decision::TookEffect
        );
        assert_eq!(
            decide(&checks, &[Some(false), Some(true)]),
            Decision::NotTaken
        );
        assert_eq!(
            decide(&checks, &[Some(true), Some(true)]),
            Decision::Unknown(
                "the database is in between: column a of t exists, but not: column b of t is gone"
                    .into()
            )
        );
        assert_eq!(
            decide(&checks, &[Some(true), None]),
            Decision::Unknown("the database cannot say whether column b of t exists".into())
        );
        assert!(matches!(decide(&[], &[]), Decision::Unknown(_)));
        assert!(matches!(
            decide(&checks, &[Some(true)]),
            Decision::Unknown(_)
        ));
    }

    #[test]
    fn contradicting_checks_are_unknown() {
        assert_eq!(
            consistent(vec![col("t", "a", true), col("t", "A", true)]),
            Recovery::Check(vec![col("t", "a", true)])
        );
        assert!(matches!(
            consistent(vec![col("t", "a", true), col("t", "A", false)]),
            Recovery::Unknown { .. }
        ));
    }

    #[test]
    fn other_dialects_are_not_decided() {
        assert!(matches!(
            classify(Dialect::Postgres, "CREATE TABLE t (id int);"),
            Recovery::Unknown { .. }
        ));
    }
}
