//! `strata migrate lint`: picks the files (`--latest N`, or `--git-base` through `git`), has the engine replay
//! them statement by statement on the dev database ([`strata_engine::schema::lint_replay`]), lints each file with
//! its changes ([`strata_lint::lint`]) and renders the report (`crate::lint::emit`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use strata_engine::DbUrl;
use strata_engine::schema::{self, DevDatabase, ReplayCache, SchemaError};
use strata_lint::{FileError, FileReport, Header, Input, Report, SourceFile, Title};
use strata_migrate::dir::{self, MigrationDir};

use crate::cli::Migrate;
use crate::lint::{LintFormat, parse_format};
use crate::output::{self, CliError};
use crate::runtime::Runtime;

/// Why the files to lint could not be picked.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    /// Neither `--latest` nor `--git-base` (nor the env's `lint` block).
    #[error(
        "migrate lint needs the files to lint: give --latest N or --git-base BRANCH (or lint {{ latest = N }} in \
         the project's env)"
    )]
    NoRange,
    /// `--latest 0`.
    #[error("--latest must be at least 1")]
    ZeroLatest,
    /// `git` could not be run or refused.
    #[error("git {args}: {message}")]
    Git {
        /// The arguments.
        args: String,
        /// What git (or the system) said.
        message: String,
    },
    /// The migration directory is not inside the git working tree.
    #[error(
        "the migration directory {dir} is not inside the git working tree {git_dir}; give --git-dir"
    )]
    Outside {
        /// The directory.
        dir: String,
        /// The working tree.
        git_dir: String,
    },
    /// An unknown `--format`.
    #[error("--format: {0}")]
    Format(String),
}

/// Runs `git` in `dir` and returns its standard output.
fn git(dir: &Path, args: &[&str]) -> Result<String, PickError> {
    let failed = |message: String| PickError::Git {
        args: args.join(" "),
        message,
    };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| failed(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| failed(e.to_string()))
}

/// The migration files (names in `dir_path`) added on HEAD since it forked from `base` (Atlas's
/// `--diff-filter=A`: a file the branch only modified was merged before and is history).
fn git_files(git_dir: &Path, base: &str, dir_path: &Path) -> Result<Vec<String>, PickError> {
    let top = PathBuf::from(git(git_dir, &["rev-parse", "--show-toplevel"])?.trim());
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let rel = abs(dir_path)
        .strip_prefix(abs(&top))
        .map(Path::to_path_buf)
        .map_err(|_| PickError::Outside {
            dir: dir_path.display().to_string(),
            git_dir: top.display().to_string(),
        })?;
    let range = format!("{base}...HEAD");
    let spec = if rel.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        rel.display().to_string()
    };
    // Paths come relative to the top level, whatever the working directory.
    let listed = git(
        &top,
        &[
            "diff",
            "--name-only",
            "--no-renames",
            "--diff-filter=A",
            &range,
            "--",
            &spec,
        ],
    )?;
    Ok(listed
        .split('\n')
        .map(Path::new)
        .filter(|p| p.parent() == Some(rel.as_path()))
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".sql"))
        .collect())
}

/// Which files are linted: indexes into the directory's files, ascending. With `--git-base`, as Atlas does, the
/// first file the branch added and every file after it (a linear history: nothing after a new file is applied
/// anywhere yet).
fn pick(
    d: &MigrationDir,
    path: &Path,
    latest: Option<u64>,
    git_base: Option<&str>,
    git_dir: Option<&str>,
) -> Result<Vec<usize>, PickError> {
    let n = d.files().len();
    match (latest, git_base) {
        (Some(0), _) => Err(PickError::ZeroLatest),
        (Some(k), _) => {
            let k = usize::try_from(k).unwrap_or(usize::MAX).min(n);
            Ok((n - k..n).collect())
        }
        (None, Some(base)) => {
            let names = git_files(Path::new(git_dir.unwrap_or(".")), base, path)?;
            let first = (0..n).find(|&i| names.iter().any(|x| x == d.files()[i].name()));
            Ok(first.map_or_else(Vec::new, |f| (f..n).collect()))
        }
        (None, None) => Err(PickError::NoRange),
    }
}

