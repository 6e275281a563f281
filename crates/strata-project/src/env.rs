//! The typed `env` block (Atlas's community field set, `cmdapi/project.go`) and its decoding.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use hcl::edit::Span as _;
use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body, Structure};
use hcl::{Map, Value};

use crate::body::{check_body, check_body_with};
use crate::eval::{Evaluator, Scope, external_schema_url};
use crate::{Pos, ProjectError};

/// One evaluated environment: an `env` block, or one instance of an env with `for_each`.
#[derive(Debug, Clone, PartialEq)]
pub struct Env {
    /// The env's name (`--env`).
    pub name: String,
    /// Where the block starts.
    pub pos: Pos,
    /// For an instance of a `for_each` env: its `each.key`.
    pub each_key: Option<String>,
    /// `url`: the target database.
    pub url: Option<String>,
    /// `dev`: the dev database.
    pub dev: Option<String>,
    /// `src` or `schema { src }`: the desired state, one or more sources.
    pub src: Vec<SchemaSrc>,
    /// `schemas`.
    pub schemas: Vec<String>,
    /// `exclude`.
    pub exclude: Vec<String>,
    /// `migration { … }`.
    pub migration: Migration,
    /// `diff { … }` (the global `diff` block merged in).
    pub diff: Diff,
    /// `lint { … }` (the global `lint` block merged in).
    pub lint: Lint,
    /// `format { … }`.
    pub format: Formats,
    /// Attributes Atlas does not know: input variables for HCL schema files and `env://<name>` in URL flags.
    pub extra: Map<String, Value>,
}

/// A desired-state source named by `src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaSrc {
    /// A URL as written: `file://schema.sql`, `file://schema.hcl`, a database URL.
    Url(String),
    /// SQL printed by a `data "external_schema"` program.
    Sql {
        /// The data source's name, for messages.
        name: String,
        /// The program's output.
        sql: String,
    },
}

/// `migration { … }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// `dir`: the migration directory URL.
    pub dir: Option<String>,
    /// `format` (deprecated; `?format=` on `dir`).
    pub format: Option<String>,
    /// `baseline`.
    pub baseline: Option<String>,
    /// `exec_order`.
    pub exec_order: Option<ExecOrder>,
    /// `lock_timeout`, as written (`10s`).
    pub lock_timeout: Option<String>,
    /// `revisions_schema`.
    pub revisions_schema: Option<String>,
    /// `exclude`: files of the directory to leave out.
    pub exclude: Vec<String>,
}

/// `migration.exec_order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecOrder {
    /// `LINEAR`.
    Linear,
    /// `LINEAR_SKIP`.
    LinearSkip,
    /// `NON_LINEAR`.
    NonLinear,
}

/// `diff { … }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// `skip { <change> = true … }`: the kinds of change left out of plans.
    pub skip: BTreeSet<SkipChange>,
    /// `concurrent_index { … }` (PostgreSQL).
    pub concurrent_index: ConcurrentIndex,
}

/// `diff.concurrent_index`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConcurrentIndex {
    /// `create`.
    pub create: bool,
    /// `drop`.
    pub drop: bool,
    /// `add`.
    pub add: bool,
}

macro_rules! skip_changes {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// A kind of change `diff.skip` can leave out (community set).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum SkipChange { $(#[doc = $name] $variant),* }
        impl SkipChange {
            /// Every kind, in Atlas's order.
            pub const ALL: &[SkipChange] = &[$(SkipChange::$variant),*];
            /// The attribute name.
            pub fn name(self) -> &'static str { match self { $(SkipChange::$variant => $name),* } }
        }
    };
}

skip_changes! {
    AddSchema = "add_schema", DropSchema = "drop_schema", ModifySchema = "modify_schema",
    AddTable = "add_table", DropTable = "drop_table", ModifyTable = "modify_table", RenameTable = "rename_table",
    AddColumn = "add_column", DropColumn = "drop_column", ModifyColumn = "modify_column",
    AddIndex = "add_index", DropIndex = "drop_index", ModifyIndex = "modify_index",
    AddForeignKey = "add_foreign_key", DropForeignKey = "drop_foreign_key",
    ModifyForeignKey = "modify_foreign_key", RenameConstraint = "rename_constraint",
}

