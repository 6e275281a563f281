//! The OpenAPI document at `/api/openapi.json`: the OpenAPI 3.1 rules that client generators rely on, its name
//! patterns against the server's own rules, and real responses of every operation validated against it with a
//! JSON Schema validator (the `jsonschema` crate, draft 2020-12 as OpenAPI 3.1 uses, formats checked).
//! `scripts/schemathesis-registry.sh` goes further with generated requests.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use axum::Router;
use serde_json::{Value, json};
use strata_registry::model::{check_name, check_tag, check_version, hidden_or_control};
use strata_registry::server::Config;
use strata_registry::upload::Limits;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "options", "head", "trace",
];

async fn document(app: &Router) -> Value {
    let r = call(app, "GET", "/api/openapi.json", None, None, vec![]).await;
    assert_eq!(r.headers["content-type"], "application/json");
    r.json()
}

/// The `{name}`s of a path template.
fn template_params(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// Follows a local `$ref`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("$ref {r} does not resolve"));
            resolve(doc, target)
        }
        None => v,
    }
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Every operation declares the parameters of its path template, every response has a description, bodies
/// that are not JSON are described as binary strings, every `$ref` resolves, and the refusals the server
/// gives for malformed input and missing tokens are documented.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_follows_the_openapi_rules() {
    let (app, _s, _t, _, _dir) = app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        assert!(r.starts_with("#/"), "only local references: {r}");
        assert!(doc.pointer(&r[1..]).is_some(), "$ref {r} does not resolve");
    }
    let mut ids = BTreeSet::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let wanted = template_params(path);
        for (method, op) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let what = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty() && ids.insert(id.to_owned()),
                "{what}: operationId {id:?}"
            );
            let params: Vec<&Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .chain(op.get("parameters").and_then(Value::as_array))
                .flatten()
                .map(|p| resolve(&doc, p))
                .collect();
            let declared: BTreeSet<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(
                        p["required"], true,
                        "{what}: path parameter {p} must be required"
                    );
                    assert!(p.get("schema").is_some(), "{what}: {p} has no schema");
                    p["name"].as_str().unwrap().to_owned()
                })
                .collect();
            assert_eq!(declared, wanted, "{what}: declared path parameters");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{what}: no responses");
            for (status, res) in responses {
                let res = resolve(&doc, res);
                let d = res["description"].as_str().unwrap_or_default();
                assert!(!d.trim().is_empty(), "{what} {status}: no description");
                for (media, content) in res
                    .get("content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let schema = resolve(&doc, &content["schema"]);
                    if media != "application/json" {
                        assert_eq!(
                            (schema["type"].as_str(), schema["format"].as_str()),
                            (Some("string"), Some("binary")),
                            "{what} {status} {media}: a binary body is a binary string, not {schema}"
                        );
                    }
                }
            }
            if let Some(body) = op.get("requestBody") {
                for (media, content) in body["content"].as_object().unwrap() {
                    let schema = resolve(&doc, &content["schema"]);
                    if media != "application/json" {
                        assert_eq!(
                            (schema["type"].as_str(), schema["format"].as_str()),
                            (Some("string"), Some("binary")),
                            "{what} request {media}: {schema}"
                        );
                    }
                }
            }
            let needs: &[&str] = if wanted.is_empty() {
                &["401"]
            } else {
                // Malformed names and paths that are not UTF-8 are 400s; tokens of other projects 404s.
                &["400", "401", "403", "404"]
            };
            for s in needs {
                assert!(responses.contains_key(*s), "{what}: {s} is not documented");
            }
        }
    }
    assert_eq!(operations, 18, "every operation of the API is documented");
}

/// The patterns the document gives for names agree with the server's rules, so a client that follows the
/// document sends names the server accepts, and only those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_name_patterns_are_the_server_rules() {
    let (app, _s, _t, _, _dir) = app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let validator = |schema: &Value| jsonschema::validator_for(schema).unwrap();
    let name = validator(&schemas["Name"]);
    let tag = validator(&schemas["Tag"]);
    let version = validator(&schemas["VersionId"]);
    let long = |c: char, n: usize| c.to_string().repeat(n);
    let samples = [
        "app".to_owned(),
        "App-1.x_y".into(),
        "_v1".into(),
        ".hidden".into(),
        "-x".into(),
        "a/b".into(),
        "a b".into(),
        "ä".into(),
        "app\n".into(),
        String::new(),
        long('a', 64),
        long('a', 65),
        long('a', 128),
        long('a', 129),
        long('f', 64),
        long('F', 64),
        long('0', 63),
    ];
    for s in &samples {
        let v = json!(s);
        assert_eq!(
            name.is_valid(&v),
            check_name("name", s).is_ok(),
            "name {s:?}"
        );
        assert_eq!(tag.is_valid(&v), check_tag(s).is_ok(), "tag {s:?}");
        assert_eq!(
            version.is_valid(&v),
            check_version(s).is_ok(),
            "version {s:?}"
        );
    }
    for (schema, field) in [("JsonFile", "name"), ("DeployedFile", "name")] {
        let v = validator(&schemas[schema]["properties"][field]);
        let chars = (0u32..0x2100)
            .chain(0xFE00..0xFFFF)
            .chain([0x1F600, 0xE0001])
            .filter_map(char::from_u32);
        for c in chars {
            let s = format!("1_{c}.sql");
            assert_eq!(
                v.is_valid(&json!(s)),
                hidden_or_control(&s).is_none(),
                "{schema}.{field} with U+{:04X}",
                c as u32
            );
        }
    }
}

