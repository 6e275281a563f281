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
        // The block on stdout already names the file and line (or that atlas.sum is missing) and how to re-hash;
        // keep Atlas's exact short line.
        SumError::Mismatch(_) | SumError::NotFound => e.atlas_error().to_owned(),
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

/// The libraries' hints name the program `strata` (`run 'strata migrate hash'`); invoked as `atlas` (a drop-in
/// symlink, where every such command works the same), they name `atlas`.
pub fn name_hints<'a>(text: &'a str, invoked_as: &str) -> std::borrow::Cow<'a, str> {
    const HINTS: [&str; 2] = ["'strata migrate ", "'strata registry "];
    if invoked_as == "strata" || !HINTS.iter().any(|h| text.contains(h)) {
        return text.into();
    }
    HINTS
        .iter()
        .fold(text.to_owned(), |t, h| {
            t.replace(h, &h.replacen("strata", invoked_as, 1))
        })
        .into()
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
    // As Atlas: the blank lines and the `L…` line only for a mismatch; a missing or unreadable sum gets the two
    // sentences alone.
    let mut s = String::from("You have a checksum error in your migration directory.\n");
    if let SumError::Mismatch(m) = e {
        s.push_str(&format!("\n\tL{}: {} was {}\n", m.line, m.file, m.change));
        if let Some(le) = &m.line_endings {
            s.push_str(&format!("\t{}\n", name_hints(&le.explain(), invoked_as)));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "Please check your migration files and run '{invoked_as} migrate hash' to re-hash the contents\n\n"
    ));
    out(&s)
}

/// Prints `Error: <message>` on stderr (hints naming the program as invoked) and returns exit status 1 (0 for a
/// closed stdout pipe).
pub fn report(e: &CliError, invoked_as: &str) -> ExitCode {
    if let CliError::Io { source, .. } = e
        && source.kind() == std::io::ErrorKind::BrokenPipe
    {
        return ExitCode::SUCCESS;
    }
    if matches!(e, CliError::Silent) {
        return ExitCode::from(1);
    }
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(
        stderr,
        "\x1b[1;31mError:\x1b[0m {}",
        name_hints(&e.to_string(), invoked_as)
    );
    ExitCode::from(1)
}
