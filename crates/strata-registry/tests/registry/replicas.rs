//! Several registry replicas on one PostgreSQL database behave as one service.
//!
//! Each replica here is as separate as one process allows: its own `Store` (its own connection pool), its own
//! `AppState` (its own token and content caches and metrics) and its own axum server on its own ephemeral port,
//! reached over real HTTP. They share nothing but the database. (`strata-cli/tests/cli/registry.rs` starts two
//! `strata registry serve` processes on one database as well.)
//!
//! Every test creates and drops its own database; without a PostgreSQL server they are skipped, except with
//! `CI=true`, where they fail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{files, json_body, tar_body, validated};
use strata_driver::testing::TestDb;
use strata_registry::Store;
use strata_registry::server::{AppState, Config};
use tokio::sync::{Barrier, oneshot};

/// One registry server: its own store, state and listening socket.
struct Replica {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Replica {
    /// Opens its own store on `url` (creating the schema if needed, as `strata registry serve` does) and serves
    /// on an ephemeral loopback port.
    async fn start(url: &str, config: Config) -> Result<Self, strata_registry::RegistryError> {
        let store = strata_registry::open_store(url).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(strata_registry::server::serve(
            listener,
            AppState::new(store, config),
            async move {
                let _ = rx.await;
            },
        ));
        Ok(Self {
            base,
            stop: Some(tx),
            task,
        })
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// A response, read whole.
struct Res {
    status: u16,
    body: Vec<u8>,
}

impl Res {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

async fn send(
    http: &reqwest::Client,
    method: &str,
    url: String,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Res {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http.request(method, &url).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(c) = content_type {
        req = req.header("content-type", c);
    }
    let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = res.status().as_u16();
    let body = res.bytes().await.expect("response body").to_vec();
    Res { status, body }
}

async fn get(http: &reqwest::Client, r: &Replica, path: &str, token: &str) -> Res {
    send(
        http,
        "GET",
        format!("{}{path}", r.base),
        Some(token),
        None,
        vec![],
    )
    .await
}

/// `n` replicas on one fresh database, started one after the other, and a separate store on the same database
/// that plays the part of `strata registry token create --db …`.
async fn cluster(n: usize, config: Config) -> Option<(TestDb, Vec<Replica>, Arc<dyn Store>)> {
    let db = strata_driver::testing::postgres().await?;
    let mut replicas = Vec::new();
    for _ in 0..n {
        replicas.push(Replica::start(&db.url, config.clone()).await.unwrap());
    }
    let admin = strata_registry::open_store(&db.url).await.unwrap();
    Some((db, replicas, admin))
}

async fn token(store: &dyn Store, project: &str, scopes: &str) -> String {
    strata_registry::auth::create_token(store, project, "t", scopes.parse().unwrap())
        .await
        .unwrap()
        .1
}

/// Migration files `1..=n` of a directory whose statements also carry `tag`, so contents differ between tags.
fn pairs(n: usize, tag: &str) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| {
            (
                format!("{i:03}_step.sql"),
                format!("CREATE TABLE {tag}_t{i} (id int);\n"),
            )
        })
        .collect()
}

fn refs(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// The files of a tar archive, in order.
fn untar(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read as _;
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (name, b)
        })
        .collect()
}

/// `files` as a served archive lists them: `atlas.sum` first, then the migrations in order.
fn archive_order(mut f: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let sum = f.pop().expect("atlas.sum is last in common::files");
    assert_eq!(sum.0, "atlas.sum");
    f.insert(0, sum);
    f
}

/// Replicas starting at the same moment on an empty database all come up, and the schema is created once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_on_an_empty_database_all_come_up() {
    for round in 0..3 {
        let Some(db) = strata_driver::testing::postgres().await else {
            return;
        };
        let barrier = Arc::new(Barrier::new(3));
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let url = db.url.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    Replica::start(&url, Config::default()).await
                })
            })
            .collect();
        let mut replicas = Vec::new();
        for s in starts {
            match s.await.unwrap() {
                Ok(r) => replicas.push(r),
                Err(e) => panic!("round {round}: a replica failed to start: {e}"),
            }
        }
        let http = http();
        for r in &replicas {
            let h = send(
                &http,
                "GET",
                format!("{}/healthz", r.base),
                None,
                None,
                vec![],
            )
            .await;
            assert_eq!(h.status, 200, "round {round}: {}", h.text());
        }
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert_eq!(
            tables,
            [
                "blobs",
                "deployments",
                "drifts",
                "projects",
                "sessions",
                "tags",
                "tokens",
                "version_attachments",
                "version_files",
                "versions"
            ],
            "round {round}"
        );
        // The schema they agreed on works through all of them.
        let admin = strata_registry::open_store(&db.url).await.unwrap();
        let tok = token(admin.as_ref(), "app", "push,read").await;
        let p = pairs(2, "boot");
        let pushed = send(
            &http,
            "POST",
            format!("{}/api/projects/app/dirs/app/versions", replicas[0].base),
            Some(&tok),
            Some("application/json"),
            json_body(&refs(&p)),
        )
        .await;
        assert_eq!(pushed.status, 201, "{}", pushed.text());
        for r in &replicas {
            let l = get(&http, r, "/api/projects/app/dirs/app/tags/latest", &tok).await;
            assert_eq!(l.status, 200, "{}", l.text());
            assert_eq!(l.json()["version"]["id"], pushed.json()["version"]["id"]);
        }
    }
}