/// The operation a request path and method match in the document.
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> (&'a str, &'a Value) {
    let path = path.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    let mut found = None;
    for (template, item) in doc["paths"].as_object().unwrap() {
        let t: Vec<&str> = template.split('/').collect();
        let literal = t.len() == segments.len()
            && t.iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()));
        if literal && let Some(op) = item.get(method.to_ascii_lowercase()) {
            // The most literal template wins (`…/tags/{tag}/archive` over nothing else here, but be exact).
            let params = template_params(template).len();
            if found.is_none_or(|(p, _, _)| params < p) {
                found = Some((params, template.as_str(), op));
            }
        }
    }
    let (_, template, op) =
        found.unwrap_or_else(|| panic!("{method} {path} matches no documented operation"));
    (template, op)
}

/// Validates a JSON value against a schema of the document (its `$ref`s resolved in the document).
fn check_schema(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}"));
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\nbody: {value}");
}

/// Method, path, token, content type, body.
type Request<'a> = (&'a str, String, Option<&'a str>, Option<&'a str>, Vec<u8>);

/// Real responses of every operation (successes and each kind of refusal) have a documented status and content
/// type, and their JSON bodies validate against the documented schemas. Answers outside the document (unknown
/// endpoints, unserved methods) are the documented error shape too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_responses_validate_against_the_document() {
    let (app, state, t, digest, _dir) = app_with(Config {
        limits: Limits::with_max_upload_bytes(64 << 10),
        ..Config::default()
    })
    .await;
    let doc = document(&app).await;
    let (sacrificial, _) = strata_registry::auth::create_token(
        state.store_for_tests(),
        "app",
        "doomed",
        "read".parse().unwrap(),
    )
    .await
    .unwrap();
    let push = json_body(&[("1_init.sql", "CREATE TABLE t (id int);\n")]);
    let report = json!({
        "dir": "app", "target": "postgres://db/prod", "tag": "v1", "version": digest, "status": "failed",
        "error": "boom", "files": [{"name": "1_init.sql", "statements": 1, "error": "boom"}],
        "statements": 1, "duration_ms": 3,
        "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"
    })
    .to_string()
    .into_bytes();
    let v = format!("/api/projects/app/dirs/app/versions/{digest}");
    let json = Some("application/json");
    let (read, admin) = (Some(t.read.as_str()), Some(t.admin.as_str()));
    // (method, path, token, content type, body)
    let requests: Vec<Request> = vec![
        ("GET", "/api/projects".into(), read, None, vec![]),
        ("GET", "/api/projects".into(), None, None, vec![]),
        ("GET", "/api/projects/app".into(), read, None, vec![]),
        ("GET", "/api/projects/other".into(), read, None, vec![]),
        ("GET", "/api/projects/%FF".into(), read, None, vec![]),
        (
            "PATCH",
            "/api/projects/app".into(),
            admin,
            json,
            b"{\"immutable_tags\":false}".to_vec(),
        ),
        (
            "PATCH",
            "/api/projects/app".into(),
            admin,
            json,
            b"{\"immutable\":1}".to_vec(),
        ),
        (
            "PATCH",
            "/api/projects/app".into(),
            read,
            json,
            b"{}".to_vec(),
        ),
        (
            "PATCH",
            "/api/projects/app".into(),
            admin,
            json,
            vec![b' '; 70 << 10],
        ),
        ("GET", "/api/projects/app/dirs".into(), read, None, vec![]),
        (
            "GET",
            "/api/projects/app/dirs/app/versions".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/dirs/-x/versions".into(),
            read,
            None,
            vec![],
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions?tag=rt".into(),
            Some(&t.push),
            json,
            push.clone(),
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions".into(),
            Some(&t.push),
            json,
            push.clone(),
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions".into(),
            Some(&t.push),
            Some("application/x-tar"),
            tar_body(&[("1_init.sql", "CREATE TABLE u (id int);\n")]),
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions".into(),
            Some(&t.push),
            json,
            b"{\"files\":[]}".to_vec(),
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions?x=1".into(),
            Some(&t.push),
            json,
            push.clone(),
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions".into(),
            Some(&t.push),
            Some("text/plain"),
            push.clone(),
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions".into(),
            Some(&t.push),
            json,
            vec![b' '; 65 << 10],
        ),
        (
            "POST",
            "/api/projects/app/dirs/app/versions".into(),
            read,
            json,
            push.clone(),
        ),
        ("GET", v.clone(), read, None, vec![]),
        ("GET", format!("{v}/archive"), read, None, vec![]),
        (
            "GET",
            "/api/projects/app/dirs/app/versions/nothex/archive".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            format!("/api/projects/app/dirs/app/versions/{}", "0".repeat(64)),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags/v1".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags/v1/archive".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags/nope".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/dirs/app/tags/a%20b/archive".into(),
            read,
            None,
            vec![],
        ),
        (
            "POST",
            "/api/projects/app/deployments".into(),
            Some(&t.report),
            json,
            report.clone(),
        ),
        (
            "POST",
            "/api/projects/app/deployments".into(),
            Some(&t.report),
            json,
            b"{\"dir\":1}".to_vec(),
        ),
        (
            "GET",
            "/api/projects/app/deployments".into(),
            read,
            None,
            vec![],
        ),
        (
            "POST",
            "/api/projects/app/drift".into(),
            Some(&t.report),
            json,
            br#"{"dir":"app","target":"postgres://db/prod","lines":["table \"t\": column \"c\" added"],"checked_at":"2026-01-02T00:00:00Z"}"#.to_vec(),
        ),
        (
            "POST",
            "/api/projects/app/drift".into(),
            Some(&t.report),
            json,
            br#"{"dir":"app","target":"postgres://db/prod","checked_at":"soon"}"#.to_vec(),
        ),
        (
            "GET",
            "/api/projects/app/drift".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/deployments?dir=app&limit=5".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/deployments?limit=x".into(),
            read,
            None,
            vec![],
        ),
        (
            "GET",
            "/api/projects/app/tokens".into(),
            admin,
            None,
            vec![],
        ),
        ("GET", "/api/projects/app/tokens".into(), read, None, vec![]),
        (
            "POST",
            "/api/projects/app/tokens".into(),
            admin,
            json,
            b"{\"name\":\"ci\",\"scopes\":[\"read\",\"push\"]}".to_vec(),
        ),
        (
            "POST",
            "/api/projects/app/tokens".into(),
            admin,
            json,
            b"{\"scopes\":[]}".to_vec(),
        ),
        (
            "DELETE",
            format!("/api/projects/app/tokens/{}", sacrificial.id),
            admin,
            None,
            vec![],
        ),
        (
            "DELETE",
            "/api/projects/app/tokens/nope".into(),
            admin,
            None,
            vec![],
        ),
        (
            "DELETE",
            "/api/projects/app/tokens/%80".into(),
            admin,
            None,
            vec![],
        ),
    ];
    let mut seen: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for (method, path, token, ctype, body) in requests {
        let r = call(&app, method, &path, token, ctype, body).await;
        let what = format!("{method} {path} -> {}", r.status);
        let (_, op) = operation(&doc, method, &path);
        let status = r.status.as_u16();
        seen.entry(op["operationId"].as_str().unwrap().to_owned())
            .or_default()
            .insert(status);
        let res = op["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| panic!("{what}: status not documented: {}", r.text()));
        let res = resolve(&doc, res);
        let media = r.headers.get("content-type").map(|v| {
            v.to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim()
                .to_owned()
        });
        match (res.get("content").and_then(Value::as_object), media) {
            (None, None) => assert!(r.body.is_empty(), "{what}: a body where none is documented"),
            (None, Some(m)) => panic!("{what}: {m} where no content is documented"),
            (Some(_), None) => panic!("{what}: no Content-Type"),
            (Some(content), Some(m)) => {
                let schema = &content.get(&m).unwrap_or_else(|| {
                    panic!("{what}: {m} is not documented ({:?})", content.keys())
                })["schema"];
                if m == "application/json" {
                    check_schema(&doc, schema, &r.json(), &what);
                } else {
                    assert!(!r.body.is_empty(), "{what}: empty {m}");
                }
            }
        }
        for (name, _) in res
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if name != "www-authenticate" || status == 401 {
                assert!(
                    r.headers.contains_key(name.as_str()),
                    "{what}: header {name} missing"
                );
            }
        }
    }
    // Every operation answered with success at least once.
    let ops: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|i| i.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    for id in &ops {
        let statuses = seen
            .get(id)
            .unwrap_or_else(|| panic!("{id} was not exercised"));
        assert!(
            statuses.iter().any(|s| (200..300).contains(s)),
            "{id}: no success among {statuses:?}"
        );
    }
    // Outside the document: the same error shape.
    let error = json!({"$ref": "#/components/schemas/ErrorBody"});
    for (method, path) in [
        ("GET", "/api/nothing"),
        ("PUT", "/api/projects/app"),
        ("BREW", "/api/projects"),
    ] {
        let r = call(&app, method, path, read, None, vec![]).await;
        assert!(r.status.is_client_error(), "{method} {path}: {}", r.status);
        assert_eq!(
            r.headers["content-type"], "application/json",
            "{method} {path}"
        );
        check_schema(&doc, &error, &r.json(), &format!("{method} {path}"));
    }
}
