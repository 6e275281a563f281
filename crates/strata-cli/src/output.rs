//! How results and errors reach people: `Error: …` on stderr with exit status 1, the Atlas checksum block on
//! stdout, colour only on a terminal and never with `NO_COLOR` (anstream strips styles otherwise).

use std::io::Write as _;
use std::process::ExitCode;

use strata_migrate::sum::SumError;
use strata_migrate::{DirError, ScanError};

/// Everything a command can fail with, rendered at the edge.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Dir(#[from] DirError),
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// A checksum failure whose explanation was already printed on stdout (Atlas's block).
    #[error("{}", short_sum_error(.0))]
    Sum(SumError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(Box<strata_engine::EngineError>),
    #[error("{0}")]
    Message(String),
    /// The failure was already reported on stdout (JSON output); exit 1 without an `Error:` line.
    #[error("")]
    Silent,
}

fn short_sum_error(e: &SumError) -> String {
    match e {
        // The block on stdout already names the file and line; keep Atlas's exact short line.
        SumError::Mismatch(_) => e.atlas_error().to_owned(),
        other => other.to_string(),
    }
}

/// The program name to put in hints: `atlas` when invoked under that name (a drop-in symlink), else `strata`.
pub fn invoked_as() -> String {
    let arg0 = std::env::args_os().next().unwrap_or_default();
    let stem = std::path::Path::new(&arg0)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() == Some("atlas") {
        "atlas".into()
    } else {
        "strata".into()
    }
}

/// Writes to stdout; a closed pipe (`strata … | head`) is not an error.
pub fn out(text: &str) -> Result<(), CliError> {
    let mut stdout = anstream::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Io {
            context: "writing to stdout".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Prints Atlas's checksum-error block on stdout.
pub fn print_sum_block(e: &SumError, invoked_as: &str) -> Result<(), CliError> {
    let mut s = String::from("You have a checksum error in your migration directory.\n\n");
    if let SumError::Mismatch(m) = e {
        s.push_str(&format!(
            "\tL{}: {} was {}\n",
            m.line,
            m.shown_file(),
            m.change
        ));
        if let Some(le) = &m.line_endings {
            s.push_str(&format!("\t{}\n", le.explain()));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "Please check your migration files and run '{invoked_as} migrate hash' to re-hash the contents\n\n"
    ));
    out(&s)
}

/// Prints `Error: <message>` on stderr and returns exit status 1 (0 for a closed stdout pipe).
pub fn report(e: &CliError) -> ExitCode {
    if let CliError::Io { source, .. } = e
        && source.kind() == std::io::ErrorKind::BrokenPipe
    {
        return ExitCode::SUCCESS;
    }
    if matches!(e, CliError::Silent) {
        return ExitCode::from(1);
    }
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "\x1b[1;31mError:\x1b[0m {e}");
    ExitCode::from(1)
}
