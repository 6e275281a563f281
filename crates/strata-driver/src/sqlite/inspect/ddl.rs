//! What only the stored `CREATE TABLE` / `CREATE INDEX` text tells: check constraints, generated-column
//! expressions, column collations, `AUTOINCREMENT`, constraint names, `DEFERRABLE`, `STRICT` / `WITHOUT ROWID`,
//! index expressions and partial-index predicates. A small tokenizer (SQLite's quoting: `"x"`, `` `x` ``, `[x]`,
//! `'s'`, comments) and a reader of the clause structure; expressions are kept as the user wrote them.

/// A token: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Quoted,
    Str,
    Open,
    Close,
    Comma,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                continue;
            }
            b'\'' | b'"' | b'`' => {
                i += 1;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                let kind = if c == b'\'' { Kind::Str } else { Kind::Quoted };
                out.push(Tok {
                    kind,
                    start,
                    end: i,
                });
                continue;
            }
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push(Tok {
                    kind: Kind::Quoted,
                    start,
                    end: i,
                });
                continue;
            }
            b'(' | b')' | b',' => {
                i += 1;
                let kind = match c {
                    b'(' => Kind::Open,
                    b')' => Kind::Close,
                    _ => Kind::Comma,
                };
                out.push(Tok {
                    kind,
                    start,
                    end: i,
                });
                continue;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 || c == b'$' => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] >= 0x80
                        || b[i] == b'$')
                {
                    i += 1;
                }
                // Keep `1.5` and `1e5` together.
                while i < b.len() && b[i] == b'.' && b[start].is_ascii_digit() {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                }
                out.push(Tok {
                    kind: Kind::Word,
                    start,
                    end: i,
                });
                continue;
            }
            _ => {
                i += 1;
                while i < b.len() && !s.is_char_boundary(i) {
                    i += 1;
                }
                out.push(Tok {
                    kind: Kind::Other,
                    start,
                    end: i,
                });
            }
        }
    }
    out
}

/// An identifier's value: quotes removed, doubled quotes undone.
pub fn unquote(t: &str) -> String {
    let t = t.trim();
    let b = t.as_bytes();
    if b.len() >= 2 {
        let (f, l) = (b[0], b[b.len() - 1]);
        if (f == b'"' && l == b'"') || (f == b'`' && l == b'`') || (f == b'\'' && l == b'\'') {
            let q = f as char;
            return t[1..t.len() - 1].replace(&format!("{q}{q}"), &q.to_string());
        }
        if f == b'[' && l == b']' {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

struct Reader<'a> {
    s: &'a str,
    toks: Vec<Tok>,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(s: &'a str) -> Self {
        Reader {
            s,
            toks: tokenize(s),
            pos: 0,
        }
    }

    fn text(&self, t: Tok) -> &'a str {
        &self.s[t.start..t.end]
    }

    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Kind::Word && self.text(t).eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.peek()?;
        self.pos += 1;
        Some(t)
    }

    fn name(&mut self) -> Option<String> {
        let t = self.next()?;
        Some(unquote(self.text(t)))
    }

    /// At an `(`: the text inside the matching `)`, which is consumed.
    fn paren_text(&mut self) -> Option<&'a str> {
        let open = self.peek().filter(|t| t.kind == Kind::Open)?;
        self.pos += 1;
        let mut depth = 1;
        while let Some(t) = self.next() {
            match t.kind {
                Kind::Open => depth += 1,
                Kind::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(self.s[open.end..t.start].trim());
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// At an `(`: the comma-separated items inside, as texts.
    fn paren_items(&mut self) -> Option<Vec<&'a str>> {
        let inner = self.paren_text()?;
        Some(split_top(inner))
    }

    fn at_end_of_def(&self) -> bool {
        self.peek().is_none_or(|t| t.kind == Kind::Comma)
    }
}

/// Splits on commas outside parentheses and quotes.
fn split_top(s: &str) -> Vec<&str> {
    let toks = tokenize(s);
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for t in toks {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth -= 1,
            Kind::Comma if depth == 0 => {
                out.push(s[start..t.start].trim());
                start = t.end;
            }
            _ => {}
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// A column as the `CREATE TABLE` text declares it (what the pragmas do not report).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ColumnDdl {
    /// The name.
    pub name: String,
    /// `COLLATE` name.
    pub collation: Option<String>,
    /// `AUTOINCREMENT`.
    pub autoincrement: bool,
    /// Generated expression and whether `STORED`.
    pub generated: Option<(String, bool)>,
}

/// A foreign key as declared.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ForeignKeyDdl {
    /// `CONSTRAINT` name.
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table.
    pub ref_table: String,
    /// `DEFERRABLE`.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
}

/// What the `CREATE TABLE` text declares beyond the pragmas.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableDdl {
    /// Columns in order.
    pub columns: Vec<ColumnDdl>,
    /// Checks: name and expression, in declaration order (column checks first where they appear).
    pub checks: Vec<(Option<String>, String)>,
    /// Foreign keys in declaration order.
    pub foreign_keys: Vec<ForeignKeyDdl>,
    /// Primary key constraint name.
    pub pk_name: Option<String>,
    /// `STRICT`.
    pub strict: bool,
    /// `WITHOUT ROWID`.
    pub without_rowid: bool,
}

