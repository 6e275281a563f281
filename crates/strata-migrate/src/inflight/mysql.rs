//! The MySQL/MariaDB statement shapes recovery recognises (see the module above), read from tokens.
//!
//! Every reading errs towards "unknown": a shape is only recognised when the tokens say exactly what it creates or
//! removes, and a clause that is not understood never counts as evidence.

use super::lex::{Tok, tokens};
use super::{Check, Name, Object, Recovery};

const SAME_TEMPORARY: &str =
    "a temporary table belongs to the interrupted session and went with it";
const SAME_IF_EXISTS: &str = "with IF [NOT] EXISTS it does nothing once its effect is there";
const SAME_OR_REPLACE: &str = "CREATE OR REPLACE gives the same result run once or twice";
const SAME_SET: &str = "a SET ended with the interrupted session, or sets the value it already set";
const SAME_TRUNCATE: &str = "emptying a table twice leaves it as empty as once";
const SAME_QUERY: &str = "a query changes nothing";
const SAME_ALTER_VIEW: &str = "ALTER VIEW defines the view as it says, whatever it was";
const SAME_ALTER_SCHEMA: &str = "setting a schema's options again changes nothing";
const SAME_CLAUSES: &str = "each of its clauses (MODIFY, CHANGE without a new name, ALTER COLUMN, table options) gives \
                            the same result run once or twice";

/// Table options of `ALTER TABLE` (and modifiers like `ALGORITHM`): setting them again changes nothing.
const TABLE_OPTIONS: &[&str] = &[
    "ALGORITHM",
    "AUTOEXTEND_SIZE",
    "AUTO_INCREMENT",
    "AVG_ROW_LENGTH",
    "CHARACTER",
    "CHARSET",
    "CHECKSUM",
    "COLLATE",
    "COMMENT",
    "COMPRESSION",
    "CONNECTION",
    "CONVERT",
    "DATA",
    "DEFAULT",
    "DELAY_KEY_WRITE",
    "DISABLE",
    "ENABLE",
    "ENCRYPTED",
    "ENCRYPTION",
    "ENCRYPTION_KEY_ID",
    "ENGINE",
    "FORCE",
    "IETF_QUOTES",
    "INSERT_METHOD",
    "KEY_BLOCK_SIZE",
    "LOCK",
    "MAX_ROWS",
    "MIN_ROWS",
    "ORDER",
    "PACK_KEYS",
    "PAGE_CHECKSUM",
    "PAGE_COMPRESSED",
    "PAGE_COMPRESSION_LEVEL",
    "ROW_FORMAT",
    "SEQUENCE",
    "STATS_AUTO_RECALC",
    "STATS_PERSISTENT",
    "STATS_SAMPLE_PAGES",
    "TABLESPACE",
    "TRANSACTIONAL",
    "UNION",
];

/// Words that make a table-option clause something else (partitioning, versioning, a change of columns).
const NOT_AN_OPTION: &[&str] = &[
    "ADD",
    "ANALYZE",
    "CHANGE",
    "CHECK",
    "COALESCE",
    "DISCARD",
    "DROP",
    "EXCHANGE",
    "IMPORT",
    "MODIFY",
    "OPTIMIZE",
    "PARTITION",
    "PARTITIONS",
    "REBUILD",
    "REMOVE",
    "RENAME",
    "REORGANIZE",
    "REPAIR",
    "SUBPARTITION",
    "TRUNCATE",
    "VERSIONING",
];

/// Whether a statement stays inside the session's transaction (no implicit commit): data changes and queries,
/// and temporary tables.
pub(super) fn stays_in_transaction(stmt: &str) -> bool {
    let Ok(toks) = tokens(stmt) else {
        return false;
    };
    let mut p = Cursor::new(&toks);
    while p.punct('(') {}
    let Some(first) = p.word() else {
        return false;
    };
    match first.to_ascii_uppercase().as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" | "WITH" | "VALUES" | "TABLE"
        | "DO" => true,
        "LOAD" => p.is_kw("DATA") || p.is_kw("XML"),
        "CREATE" | "DROP" => p.kws(&["TEMPORARY", "TABLE"]),
        _ => false,
    }
}

fn unknown(why: impl Into<String>) -> Recovery {
    Recovery::Unknown { why: why.into() }
}

fn rerun(why: &'static str) -> Recovery {
    Recovery::Rerun { why }
}