/// A push through one replica is served byte for byte by the others; listings agree everywhere; a tag moved
/// through one replica is seen moved by a replica that had served (and cached) the old content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_through_one_replica_is_served_identically_by_the_others() {
    let Some((_db, rs, admin)) = cluster(3, Config::default()).await else {
        return;
    };
    let (a, b, c) = (&rs[0], &rs[1], &rs[2]);
    let tok = token(admin.as_ref(), "app", "push,read").await;
    let http = http();
    let push = |r: &Replica, p: &[(String, String)], tag: &str| {
        send(
            &http,
            "POST",
            format!("{}/api/projects/app/dirs/core/versions?tag={tag}", r.base),
            Some(&tok),
            Some("application/x-tar"),
            tar_body(&refs(p)),
        )
    };

    let p1 = pairs(2, "one");
    let v1 = validated(&refs(&p1));
    let r = push(a, &p1, "v1").await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["version"]["id"], v1.digest.as_str());

    let expected = archive_order(files(&refs(&p1)));
    let mut archives = Vec::new();
    for r in [a, b, c] {
        let t = get(
            &http,
            r,
            "/api/projects/app/dirs/core/tags/v1/archive",
            &tok,
        )
        .await;
        assert_eq!(t.status, 200, "{}", t.text());
        assert_eq!(untar(&t.body), expected, "the pushed files, byte for byte");
        let v = get(
            &http,
            r,
            &format!("/api/projects/app/dirs/core/versions/{}/archive", v1.digest),
            &tok,
        )
        .await;
        assert_eq!(v.body, t.body, "by tag and by version id: the same archive");
        archives.push(t.body);
    }
    assert!(
        archives.windows(2).all(|w| w[0] == w[1]),
        "byte-identical on every replica"
    );

    // A second version through B; every listing is the same on every replica.
    let p2 = pairs(3, "two");
    let v2 = validated(&refs(&p2));
    let r = push(b, &p2, "v2").await;
    assert_eq!(r.status, 201, "{}", r.text());
    for path in [
        "/api/projects/app/dirs/core/tags",
        "/api/projects/app/dirs/core/versions",
        "/api/projects/app/dirs",
        "/api/projects/app",
        "/api/projects/app/dirs/core/tags/v1",
        "/api/projects/app/dirs/core/tags/latest",
    ] {
        let from_a = get(&http, a, path, &tok).await;
        assert_eq!(from_a.status, 200, "{path}: {}", from_a.text());
        for r in [b, c] {
            let other = get(&http, r, path, &tok).await;
            assert_eq!(other.status, 200, "{path}: {}", other.text());
            assert_eq!(other.json(), from_a.json(), "{path}");
        }
    }
    let tags = get(&http, c, "/api/projects/app/dirs/core/tags", &tok)
        .await
        .json();
    let names: Vec<_> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["version"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("latest", v2.digest.as_str()),
            ("v1", v1.digest.as_str()),
            ("v2", v2.digest.as_str())
        ]
    );
    let versions = get(&http, a, "/api/projects/app/dirs/core/versions", &tok)
        .await
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 2);

    // Move v1 through C: A and B (which served and cached v1's old content) serve the new one at once.
    let p3 = pairs(1, "three");
    let r = push(c, &p3, "v1").await;
    assert_eq!(r.status, 201, "{}", r.text());
    let expected = archive_order(files(&refs(&p3)));
    for r in [a, b, c] {
        let t = get(
            &http,
            r,
            "/api/projects/app/dirs/core/tags/v1/archive",
            &tok,
        )
        .await;
        assert_eq!(untar(&t.body), expected, "{}", r.base);
    }
}

