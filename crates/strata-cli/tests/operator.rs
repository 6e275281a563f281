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
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/crds/db.atlasgo.io_atlasmigrations.yaml"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}