/// What decides whether `stmt` took effect.
pub(super) fn classify(stmt: &str) -> Recovery {
    let toks = match tokens(stmt) {
        Ok(t) => t,
        Err(e) => return unknown(format!("its text cannot be read ({e})")),
    };
    let mut p = Cursor::new(&toks);
    while p.punct('(') {}
    let Some(first) = p.word() else {
        return unknown("it does not start with a keyword");
    };
    let recovery = match first.to_ascii_uppercase().as_str() {
        "CREATE" => create(&mut p),
        "DROP" => drop(&mut p),
        "ALTER" => alter(&mut p),
        "RENAME" => rename(&mut p),
        "TRUNCATE" => Some(rerun(SAME_TRUNCATE)),
        "SET" => Some(rerun(SAME_SET)),
        "SELECT" | "VALUES" | "TABLE" | "DO" | "WITH" => Some(query(&p)),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "LOAD" => {
            Some(unknown("it changes data, which the schema does not show"))
        }
        "CALL" => Some(unknown("a procedure can do anything")),
        other => Some(unknown(format!(
            "Strata does not recognise {other} statements"
        ))),
    };
    recovery.unwrap_or_else(|| unknown("Strata does not recognise the statement's shape"))
}

/// `SELECT`, `WITH`, …: a query, unless it writes a file or (after `WITH`) changes rows.
fn query(p: &Cursor) -> Recovery {
    if p.any_word(&["OUTFILE", "DUMPFILE"]) {
        unknown("it writes a file")
    } else if p.any_top_word(&["INSERT", "UPDATE", "DELETE", "REPLACE"]) {
        unknown("it changes data, which the schema does not show")
    } else {
        rerun(SAME_QUERY)
    }
}

/// After `CREATE`.
fn create(p: &mut Cursor) -> Option<Recovery> {
    let or_replace = p.kws(&["OR", "REPLACE"]);
    let mut temporary = false;
    loop {
        if p.kw("TEMPORARY") {
            temporary = true;
            continue;
        }
        if [
            "ONLINE",
            "OFFLINE",
            "UNIQUE",
            "FULLTEXT",
            "SPATIAL",
            "AGGREGATE",
        ]
        .iter()
        .any(|k| p.kw(k))
        {
            continue;
        }
        if p.kw("ALGORITHM") {
            p.punct('=');
            p.word()?;
        } else if p.kw("DEFINER") {
            // DEFINER = user@host, CURRENT_USER, CURRENT_USER(), …: up to the object keyword.
            while ![
                "VIEW",
                "SQL",
                "TRIGGER",
                "PROCEDURE",
                "FUNCTION",
                "EVENT",
                "AGGREGATE",
            ]
            .iter()
            .any(|k| p.is_kw(k))
            {
                p.bump()?;
            }
        } else if p.kws(&["SQL", "SECURITY"]) {
            p.word()?;
        } else {
            break;
        }
    }
    let kind = p.word()?.to_ascii_uppercase();
    if or_replace {
        return Some(rerun(SAME_OR_REPLACE));
    }
    let if_not_exists = p.kws(&["IF", "NOT", "EXISTS"]);
    Some(match kind.as_str() {
        "TABLE" if temporary => rerun(SAME_TEMPORARY),
        // Also with IF NOT EXISTS: CREATE TABLE … SELECT must not copy rows twice.
        "TABLE" => check([(Object::Table(p.name()?), true)]),
        _ if if_not_exists => rerun(SAME_IF_EXISTS),
        "VIEW" => check([(Object::View(p.name()?), true)]),
        "INDEX" => {
            let index = p.ident()?;
            if p.kw("USING") {
                p.word()?;
            }
            p.expect_kw("ON")?;
            check([(
                Object::Index {
                    table: p.name()?,
                    index,
                },
                true,
            )])
        }
        "DATABASE" | "SCHEMA" => check([(Object::Schema(p.ident()?), true)]),
        other => unknown(format!(
            "Strata does not look up {} objects",
            other.to_ascii_lowercase()
        )),
    })
}

