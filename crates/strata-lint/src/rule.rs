//! What every rule declares: its code, name, analyzer, one-line summary, default level, dialects and check.

use serde::{Serialize, Serializer};
use strata_migrate::Dialect;

use crate::check::{ChangeCx, Hit, StmtCx};

/// How much a finding of a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The rule does not run.
    Off,
    /// Reported; the run still succeeds.
    Warning,
    /// Reported; the run fails (exit code 1).
    Error,
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        match s {
            "off" => Ok(Level::Off),
            "warning" | "warn" => Ok(Level::Warning),
            "error" => Ok(Level::Error),
            other => Err(format!(
                "unknown rule level {other:?}: use `error`, `warning` or `off`"
            )),
        }
    }
}

/// The severity a finding carries (a rule that is off reports nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Does not fail the run.
    Warning,
    /// Fails the run.
    Error,
}

/// The analyzer a rule belongs to: Atlas's grouping, named in reports (`-- destructive changes detected:`) and in
/// `atlas:nolint` (`-- atlas:nolint destructive`) and configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Analyzer {
    /// Atlas `destructive`: data is dropped.
    Destructive,
    /// Atlas `data_depend`: the change can fail depending on the data.
    DataDepend,
    /// Atlas `incompatible`: renames break running applications.
    Incompatible,
    /// Atlas `condrop`: a constraint is dropped.
    Condrop,
    /// Atlas's MySQL inline `REFERENCES` check.
    InlineRef,
    /// Index builds and drops that lock writes, or `CONCURRENTLY` where it cannot run.
    ConcurrentIndex,
    /// Statements that take a lock blocking reads and writes while they work.
    TableLock,
    /// Statements that rewrite or scan a whole table under a lock.
    Rewrite,
    /// Missing `lock_timeout` / `statement_timeout`.
    Timeouts,
    /// Statements that are risky to run or re-run.
    Risky,
    /// Column types that cause trouble later.
    Types,
    /// Names that break the configured patterns.
    Naming,
    /// Statements the parser could not read.
    Syntax,
}

impl Analyzer {
    /// Every analyzer, in report order.
    pub const ALL: [Analyzer; 13] = [
        Analyzer::Destructive,
        Analyzer::DataDepend,
        Analyzer::Incompatible,
        Analyzer::Condrop,
        Analyzer::InlineRef,
        Analyzer::ConcurrentIndex,
        Analyzer::TableLock,
        Analyzer::Rewrite,
        Analyzer::Timeouts,
        Analyzer::Risky,
        Analyzer::Types,
        Analyzer::Naming,
        Analyzer::Syntax,
    ];

    /// The name used in `atlas:nolint` and configuration.
    pub fn name(self) -> &'static str {
        match self {
            Analyzer::Destructive => "destructive",
            Analyzer::DataDepend => "data_depend",
            Analyzer::Incompatible => "incompatible",
            Analyzer::Condrop => "condrop",
            Analyzer::InlineRef => "inline_ref",
            Analyzer::ConcurrentIndex => "concurrent_index",
            Analyzer::TableLock => "table_lock",
            Analyzer::Rewrite => "rewrite",
            Analyzer::Timeouts => "timeouts",
            Analyzer::Risky => "risky",
            Analyzer::Types => "types",
            Analyzer::Naming => "naming",
            Analyzer::Syntax => "syntax",
        }
    }

    /// The report heading (Atlas's words for Atlas's analyzers).
    pub fn report_text(self) -> &'static str {
        match self {
            Analyzer::Destructive => "destructive changes detected",
            Analyzer::DataDepend => "data dependent changes detected",
            Analyzer::Incompatible => "backward incompatible changes detected",
            Analyzer::Condrop => "constraint deletion detected",
            Analyzer::InlineRef => "inline REFERENCES detected",
            Analyzer::ConcurrentIndex => "concurrent index violations detected",
            Analyzer::TableLock => "blocking table locks detected",
            Analyzer::Rewrite => "table rewrites and scans detected",
            Analyzer::Timeouts => "missing timeouts detected",
            Analyzer::Risky => "risky statements detected",
            Analyzer::Types => "column type issues detected",
            Analyzer::Naming => "naming violations detected",
            Analyzer::Syntax => "statements that could not be checked",
        }
    }

    /// Whether Atlas's community build has this analyzer.
    pub fn is_atlas_community(self) -> bool {
        matches!(
            self,
            Analyzer::Destructive
                | Analyzer::DataDepend
                | Analyzer::Incompatible
                | Analyzer::Condrop
                | Analyzer::InlineRef
        )
    }

    /// The analyzer named `name`.
    pub fn from_name(name: &str) -> Option<Analyzer> {
        Analyzer::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl Serialize for Analyzer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The check a rule runs.
#[derive(Clone, Copy)]
pub enum Check {
    /// Over one parsed statement, knowing what the file did before it.
    Statement(fn(&StmtCx<'_>, &mut Vec<Hit>)),
    /// Over one schema change a statement made on the dev database (`migrate lint` only).
    Change(fn(&ChangeCx<'_>, &mut Vec<Hit>)),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Check::Statement(_) => "Statement",
            Check::Change(_) => "Change",
        })
    }
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    /// The code (`DS102`, `PG101`; Atlas's where Atlas has one).
    pub code: &'static str,
    /// A kebab-case name (squawk's where the rule mirrors one of squawk's).
    pub name: &'static str,
    /// The analyzer it reports under.
    pub analyzer: Analyzer,
    /// One line saying what it finds.
    pub summary: &'static str,
    /// Its level unless configured.
    pub default_level: Level,
    /// The dialects it applies to.
    pub dialects: &'static [Dialect],
    /// What it checks.
    pub check: Check,
}

impl Rule {
    /// Whether the rule applies to `d`.
    pub fn applies_to(&self, d: Dialect) -> bool {
        self.dialects.contains(&d)
    }

    /// The documentation link: Atlas's page for Atlas's codes (community and Pro), squawk's page for the rules
    /// that mirror one of squawk's; none for a rule of Strata's own.
    pub fn url(&self) -> Option<String> {
        if let Some(squawk) = self.code.strip_prefix("ST") {
            let name = match (squawk, self.name) {
                ("100", _) => return None,
                (_, "prefer-bigint-keys") => "prefer-bigint-over-int",
                (_, n) => n,
            };
            return Some(format!("https://squawkhq.com/docs/{name}"));
        }
        Some(format!("https://atlasgo.io/lint/analyzers#{}", self.code))
    }

    /// Whether the rule reads schema changes (needs a replay on a dev database).
    pub fn needs_changes(&self) -> bool {
        matches!(self.check, Check::Change(_))
    }
}

/// All three dialects.
pub const ALL_DIALECTS: &[Dialect] = &[Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];
/// PostgreSQL only.
pub const POSTGRES: &[Dialect] = &[Dialect::Postgres];
/// MySQL / MariaDB only.
pub const MYSQL: &[Dialect] = &[Dialect::Mysql];
/// SQLite only.
pub const SQLITE: &[Dialect] = &[Dialect::Sqlite];