/// Ten clients push different contents under one tag at once, alternating between two replicas: every push
/// succeeds, and afterwards both replicas agree on one tag whose content is one of the pushed versions (and
/// `latest`, set in the same transactions, names the same one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_of_one_tag_split_across_replicas_agree() {
    let Some((_db, rs, admin)) = cluster(2, Config::default()).await else {
        return;
    };
    let tok = token(admin.as_ref(), "app", "push,read").await;
    let http = http();
    let clients = 10;
    let barrier = Arc::new(Barrier::new(clients));
    let mut tasks = Vec::new();
    let mut pushed = std::collections::HashMap::new();
    for i in 0..clients {
        let p = pairs(i % 3 + 1, &format!("c{i}"));
        pushed.insert(validated(&refs(&p)).digest, archive_order(files(&refs(&p))));
        let url = format!(
            "{}/api/projects/app/dirs/app/versions?tag=prod",
            rs[i % 2].base
        );
        let (http, tok, barrier) = (http.clone(), tok.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let body = json_body(&refs(&p));
            barrier.wait().await;
            send(
                &http,
                "POST",
                url,
                Some(&tok),
                Some("application/json"),
                body,
            )
            .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text());
    }

    let tags_a = get(&http, &rs[0], "/api/projects/app/dirs/app/tags", &tok).await;
    let tags_b = get(&http, &rs[1], "/api/projects/app/dirs/app/tags", &tok).await;
    assert_eq!(
        tags_a.json(),
        tags_b.json(),
        "both replicas list the same tags"
    );
    let tags = tags_a.json();
    let by_name = |n: &str| {
        tags.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .and_then(|t| t["version"].as_str())
            .unwrap_or_else(|| panic!("no tag {n}: {tags}"))
            .to_owned()
    };
    let prod = by_name("prod");
    assert!(
        pushed.contains_key(&prod),
        "prod names a pushed version: {prod}"
    );
    assert_eq!(by_name("latest"), prod, "latest and prod moved together");

    let mut archives = Vec::new();
    for r in &rs {
        let t = get(
            &http,
            r,
            "/api/projects/app/dirs/app/tags/prod/archive",
            &tok,
        )
        .await;
        assert_eq!(t.status, 200, "{}", t.text());
        assert_eq!(
            &untar(&t.body),
            &pushed[&prod],
            "prod's content is that version's"
        );
        archives.push(t.body);
    }
    assert_eq!(archives[0], archives[1]);
    let va = get(&http, &rs[0], "/api/projects/app/dirs/app/versions", &tok)
        .await
        .json();
    let vb = get(&http, &rs[1], "/api/projects/app/dirs/app/versions", &tok)
        .await
        .json();
    assert_eq!(va, vb);
    assert_eq!(
        va.as_array().unwrap().len(),
        clients,
        "every push stored its version"
    );
}

