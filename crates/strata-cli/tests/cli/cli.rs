//! Black-box tests of the `strata` binary on temporary directories.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const F1: (&str, &str) = (
    "20220318104614_initial.sql",
    "-- create \"tbl\" table\nCREATE TABLE tbl (`col` int NOT NULL);\n",
);
const F2: (&str, &str) = (
    "20220318104615_second.sql",
    "ALTER TABLE `tbl` ADD `col_2` bigint;\n",
);
const VECTOR_SUM: &str = "h1:GMi7mvWSIHv0I/Wrc2NCGVt9Z5hWZbPa6wL986t7Z2o=\n\
    20220318104614_initial.sql h1:FifWjY2X0g2YVnb18Qm+QBPvoldDOOob7bS0LrFuCXc=\n\
    20220318104615_second.sql h1:wbPDlODOQeixCiopAhlT7W4xOO9TgJxzjYjxf4TA2f4=\n";

fn strata() -> Command {
    let mut cmd = Command::cargo_bin("strata").unwrap();
    cmd.env_remove("STRATA_DIR")
        .env_remove("STRATA_FORMAT")
        .env_remove("STRATA_DIALECT");
    cmd
}

/// A temp dir holding `m/` with the two golden files and their atlas.sum.
fn golden() -> TempDir {
    let t = TempDir::new().unwrap();
    let m = t.path().join("m");
    std::fs::create_dir(&m).unwrap();
    for (n, c) in [F1, F2] {
        std::fs::write(m.join(n), c).unwrap();
    }
    std::fs::write(m.join("atlas.sum"), VECTOR_SUM).unwrap();
    t
}

fn dir_arg(t: &TempDir) -> String {
    format!("file://{}", t.path().join("m").display())
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn hash_writes_the_atlas_bytes_silently() {
    let t = golden();
    let sum = t.path().join("m/atlas.sum");
    std::fs::remove_file(&sum).unwrap();
    strata()
        .args(["migrate", "hash", "--dir", &dir_arg(&t)])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(read(&sum), VECTOR_SUM);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&sum).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
    strata()
        .args(["migrate", "hash", "--force", "--dir", &dir_arg(&t)])
        .assert()
        .success()
        .stderr("Flag --force has been deprecated, you can safely omit it.\n");
}

#[test]
fn hash_ignores_subdirectories_and_other_files() {
    let t = golden();
    let m = t.path().join("m");
    std::fs::create_dir(m.join("sub")).unwrap();
    std::fs::write(m.join("sub/0_hidden.sql"), "SELECT 1;").unwrap();
    std::fs::write(m.join("README.md"), "docs").unwrap();
    strata()
        .args(["migrate", "hash", "--dir", &dir_arg(&t)])
        .assert()
        .success();
    assert_eq!(read(&m.join("atlas.sum")), VECTOR_SUM);
}

#[test]
fn validate_is_silent_on_success_and_reads_strata_dir() {
    let t = golden();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    strata()
        .args(["migrate", "validate"])
        .env("STRATA_DIR", dir_arg(&t))
        .assert()
        .success();
    strata()
        .args([
            "migrate",
            "validate",
            "--dir",
            &dir_arg(&t),
            "--format",
            "{{ json . }}",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\"Valid\":true")
                .and(predicate::str::contains("\"Statements\":2")),
        );
}

#[test]
fn validate_reports_each_change_like_atlas() {
    // added
    let t = golden();
    std::fs::write(t.path().join("m/20220318104616_third.sql"), "SELECT 1;\n").unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stdout(
            "You have a checksum error in your migration directory.\n\n\
             \tL4: 20220318104616_third.sql was added\n\n\
             Please check your migration files and run 'strata migrate hash' to re-hash the contents\n\n",
        )
        .stderr("Error: checksum mismatch\n");
    // edited
    let t = golden();
    std::fs::write(t.path().join("m").join(F1.0), "CREATE TABLE tbl (c int);\n").unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\tL2: 20220318104614_initial.sql was edited\n",
        ));
    // removed
    let t = golden();
    std::fs::remove_file(t.path().join("m").join(F2.0)).unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\tL3: 20220318104615_second.sql was removed\n",
        ));
}

