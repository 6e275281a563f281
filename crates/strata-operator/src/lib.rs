//! The Strata Kubernetes operator: reconciles `AtlasMigration` resources (`db.atlasgo.io/v1alpha1`, compatible
//! with the Atlas Operator's manifests and status) by applying migration directories in-process through
//! `strata_engine`.
//!
//! - [`crd`]: the resource types and the generated `CustomResourceDefinition`.

pub mod crd;

pub use crd::{AtlasMigration, AtlasMigrationSpec, AtlasMigrationStatus, crd, crd_yaml};
