//! Passwords holding `/`, `#`, `?` or `@` (issue 10, item 8): the cases of the issue one by one through the binary,
//! a failed apply from the registry end to end (its deployment in the API and the UI), and random passwords over
//! every printable character.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tempfile::TempDir;

/// The password of the issue's URLs: its head `S3cr` was the "port" the old error echoed.
const PW: &str = "S3cr/3tPW";

fn strata(tmp: &Path) -> Command {
    let mut c = Command::cargo_bin("strata").unwrap();
    c.current_dir(tmp).env("TMPDIR", tmp);
    for v in [
        "STRATA_DIR",
        "STRATA_URL",
        "STRATA_FORMAT",
        "STRATA_REGISTRY",
        "STRATA_TOKEN",
        "STRATA_REGISTRY_DB",
        "STRATA_REGISTRY_URL",
    ] {
        c.env_remove(v);
    }
    c
}

/// Everything a run printed.
fn printed(a: &assert_cmd::assert::Assert) -> String {
    let o = a.get_output();
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Fails naming the leak when `text` holds the password or a piece of it around the `/`.
fn assert_hidden(text: &str, pw: &str) {
    assert!(!text.contains(pw), "the password {pw:?} is shown: {text}");
    if pw == PW {
        assert!(
            !text.contains("S3cr") && !text.contains("3tPW"),
            "part of the password is shown: {text}"
        );
    }
}

/// A temp dir with a hashed `migrations/` (one file).
fn fixture() -> TempDir {
    let t = TempDir::new().unwrap();
    std::fs::create_dir(t.path().join("migrations")).unwrap();
    std::fs::write(
        t.path().join("migrations/1_users.sql"),
        "CREATE TABLE users (id int);\n",
    )
    .unwrap();
    strata(t.path())
        .args(["migrate", "hash"])
        .assert()
        .success();
    t
}

#[test]
fn database_urls_of_the_issue_are_never_echoed() {
    let t = fixture();
    for (url, shown) in [
        (
            "postgres://u:S3cr/3tPW@host:1/x",
            "invalid database URL postgres://u:xxxxx@host:1/x: password: ",
        ),
        (
            "mysql://u:S3cr/3tPW@host:1/x",
            "invalid database URL mysql://u:xxxxx@host:1/x: password: ",
        ),
        (
            "postgres://u:S3cr?3tPW@host:1/x",
            "invalid database URL postgres://u:xxxxx@host:1/x: password: ",
        ),
        (
            "postgres://u:S3cr#3tPW@host:1/x",
            "invalid database URL postgres://u:xxxxx@host:1/x: password: ",
        ),
        (
            "postgres:/u:S3cr/3tPW@host:1/x",
            "invalid database URL postgres:xxxxx@host:1/x: scheme: ",
        ),
    ] {
        for args in [
            vec!["migrate", "apply", "--url", url],
            vec!["migrate", "status", "--url", url],
            vec!["migrate", "set", "1", "--url", url],
        ] {
            let a = strata(t.path()).args(&args).assert().code(1);
            let text = printed(&a);
            assert_hidden(&text, PW);
            assert!(text.contains(shown), "{args:?}: {text}");
        }
    }
}

#[test]
fn registry_database_urls_are_never_echoed() {
    let t = TempDir::new().unwrap();
    let db = "postgres://u:S3cr/3tPW@host:1/x";
    for args in [
        vec!["registry", "serve", "--addr", "127.0.0.1:0", "--db", db],
        vec!["registry", "token", "create", "--db", db, "--project", "p"],
        vec!["registry", "token", "list", "--db", db, "--project", "p"],
        vec!["registry", "project", "p", "--db", db],
    ] {
        let a = strata(t.path())
            .args(&args)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(1);
        let text = printed(&a);
        assert_hidden(&text, PW);
        assert!(
            text.contains("postgres://u:xxxxx@host:1/x"),
            "{args:?}: {text}"
        );
    }
    // From the environment, `--help` does not echo it either.
    let a = strata(t.path())
        .args(["registry", "serve", "--help"])
        .env("STRATA_REGISTRY_DB", db)
        .assert()
        .success();
    assert_hidden(&printed(&a), PW);
}

#[test]
fn registry_urls_with_a_password_are_never_echoed() {
    let t = fixture();
    let p = t.path();
    // Unencoded '/': refused as a URL, without echoing it.
    let bad = "http://ci:S3cr/3tPW@127.0.0.1:1";
    // Encoded: a valid URL, but nothing listens there.
    let unreachable = "http://ci:S3cr%2F3tPW@127.0.0.1:1";
    for (registry, shown) in [
        (
            bad,
            "registry URL \"http://ci:xxxxx@127.0.0.1:1\" is not a valid URL",
        ),
        (
            unreachable,
            "cannot reach the registry at http://ci:xxxxx@127.0.0.1:1",
        ),
    ] {
        for args in [
            vec!["migrate", "push", "app", "--registry", registry],
            vec![
                "migrate",
                "apply",
                "--dir",
                "strata://app",
                "--url",
                "sqlite://a.db",
                "--registry",
                registry,
            ],
            vec![
                "migrate",
                "status",
                "--dir",
                "strata://app",
                "--url",
                "sqlite://a.db",
                "--registry",
                registry,
            ],
        ] {
            let a = strata(p).args(&args).assert().code(1);
            let text = printed(&a);
            assert_hidden(&text, PW);
            assert_hidden(&text, "S3cr%2F3tPW");
            assert!(text.contains(shown), "{args:?}: {text}");
        }
        // The same from the environment, and `--help` does not echo the variable.
        let a = strata(p)
            .args([
                "migrate",
                "apply",
                "--dir",
                "strata://app",
                "--url",
                "sqlite://a.db",
            ])
            .env("STRATA_REGISTRY", registry)
            .assert()
            .code(1);
        assert_hidden(&printed(&a), PW);
        for (args, var) in [
            (["migrate", "apply", "--help"], "STRATA_REGISTRY"),
            (["migrate", "push", "--help"], "STRATA_REGISTRY"),
            (["operator", "run", "--help"], "STRATA_REGISTRY_URL"),
        ] {
            let a = strata(p).args(args).env(var, registry).assert().success();
            let text = printed(&a);
            assert_hidden(&text, PW);
            assert_hidden(&text, "S3cr%2F3tPW");
        }
    }
}

/// The server process; killed on drop.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(db: &str, dir: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("server.log");
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("strata"))
        .args([
            "registry",
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--db",
            db,
        ])
        .args(["--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write as _;
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") {
                return server;
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "server exited ({status}): {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Random passwords over every printable ASCII character, unencoded (from proptest's generator).
fn random_passwords(n: usize) -> Vec<String> {
    let mut runner = TestRunner::default();
    let s = "[ -~]{8,24}";
    (0..n)
        .map(|_| s.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// The issue's main case end to end: `migrate apply --dir strata://…` on a URL whose password holds a `/` fails,
/// the failure is reported as a deployment, and neither the run's output, the server's log, the stored row, the
/// API nor the web UI shows the password. Then the same for random passwords.
#[test]
fn a_failed_apply_from_the_registry_reports_no_password() {
    let tmp = fixture();
    let t = tmp.path();
    let db = format!("sqlite://{}", t.join("registry.db").display());
    let token = {
        let a = strata(t)
            .args([
                "registry",
                "token",
                "create",
                "--db",
                &db,
                "--project",
                "app",
            ])
            .args(["--scope", "push,read,report"])
            .assert()
            .success();
        String::from_utf8(a.get_output().stdout.clone())
            .unwrap()
            .split_terminator('\n')
            .next_back()
            .unwrap()
            .to_owned()
    };
    let server = start_server(&db, t);
    strata(t)
        .args([
            "migrate",
            "push",
            "app",
            "--registry",
            &server.base,
            "--token",
            &token,
        ])
        .assert()
        .success();

    let mut passwords = vec![
        PW.to_owned(),
        "S3cr?3tPW".into(),
        "S3cr#3tPW".into(),
        "S3cr@3t/PW".into(),
    ];
    passwords.extend(random_passwords(24));
    let mut urls = Vec::new();
    for pw in &passwords {
        for url in [
            format!("postgres://u:{pw}@127.0.0.1:1/x?sslmode=disable"),
            format!("mysql://u:{pw}@127.0.0.1:1/x"),
        ] {
            let a = strata(t)
                .args(["migrate", "apply", "--dir", "strata://app", "--url", &url])
                .args(["--lock-timeout", "1s"])
                .env("STRATA_REGISTRY", &server.base)
                .env("STRATA_TOKEN", &token)
                .timeout(Duration::from_secs(60))
                .assert()
                .code(1);
            let text = printed(&a);
            assert_hidden(&text, pw);
            assert!(
                !text.contains("Warning"),
                "the failure was not reported: {text}"
            );
            urls.push(url);
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = strata_registry_client::Client::new(&server.base, Some(token)).unwrap();
    let deployments = rt.block_on(client.deployments("app")).unwrap();
    assert_eq!(deployments.len(), urls.len(), "{deployments:?}");
    let listing = serde_json::to_string(&deployments).unwrap();
    let page = rt
        .block_on(client.get_text("/projects/app/deployments"))
        .unwrap();
    let page = page
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let log = std::fs::read_to_string(&server.log).unwrap();
    for pw in &passwords {
        for d in &deployments {
            for field in ["target", "error"] {
                assert_hidden(d[field].as_str().unwrap_or_default(), pw);
            }
        }
        assert_hidden(&listing, pw);
        assert_hidden(&page, pw);
        assert_hidden(&log, pw);
    }
    // The issue's URL: stored as its host, the error saying what to do.
    let first = deployments.last().unwrap();
    assert_eq!(first["status"], "failed");
    assert_eq!(first["target"], "postgres://127.0.0.1:1/x?sslmode=disable");
    assert!(
        first["error"].as_str().unwrap().contains("percent-encode"),
        "{first}"
    );
}
