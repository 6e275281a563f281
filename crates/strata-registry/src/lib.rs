//! The Strata registry: a self-hosted store of tagged, Atlas-compatible migration directories with deployment
//! history.
//!
//! - [`model`]: projects → directories → versions (content-addressed by the `atlas.sum` header) → tags, and
//!   deployments (the wire types come from `strata-registry-client`, re-exported);
//! - [`upload`]: the push formats (JSON body or tar archive), parsed defensively, and push validation;
//! - [`store`]: the [`Store`] trait with its SQLite and PostgreSQL backends;
//! - [`auth`]: per-project tokens with scopes, stored as SHA-256 hashes and compared in constant time;
//! - [`server`]: the axum application (REST API, OpenAPI document, web UI, metrics);
//! - [`view`]: what the web UI's pages compute, pure: SQL highlighting, version diffs, lint rows, ER diagrams;
//!
//! The HTTP client the CLI and the operator use to push, fetch and report is the `strata-registry-client` crate,
//! which links neither this server nor its store.
#![warn(missing_docs)]

pub mod auth;
mod error;
pub mod model;
pub mod server;
pub mod store;
pub mod upload;
pub mod view;

pub use error::RegistryError;
pub use model::{Ref, Scope, Scopes};
pub use store::{Store, open as open_store};
