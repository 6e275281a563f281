//! The one home of how Atlas's `function`, `procedure` and `trigger` blocks map to the model's definitions, both
//! ways. The model keeps a routine or trigger as the SQL text inspection reads back (PostgreSQL's
//! `pg_get_functiondef` / `pg_get_triggerdef`, the `CREATE` statement the MySQL inspector rebuilds from
//! `information_schema`, SQLite's stored statement); HCL has its parts (`lang`, `arg`, `return`, `as`, `before
//! { insert = true }` …).
//!
//! - [`Routine::definition`] / [`TriggerSpec::definition`] write the parts as the database prints them, so a
//!   parsed object compares equal to an inspected one;
//! - [`Routine::read`] / [`TriggerSpec::read`] take an inspected definition apart, and only succeed when writing
//!   the parts back gives the very same text. What they cannot take apart exactly (PostgreSQL's `COST`, `SET`,
//!   `PARALLEL`, a trigger with arguments, a SQLite trigger written in another spelling…) is not printed and stays
//!   [`crate::unexpressed`]: HCL says nothing about it, and an HCL desired state leaves it alone.

use strata_migrate::Dialect;
use strata_schema::model::{Function, RoutineKind, Trigger};

/// A routine's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// Its name (PostgreSQL arguments may have none).
    pub name: Option<String>,
    /// Its type, spelled as the database prints it.
    pub ty: String,
    /// `IN`, `OUT`, `INOUT` or `VARIADIC` when written (a MySQL procedure's are always written).
    pub mode: Option<String>,
    /// Its default expression (PostgreSQL).
    pub default: Option<String>,
}

/// A function or procedure, in Atlas's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routine {
    /// Function or procedure.
    pub kind: RoutineKind,
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Whether the PostgreSQL definition names the schema (a realm-wide inspection does; a schema-bound one
    /// does not). A parsed routine always does.
    pub qualified: bool,
    /// PostgreSQL: the language as stored (`sql`, `plpgsql`).
    pub lang: Option<String>,
    /// The arguments in order.
    pub args: Vec<Arg>,
    /// A function's return type as the database prints it.
    pub returns: Option<String>,
    /// The body (`as`).
    pub body: String,
    /// PostgreSQL: `IMMUTABLE` or `STABLE` (none is `VOLATILE`).
    pub volatility: Option<String>,
    /// PostgreSQL: `STRICT`.
    pub strict: bool,
    /// PostgreSQL: `LEAKPROOF`.
    pub leakproof: bool,
    /// The security that is not the dialect's default: PostgreSQL `DEFINER`, MySQL `INVOKER`.
    pub security: Option<String>,
    /// MySQL: `DETERMINISTIC`.
    pub deterministic: bool,
    /// MySQL: `NO SQL`, `READS SQL DATA` or `MODIFIES SQL DATA` (none is `CONTAINS SQL`).
    pub data_access: Option<String>,
    /// MySQL: the comment.
    pub comment: Option<String>,
}

/// A trigger's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `INSERT`.
    Insert,
    /// `DELETE`.
    Delete,
    /// `UPDATE`, or `UPDATE OF` these columns.
    Update(Vec<String>),
    /// `TRUNCATE` (PostgreSQL).
    Truncate,
}

/// A trigger, in Atlas's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerSpec {
    /// The schema of its table.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// The table it fires on.
    pub table: String,
    /// Whether the PostgreSQL definition names schemas (see [`Routine::qualified`]).
    pub qualified: bool,
    /// `BEFORE`, `AFTER` or `INSTEAD OF`.
    pub timing: String,
    /// Its events, in the order the database prints them.
    pub events: Vec<Event>,
    /// `FOR EACH ROW` (else `FOR EACH STATEMENT` on PostgreSQL; on SQLite, the clause left out).
    pub for_row: bool,
    /// The `WHEN` condition.
    pub when: Option<String>,
    /// PostgreSQL: the function it executes (schema, name).
    pub execute: Option<(String, String)>,
    /// MySQL and SQLite: the body (`as`).
    pub body: Option<String>,
}

