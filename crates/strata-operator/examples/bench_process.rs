//! Benchmark of the operator *process*: a given operator command (`strata-operator run` or `strata operator run`)
//! is started against a loopback HTTP API server that holds N `AtlasMigration` resources (local directories of M
//! migrations, one SQLite database each, URLs in Secrets). Everything the running operator does goes over HTTP:
//! the list and watches (resources; Secrets and ConfigMaps by metadata), Secret reads, status writes by
//! server-side apply (delivered back on the watch as MODIFIED events), Events. Reports the time from the start of
//! the process until every resource is Ready, and the process's peak RSS (`VmHWM`) and how much of its RSS at the
//! end is the executable's own mapping.
//!
//! ```text
//! cargo build --release -p strata-operator --bin strata-operator --examples
//! target/release/examples/bench_process 500 20 -- target/release/strata-operator run
//! target/release/examples/bench_process 500 20 outage=15 -- target/release/strata-operator run
//! ```
//!
//! With `outage=S`, once all are Ready the API server goes away for S seconds (connections cut, new ones refused)
//! and comes back with its watch history gone (watches from an older resource version get `410 Gone`, as after
//! a restart); at its return one resource's spec changes, and the time until the operator writes that
//! generation's status is reported (`recovered_after`).
//!
//! The objects look as a real API server returns them after `kubectl apply` and the operator's status writes
//! (last-applied annotation, `managedFields` of both managers). The API server answers from memory (no etcd, no
//! admission, no authentication), so the times are a lower bound of a real cluster's; the RSS is the operator's
//! alone (the server is this process).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use strata_operator::crd::{AtlasMigrationSpec, Dir, KeyRef, ValueFrom, new_migration};
use tokio::sync::{Notify, broadcast};

const NS: &str = "bench";
const GROUP: &str = "/apis/db.atlasgo.io/v1alpha1";

#[derive(Default)]
struct Store {
    /// name → the resource as JSON.
    objects: BTreeMap<String, Value>,
    /// name → Secret URL.
    urls: HashMap<String, String>,
    /// Resource version counter.
    rv: u64,
    /// Watch events of the resources after the initial state: (resource version, JSON line).
    log: Vec<(u64, Bytes)>,
    ready: usize,
    /// Watches from a resource version below this get `410 Gone`.
    compacted: u64,
    /// Set when a status of this (name, generation) is written.
    awaited: Option<(String, i64)>,
    /// Requests by kind (`PATCH status`, `GET secret`, …).
    requests: BTreeMap<String, u64>,
}

struct Server {
    store: Mutex<Store>,
    events: broadcast::Sender<(u64, Bytes)>,
    total: usize,
    all_ready: Notify,
    awaited_written: Notify,
}

fn status(code: u16, reason: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "reason": reason, "code": code});
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn json_response(code: StatusCode, v: &Value) -> Response {
    (code, [("content-type", "application/json")], v.to_string()).into_response()
}

fn query(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

/// A watch that sends `replay`, then whatever `rx` delivers after `from`, and never ends by itself.
fn watch_body(
    replay: Vec<Bytes>,
    rx: Option<broadcast::Receiver<(u64, Bytes)>>,
    from: u64,
) -> Response {
    let head = futures::stream::iter(replay.into_iter().map(Ok::<_, std::convert::Infallible>));
    let live = futures::stream::unfold(rx, move |rx| async move {
        // No events to deliver: stay open (as a quiet watch does) rather than end and be re-watched at once.
        let Some(mut rx) = rx else {
            return std::future::pending().await;
        };
        loop {
            match rx.recv().await {
                Ok((rv, line)) if rv > from => return Some((Ok(line), Some(rx))),
                Ok(_) => continue,
                // Lagged or closed: end the watch; the client re-watches from its last version (replayed).
                Err(_) => return None,
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(head, live));
    ([("content-type", "application/json")], body).into_response()
}

fn meta_list(kind: &str, names: &[String]) -> Value {
    let items: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                   "metadata": {"name": n, "namespace": NS, "uid": format!("{kind}-{n}"), "resourceVersion": "1"}})
        })
        .collect();
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
           "metadata": {"resourceVersion": "1"}, "items": items})
}

