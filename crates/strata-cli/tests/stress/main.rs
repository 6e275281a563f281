//! Crash safety and exactly-once under concurrency, on the real servers: `kill -9` of `strata migrate apply` at
//! random moments (`crash`) and many `strata migrate apply` processes against one database at once
//! (`concurrency`). `common` holds their shared targets, process helpers and seeded RNG.
//!
//! A binary of its own, apart from `tests/cli`: these tests start up to eight `strata` processes at once and kill
//! them at timed moments, so they run beside each other only, not beside the quick black-box tests; and
//! `scripts/stress` runs their long versions by themselves (`--test stress -- crash::` and `-- concurrency::`).

mod common;
mod concurrency;
mod crash;