/// A PostgreSQL name as the server prints it: bare when it is a plain lower-case identifier.
pub(crate) fn pg_ident(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn my_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn my_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// SQLite's spelling of a name in a statement Strata writes: bare when a plain identifier, else double-quoted.
fn lite_ident(name: &str) -> String {
    if crate::types::is_hcl_ident(name) && !name.contains('-') {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn pg_qualified(qualified: bool, schema: &str, name: &str) -> String {
    if qualified && !schema.is_empty() {
        format!("{}.{}", pg_ident(schema), pg_ident(name))
    } else {
        pg_ident(name)
    }
}

/// `$function$` (or `$procedure$`), lengthened with `x` until the body does not hold it: `pg_get_functiondef`'s
/// delimiter.
fn dollar_quote(word: &str, body: &str) -> String {
    let mut q = format!("${word}");
    while body.contains(&q) {
        q.push('x');
    }
    q.push('$');
    q
}

/// Whether a SQL-language body is a SQL-standard one (`RETURN …`, `BEGIN ATOMIC … END`), which PostgreSQL
/// prints without `AS`.
fn standard_body(body: &str) -> bool {
    let b = body.trim_start();
    let starts = |w: &str| b.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w));
    (starts("RETURN") && b[6..].starts_with(char::is_whitespace)) || starts("BEGIN ATOMIC")
}

impl Arg {
    fn pg(&self, with_default: bool) -> String {
        let mut out = String::new();
        if let Some(m) = &self.mode {
            out.push_str(m);
            out.push(' ');
        }
        if let Some(n) = &self.name {
            out.push_str(&pg_ident(n));
            out.push(' ');
        }
        out.push_str(&self.ty);
        if with_default && let Some(d) = &self.default {
            out.push_str(" DEFAULT ");
            out.push_str(d);
        }
        out
    }

    fn mysql(&self) -> String {
        let name = my_ident(self.name.as_deref().unwrap_or_default());
        match &self.mode {
            Some(m) => format!("{m} {name} {}", self.ty),
            None => format!("{name} {}", self.ty),
        }
    }
}

impl Routine {
    fn word(&self) -> &'static str {
        match self.kind {
            RoutineKind::Function => "FUNCTION",
            RoutineKind::Procedure => "PROCEDURE",
        }
    }

    /// The routine as the model holds it in dialect `d` (the definition as inspection reads it back).
    pub fn definition(&self, d: Dialect) -> Function {
        match d {
            Dialect::Mysql => self.mysql(),
            _ => self.postgres(),
        }
    }

    fn postgres(&self) -> Function {
        let full: Vec<String> = self.args.iter().map(|a| a.pg(true)).collect();
        // The identity arguments: OUT arguments are not part of a function's identity.
        let identity: Vec<String> = self
            .args
            .iter()
            .filter(|a| self.kind == RoutineKind::Procedure || a.mode.as_deref() != Some("OUT"))
            .map(|a| a.pg(false))
            .collect();
        let mut def = format!(
            "CREATE OR REPLACE {} {}({})\n",
            self.word(),
            pg_qualified(self.qualified, &self.schema, &self.name),
            full.join(", ")
        );
        if let Some(r) = &self.returns {
            def.push_str(&format!(" RETURNS {r}\n"));
        }
        def.push_str(&format!(
            " LANGUAGE {}\n",
            pg_ident(self.lang.as_deref().unwrap_or("sql"))
        ));
        let mut opts = String::new();
        if let Some(v) = &self.volatility {
            opts.push(' ');
            opts.push_str(v);
        }
        if self.strict {
            opts.push_str(" STRICT");
        }
        if self.security.is_some() {
            opts.push_str(" SECURITY DEFINER");
        }
        if self.leakproof {
            opts.push_str(" LEAKPROOF");
        }
        if !opts.is_empty() {
            def.push_str(&opts);
            def.push('\n');
        }
        if self.lang.as_deref() == Some("sql") && standard_body(&self.body) {
            def.push_str(&self.body);
        } else {
            let q = dollar_quote(&self.word().to_ascii_lowercase(), &self.body);
            def.push_str(&format!("AS {q}{}{q}", self.body));
        }
        Function {
            name: self.name.clone(),
            kind: self.kind,
            args: identity.join(", "),
            definition: def.trim().to_owned(),
        }
    }

    fn mysql(&self) -> Function {
        let args: Vec<String> = self.args.iter().map(Arg::mysql).collect();
        let args = args.join(", ");
        let mut def = format!("CREATE {} {}({args})", self.word(), my_ident(&self.name));
        if let Some(r) = &self.returns {
            def.push_str(&format!(" RETURNS {r}"));
        }
        if self.deterministic {
            def.push_str(" DETERMINISTIC");
        }
        if let Some(a) = &self.data_access {
            def.push(' ');
            def.push_str(a);
        }
        if self.security.is_some() {
            def.push_str(" SQL SECURITY INVOKER");
        }
        if let Some(c) = &self.comment {
            def.push_str(&format!(" COMMENT {}", my_literal(c)));
        }
        def.push(' ');
        def.push_str(self.body.trim());
        Function {
            name: self.name.clone(),
            kind: self.kind,
            args,
            definition: def,
        }
    }

    /// `f` of schema `schema` in Atlas's parts, when they give back exactly `f` (else `None`: HCL leaves it out).
    pub fn read(d: Dialect, schema: &str, f: &Function) -> Option<Routine> {
        let r = match d {
            Dialect::Postgres => read_pg(schema, f)?,
            Dialect::Mysql => read_mysql(schema, f)?,
            Dialect::Sqlite => return None,
        };
        (r.definition(d) == *f).then_some(r)
    }
}