/// `lint { … }`: what `migrate lint` and `strata lint` take from the env.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lint {
    /// `latest = N`: lint the last N files.
    pub latest: Option<u64>,
    /// `git { base, dir }`.
    pub git: Option<LintGit>,
    /// `review`.
    pub review: Option<Review>,
    /// `format` (or its old name `log`).
    pub format: Option<String>,
    /// Analyzer blocks by name, any of `strata_lint::Analyzer`'s (`destructive { error = true }`,
    /// `concurrent_index { error = true }`, `timeouts { off = true }`); `naming { error }` lands here too.
    pub analyzers: BTreeMap<String, Analyzer>,
    /// `rules { PG101 = "error"  require-lock-timeout = "off" }`: a level per rule, by code or name (the codes
    /// as the rules spell them).
    pub rules: BTreeMap<String, strata_lint::Level>,
    /// `naming { match = "…"  message = "…"  table { match = "…" } … }`: the naming patterns (Atlas's shape).
    pub naming: Option<Naming>,
}

/// `lint.naming`: a pattern for every kind, and per kind (`schema`, `table`, `column`, `index`, `foreign_key`,
/// `check`) its own; a kind's block without `match` takes the block's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Naming {
    /// `match` and `message` of the block itself: for every kind without its own block.
    pub all: Option<NamePolicy>,
    /// The kinds' blocks.
    pub kinds: BTreeMap<strata_lint::NameKind, NamePolicy>,
}

/// One naming pattern as written (checked to be a valid regular expression when the file is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePolicy {
    /// `match`: the regular expression a name must match.
    pub pattern: String,
    /// `message`: shown with a violation instead of the pattern.
    pub message: Option<String>,
}

/// `lint.git`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintGit {
    /// `base`: the branch to compare with.
    pub base: Option<String>,
    /// `dir`: the repository folder.
    pub dir: Option<String>,
}

/// `lint.review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// `ALWAYS`.
    Always,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
}

/// An analyzer's block in `lint`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Analyzer {
    /// `error`: fail on its findings.
    pub error: Option<bool>,
    /// `off = true`: the analyzer does not run (Strata's; Atlas has no such attribute).
    pub off: bool,
}

/// `format { migrate { … } schema { … } }`: output templates per command, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Formats {
    /// `format.migrate`.
    pub migrate: MigrateFormats,
    /// `format.schema`.
    pub schema: SchemaFormats,
}

/// `format.migrate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateFormats {
    /// `apply`.
    pub apply: Option<String>,
    /// `diff`.
    pub diff: Option<String>,
    /// `lint`.
    pub lint: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `down`.
    pub down: Option<String>,
}

/// `format.schema`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaFormats {
    /// `inspect`.
    pub inspect: Option<String>,
    /// `apply`.
    pub apply: Option<String>,
    /// `diff`.
    pub diff: Option<String>,
    /// `clean`.
    pub clean: Option<String>,
    /// `push`.
    pub push: Option<String>,
}

const ENV_ATTRS: &[&str] = &[
    "name", "for_each", "url", "dev", "src", "schemas", "exclude",
];
const ENV_BLOCKS: &[&str] = &["schema", "migration", "lint", "diff", "format"];
const LINT_ATTRS: &[&str] = &["latest", "review", "format", "log"];

/// The blocks of `lint`: `git`, `rules`, and one per analyzer (`naming` among them).
fn lint_blocks() -> Vec<&'static str> {
    let mut v = vec!["git", "rules"];
    v.extend(strata_lint::Analyzer::ALL.iter().map(|a| a.name()));
    v
}