/// After `DROP`.
fn drop(p: &mut Cursor) -> Option<Recovery> {
    let temporary = p.kw("TEMPORARY");
    let _ = p.kw("ONLINE") || p.kw("OFFLINE");
    let kind = p.word()?.to_ascii_uppercase();
    if p.kws(&["IF", "EXISTS"]) {
        return Some(rerun(if temporary {
            SAME_TEMPORARY
        } else {
            SAME_IF_EXISTS
        }));
    }
    Some(match kind.as_str() {
        "TABLE" if temporary => rerun(SAME_TEMPORARY),
        "TABLE" | "VIEW" => {
            let mut checks = Vec::new();
            loop {
                let name = p.name()?;
                checks.push((
                    if kind == "TABLE" {
                        Object::Table(name)
                    } else {
                        Object::View(name)
                    },
                    false,
                ));
                if !p.punct(',') {
                    break;
                }
            }
            if p.kw("WAIT") {
                p.word()?;
            }
            let _ = p.kw("NOWAIT") || p.kw("RESTRICT") || p.kw("CASCADE");
            if !p.done() {
                return None;
            }
            check(checks)
        }
        "INDEX" => {
            let index = p.ident()?;
            p.expect_kw("ON")?;
            check([(
                Object::Index {
                    table: p.name()?,
                    index,
                },
                false,
            )])
        }
        "DATABASE" | "SCHEMA" => check([(Object::Schema(p.ident()?), false)]),
        other => unknown(format!(
            "Strata does not look up {} objects",
            other.to_ascii_lowercase()
        )),
    })
}

/// After `RENAME`: `TABLE a TO b[, c TO d]`.
fn rename(p: &mut Cursor) -> Option<Recovery> {
    if !(p.kw("TABLE") || p.kw("TABLES")) {
        return Some(unknown("Strata only looks up renamed tables"));
    }
    let _ = p.kws(&["IF", "EXISTS"]);
    let mut checks = Vec::new();
    loop {
        let from = p.name()?;
        if p.kw("WAIT") {
            p.word()?;
        }
        let _ = p.kw("NOWAIT");
        p.expect_kw("TO")?;
        let to = p.name()?;
        checks.push((Object::Relation(from), false));
        checks.push((Object::Relation(to), true));
        if !p.punct(',') {
            break;
        }
    }
    p.done().then(|| check(checks))
}

/// After `ALTER`.
fn alter(p: &mut Cursor) -> Option<Recovery> {
    let _ = p.kw("ONLINE");
    let _ = p.kw("IGNORE");
    let kind = p.word()?.to_ascii_uppercase();
    Some(match kind.as_str() {
        "TABLE" => alter_table(p)?,
        "VIEW" => rerun(SAME_ALTER_VIEW),
        "DATABASE" | "SCHEMA" => rerun(SAME_ALTER_SCHEMA),
        other => unknown(format!(
            "Strata does not look up {} objects",
            other.to_ascii_lowercase()
        )),
    })
}

/// What one `ALTER TABLE` clause says.
enum Clause {
    /// These hold once the statement took effect, and not before.
    Decisive(Vec<(Object, bool)>),
    /// Running it again gives the same result.
    Same,
    /// Nothing to look up.
    Opaque(String),
    /// `RENAME TO <name>`.
    RenameTable(Name),
}

fn alter_table(p: &mut Cursor) -> Option<Recovery> {
    let _ = p.kws(&["IF", "EXISTS"]);
    let table = p.name()?;
    if p.kw("WAIT") {
        p.word()?;
    }
    let _ = p.kw("NOWAIT");
    let mut decisive = Vec::new();
    let mut opaque = None;
    let mut renamed = Vec::new();
    for clause in p.rest_split(',') {
        match alter_clause(&table, &mut Cursor::over(clause)) {
            Some(Clause::Decisive(c)) => decisive.extend(c),
            Some(Clause::Same) => {}
            Some(Clause::Opaque(why)) => {
                opaque.get_or_insert(why);
            }
            Some(Clause::RenameTable(to)) => renamed.push(to),
            None => {
                opaque.get_or_insert_with(|| "one of its clauses has an unexpected shape".into());
            }
        }
    }
    // The statement is atomic: one recognised clause decides it, whatever the others are.
    Some(match renamed.as_slice() {
        [to] => check([
            (Object::Table(table.clone()), false),
            (Object::Table(to.clone()), true),
        ]),
        [_, _, ..] => unknown("it renames the table more than once"),
        [] if !decisive.is_empty() => check(decisive),
        [] => match opaque {
            Some(why) => unknown(format!("no clause of it shows in the schema ({why})")),
            None => rerun(SAME_CLAUSES),
        },
    })
}

