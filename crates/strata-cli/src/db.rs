//! `migrate apply / status / set`: thin wrappers over `strata-engine`.

use std::io::IsTerminal as _;

use strata_engine::report::{AppliedFile, FileRef};
use strata_engine::{
    ApplyOptions, Cancel, EngineError, Limit, Observer, SetOptions, StatusOptions,
};
use strata_migrate::MigrationDir;
use strata_migrate::plan::parse_amount;

use crate::cli::{DirArgs, Format, Migrate, PlanArgs, TargetArgs};
use crate::output::{self, CliError};

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            context: "starting the async runtime".into(),
            source,
        })
}

fn open(dir: &DirArgs) -> Result<MigrationDir, CliError> {
    let path = strata_migrate::dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref())?;
    Ok(MigrationDir::open(path)?)
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

pub fn run(cmd: Migrate, invoked_as: &str) -> Result<(), CliError> {
    match cmd {
        Migrate::Apply {
            amount,
            target,
            dir,
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
                (Some(a), _) => {
                    Limit::Amount(parse_amount(&a).map_err(|e| CliError::Message(e.to_string()))?)
                }
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
                ..ApplyOptions::default()
            };
            apply(&dir, &target, &opts, format.format, invoked_as)
        }
        Migrate::Status {
            target,
            dir,
            plan,
            format,
        } => status(&dir, &target, &plan, format.format, invoked_as),
        Migrate::Set {
            version,
            target,
            dir,
            format,
        } => {
            let d = open(&dir)?;
            let opts = SetOptions {
                revisions_schema: target.revisions_schema.clone(),
                ..SetOptions::default()
            };
            let report = runtime()?
                .block_on(strata_engine::set(
                    &d,
                    &target.url,
                    version.as_deref(),
                    &opts,
                ))
                .map_err(|e| engine_error(e, format.format, invoked_as))?;
            match format.format {
                Format::Text => output::out(&report.text),
                Format::Json => output::out(&format!(
                    "{}\n",
                    serde_json::json!({ "Target": report.target, "Set": report.set, "Removed": report.removed })
                )),
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
            b.set_message(file.version.clone());
        }
    }

    fn statement(&mut self, _text: &str) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn file_finished(&mut self, _file: &AppliedFile) {}
}

fn apply(
    dir: &DirArgs,
    target: &TargetArgs,
    opts: &ApplyOptions,
    format: Format,
    invoked_as: &str,
) -> Result<(), CliError> {
    let rt = runtime()?;
    // The directory is read and its atlas.sum checked on a blocking thread while the session opens (each takes a
    // few milliseconds). Errors keep their order: the directory's, then atlas.sum's, then the connection's; an
    // invalid directory is reported as soon as it is known, abandoning the connection attempt.
    let dir_args = DirArgs {
        dir: dir.dir.clone(),
        dir_format: dir.dir_format.clone(),
    };
    let loading = rt.spawn_blocking(move || -> Result<_, CliError> {
        let d = open(&dir_args)?;
        let sum = strata_migrate::sum::validate(&d);
        Ok((d, sum))
    });
    let (loaded, conn) = rt.block_on(async {
        let mut loading = loading;
        let connecting = strata_engine::apply::connect(&target.url, opts);
        tokio::pin!(connecting);
        tokio::select! {
            loaded = &mut loading => match loaded {
                Ok(Ok((d, Ok(sum)))) => (Ok(Ok((d, Ok(sum)))), Some(connecting.await)),
                other => (other, None),
            },
            conn = &mut connecting => (loading.await, Some(conn)),
        }
    });
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    };
    let (d, sum) = match loaded.and_then(|(d, sum)| {
        sum.map(|sum| (d, sum))
            .map_err(|e| engine_error(EngineError::Sum(e), format, invoked_as))
    }) {
        Ok(v) => v,
        Err(e) => {
            if let Some(Ok(c)) = conn {
                let _ = rt.block_on(c.close());
            }
            return Err(e);
        }
    };
    let conn = conn
        .expect("the session was awaited for a valid directory")
        .map_err(|e| engine_error(e, format, invoked_as))?;
    let mut progress = Progress { bar: None };
    if format == Format::Text {
        // Progress only; the bar stays off when stderr is not a terminal.
    }
    let result = rt.block_on(strata_engine::apply::apply_on(
        conn,
        &d,
        &sum,
        opts,
        &mut progress,
        &Cancel::new(),
    ));
    if let Some(b) = progress.bar.take() {
        b.finish_and_clear();
    }
    match result {
        Ok(report) => match format {
            Format::Text => output::out(&report.to_text()),
            Format::Json => output::out(&format!(
                "{}\n",
                serde_json::to_string(&report).unwrap_or_default()
            )),
        },
        Err(e) => {
            if let Some(report) = e.report() {
                match format {
                    Format::Text => output::out(&report.to_text())?,
                    // Atlas keeps stdout parseable: the JSON carries the error and no Error: line follows.
                    Format::Json => {
                        output::out(&format!(
                            "{}\n",
                            serde_json::to_string(report).unwrap_or_default()
                        ))?;
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
    target: &TargetArgs,
    plan: &PlanArgs,
    format: Format,
    invoked_as: &str,
) -> Result<(), CliError> {
    let d = open(dir)?;
    let opts = StatusOptions {
        revisions_schema: target.revisions_schema.clone(),
        baseline: plan.baseline.clone(),
        allow_dirty: plan.allow_dirty,
        exec_order: plan.exec_order,
        ..StatusOptions::default()
    };
    let report = runtime()?
        .block_on(strata_engine::status(&d, &target.url, &opts))
        .map_err(|e| engine_error(e, format, invoked_as))?;
    match format {
        Format::Text => output::out(&report.text),
        Format::Json => output::out(&format!("{}\n", report.json)),
    }
}