impl Env {
    /// The value of `env://<attr>` in a URL flag: `url`, `dev`, `src` / `schema.src`, `migration.dir`, or an
    /// extra attribute holding a string.
    pub fn reference(&self, attr: &str) -> Result<String, ProjectError> {
        let not_found = || ProjectError::EnvRefNotFound {
            attr: attr.to_owned(),
            env: self.name.clone(),
        };
        let found = match attr {
            "url" => self.url.clone(),
            "dev" => self.dev.clone(),
            "migration.dir" => self.migration.dir.clone(),
            "src" | "schema.src" => match self.src.as_slice() {
                [SchemaSrc::Url(u)] => Some(u.clone()),
                [SchemaSrc::Sql { name, .. }] => Some(external_schema_url(name)),
                _ => None,
            },
            other => match self.extra.get(other) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
        };
        found.ok_or_else(not_found)
    }

    /// The SQL behind a source URL that names a `data "external_schema"` of this env.
    pub fn external_schema(&self, url: &str) -> Option<&SchemaSrc> {
        self.src.iter().find(|s| match s {
            SchemaSrc::Sql { name, .. } => external_schema_url(name) == url,
            SchemaSrc::Url(_) => false,
        })
    }
}

/// Global blocks an env inherits.
#[derive(Debug, Default)]
pub(crate) struct Globals<'a> {
    pub lint: Option<&'a Block>,
    pub diff: Option<&'a Block>,
}

pub(crate) fn decode_env(
    ev: &mut Evaluator<'_>,
    block: &Block,
    name: &str,
    each: Option<(String, Value)>,
    globals: &Globals<'_>,
) -> Result<Env, ProjectError> {
    check_body_with(ev.text, &block.body, "env", ENV_ATTRS, ENV_BLOCKS, true)?;
    let mut scope = Scope::new();
    let each_key = each.as_ref().map(|(k, _)| k.clone());
    if let Some((k, v)) = each {
        let mut m = Map::new();
        m.insert("key".to_owned(), Value::String(k));
        m.insert("value".to_owned(), v);
        scope.push(("each".to_owned(), Value::Object(m)));
    }
    let mut env = Env {
        name: name.to_owned(),
        pos: ev.text.pos(block.span()),
        each_key,
        url: None,
        dev: None,
        src: Vec::new(),
        schemas: Vec::new(),
        exclude: Vec::new(),
        migration: Migration::default(),
        diff: Diff::default(),
        lint: Lint::default(),
        format: Formats::default(),
        extra: Map::new(),
    };
    let mut src_urls: Vec<String> = Vec::new();
    for s in block.body.iter() {
        match s {
            Structure::Attribute(a) => {
                let key = a.key.as_str();
                let e = &a.value;
                match key {
                    "name" | "for_each" => {}
                    // An empty string is unset, as in Atlas (`url = getenv("X")` with X unset).
                    "url" => env.url = non_empty(string(ev, e, &scope, "url")?),
                    "dev" => env.dev = non_empty(string(ev, e, &scope, "dev")?),
                    "src" => src_urls = strings(ev, e, &scope, "src")?,
                    "schemas" => env.schemas = strings(ev, e, &scope, "schemas")?,
                    "exclude" => env.exclude = strings(ev, e, &scope, "exclude")?,
                    "include" => {
                        return Err(ev.err(
                            a.span(),
                            "include is an Atlas Pro attribute that Strata does not support; use exclude",
                        ));
                    }
                    other => {
                        let v = ev.eval(e, &scope)?;
                        env.extra.insert(other.to_owned(), v);
                    }
                }
            }
            Structure::Block(b) => match b.ident.as_str() {
                "schema" => {
                    check_body(ev.text, &b.body, "schema", &["src"], &[])?;
                    if let Some(a) = b.body.get_attribute("src") {
                        if !src_urls.is_empty() || block.body.get_attribute("src").is_some() {
                            return Err(ev.err(
                                a.span(),
                                "src is set twice: on the env and in its schema block; keep one",
                            ));
                        }
                        src_urls = strings(ev, &a.value, &scope, "schema.src")?;
                    }
                }
                "migration" => env.migration = migration(ev, &b.body, &scope)?,
                "format" => env.format = formats(ev, &b.body, &scope)?,
                // lint and diff: decoded below, with the global blocks.
                _ => {}
            },
        }
    }
    env.src = src_urls
        .into_iter()
        .map(|u| {
            match ev
                .externals
                .iter()
                .find(|x| external_schema_url(&x.name) == u)
            {
                Some(x) => SchemaSrc::Sql {
                    name: x.name.clone(),
                    sql: x.sql.clone(),
                },
                None => SchemaSrc::Url(u),
            }
        })
        .collect();
    let own_lint = block.body.blocks().find(|b| b.ident.as_str() == "lint");
    let own_diff = block.body.blocks().find(|b| b.ident.as_str() == "diff");
    let global_lint = globals
        .lint
        .map(|b| lint(ev, &b.body, &Scope::new()))
        .transpose()?;
    let env_lint = own_lint.map(|b| lint(ev, &b.body, &scope)).transpose()?;
    env.lint = merge_lint(global_lint, env_lint);
    let global_diff = globals
        .diff
        .map(|b| diff(ev, &b.body, &Scope::new()))
        .transpose()?;
    let env_diff = own_diff.map(|b| diff(ev, &b.body, &scope)).transpose()?;
    env.diff = merge_diff(global_diff, env_diff, own_diff);
    Ok(env)
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn span_of(e: &Expression) -> Option<Range<usize>> {
    e.span()
}

fn string(
    ev: &mut Evaluator<'_>,
    e: &Expression,
    scope: &Scope,
    what: &str,
) -> Result<String, ProjectError> {
    let v = ev.eval(e, scope)?;
    ev.string(v, span_of(e), what)
}

/// A string or a list of strings.
fn strings(
    ev: &mut Evaluator<'_>,
    e: &Expression,
    scope: &Scope,
    what: &str,
) -> Result<Vec<String>, ProjectError> {
    match ev.eval(e, scope)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| ev.string(v, span_of(e), what))
            .collect(),
        Value::Null => Ok(Vec::new()),
        other => Ok(vec![ev.string(other, span_of(e), what)?]),
    }
}