/// Splits `s` at `sep` where it is outside quotes and parentheses.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                c if c == sep && depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    out.push(&s[start..]);
    out
}

/// The index of the `)` closing the `(` at `open`, outside quotes.
fn closing(s: &str, open: usize) -> Option<usize> {
    let (mut depth, mut quote) = (0i32, None::<char>);
    for (i, c) in s[open..].char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(open + i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// A name as PostgreSQL prints it, read back (`"A b"` → `A b`).
fn pg_unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_owned(),
    }
}

/// The first word of `s` (a quoted name counts as one) and the rest.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = if s.starts_with('"') || s.starts_with('`') {
        let q = s.as_bytes()[0] as char;
        let mut i = 1;
        let b = s.as_bytes();
        while i < b.len() {
            if b[i] as char == q {
                if b.get(i + 1) == Some(&(q as u8)) {
                    i += 2;
                    continue;
                }
                i += 1;
                break;
            }
            i += 1;
        }
        i
    } else {
        s.find(char::is_whitespace).unwrap_or(s.len())
    };
    (&s[..end], s[end..].trim_start())
}

const MODES: &[&str] = &["IN", "OUT", "INOUT", "VARIADIC"];

fn read_pg_arg(text: &str) -> Option<Arg> {
    let (text, default) = match text.find(" DEFAULT ") {
        Some(i) => (&text[..i], Some(text[i + 9..].to_owned())),
        None => (text, None),
    };
    let (first, rest) = first_word(text);
    let (mode, text) = if MODES.contains(&first) {
        (Some(first.to_owned()), rest)
    } else {
        (None, text)
    };
    // `a integer` or just `integer`: a whole type the registry knows has no name; otherwise the first word is one.
    let whole = strata_schema::ColumnType::parse(Dialect::Postgres, text);
    let known = !matches!(
        crate::types::to_hcl(
            Dialect::Postgres,
            &whole,
            &crate::types::TypeScope::bare("")
        )
        .ty,
        crate::types::HclType::Sql(_)
    );
    let (name, ty) = match first_word(text) {
        (n, t) if !known && !t.is_empty() => (Some(pg_unquote(n)), t.to_owned()),
        _ => (None, text.to_owned()),
    };
    Some(Arg {
        name,
        ty,
        mode,
        default,
    })
}