const COLUMN_CONSTRAINTS: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// Reads a `CREATE TABLE` statement. Unknown shapes leave fields empty rather than failing: the pragmas still
/// describe the table.
pub fn create_table(sql: &str) -> TableDdl {
    let mut out = TableDdl::default();
    let mut r = Reader::new(sql);
    // Skip to the definitions' `(`.
    while let Some(t) = r.peek() {
        if t.kind == Kind::Open {
            break;
        }
        r.pos += 1;
    }
    let Some(body) = r.paren_text() else {
        return out;
    };
    // Options after `)`.
    while let Some(t) = r.next() {
        let w = r.text(t);
        if w.eq_ignore_ascii_case("strict") {
            out.strict = true;
        } else if w.eq_ignore_ascii_case("rowid") {
            out.without_rowid = true;
        }
    }
    for def in split_top(body) {
        let mut d = Reader::new(def);
        let first = d
            .peek()
            .map(|t| d.text(t).to_ascii_uppercase())
            .unwrap_or_default();
        let is_constraint = d.peek().is_some_and(|t| t.kind == Kind::Word)
            && matches!(
                first.as_str(),
                "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN"
            );
        if is_constraint {
            table_constraint(&mut d, &mut out);
        } else {
            column_def(&mut d, &mut out);
        }
    }
    out
}

fn table_constraint(d: &mut Reader<'_>, out: &mut TableDdl) {
    let mut name = None;
    while d.peek().is_some() {
        if d.eat_kw("CONSTRAINT") {
            name = d.name();
        } else if d.eat_kw("CHECK") {
            if let Some(e) = d.paren_text() {
                out.checks.push((name.take(), e.to_string()));
            }
        } else if d.eat_kw("PRIMARY") {
            d.eat_kw("KEY");
            out.pk_name = name.take();
            d.paren_text();
        } else if d.eat_kw("FOREIGN") {
            d.eat_kw("KEY");
            let cols = d
                .paren_items()
                .unwrap_or_default()
                .into_iter()
                .map(unquote)
                .collect();
            if d.eat_kw("REFERENCES") {
                let mut fk = references(d);
                fk.name = name.take();
                fk.columns = cols;
                out.foreign_keys.push(fk);
            }
        } else {
            d.pos += 1;
        }
    }
}

