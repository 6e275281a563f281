//! The errors of this crate.
//!
//! Every message names what went wrong and what to do next. No variant ever holds a password: URLs are stored
//! redacted (see [`crate::redact`]) and driver messages are scrubbed of the connection's password before they are
//! wrapped.

use std::time::Duration;

use thiserror::Error;

/// What went wrong in the driver layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The URL scheme is not one Strata knows.
    #[error(
        "unknown database URL scheme {scheme:?}: use one of postgres://, postgresql://, mysql://, mysql+unix://, \
         maria://, mariadb://, maria+unix://, mariadb+unix://, sqlite://, sqlite3://"
    )]
    UnknownScheme {
        /// The scheme as written (empty when the URL has none).
        scheme: String,
    },

    /// The URL could not be parsed or holds an invalid value.
    #[error("invalid database URL {url}: {field}: {reason}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// The part of the URL at fault (`host`, `port`, `sslmode`, `path`, …).
        field: String,
        /// What is wrong and what is accepted.
        reason: String,
    },

    /// The connection could not be established.
    #[error("connecting to {url}: {message}. {hint}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The database driver's message (scrubbed of the password).
        message: String,
        /// What to check.
        hint: String,
    },

    /// The lock is held by another session and the wait ran out.
    #[error("sql/schema: lock is held by other session: {detail}")]
    LockTimeout {
        /// The lock name, e.g. `atlas_migrate_execute`.
        name: String,
        /// How long we waited.
        waited: Duration,
        /// Who holds it (when known) and what to do.
        detail: String,
    },

    /// Releasing a lock failed.
    #[error("{message}")]
    Unlock {
        /// Atlas-compatible prefix plus explanation.
        message: String,
    },

    /// A lock file could not be used.
    #[error("sql/sqlite: lock file {path:?}: {reason}")]
    LockFile {
        /// The lock file path.
        path: String,
        /// What failed and how to fix it.
        reason: String,
    },

    /// The database rejected a statement. The message is the database's own; the executor adds file and line.
    #[error("{message}")]
    Sql {
        /// The database's message as it reported it, e.g. `relation "t" already exists`.
        message: String,
        /// The SQLSTATE, when the database reported one.
        code: Option<String>,
    },

    /// The URL is bound to a schema without a revisions table while the old default schema holds one (Atlas's
    /// safety guard). [`DriverError::help`] has Atlas's explanation.
    #[error("ambiguous revision table")]
    AmbiguousRevisionTable {
        /// The schema bound by the URL.
        bound_schema: String,
    },

    /// SQLite keeps the revisions table in `main`; another schema was asked for.
    #[error(
        "sql/sqlite: the revisions table must live in schema \"main\", got {schema:?}: remove --revisions-schema \
         (or revisions_schema in atlas.hcl) or set it to \"main\""
    )]
    SqliteRevisionsSchema {
        /// The schema asked for.
        schema: String,
    },

    /// The hidden `.atlas_cloud_identifier` row may not be written or deleted.
    #[error("{0}")]
    CloudIdentifier(&'static str),

    /// A revisions row could not be decoded.
    #[error(
        "reading revision {version:?} from the revisions table: {reason}; fix or delete that row \
         (the table was probably edited by hand)"
    )]
    BadRevision {
        /// The row's version.
        version: String,
        /// What could not be decoded.
        reason: String,
    },

    /// A column of the revisions table has a type the revisions cannot be read from.
    #[error(
        "reading the revisions table {table}: column {column:?} has type {found}, where Atlas's table has {expected}; \
         change the column back (ALTER TABLE {table} ALTER COLUMN \"{column}\" TYPE {expected}) or move the table \
         away and run `migrate set` to record the applied versions again"
    )]
    RevisionColumnType {
        /// The table, quoted and schema-qualified.
        table: String,
        /// The column.
        column: &'static str,
        /// The type the database reports (a name, or `oid N`).
        found: String,
        /// The type Atlas creates.
        expected: &'static str,
    },

    /// A feature the dialect does not have.
    #[error("{what} is not supported on {dialect}: {hint}")]
    Unsupported {
        /// The feature.
        what: String,
        /// The database flavour.
        dialect: &'static str,
        /// What to do instead.
        hint: String,
    },

    /// A transaction call that does not fit the current state (e.g. commit without begin).
    #[error("{0}")]
    Transaction(String),

    /// A foreign-key violation introduced inside a SQLite transaction (checked before commit, as Atlas does).
    #[error(
        "sql/sqlite: foreign key mismatch: {violations}; the transaction was rolled back: fix the data or the migration"
    )]
    ForeignKeyViolation {
        /// The new violations, one `table(rowid) -> parent` per entry.
        violations: String,
    },
}

impl DriverError {
    /// A longer explanation to print before the error, when there is one (Atlas prints such a block for the
    /// ambiguous revisions table).
    pub fn help(&self) -> Option<String> {
        match self {
            DriverError::AmbiguousRevisionTable { bound_schema } => Some(format!(
                "We couldn't find a revision table in the connected schema but found one in \n\
                 the schema 'atlas_schema_revisions' and cannot determine the desired behavior.\n\
                 \n\
                 As a safety guard, we require you to specify whether to use the existing\n\
                 table in 'atlas_schema_revisions' or create a new one in the connected schema\n\
                 by providing the '--revisions-schema' flag or deleting the 'atlas_schema_revisions'\n\
                 schema if it is unused.\n\
                 \n\
                 (connected schema: {bound_schema:?}; use '--revisions-schema atlas_schema_revisions' to keep the \
                 existing history)\n"
            )),
            _ => None,
        }
    }

    /// Whether this is a lock-timeout error.
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self, DriverError::LockTimeout { .. })
    }

    pub(crate) fn sql(err: sqlx::Error) -> Self {
        Self::sql_scrubbed(err, None)
    }

    /// Wraps a SQLite error as [`DriverError::sql`] does a sqlx one: the database's message, the extended result
    /// code as the code.
    pub(crate) fn sqlite(err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::SqliteFailure(e, message) => DriverError::Sql {
                message: message.unwrap_or_else(|| e.to_string()),
                code: Some(e.extended_code.to_string()),
            },
            other => DriverError::Sql {
                message: other.to_string(),
                code: None,
            },
        }
    }

    /// Wraps a driver error, keeping the database's message and removing `secret` from it.
    pub(crate) fn sql_scrubbed(err: sqlx::Error, secret: Option<&str>) -> Self {
        let (message, code) = match &err {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned());
                (db.message().to_string(), code)
            }
            other => (other.to_string(), None),
        };
        DriverError::Sql {
            message: scrub(&message, secret),
            code,
        }
    }
}

/// Replaces every occurrence of `secret` (raw and percent-encoded) in `text` by `xxxxx`.
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() => {
            let encoded =
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            text.replace(s, "xxxxx").replace(&encoded, "xxxxx")
        }
        _ => text.to_string(),
    }
}
