//! How results and errors reach people: `Error: …` on stderr with exit status 1, the Atlas checksum block on
//! stdout, colour only on a terminal and never with `NO_COLOR` (anstream strips styles otherwise). Text from
//! migration files, databases and directories never reaches a terminal raw: control characters are escaped
//! ([`escape_controls`]) in everything written here.

use std::borrow::Cow;
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
    /// `migrate new` could not create the file or re-hash the directory.
    #[error(transparent)]
    New(#[from] strata_migrate::new::NewError),
    /// `migrate diff --format` is not the indentation template.
    #[error(transparent)]
    DiffFormat(#[from] strata_migrate::diff_format::FormatError),
    /// A plan refusal decided before anything is read (bad `[amount]`, more than one `set` version).
    #[error(transparent)]
    Plan(#[from] strata_engine::PlanError),
    /// The registry's database or server failed (`registry serve`, `registry token`, `registry project`).
    #[error(transparent)]
    Registry(#[from] strata_registry::RegistryError),
    /// The registry client failed or the registry refused (`migrate push`, `--dir strata://…`), or a name is
    /// malformed.
    #[error(transparent)]
    Client(#[from] strata_registry_client::ClientError),
    /// A database command without `--url` (checked after the directory, as Atlas does).
    #[error("no database URL given: pass --url URL or set STRATA_URL")]
    NoUrl,
    /// The project file (`--config`, `--env`, `--var`) could not be used.
    #[error(transparent)]
    Project(#[from] strata_project::ProjectError),
    /// An env value that does not fit its flag (`format`, `lock_timeout`).
    #[error("the env's value does not fit: {0}")]
    EnvValue(String),
    /// `--env` on a command that takes nothing from a project file.
    #[error(
        "--env applies to migrate and schema commands only; this command takes nothing from a project file"
    )]
    EnvNotApplicable,
    /// `migrate diff` / `migrate lint` without a dev database (Atlas's text).
    #[error("required flag(s) \"dev-url\" not set")]
    NoDevUrl,
    /// `migrate diff` with neither `--to` nor an env `src` (Atlas's text).
    #[error("required flag(s) \"to\" not set")]
    NoTo,
    /// `schema apply` with neither `--to` nor an env `src`.
    #[error("no desired state given: pass --to SOURCE, or select an env (--env) that sets src")]
    NoDesiredState,
    /// Several env `src` entries where one is not SQL.
    #[error(
        "several src entries are combined only when each is SQL (file://x.sql or data.external_schema): {0:?} is not"
    )]
    SeveralSources(String),
    /// A registry directory or `migrate push` without `--registry`.
    #[error("no registry given: pass --registry URL or set STRATA_REGISTRY")]
    NoRegistry,
    /// `migrate new --edit`: the editor failed; the file stays and `atlas.sum` was not updated.
    #[error(
        "the editor {program:?} exited with {status}; the file {} was kept and atlas.sum was not updated — run 'strata migrate hash' when done",
        .file.display()
    )]
    Editor {
        program: String,
        status: std::process::ExitStatus,
        file: std::path::PathBuf,
    },
    /// `registry token revoke` of a token that is not active.
    #[error(
        "project {project:?} has no active token {id:?}; see 'strata registry token list --project {project}'"
    )]
    NoSuchToken { project: String, id: String },
    /// `migrate push --git-tag` outside a git repository with a commit.
    #[error("--git-tag: {} is not inside a git repository with a commit: {stderr}", .path.display())]
    GitTag {
        path: std::path::PathBuf,
        stderr: String,
    },
    /// `migrate push --lint-report FILE`: the file is not a lint report.
    #[error(
        "--lint-report {}: {reason}; pass the output of 'strata migrate lint --format json' (a JSON object with \"Files\")",
        .path.display()
    )]
    LintReportFile {
        path: std::path::PathBuf,
        reason: String,
    },
    /// The thread reading the migration directory stopped without an answer.
    #[error("reading the migration directory failed")]
    DirReader,
    /// `operator run`: a flag that does not work (a listen address that does not parse, an unusable `--registry`).
    #[error(transparent)]
    OperatorStart(#[from] strata_operator::cli::Error),
    /// The operator stopped with an error.
    #[error("operator: {0}")]
    Operator(Box<dyn std::error::Error + Send + Sync>),
    /// A `schema …` command failed.
    #[error(transparent)]
    Schema(Box<crate::schema::SchemaCliError>),
    /// `strata lint` was given a rule or analyzer it does not know.
    #[error(transparent)]
    Lint(Box<crate::lint::LintArgError>),
    /// `migrate lint` could not pick its files (range flags, git).
    #[error(transparent)]
    MigrateLint(Box<crate::migrate_lint::PickError>),
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

/// `text` with its control characters escaped, so that statements, file names and database messages cannot drive
/// the terminal they are printed on (`\x1b]0;…\x07` retitles a window, `\x1b[2J` clears it, a lone `\r` or a
/// backspace overwrites what was printed). Line feeds, tabs and `\r\n` line ends stay; every other control
/// character (C0, DEL, C1) becomes a `\u001b`-style escape. Those are JSON's own escapes and serde_json never
/// writes a raw C0 character, so JSON output keeps its meaning exactly.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut copied = 0;
    for (i, c) in text.char_indices() {
        let line_end = matches!(c, '\n' | '\t') || (c == '\r' && text[i + 1..].starts_with('\n'));
        if !c.is_control() || line_end {
            continue;
        }
        out.push_str(&text[copied..i]);
        let _ = write!(out, "\\u{:04x}", u32::from(c));
        copied = i + c.len_utf8();
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
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

/// Writes to stdout, control characters escaped ([`escape_controls`]); a closed pipe (`strata … | head`) is not an
/// error.
pub fn out(text: &str) -> Result<(), CliError> {
    let text = escape_controls(text);
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
        s.push_str(&format!(
            "\n\tL{}: {} was {}\n",
            m.line,
            m.shown_file(),
            m.change
        ));
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
    let message = e.to_string();
    let _ = writeln!(
        stderr,
        "\x1b[1;31mError:\x1b[0m {}",
        escape_controls(&name_hints(&message, invoked_as))
    );
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_layout_kept() {
        assert!(matches!(
            escape_controls("plain\n\ttext é\r\n"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("SELECT '\x1b]0;PWNED\x07\x1b[2J';"),
            "SELECT '\\u001b]0;PWNED\\u0007\\u001b[2J';"
        );
        assert_eq!(escape_controls("a\rb\x08c\x00"), "a\\u000db\\u0008c\\u0000");
        assert_eq!(escape_controls("\r"), "\\u000d");
        assert_eq!(escape_controls("\x7f\u{9b}2J"), "\\u007f\\u009b2J");
    }

    #[test]
    fn typed_errors_keep_their_texts_and_name_the_program_as_invoked() {
        let editor = CliError::Editor {
            program: "vi".into(),
            status: std::process::Command::new("false").status().unwrap(),
            file: "m/1_a.sql".into(),
        };
        assert_eq!(
            name_hints(&editor.to_string(), "atlas"),
            "the editor \"vi\" exited with exit status: 1; the file m/1_a.sql was kept and atlas.sum was not \
             updated — run 'atlas migrate hash' when done"
        );
        assert_eq!(
            CliError::NoUrl.to_string(),
            "no database URL given: pass --url URL or set STRATA_URL"
        );
        assert_eq!(
            CliError::NoSuchToken {
                project: "app".into(),
                id: "t1".into()
            }
            .to_string(),
            "project \"app\" has no active token \"t1\"; see 'strata registry token list --project app'"
        );
    }

    #[test]
    fn json_keeps_its_meaning() {
        let value = serde_json::json!({ "SQL": "SELECT '\x1b[2J\u{9b}\x7f\r\n\t';", "Name": "é" });
        let text = format!("{value}\n");
        let escaped = escape_controls(&text);
        assert!(!escaped.contains(['\u{9b}', '\x7f']), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, value);
    }
}