/// Immutable tags hold across replicas: a tag created through A cannot be moved through B, and of concurrent
/// first pushes of one immutable tag through both replicas exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn immutable_tags_are_enforced_across_replicas() {
    let Some((_db, rs, admin)) = cluster(2, Config::default()).await else {
        return;
    };
    let (a, b) = (&rs[0], &rs[1]);
    let tok = token(admin.as_ref(), "app", "admin").await;
    let http = http();
    let r = send(
        &http,
        "PATCH",
        format!("{}/api/projects/app", a.base),
        Some(&tok),
        Some("application/json"),
        br#"{"immutable_tags": true}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(&http, b, "/api/projects/app", &tok).await.json()["project"]["immutable_tags"],
        true
    );

    let push = |r: &Replica, p: &[(String, String)], tag: &str| {
        send(
            &http,
            "POST",
            format!("{}/api/projects/app/dirs/app/versions?tag={tag}", r.base),
            Some(&tok),
            Some("application/json"),
            json_body(&refs(p)),
        )
    };
    let p1 = pairs(1, "first");
    let v1 = validated(&refs(&p1));
    let r = push(a, &p1, "v1").await;
    assert_eq!(r.status, 201, "{}", r.text());

    let p2 = pairs(2, "second");
    let r = push(b, &p2, "v1").await;
    assert_eq!(r.status, 409, "a move through B is refused: {}", r.text());
    assert_eq!(r.json()["code"], "tag_immutable");
    // Nothing of the refused push remains (it was one transaction), and the same content is accepted again.
    let r = push(b, &p1, "v1").await;
    assert_eq!(r.status, 200, "{}", r.text());
    for rep in [a, b] {
        let t = get(&http, rep, "/api/projects/app/dirs/app/tags/v1", &tok)
            .await
            .json();
        assert_eq!(t["version"]["id"], v1.digest.as_str());
        let v = get(&http, rep, "/api/projects/app/dirs/app/versions", &tok)
            .await
            .json();
        assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    }

    // Concurrent first pushes of a new immutable tag with different contents, alternating replicas.
    let clients = 10;
    let barrier = Arc::new(Barrier::new(clients));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let p = pairs(1, &format!("race{i}"));
        let digest = validated(&refs(&p)).digest;
        let url = format!(
            "{}/api/projects/app/dirs/app/versions?tag=rel",
            rs[i % 2].base
        );
        let (http, tok, barrier) = (http.clone(), tok.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let body = json_body(&refs(&p));
            barrier.wait().await;
            (
                digest,
                send(
                    &http,
                    "POST",
                    url,
                    Some(&tok),
                    Some("application/json"),
                    body,
                )
                .await,
            )
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (digest, r) = t.await.unwrap();
        match r.status {
            201 => winners.push(digest),
            409 => assert_eq!(r.json()["code"], "tag_immutable", "{}", r.text()),
            s => panic!("unexpected {s}: {}", r.text()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one first push wins: {winners:?}");
    for rep in [a, b] {
        let t = get(&http, rep, "/api/projects/app/dirs/app/tags/rel", &tok)
            .await
            .json();
        assert_eq!(t["version"]["id"], winners[0].as_str());
    }
}

/// A deployment reported through one replica is listed (and shown) by the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_reported_through_one_replica_is_listed_by_the_others() {
    let Some((_db, rs, admin)) = cluster(2, Config::default()).await else {
        return;
    };
    let (a, b) = (&rs[0], &rs[1]);
    let tok = token(admin.as_ref(), "app", "read,report").await;
    let http = http();
    let body = serde_json::json!({
        "dir": "app", "target": "postgres://admin:hunter2@db.internal:5432/prod", "status": "failed",
        "error": "relation \"users\" already exists", "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:00:02Z", "from_version": "1", "to_version": "2",
        "files": [{"name": "2.sql", "statements": 1, "error": "boom"}], "statements": 1, "duration_ms": 2000
    });
    let r = send(
        &http,
        "POST",
        format!("{}/api/projects/app/deployments", a.base),
        Some(&tok),
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].clone();

    let from_b = get(&http, b, "/api/projects/app/deployments", &tok).await;
    assert_eq!(from_b.status, 200, "{}", from_b.text());
    let list = from_b.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["status"], "failed");
    assert_eq!(list[0]["to_version"], "2");
    assert!(!from_b.text().contains("hunter2"), "{}", from_b.text());
    assert_eq!(
        get(&http, a, "/api/projects/app/deployments", &tok)
            .await
            .json(),
        list
    );
    let filtered = get(&http, b, "/api/projects/app/deployments?dir=app", &tok)
        .await
        .json();
    assert_eq!(filtered, list);

    let page = get(&http, b, "/projects/app/deployments", &tok).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("db.internal"), "{}", page.text());
    assert!(!page.text().contains("hunter2"));
}