/// After `REFERENCES`: the table, optional columns and the clauses; stops at the next constraint keyword.
fn references(d: &mut Reader<'_>) -> ForeignKeyDdl {
    let mut fk = ForeignKeyDdl {
        ref_table: d.name().unwrap_or_default(),
        ..ForeignKeyDdl::default()
    };
    if d.peek().is_some_and(|t| t.kind == Kind::Open) {
        d.paren_text();
    }
    loop {
        if d.at_end_of_def() {
            break;
        }
        if d.eat_kw("NOT") {
            if d.eat_kw("DEFERRABLE") {
                fk.deferrable = false;
                continue;
            }
            d.pos -= 1;
            break;
        }
        if d.eat_kw("DEFERRABLE") {
            fk.deferrable = true;
            if d.eat_kw("INITIALLY") {
                fk.initially_deferred = d.eat_kw("DEFERRED");
                if !fk.initially_deferred {
                    d.eat_kw("IMMEDIATE");
                }
            }
            continue;
        }
        if d.is_kw("ON") || d.is_kw("MATCH") {
            d.pos += 1;
            // ON DELETE|UPDATE <action words>; MATCH <name>.
            d.pos += 1;
            while d.peek().is_some_and(|t| {
                t.kind == Kind::Word && {
                    let w = d.text(t).to_ascii_uppercase();
                    matches!(
                        w.as_str(),
                        "SET" | "NULL" | "DEFAULT" | "CASCADE" | "RESTRICT" | "NO" | "ACTION"
                    )
                }
            }) {
                d.pos += 1;
            }
            continue;
        }
        break;
    }
    fk
}

fn column_def(d: &mut Reader<'_>, out: &mut TableDdl) {
    let Some(name) = d.name() else {
        return;
    };
    let mut col = ColumnDdl {
        name: name.clone(),
        ..ColumnDdl::default()
    };
    // The type: words and a parenthesised size until the first constraint keyword.
    while let Some(t) = d.peek() {
        if t.kind == Kind::Word
            && COLUMN_CONSTRAINTS
                .iter()
                .any(|k| d.text(t).eq_ignore_ascii_case(k))
        {
            break;
        }
        if t.kind == Kind::Open {
            d.paren_text();
            continue;
        }
        d.pos += 1;
    }
    let mut cname = None;
    while d.peek().is_some() {
        if d.eat_kw("CONSTRAINT") {
            cname = d.name();
        } else if d.eat_kw("CHECK") {
            if let Some(e) = d.paren_text() {
                out.checks.push((cname.take(), e.to_string()));
            }
        } else if d.eat_kw("COLLATE") {
            col.collation = d.name();
        } else if d.eat_kw("AUTOINCREMENT") {
            col.autoincrement = true;
        } else if d.eat_kw("PRIMARY") {
            if cname.is_some() {
                out.pk_name = cname.take();
            }
        } else if d.eat_kw("GENERATED") {
            d.eat_kw("ALWAYS");
        } else if d.eat_kw("AS") {
            if let Some(e) = d.paren_text() {
                let stored = d.eat_kw("STORED");
                if !stored {
                    d.eat_kw("VIRTUAL");
                }
                col.generated = Some((e.to_string(), stored));
            }
        } else if d.eat_kw("DEFAULT") {
            // A parenthesised expression, a signed literal or a word.
            if d.peek().is_some_and(|t| t.kind == Kind::Open) {
                d.paren_text();
            } else {
                if d.peek().is_some_and(|t| t.kind == Kind::Other) {
                    d.pos += 1;
                }
                d.pos += 1;
            }
        } else if d.eat_kw("REFERENCES") {
            let mut fk = references(d);
            fk.name = cname.take();
            fk.columns = vec![name.clone()];
            out.foreign_keys.push(fk);
        } else {
            d.pos += 1;
        }
    }
    out.columns.push(col);
}

/// What the `CREATE INDEX` text declares: each part's text (expressions as written, `ASC`/`DESC`/`COLLATE`
/// removed) and the `WHERE` predicate.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IndexDdl {
    /// Part texts in order.
    pub parts: Vec<String>,
    /// The predicate of a partial index.
    pub predicate: Option<String>,
}

