//! End to end: a real `strata registry serve` on a loopback port, `strata migrate push`, `migrate apply` and
//! `migrate status` from `strata://app?tag=…` against a real PostgreSQL, and the deployment in the API and the UI.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::json;
use tempfile::TempDir;

fn strata(tmp: &Path) -> Command {
    let mut c = Command::cargo_bin("strata").unwrap();
    c.env("TMPDIR", tmp);
    for v in [
        "STRATA_DIR",
        "STRATA_URL",
        "STRATA_FORMAT",
        "STRATA_REGISTRY",
        "STRATA_TOKEN",
        "STRATA_REGISTRY_DB",
    ] {
        c.env_remove(v);
    }
    c
}

/// The server process; killed on drop if the test did not stop it.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn start_server(db: &str, dir: &Path) -> Server {
    let mut server = spawn_server(db, dir, &[]);
    wait_healthy(&mut server);
    server
}

/// Starts `strata registry serve` on a free port with its log in `dir/server.log`, without waiting for it.
fn spawn_server(db: &str, dir: &Path, extra: &[&str]) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let log = dir.join("server.log");
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("strata"))
        .args([
            "registry",
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--db",
            db,
            "--log-format",
            "json",
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    Server { child, base, log }
}

/// Waits until the server answers `/healthz` with 200; panics with its log if it exits or is not up in 30 s.
fn wait_healthy(server: &mut Server) {
    let port = server
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write as _;
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "server exited ({status}): {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "server did not start: {}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write_dir(dir: &Path, files: &[(&str, &str)], tmp: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    for (n, b) in files {
        std::fs::write(dir.join(n), b).unwrap();
    }
    let url = format!("file://{}", dir.display());
    strata(tmp)
        .args(["migrate", "hash", "--dir", &url])
        .assert()
        .success();
    url
}

pub(crate) fn token(db: &str, project: &str, scope: &str, tmp: &Path) -> String {
    let out = strata(tmp)
        .args([
            "registry",
            "token",
            "create",
            "--db",
            db,
            "--project",
            project,
            "--scope",
            scope,
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    stdout
        .split_terminator('\n')
        .next_back()
        .unwrap()
        .to_owned()
}

#[test]
fn push_apply_from_registry_to_postgres_and_see_the_deployment() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(pg) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    // Trust auth ignores the password, so the URL can carry one: it must never show up anywhere.
    let target = pg
        .url
        .replacen("postgres://postgres@", "postgres://postgres:s3cretpw@", 1);
    assert!(target.contains("s3cretpw"), "{target}");

    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let db = format!("sqlite://{}", t.join("registry.db").display());
    let ci = token(&db, "app", "push,read,report", t);
    assert!(ci.starts_with("strata_"));
    let server = start_server(&db, t);

    let dir = write_dir(
        &t.join("m"),
        &[
            ("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n"),
            (
                "2_posts.sql",
                "CREATE TABLE posts (id int);\nCREATE INDEX posts_id ON posts (id);\n",
            ),
        ],
        t,
    );
    strata(t)
        .args([
            "migrate",
            "push",
            "app:v1",
            "--dir",
            &dir,
            "--registry",
            &server.base,
            "--token",
            &ci,
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Pushed app/app version")
                .and(predicate::str::contains("latest, v1")),
        );
    // Without a token: refused with advice.
    strata(t)
        .args([
            "migrate",
            "push",
            "app",
            "--dir",
            &dir,
            "--registry",
            &server.base,
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("token"));

    // Status and apply from the registry, token from the environment.
    let reg = |c: &mut Command| {
        c.env("STRATA_REGISTRY", &server.base)
            .env("STRATA_TOKEN", &ci);
    };
    let mut c = strata(t);
    reg(&mut c);
    c.args([
        "migrate",
        "status",
        "--dir",
        "strata://app?tag=v1",
        "--url",
        &target,
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("PENDING"));
    let mut c = strata(t);
    reg(&mut c);
    let out = c
        .args([
            "migrate",
            "apply",
            "--dir",
            "strata://app?tag=v1",
            "--url",
            &target,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("-- 2 migrations"));
    let all_output = String::from_utf8_lossy(&out.get_output().stdout).into_owned()
        + &String::from_utf8_lossy(&out.get_output().stderr);
    // atlas:// works the same, and now nothing is pending.
    let mut c = strata(t);
    reg(&mut c);
    c.args([
        "migrate",
        "apply",
        "--dir",
        "atlas://app?tag=v1",
        "--url",
        &target,
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("No migration files to execute"));

    // A failing version is reported too, with its error.
    std::fs::write(t.join("m/3_bad.sql"), "CREATE TABLE users (id int);\n").unwrap();
    strata(t)
        .args(["migrate", "hash", "--dir", &dir])
        .assert()
        .success();
    strata(t)
        .args([
            "migrate",
            "push",
            "app:v2",
            "--dir",
            &dir,
            "--registry",
            &server.base,
            "--token",
            &ci,
        ])
        .assert()
        .success();
    let mut c = strata(t);
    reg(&mut c);
    c.args([
        "migrate",
        "apply",
        "--dir",
        "strata://app?tag=v2",
        "--url",
        &target,
    ])
    .assert()
    .failure()
    .stderr(predicate::str::contains("already exists"));

    // The deployments, in the API and on the page.
    let client = strata_registry_client::Client::new(&server.base, Some(ci.clone())).unwrap();
    let mut deployments = rt.block_on(client.deployments("app")).unwrap();
    assert_eq!(deployments.len(), 3, "{deployments:?}");
    let failed = deployments.remove(0);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["tag"], "v2");
    assert_eq!(
        (
            failed["from_version"].as_str(),
            failed["to_version"].as_str()
        ),
        (Some("2"), Some("3"))
    );
    assert!(
        failed["error"].as_str().unwrap().contains("already exists"),
        "{failed}"
    );
    assert!(
        failed["files"][0]["error"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    let first = &deployments[1];
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["tag"], "v1");
    assert_eq!(first["to_version"], "2");
    assert_eq!(first["statements"], 3);
    assert_eq!(first["files"].as_array().unwrap().len(), 2);
    assert_eq!(deployments[0]["status"], "noop");
    let shown_target = first["target"].as_str().unwrap();
    assert!(
        shown_target.starts_with("postgres://127.0.0.1:5432/"),
        "{shown_target}"
    );
    let page = rt
        .block_on(client.get_text("/projects/app/deployments"))
        .unwrap();
    assert!(
        page.contains(shown_target) && page.contains("succeeded"),
        "{page}"
    );

    // The server shuts down gracefully on SIGTERM.
    let pid = server.child.id().to_string();
    assert!(
        StdCommand::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        log.contains("\"request_id\""),
        "structured logs carry request ids: {log}"
    );
    assert!(log.contains("shutting down"));
    // No credential anywhere: CLI output, server log, API.
    for text in [
        all_output.as_str(),
        log.as_str(),
        &serde_json::to_string(&deployments).unwrap(),
        page.as_str(),
    ] {
        assert!(!text.contains("s3cretpw"));
        assert!(!text.contains(&ci[20..]), "the token never appears");
    }
}

#[test]
fn token_commands_and_push_refusals() {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let db = format!("sqlite://{}", t.join("registry.db").display());
    let tok = token(&db, "app", "read,push", t);
    let out = strata(t)
        .args(["registry", "token", "list", "--db", &db, "--project", "app"])
        .assert()
        .success();
    let listing = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let id = &tok["strata_".len().."strata_".len() + 12];
    assert!(
        listing.contains(id) && listing.contains("read,push"),
        "{listing}"
    );
    assert!(!listing.contains(&tok[20..]), "secrets are never listed");
    strata(t)
        .args([
            "registry",
            "token",
            "create",
            "--db",
            &db,
            "--project",
            "app",
            "--scope",
            "write",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("use read, push, report or admin"));
    strata(t)
        .args([
            "registry",
            "project",
            "app",
            "--db",
            &db,
            "--immutable-tags",
            "true",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("immutable"));
    let server = start_server(&db, t);
    let dir = write_dir(&t.join("m"), &[("1.sql", "SELECT 1;\n")], t);
    let push = |name: &str| {
        strata(t)
            .args([
                "migrate",
                "push",
                name,
                "--dir",
                &dir,
                "--registry",
                &server.base,
                "--token",
                &tok,
            ])
            .assert()
    };
    push("app:rel").success();
    std::fs::write(t.join("m/2.sql"), "SELECT 2;\n").unwrap();
    strata(t)
        .args(["migrate", "hash", "--dir", &dir])
        .assert()
        .success();
    push("app:rel")
        .failure()
        .stderr(predicate::str::contains("immutable"));
    push("app:rel2").success();
    // A local checksum problem is refused before anything is sent.
    std::fs::write(t.join("m/2.sql"), "SELECT 3;\n").unwrap();
    push("app:x")
        .failure()
        .stdout(predicate::str::contains("checksum"));
    push("other:x").failure();
    strata(t)
        .args([
            "registry",
            "token",
            "revoke",
            "--db",
            &db,
            "--project",
            "app",
            id,
        ])
        .assert()
        .success();
    // Revocation reaches the server within its token cache lifetime.
    std::thread::sleep(strata_registry::server::TOKEN_CACHE_TTL + Duration::from_millis(200));
    strata(t)
        .args(["migrate", "hash", "--dir", &dir])
        .assert()
        .success();
    push("app:y")
        .failure()
        .stderr(predicate::str::contains("not valid"));
}

#[test]
fn git_tag_tags_the_current_commit() {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let db = format!("sqlite://{}", t.join("registry.db").display());
    let tok = token(&db, "app", "push,read", t);
    let server = start_server(&db, t);
    let dir = write_dir(&t.join("repo/m"), &[("1.sql", "SELECT 1;\n")], t);
    let git = |args: &[&str]| {
        StdCommand::new("git")
            .args(args)
            .current_dir(t.join("repo"))
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@x")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@x")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !(git(&["init", "-q"]) && git(&["add", "."]) && git(&["commit", "-qm", "x"])) {
        eprintln!("git unavailable: skipped");
        return;
    }
    let head = StdCommand::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(t.join("repo"))
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    strata(t)
        .args([
            "migrate",
            "push",
            "app",
            "--git-tag",
            "--dir",
            &dir,
            "--registry",
            &server.base,
            "--token",
            &tok,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(head.as_str()));
}

/// CI's push: `migrate lint --format json` written to a file, then `migrate push --lint-report FILE --dev-url URL`
/// (the directory replayed on a SQLite dev database for its schema model); an apply from the registry reports
/// its files one by one. The version, schema, deployment and "what runs where" pages show all of it.
#[test]
fn push_with_lint_report_and_schema_then_the_pages_show_them() {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let db = format!("sqlite://{}", t.join("registry.db").display());
    let ci = token(&db, "app", "push,read,report", t);
    let server = start_server(&db, t);
    let dir = write_dir(
        &t.join("m"),
        &[
            (
                "1_users.sql",
                "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);\n",
            ),
            (
                "2_shop.sql",
                "CREATE TABLE products (id integer PRIMARY KEY, name text);\n\
                 CREATE TABLE orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n\
                 CREATE TABLE order_items (id integer PRIMARY KEY, order_id integer REFERENCES orders (id), \
                 product_id integer REFERENCES products (id));\n",
            ),
            (
                "3_audit.sql",
                "CREATE TABLE audit (id integer PRIMARY KEY);\n",
            ),
            ("4_drop.sql", "-- not needed\nDROP TABLE audit;\n"),
        ],
        t,
    );
    let dev = "sqlite://dev?mode=memory";
    let lint = strata(t)
        .args([
            "migrate",
            "lint",
            "--dir",
            &dir,
            "--dev-url",
            dev,
            "--latest",
            "1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report = t.join("lint.json");
    std::fs::write(&report, &lint.stdout).unwrap();
    assert!(
        String::from_utf8_lossy(&lint.stdout).contains("DS102"),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    let push = |extra: &[&str]| {
        let mut c = strata(t);
        c.args([
            "migrate",
            "push",
            "app/shop:v1",
            "--dir",
            &dir,
            "--registry",
            &server.base,
            "--token",
            &ci,
        ])
        .args(extra);
        c.assert()
    };
    // A file that is not a lint report is refused before anything is sent.
    std::fs::write(t.join("bad.json"), "{\"files\": []}").unwrap();
    push(&["--lint-report", t.join("bad.json").to_str().unwrap()])
        .failure()
        .stderr(predicate::str::contains(
            "bad.json: it has no \"Files\" list",
        ));
    push(&["--lint-report", report.to_str().unwrap(), "--dev-url", dev])
        .success()
        .stdout(predicate::str::contains("Pushed app/shop version"));

    let target = format!("sqlite://{}", t.join("target.db").display());
    let mut c = strata(t);
    c.env("STRATA_REGISTRY", &server.base)
        .env("STRATA_TOKEN", &ci)
        .args([
            "migrate",
            "apply",
            "--dir",
            "strata://app/shop?tag=v1",
            "--url",
            &target,
        ])
        .assert()
        .success();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = strata_registry_client::Client::new(&server.base, Some(ci.clone())).unwrap();
    let deployments = rt.block_on(client.deployments("app")).unwrap();
    let d = &deployments[0];
    let files = d["files"].as_array().unwrap();
    assert_eq!(files.len(), 4, "{d}");
    assert_eq!(
        (
            &files[1]["name"],
            &files[1]["version"],
            &files[1]["outcome"],
            &files[1]["statements"]
        ),
        (
            &json!("2_shop.sql"),
            &json!("2"),
            &json!("applied"),
            &json!(3)
        ),
        "{d}"
    );
    assert!(
        files.iter().all(|f| f["duration_ms"].as_i64().is_some()),
        "{d}"
    );
    let version = d["version"].as_str().unwrap().to_owned();
    let page = |path: &str| rt.block_on(client.get_text(path)).unwrap();

    let v = page(&format!("/projects/app/dirs/shop/versions/{version}"));
    assert!(
        v.contains("id=\"lint-report\"") && v.contains("DS102"),
        "{v}"
    );
    assert!(
        v.contains("<td>2</td>"),
        "the finding's line in 4_drop.sql: {v}"
    );
    assert!(v.contains("<span class=\"kw\">DROP</span>"), "{v}");
    let schema = page(&format!(
        "/projects/app/dirs/shop/versions/{version}/schema"
    ));
    assert!(schema.contains("SQLite, 4 tables"), "{schema}");
    assert_eq!(
        schema.matches("<g class=\"er-table\"").count(),
        4,
        "{schema}"
    );
    assert_eq!(
        schema.matches("<path class=\"er-fk\"").count(),
        3,
        "{schema}"
    );
    for edge in [
        "data-from=\"orders\" data-to=\"users\"",
        "data-from=\"order_items\" data-to=\"orders\"",
        "data-from=\"order_items\" data-to=\"products\"",
    ] {
        assert!(schema.contains(edge), "{edge}: {schema}");
    }
    let dp = page(&format!("/projects/app/deployments/{}", d["id"]));
    assert!(
        dp.contains("<code>2_shop.sql</code></td><td>2</td>") && dp.contains("applied"),
        "{dp}"
    );
    let overview = page("/overview");
    assert!(
        overview.contains(&version[..12]) && overview.contains("<span class=\"tag\">v1</span>"),
        "{overview}"
    );
}

/// `kill -9` of the server while clients push: after a restart every acknowledged version is there, complete, and
/// no version is half-written.
#[test]
fn kill_9_during_pushes_loses_nothing_committed() {
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let db = format!("sqlite://{}", t.join("registry.db").display());
    let tok = token(&db, "app", "push,read", t);
    let mut server = start_server(&db, t);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let client = strata_registry_client::Client::new(&server.base, Some(tok.clone())).unwrap();
        let acked = acked.clone();
        let stop = stop.clone();
        tasks.push(rt.spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                // Directories of 50 files, each push unique.
                let files: Vec<strata_migrate::MigrationFile> = (0..50)
                    .map(|i| {
                        strata_migrate::MigrationFile::new(
                            format!("{i:03}.sql"),
                            format!("CREATE TABLE w{worker}_n{n}_t{i} (id int);\n"),
                        )
                    })
                    .collect();
                let sum = strata_migrate::sum::SumFile::compute(&files).to_bytes();
                let d = strata_migrate::MigrationDir::from_parts("w", files, Some(sum)).unwrap();
                match client.push("app", "app", &d, &["t".into()]).await {
                    Ok(out) => acked.lock().unwrap().push(out.version.id),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    // Let pushes run, then kill the server mid-stream.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = server.child.id().to_string();
    assert!(
        StdCommand::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    let _ = server.child.wait();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for task in tasks {
        let _ = rt.block_on(task);
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 20,
        "only {} pushes before the kill",
        acked.len()
    );

    // Reopen the database as a restarted server would.
    let store = rt.block_on(strata_registry::open_store(&db)).unwrap();
    let versions = rt.block_on(store.versions("app", "app")).unwrap();
    for id in &acked {
        assert!(
            versions.iter().any(|v| &v.id == id),
            "acknowledged version {id} lost"
        );
    }
    for v in &versions {
        let c = rt
            .block_on(store.content("app", "app", &strata_registry::Ref::Version(v.id.clone())))
            .unwrap()
            .unwrap();
        assert_eq!(
            c.files.len() as i64,
            v.files,
            "version {} is half-written",
            v.id
        );
        let again = strata_registry::upload::finish(
            c.files
                .iter()
                .cloned()
                .chain([("atlas.sum".to_string(), c.sum.clone())])
                .collect(),
        )
        .unwrap();
        assert_eq!(again.digest, v.id);
    }
    let tag = rt
        .block_on(store.resolve("app", "app", &strata_registry::Ref::Tag("t".into())))
        .unwrap()
        .unwrap();
    assert!(versions.iter().any(|v| v.id == tag.id));
    // And a restarted server serves it.
    let server = start_server(&db, t);
    let client = strata_registry_client::Client::new(&server.base, Some(tok)).unwrap();
    let fetched = rt
        .block_on(client.fetch(
            "app",
            "app",
            &strata_registry_client::Ref::Tag("latest".into()),
        ))
        .unwrap();
    assert!(strata_migrate::sum::validate(&fetched.dir).is_ok());
}

/// Two `strata registry serve` processes started at the same moment on one empty PostgreSQL database are one
/// registry: both come up (one creates the schema, the other waits for it), a push through one is served by the
/// other, concurrent pushes through both agree, an apply fetched through one is reported and listed through the
/// other, and a revocation on the database reaches both within `--token-cache-ttl`.
#[test]
fn two_serve_processes_on_one_postgres_database_are_one_registry() {
    use strata_registry_client::{Client, ClientError};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(pg) = rt.block_on(strata_driver::testing::postgres()) else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let t = tmp.path();
    let db = pg.url.clone();
    let ttl = Duration::from_millis(300);
    let ttl_arg = ["--token-cache-ttl", "300ms"];
    let mut a = spawn_server(&db, &t.join("a"), &ttl_arg);
    let mut b = spawn_server(&db, &t.join("b"), &ttl_arg);
    wait_healthy(&mut a);
    wait_healthy(&mut b);

    let ci = token(&db, "app", "push,read,report", t);
    let dir = write_dir(
        &t.join("m"),
        &[
            ("1_users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n"),
            ("2_posts.sql", "CREATE TABLE posts (id int);\n"),
        ],
        t,
    );
    let push = |name: &str, dir: &str, server: &Server| {
        strata(t)
            .args([
                "migrate",
                "push",
                name,
                "--dir",
                dir,
                "--registry",
                &server.base,
                "--token",
                &ci,
            ])
            .assert()
    };
    push("app:v1", &dir, &a).success();
    let ca = Client::new(&a.base, Some(ci.clone())).unwrap();
    let cb = Client::new(&b.base, Some(ci.clone())).unwrap();
    let listing = "/api/projects/app/dirs/app/tags/v1";
    let from_b = rt.block_on(cb.get_text(listing)).unwrap();
    assert!(from_b.contains("CREATE TABLE posts"), "{from_b}");
    assert_eq!(rt.block_on(ca.get_text(listing)).unwrap(), from_b);
    let archive = "/api/projects/app/dirs/app/tags/v1/archive";
    assert_eq!(
        rt.block_on(ca.get_text(archive)).unwrap(),
        rt.block_on(cb.get_text(archive)).unwrap()
    );

    // Four pushes of one tag at once, two through each process: all succeed and both agree on the tag.
    let dirs: Vec<String> = (0..4)
        .map(|i| {
            let sql = format!("CREATE TABLE c{i} (id int);\n");
            write_dir(&t.join(format!("c{i}")), &[("1.sql", sql.as_str())], t)
        })
        .collect();
    let children: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let server = if i % 2 == 0 { &a } else { &b };
            StdCommand::new(assert_cmd::cargo::cargo_bin("strata"))
                .args(["migrate", "push", "app/c:prod", "--dir", d])
                .args(["--registry", &server.base, "--token", &ci])
                .env("TMPDIR", t)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tags = "/api/projects/app/dirs/c/tags";
    let tags_a = rt.block_on(ca.get_text(tags)).unwrap();
    assert_eq!(tags_a, rt.block_on(cb.get_text(tags)).unwrap());
    let tags_json: serde_json::Value = serde_json::from_str(&tags_a).unwrap();
    let version_of = |n: &str| {
        tags_json
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .map(|t| t["version"].clone())
    };
    assert!(version_of("prod").is_some(), "{tags_a}");
    assert_eq!(version_of("prod"), version_of("latest"), "{tags_a}");
    let versions = "/api/projects/app/dirs/c/versions";
    let versions_a = rt.block_on(ca.get_text(versions)).unwrap();
    assert_eq!(versions_a, rt.block_on(cb.get_text(versions)).unwrap());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&versions_a)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Apply from B into a SQLite database; the run is reported through B and listed through A.
    let target = format!("sqlite://{}", t.join("target.db").display());
    strata(t)
        .args([
            "migrate",
            "apply",
            "--dir",
            "strata://app?tag=v1",
            "--url",
            &target,
        ])
        .args(["--registry", &b.base, "--token", &ci])
        .assert()
        .success()
        .stdout(predicate::str::contains("-- 2 migrations"));
    let deployments = rt.block_on(ca.deployments("app")).unwrap();
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    assert_eq!(deployments[0]["status"], "succeeded");
    assert_eq!(deployments[0]["tag"], "v1");
    assert_eq!(deployments, rt.block_on(cb.deployments("app")).unwrap());

    // Revoked on the database: neither process is told, both refuse the token within the TTL.
    let id = &ci["strata_".len().."strata_".len() + 12];
    for c in [&ca, &cb] {
        rt.block_on(c.get_text("/api/projects/app")).unwrap(); // cached now
    }
    strata(t)
        .args([
            "registry",
            "token",
            "revoke",
            "--db",
            &db,
            "--project",
            "app",
            id,
        ])
        .assert()
        .success();
    // Every verification either process cached happened before t0, so a request sent later than t0 + TTL must be
    // refused, however loaded the machine is (a process ignoring --token-cache-ttl would accept it for up to 5 s).
    let t0 = Instant::now();
    for (c, name) in [(&ca, "A"), (&cb, "B")] {
        let mut last_accepted = None;
        loop {
            let sent = t0.elapsed();
            match rt.block_on(c.get_text("/api/projects/app")) {
                Err(ClientError::Unauthorized(_)) => break,
                Ok(_) => last_accepted = Some(sent),
                Err(e) => panic!("{name}: {e}"),
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "{name} never refused the revoked token"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(sent) = last_accepted {
            assert!(
                sent < ttl,
                "{name} accepted the revoked token in a request sent {sent:?} after the revocation"
            );
        }
    }
    push("app:v2", &dir, &b)
        .failure()
        .stderr(predicate::str::contains("not valid"));

    // Both shut down gracefully; neither log holds the token, an error or schema-creation noise.
    for mut s in [a, b] {
        assert!(
            StdCommand::new("kill")
                .args(["-TERM", &s.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let status = s.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        let log = std::fs::read_to_string(&s.log).unwrap();
        assert!(
            !log.contains(&ci["strata_".len() + 13..]),
            "the token never appears"
        );
        assert!(!log.contains("\"ERROR\""), "{log}");
        // The process that found the schema already created says nothing about it.
        assert!(!log.contains("already exists"), "{log}");
    }
}