fn read_pg(schema: &str, f: &Function) -> Option<Routine> {
    let def = f.definition.as_str();
    let word = match f.kind {
        RoutineKind::Function => "FUNCTION",
        RoutineKind::Procedure => "PROCEDURE",
    };
    let rest = def.strip_prefix(&format!("CREATE OR REPLACE {word} "))?;
    let open = rest.find('(')?;
    let head = &rest[..open];
    let qualified = head != pg_ident(&f.name);
    let close = closing(rest, open)?;
    let args_text = &rest[open + 1..close];
    let args = if args_text.is_empty() {
        Vec::new()
    } else {
        split_top(args_text, ',')
            .into_iter()
            .map(|a| read_pg_arg(a.trim()))
            .collect::<Option<Vec<_>>>()?
    };
    let mut lines = rest[close + 1..].strip_prefix('\n')?;
    let mut returns = None;
    if let Some(r) = lines.strip_prefix(" RETURNS ") {
        let end = r.find('\n')?;
        returns = Some(r[..end].to_owned());
        lines = &r[end + 1..];
    }
    let l = lines.strip_prefix(" LANGUAGE ")?;
    let end = l.find('\n')?;
    let lang = pg_unquote(&l[..end]);
    lines = &l[end + 1..];
    let mut r = Routine {
        kind: f.kind,
        schema: schema.to_owned(),
        name: f.name.clone(),
        qualified,
        lang: Some(lang),
        args,
        returns,
        body: String::new(),
        volatility: None,
        strict: false,
        leakproof: false,
        security: None,
        deterministic: false,
        data_access: None,
        comment: None,
    };
    if lines.starts_with(' ') {
        let end = lines.find('\n')?;
        for w in lines[..end].split(' ').filter(|w| !w.is_empty()) {
            match w {
                "IMMUTABLE" | "STABLE" => r.volatility = Some(w.to_owned()),
                "STRICT" => r.strict = true,
                "LEAKPROOF" => r.leakproof = true,
                "SECURITY" | "DEFINER" => r.security = Some("DEFINER".to_owned()),
                _ => return None,
            }
        }
        lines = &lines[end + 1..];
    }
    r.body = match lines.strip_prefix("AS $") {
        Some(quoted) => {
            let q = format!("${}", &quoted[..quoted.find('$')? + 1]);
            lines
                .strip_prefix("AS ")?
                .strip_prefix(&q)?
                .strip_suffix(&q)?
                .to_owned()
        }
        None => lines.to_owned(),
    };
    Some(r)
}

fn read_mysql(schema: &str, f: &Function) -> Option<Routine> {
    let word = match f.kind {
        RoutineKind::Function => "FUNCTION",
        RoutineKind::Procedure => "PROCEDURE",
    };
    let rest = f
        .definition
        .strip_prefix(&format!("CREATE {word} {}(", my_ident(&f.name)))?;
    let rest = rest.strip_prefix(f.args.as_str())?.strip_prefix(')')?;
    let args = if f.args.is_empty() {
        Vec::new()
    } else {
        split_top(&f.args, ',')
            .into_iter()
            .map(|a| {
                let a = a.trim();
                let (first, rest) = first_word(a);
                let (mode, a) = if f.kind == RoutineKind::Procedure && MODES.contains(&first) {
                    (Some(first.to_owned()), rest)
                } else {
                    (None, a)
                };
                let (name, ty) = first_word(a);
                let name = name
                    .strip_prefix('`')?
                    .strip_suffix('`')?
                    .replace("``", "`");
                Some(Arg {
                    name: Some(name),
                    ty: ty.to_owned(),
                    mode,
                    default: None,
                })
            })
            .collect::<Option<Vec<_>>>()?
    };
    let mut r = Routine {
        kind: f.kind,
        schema: schema.to_owned(),
        name: f.name.clone(),
        qualified: false,
        lang: None,
        args,
        returns: None,
        body: String::new(),
        volatility: None,
        strict: false,
        leakproof: false,
        security: None,
        deterministic: false,
        data_access: None,
        comment: None,
    };
    let mut rest = rest;
    if f.kind == RoutineKind::Function {
        let after = rest.strip_prefix(" RETURNS ")?;
        let end = mysql_type_end(after);
        r.returns = Some(after[..end].to_owned());
        rest = &after[end..];
    }
    mysql_tail(r, rest, f)
}

/// Where a MySQL type as `DTD_IDENTIFIER` spells it ends: the base type (parentheses and quotes kept whole), then
/// `unsigned`, `zerofill`, `CHARSET x`, `COLLATE y`.
fn mysql_type_end(s: &str) -> usize {
    let (mut depth, mut quote, mut end) = (0i32, None::<char>, s.len());
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                ' ' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            },
        }
    }
    loop {
        let rest = &s[end..];
        if let Some(r) = rest
            .strip_prefix(" unsigned")
            .or_else(|| rest.strip_prefix(" zerofill"))
        {
            end = s.len() - r.len();
            continue;
        }
        let with_value = ["CHARSET", "COLLATE"]
            .iter()
            .find_map(|k| rest.strip_prefix(&format!(" {k} ")));
        match with_value {
            Some(r) => end = s.len() - r.len() + r.find(' ').unwrap_or(r.len()),
            None => return end,
        }
    }
}