fn alter_clause(table: &Name, c: &mut Cursor) -> Option<Clause> {
    let column = |column: String| Object::Column {
        table: table.clone(),
        column,
    };
    let index = |index: String| Object::Index {
        table: table.clone(),
        index,
    };
    let constraint = |constraint: String| Object::Constraint {
        table: table.clone(),
        constraint,
    };
    let first = c.word()?.to_ascii_uppercase();
    Some(match first.as_str() {
        "ADD" => add_clause(c, column, index, constraint)?,
        "DROP" => {
            if c.kws(&["PRIMARY", "KEY"]) {
                return Some(Clause::Decisive(vec![(index("PRIMARY".into()), false)]));
            }
            let what: fn(&Name, String) -> Object = if c.kw("INDEX") || c.kw("KEY") {
                |t, index| Object::Index {
                    table: t.clone(),
                    index,
                }
            } else if c.kws(&["FOREIGN", "KEY"]) || c.kw("CONSTRAINT") || c.kw("CHECK") {
                |t, constraint| Object::Constraint {
                    table: t.clone(),
                    constraint,
                }
            } else if ["PARTITION", "SYSTEM", "PERIOD"].iter().any(|k| c.is_kw(k)) {
                return Some(Clause::Opaque(format!(
                    "Strata does not look up DROP {}",
                    c.word()?.to_ascii_uppercase()
                )));
            } else {
                let _ = c.kw("COLUMN");
                |t, column| Object::Column {
                    table: t.clone(),
                    column,
                }
            };
            if c.kws(&["IF", "EXISTS"]) {
                return Some(Clause::Same);
            }
            Clause::Decisive(vec![(what(table, c.ident()?), false)])
        }
        "MODIFY" => Clause::Same,
        "CHANGE" => {
            let _ = c.kw("COLUMN");
            if c.kws(&["IF", "EXISTS"]) {
                return Some(Clause::Same);
            }
            let (from, to) = (c.ident()?, c.ident()?);
            if from.eq_ignore_ascii_case(&to) {
                Clause::Same
            } else {
                Clause::Decisive(vec![(column(from), false), (column(to), true)])
            }
        }
        "RENAME" => {
            let object: Option<fn(&Name, String) -> Object> = if c.kw("COLUMN") {
                Some(|t, column| Object::Column {
                    table: t.clone(),
                    column,
                })
            } else if c.kw("INDEX") || c.kw("KEY") {
                Some(|t, index| Object::Index {
                    table: t.clone(),
                    index,
                })
            } else {
                None
            };
            match object {
                Some(object) => {
                    let from = c.ident()?;
                    c.expect_kw("TO")?;
                    let to = c.ident()?;
                    Clause::Decisive(vec![
                        (object(table, from), false),
                        (object(table, to), true),
                    ])
                }
                None => {
                    let _ = c.kw("TO") || c.kw("AS") || c.punct('=');
                    let to = c.name()?;
                    if !c.done() {
                        return None;
                    }
                    Clause::RenameTable(to)
                }
            }
        }
        // ALTER [COLUMN] c SET/DROP DEFAULT, ALTER INDEX i [NOT] IGNORED, …
        "ALTER" => Clause::Same,
        w if TABLE_OPTIONS.contains(&w) => {
            if c.any_top_word(NOT_AN_OPTION) {
                Clause::Opaque(format!("Strata does not look up the clause starting {w}"))
            } else {
                Clause::Same
            }
        }
        other => Clause::Opaque(format!("Strata does not recognise the clause {other}")),
    })
}