#[test]
fn windows_line_endings_are_explained() {
    let t = golden();
    let p = t.path().join("m").join(F2.0);
    std::fs::write(&p, F2.1.replace('\n', "\r\n")).unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("L3: 20220318104615_second.sql was edited")
                .and(predicate::str::contains("Windows (CRLF)"))
                .and(predicate::str::contains(".gitattributes")),
        );
}

#[test]
fn hint_names_atlas_when_invoked_as_atlas() {
    let t = golden();
    std::fs::write(t.path().join("m/3.sql"), "SELECT 1;\n").unwrap();
    let link = t.path().join("atlas");
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("strata"), &link).unwrap();
    Command::new(&link)
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("run 'atlas migrate hash'"));
}

#[test]
fn missing_directory_is_a_clear_error() {
    strata()
        .args([
            "migrate",
            "validate",
            "--dir",
            "file:///definitely/not/here",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read migration directory \"/definitely/not/here\"",
        ));
}

#[test]
fn unreadable_file_is_named() {
    let t = golden();
    std::os::unix::fs::symlink(
        "/definitely/not/here.sql",
        t.path().join("m/3_dangling.sql"),
    )
    .unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("3_dangling.sql")
                .and(predicate::str::starts_with("Error: cannot read")),
        );
}

#[test]
fn malformed_sum_is_a_clear_error() {
    let t = golden();
    std::fs::write(
        t.path().join("m/atlas.sum"),
        VECTOR_SUM.replace(" h1:wbP", " wbP"),
    )
    .unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("You have a checksum error")
                .and(predicate::str::contains("\tL").not()),
        )
        .stderr(predicate::str::contains(
            "checksum file format invalid: atlas.sum line 3",
        ));
    std::fs::write(
        t.path().join("m/atlas.sum"),
        VECTOR_SUM.replace("h1:GMi7", "h1:AAAA"),
    )
    .unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("edited by hand"));
    std::fs::remove_file(t.path().join("m/atlas.sum")).unwrap();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("checksum file not found"));
}

#[test]
fn unclosed_quote_names_file_line_and_column() {
    let t = golden();
    let m = t.path().join("m");
    std::fs::write(m.join("3_bad.sql"), "SELECT 1;\nSELECT 'oops;\n").unwrap();
    strata()
        .args(["migrate", "hash", "--dir", &dir_arg(&t)])
        .assert()
        .success();
    strata()
        .args([
            "migrate",
            "validate",
            "--dir",
            &dir_arg(&t),
            "--dialect",
            "postgres",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "scanning statements from \"3_bad.sql\": 2:8: unclosed quote",
        ));
}

#[test]
fn bad_directive_names_file_and_line() {
    let t = golden();
    let m = t.path().join("m");
    std::fs::write(m.join("3_tx.sql"), "-- atlas:txmode maybe\n\nSELECT 1;\n").unwrap();
    strata()
        .args(["migrate", "hash", "--dir", &dir_arg(&t)])
        .assert()
        .success();
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stderr(
            "Error: 3_tx.sql:1: unknown txmode \"maybe\" found in file directive \"3_tx.sql\"\n",
        );
}