fn boolean(
    ev: &mut Evaluator<'_>,
    e: &Expression,
    scope: &Scope,
    what: &str,
) -> Result<bool, ProjectError> {
    match ev.eval(e, scope)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(ev.err(
            span_of(e),
            format!(
                "{what}: expected a bool, got {}",
                crate::eval::type_name(&other)
            ),
        )),
    }
}

fn opt_string(
    ev: &mut Evaluator<'_>,
    body: &Body,
    key: &str,
    scope: &Scope,
    what: &str,
) -> Result<Option<String>, ProjectError> {
    Ok(body
        .get_attribute(key)
        .map(|a| string(ev, &a.value, scope, &format!("{what}.{key}")))
        .transpose()?
        .and_then(non_empty))
}

fn migration(
    ev: &mut Evaluator<'_>,
    body: &Body,
    scope: &Scope,
) -> Result<Migration, ProjectError> {
    check_body(
        ev.text,
        body,
        "migration",
        &[
            "dir",
            "format",
            "baseline",
            "exec_order",
            "lock_timeout",
            "revisions_schema",
            "exclude",
        ],
        &[],
    )?;
    let format = match body.get_attribute("format") {
        Some(a) => Some(ev.symbol_or_string(&a.value, scope, "migration.format")?),
        None => None,
    };
    let exec_order = match body.get_attribute("exec_order") {
        Some(a) => {
            let s = ev.symbol_or_string(&a.value, scope, "migration.exec_order")?;
            Some(match s.to_ascii_uppercase().replace('-', "_").as_str() {
                "LINEAR" => ExecOrder::Linear,
                "LINEAR_SKIP" => ExecOrder::LinearSkip,
                "NON_LINEAR" => ExecOrder::NonLinear,
                _ => {
                    return Err(ev.err(
                        a.span(),
                        format!("migration.exec_order: unknown value {s:?}; use LINEAR, LINEAR_SKIP or NON_LINEAR"),
                    ));
                }
            })
        }
        None => None,
    };
    Ok(Migration {
        dir: opt_string(ev, body, "dir", scope, "migration")?,
        format,
        baseline: opt_string(ev, body, "baseline", scope, "migration")?,
        exec_order,
        lock_timeout: opt_string(ev, body, "lock_timeout", scope, "migration")?,
        revisions_schema: opt_string(ev, body, "revisions_schema", scope, "migration")?,
        exclude: match body.get_attribute("exclude") {
            Some(a) => strings(ev, &a.value, scope, "migration.exclude")?,
            None => Vec::new(),
        },
    })
}

