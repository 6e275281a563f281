//! HCL schema files read into the model (see lib.rs).
//!
//! [`parse`] takes every file of a schema (one `schema.hcl`, a folder of them, several `--to` files) and gives
//! one [`Realm`]. The files are read with `hcl-edit` (so every block, attribute and expression keeps its byte
//! span for `file:line:column` errors) and evaluated in Atlas's order:
//!
//! 1. `variable` blocks take their value from the caller's input ([`Vars`], from `--var` / `atlas.hcl`) or their
//!    `default`, converted to their declared `type`;
//! 2. `locals` are evaluated in dependency order (a cycle is an error naming the local);
//! 3. the object blocks (`schema`, `table`, `enum`, `view`) are expanded by their `for_each` (any block may
//!    have one; `each.key` / `each.value` are in scope inside it) and named (a `name` attribute overrides the
//!    label), so references can be resolved;
//! 4. the model is built: plain values (strings, numbers, lists, templates, functions, `var.x`, `local.x`) are
//!    evaluated by `hcl-rs`; references to blocks (`schema.public`, `column.id`, `table.users.column.id`,
//!    `table.s.t.column.c`, `column["d e"]`, `enum.status`), column types (`int`, `varchar(255)`,
//!    `sql("int[]")`, `enum.status`, through [`crate::types::to_sql`]) and Atlas's bare keywords (`CASCADE`,
//!    `BTREE`, `STORED`, `ALWAYS`) are read from the syntax by this module, as Atlas treats them: blocks are
//!    not values.
//!
//! Unknown blocks and attributes are errors, and so is anything the model cannot hold (a PostgreSQL
//! `partition`, an `exclude` constraint): a desired state is never silently narrowed.
//!
//! The model follows inspection's spelling where the HCL says the same thing: `null` defaults to false, a
//! string `default` is an SQL literal (`'a''b'`), a bool default is `true`/`false` (MySQL `1`/`0`), a generated
//! column is `STORED` on PostgreSQL and `VIRTUAL` elsewhere unless `as { type = … }` says otherwise, an index
//! `type` is lower-case on PostgreSQL (`gin`) and upper-case on MySQL (`FULLTEXT`), `nulls_distinct = false` is
//! `NULLS NOT DISTINCT`, a PostgreSQL `unique` block is a constraint-backed unique index. What remains
//! (PostgreSQL's implicit names, casts, MySQL's inherited charsets) is `strata_schema::normalize`'s, or the
//! engine's, which creates the parsed model on a dev database and inspects it back when it has one.

mod build;
mod eval;
mod funcs;
mod src;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use strata_migrate::Dialect;
use strata_schema::Realm;

pub use hcl::Value;

/// One HCL file: its name for messages and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HclFile {
    /// The path as the user knows it (used in `file:line:column`).
    pub path: String,
    /// The content.
    pub text: String,
}

impl HclFile {
    /// A file named `path` holding `text`.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        HclFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// Input variables by name (`--var k=v`, `atlas.hcl` env attributes). A string given for a `number` or `bool`
/// variable is converted, and a single value given for a `list` variable becomes a one-element list, as Atlas
/// does for command-line values.
pub type Vars = BTreeMap<String, Value>;

/// A failure, at the place in the file that caused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {kind}")]
pub struct HclError {
    /// The file's path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and what to do.
    pub kind: ErrorKind,
}

/// What went wrong in an HCL schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not HCL.
    #[error("{0}")]
    Syntax(String),
    /// A block this position does not have.
    #[error("unknown block {name:?} in {within}: expected {expected}")]
    UnknownBlock {
        /// The block type as written.
        name: String,
        /// Where (`the file`, `table "users"`).
        within: String,
        /// The blocks allowed there.
        expected: String,
    },
    /// An attribute this block does not have.
    #[error("unknown attribute {name:?} in {within}: expected {expected}")]
    UnknownAttribute {
        /// The attribute as written.
        name: String,
        /// The block (`column "id"`).
        within: String,
        /// The attributes allowed there.
        expected: String,
    },
    /// A required attribute is missing.
    #[error("{within} has no {name:?}: add {name} = …")]
    MissingAttribute {
        /// The attribute.
        name: &'static str,
        /// The block.
        within: String,
    },
    /// A block with the wrong number of labels.
    #[error("{block} takes {expected}, found {found}")]
    Labels {
        /// The block type.
        block: String,
        /// How many it takes, in words.
        expected: &'static str,
        /// How many were written.
        found: usize,
    },
    /// A variable without input value or default (Atlas's wording first).
    #[error(
        "missing value for required variable {0:?}: give it a value (--var {0}=…, or in atlas.hcl) or a default"
    )]
    MissingVariable(String),
    /// A variable type Atlas does not have (Atlas's wording).
    #[error(
        "invalid type {ty:?} for variable {name:?}. Valid types are: string, number, bool, list, map, or set"
    )]
    VariableType {
        /// The type as written.
        ty: String,
        /// The variable.
        name: String,
    },
    /// An input value that does not convert to the variable's type.
    #[error("variable {name:?}: {message}")]
    VariableValue {
        /// The variable.
        name: String,
        /// Why.
        message: String,
    },
    /// Locals that depend on each other (Atlas's wording first).
    #[error(
        "cyclic reference to {0:?}: a local cannot depend on itself, directly or through other locals"
    )]
    Cycle(String),
    /// An expression failed to evaluate (unknown variable or function, wrong operand types…).
    #[error("{0}")]
    Eval(String),
    /// A value of the wrong kind.
    #[error("{attr}: expected {expected}, got {got}")]
    Value {
        /// The attribute.
        attr: String,
        /// What it takes.
        expected: &'static str,
        /// What it evaluated to.
        got: String,
    },
    /// A keyword attribute with a word it does not take.
    #[error("{attr} = {value}: expected one of {allowed}")]
    Keyword {
        /// The attribute.
        attr: String,
        /// The word written.
        value: String,
        /// The words allowed.
        allowed: String,
    },
    /// A reference to a block that does not exist (or is not unique).
    #[error("{reference}: {why}")]
    Reference {
        /// The reference as written.
        reference: String,
        /// Why it does not resolve, and what to write instead.
        why: String,
    },
    /// A column type with no SQL spelling.
    #[error("{0}")]
    Type(#[from] crate::types::TypeError),
    /// The same object defined twice.
    #[error("{kind} {name:?} is defined twice (first at {first}): rename or remove one of them")]
    Duplicate {
        /// `table`, `column`, `schema`…
        kind: &'static str,
        /// The name.
        name: String,
        /// Where the first one is (`file:line:column`).
        first: String,
    },
    /// Something the dialect, or Strata's model, does not have.
    #[error("{what}")]
    Unsupported {
        /// What, and what to do instead.
        what: String,
    },
    /// A `for_each` over something that is not a collection.
    #[error("for_each takes a set, a list or a map (toset([…]) for a list of strings), got {0}")]
    ForEach(String),
}

/// Reads `files` (all parts of one schema) as `dialect`'s HCL, with `vars` as the input variables.
pub fn parse(files: &[HclFile], dialect: Dialect, vars: &Vars) -> Result<Realm, HclError> {
    let srcs = files
        .iter()
        .map(|f| src::Source::parse(&f.path, &f.text))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = eval::Scope::new(&srcs, vars)?;
    build::realm(&srcs, &scope, dialect)
}
