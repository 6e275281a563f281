//! Tests of `strata-migrate` through its public API, in one test binary (one link instead of one per file).
//!
//! - `scan_golden`, `scan_errors`, `scan_props`: the statement scanner (fixtures in `testdata/scan`, Atlas's
//!   error wording, properties on arbitrary input);
//! - `sum_props`: `atlas.sum`;
//! - `plan`, `plan_props`: what apply and status decide, as tables and as properties;
//! - `history`: the tamper check of applied files.

mod history;
mod plan;
mod plan_props;
mod scan_errors;
mod scan_golden;
mod scan_props;
mod sum_props;
