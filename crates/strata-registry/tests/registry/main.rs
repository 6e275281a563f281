//! Tests of the registry through its router, its store and real sockets, in one test binary (one link instead of
//! one per file). `common` holds the helpers they share (directories, archives, an app over a temp store).
//!
//! - `api`: the HTTP API's authorization matrix, push/fetch round trips, refusals, metrics and request ids;
//! - `openapi`: the OpenAPI document, and real responses validated against it;
//! - `hardening`: one test per finding of the API review;
//! - `credentials`: no credential of a target URL reaches the registry;
//! - `fuzz`: fuzzed push bodies never panic or answer 5xx;
//! - `store`: the storage suite on SQLite and PostgreSQL;
//! - `replicas`: several replicas on one PostgreSQL database behave as one service;
//! - `ui`, `ui_pages`, `ui_chromium`: the web UI through the router (login and sessions; the pages), and in a
//!   real headless Chromium.

mod api;
mod common;
mod credentials;
mod fuzz;
mod hardening;
mod openapi;
mod replicas;
mod store;
mod ui;
mod ui_chromium;
mod ui_pages;