/// Runs `strata migrate lint` (flags already hold the env's defaults).
pub fn run(
    cmd: Migrate,
    env: Option<&strata_project::Env>,
    rt: &Runtime,
    invoked_as: &str,
) -> Result<(), CliError> {
    let Migrate::Lint {
        dev_url,
        dir: dargs,
        latest,
        git_base,
        git_dir,
        format,
        rules,
    } = cmd
    else {
        return Ok(());
    };
    let started = Instant::now();
    let format = match format.as_deref() {
        Some(f) => {
            parse_format(f).map_err(|e| CliError::MigrateLint(Box::new(PickError::Format(e))))?
        }
        None => LintFormat::Text,
    };
    let config = crate::lint::config(crate::project::lint_config(env)?, &rules)
        .map_err(|e| CliError::Lint(Box::new(e)))?;
    let path = dir::local_path_from_url(&dargs.dir, dargs.dir_format.as_deref())?;
    let d = MigrationDir::open(&path)?;
    if let Err(e) = strata_migrate::sum::validate(&d) {
        output::print_sum_block(&e, invoked_as)?;
        return Err(CliError::Sum(e));
    }
    let dev_url = dev_url
        .ok_or(CliError::NoDevUrl)?
        .parse::<DbUrl>()
        .map_err(SchemaError::from)?;
    let picked = pick(&d, &path, latest, git_base.as_deref(), git_dir.as_deref())
        .map_err(|e| CliError::MigrateLint(Box::new(e)))?;
    let Some(&first) = picked.first() else {
        return Ok(());
    };
    let replayed = rt.block_on(async {
        let mut dev = DevDatabase::open(&dev_url).await?;
        let r = schema::lint_replay(&mut dev, &d, first, ReplayCache::from_env()).await;
        let closed = dev.close().await;
        let r = r?;
        closed?;
        Ok::<_, SchemaError>(r)
    })?;
    let dialect = dev_url.dialect();
    // A statement that failed: the index of its file, its line and the database's message.
    let (changes, failed) = match replayed {
        Ok(r) => (r.files, None),
        Err(SchemaError::SqlFile {
            file,
            line,
            message,
        }) => {
            let name = Path::new(&file).file_name().and_then(|n| n.to_str());
            match d.files().iter().position(|f| name == Some(f.name())) {
                Some(i) => (Vec::new(), Some((i, line, message))),
                None => {
                    return Err(SchemaError::SqlFile {
                        file,
                        line,
                        message,
                    }
                    .into());
                }
            }
        }
        Err(e) => return Err(e.into()),
    };
    // The failing file is reported wherever it is — a picked file, or one before them (the replayed history) —
    // so a failed replay always names its file and line and exits 1; nothing after it is analysed.
    let mut reported = picked.clone();
    if let Some(&(i, ..)) = failed.as_ref()
        && !reported.contains(&i)
    {
        reported.push(i);
        reported.sort_unstable();
    }
    let mut files = Vec::new();
    for &i in &reported {
        let f = &d.files()[i];
        let t = Instant::now();
        let text = f.text()?.to_owned();
        let mut report = FileReport {
            name: f.name().to_owned(),
            title: Title::Version(f.version().to_owned()),
            text: text.clone(),
            findings: Vec::new(),
            error: None,
            changes: None,
            duration: Duration::ZERO,
        };
        if let Some((at, line, message)) = &failed
            && *at == i
        {
            report.error = Some(FileError {
                line: *line,
                message: format!("executing statement: {message}"),
            });
            files.push(report);
            break;
        }
        match SourceFile::parse(dialect, f.name(), &text) {
            Err(e) => {
                report.error = Some(FileError {
                    line: e.line(),
                    message: e.message(),
                })
            }
            Ok(source) => {
                let fc = changes.iter().find(|c| c.name == f.name());
                let input = Input {
                    before: fc.map(|c| &c.before),
                    changes: fc.map(|c| c.changes.as_slice()),
                };
                report.findings = strata_lint::lint(&source, &input, &config);
                report.changes = fc.map(|c| strata_lint::check::change_count(&c.changes));
            }
        }
        report.duration = t.elapsed();
        files.push(report);
    }
    let to = d.files()[picked[picked.len() - 1]].version().to_owned();
    let header = match first.checked_sub(1) {
        Some(b) => Header::Range {
            from: d.files()[b].version().to_owned(),
            to,
            count: picked.len(),
        },
        None => Header::Until {
            to,
            count: picked.len(),
        },
    };
    if matches!(format, LintFormat::Github | LintFormat::Sarif) {
        // Annotations and SARIF locations name the file from the working directory (the repository root in CI),
        // so GitHub puts them on the changed lines of the pull request.
        for f in &mut files {
            f.name = located(&path, &f.name);
        }
    }
    let report = Report {
        header,
        files,
        duration: started.elapsed(),
    };
    crate::lint::emit(&report, format)
}

/// `name` inside the directory at `dir` as given (`migrations` → `migrations/1_a.sql`, `./db/m` → `db/m/1_a.sql`).
fn located(dir: &Path, name: &str) -> String {
    let dir = dir.strip_prefix(".").unwrap_or(dir);
    dir.join(name).to_string_lossy().into_owned()
}