fn formats(ev: &mut Evaluator<'_>, body: &Body, scope: &Scope) -> Result<Formats, ProjectError> {
    check_body(ev.text, body, "format", &[], &["migrate", "schema"])?;
    let mut f = Formats::default();
    for b in body.blocks() {
        match b.ident.as_str() {
            "migrate" => {
                check_body(
                    ev.text,
                    &b.body,
                    "format.migrate",
                    &["apply", "diff", "lint", "status", "down"],
                    &[],
                )?;
                let w = "format.migrate";
                f.migrate = MigrateFormats {
                    apply: opt_string(ev, &b.body, "apply", scope, w)?,
                    diff: opt_string(ev, &b.body, "diff", scope, w)?,
                    lint: opt_string(ev, &b.body, "lint", scope, w)?,
                    status: opt_string(ev, &b.body, "status", scope, w)?,
                    down: opt_string(ev, &b.body, "down", scope, w)?,
                };
            }
            _ => {
                check_body(
                    ev.text,
                    &b.body,
                    "format.schema",
                    &["inspect", "apply", "diff", "clean", "push"],
                    &[],
                )?;
                let w = "format.schema";
                f.schema = SchemaFormats {
                    inspect: opt_string(ev, &b.body, "inspect", scope, w)?,
                    apply: opt_string(ev, &b.body, "apply", scope, w)?,
                    diff: opt_string(ev, &b.body, "diff", scope, w)?,
                    clean: opt_string(ev, &b.body, "clean", scope, w)?,
                    push: opt_string(ev, &b.body, "push", scope, w)?,
                };
            }
        }
    }
    Ok(f)
}

/// A decoded `lint` block, remembering which of `latest` / `git` it set (for inheritance).
fn lint(ev: &mut Evaluator<'_>, body: &Body, scope: &Scope) -> Result<Lint, ProjectError> {
    check_body(ev.text, body, "lint", LINT_ATTRS, &lint_blocks())?;
    if let (Some(_), Some(f)) = (body.get_attribute("log"), body.get_attribute("format")) {
        return Err(ev.err(f.span(), "cannot use both 'log' and 'format' in the lint block; 'log' is the old name of 'format'"));
    }
    let mut l = Lint {
        latest: match body.get_attribute("latest") {
            Some(a) => match ev.eval(&a.value, scope)? {
                Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
                other => {
                    return Err(ev.err(
                        a.span(),
                        format!(
                            "lint.latest: expected a whole number, got {}",
                            crate::eval::type_name(&other)
                        ),
                    ));
                }
            },
            None => None,
        },
        review: match body.get_attribute("review") {
            Some(a) => {
                Some(
                    match ev
                        .symbol_or_string(&a.value, scope, "lint.review")?
                        .as_str()
                    {
                        "ALWAYS" => Review::Always,
                        "WARNING" => Review::Warning,
                        "ERROR" => Review::Error,
                        other => {
                            return Err(ev.err(
                        a.span(),
                        format!("lint.review: unknown value {other:?}; use ALWAYS, WARNING or ERROR"),
                    ));
                        }
                    },
                )
            }
            None => None,
        },
        format: match body
            .get_attribute("format")
            .or_else(|| body.get_attribute("log"))
        {
            Some(a) => Some(string(ev, &a.value, scope, "lint.format")?),
            None => None,
        },
        ..Lint::default()
    };
    for b in body.blocks() {
        let kind = b.ident.as_str();
        match kind {
            "git" => {
                check_body(ev.text, &b.body, "lint.git", &["base", "dir"], &[])?;
                l.git = Some(LintGit {
                    base: opt_string(ev, &b.body, "base", scope, "lint.git")?,
                    dir: opt_string(ev, &b.body, "dir", scope, "lint.git")?,
                });
            }
            "rules" => l.rules = lint_rules(ev, &b.body, scope)?,
            _ => {
                let naming = kind == "naming";
                let kinds: Vec<&str> = strata_lint::NameKind::ALL
                    .iter()
                    .map(|k| k.name())
                    .collect();
                let (attrs, blocks): (&[&str], &[&str]) = if naming {
                    (&["error", "off", "match", "message"], &kinds)
                } else {
                    (&["error", "off"], &[])
                };
                check_body(ev.text, &b.body, &format!("lint.{kind}"), attrs, blocks)?;
                let flag = |ev: &mut Evaluator<'_>, key: &str| {
                    b.body
                        .get_attribute(key)
                        .map(|a| boolean(ev, &a.value, scope, &format!("lint.{kind}.{key}")))
                        .transpose()
                };
                let a = Analyzer {
                    error: flag(ev, "error")?,
                    off: flag(ev, "off")?.unwrap_or(false),
                };
                l.analyzers.insert(kind.to_owned(), a);
                if naming {
                    l.naming = Some(naming_block(ev, &b.body, scope)?);
                }
            }
        }
    }
    Ok(l)
}

