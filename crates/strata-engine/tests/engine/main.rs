//! Engine tests against real databases: PostgreSQL and MariaDB on the local servers, SQLite files.
//!
//! Each test gets its own database (see `strata_driver::testing`), so tests run in parallel. A test whose server
//! is unreachable is skipped with a printed reason, except under `CI=true`, where it fails.
//!
//! - `scenarios`: behaviour every dialect shares, instantiated per dialect in `postgres`, `mysql`, `sqlite`;
//! - the dialect modules add what only that dialect has (PostgreSQL `CREATE INDEX CONCURRENTLY`, MariaDB's
//!   implicit commits, revisions-table placement);
//! - `mysql_in_flight`: MariaDB DDL that took effect while its progress row was lost, decided by the next run;
//! - `overlap`: the directory read while the session opens (`apply::open_session_while`);
//! - `bad_input`: unreachable servers, wrong passwords, bad URLs;
//! - `server_crash`: a private PostgreSQL cluster stopped in the middle of a run and right after one;
//! - `schema`: the schema engine (inspect, sources, dev databases, diff, apply, clean).
//! - `hcl`: HCL desired states applied per dialect, synced afterwards and inspected as parsed.
//! - `drift`: drift detection (expected state replayed up to the applied version, target inspected read-only);
//! - `migrate_diff`: `migrate diff` goldens per dialect, the replay cache, qualifiers, the lock, `validate --dev-url`;
//! - `concurrent_index`: `diff.concurrent_index` plans applied on PostgreSQL (outside the transaction, cleanup);
//! - `send`: the engine's futures are `Send` under generic lifetimes (it only has to compile).

mod bad_input;
mod common;
mod concurrent_index;
mod drift;
mod hcl;
mod lint_replay;
mod migrate_diff;
mod mysql;
mod mysql_in_flight;
mod overlap;
mod postgres;
mod scenarios;
mod schema;
mod send;
mod server_crash;
mod sqlite;