async fn handle(State(srv): State<Arc<Server>>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let watch = query(&uri, "watch").as_deref() == Some("true");
    {
        let kind = match (method.as_str(), path.rsplit('/').next().unwrap_or("")) {
            (m, "status") => format!("{m} status"),
            (m, "events") => format!("{m} event"),
            (m, _) if path.contains("/events/") => format!("{m} event"),
            ("GET", _) if watch => format!("WATCH {}", path.rsplit('/').next().unwrap_or("")),
            ("GET", _) if path.contains("/secrets/") => "GET secret".to_owned(),
            (m, last) => format!("{m} {last}"),
        };
        *srv.store.lock().unwrap().requests.entry(kind).or_default() += 1;
    }

    // Resources: list and watch (all namespaces).
    if method == Method::GET && path == format!("{GROUP}/atlasmigrations") {
        let st = srv.store.lock().unwrap();
        if watch {
            let from: u64 = query(&uri, "resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if from < st.compacted {
                let gone = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                    "metadata": {}, "status": "Failure", "reason": "Expired", "code": 410,
                    "message": format!("too old resource version: {from} ({})", st.compacted)}});
                return ([("content-type", "application/json")], format!("{gone}\n"))
                    .into_response();
            }
            let replay = st
                .log
                .iter()
                .filter(|(rv, _)| *rv > from)
                .map(|(_, l)| l.clone())
                .collect();
            let rx = srv.events.subscribe();
            drop(st);
            return watch_body(replay, Some(rx), from);
        }
        // Pages as the API server cuts them (`limit`, `continue` = the offset here).
        let offset: usize = query(&uri, "continue")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let limit: usize = query(&uri, "limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let items: Vec<&Value> = st.objects.values().skip(offset).take(limit).collect();
        let next = offset + items.len();
        let cont = if next < st.objects.len() {
            next.to_string()
        } else {
            String::new()
        };
        let list = json!({"apiVersion": "db.atlasgo.io/v1alpha1", "kind": "AtlasMigrationList",
                          "metadata": {"resourceVersion": st.rv.to_string(), "continue": cont}, "items": items});
        return json_response(StatusCode::OK, &list);
    }
    // Secrets and ConfigMaps by metadata: the list once, then a quiet watch.
    if method == Method::GET && (path == "/api/v1/secrets" || path == "/api/v1/configmaps") {
        if watch {
            return watch_body(vec![], None, 0);
        }
        let names: Vec<String> = if path.ends_with("secrets") {
            let st = srv.store.lock().unwrap();
            st.urls.keys().cloned().collect()
        } else {
            vec![]
        };
        return json_response(StatusCode::OK, &meta_list("s", &names));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["api", "v1", "namespaces", NS, "secrets", name]) => {
            let st = srv.store.lock().unwrap();
            match st.urls.get(*name) {
                Some(url) => {
                    use base64::Engine as _;
                    let enc = base64::engine::general_purpose::STANDARD.encode(url);
                    json_response(
                        StatusCode::OK,
                        &json!({"apiVersion": "v1", "kind": "Secret",
                                "metadata": {"name": name, "namespace": NS}, "data": {"url": enc}}),
                    )
                }
                None => status(404, "NotFound"),
            }
        }
        (
            "PATCH",
            [
                "apis",
                "db.atlasgo.io",
                "v1alpha1",
                "namespaces",
                NS,
                "atlasmigrations",
                name,
                "status",
            ],
        ) => {
            let patch: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let mut st = srv.store.lock().unwrap();
            st.rv += 1;
            let rv = st.rv;
            let Some(obj) = st.objects.get_mut(*name) else {
                return status(404, "NotFound");
            };
            let was_ready = is_ready(obj);
            obj["status"] = patch["status"].clone();
            obj["metadata"]["resourceVersion"] = json!(rv.to_string());
            record_status_apply(obj);
            let now_ready = is_ready(obj);
            let obj = obj.clone();
            let line = Bytes::from(format!("{}\n", json!({"type": "MODIFIED", "object": obj})));
            st.log.push((rv, line.clone()));
            let generation = obj["metadata"]["generation"].as_i64().unwrap_or(0);
            let observed = obj["status"]["observedGeneration"].as_i64().unwrap_or(0);
            if st.awaited.as_ref() == Some(&((*name).to_owned(), generation))
                && observed == generation
            {
                st.awaited = None;
                srv.awaited_written.notify_one();
            }
            if now_ready && !was_ready {
                st.ready += 1;
                if st.ready == srv.total {
                    srv.all_ready.notify_one();
                }
            }
            let _ = srv.events.send((rv, line));
            json_response(StatusCode::OK, &obj)
        }
        (
            "GET",
            [
                "apis",
                "db.atlasgo.io",
                "v1alpha1",
                "namespaces",
                NS,
                "atlasmigrations",
                name,
            ],
        ) => {
            let st = srv.store.lock().unwrap();
            match st.objects.get(*name) {
                Some(o) => json_response(StatusCode::OK, o),
                None => status(404, "NotFound"),
            }
        }
        ("POST", ["apis", "events.k8s.io", "v1", "namespaces", NS, "events"]) => {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            json_response(StatusCode::CREATED, &v)
        }
        ("PATCH", ["apis", "events.k8s.io", "v1", "namespaces", NS, "events", _]) => json_response(
            StatusCode::OK,
            &json!({"apiVersion": "events.k8s.io/v1", "kind": "Event"}),
        ),
        _ => {
            eprintln!("bench API server: unexpected {method} {uri}");
            status(404, "NotFound")
        }
    }
}

