//! The Strata Kubernetes operator: reconciles `AtlasMigration` resources (`db.atlasgo.io/v1alpha1`, compatible
//! with the Atlas Operator's manifests and status) by applying migration directories in-process through
//! [`strata_engine`].
//!
//! - [`atlas_schema`]: the `AtlasSchema` resource, its inputs and its reconcile;
//! - [`crd`]: the resource types and the generated `CustomResourceDefinition`;
//! - [`resolve`]: URL, directory, token and `observed_hash` from a spec and its Secrets/ConfigMaps;
//! - [`registry`]: remote directories fetched from, and runs reported to, the Strata registry;
//! - [`conditions`]: the status transitions;
//! - [`reconcile`]: one reconcile as a plain function (no API calls), tested against real databases;
//! - [`controller`]: the kube-rs `Controller`, status writes, watches, leader election, shutdown;
//! - [`endpoints`]: the health and metrics HTTP endpoints, served with hyper;
//! - [`drift`]: drift detection (the `Drifted` condition, its Event and metrics, the period settings, the
//!   `AtlasMigration` check);
//! - [`events`]: Kubernetes Events, one per distinct note;
//! - [`watch`]: watch streams with a short back-off that re-list at once after `410 Gone`;
//! - [`metrics`]: Prometheus metrics;
//! - [`local`]: the reconcile without a cluster, from YAML files (`reconcile -f`), for scripts and CI;
//! - [`cli`]: the command line of `strata operator` and of the `strata-operator` binary.
#![warn(missing_docs)]

pub mod atlas_schema;
pub mod cli;
pub mod conditions;
pub mod controller;
pub mod crd;
pub mod drift;
pub mod endpoints;
pub mod events;
pub mod local;
pub mod metrics;
pub mod reconcile;
pub mod registry;
pub mod resolve;
pub mod watch;

pub use crd::{AtlasMigration, AtlasMigrationSpec, AtlasMigrationStatus, crd, crd_yaml};
pub use reconcile::{DatabaseLocks, Env, Event, EventType, Outcome, Requeue, reconcile};
pub use registry::RegistryClient;
pub use resolve::{Objects, Registry, ResolveSettings, StaticObjects};
