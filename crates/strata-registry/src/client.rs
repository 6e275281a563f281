//! HTTP client (in progress).
