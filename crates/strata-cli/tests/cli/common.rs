//! What the black-box tests share: how `strata` is started.

use std::ffi::OsStr;
use std::path::Path;

use assert_cmd::Command;

/// `program` (the `strata` binary, or a link to it) started in `dir`, with `TMPDIR=<dir>/tmp` (so SQLite lock files
/// stay private to the test), `STRATA_CACHE_DIR=<dir>/cache` (the replay cache too) and none of the environment variables that would change its defaults.
pub fn command(program: impl AsRef<OsStr>, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env("TMPDIR", dir.join("tmp"))
        .env("STRATA_CACHE_DIR", dir.join("cache"));
    for v in [
        "STRATA_DIR",
        "STRATA_URL",
        "STRATA_FORMAT",
        "STRATA_TX_MODE",
        "STRATA_REVISIONS_SCHEMA",
        "STRATA_REGISTRY",
        "STRATA_TOKEN",
        "STRATA_DEV_URL",
        "CLICOLOR_FORCE",
    ] {
        c.env_remove(v);
    }
    c
}

/// The `strata` binary started in `dir` (see [`command`]).
pub fn strata(dir: &Path) -> Command {
    command(assert_cmd::cargo::cargo_bin("strata"), dir)
}
