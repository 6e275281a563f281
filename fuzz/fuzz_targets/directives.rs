//! Directive parsing never panics on any file content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_migrate::directive;

fuzz_target!(|input: &str| {
    let _ = directive::parse_file("fuzz.sql", input);
    let _ = directive::match_directive(input);
    let _ = directive::is_sum_ignored(input.as_bytes());
});
