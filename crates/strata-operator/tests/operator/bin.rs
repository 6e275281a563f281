//! The lean `strata-operator` binary as a black box: the same subcommands and failures as `strata operator …`.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata-operator"));
    c.env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .env_remove("KUBERNETES_SERVICE_HOST");
    c
}

#[test]
fn crds_prints_the_committed_crd() {
    let out = bin().arg("crds").output().unwrap();
    assert!(out.status.success());
    // Both CRDs, as one multi-document stream: AtlasMigration, then AtlasSchema.
    let committed = |kind: &str| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../deploy/crds/db.atlasgo.io_{kind}.yaml")),
        )
        .unwrap()
    };
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "{}---\n{}",
            committed("atlasmigrations"),
            committed("atlasschemas")
        )
    );
}

#[test]
fn run_without_a_cluster_fails_cleanly() {
    let out = bin()
        .args(["run", "--leader-elect=false", "--log-format=text"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Error: operator:"), "{err}");
}

#[test]
fn run_refuses_an_unusable_registry_or_address_before_connecting() {
    for (args, want) in [
        (
            ["--registry", "http://ci:hunter2@registry:8080"],
            "carries credentials",
        ),
        (
            ["--metrics-bind-address", "nowhere"],
            "invalid address \"nowhere\"",
        ),
    ] {
        let out = bin()
            .args(["run", "--leader-elect=false"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("Error: "), "{err}");
        assert!(err.contains(want), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            !err.contains("operator:"),
            "refused before connecting: {err}"
        );
    }
}

#[test]
fn version_and_help() {
    let out = bin().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("strata-operator "));
    let out = bin().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--namespace",
        "--registry",
        "--leader-elect",
        "--concurrency",
    ] {
        assert!(help.contains(flag), "{flag} missing");
    }
}
