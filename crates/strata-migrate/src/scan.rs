//! Statement scanner: splits a migration file into statements exactly as Atlas does.
//!
//! Atlas records, per migration file, how many statements it holds and a running hash over the
//! statement texts. Databases it already migrated therefore pin down its splitting rules, and
//! [`split`] reproduces them byte for byte, including the odd corners. The rules, per dialect:
//!
//! | rule | Postgres | MySQL/MariaDB | SQLite |
//! |---|---|---|---|
//! | `BEGIN … END` compound blocks | yes | yes | yes |
//! | `BEGIN ATOMIC … END` | yes | no | no |
//! | dollar quotes `$tag$…$tag$` | yes | no | no |
//! | backslash escapes in every quote | no | yes | no |
//! | backslash escapes after `E`/`e` (`E'…'`) | yes | no | no |
//! | `#` line comments | no | yes | no |
//!
//! Everything else is common to all dialects:
//!
//! - Whitespace before a statement is skipped. The default delimiter `;` stays at the end of the
//!   text; a custom one (`-- atlas:delimiter` on line 1, or the client command `DELIMITER x` at the
//!   start of a statement) is cut off. Texts are whitespace-trimmed. A trailing statement without a
//!   delimiter is kept.
//! - `'…'`, `"…"` and `` `…` `` are skipped up to the next identical quote; delimiters inside
//!   parentheses do not count.
//! - The delimiter is checked before comments. `-- …\n`, `/* … */` (and `# …\n` on MySQL) at the
//!   start of a statement are removed from it and attached to it, unless a blank line follows a
//!   comment (`\n` right after a line comment, `\n\n` right after a block comment; so never in
//!   CRLF files): then every comment collected so far is dropped. Comments inside a statement stay
//!   in its text. A comment whose terminator never comes is not a comment: its text is scanned as
//!   SQL.
//! - `BEGIN` followed by whitespace starts a block that runs until an inner statement that reads
//!   exactly `END` or `END;`; when no such statement follows, `BEGIN` is ordinary text. `BEGIN
//!   ATOMIC` blocks end at the first inner statement starting with `END`. Neither applies under a
//!   custom delimiter.
//!
//! Errors carry the position Atlas reports: line, then the byte offset within that line of the
//! byte after the offending character (for ASCII text, the 1-based column of that character).

use crate::quote::{go_quote, go_quote_char};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// SQL dialect whose scanning rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
}

