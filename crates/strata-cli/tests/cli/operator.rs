//! `strata operator …` as a black box.

use assert_cmd::Command;

#[test]
fn operator_crds_prints_the_committed_crd() {
    let out = Command::cargo_bin("strata")
        .unwrap()
        .args(["operator", "crds"])
        .output()
        .unwrap();
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
fn operator_run_without_a_cluster_fails_cleanly() {
    let out = Command::cargo_bin("strata")
        .unwrap()
        .args([
            "operator",
            "run",
            "--leader-elect=false",
            "--log-format=text",
        ])
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Error: operator:"), "{err}");
}

#[test]
fn operator_run_refuses_an_unusable_registry_url_before_connecting() {
    for (url, want) in [
        ("ftp://registry", "the scheme must be http or https"),
        ("http://ci:hunter2@registry:8080", "carries credentials"),
    ] {
        let out = Command::cargo_bin("strata")
            .unwrap()
            .args(["operator", "run", "--leader-elect=false", "--registry", url])
            .env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("from --registry is not usable"), "{err}");
        assert!(err.contains(want), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            !err.contains("operator:"),
            "refused before connecting: {err}"
        );
    }
}

#[test]
fn operator_run_help_lists_the_flags() {
    let out = Command::cargo_bin("strata")
        .unwrap()
        .args(["operator", "run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--namespace",
        "--label-selector",
        "--registry",
        "--leader-elect",
        "--metrics-bind-address",
        "--health-probe-bind-address",
    ] {
        assert!(help.contains(flag), "{flag} missing");
    }
}

#[test]
fn operator_reconcile_refuses_a_kind_it_does_not_reconcile_naming_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("pod.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
    )
    .unwrap();
    let out = Command::cargo_bin("strata")
        .unwrap()
        .args(["operator", "reconcile", "-f"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "Error: {}:5: kind \"Pod\" (apiVersion \"v1\") is not supported here; `reconcile -f` reads AtlasMigration and AtlasSchema (db.atlasgo.io/v1alpha1), Secret and ConfigMap documents",
            f.display()
        )
    );
}