#[test]
fn new_creates_an_empty_timestamped_file_and_rehashes() {
    let t = golden();
    let out = strata()
        .args(["migrate", "new", "add_users", "--dir", &dir_arg(&t)])
        .assert()
        .success();
    let created = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let created = Path::new(created.trim());
    let name = created.file_name().unwrap().to_str().unwrap();
    assert_eq!(name.len(), "YYYYMMDDHHMMSS_add_users.sql".len(), "{name}");
    assert!(
        name[..14].bytes().all(|b| b.is_ascii_digit()) && name.ends_with("_add_users.sql"),
        "{name}"
    );
    assert_eq!(std::fs::read(created).unwrap(), b"");
    let sum = read(&t.path().join("m/atlas.sum"));
    assert!(
        sum.split_terminator('\n')
            .next_back()
            .unwrap()
            .starts_with(&format!("{name} h1:")),
        "{sum}"
    );
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(&t)])
        .assert()
        .success();
    // without a name, and in an empty directory without atlas.sum
    let empty = TempDir::new().unwrap();
    std::fs::create_dir(empty.path().join("m")).unwrap();
    strata()
        .args([
            "migrate",
            "new",
            "--dir",
            &dir_arg(&empty),
            "--format",
            "json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r#"^\{"File":".*/m/\d{14}\.sql"\}\n$"#).unwrap());
}

#[test]
fn new_refuses_a_broken_directory_and_bad_names() {
    let t = golden();
    std::fs::write(t.path().join("m/3.sql"), "SELECT 1;\n").unwrap();
    strata()
        .args(["migrate", "new", "x", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stderr("Error: checksum mismatch\n");
    let t = golden();
    strata()
        .args(["migrate", "new", "../escape", "--dir", &dir_arg(&t)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid migration name"));
    assert_eq!(std::fs::read_dir(t.path().join("m")).unwrap().count(), 3);
}

#[test]
fn output_has_no_colour_off_a_terminal() {
    strata()
        .args(["migrate", "validate", "--dir", "file:///nope"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("\x1b")
                .not()
                .and(predicate::str::starts_with("Error: ")),
        );
}

#[test]
fn unknown_dir_format_and_scheme_are_refused_by_name() {
    strata()
        .args(["migrate", "validate", "--dir", "file://m?format=goose"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "directory format \"goose\" is not supported yet",
        ));
    strata()
        .args(["migrate", "validate", "--dir", "s3://bucket/m"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unsupported migration directory URL scheme \"s3\"",
        ));
}

#[test]
fn usage_errors_exit_1_and_version_and_completions_work() {
    strata().args(["migrate", "bogus"]).assert().code(1);
    strata()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("strata {}\n", env!("CARGO_PKG_VERSION")));
    for shell in ["bash", "zsh", "fish"] {
        strata()
            .args(["completion", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("migrate"));
    }
}

// Bad migration input: each test reproduces one finding of issue 10, item 9.

fn validate(t: &TempDir) -> assert_cmd::assert::Assert {
    strata()
        .args(["migrate", "validate", "--dir", &dir_arg(t)])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
}

#[test]
fn a_nul_byte_is_refused_by_validate_with_file_and_line() {
    let t = golden();
    std::fs::write(t.path().join("m/3_b.sql"), "CREATE TABLE b (id int);\n\0").unwrap();
    strata()
        .args(["migrate", "hash", "--dir", &dir_arg(&t)])
        .assert()
        .success();
    validate(&t).code(1).stderr(
        predicate::str::starts_with("Error: 3_b.sql:2:1: the file contains a NUL byte")
            .and(predicate::str::contains("remove it")),
    );
}

#[test]
fn a_directory_named_like_a_migration_is_an_error() {
    // Atlas fails on it too ("read file: is a directory"); Strata used to skip it silently.
    let t = golden();
    std::fs::create_dir(t.path().join("m/3_x.sql")).unwrap();
    for cmd in ["validate", "hash"] {
        strata()
            .args(["migrate", cmd, "--dir", &dir_arg(&t)])
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("3_x.sql\" is a directory, not a regular file")
                    .and(predicate::str::contains("rename it or move it out")),
            );
    }
    assert_eq!(read(&t.path().join("m/atlas.sum")), VECTOR_SUM);
}

#[test]
fn atlas_sum_must_be_a_regular_file_inside_the_directory() {
    let t = golden();
    let sum = t.path().join("m/atlas.sum");
    // A link to /dev/zero: once an abort on a 2 GiB allocation.
    std::fs::remove_file(&sum).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &sum).unwrap();
    validate(&t).code(1).stderr(predicate::str::contains(
        "atlas.sum\" is a symbolic link to a character device, not a regular file",
    ));
    // A named pipe: once a validate that never returned.
    std::fs::remove_file(&sum).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&sum)
        .status()
        .unwrap();
    assert!(made.success());
    validate(&t).code(1).stderr(predicate::str::contains(
        "atlas.sum\" is a named pipe (FIFO), not a regular file",
    ));
    // A link out of the directory: once echoed a line of the file it led to.
    std::fs::remove_file(&sum).unwrap();
    let secret = t.path().join("secret.txt");
    std::fs::write(&secret, "root:x:0:0\nTOP-SECRET-LINE\n").unwrap();
    std::os::unix::fs::symlink(&secret, &sum).unwrap();
    validate(&t)
        .code(1)
        .stdout(predicate::str::contains("TOP-SECRET").not())
        .stderr(
            predicate::str::contains("outside the migration directory")
                .and(predicate::str::contains("TOP-SECRET").not()),
        );
}

#[test]
fn oversized_files_are_refused_with_the_file_and_the_limit() {
    let t = golden();
    // 200 MB, sparse: once read whole (884 MB of memory for validate). Under a 256 MiB address-space limit the
    // refusal shows that the file is not read.
    let big = std::fs::File::create(t.path().join("m/3_big.sql")).unwrap();
    big.set_len(200_000_000).unwrap();
    let script = format!(
        "ulimit -v 262144 && exec '{}' migrate validate --dir '{}'",
        assert_cmd::cargo::cargo_bin("strata").display(),
        dir_arg(&t)
    );
    Command::new("sh")
        .args(["-c", &script])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("3_big.sql\" is larger than 64 MiB").and(
                predicate::str::contains("split it into several smaller migration files"),
            ),
        );
}

#[test]
fn a_long_sum_line_is_cut_when_echoed() {
    let t = golden();
    let junk = format!("{VECTOR_SUM}{}\n", "j".repeat(10 << 20));
    std::fs::write(t.path().join("m/atlas.sum"), junk).unwrap();
    let out = validate(&t).code(1).get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("checksum file format invalid: atlas.sum line 4"),
        "{stderr}"
    );
    assert!(stderr.contains("jjj…\""), "{stderr}");
    assert!(stderr.len() < 500, "{} bytes echoed", stderr.len());
}

#[test]
fn control_characters_in_file_names_are_escaped() {
    // The checksum block names files, and a name can hold escape sequences. CLICOLOR_FORCE makes the output
    // behave as on a terminal, where nothing is stripped.
    let t = golden();
    std::fs::write(t.path().join("m/3_\x1b]0;PWNED\x07.sql"), "SELECT 1;\n").unwrap();
    for force in ["0", "1"] {
        let out = strata()
            .args(["migrate", "validate", "--dir", &dir_arg(&t)])
            .env("CLICOLOR_FORCE", force)
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.contains("\tL4: 3_\\u001b]0;PWNED\\u0007.sql was added\n"),
            "{stdout:?}"
        );
        assert!(!stdout.contains(['\x1b', '\x07']), "{stdout:?}");
    }
}

/// On glibc Linux the binary is linked position-dependent (`build.rs`: the loader has no relocations to apply at
/// start), unless the build asked for a PIE with `STRATA_PIE=1`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_is_position_dependent_on_glibc_linux() {
    use std::io::Read;
    let mut bytes = [0u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_strata"))
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    // e_type: 2 = ET_EXEC (position-dependent), 3 = ET_DYN (PIE).
    let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
    let want = if option_env!("STRATA_PIE").is_some_and(|v| v != "0") {
        3
    } else {
        2
    };
    assert_eq!(e_type, want);
}
