//! The client side of the Strata registry: what the CLI and the operator need to push, fetch and report, without
//! the server (no axum, no store).
//!
//! - [`model`]: the registry's wire types (projects, versions, tags, deployments, tokens, uploads and listings),
//!   the name rules both sides check, and [`Ref`]; the server serves these very types;
//! - [`DirUrl`] and [`parse_name`]: `strata://PROJECT[/DIR]?tag=T` and `PROJECT[/DIR]`;
//! - [`Client`]: the HTTP client of one registry;
//! - [`deployment`](mod@deployment): `deployment()`, the one mapping from an apply result to the deployment record
//!   the CLI and the operator report (feature `engine`, on by default), with [`target_of`] and
//!   [`failed_deployment`].
//!
//! Features: `engine` (default) links `strata-engine` for `deployment()`; the server turns it off, as it only
//! receives deployments. `openapi` derives the utoipa schemas of the wire types for the server's OpenAPI document.
#![warn(missing_docs)]

pub mod client;
pub mod deployment;
pub mod dir_url;
mod error;
pub mod model;

pub use client::{Client, Fetched, Pushed};
#[cfg(feature = "engine")]
pub use deployment::{deployment, deployment_from_report};
pub use deployment::{failed_deployment, target_of};
pub use dir_url::{DirUrl, parse_name};
pub use error::{ClientError, InvalidName, Result};
pub use model::{LATEST, Ref};