/// `lint.rules { CODE = "error" | "warning" | "off" }`: every key a rule's code or name, every value a level.
fn lint_rules(
    ev: &mut Evaluator<'_>,
    body: &Body,
    scope: &Scope,
) -> Result<BTreeMap<String, strata_lint::Level>, ProjectError> {
    // Any attribute (each checked below), no blocks, none twice.
    check_body_with(ev.text, body, "lint.rules", &[], &[], true)?;
    let mut out = BTreeMap::new();
    for a in body.attributes() {
        let key = a.key.as_str();
        let Some(rule) = strata_lint::rules::find(key) else {
            return Err(ev.err(
                a.span(),
                format!("lint.rules: unknown rule {key:?}; use a code such as PG101 or a name such as require-lock-timeout"),
            ));
        };
        let what = format!("lint.rules.{key}");
        let text = ev.symbol_or_string(&a.value, scope, &what)?;
        let level = text
            .parse::<strata_lint::Level>()
            .map_err(|m| ev.err(a.value.span(), format!("{what}: {m}")))?;
        out.insert(rule.code.to_owned(), level);
    }
    Ok(out)
}

/// `lint.naming`'s patterns, each compiled once to refuse an invalid one at its line.
fn naming_block(
    ev: &mut Evaluator<'_>,
    body: &Body,
    scope: &Scope,
) -> Result<Naming, ProjectError> {
    let mut n = Naming {
        all: name_policy(ev, body, scope, "lint.naming", None)?,
        kinds: BTreeMap::new(),
    };
    for b in body.blocks() {
        let Some(kind) = strata_lint::NameKind::from_name(b.ident.as_str()) else {
            continue;
        };
        let what = format!("lint.naming.{}", kind.name());
        check_body(ev.text, &b.body, &what, &["match", "message"], &[])?;
        match name_policy(ev, &b.body, scope, &what, n.all.as_ref())? {
            Some(p) => {
                n.kinds.insert(kind, p);
            }
            None => {
                return Err(ev.err(
                    b.span(),
                    format!(
                        "{what}: give match = \"<regular expression>\" here or in the naming block"
                    ),
                ));
            }
        }
    }
    Ok(n)
}

