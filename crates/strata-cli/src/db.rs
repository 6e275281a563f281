//! `migrate apply / status / set`: thin wrappers over `strata-engine`.

use std::io::{IsTerminal as _, Write as _};

use strata_engine::apply::{DirFailed, Opened};
use strata_engine::report::{AppliedFile, ApplyReport, FileRef};
use strata_engine::{
    ApplyOptions, Cancel, DbUrl, EngineError, Limit, Observer, PlanError, SetOptions, StatusOptions,
};
use strata_migrate::MigrationDir;
use strata_migrate::plan::parse_amount;

use crate::cli::{DirArgs, Format, Migrate, PlanArgs, TargetArgs};
use crate::output::{self, CliError};
use crate::registry::RegistryArgs;
use crate::runtime::Runtime;

fn open(dir: &DirArgs) -> Result<MigrationDir, CliError> {
    let path = strata_migrate::dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref())?;
    Ok(MigrationDir::open(path)?)
}

/// The database URL as given. Without one the directory is read and checked first, as Atlas does, so a broken
/// directory is what gets reported (with Atlas's checksum block), and only a valid one gets "no database URL given".
fn url_after_dir<'a>(
    target: &'a TargetArgs,
    dir: impl FnOnce() -> Result<MigrationDir, CliError>,
    format: Format,
    invoked_as: &str,
) -> Result<&'a str, CliError> {
    target.url().or_else(|missing| {
        strata_migrate::sum::validate(&dir()?)
            .map_err(|e| engine_error(EngineError::Sum(e), format, invoked_as))?;
        Err(missing)
    })
}

/// [`url_after_dir`], parsed: the URL is parsed here, at the edge, and travels typed. A URL that does not parse is
/// reported after the directory's own errors, like any failure to reach the database.
fn db_url_after_dir(
    target: &TargetArgs,
    dir: impl Fn() -> Result<MigrationDir, CliError>,
    format: Format,
    invoked_as: &str,
) -> Result<DbUrl, CliError> {
    let text = url_after_dir(target, &dir, format, invoked_as)?;
    text.parse::<DbUrl>().or_else(|e| {
        strata_migrate::sum::validate(&dir()?)
            .map_err(|e| engine_error(EngineError::Sum(e), format, invoked_as))?;
        Err(engine_error(EngineError::Driver(e), format, invoked_as))
    })
}

/// Prints Atlas's checksum block for checksum failures (text mode) before the error line.
fn engine_error(e: EngineError, format: Format, invoked_as: &str) -> CliError {
    match e {
        EngineError::Sum(s) => {
            if format == Format::Text {
                let _ = output::print_sum_block(&s, invoked_as);
            }
            CliError::Sum(s)
        }
        other => CliError::Engine(Box::new(other)),
    }
}

pub fn run(cmd: Migrate, rt: &Runtime, invoked_as: &str) -> Result<(), CliError> {
    match cmd {
        Migrate::Apply {
            amount,
            target,
            dir,
            registry,
            plan,
            to_version,
            tx_mode,
            lock_timeout,
            statement_timeout,
            ddl_lock_timeout,
            dry_run,
            format,
        } => {
            let limit = match (amount, to_version) {
                (Some(a), _) => Limit::Amount(parse_amount(&a)?),
                (None, Some(v)) => Limit::ToVersion(v),
                (None, None) => Limit::All,
            };
            let opts = ApplyOptions {
                revisions_schema: target.revisions_schema.clone(),
                baseline: plan.baseline,
                allow_dirty: plan.allow_dirty,
                exec_order: plan.exec_order,
                tx_mode,
                limit,
                lock_timeout,
                statement_timeout,
                ddl_lock_timeout,
                dry_run,
                memo_cache: strata_engine::cache::root(),
                memo_dir: crate::registry::local_dir(&dir),
                ..ApplyOptions::default()
            };
            apply(
                &dir,
                &registry,
                &target,
                &opts,
                format.format,
                rt,
                invoked_as,
            )
        }
        Migrate::Status {
            target,
            dir,
            registry,
            plan,
            format,
        } => status(
            &dir,
            &registry,
            &target,
            &plan,
            format.format,
            rt,
            invoked_as,
        ),
        Migrate::Set {
            to,
            in_flight,
            target,
            dir,
            format,
        } => {
            // Like Atlas, more than one version is a usage error before anything is read.
            if to.len() > 1 {
                return Err(PlanError::SetArgs { received: to.len() }.into());
            }
            let d = open(&dir)?;
            let url = db_url_after_dir(&target, || Ok(d.clone()), format.format, invoked_as)?;
            let opts = SetOptions {
                revisions_schema: target.revisions_schema.clone(),
                in_flight: in_flight.map(Into::into),
                ..SetOptions::default()
            };
            let report = rt
                .block_on(strata_engine::set(
                    &d,
                    &url,
                    to.first().map(String::as_str),
                    &opts,
                ))?
                .map_err(|e| engine_error(e, format.format, invoked_as))?;
            match format.format {
                Format::Text => output::out(&report.to_text()),
                Format::Json => output::out(&format!("{}\n", serde_json::json!(report))),
            }
        }
        _ => unreachable!("handled by migrate::run"),
    }
}