impl Dialect {
    fn rules(self) -> Rules {
        let none = Rules {
            begin_end: true,
            begin_atomic: false,
            dollar_quotes: false,
            backslash_escapes: false,
            escape_strings: false,
            hash_comments: false,
        };
        match self {
            Dialect::Postgres => Rules {
                begin_atomic: true,
                dollar_quotes: true,
                escape_strings: true,
                ..none
            },
            Dialect::Mysql => Rules {
                backslash_escapes: true,
                hash_comments: true,
                ..none
            },
            Dialect::Sqlite => none,
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// Byte offset of the statement's first character in the file (the removed
    /// `-- atlas:delimiter` line counts).
    pub pos: usize,
    /// 1-based line of `pos`.
    pub line: usize,
    /// 1-based column (in characters) of `pos`.
    pub column: usize,
    /// Statement text: trimmed, `;` kept, a custom delimiter removed.
    pub text: String,
    /// Comments attached to the statement, raw: markers included, and the line end for `--`
    /// and `#` comments (`"-- hello\n"`, `"/* hi */"`).
    pub comments: Vec<String>,
}

/// A scanning error, worded as Atlas words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// File name.
    pub file: String,
    /// 1-based line; `0` when Atlas reports no position (`empty delimiter`).
    pub line: usize,
    /// Byte offset within the line of the byte after the offending character, as Atlas counts
    /// it (`0` for an error at the very start of the file, or when there is no position).
    pub column: usize,
    /// What went wrong, e.g. `unclosed quote '\''`.
    pub message: String,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sql/migrate: scanning statements from {}: ",
            go_quote(&self.file)
        )?;
        if self.line > 0 {
            write!(f, "{}:{}: ", self.line, self.column)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScanError {}

/// Splits a file into statements.
pub fn split(dialect: Dialect, file: &str, content: &str) -> Result<Vec<Stmt>, ScanError> {
    let mut cx = Ctx::new(content, dialect.rules());
    let fail = |f: Fail| match f {
        Fail::At(at, message) => error_at(file, content.as_bytes(), at, message),
        // Not produced before the first statement; kept total for safety.
        Fail::Eof => error_at(
            file,
            content.as_bytes(),
            None,
            "unexpected end of input".into(),
        ),
    };
    let mut scanner = Scanner::new(&cx, 0).map_err(fail)?;
    let mut lines = LineCounter::default();
    let mut stmts = Vec::new();
    loop {
        match scanner.stmt(&mut cx) {
            Ok(raw) => {
                let (line, column) = lines.locate(content.as_bytes(), raw.start);
                stmts.push(Stmt {
                    pos: raw.start,
                    line,
                    column,
                    text: raw.text.into_owned(),
                    comments: raw.comments,
                });
            }
            Err(Fail::Eof) => return Ok(stmts),
            Err(f) => return Err(fail(f)),
        }
    }
}

/// The scanning rules of a dialect (Atlas's `ScannerOptions`).
#[derive(Debug, Clone, Copy)]
struct Rules {
    begin_end: bool,
    begin_atomic: bool,
    dollar_quotes: bool,
    backslash_escapes: bool,
    escape_strings: bool,
    hash_comments: bool,
}

/// Why no statement came out.
enum Fail {
    /// Nothing left to scan.
    Eof,
    /// An error at an absolute byte offset (`None`: Atlas gives no position).
    At(Option<usize>, String),
}

/// A statement before its line and column are known.
struct Raw<'a> {
    start: usize,
    text: Cow<'a, str>,
    comments: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Block {
    /// `BEGIN … END`.
    Begin,
    /// `BEGIN ATOMIC … END`.
    Atomic,
}

/// Nesting depth of block scans beyond which the remaining blocks are scanned bottom-up, so
/// the call stack stays small whatever the input.
const MAX_NESTING: usize = 32;
const DEFAULT_DELIM: &[u8] = b";";
const DELIMITER_CMD: &[u8] = b"delimiter";

/// State shared by the scanner of a file and the scanners of the blocks inside it.
struct Ctx<'a> {
    content: &'a str,
    src: &'a [u8],
    rules: Rules,
    /// Outcome of scanning the block whose body starts at an offset: the body length Atlas
    /// skips, or `None` when the block never closes. A block's outcome depends on nothing but
    /// the text from its body onwards, so each is scanned once; Atlas rescans them, which is
    /// exponential on files with many unclosed `BEGIN`s.
    blocks: HashMap<(Block, usize), Option<usize>, BuildHasherDefault<OffsetHasher>>,
    depth: usize,
    filling: bool,
    next_newline: NextMatch,
    next_comment_end: NextMatch,
}

/// Cached answer to "where is the next occurrence of a pattern at or after `from`?".
#[derive(Default)]
struct NextMatch {
    valid: bool,
    from: usize,
    found: Option<usize>,
}

impl NextMatch {
    fn find(&mut self, src: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
        let covered = self.valid && from >= self.from && self.found.is_none_or(|f| from <= f);
        if !covered {
            let found = src
                .get(from..)
                .unwrap_or_default()
                .windows(pat.len())
                .position(|w| w == pat)
                .map(|i| from + i);
            *self = NextMatch {
                valid: true,
                from,
                found,
            };
        }
        self.found
    }
}

/// A fast hasher for the block memo, whose keys are small and not attacker-chosen in any way
/// that matters (a file can only make its own scan slower).
#[derive(Default)]
struct OffsetHasher(u64);

impl Hasher for OffsetHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<'a> Ctx<'a> {
    fn new(content: &'a str, rules: Rules) -> Self {
        Ctx {
            content,
            src: content.as_bytes(),
            rules,
            blocks: HashMap::default(),
            depth: 0,
            filling: false,
            next_newline: NextMatch::default(),
            next_comment_end: NextMatch::default(),
        }
    }

    /// Where the comment ending with `right` that is open at `from` ends.
    fn find(&mut self, from: usize, right: &[u8]) -> Option<usize> {
        if right == b"\n" {
            self.next_newline.find(self.src, from, right)
        } else {
            self.next_comment_end.find(self.src, from, right)
        }
    }

