//! `--exec-order`: what to do with files added below the applied history.

use std::fmt;
use std::str::FromStr;

use super::PlanError;

/// How files added "in the past" (a version below already-applied ones, without a revision) are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExecOrder {
    /// The default: such files are an error.
    #[default]
    Linear,
    /// Such files are skipped silently.
    LinearSkip,
    /// Such files run first, before the regular pending files.
    NonLinear,
}

impl ExecOrder {
    /// Parses the value from `atlas.hcl` (`migration { exec_order = … }`), which Atlas lower-cases and whose
    /// `_` it turns into `-` before the flag rules apply: `LINEAR_SKIP` means `linear-skip`.
    pub fn from_config(value: &str) -> Result<Self, PlanError> {
        value.to_lowercase().replace('_', "-").parse()
    }

    /// The flag spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::LinearSkip => "linear-skip",
            Self::NonLinear => "non-linear",
        }
    }
}

impl FromStr for ExecOrder {
    type Err = PlanError;

    /// Parses the `--exec-order` flag. Empty means the default, as in Atlas.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "linear" => Ok(Self::Linear),
            "linear-skip" => Ok(Self::LinearSkip),
            "non-linear" => Ok(Self::NonLinear),
            other => Err(PlanError::UnknownExecOrder {
                value: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for ExecOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