/// Reads a `CREATE INDEX` statement.
pub fn create_index(sql: &str) -> IndexDdl {
    let mut out = IndexDdl::default();
    let mut r = Reader::new(sql);
    while let Some(t) = r.peek() {
        if t.kind == Kind::Open {
            break;
        }
        r.pos += 1;
    }
    let Some(items) = r.paren_items() else {
        return out;
    };
    for item in items {
        let toks = tokenize(item);
        let mut end = toks.len();
        // Trailing ASC/DESC, then COLLATE <name>.
        if end > 0 {
            let w = &item[toks[end - 1].start..toks[end - 1].end];
            if w.eq_ignore_ascii_case("asc") || w.eq_ignore_ascii_case("desc") {
                end -= 1;
            }
        }
        if end >= 2 && item[toks[end - 2].start..toks[end - 2].end].eq_ignore_ascii_case("collate")
        {
            end -= 2;
        }
        let text = if end == 0 {
            ""
        } else {
            item[..toks[end - 1].end].trim()
        };
        out.parts.push(text.to_string());
    }
    if r.eat_kw("WHERE") {
        let start = r.peek().map(|t| t.start).unwrap_or(sql.len());
        out.predicate = Some(sql[start..].trim().trim_end_matches(';').trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_create_table() {
        let t = create_table(
            "CREATE TABLE \"t\" (\n  id integer NOT NULL PRIMARY KEY AUTOINCREMENT,\n  `name` varchar(10) COLLATE NOCASE \
             CONSTRAINT nn CHECK (length(name) > 0) DEFAULT ('a,b'),\n  g int GENERATED ALWAYS AS (id * 2) STORED,\n  \
             v AS (id + 1),\n  p int REFERENCES parent ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n  \
             CONSTRAINT fk2 FOREIGN KEY (p, g) REFERENCES [other t] (a, b) ON UPDATE SET NULL,\n  CHECK (id > 0), \
             CONSTRAINT \"c 2\" CHECK ((g) <> 'x)')\n) WITHOUT ROWID, STRICT",
        );
        assert_eq!(t.columns.len(), 5);
        assert!(t.columns[0].autoincrement);
        assert_eq!(t.columns[1].name, "name");
        assert_eq!(t.columns[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(t.columns[2].generated, Some(("id * 2".into(), true)));
        assert_eq!(t.columns[3].generated, Some(("id + 1".into(), false)));
        assert_eq!(
            t.checks,
            vec![
                (Some("nn".into()), "length(name) > 0".into()),
                (None, "id > 0".into()),
                (Some("c 2".into()), "(g) <> 'x)'".into())
            ]
        );
        assert_eq!(t.foreign_keys.len(), 2);
        assert_eq!(t.foreign_keys[0].ref_table, "parent");
        assert!(t.foreign_keys[0].deferrable && t.foreign_keys[0].initially_deferred);
        assert_eq!(t.foreign_keys[1].name.as_deref(), Some("fk2"));
        assert_eq!(t.foreign_keys[1].ref_table, "other t");
        assert_eq!(t.foreign_keys[1].columns, vec!["p", "g"]);
        assert!(t.strict && t.without_rowid);
    }

    #[test]
    fn reads_create_index() {
        let i = create_index(
            "CREATE UNIQUE INDEX `i` ON `t` ((lower(a)) COLLATE NOCASE DESC, b, abs(c) ASC) WHERE a IS NOT NULL",
        );
        assert_eq!(i.parts, vec!["(lower(a))", "b", "abs(c)"]);
        assert_eq!(i.predicate.as_deref(), Some("a IS NOT NULL"));
    }

    #[test]
    fn unquotes() {
        assert_eq!(unquote("\"a\"\"b\""), "a\"b");
        assert_eq!(unquote("[x y]"), "x y");
        assert_eq!(unquote("`c`"), "c");
        assert_eq!(unquote("plain"), "plain");
    }
}
