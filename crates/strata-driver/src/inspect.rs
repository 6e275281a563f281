//! Schema inspection: one implementation per dialect (`<dialect>/inspect/`), all behind [`Inspect`].
//!
//! A separate trait rather than a [`crate::Driver`] method, so a dialect gains inspection without touching the
//! migration driver; the concrete drivers implement both: SQLite, PostgreSQL and MySQL/MariaDB.

use async_trait::async_trait;
use strata_schema::Realm;

use crate::error::DriverError;

/// What to inspect.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct InspectOptions {
    /// Schemas to inspect (`--schema`, repeatable); empty: every schema the connection sees (SQLite: `main`).
    pub schemas: Vec<String>,
    /// `--exclude` globs, relative to the schema (see `strata_schema::diff::exclude`).
    pub exclude: Vec<String>,
    /// Keep the revisions table `atlas_schema_revisions` (left out by default).
    pub include_revisions_table: bool,
}

impl InspectOptions {
    /// Sets [`InspectOptions::schemas`].
    pub fn schemas(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.schemas = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`InspectOptions::exclude`].
    pub fn exclude(mut self, globs: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exclude = globs.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`InspectOptions::include_revisions_table`].
    pub fn include_revisions_table(mut self, yes: bool) -> Self {
        self.include_revisions_table = yes;
        self
    }
}

/// Reads a database's schema into the model, in batched catalog queries (one per object kind, never one per
/// table).
#[async_trait]
pub trait Inspect {
    /// The schema as the model sees it.
    async fn inspect(&mut self, opts: &InspectOptions) -> Result<Realm, DriverError>;
}
