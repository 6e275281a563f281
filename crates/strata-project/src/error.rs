//! Typed errors. Texts that Atlas has are Atlas's (`cmdapi/project.go`, `schemahcl`); everything that comes from
//! the file names it as `file:line`.

use std::fmt;

/// A place in the project file: `atlas.hcl:12`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    /// The file as the user named it (`atlas.hcl`, `config/atlas.hcl`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Everything loading a project file can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// `--config atlas.hcl` without `file://`.
    #[error("missing scheme for config file. Did you mean file://{0}?")]
    MissingScheme(String),
    /// `--config s3://…`.
    #[error("unsupported config file driver {0:?}")]
    UnsupportedDriver(String),
    /// The file named by `--config` does not exist.
    #[error("config file {path:?} was not found: {reason}")]
    NotFound {
        /// The path as given.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The file exists but cannot be read.
    #[error("reading config file {path:?}: {reason}")]
    Read {
        /// The path as given.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The file is not HCL.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// `--env x` names no env block.
    #[error("env {0:?} not defined in config file")]
    EnvNotDefined(String),
    /// An unlabeled `env { }` block without `name`.
    #[error("all envs must have names on file {0:?}")]
    UnnamedEnv(String),
    /// A `variable` without a default and no `--var`.
    #[error("missing value for required variable {0:?}")]
    MissingVariable(String),
    /// `--var x`.
    #[error("variables must be format as key=value, got: {0:?}")]
    VarFormat(String),
    /// A command that works on one database got an env with `for_each`.
    #[error("multi-environment {0:?} is not supported")]
    MultiEnvironment(String),
    /// `env://…` in a flag without `--env`.
    #[error("cannot use env:// variables without selecting an environment")]
    EnvRefWithoutEnv,
    /// `env://x` where the env has no such attribute.
    #[error("env://{attr} (attribute) not found in env.{env}")]
    EnvRefNotFound {
        /// The attribute asked for.
        attr: String,
        /// The selected env.
        env: String,
    },
    /// Anything wrong in the file itself (unknown blocks and attributes, types, evaluation, data sources).
    #[error("{at}: {message}")]
    At {
        /// Where.
        at: Pos,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ProjectError {
    pub(crate) fn at(at: Pos, message: impl Into<String>) -> Self {
        ProjectError::At {
            at,
            message: message.into(),
        }
    }
}