/// `ADD …` of `ALTER TABLE`: a column (or a parenthesised list of them), an index, a key or a constraint.
fn add_clause(
    c: &mut Cursor,
    column: impl Fn(String) -> Object,
    index: impl Fn(String) -> Object,
    constraint: impl Fn(String) -> Object,
) -> Option<Clause> {
    const KEYS: [&str; 9] = [
        "INDEX",
        "KEY",
        "FULLTEXT",
        "SPATIAL",
        "UNIQUE",
        "PRIMARY",
        "CONSTRAINT",
        "FOREIGN",
        "CHECK",
    ];
    if ["PARTITION", "PERIOD", "SYSTEM"].iter().any(|k| c.is_kw(k)) {
        return Some(Clause::Opaque(format!(
            "Strata does not look up ADD {}",
            c.word()?.to_ascii_uppercase()
        )));
    }
    if c.kw("COLUMN") || !KEYS.iter().any(|k| c.is_kw(k)) {
        if c.kws(&["IF", "NOT", "EXISTS"]) {
            return Some(Clause::Same);
        }
        if c.punct('(') {
            // ADD (a int, b int): the first word of each item.
            let mut checks = Vec::new();
            for item in c.group_split(',')? {
                checks.push((column(Cursor::over(item).ident()?), true));
            }
            return Some(Clause::Decisive(checks));
        }
        return Some(Clause::Decisive(vec![(column(c.ident()?), true)]));
    }
    let mut symbol = None;
    if c.kw("CONSTRAINT") {
        if c.kws(&["IF", "NOT", "EXISTS"]) {
            return Some(Clause::Same);
        }
        if !["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"]
            .iter()
            .any(|k| c.is_kw(k))
        {
            symbol = Some(c.ident()?);
        }
    }
    let unnamed = |what: &str| Some(Clause::Opaque(format!("{what} without a name")));
    if c.kws(&["PRIMARY", "KEY"]) {
        return Some(Clause::Decisive(vec![(index("PRIMARY".into()), true)]));
    }
    if c.kws(&["FOREIGN", "KEY"]) {
        if c.kws(&["IF", "NOT", "EXISTS"]) {
            return Some(Clause::Same);
        }
        return match symbol {
            Some(s) => Some(Clause::Decisive(vec![(constraint(s), true)])),
            None => unnamed("a FOREIGN KEY"),
        };
    }
    if c.kw("CHECK") {
        return match symbol {
            Some(s) => Some(Clause::Decisive(vec![(constraint(s), true)])),
            None => unnamed("a CHECK constraint"),
        };
    }
    let unique = c.kw("UNIQUE");
    let typed = c.kw("FULLTEXT") || c.kw("SPATIAL");
    let keyword = c.kw("INDEX") || c.kw("KEY");
    if !(unique || typed || keyword) {
        return Some(Clause::Opaque(
            "Strata does not recognise the constraint".into(),
        ));
    }
    if c.kws(&["IF", "NOT", "EXISTS"]) {
        return Some(Clause::Same);
    }
    let name = match c.peek() {
        Some(Tok::Punct('(')) => None,
        Some(t) if t.is_kw("USING") => None,
        _ => Some(c.ident()?),
    };
    match (symbol, name) {
        (Some(s), Some(n)) if !s.eq_ignore_ascii_case(&n) => Some(Clause::Opaque(
            "a key named both by CONSTRAINT and after the key word".into(),
        )),
        (_, Some(n)) | (Some(n), None) => Some(Clause::Decisive(vec![(index(n), true)])),
        (None, None) => unnamed("an index"),
    }
}

fn check<I: IntoIterator<Item = (Object, bool)>>(checks: I) -> Recovery {
    Recovery::Check(
        checks
            .into_iter()
            .map(|(object, exists)| Check { object, exists })
            .collect(),
    )
}

/// A position in a token list.
struct Cursor<'t> {
    toks: &'t [Tok],
    i: usize,
}

impl<'t> Cursor<'t> {
    /// Over a whole statement, without its trailing `;`.
    fn new(toks: &'t [Tok]) -> Self {
        let mut end = toks.len();
        while end > 0 && toks[end - 1] == Tok::Punct(';') {
            end -= 1;
        }
        Cursor::over(&toks[..end])
    }

    fn over(toks: &'t [Tok]) -> Self {
        Cursor { toks, i: 0 }
    }

    fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.i)
    }

    fn bump(&mut self) -> Option<&'t Tok> {
        let t = self.toks.get(self.i)?;
        self.i += 1;
        Some(t)
    }

    fn done(&self) -> bool {
        self.i >= self.toks.len()
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_kw(kw))
    }

    fn kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.i += 1;
        }
        yes
    }

    /// Consumes the keywords `kws` in order, or nothing.
    fn kws(&mut self, kws: &[&str]) -> bool {
        let yes = kws
            .iter()
            .enumerate()
            .all(|(n, k)| self.toks.get(self.i + n).is_some_and(|t| t.is_kw(k)));
        if yes {
            self.i += kws.len();
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> Option<()> {
        self.kw(kw).then_some(())
    }

    fn punct(&mut self, c: char) -> bool {
        let yes = self.peek() == Some(&Tok::Punct(c));
        if yes {
            self.i += 1;
        }
        yes
    }

    /// An unquoted word.
    fn word(&mut self) -> Option<&'t str> {
        match self.peek()? {
            Tok::Word(w) => {
                self.i += 1;
                Some(w)
            }
            _ => None,
        }
    }

    /// An identifier: a word, or a back-quoted (or, under `ANSI_QUOTES`, double-quoted) name.
    fn ident(&mut self) -> Option<String> {
        match self.peek()? {
            Tok::Word(w) => {
                self.i += 1;
                Some(w.clone())
            }
            Tok::Quoted { quote, text } if *quote != '\'' => {
                self.i += 1;
                Some(text.clone())
            }
            _ => None,
        }
    }

    /// `name` or `schema.name`.
    fn name(&mut self) -> Option<Name> {
        let first = self.ident()?;
        if self.punct('.') {
            Some(Name {
                schema: Some(first),
                name: self.ident()?,
            })
        } else {
            Some(Name {
                schema: None,
                name: first,
            })
        }
    }

    /// The rest, split at `sep` outside parentheses (an empty rest gives no part).
    fn rest_split(&self, sep: char) -> Vec<&'t [Tok]> {
        split_top(&self.toks[self.i.min(self.toks.len())..], sep)
    }

    /// Just after a `(`: the group's contents up to the matching `)`, split at `sep` outside inner parentheses;
    /// `None` when the group never closes.
    fn group_split(&mut self, sep: char) -> Option<Vec<&'t [Tok]>> {
        let start = self.i;
        let mut depth = 0usize;
        while let Some(t) = self.bump() {
            match t {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') if depth == 0 => {
                    return Some(split_top(&self.toks[start..self.i - 1], sep));
                }
                Tok::Punct(')') => depth -= 1,
                _ => {}
            }
        }
        None
    }

    /// Whether any of `kws` appears as a word in the rest, parentheses included.
    fn any_word(&self, kws: &[&str]) -> bool {
        self.toks[self.i.min(self.toks.len())..]
            .iter()
            .any(|t| kws.iter().any(|k| t.is_kw(k)))
    }

    /// Whether any of `kws` appears as a word in the rest, outside parentheses.
    fn any_top_word(&self, kws: &[&str]) -> bool {
        let mut depth = 0usize;
        for t in &self.toks[self.i.min(self.toks.len())..] {
            match t {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') => depth = depth.saturating_sub(1),
                t if depth == 0 && kws.iter().any(|k| t.is_kw(k)) => return true,
                _ => {}
            }
        }
        false
    }
}

