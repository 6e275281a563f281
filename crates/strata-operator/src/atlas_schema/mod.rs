//! `AtlasSchema` (`db.atlasgo.io/v1alpha1`): a declarative desired schema applied to a database in-process
//! through [`strata_engine::schema`], compatible with the Atlas Operator's manifests and status.
//!
//! - [`crd`]: the resource types and the generated `CustomResourceDefinition`;
//! - [`resolve`]: target URL (shared with `AtlasMigration`), desired state, dev database and `observed_hash`;
//! - [`reconcile`]: one reconcile as a plain function (no API calls), tested against real databases;
//! - [`devdb`]: the dev-database Deployment, the last resort for a dev database.

pub mod crd;
pub mod devdb;
pub mod reconcile;
pub mod resolve;

pub use crd::{AtlasSchema, AtlasSchemaSpec, AtlasSchemaStatus};
pub use reconcile::{SchemaOutcome, reconcile_schema};
