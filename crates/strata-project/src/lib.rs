//! `atlas.hcl` project files, evaluated as Atlas evaluates them, into typed [`Env`]s.
//!
//! Pure: the file's text comes in, typed environments go out. What needs the outside world — environment
//! variables (`getenv`), files (`file()`), programs (`data "external_schema"`, `data "external"`) — goes through
//! the [`Host`] trait, which the CLI implements.
//!
//! Evaluation (Atlas's model, §2 of `authoring-compat.md`):
//! - top-level blocks: `variable "x" { type, default, description, sensitive }`, `locals { … }`,
//!   `data "<kind>" "<name>" { … }`, `env "<name>" { … }` or unlabeled `env { name = atlas.env … }`, and global
//!   `lint { … }` / `diff { … }` that every env inherits. Anything else is an error naming `file:line`;
//! - only the selected env is evaluated, and only what it (or a variable) references: locals and data sources
//!   are evaluated when first read;
//! - `for_each` on an env makes one [`Env`] per item (`each.key`, `each.value`);
//! - variables take `--var` values ([`InputVars`]), typed by their `type`; a variable without a default and
//!   without a value is Atlas's `missing value for required variable "x"`;
//! - an env's attributes that Atlas does not know stay in [`Env::extra`] as typed values: input variables for
//!   HCL schema files, and `env://<name>` in URL flags.

#![warn(missing_docs)]

mod body;
mod data;
mod env;
mod error;
mod eval;
mod funcs;
mod inputs;
mod vars;

use std::path::{Path, PathBuf};

use hcl::edit::Span as _;
use hcl::edit::structure::{Block, Structure};

pub use env::{
    Analyzer, ConcurrentIndex, Diff, Env, ExecOrder, Formats, Lint, LintGit, MigrateFormats,
    Migration, NamePolicy, Naming, Review, SchemaFormats, SchemaSrc, SkipChange,
};
pub use error::{Pos, ProjectError};
pub use eval::ExternalSchema;
pub use hcl::{Map, Value};
pub use inputs::{DEFAULT_CONFIG, InputVars, config_path};
pub use vars::VarType;

/// The outside world as a project file sees it.
pub trait Host {
    /// An environment variable (`getenv("X")`; unset is `""`).
    fn getenv(&self, key: &str) -> Option<String>;
    /// A file's text (`file("x")`; `path` is already joined with the project folder).
    fn read_file(&self, path: &Path) -> Result<String, String>;
    /// The names of the entries of a folder (`fileset()`, `glob()`; `path` is already joined with the project
    /// folder).
    fn list_dir(&self, path: &Path) -> Result<Vec<String>, String>;
    /// Runs `query` with text `args` on the database at `url` and returns the first column of each row
    /// (`data "sql"`; NULL is `None`). Errors must not carry the URL's password.
    fn query(&self, url: &str, query: &str, args: &[String])
    -> Result<Vec<Option<String>>, String>;
    /// Runs `argv` in `dir` and returns its standard output; a program that fails is an error carrying why
    /// (exit status, its standard error).
    fn run_program(&self, argv: &[String], dir: &Path) -> Result<String, String>;
}

/// A project file as read: its name in messages, its folder and its text.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    /// The path as given (`atlas.hcl`), used in messages.
    pub name: String,
    /// The folder relative paths in the file are read from (`file()`, `working_dir`).
    pub dir: PathBuf,
    /// The file's text.
    pub text: String,
}

/// The selected environment, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The file's name as given.
    pub file: String,
    /// The selected env's name.
    pub env: String,
    /// Whether the env has `for_each` (then `envs` holds one instance per item, possibly none).
    pub for_each: bool,
    /// The env's instances: one, or one per `for_each` item.
    pub envs: Vec<Env>,
    /// The evaluated variables.
    pub vars: Map<String, Value>,
}

impl Project {
    /// The one env of a command that works on one database: Atlas's `multi-environment "x" is not supported`
    /// for a `for_each` env.
    pub fn single(&self) -> Result<&Env, ProjectError> {
        match self.envs.as_slice() {
            [env] if !self.for_each => Ok(env),
            _ => Err(ProjectError::MultiEnvironment(self.env.clone())),
        }
    }
}

const TOP_BLOCKS: &[&str] = &["variable", "locals", "data", "env", "lint", "diff"];