/// Splits at `sep` outside parentheses.
fn split_top(toks: &[Tok], sep: char) -> Vec<&[Tok]> {
    if toks.is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth = depth.saturating_sub(1),
            Tok::Punct(c) if *c == sep && depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::super::{Recovery, classify as classify_any};
    use super::*;
    use crate::scan::Dialect;

    fn n(name: &str) -> Name {
        match name.split_once('.') {
            Some((s, t)) => Name {
                schema: Some(s.into()),
                name: t.into(),
            },
            None => Name {
                schema: None,
                name: name.into(),
            },
        }
    }

    fn c(object: Object, exists: bool) -> Check {
        Check { object, exists }
    }

    fn table(t: &str) -> Object {
        Object::Table(n(t))
    }

    fn column(t: &str, col: &str) -> Object {
        Object::Column {
            table: n(t),
            column: col.into(),
        }
    }

    fn index(t: &str, i: &str) -> Object {
        Object::Index {
            table: n(t),
            index: i.into(),
        }
    }

    fn constraint(t: &str, k: &str) -> Object {
        Object::Constraint {
            table: n(t),
            constraint: k.into(),
        }
    }

    fn checks(stmt: &str) -> Vec<Check> {
        match classify_any(Dialect::Mysql, stmt) {
            Recovery::Check(c) => c,
            other => panic!("{stmt}: {other:?}"),
        }
    }

    fn is_rerun(stmt: &str) -> bool {
        matches!(classify_any(Dialect::Mysql, stmt), Recovery::Rerun { .. })
    }

    fn why_unknown(stmt: &str) -> String {
        match classify_any(Dialect::Mysql, stmt) {
            Recovery::Unknown { why } => why,
            other => panic!("{stmt}: {other:?}"),
        }
    }

    #[test]
    fn create_shapes() {
        assert_eq!(
            checks("CREATE TABLE t (id int PRIMARY KEY, v varchar(10));"),
            [c(table("t"), true)]
        );
        assert_eq!(
            checks("create table if not exists `d`.`my t` like other"),
            [c(table("d.my t"), true)]
        );
        assert_eq!(
            checks("CREATE TABLE copy AS SELECT * FROM t"),
            [c(table("copy"), true)]
        );
        assert_eq!(
            checks(
                "CREATE ALGORITHM = MERGE DEFINER = `root`@`localhost` SQL SECURITY INVOKER VIEW v AS SELECT 1;"
            ),
            [c(Object::View(n("v")), true)]
        );
        assert_eq!(
            checks("CREATE UNIQUE INDEX i USING BTREE ON d.t (a, b);"),
            [c(index("d.t", "i"), true)]
        );
        assert_eq!(
            checks("CREATE INDEX `c_1_v` ON c_1 (v(5)) ALGORITHM=COPY"),
            [c(index("c_1", "c_1_v"), true)]
        );
        assert_eq!(
            checks("CREATE DATABASE x"),
            [c(Object::Schema("x".into()), true)]
        );
        for same in [
            "CREATE OR REPLACE TABLE t (id int)",
            "CREATE OR REPLACE VIEW v AS SELECT 1",
            "CREATE TEMPORARY TABLE tmp (id int)",
            "CREATE INDEX IF NOT EXISTS i ON t (a)",
            "CREATE VIEW IF NOT EXISTS v AS SELECT 1",
            "CREATE DATABASE IF NOT EXISTS x",
            "CREATE PROCEDURE IF NOT EXISTS p() SELECT 1",
        ] {
            assert!(is_rerun(same), "{same}");
        }
        assert_eq!(
            why_unknown("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @x = 1"),
            "Strata does not look up trigger objects"
        );
    }

    #[test]
    fn drop_and_rename_shapes() {
        assert_eq!(
            checks("DROP TABLE a, `d`.b RESTRICT;"),
            [c(table("a"), false), c(table("d.b"), false)]
        );
        assert_eq!(checks("DROP VIEW v"), [c(Object::View(n("v")), false)]);
        assert_eq!(
            checks("DROP INDEX `PRIMARY` ON t"),
            [c(index("t", "PRIMARY"), false)]
        );
        assert_eq!(
            checks("DROP SCHEMA x"),
            [c(Object::Schema("x".into()), false)]
        );
        for same in [
            "DROP TABLE IF EXISTS a, b",
            "DROP TEMPORARY TABLE t",
            "DROP VIEW IF EXISTS v",
            "DROP INDEX IF EXISTS i ON t",
            "DROP PROCEDURE IF EXISTS p",
        ] {
            assert!(is_rerun(same), "{same}");
        }
        assert_eq!(
            checks("RENAME TABLE a TO b, d.c TO d.e;"),
            [
                c(Object::Relation(n("a")), false),
                c(Object::Relation(n("b")), true),
                c(Object::Relation(n("d.c")), false),
                c(Object::Relation(n("d.e")), true),
            ]
        );
        assert!(
            why_unknown("RENAME TABLE a TO tmp, b TO a, tmp TO b")
                .contains("both creates and removes")
        );
        assert!(matches!(
            classify_any(Dialect::Mysql, "RENAME USER a TO b"),
            Recovery::Unknown { .. }
        ));
        // An unexpected tail is not read as a list of tables.
        assert!(matches!(
            classify_any(Dialect::Mysql, "DROP TABLE a b"),
            Recovery::Unknown { .. }
        ));
    }

    #[test]
    fn alter_table_columns() {
        assert_eq!(
            checks("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0 AFTER b, ALGORITHM=COPY;"),
            [c(column("t", "c"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE t ADD `select` int"),
            [c(column("t", "select"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE d.t ADD (a int, b decimal(10, 2) DEFAULT 1)"),
            [c(column("d.t", "a"), true), c(column("d.t", "b"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE t DROP COLUMN c, DROP d"),
            [c(column("t", "c"), false), c(column("t", "d"), false)]
        );
        assert_eq!(
            checks("ALTER ONLINE IGNORE TABLE t CHANGE COLUMN a b bigint"),
            [c(column("t", "a"), false), c(column("t", "b"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE t RENAME COLUMN a TO b"),
            [c(column("t", "a"), false), c(column("t", "b"), true)]
        );
        // MODIFY and a same-name CHANGE are repeatable; the ADD decides.
        assert_eq!(
            checks("ALTER TABLE t MODIFY a bigint, CHANGE b B int, ADD z int"),
            [c(column("t", "z"), true)]
        );
        for same in [
            "ALTER TABLE t MODIFY COLUMN a bigint NOT NULL",
            "ALTER TABLE t CHANGE b b int",
            "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1, ALTER b DROP DEFAULT",
            "ALTER TABLE t ENGINE=InnoDB ROW_FORMAT=DYNAMIC",
            "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, FORCE, ALGORITHM=COPY, LOCK=SHARED",
            "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int",
            "ALTER TABLE t DROP COLUMN IF EXISTS c",
            "ALTER TABLE t",
            "ALTER VIEW v AS SELECT 2",
        ] {
            assert!(is_rerun(same), "{same}");
        }
    }

    #[test]
    fn alter_table_keys_and_constraints() {
        assert_eq!(
            checks("ALTER TABLE t ADD INDEX i (a), ADD UNIQUE KEY u (b), ADD FULLTEXT ft (c)"),
            [
                c(index("t", "i"), true),
                c(index("t", "u"), true),
                c(index("t", "ft"), true)
            ]
        );
        assert_eq!(
            checks("ALTER TABLE t ADD CONSTRAINT u UNIQUE (b)"),
            [c(index("t", "u"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE t ADD PRIMARY KEY (id)"),
            [c(index("t", "PRIMARY"), true)]
        );
        assert_eq!(
            checks(
                "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES p (id) ON DELETE CASCADE"
            ),
            [c(constraint("t", "fk"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)"),
            [c(constraint("t", "ck"), true)]
        );
        assert_eq!(
            checks(
                "ALTER TABLE t DROP INDEX i, DROP KEY k, DROP PRIMARY KEY, DROP FOREIGN KEY fk, DROP CONSTRAINT ck, \
                 DROP CHECK ck2"
            ),
            [
                c(index("t", "i"), false),
                c(index("t", "k"), false),
                c(index("t", "PRIMARY"), false),
                c(constraint("t", "fk"), false),
                c(constraint("t", "ck"), false),
                c(constraint("t", "ck2"), false),
            ]
        );
        assert_eq!(
            checks("ALTER TABLE t RENAME INDEX a TO b"),
            [c(index("t", "a"), false), c(index("t", "b"), true)]
        );
        // Unnamed keys say nothing, but another clause still decides.
        assert_eq!(
            checks("ALTER TABLE t ADD INDEX (a), ADD c int"),
            [c(column("t", "c"), true)]
        );
        for (stmt, why) in [
            ("ALTER TABLE t ADD INDEX (a)", "an index without a name"),
            (
                "ALTER TABLE t ADD FOREIGN KEY (p) REFERENCES p (id)",
                "a FOREIGN KEY without a name",
            ),
            (
                "ALTER TABLE t ADD CHECK (a > 0)",
                "a CHECK constraint without a name",
            ),
            (
                "ALTER TABLE t ADD UNIQUE USING HASH (a)",
                "an index without a name",
            ),
            (
                "ALTER TABLE t ADD PARTITION (PARTITION p3 VALUES LESS THAN (30))",
                "ADD PARTITION",
            ),
            (
                "ALTER TABLE t ENGINE=InnoDB PARTITION BY HASH (id)",
                "the clause starting ENGINE",
            ),
            ("ALTER TABLE t DISCARD TABLESPACE", "the clause DISCARD"),
        ] {
            let got = why_unknown(stmt);
            assert!(got.contains(why), "{stmt}: {got}");
        }
    }

    #[test]
    fn alter_table_rename() {
        assert_eq!(
            checks("ALTER TABLE t ADD c int, RENAME TO d.u"),
            [c(table("t"), false), c(table("d.u"), true)]
        );
        assert_eq!(
            checks("ALTER TABLE t RENAME AS u"),
            [c(table("t"), false), c(table("u"), true)]
        );
        assert!(why_unknown("ALTER TABLE t RENAME TO u, RENAME TO v").contains("more than once"));
    }

    #[test]
    fn other_statements() {
        for same in [
            "SET NAMES utf8mb4",
            "/*!40101 SET character_set_client = utf8 */",
            "SET FOREIGN_KEY_CHECKS = 0;",
            "TRUNCATE TABLE t",
            "SELECT SLEEP(0.5)",
            "(SELECT 1)",
            "DO 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT 1 INTO @v",
        ] {
            assert!(is_rerun(same), "{same}");
        }
        for (stmt, why) in [
            ("INSERT INTO t VALUES (1)", "changes data"),
            ("UPDATE t SET a = a + 1", "changes data"),
            ("WITH x AS (SELECT 1) UPDATE t SET a = 1", "changes data"),
            ("SELECT * INTO OUTFILE '/tmp/x' FROM t", "writes a file"),
            ("CALL p()", "procedure"),
            ("GRANT SELECT ON *.* TO u", "GRANT statements"),
            ("ALTER EVENT e DISABLE", "event objects"),
            ("CREATE TABLE 'quoted string' (a int)", "shape"),
            ("'x'", "keyword"),
            ("CREATE TABLE `t (a int)", "cannot be read"),
        ] {
            let got = why_unknown(stmt);
            assert!(got.contains(why), "{stmt}: {got}");
        }
        // A malformed clause is no evidence, but another clause still decides.
        assert_eq!(
            checks("ALTER TABLE t ADD c int, ADD 'x'"),
            [c(column("t", "c"), true)]
        );
        assert!(why_unknown("ALTER TABLE t ADD 'x'").contains("unexpected shape"));
    }
}
