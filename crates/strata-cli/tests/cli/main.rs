//! Black-box tests of the `strata` binary, in one test binary (one link instead of one per file). Each test runs
//! `strata` as a child process on its own temporary directory and, where it needs one, its own database.
//!
//! - `cli`: the directory commands (`hash`, `validate`, `new`), usage errors, colour and escaping;
//! - `db`: `migrate apply / status / set` against SQLite files, PostgreSQL and MariaDB;
//! - `output`: what those three commands print, text and JSON, as insta snapshots (`snapshots/`);
//! - `atlas_compat`: Atlas CLI compatibility found with Atlas's own scripts;
//! - `credentials`: passwords in URLs are never echoed;
//! - `registry`: a real `strata registry serve`, `migrate push`, and apply / status from `strata://…`;
//! - `operator`: `strata operator …`;
//! - `lint`: `strata lint FILE…`, every format, as insta snapshots;
//! - `schema`: `schema inspect / diff / apply / clean` on SQLite files, outputs as insta snapshots;
//! - `project`: `atlas.hcl` project files (`--config`, `--env`, `--var`) driving migrate and schema commands;
//! - `gitops`: examples/gitops's GitHub workflows, action.yml and pre-commit hooks run step by step against a
//!   local registry, and `examples/gitops/run-locally.sh` end to end;
//! - `common`: how `strata` is started (working directory, private TMPDIR, a clean environment).
//!
//! The crash-safety and concurrency tests are a binary of their own (`tests/stress`).

mod atlas_compat;
mod cli;
mod common;
mod credentials;
mod db;
mod gitops;
mod lint;
mod migrate_diff;
mod migrate_lint;
mod operator;
mod output;
mod project;
mod registry;
mod schema;
