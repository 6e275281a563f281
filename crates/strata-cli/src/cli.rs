//! Command-line definitions.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

/// Strata: Atlas-compatible versioned migrations, a self-hosted registry and a Kubernetes operator.
#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about,
    propagate_version = true,
    max_term_width = 110
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with versioned migration directories.
    #[command(subcommand)]
    Migrate(Migrate),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion {
        /// The shell to generate completions for.
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum Migrate {
    /// Recompute atlas.sum from the migration files and write it.
    Hash {
        #[command(flatten)]
        dir: DirArgs,
        /// Deprecated no-op kept for Atlas compatibility.
        #[arg(long, hide = true)]
        force: bool,
    },
    /// Check atlas.sum against the files and that every file's directives and statements are valid.
    Validate {
        #[command(flatten)]
        dir: DirArgs,
        /// Dialect whose statement-splitting rules apply; without it a file must split under at least one.
        #[arg(long, env = "STRATA_DIALECT", value_enum)]
        dialect: Option<DialectArg>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Create a new empty migration file named <UTC timestamp>[_name].sql and update atlas.sum.
    New {
        /// Optional name appended to the timestamp.
        name: Option<String>,
        #[command(flatten)]
        dir: DirArgs,
        /// Open the new file in $EDITOR before hashing.
        #[arg(long)]
        edit: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
}

#[derive(Debug, Args)]
pub struct DirArgs {
    /// Migration directory URL, e.g. file://migrations.
    #[arg(long, env = "STRATA_DIR", default_value = "file://migrations")]
    pub dir: String,
    /// Deprecated: use ?format= on the --dir URL.
    #[arg(long, hide = true)]
    pub dir_format: Option<String>,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format: `text` or `json` (Atlas's `{{ json . }}` template is accepted as `json`).
    #[arg(long, env = "STRATA_FORMAT", default_value = "text", value_parser = parse_format)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

fn parse_format(s: &str) -> Result<Format, String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "" | "text" => Ok(Format::Text),
        "json" | "{{json.}}" => Ok(Format::Json),
        _ => Err(format!("unknown format {s:?}: use `text` or `json`")),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DialectArg {
    Postgres,
    Mysql,
    Sqlite,
}

pub fn print_completions(shell: Shell) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "strata", &mut std::io::stdout());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn atlas_json_template_is_json() {
        assert_eq!(parse_format("{{ json . }}"), Ok(Format::Json));
        assert_eq!(parse_format("json"), Ok(Format::Json));
        assert!(parse_format("yaml").is_err());
    }
}
