//! Which rules run and how much their findings count: per analyzer (`destructive { error = true }` in atlas.hcl's
//! `lint {}` block) and per rule (`error` / `warning` / `off`), plus the naming patterns.

use std::collections::BTreeMap;

use regex::Regex;

use crate::rule::{Analyzer, Level, Rule};
use crate::rules;

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No rule or analyzer has that code or name.
    #[error(
        "unknown lint rule {0:?}: use a code such as DS102 or PG101, or a name such as require-lock-timeout"
    )]
    UnknownRule(String),
    /// No analyzer has that name.
    #[error(
        "unknown lint analyzer {0:?}: known analyzers are destructive, data_depend, incompatible, condrop, inline_ref, concurrent_index, table_lock, rewrite, timeouts, risky, types, naming and syntax"
    )]
    UnknownAnalyzer(String),
    /// A naming pattern is not a valid regular expression.
    #[error("naming pattern for {what} {pattern:?} is not a valid regular expression: {message}")]
    Pattern {
        /// Which object kind the pattern is for.
        what: &'static str,
        /// The pattern.
        pattern: String,
        /// The regex crate's message.
        message: String,
    },
}

/// An analyzer's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnalyzerConfig {
    /// `error = true|false`: its findings fail the run (or not); `None` keeps each rule's default.
    pub error: Option<bool>,
    /// The analyzer is switched off.
    pub off: bool,
}

/// The object kinds naming patterns apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    /// Schemas.
    Schema,
    /// Tables.
    Table,
    /// Columns.
    Column,
    /// Indexes.
    Index,
    /// Foreign keys.
    ForeignKey,
    /// Check constraints.
    Check,
}

impl NameKind {
    /// Every kind, in the order of their rules (NM101–NM106).
    pub const ALL: [NameKind; 6] = [
        NameKind::Schema,
        NameKind::Table,
        NameKind::Column,
        NameKind::Index,
        NameKind::ForeignKey,
        NameKind::Check,
    ];

    /// Atlas's name of the kind: the block inside atlas.hcl's `naming { … }` and `--naming KIND=PATTERN`.
    pub fn name(self) -> &'static str {
        match self {
            NameKind::Schema => "schema",
            NameKind::Table => "table",
            NameKind::Column => "column",
            NameKind::Index => "index",
            NameKind::ForeignKey => "foreign_key",
            NameKind::Check => "check",
        }
    }

    /// The kind Atlas calls `name`.
    pub fn from_name(name: &str) -> Option<NameKind> {
        NameKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The word used in messages.
    pub fn word(self) -> &'static str {
        match self {
            NameKind::Schema => "schema",
            NameKind::Table => "table",
            NameKind::Column => "column",
            NameKind::Index => "index",
            NameKind::ForeignKey => "foreign key",
            NameKind::Check => "check",
        }
    }
}

/// A compiled naming pattern and the message that explains it.
#[derive(Debug, Clone)]
pub struct NamePattern {
    /// The regular expression a name must match (anchor it yourself: `^[a-z_]+$`).
    pub pattern: Regex,
    /// Shown with a violation, e.g. "must be lower snake case"; the pattern itself when absent.
    pub message: Option<String>,
}

/// Lint settings.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Per analyzer.
    pub analyzers: BTreeMap<Analyzer, AnalyzerConfig>,
    /// Per rule, by code; wins over the analyzer's setting.
    pub rules: BTreeMap<&'static str, Level>,
    /// Naming patterns; a kind without one is not checked. The naming rules are off until a pattern is given.
    pub naming: BTreeMap<NameKind, NamePattern>,
}

impl Config {
    /// Atlas's community analyzers alone (destructive, data_depend, incompatible, condrop and MySQL's inline
    /// references): a `migrate lint` report with the same diagnostics as Atlas's. The default runs every rule.
    pub fn atlas_compatible() -> Config {
        let mut c = Config::default();
        for a in Analyzer::ALL {
            if !a.is_atlas_community() {
                c.analyzers.entry(a).or_default().off = true;
            }
        }
        c
    }

    /// Sets the level of the rule whose code or name is `rule`.
    pub fn set_rule(&mut self, rule: &str, level: Level) -> Result<(), ConfigError> {
        let r = rules::find(rule).ok_or_else(|| ConfigError::UnknownRule(rule.to_owned()))?;
        self.rules.insert(r.code, level);
        Ok(())
    }

    /// Sets an analyzer's `error` flag (atlas.hcl `destructive { error = true }`).
    pub fn set_analyzer_error(&mut self, analyzer: &str, error: bool) -> Result<(), ConfigError> {
        let a = Analyzer::from_name(analyzer)
            .ok_or_else(|| ConfigError::UnknownAnalyzer(analyzer.to_owned()))?;
        self.analyzers.entry(a).or_default().error = Some(error);
        Ok(())
    }

    /// Switches an analyzer off.
    pub fn set_analyzer_off(&mut self, analyzer: &str) -> Result<(), ConfigError> {
        let a = Analyzer::from_name(analyzer)
            .ok_or_else(|| ConfigError::UnknownAnalyzer(analyzer.to_owned()))?;
        self.analyzers.entry(a).or_default().off = true;
        Ok(())
    }

    /// Requires names of `kind` to match `pattern`; switches the kind's naming rule on.
    pub fn set_naming(
        &mut self,
        kind: NameKind,
        pattern: &str,
        message: Option<String>,
    ) -> Result<(), ConfigError> {
        let re = Regex::new(pattern).map_err(|e| ConfigError::Pattern {
            what: kind.word(),
            pattern: pattern.to_owned(),
            message: e.to_string(),
        })?;
        self.naming.insert(
            kind,
            NamePattern {
                pattern: re,
                message,
            },
        );
        Ok(())
    }

    /// The level `rule` runs at.
    pub fn level(&self, rule: &Rule) -> Level {
        if let Some(l) = self.rules.get(rule.code) {
            return *l;
        }
        let a = self
            .analyzers
            .get(&rule.analyzer)
            .copied()
            .unwrap_or_default();
        if a.off {
            return Level::Off;
        }
        if rule.analyzer == Analyzer::Naming {
            // Off until configured: a naming rule runs when its kind has a pattern.
            return if self.naming.contains_key(&rules::naming_kind(rule)) {
                if a.error == Some(true) {
                    Level::Error
                } else {
                    Level::Warning
                }
            } else {
                Level::Off
            };
        }
        match (rule.default_level, a.error) {
            (Level::Off, _) => Level::Off,
            (_, Some(true)) => Level::Error,
            (_, Some(false)) => Level::Warning,
            (l, None) => l,
        }
    }
}