    /// The outcome of the block of `kind` whose body starts at `body`.
    fn block(&mut self, kind: Block, body: usize) -> Option<usize> {
        if let Some(&known) = self.blocks.get(&(kind, body)) {
            return known;
        }
        if self.depth >= MAX_NESTING && !self.filling {
            self.fill_from(body);
            if let Some(&known) = self.blocks.get(&(kind, body)) {
                return known;
            }
        }
        self.depth += 1;
        let outcome = self.scan_block(kind, body);
        self.depth -= 1;
        self.blocks.insert((kind, body), outcome);
        outcome
    }

    /// Scans every block body at or after `from`, last first: a block only looks at blocks that
    /// start after its own body, so each scan finds its inner blocks already known.
    fn fill_from(&mut self, from: usize) {
        self.filling = true;
        let mut todo = block_bodies(self.src, from);
        todo.sort_unstable_by_key(|key| std::cmp::Reverse(key.1));
        for key in todo {
            if !self.blocks.contains_key(&key) {
                let outcome = self.scan_block(key.0, key.1);
                self.blocks.insert(key, outcome);
            }
        }
        self.filling = false;
    }

    /// Scans the statements of a block body with a fresh scanner until the one that closes it.
    fn scan_block(&mut self, kind: Block, body: usize) -> Option<usize> {
        let mut inner = Scanner::new(self, body).ok()?;
        loop {
            let stmt = inner.stmt(self).ok()?;
            let text = stmt.text.as_bytes();
            if let Some(end) = match_end(text) {
                let closes = match kind {
                    Block::Atomic => true,
                    // `END`, or `END` and the (default) delimiter; `END IF;` does not close.
                    Block::Begin => end == text.len() || &text[end..] == DEFAULT_DELIM,
                };
                if closes {
                    return Some(inner.total());
                }
            }
        }
    }
}

/// Every offset where a block body can start: after `BEGIN` and whitespace, and after
/// `BEGIN ATOMIC` and whitespace (the scanner only ever asks for these).
fn block_bodies(src: &[u8], from: usize) -> Vec<(Block, usize)> {
    let mut out = Vec::new();
    for at in 0..src.len() {
        if !has_word(src, at, b"BEGIN") {
            continue;
        }
        let body = re_space_run(src, at + 5);
        if body == at + 5 {
            continue;
        }
        if body >= from {
            out.push((Block::Begin, body));
        }
        if has_word(src, body, b"ATOMIC") {
            let atomic = re_space_run(src, body + 6);
            if atomic > body + 6 && atomic >= from {
                out.push((Block::Atomic, atomic));
            }
        }
    }
    out
}

/// One scanner: for the file, or for a block body. It mirrors the state of Atlas's scanner:
/// the current input is always a suffix of the file, and `pos` runs over it.
struct Scanner {
    /// Where this scanner's input began (after a removed directive line).
    origin: usize,
    /// Start of the current input: the current statement (or comment) start.
    input: usize,
    /// Bytes scanned in the current input.
    pos: usize,
    /// Width of the last character read.
    width: usize,
    delim: Vec<u8>,
    comments: Vec<String>,
}

impl Scanner {
    /// A scanner for the text at `base`, honouring a `-- atlas:delimiter` directive on its
    /// first line. Block scanners check it too, as Atlas's do; like Atlas, they then do not
    /// count the removed line in [`Scanner::total`].
    fn new(cx: &Ctx, base: usize) -> Result<Self, Fail> {
        let mut s = Scanner {
            origin: base,
            input: base,
            pos: 0,
            width: 0,
            delim: DEFAULT_DELIM.to_vec(),
            comments: Vec::new(),
        };
        let text = cx.src.get(base..).unwrap_or_default();
        if let Some(arg) = delimiter_directive(text) {
            s.set_delim(arg)?;
            let Some(newline) = text.iter().position(|&b| b == b'\n') else {
                let arg = String::from_utf8_lossy(arg);
                return Err(s.error(
                    0,
                    format!("no input found after delimiter {}", go_quote(&arg)),
                ));
            };
            s.input = base + newline + 1;
            s.origin = s.input;
        }
        Ok(s)
    }

    /// Bytes consumed since `origin`.
    fn total(&self) -> usize {
        self.input + self.pos - self.origin
    }

