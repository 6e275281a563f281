//! Tests of the operator, in one test binary (one link instead of one per file). `common` is their shared harness:
//! object builders, `reconcile` against real databases, a scripted API server and an in-process registry.
//!
//! - `crd`: the CRD's schema, canonical manifests, and the committed copies against the generated one;
//! - `reconcile`: the reconcile function against real SQLite and PostgreSQL targets;
//! - `remote`: remote directories from a real registry, and the runs reported to it;
//! - `controller`: the controller's API interactions against the scripted API server;
//! - `drift`: drift checks of Ready resources against real databases, and their status patch and event;
//! - `examples`: `examples/gitops` parses and really migrates a database;
//! - `helm_chart`: the Helm chart renders valid objects;
//! - `argocd_health`: `deploy/argocd/health.lua` in a real Lua 5.1;
//! - `bin`: the lean `strata-operator` binary as a black box;
//! - `local`: `strata-operator reconcile -f` against real PostgreSQL and a real registry.

mod argocd_health;
mod bin;
mod common;
mod controller;
mod crd;
mod devdb;
mod drift;
mod examples;
mod helm_chart;
mod local;
mod reconcile;
mod remote;
mod schema_controller;
mod schema_reconcile;
