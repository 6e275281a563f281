//! `migrate lint`'s replay: what each statement of the linted files changes in the schema.
//!
//! The files before the linted ones (the base) are replayed through the replay cache ([`super::replay`]), so a
//! warm cache costs no execution of the history. Their schema is then recreated on the dev database (the plan
//! from its clean state, one statement per object) and the linted files run statement by statement, the schema
//! inspected after each and diffed with the one before ([`strata_schema::diff`]): one [`Changes`] per statement,
//! in the file's statement order, as the lint crate's change rules take them. Should a linted statement fail on
//! the recreated state (it needs what the model does not hold: a domain, a grant, rows), the base files run in
//! full instead, so a statement fails only when it fails after a full replay. Everything runs in one
//! rolled-back transaction where DDL is transactional, else it is restored ([`DevDatabase::run_stepwise`]).
//!
//! Every statement is followed by a whole inspection of the schema: cheap against the small schemas linted
//! migrations touch (see BENCHMARKS.md, `migrate lint`), and correct for statements whose reach a parser cannot
//! see (triggers, functions, `DO` blocks, cascading drops).

use strata_migrate::MigrationDir;
use strata_migrate::replay::start;
use strata_schema::{Changes, DiffOptions, Realm};

use super::cache::ReplayCache;
use super::dev::{DevDatabase, Step, bound_inspect_options};
use super::replay::{ReplayOptions, ReplayStats, replay, texts};
use super::{SchemaError, creation_plan_from};

/// The changes of one linted file.
#[derive(Debug, Clone)]
pub struct FileChanges {
    /// The file's name in the directory.
    pub name: String,
    /// The schema before the file.
    pub before: Realm,
    /// Per statement (the order [`strata_migrate::scan::split`] gives), what it changed.
    pub changes: Vec<Changes>,
}

/// What the lint replay found.
#[derive(Debug, Clone)]
pub struct LintReplay {
    /// One entry per file from `base` on.
    pub files: Vec<FileChanges>,
    /// How the base replay went (cache use).
    pub base: ReplayStats,
}

/// Replays `dir` for `migrate lint`: files `..base` through the cache, files `base..` statement by statement.
/// A statement that fails is [`SchemaError::SqlFile`] with the file's path and the statement's line.
pub async fn lint_replay(
    dev: &mut DevDatabase,
    dir: &MigrationDir,
    base: usize,
    cache: Option<ReplayCache>,
) -> Result<LintReplay, SchemaError> {
    let all = dir.files();
    let base = base.min(all.len());
    // A checkpoint among the linted files starts the history anew: nothing before it is needed.
    let from = start(&all[..base])?;
    let prefix = MigrationDir::from_parts(dir.location(), all[from..base].to_vec(), None)?;
    let mut io = bound_inspect_options(dev.driver());
    io.include_revisions_table = false;
    let (before, stats) = if base == 0 {
        (None, ReplayStats::default())
    } else {
        let r = replay(dev, &prefix, &ReplayOptions::default().cache(cache)).await?;
        (Some(r.realm), r.stats)
    };
    let prelude = match &before {
        Some(realm) => Some(creation_plan_from(dev.clean(), realm)?),
        None => None,
    };
    let dialect = dev.driver().dialect();
    let location = std::path::Path::new(dir.location());
    let mut steps = Vec::new();
    let mut counts = Vec::new();
    for f in &all[base..] {
        let path = location.join(f.name()).display().to_string();
        let no_tx = f.directives()?.txmode == Some(strata_migrate::directive::TxMode::None);
        let stmts = strata_migrate::scan::split(dialect, &path, f.text()?)?;
        counts.push(stmts.len());
        steps.extend(stmts.into_iter().map(|s| Step {
            file: path.clone(),
            line: s.line,
            text: s.text,
            no_tx,
        }));
    }
    let realms = match dev.run_stepwise(prelude.as_ref(), &[], &steps, &io).await {
        Ok(r) => r,
        // The recreated state lacks what the base files made and the model does not hold (a domain, rows a
        // statement needs): the base files run in full before the steps, as a replay falls back.
        Err(_) if prelude.as_ref().is_some_and(|p| !p.is_empty()) => {
            let base_texts = texts(dir, &all[from..base])?;
            dev.run_stepwise(None, &base_texts, &steps, &io).await?
        }
        Err(e) => return Err(e),
    };
    let mut files = Vec::with_capacity(counts.len());
    let mut at = 0;
    for (f, n) in all[base..].iter().zip(counts) {
        let mut changes = Vec::with_capacity(n);
        for k in at..at + n {
            changes.push(strata_schema::diff(
                &realms[k],
                &realms[k + 1],
                &DiffOptions::default(),
            )?);
        }
        files.push(FileChanges {
            name: f.name().to_owned(),
            before: realms[at].clone(),
            changes,
        });
        at += n;
    }
    Ok(LintReplay { files, base: stats })
}
