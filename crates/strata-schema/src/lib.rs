//! The schema model of Strata's authoring half, with no I/O: a [`Realm`] of [`Schema`]s holding tables, views,
//! enums, sequences, functions and triggers, for PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! - [`model`]: the types; [`types`]: column types ([`ColumnType`]: canonical spelling + parsed [`TypeKind`]);
//! - [`diff()`]: two realms into typed [`Changes`], under the per-dialect rules of [`normalize`];
//! - [`plan::plan`]: changes into ordered statements with comments, reverses and what they destroy (SQLite and PostgreSQL so far).
//!
//! Inspection (in `strata-driver`) builds a [`Realm`]; so will the desired-state sources.
//!
//! # JSON shape
//!
//! The model serialises with serde to a stable JSON document (field order as below; optional fields, `false`
//! flags and empty lists are left out; lists ordered as the database orders them: columns by position, every
//! other list by name):
//!
//! ```json
//! {
//!   "dialect": "postgres" | "mysql" | "sqlite",
//!   "schemas": [{
//!     "name": "public", "comment"?, "charset"?, "collation"?,
//!     "tables": [{
//!       "name": "users",
//!       "columns": [{
//!         "name": "id",
//!         "type": { "raw": "bigint", "kind": { "type": "integer", "bits": 64, "unsigned": false } },
//!         "nullable": false, "default"?: "0", "identity"?: { "always": true, "start": 1, "increment": 1 },
//!         "auto_increment"?: true, "generated"?: { "expr": "a + 1", "stored": true },
//!         "collation"?, "charset"?, "on_update"?, "comment"?
//!       }],
//!       "primary_key"?: { "name"?: "users_pkey", "parts": [{ "column": "id" }] },
//!       "indexes"?: [{ "name": "i", "unique"?: true,
//!                      "parts": [{ "column": "a" | "expr": "lower(a)", "desc"?, "collation"?, "opclass"?, "prefix"? }],
//!                      "method"?: "gin", "predicate"?: "a > 0", "include"?: ["b"], "nulls_not_distinct"?,
//!                      "constraint"?: true, "comment"? }],
//!       "foreign_keys"?: [{ "name": "fk", "columns": ["a"], "ref_schema": "public", "ref_table": "t",
//!                           "ref_columns": ["id"], "on_update"?: "CASCADE", "on_delete"?: "SET_NULL",
//!                           "deferrable"?, "initially_deferred"? }],
//!       "checks"?: [{ "name"?: "c", "expr": "a > 0", "no_inherit"?, "enforced"?: false }],
//!       "comment"?,
//!       "options"?: { "engine"?, "charset"?, "collation"?, "auto_increment"?, "strict"?, "without_rowid"? }
//!     }],
//!     "views"?: [{ "name", "definition", "check_option"?: "LOCAL" | "CASCADED", "comment"? }],
//!     "materialized_views"?: [ same as views ],
//!     "enums"?: [{ "name", "values": ["a", "b"] }],
//!     "sequences"?: [{ "name", "data_type"?, "start", "increment", "min_value", "max_value", "cache",
//!                      "cycle"?, "owned_by"?: "table.column" }],
//!     "functions"?: [{ "name", "kind": "function" | "procedure", "args": "a integer", "definition" }],
//!     "triggers"?: [{ "name", "table", "definition" }]
//!   }],
//!   "extensions"?: [{ "name", "schema", "version" }]
//! }
//! ```
//!
//! `kind.type` is one of `integer {bits, unsigned}`, `decimal {precision?, scale?}`, `float {bits}`,
//! `string {variant: varchar|char|text, length?}`, `binary {fixed, length?}`, `bool`,
//! `time {variant: date|time|time_tz|timestamp|timestamp_tz|datetime|year|interval, precision?}`,
//! `json {binary}`, `uuid`, `enum {values}`, `set {values}`, `array {elem}`, `user_defined {name}`, `other`.
//! Foreign-key actions are `NO_ACTION` (the default, left out), `RESTRICT`, `CASCADE`, `SET_NULL`, `SET_DEFAULT`.
//!
//! Names are compared as stored (PostgreSQL and MySQL are case-sensitive here; SQLite's ASCII case-insensitive
//! names are compared case-insensitively by the diff).
#![warn(missing_docs)]

pub mod atlas_json;
pub mod diff;
pub mod model;
pub mod normalize;
pub mod plan;
pub mod types;

pub use diff::{Change, ChangeKind, Changes, DiffError, DiffOptions, SkipKind, TableChange, diff};
pub use model::{
    Check, CheckOption, Column, Enum, Extension, FkAction, ForeignKey, Function, Generated,
    Identity, Index, IndexPart, PartKey, PrimaryKey, Realm, RoutineKind, Schema, Sequence, Table,
    TableOptions, Trigger, View,
};
pub use plan::{ConcurrentIndex, Loss, Plan, PlanError, PlanOptions, Statement};
pub use strata_migrate::Dialect;
pub use types::{ColumnType, StringVariant, TimeVariant, TypeKind};

#[cfg(test)]
mod json_tests;