/// Polls `r` with `token` until it is refused (401) and returns when, counted from `since`, the last request
/// that was still accepted had been sent (`None`: refused at once).
///
/// Every verification `r` cached happened before `since`, so a request sent later than `since` + TTL can find no
/// live cache entry and must be refused: whatever the machine's load, an accepted request sent after that is a
/// bug. (Timing the refusal itself would not be load-proof: one slow request is not a late revocation.)
async fn last_accepted(
    http: &reqwest::Client,
    r: &Replica,
    token: &str,
    since: Instant,
) -> Option<Duration> {
    let mut last = None;
    loop {
        let sent = since.elapsed();
        let res = get(http, r, "/api/projects/app", token).await;
        match res.status {
            401 => return last,
            200 => last = Some(sent),
            s => panic!("unexpected {s}: {}", res.text()),
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "{} never refused the revoked token",
            r.base
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_within(ttl: Duration, last: Option<Duration>, who: &str) {
    if let Some(sent) = last {
        assert!(
            sent < ttl,
            "{who} still accepted the revoked token in a request sent {sent:?} after the revocation (TTL {ttl:?})"
        );
    }
}

/// Tokens live in the database: one created on the database or through any replica works on every replica at
/// once, and a revocation (through a replica's API or on the database) is honoured by every replica within its
/// token cache TTL — at once by the replica that revoked it, and at once everywhere with a TTL of zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_shared_and_revocation_reaches_every_replica_within_the_ttl() {
    let ttl = Duration::from_millis(300);
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let cached = Config {
        token_cache_ttl: ttl,
        ..Config::default()
    };
    let a = Replica::start(&db.url, cached.clone()).await.unwrap();
    let b = Replica::start(&db.url, cached).await.unwrap();
    let c = Replica::start(
        &db.url,
        Config {
            token_cache_ttl: Duration::ZERO,
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let admin = strata_registry::open_store(&db.url).await.unwrap();
    let http = http();

    // Created on the database: accepted everywhere at once.
    let admin_tok = token(admin.as_ref(), "app", "admin").await;
    for r in [&a, &b, &c] {
        let res = get(&http, r, "/api/projects/app", &admin_tok).await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    // Created through A: accepted by B and C at once.
    let created = send(
        &http,
        "POST",
        format!("{}/api/projects/app/tokens", a.base),
        Some(&admin_tok),
        Some("application/json"),
        br#"{"name": "ci", "scopes": ["read"]}"#.to_vec(),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let (id, tok) = (
        created["info"]["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    );
    for r in [&b, &c, &a] {
        let res = get(&http, r, "/api/projects/app", &tok).await;
        assert_eq!(res.status, 200, "{}", res.text());
    }

    // Revoked through A's API (every replica has just verified, so A and B hold it in their caches).
    let t0 = Instant::now();
    let r = send(
        &http,
        "DELETE",
        format!("{}/api/projects/app/tokens/{id}", a.base),
        Some(&admin_tok),
        None,
        vec![],
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        get(&http, &a, "/api/projects/app", &tok).await.status,
        401,
        "A forgets at once"
    );
    assert_eq!(
        get(&http, &c, "/api/projects/app", &tok).await.status,
        401,
        "no cache: at once"
    );
    // (A server ignoring the configured TTL would accept it here for up to the 5 s default.)
    assert_within(ttl, last_accepted(&http, &b, &tok, t0).await, "B");
    for r in [&a, &b, &c] {
        assert_eq!(
            get(&http, r, "/api/projects/app", &tok).await.status,
            401,
            "and stays refused"
        );
    }

    // Revoked on the database (`strata registry token revoke`): no replica is told, each notices within its TTL.
    let (info, tok2) =
        strata_registry::auth::create_token(admin.as_ref(), "app", "ci2", "read".parse().unwrap())
            .await
            .unwrap();
    for r in [&a, &b, &c] {
        assert_eq!(get(&http, r, "/api/projects/app", &tok2).await.status, 200);
    }
    let t0 = Instant::now();
    assert!(admin.revoke_token("app", &info.id).await.unwrap());
    assert_eq!(
        get(&http, &c, "/api/projects/app", &tok2).await.status,
        401,
        "no cache: at once"
    );
    for (r, who) in [(&a, "A"), (&b, "B")] {
        assert_within(ttl, last_accepted(&http, r, &tok2, t0).await, who);
    }
}