/// Forwards connections to `upstream` until aborted; aborting it cuts every connection (the connection tasks
/// belong to it).
async fn proxy(listener: tokio::net::TcpListener, upstream: std::net::SocketAddr) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            Ok((mut c, _)) = listener.accept() => {
                conns.spawn(async move {
                    if let Ok(mut s) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut c, &mut s).await;
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// `fieldsV1` of a JSON value, as the API server records it in `managedFields`: `f:<key>` per object key (with
/// `.` for the object itself), list items of conditions keyed by their type.
fn fields_v1(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            out.insert(".".into(), json!({}));
            for (k, v) in m {
                if k == "conditions" {
                    let mut items = serde_json::Map::new();
                    for c in v.as_array().into_iter().flatten() {
                        items.insert(
                            format!("k:{{\"type\":\"{}\"}}", c["type"].as_str().unwrap_or("")),
                            fields_v1(c),
                        );
                    }
                    out.insert(format!("f:{k}"), Value::Object(items));
                } else {
                    out.insert(format!("f:{k}"), fields_v1(v));
                }
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

/// What `kubectl apply` leaves on a created object: the last-applied annotation (the whole manifest) and the
/// client-side-apply manager's fields.
fn as_kubectl_applied(obj: &mut Value) {
    let manifest = json!({"apiVersion": obj["apiVersion"], "kind": obj["kind"],
        "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]},
        "spec": obj["spec"]});
    obj["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": format!("{manifest}\n")});
    let fields = json!({
        "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
        "f:spec": fields_v1(&obj["spec"]),
    });
    obj["metadata"]["managedFields"] = json!([{"manager": "kubectl-client-side-apply", "operation": "Update",
        "apiVersion": "db.atlasgo.io/v1alpha1", "time": "2026-12-06T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": fields}]);
}

/// The status manager's entry after a server-side apply of `status` (replacing its previous one).
fn record_status_apply(obj: &mut Value) {
    let entry = json!({"manager": "strata-operator", "operation": "Apply", "apiVersion": "db.atlasgo.io/v1alpha1",
        "time": "2026-12-06T00:00:01Z", "fieldsType": "FieldsV1", "subresource": "status",
        "fieldsV1": {"f:status": fields_v1(&obj["status"])}});
    let mf = obj["metadata"]["managedFields"].as_array_mut();
    if let Some(mf) = mf {
        mf.retain(|e| e["manager"] != "strata-operator");
        mf.push(entry);
    }
}

fn is_ready(obj: &Value) -> bool {
    obj["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// RSS of the mappings of `exe` in process `pid`, in KiB (the binary's code and data that are resident).
fn exe_rss_kib(pid: u32, exe: &std::path::Path) -> u64 {
    let exe = exe.canonicalize().unwrap_or_else(|_| exe.to_owned());
    let exe = exe.to_string_lossy().into_owned();
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut total = 0;
    let mut ours = false;
    for line in smaps.split_terminator('\n') {
        if let Some(first) = line.split_whitespace().next()
            && first.contains('-')
            && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        {
            ours = line.ends_with(exe.as_str());
        } else if ours && let Some(v) = line.strip_prefix("Rss:") {
            total += v
                .trim()
                .trim_end_matches(" kB")
                .trim()
                .parse::<u64>()
                .unwrap_or(0);
        }
    }
    total
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").expect(
        "usage: bench_process [resources] [migrations] [outage=SECONDS] -- OPERATOR-COMMAND...",
    );
    let outage: Option<u64> = args[..split]
        .iter()
        .find_map(|a| a.strip_prefix("outage="))
        .map(|v| v.parse().expect("outage=SECONDS"));
    let nums: Vec<usize> = args[..split]
        .iter()
        .filter(|a| !a.starts_with("outage="))
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let n = nums.first().copied().unwrap_or(500);
    let migrations = nums.get(1).copied().unwrap_or(20);
    let command = &args[split + 1..];
    assert!(!command.is_empty(), "the operator command is missing");
    let tmp = tempfile::tempdir().unwrap();

    let local = common::dir(migrations);
    let mut store = Store {
        rv: 1,
        ..Store::default()
    };
    for i in 0..n {
        let (name, secret) = (format!("m-{i}"), format!("db-{i}"));
        let mut m = new_migration(
            &name,
            NS,
            AtlasMigrationSpec {
                url_from: Some(ValueFrom {
                    secret_key_ref: Some(KeyRef {
                        name: secret.clone(),
                        key: "url".into(),
                        optional: None,
                    }),
                }),
                dir: Dir {
                    local: Some(local.clone()),
                    ..Dir::default()
                },
                ..AtlasMigrationSpec::default()
            },
        );
        m.metadata.uid = Some(format!("00000000-0000-4000-8000-{i:012}"));
        m.metadata.resource_version = Some("1".into());
        m.metadata.creation_timestamp = None;
        let mut obj = serde_json::to_value(&m).unwrap();
        as_kubectl_applied(&mut obj);
        store.objects.insert(name, obj);
        store.urls.insert(
            secret,
            format!("sqlite://{}/db-{i}.sqlite", tmp.path().display()),
        );
    }
    let (events, _) = broadcast::channel(8192);
    let srv = Arc::new(Server {
        store: Mutex::new(store),
        events,
        total: n,
        all_ready: Notify::new(),
        awaited_written: Notify::new(),
    });
    let app = axum::Router::new().fallback(handle).with_state(srv.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // The operator talks to the server through a proxy that can be taken down (the API server "restarts").
    let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = front.local_addr().unwrap().port();
    let mut proxy_task = tokio::spawn(proxy(front, upstream));

    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: bench\n  user: {{}}\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n\
             current-context: bench\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(tmp.path().join("operator.log")).unwrap();
    let start = Instant::now();
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .args([
            "--leader-elect=false",
            "--metrics-bind-address=127.0.0.1:0",
            "--health-probe-bind-address=127.0.0.1:0",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("TMPDIR", tmp.path())
        .env(
            "RUST_LOG",
            std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("starting the operator");
    let pid = child.id();
    let done = tokio::time::timeout(Duration::from_secs(600), srv.all_ready.notified()).await;
    let took = start.elapsed();
    // Let the last events and writes settle, then read the peak.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hwm = common::peak_rss_kib(&pid.to_string());
    let mut recovered = String::new();
    if let (Some(secs), Ok(())) = (outage, &done) {
        proxy_task.abort();
        let _ = (&mut proxy_task).await;
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let front = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the API server port again");
        proxy_task = tokio::spawn(proxy(front, upstream));
        let back = Instant::now();
        {
            // Back with its watch history gone, and a spec change right away.
            let mut st = srv.store.lock().unwrap();
            st.rv += 1;
            let rv = st.rv;
            st.compacted = rv;
            let obj = st.objects.get_mut("m-0").unwrap();
            obj["metadata"]["generation"] = json!(2);
            obj["metadata"]["resourceVersion"] = json!(rv.to_string());
            obj["spec"]["backoffLimit"] = json!(21);
            let line = Bytes::from(format!("{}\n", json!({"type": "MODIFIED", "object": obj})));
            st.log.push((rv, line.clone()));
            st.awaited = Some(("m-0".into(), 2));
            let _ = srv.events.send((rv, line));
        }
        let ok =
            tokio::time::timeout(Duration::from_secs(60), srv.awaited_written.notified()).await;
        recovered = match ok {
            Ok(()) => format!(
                " outage={secs}s recovered_after={:.2}s",
                back.elapsed().as_secs_f64()
            ),
            Err(_) => format!(" outage={secs}s recovered_after=>60s"),
        };
    }
    proxy_task.abort();
    let exe = exe_rss_kib(pid, std::path::Path::new(&command[0]));
    let _ = child.kill();
    let _ = child.wait();
    let (ready, requests) = {
        let st = srv.store.lock().unwrap();
        (st.ready, st.requests.clone())
    };
    let leftover = std::fs::read_dir(tmp.path().join("strata-operator-locks"))
        .map(|d| d.count())
        .unwrap_or(0);
    // The benchmark's result line, for BENCHMARKS.md: this program's stdout is its report.
    #[allow(clippy::disallowed_macros)]
    {
        println!(
            "command={:?} resources={n} migrations={migrations} ready={ready} all_ready_after={:.2}s \
             peak_rss={:.1}MiB exe_rss_at_end={:.1}MiB api_requests={requests:?} lock_dirs_left={leftover}{recovered}",
            command.join(" "),
            took.as_secs_f64(),
            hwm as f64 / 1024.0,
            exe as f64 / 1024.0,
        );
    }
    if let Ok(keep) = std::env::var("BENCH_OPERATOR_LOG") {
        let _ = std::fs::copy(tmp.path().join("operator.log"), keep);
    }
    if done.is_err() {
        let log = std::fs::read_to_string(tmp.path().join("operator.log")).unwrap_or_default();
        let tail: Vec<&str> = log.split_terminator('\n').rev().take(20).collect();
        eprintln!(
            "operator log (last lines, newest first):\n{}",
            tail.join("\n")
        );
    }
    assert_eq!(ready, n, "every resource must end Ready");
}
