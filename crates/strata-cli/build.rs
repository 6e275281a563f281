//! Links the `strata` binary as a position-dependent executable on glibc Linux.
//!
//! A position-independent executable is relocated by the dynamic loader at every start: this binary has ~58,000
//! relative relocations over ~1 MB of `.data.rel.ro`, and writing them costs ~240 copy-on-write page faults —
//! half of what `strata --version` costs (1.9 → 1.0 ms of CPU, 2.2 → 1.6 ms elapsed; a PostgreSQL no-op
//! `migrate apply` 11.6 → 10.2 ms; BENCHMARKS.md, issue 12). A CLI started once per command pays that each time.
//! The price is that the executable's own image is not placed at a random address (libraries, heap and stack
//! still are). The container image (musl, static, what the Helm chart and a deployed registry run) is not
//! affected: it stays a static PIE. Set `STRATA_PIE=1` when building to keep a PIE here too.

// A build script talks to Cargo on stdout: `println!` is its protocol, not output for a user.
#[allow(clippy::disallowed_macros)]
fn main() {
    println!("cargo:rerun-if-env-changed=STRATA_PIE");
    let target = std::env::var("TARGET").unwrap_or_default();
    let pie = std::env::var_os("STRATA_PIE").is_some_and(|v| v != "0");
    if target.ends_with("-linux-gnu") && !pie {
        println!("cargo:rustc-link-arg-bin=strata=-no-pie");
    }
}