/// Evaluates the env named `selected` of `file`.
pub fn load(
    file: &ProjectFile,
    selected: &str,
    vars: &InputVars,
    host: &dyn Host,
) -> Result<Project, ProjectError> {
    let body = hcl::edit::parser::parse_body(&file.text).map_err(|e| ProjectError::Syntax {
        file: file.name.clone(),
        line: e.location().line(),
        column: e.location().column(),
        message: e.message().to_owned(),
    })?;
    let text = eval::Text::new(&file.name, &file.text);
    let mut ev = eval::Evaluator::new(&text, host, &file.dir);
    ev.atlas_env = Some(selected.to_owned());

    let mut variables: Vec<&Block> = Vec::new();
    let mut envs: Vec<&Block> = Vec::new();
    let mut globals = env::Globals::default();
    for s in body.iter() {
        let b = match s {
            Structure::Attribute(a) => {
                return Err(ProjectError::at(
                    text.pos(a.span()),
                    format!(
                        "unsupported argument {:?} at the top level; attributes belong in a block ({})",
                        a.key.as_str(),
                        TOP_BLOCKS.join(", ")
                    ),
                ));
            }
            Structure::Block(b) => b,
        };
        let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
        let kind = b.ident.as_str();
        let at = || text.pos(b.span());
        let want_labels = |n: usize| -> Result<(), ProjectError> {
            if labels.len() == n {
                return Ok(());
            }
            Err(ProjectError::at(
                at(),
                format!(
                    "{kind} block must have exactly {n} label(s), got {}",
                    labels.len()
                ),
            ))
        };
        match kind {
            "variable" => {
                want_labels(1)?;
                variables.push(b);
            }
            "locals" => {
                want_labels(0)?;
                body::check_body_with(&text, &b.body, "locals", &[], &[], true)?;
                for a in b.body.attributes() {
                    ev.add_local(a)?;
                }
            }
            "data" => {
                if labels.len() != 2 {
                    let first = labels.first().copied().unwrap_or_default();
                    return Err(ProjectError::at(
                        at(),
                        format!("data block {first:?} must have exactly 2 labels"),
                    ));
                }
                ev.add_data(labels[0], labels[1], b)?;
            }
            "env" => {
                if labels.len() > 1 {
                    want_labels(1)?;
                }
                envs.push(b);
            }
            "lint" | "diff" => {
                want_labels(0)?;
                let slot = if kind == "lint" {
                    &mut globals.lint
                } else {
                    &mut globals.diff
                };
                if slot.is_some() {
                    return Err(ProjectError::at(
                        at(),
                        format!("only one top-level {kind} block is allowed"),
                    ));
                }
                *slot = Some(b);
            }
            "atlas" => {
                return Err(ProjectError::at(
                    at(),
                    "atlas block is not supported: it configures Atlas Cloud, which Strata does not use",
                ));
            }
            other => {
                return Err(ProjectError::at(
                    at(),
                    format!(
                        "unsupported block type {other:?}; expected one of: {}",
                        TOP_BLOCKS.join(", ")
                    ),
                ));
            }
        }
    }

    for b in &variables {
        let name = b.labels[0].as_str();
        let value = vars::evaluate(&mut ev, b, name, vars.get(name))?;
        ev.vars.insert(name.to_owned(), value);
    }

    // Labeled blocks of that name win; otherwise the unlabeled ones whose `name` evaluates to it.
    let labeled: Vec<&Block> = envs
        .iter()
        .copied()
        .filter(|b| b.labels.first().is_some_and(|l| l.as_str() == selected))
        .collect();
    let chosen = if labeled.is_empty() {
        let mut chosen = Vec::new();
        for b in envs.iter().copied().filter(|b| b.labels.is_empty()) {
            let Some(a) = b.body.get_attribute("name") else {
                return Err(ProjectError::UnnamedEnv(file.name.clone()));
            };
            let v = ev.eval(&a.value, &Vec::new())?;
            if ev.string(v, a.value.span(), "name")? == selected {
                chosen.push(b);
            }
        }
        chosen
    } else {
        labeled
    };
    let block = match chosen.as_slice() {
        [] => return Err(ProjectError::EnvNotDefined(selected.to_owned())),
        [b] => *b,
        [first, second, ..] => {
            return Err(ProjectError::at(
                text.pos(second.span()),
                format!(
                    "env {selected:?} is defined twice (first on line {})",
                    text.pos(first.span()).line
                ),
            ));
        }
    };

    let mut out = Vec::new();
    let for_each = block.body.get_attribute("for_each");
    match for_each {
        None => out.push(env::decode_env(&mut ev, block, selected, None, &globals)?),
        Some(fe) => {
            let items: Vec<(String, Value)> = match ev.eval(&fe.value, &Vec::new())? {
                Value::Array(items) => {
                    let mut out = Vec::new();
                    for v in items {
                        let key = ev.string(v.clone(), fe.value.span(), "for_each")?;
                        out.push((key, v));
                    }
                    out
                }
                Value::Object(m) => m.into_iter().collect(),
                other => {
                    return Err(ProjectError::at(
                        text.pos(fe.span()),
                        format!(
                            "for_each must be a set, list or map, got {}",
                            eval::type_name(&other)
                        ),
                    ));
                }
            };
            for item in items {
                out.push(env::decode_env(
                    &mut ev,
                    block,
                    selected,
                    Some(item),
                    &globals,
                )?);
            }
        }
    }
    Ok(Project {
        file: file.name.clone(),
        env: selected.to_owned(),
        for_each: for_each.is_some(),
        envs: out,
        vars: ev.vars.clone(),
    })
}

#[cfg(test)]
mod tests;