/// The characteristics and body after a MySQL routine's header, read so the whole writes back as `f`.
fn mysql_tail(mut r: Routine, mut rest: &str, f: &Function) -> Option<Routine> {
    if let Some(x) = rest.strip_prefix(" DETERMINISTIC") {
        r.deterministic = true;
        rest = x;
    }
    for a in ["NO SQL", "READS SQL DATA", "MODIFIES SQL DATA"] {
        if let Some(x) = rest.strip_prefix(&format!(" {a}")) {
            r.data_access = Some(a.to_owned());
            rest = x;
        }
    }
    if let Some(x) = rest.strip_prefix(" SQL SECURITY INVOKER") {
        r.security = Some("INVOKER".to_owned());
        rest = x;
    }
    if let Some(x) = rest.strip_prefix(" COMMENT '") {
        // The literal ends at a `'` not doubled.
        let b = x.as_bytes();
        let mut i = 0;
        let mut text = String::new();
        loop {
            match b.get(i)? {
                b'\'' if b.get(i + 1) == Some(&b'\'') => {
                    text.push('\'');
                    i += 2;
                }
                b'\'' => break,
                b'\\' => {
                    text.push(*b.get(i + 1)? as char);
                    i += 2;
                }
                _ => {
                    let c = x[i..].chars().next()?;
                    text.push(c);
                    i += c.len_utf8();
                }
            }
        }
        r.comment = Some(text);
        rest = &x[i + 1..];
    }
    r.body = rest.strip_prefix(' ')?.to_owned();
    (r.definition(Dialect::Mysql) == *f).then_some(r)
}

impl TriggerSpec {
    /// The trigger as the model holds it in dialect `d`.
    pub fn definition(&self, d: Dialect) -> Trigger {
        let events = |pg: bool| -> String {
            let words: Vec<String> = self
                .events
                .iter()
                .map(|e| match e {
                    Event::Insert => "INSERT".to_owned(),
                    Event::Delete => "DELETE".to_owned(),
                    Event::Truncate => "TRUNCATE".to_owned(),
                    Event::Update(cols) if cols.is_empty() => "UPDATE".to_owned(),
                    Event::Update(cols) => {
                        let q: Vec<String> = cols
                            .iter()
                            .map(|c| if pg { pg_ident(c) } else { lite_ident(c) })
                            .collect();
                        format!("UPDATE OF {}", q.join(", "))
                    }
                })
                .collect();
            words.join(" OR ")
        };
        let definition = match d {
            Dialect::Postgres => {
                let mut s = format!(
                    "CREATE TRIGGER {} {} {} ON {} FOR EACH {} ",
                    pg_ident(&self.name),
                    self.timing,
                    events(true),
                    pg_qualified(self.qualified, &self.schema, &self.table),
                    if self.for_row { "ROW" } else { "STATEMENT" }
                );
                if let Some(w) = &self.when {
                    s.push_str(&format!("WHEN ({w}) "));
                }
                let (fs, fname) = self.execute.clone().unwrap_or_default();
                s.push_str(&format!(
                    "EXECUTE FUNCTION {}()",
                    pg_qualified(self.qualified, &fs, &fname)
                ));
                s
            }
            Dialect::Mysql => format!(
                "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
                my_ident(&self.name),
                self.timing,
                events(false),
                my_ident(&self.table),
                self.body.as_deref().unwrap_or_default().trim()
            ),
            Dialect::Sqlite => {
                let mut s = format!(
                    "CREATE TRIGGER {} {} {} ON {}",
                    lite_ident(&self.name),
                    self.timing,
                    events(false),
                    lite_ident(&self.table)
                );
                if self.for_row {
                    s.push_str(" FOR EACH ROW");
                }
                if let Some(w) = &self.when {
                    s.push_str(&format!(" WHEN {w}"));
                }
                s.push(' ');
                s.push_str(self.body.as_deref().unwrap_or_default());
                s
            }
        };
        Trigger {
            name: self.name.clone(),
            table: self.table.clone(),
            definition,
        }
    }

    /// `t` of schema `schema` in Atlas's parts, when they give back exactly `t` (else `None`).
    pub fn read(d: Dialect, schema: &str, t: &Trigger) -> Option<TriggerSpec> {
        let spec = read_trigger(d, schema, t)?;
        (spec.definition(d) == *t).then_some(spec)
    }
}

