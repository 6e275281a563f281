//! Database tests for strata-driver, against the real local servers and SQLite files.
//!
//! Each test creates and drops its own database (see `strata_driver::testing`), so tests run in parallel. A test
//! whose server is unreachable is skipped with a printed reason, except under `CI=true`.

mod common;
mod connect;
mod mysql;
mod mysql_inspect;
mod pg_inspect;
mod pg_round_trips;
mod postgres;
mod sqlite;
mod sqlite_inspect;
