//! Fuzzed push bodies through the router: arbitrary bytes, mutated archives and JSON — never a panic or a 5xx,
//! always a 4xx with a message (or a success for a body that happens to be valid).

use std::sync::OnceLock;

use crate::common::*;
use axum::Router;
use proptest::prelude::*;

struct Fixture {
    rt: tokio::runtime::Runtime,
    app: Router,
    token: String,
    report: String,
    tar: Vec<u8>,
    json: Vec<u8>,
    _dir: Guard,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (app, _s, t, _, dir) = rt.block_on(app());
        let pairs = [
            ("1_a.sql", "CREATE TABLE a (id int);\n"),
            ("2_b.sql", "SELECT 1;\n"),
        ];
        Fixture {
            tar: tar_body(&pairs),
            json: json_body(&pairs),
            rt,
            app,
            token: t.push,
            report: t.report,
            _dir: dir,
        }
    })
}

fn check(ctype: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let f = fixture();
    let res = f.rt.block_on(call(
        &f.app,
        "POST",
        "/api/projects/app/dirs/fuzz/versions",
        Some(&f.token),
        Some(ctype),
        body,
    ));
    let s = res.status.as_u16();
    prop_assert!(s < 500, "server error {s}: {}", res.text());
    if s >= 400 {
        let j: serde_json::Value = serde_json::from_slice(&res.body)
            .map_err(|e| TestCaseError::fail(format!("{s} without a JSON body: {e}")))?;
        prop_assert!(
            !j["message"].as_str().unwrap_or_default().is_empty(),
            "{s} without a message"
        );
    }
    Ok(())
}

/// A JSON value that looks a bit like an upload.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z./_\\\\:]{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("atlas.sum"),
            Just("1_a.sql"),
            Just("../x.sql"),
            Just("/abs.sql"),
            Just("a/b.sql")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("files"),
                        Just("name"),
                        Just("text"),
                        Just("base64"),
                        Just("x")
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_as_tar(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        check("application/x-tar", body)?;
    }

    #[test]
    fn mutated_tar(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16), cut in any::<prop::sample::Index>()) {
        let mut body = fixture().tar.clone();
        for (i, b) in flips {
            let i = i.index(body.len());
            body[i] = b;
        }
        if cut.index(4) == 0 {
            let n = cut.index(body.len());
            body.truncate(n);
        }
        check("application/x-tar", body)?;
    }

    #[test]
    fn mutated_json(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut body = fixture().json.clone();
        for (i, b) in flips {
            let i = i.index(body.len());
            body[i] = b;
        }
        check("application/json", body)?;
    }

    #[test]
    fn structured_json(v in json_value()) {
        check("application/json", v.to_string().into_bytes())?;
    }

    #[test]
    fn random_deployment_reports(v in json_value()) {
        let f = fixture();
        let res = f.rt.block_on(call(&f.app, "POST", "/api/projects/app/deployments", Some(&f.report), Some("application/json"), v.to_string().into_bytes()));
        prop_assert!(res.status.as_u16() < 500, "{}", res.text());
        if res.status.as_u16() >= 400 {
            let j: serde_json::Value = serde_json::from_slice(&res.body).unwrap_or_default();
            prop_assert!(!j["message"].as_str().unwrap_or_default().is_empty());
        }
    }
}