    /// The text from `rel` bytes into the current input.
    fn at<'a>(&self, src: &'a [u8], rel: usize) -> &'a [u8] {
        src.get(self.input + rel..).unwrap_or_default()
    }

    fn error(&self, rel: usize, message: String) -> Fail {
        Fail::At(Some(self.input + rel), message)
    }

    fn next(&mut self, src: &[u8]) -> Option<char> {
        let (c, w) = decode(src, self.input + self.pos)?;
        self.width = w;
        self.pos += w;
        Some(c)
    }

    fn peek(&self, src: &[u8]) -> Option<char> {
        decode(src, self.input + self.pos).map(|(c, _)| c)
    }

    /// Drops whitespace at the start of the input.
    fn skip_spaces(&mut self, src: &[u8]) {
        while let Some((c, w)) = decode(src, self.input) {
            if !c.is_whitespace() {
                break;
            }
            self.input += w;
        }
    }

    /// Scans the next statement.
    fn stmt<'a>(&mut self, cx: &mut Ctx<'a>) -> Result<Raw<'a>, Fail> {
        let src = cx.src;
        let rules = cx.rules;
        let mut depth = 0usize;
        let mut opening = 0usize;
        self.skip_spaces(src);
        let len = loop {
            let Some(r) = self.next(src) else {
                if depth > 0 {
                    return Err(self.error(opening, "unclosed '('".into()));
                }
                if self.pos > 0 {
                    break src.len().saturating_sub(self.input);
                }
                return Err(Fail::Eof);
            };
            if r == '(' {
                if depth == 0 {
                    opening = self.pos;
                }
                depth += 1;
            } else if r == ')' {
                if depth == 0 {
                    return Err(self.error(self.pos, "unexpected ')'".into()));
                }
                depth -= 1;
            } else if matches!(r, '\'' | '"' | '`') {
                self.skip_quote(src, rules, r)?;
            } else if self.pos == 1
                && self.at(src, 0).len() > DELIMITER_CMD.len()
                && self.at(src, 0)[..DELIMITER_CMD.len()].eq_ignore_ascii_case(DELIMITER_CMD)
            {
                self.pos = DELIMITER_CMD.len();
                self.delimiter_command(src)?;
                self.skip_spaces(src);
            } else if depth == 0 && self.at(src, self.pos - self.width).starts_with(&self.delim) {
                self.pos = self.pos - self.width + self.delim.len();
                break self.pos;
            } else if rules.dollar_quotes
                && r == '$'
                && match_dollar(self.at(src, self.pos - 1)).is_some()
            {
                self.skip_dollar_quote(src);
            } else if r == '#' && rules.hash_comments {
                self.comment(cx, 1, b"\n");
            } else if r == '-' && self.peek(src) == Some('-') {
                self.next(src);
                self.comment(cx, 2, b"\n");
            } else if r == '/' && self.peek(src) == Some('*') {
                self.next(src);
                self.comment(cx, 2, b"*/");
            } else if self.delim == DEFAULT_DELIM
                && rules.begin_atomic
                && match_begin_atomic(self.at(src, self.pos - 1)).is_some()
            {
                if self.skip_block(cx, Block::Atomic) {
                    break self.pos;
                }
            } else if self.delim == DEFAULT_DELIM
                && rules.begin_end
                // At the statement start, or preceded by one character (whitespace in practice).
                && (self.pos == 1 && match_begin(self.at(src, 0)).is_some()
                    || self.pos > 1 && match_begin(self.at(src, self.pos - 2)).is_some())
                && self.skip_block(cx, Block::Begin)
            {
                break self.pos;
            }
        };
        Ok(self.emit(cx.content, len))
    }

    /// Ends the current statement: its text is the first `len` bytes of the input.
    fn emit<'a>(&mut self, content: &'a str, len: usize) -> Raw<'a> {
        let src = content.as_bytes();
        let start = self.input;
        let mut end = (start + len).min(src.len());
        self.input = (self.input + self.pos).min(src.len());
        self.pos = 0;
        let comments = std::mem::take(&mut self.comments);
        if self.delim != DEFAULT_DELIM
            && src
                .get(start..end)
                .is_some_and(|t| t.ends_with(&self.delim))
        {
            end -= self.delim.len();
        }
        let text = match content.get(start..end) {
            Some(text) => Cow::Borrowed(text.trim()),
            // Not on character boundaries, which the scanner does not produce; never panic anyway.
            None => Cow::Owned(String::from_utf8_lossy(&src[start..end]).trim().to_owned()),
        };
        Raw {
            start,
            text,
            comments,
        }
    }

    fn skip_quote(&mut self, src: &[u8], rules: Rules, quote: char) -> Result<(), Fail> {
        let opened = self.pos;
        // Atlas v0.24 to v1.3 looked at the quote itself instead of the character before it,
        // so `E'\''` failed (atlas issue 3762); the character before is what was meant.
        let escaped = rules.backslash_escapes
            || rules.escape_strings
                && self.pos >= 2
                && matches!(self.at(src, self.pos - 2).first(), Some(b'E' | b'e'));
        loop {
            match self.next(src) {
                None => {
                    let message = format!("unclosed quote {}", go_quote_char(quote));
                    return Err(self.error(opened, message));
                }
                Some('\\') if escaped => {
                    self.next(src);
                }
                Some(c) if c == quote => return Ok(()),
                Some(_) => {}
            }
        }
    }

    /// Skips a dollar-quoted string. One that never closes runs to the end of the input:
    /// Atlas reports no error for it.
    fn skip_dollar_quote(&mut self, src: &[u8]) {
        let start = self.input + self.pos - 1;
        let Some(len) = match_dollar(src.get(start..).unwrap_or_default()) else {
            return;
        };
        let tag = &src[start..start + len];
        self.pos += len - 1;
        while let Some(c) = self.next(src) {
            if c == '$' && self.at(src, self.pos - 1).starts_with(tag) {
                self.pos += len - 1;
                return;
            }
        }
    }

    /// Handles a comment whose opening marker (`left` bytes) was just read.
    fn comment(&mut self, cx: &mut Ctx, left: usize, right: &[u8]) {
        let here = self.input + self.pos;
        let Some(found) = cx.find(here, right) else {
            return;
        };
        let at_start = self.pos == left;
        self.pos += found - here + right.len();
        if !at_start {
            return;
        }
        let src = cx.src;
        self.comments.push(
            String::from_utf8_lossy(self.at(src, 0).get(..self.pos).unwrap_or_default())
                .into_owned(),
        );
        self.input += self.pos;
        self.pos = 0;
        let rest = self.at(src, 0);
        if rest.starts_with(b"\n\n") || right == b"\n" && rest.starts_with(b"\n") {
            self.comments.clear();
        }
        self.skip_spaces(src);
    }

    /// Handles the MySQL client command `DELIMITER <d>`, whose keyword was just read.
    fn delimiter_command(&mut self, src: &[u8]) -> Result<(), Fail> {
        if self.peek(src) != Some(' ') {
            return Ok(());
        }
        let mut r = self.peek(src);
        while let Some(c) = r {
            if c == '\n' {
                break;
            }
            r = self.next(src);
        }
        let raw = self
            .at(src, DELIMITER_CMD.len())
            .get(..self.pos - DELIMITER_CMD.len())
            .unwrap_or_default();
        let raw = String::from_utf8_lossy(raw);
        let mut delim = raw.trim().to_owned();
        if delim.starts_with('\'') && delim.ends_with('\'') {
            // A lone `'` makes Atlas panic; here it reads as an empty delimiter.
            delim = match delim.get(1..delim.len() - 1) {
                Some(inner) => inner.replace("''", "'"),
                None => String::new(),
            };
        }
        self.set_delim(delim.as_bytes())?;
        // The command is not a statement: drop it, and any comments before it.
        self.input += self.pos;
        self.pos = 0;
        self.comments.clear();
        Ok(())
    }

    fn set_delim(&mut self, d: &[u8]) -> Result<(), Fail> {
        if d.is_empty() {
            return Err(Fail::At(None, "empty delimiter".into()));
        }
        let mut delim = Vec::with_capacity(d.len());
        let mut i = 0;
        while i < d.len() {
            let unescaped = match (d[i], d.get(i + 1)) {
                (b'\\', Some(b'n')) => Some(b'\n'),
                (b'\\', Some(b'r')) => Some(b'\r'),
                (b'\\', Some(b't')) => Some(b'\t'),
                _ => None,
            };
            match unescaped {
                Some(b) => {
                    delim.push(b);
                    i += 2;
                }
                None => {
                    delim.push(d[i]);
                    i += 1;
                }
            }
        }
        self.delim = delim;
        Ok(())
    }

    /// Tries the block starting at the character just read. Like Atlas, the `BEGIN` keyword
    /// (and `ATOMIC`) stays consumed when the block turns out not to close.
    fn skip_block(&mut self, cx: &mut Ctx, kind: Block) -> bool {
        let head = self.at(cx.src, self.pos - 1);
        let len = match kind {
            Block::Begin => match_begin(head),
            Block::Atomic => match_begin_atomic(head),
        };
        let Some(len) = len else {
            return false;
        };
        self.pos += len - 1;
        match cx.block(kind, self.input + self.pos) {
            Some(body) => {
                self.pos += body;
                // A block body that starts with a directive line comes up short by that line
                // (see `Scanner::new`), and may end inside a character. Atlas's text would then
                // hold a partial character, which no Rust string can; finish the character.
                while cx
                    .src
                    .get(self.input + self.pos)
                    .is_some_and(|b| b & 0xc0 == 0x80)
                {
                    self.pos += 1;
                }
                true
            }
            None => false,
        }
    }
}