/// A progress bar over statements, drawn only on a terminal (and never for JSON output).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Observer for Progress {
    fn planned(&mut self, files: usize, statements: usize) {
        // Only worth drawing for runs long enough to watch.
        if statements >= 20 && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(statements as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed}] {bar:30} {pos}/{len} statements {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(format!("({files} files)"));
            self.bar = Some(bar);
        }
    }

    fn file_started(&mut self, file: &FileRef) {
        if let Some(b) = &self.bar {
            b.set_message(output::escape_controls(&file.version).into_owned());
        }
    }

    fn statement(&mut self, _text: &str) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn file_finished(&mut self, _file: &AppliedFile) {}

    fn in_flight(&mut self, file: &FileRef, statement: u64, took_effect: bool, why: &str) {
        // stderr: stdout keeps Atlas's report layout.
        let outcome = if took_effect {
            "it took effect, so it counts as applied"
        } else {
            "it runs now"
        };
        let line = format!(
            "note: an earlier run stopped while statement {statement} of {} ran; {outcome} ({why})",
            file.name
        );
        match &self.bar {
            Some(b) => b.println(line),
            None => {
                let _ = writeln!(anstream::stderr(), "{line}");
            }
        }
    }
}

fn apply(
    dir: &DirArgs,
    registry: &RegistryArgs,
    target: &TargetArgs,
    opts: &ApplyOptions,
    format: Format,
    rt: &Runtime,
    invoked_as: &str,
) -> Result<(), CliError> {
    let text = url_after_dir(
        target,
        || Ok(rt.block_on(crate::registry::open_dir(dir, registry))??.dir),
        format,
        invoked_as,
    )?;
    let rt = rt.get()?;
    let url = match text.parse::<DbUrl>() {
        Ok(url) => url,
        Err(e) => {
            // Nothing can connect. As for any failure to reach the database, the directory's errors come first,
            // and a failed run of a registry directory is reported (the target without its credentials).
            let source = rt.block_on(crate::registry::open_dir(dir, registry))?;
            strata_migrate::sum::validate(&source.dir)
                .map_err(|e| engine_error(EngineError::Sum(e), format, invoked_as))?;
            let e = EngineError::Driver(e);
            if !opts.dry_run {
                rt.block_on(source.report(text, Err(&e)));
            }
            return Err(engine_error(e, format, invoked_as));
        }
    };
    // The directory is read (from disk on a blocking thread, or from the registry) and its atlas.sum checked
    // while the session connects, takes the lock and reads the revisions (the engine's `open_session_while`:
    // the directory's error wins, an invalid directory closes the session; SQLite checks the directory first).
    let Opened {
        source,
        sum,
        session,
    } = match rt.block_on(strata_engine::apply::open_session_while(
        &url,
        opts,
        crate::registry::open_dir(dir, registry),
    )) {
        Ok(opened) => opened,
        Err(DirFailed::Load(e)) => return Err(e),
        Err(DirFailed::Sum(e)) => {
            return Err(engine_error(EngineError::Sum(e), format, invoked_as));
        }
    };
    let mut progress = Progress { bar: None };
    // A valid directory always waited for the session.
    let result = match session {
        Ok(session) => rt.block_on(strata_engine::apply::apply_on(
            session,
            &source.dir,
            &sum,
            opts,
            &mut progress,
            &Cancel::new(),
        )),
        Err(e) => Err(e),
    };
    if let Some(b) = progress.bar.take() {
        b.finish_and_clear();
    }
    if !opts.dry_run {
        rt.block_on(source.report(url.expose(), result.as_ref()));
    }
    // Atlas names the directory as it was given (`file://migrations`), not as the path it resolved to.
    let as_given = |r: &ApplyReport| ApplyReport {
        dir: dir.dir.clone(),
        ..r.clone()
    };
    match result {
        Ok(report) => match format {
            Format::Text => output::out(&report.to_text()),
            Format::Json => output::out(&format!(
                "{}\n",
                serde_json::to_string(&as_given(&report)).unwrap_or_default()
            )),
        },
        Err(e) => {
            if let Some(report) = e.report().map(as_given) {
                match format {
                    Format::Text => {
                        output::out(&output::name_hints(&report.to_text(), invoked_as))?
                    }
                    // Atlas keeps stdout parseable: the JSON carries the error and no Error: line follows.
                    Format::Json => {
                        let json = serde_json::to_string(&report).unwrap_or_default();
                        output::out(&format!("{}\n", output::name_hints(&json, invoked_as)))?;
                        return Err(CliError::Silent);
                    }
                }
            }
            Err(engine_error(e, format, invoked_as))
        }
    }
}

fn status(
    dir: &DirArgs,
    registry: &RegistryArgs,
    target: &TargetArgs,
    plan: &PlanArgs,
    format: Format,
    rt: &Runtime,
    invoked_as: &str,
) -> Result<(), CliError> {
    let d = rt.block_on(crate::registry::open_dir(dir, registry))??.dir;
    let url = db_url_after_dir(target, || Ok(d.clone()), format, invoked_as)?;
    let opts = StatusOptions {
        revisions_schema: target.revisions_schema.clone(),
        baseline: plan.baseline.clone(),
        allow_dirty: plan.allow_dirty,
        exec_order: plan.exec_order,
        ..StatusOptions::default()
    };
    let mut report = rt
        .block_on(strata_engine::status(&d, &url, &opts))?
        .map_err(|e| engine_error(e, format, invoked_as))?;
    match format {
        Format::Text => output::out(&report.to_text()),
        Format::Json => {
            // As for apply: the directory as given.
            report.env.dir = dir.dir.clone();
            output::out(&format!("{}\n", report.to_json()))
        }
    }
}