/// `match` / `message` of one naming block; a missing `match` takes `inherit`'s, a missing message too.
fn name_policy(
    ev: &mut Evaluator<'_>,
    body: &Body,
    scope: &Scope,
    what: &str,
    inherit: Option<&NamePolicy>,
) -> Result<Option<NamePolicy>, ProjectError> {
    let message = opt_string(ev, body, "message", scope, what)?;
    let Some(a) = body.get_attribute("match") else {
        return Ok(inherit.map(|p| NamePolicy {
            pattern: p.pattern.clone(),
            message: message.or_else(|| p.message.clone()),
        }));
    };
    let pattern = string(ev, &a.value, scope, &format!("{what}.match"))?;
    if let Err(e) =
        strata_lint::Config::default().set_naming(strata_lint::NameKind::Table, &pattern, None)
    {
        let detail = match e {
            strata_lint::ConfigError::Pattern { message, .. } => message,
            other => other.to_string(),
        };
        return Err(ev.err(
            a.value.span(),
            format!("{what}.match: {pattern:?} is not a valid regular expression: {detail}"),
        ));
    }
    Ok(Some(NamePolicy {
        pattern,
        message: message.or_else(|| inherit.and_then(|p| p.message.clone())),
    }))
}

/// Env values win; `latest` and `git` come from the global block only when the env set neither.
fn merge_lint(global: Option<Lint>, env: Option<Lint>) -> Lint {
    match (global, env) {
        (None, None) => Lint::default(),
        (Some(g), None) => g,
        (None, Some(e)) => e,
        (Some(g), Some(e)) => {
            let own_range = e.latest.is_some() || e.git.is_some();
            Lint {
                latest: if own_range { e.latest } else { g.latest },
                git: if own_range { e.git } else { g.git },
                review: e.review.or(g.review),
                format: e.format.or(g.format),
                // Per analyzer and per rule, the env's entries over the global ones; a naming block as a whole.
                analyzers: g.analyzers.into_iter().chain(e.analyzers).collect(),
                rules: g.rules.into_iter().chain(e.rules).collect(),
                naming: e.naming.or(g.naming),
            }
        }
    }
}

fn diff(ev: &mut Evaluator<'_>, body: &Body, scope: &Scope) -> Result<Diff, ProjectError> {
    check_body(ev.text, body, "diff", &[], &["skip", "concurrent_index"])?;
    let mut d = Diff::default();
    for b in body.blocks() {
        if b.ident.as_str() == "skip" {
            let names: Vec<&str> = SkipChange::ALL.iter().map(|s| s.name()).collect();
            check_body(ev.text, &b.body, "diff.skip", &names, &[])?;
            for s in SkipChange::ALL {
                if let Some(a) = b.body.get_attribute(s.name())
                    && boolean(ev, &a.value, scope, &format!("diff.skip.{}", s.name()))?
                {
                    d.skip.insert(*s);
                }
            }
        } else {
            check_body(
                ev.text,
                &b.body,
                "diff.concurrent_index",
                &["create", "drop", "add"],
                &[],
            )?;
            let mut get = |k: &str| -> Result<bool, ProjectError> {
                b.body
                    .get_attribute(k)
                    .map(|a| boolean(ev, &a.value, scope, &format!("diff.concurrent_index.{k}")))
                    .transpose()
                    .map(|v| v.unwrap_or(false))
            };
            d.concurrent_index = ConcurrentIndex {
                create: get("create")?,
                drop: get("drop")?,
                add: get("add")?,
            };
        }
    }
    Ok(d)
}

/// The env's `skip` / `concurrent_index` blocks win over the global ones, each as a whole.
fn merge_diff(global: Option<Diff>, env: Option<Diff>, env_block: Option<&Block>) -> Diff {
    let has =
        |kind: &str| env_block.is_some_and(|b| b.body.blocks().any(|x| x.ident.as_str() == kind));
    match (global, env) {
        (None, None) => Diff::default(),
        (Some(g), None) => g,
        (None, Some(e)) => e,
        (Some(g), Some(e)) => Diff {
            skip: if has("skip") { e.skip } else { g.skip },
            concurrent_index: if has("concurrent_index") {
                e.concurrent_index
            } else {
                g.concurrent_index
            },
        },
    }
}
