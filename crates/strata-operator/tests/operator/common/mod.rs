//! The operator tests' shared harness, one copy for every test module:
//!
//! - [`objects`]: `AtlasMigration` builders and migration files with a correct `atlas.sum`;
//! - [`harness`]: `reconcile` run against in-memory Secrets / ConfigMaps and real databases, as the controller
//!   would (the written status fed back into the object), and the checks on its outcome;
//! - [`api`]: a scripted Kubernetes API server (the controller-rs `tower_test` pattern) for the controller;
//! - [`registry`]: a real Strata registry in-process, and a log collector.

pub mod api;
pub mod harness;
pub mod objects;
pub mod registry;