/// Decodes the character at `i` the way Go does: a byte that does not start a character reads
/// as U+FFFD of width 1 (kept for robustness: positions stay on character boundaries).
fn decode(src: &[u8], i: usize) -> Option<(char, usize)> {
    let b = *src.get(i)?;
    let width = match b {
        0x00..=0x7f => return Some((char::from(b), 1)),
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Some((char::REPLACEMENT_CHARACTER, 1)),
    };
    let c = src
        .get(i..i + width)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|s| s.chars().next());
    Some(match c {
        Some(c) => (c, width),
        None => (char::REPLACEMENT_CHARACTER, 1),
    })
}

/// Go's regexp `\s`: ASCII whitespace without `\v`.
fn is_re_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// The end of the run of `\s` starting at `i`.
fn re_space_run(s: &[u8], i: usize) -> usize {
    let mut j = i;
    while s.get(j).is_some_and(|&b| is_re_space(b)) {
        j += 1;
    }
    j
}

/// Whether `word` (upper-case ASCII) is at `i`, in any case.
fn has_word(s: &[u8], i: usize, word: &[u8]) -> bool {
    s.get(i..i + word.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// Length of the match of `(?i)^\s*BEGIN\s+`.
fn match_begin(s: &[u8]) -> Option<usize> {
    let i = re_space_run(s, 0);
    if !has_word(s, i, b"BEGIN") {
        return None;
    }
    let end = re_space_run(s, i + 5);
    (end > i + 5).then_some(end)
}

/// Length of the match of `(?i)^\s*BEGIN\s+ATOMIC\s+`.
fn match_begin_atomic(s: &[u8]) -> Option<usize> {
    let i = match_begin(s)?;
    if !has_word(s, i, b"ATOMIC") {
        return None;
    }
    let end = re_space_run(s, i + 6);
    (end > i + 6).then_some(end)
}

/// Length of the match of `(?i)^\s*END\s*`.
fn match_end(s: &[u8]) -> Option<usize> {
    let i = re_space_run(s, 0);
    has_word(s, i, b"END").then(|| re_space_run(s, i + 3))
}

/// Length of the opening dollar quote at the start of `s`: `$`, an optional tag matching
/// `[A-Za-zÈ-ÿ_][\wÈ-ÿ]*`, `$`.
fn match_dollar(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'$') {
        return None;
    }
    let mut i = 1;
    loop {
        let (c, w) = decode(s, i)?;
        if c == '$' {
            return Some(i + 1);
        }
        let latin = ('\u{c8}'..='\u{ff}').contains(&c);
        let ok = c.is_ascii_alphabetic() || c == '_' || latin || i > 1 && c.is_ascii_digit();
        if !ok {
            return None;
        }
        i += w;
    }
}

/// The argument of a `-- atlas:delimiter <d>` directive on the first line of `s`, still
/// escaped. Atlas matches `^([ -~]*)atlas:(\w+)(?: +([ -~]*))*` and requires the prefix to be
/// exactly `-- `: the prefix is greedy, so a later `atlas:<word>` on the line wins.
fn delimiter_directive(s: &[u8]) -> Option<&[u8]> {
    crate::directive::match_directive_bytes(s)
        .filter(|d| d.name == "delimiter" && d.prefix == "-- ")
        .map(|d| d.arg.as_bytes())
}

/// Line and column of increasing offsets, counted incrementally.
struct LineCounter {
    at: usize,
    line: usize,
    column: usize,
}

impl Default for LineCounter {
    fn default() -> Self {
        LineCounter {
            at: 0,
            line: 1,
            column: 1,
        }
    }
}

impl LineCounter {
    fn locate(&mut self, src: &[u8], pos: usize) -> (usize, usize) {
        if pos < self.at {
            *self = LineCounter::default();
        }
        for &b in src.get(self.at..pos).unwrap_or_default() {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xc0 != 0x80 {
                self.column += 1;
            }
        }
        self.at = pos;
        (self.line, self.column)
    }
}

/// Builds the error Atlas reports for an offset of the file: line, and byte offset within it.
fn error_at(file: &str, src: &[u8], at: Option<usize>, message: String) -> ScanError {
    let (line, column) = match at {
        None => (0, 0),
        Some(p) => {
            let before = &src[..p.min(src.len())];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let column = match before.iter().rposition(|&b| b == b'\n') {
                Some(nl) => before.len() - nl - 1,
                None => before.len(),
            };
            (line, column)
        }
    };
    ScanError {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_argument() {
        assert_eq!(
            delimiter_directive(b"-- atlas:delimiter \\n\\n\nX"),
            Some(&b"\\n\\n"[..])
        );
        assert_eq!(
            delimiter_directive(b"-- atlas:delimiter   -- end\r\n"),
            Some(&b"-- end"[..])
        );
        assert_eq!(delimiter_directive(b"-- atlas:delimiter\n"), Some(&b""[..]));
        assert_eq!(
            delimiter_directive(b"-- atlas:delimiter\t$$\n"),
            Some(&b""[..])
        );
        assert_eq!(delimiter_directive(b"--atlas:delimiter $$\n"), None);
        assert_eq!(delimiter_directive(b" -- atlas:delimiter $$\n"), None);
        assert_eq!(delimiter_directive(b"-- atlas:delimiters $$\n"), None);
        assert_eq!(
            delimiter_directive(b"-- atlas:delimiter $$ atlas:x\n"),
            None
        );
        assert_eq!(
            delimiter_directive(b"-- atlas:delimiter $$ atlas:\n"),
            Some(&b"$$ atlas:"[..])
        );
    }

    #[test]
    fn regexps() {
        assert_eq!(match_begin(b"BEGIN x"), Some(6));
        assert_eq!(match_begin(b" \n begin\t\n x"), Some(11));
        assert_eq!(match_begin(b"BEGIN;"), None);
        assert_eq!(match_begin(b"BEGIN\x0bx"), None);
        assert_eq!(match_begin_atomic(b" BEGIN  ATOMIC\nx"), Some(15));
        assert_eq!(match_begin_atomic(b"BEGIN ATOMICx"), None);
        assert_eq!(match_end(b"END IF;"), Some(4));
        assert_eq!(match_end(b"ENDING"), Some(3));
        assert_eq!(match_end(b"EN"), None);
        assert_eq!(match_dollar(b"$$x"), Some(2));
        assert_eq!(match_dollar(b"$fn_1$"), Some(6));
        assert_eq!(match_dollar("$été$".as_bytes()), Some(7));
        assert_eq!(match_dollar("$À$".as_bytes()), None);
        assert_eq!(match_dollar("$Èÿ$".as_bytes()), Some(6));
        assert_eq!(match_dollar(b"$1$"), None);
        assert_eq!(match_dollar(b"$_1$"), Some(4));
        assert_eq!(match_dollar(b"$a"), None);
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("1_init.sql"), "\"1_init.sql\"");
        assert_eq!(
            go_quote("a\"b\\c\n\u{7f}\u{a0}é"),
            "\"a\\\"b\\\\c\\n\\x7f\\u00a0é\""
        );
        assert_eq!(go_quote_char('\''), "'\\''");
        assert_eq!(go_quote_char('"'), "'\"'");
        assert_eq!(go_quote_char('`'), "'`'");
    }

    #[test]
    fn unescaped_delimiters() {
        let mut s = Scanner {
            origin: 0,
            input: 0,
            pos: 0,
            width: 0,
            delim: DEFAULT_DELIM.to_vec(),
            comments: Vec::new(),
        };
        assert!(s.set_delim(br"\n\\n\t\r\x").is_ok());
        assert_eq!(s.delim, b"\n\\\n\t\r\\x");
        assert!(matches!(s.set_delim(b""), Err(Fail::At(None, _))));
    }
}