fn read_trigger(d: Dialect, schema: &str, t: &Trigger) -> Option<TriggerSpec> {
    let def = t.definition.as_str();
    let rest = def.strip_prefix("CREATE TRIGGER ")?;
    let (name, rest) = first_word(rest);
    let name_ok = match d {
        Dialect::Postgres => name == pg_ident(&t.name),
        Dialect::Mysql => name == my_ident(&t.name),
        Dialect::Sqlite => name == lite_ident(&t.name),
    };
    if !name_ok {
        return None;
    }
    let (timing, mut rest) = if let Some(r) = rest.strip_prefix("INSTEAD OF ") {
        ("INSTEAD OF", r)
    } else {
        let (w, r) = first_word(rest);
        if !matches!(w, "BEFORE" | "AFTER") {
            return None;
        }
        (w, r)
    };
    let mut events = Vec::new();
    loop {
        let (w, r) = first_word(rest);
        let e = match w {
            "INSERT" => Event::Insert,
            "DELETE" => Event::Delete,
            "TRUNCATE" => Event::Truncate,
            "UPDATE" => match r.strip_prefix("OF ") {
                Some(cols) => {
                    let end = cols.find(" ON ")?;
                    let names = cols[..end]
                        .split(", ")
                        .map(|c| match d {
                            Dialect::Postgres => pg_unquote(c),
                            _ => pg_unquote(c),
                        })
                        .collect();
                    rest = &cols[end + 1..];
                    events.push(Event::Update(names));
                    match rest.strip_prefix("OR ") {
                        Some(r) => {
                            rest = r;
                            continue;
                        }
                        None => break,
                    }
                }
                None => Event::Update(Vec::new()),
            },
            _ => return None,
        };
        events.push(e);
        rest = r;
        match rest.strip_prefix("OR ") {
            Some(r) => rest = r,
            None => break,
        }
    }
    let rest = rest.strip_prefix("ON ")?;
    let (_table, rest) = first_word(rest);
    let qualified = d == Dialect::Postgres && _table != pg_ident(&t.table);
    let mut spec = TriggerSpec {
        schema: schema.to_owned(),
        name: t.name.clone(),
        table: t.table.clone(),
        qualified,
        timing: timing.to_owned(),
        events,
        for_row: true,
        when: None,
        execute: None,
        body: None,
    };
    match d {
        Dialect::Postgres => {
            let rest = rest.strip_prefix("FOR EACH ")?;
            let (level, mut rest) = first_word(rest);
            spec.for_row = match level {
                "ROW" => true,
                "STATEMENT" => false,
                _ => return None,
            };
            if let Some(w) = rest.strip_prefix("WHEN ") {
                let close = closing(w, 0)?;
                spec.when = Some(w[1..close].to_owned());
                rest = w[close + 1..].trim_start();
            }
            let f = rest.strip_prefix("EXECUTE FUNCTION ")?.strip_suffix("()")?;
            let (fs, fname) = match split_top(f, '.').as_slice() {
                [one] => (schema.to_owned(), pg_unquote(one)),
                [s, n] => (pg_unquote(s), pg_unquote(n)),
                _ => return None,
            };
            spec.execute = Some((fs, fname));
        }
        Dialect::Mysql => spec.body = Some(rest.strip_prefix("FOR EACH ROW ")?.to_owned()),
        Dialect::Sqlite => {
            let mut rest = rest;
            match rest.strip_prefix("FOR EACH ROW ") {
                Some(r) => rest = r,
                None => spec.for_row = false,
            }
            if let Some(w) = rest.strip_prefix("WHEN ") {
                let end = w.find(" BEGIN")?;
                spec.when = Some(w[..end].to_owned());
                rest = &w[end + 1..];
            }
            spec.body = Some(rest.to_owned());
        }
    }
    Some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg_fn(kind: RoutineKind, name: &str, args: &str, def: &str) -> Function {
        Function {
            name: name.into(),
            kind,
            args: args.into(),
            definition: def.into(),
        }
    }

    #[test]
    fn postgres_definitions_come_apart_and_back() {
        for f in [
            pg_fn(
                RoutineKind::Procedure,
                "reset_scores",
                "IN factor numeric",
                "CREATE OR REPLACE PROCEDURE public.reset_scores(IN factor numeric)\n LANGUAGE sql\nAS $procedure$ UPDATE teams SET score = score * factor $procedure$",
            ),
            pg_fn(
                RoutineKind::Function,
                "touch",
                "",
                "CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN\n  RETURN NEW;\nEND\n$function$",
            ),
            pg_fn(
                RoutineKind::Function,
                "add",
                "a integer, integer",
                "CREATE OR REPLACE FUNCTION public.add(a integer, integer DEFAULT 1, OUT s double precision)\n RETURNS double precision\n LANGUAGE sql\n IMMUTABLE STRICT SECURITY DEFINER LEAKPROOF\nRETURN (a + $2)",
            ),
        ] {
            let r = Routine::read(Dialect::Postgres, "public", &f)
                .unwrap_or_else(|| panic!("{}", f.definition));
            assert_eq!(r.definition(Dialect::Postgres), f);
        }
        let add = pg_fn(
            RoutineKind::Function,
            "add",
            "a integer, integer",
            "CREATE OR REPLACE FUNCTION public.add(a integer, integer DEFAULT 1, OUT s double precision)\n RETURNS double precision\n LANGUAGE sql\n IMMUTABLE STRICT SECURITY DEFINER LEAKPROOF\nRETURN (a + $2)",
        );
        let r = Routine::read(Dialect::Postgres, "public", &add).unwrap();
        assert_eq!(r.args[1].name, None);
        assert_eq!(r.args[2].ty, "double precision");
        // What HCL has no attribute for is not taken apart.
        let costly = pg_fn(
            RoutineKind::Function,
            "f",
            "",
            "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\n COST 5\nAS $function$select 1$function$",
        );
        assert_eq!(Routine::read(Dialect::Postgres, "public", &costly), None);
    }

    #[test]
    fn triggers_come_apart_and_back() {
        for (d, def) in [
            (
                Dialect::Postgres,
                "CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch()",
            ),
            (
                Dialect::Postgres,
                "CREATE TRIGGER t AFTER DELETE OR UPDATE OF email, \"Name\" ON users FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION touch()",
            ),
            (
                Dialect::Mysql,
                "CREATE TRIGGER `t` BEFORE INSERT ON `users` FOR EACH ROW SET NEW.n = 1",
            ),
            (
                Dialect::Sqlite,
                "CREATE TRIGGER t AFTER UPDATE OF email ON users FOR EACH ROW WHEN NEW.email IS NULL BEGIN SELECT 1; END",
            ),
        ] {
            let t = Trigger {
                name: if def.contains("`t`") || def.contains(" t ") {
                    "t".into()
                } else {
                    "users_touch".into()
                },
                table: "users".into(),
                definition: def.into(),
            };
            let spec = TriggerSpec::read(d, "public", &t).unwrap_or_else(|| panic!("{def}"));
            assert_eq!(spec.definition(d), t);
        }
        // SQLite keeps the statement as written: another spelling is not taken apart.
        let t = Trigger {
            name: "t".into(),
            table: "users".into(),
            definition: "create trigger t after insert on users begin select 1; end".into(),
        };
        assert_eq!(TriggerSpec::read(Dialect::Sqlite, "main", &t), None);
    }

    #[test]
    fn mysql_routines_come_apart_and_back() {
        for f in [
            Function {
                name: "twice".into(),
                kind: RoutineKind::Function,
                args: "`a` int".into(),
                definition: "CREATE FUNCTION `twice`(`a` int) RETURNS int DETERMINISTIC RETURN a * 2".into(),
            },
            Function {
                name: "p".into(),
                kind: RoutineKind::Procedure,
                args: "IN `x` varchar(10), OUT `y` int unsigned".into(),
                definition: "CREATE PROCEDURE `p`(IN `x` varchar(10), OUT `y` int unsigned) MODIFIES SQL DATA SQL SECURITY INVOKER COMMENT 'it''s' BEGIN SET y = 1; END".into(),
            },
            Function {
                name: "t".into(),
                kind: RoutineKind::Function,
                args: "".into(),
                definition: "CREATE FUNCTION `t`() RETURNS varchar(10) CHARSET utf8mb4 COLLATE utf8mb4_general_ci NO SQL RETURN 'x'".into(),
            },
        ] {
            let r = Routine::read(Dialect::Mysql, "app", &f)
                .unwrap_or_else(|| panic!("{}", f.definition));
            assert_eq!(r.definition(Dialect::Mysql), f);
        }
    }
}
