//! The pages that answer "what runs where", "what is in this version", "what changed", "what did this run do"
//! and "what does the schema look like", through the router: a registry filled through the push, deployment
//! and drift APIs, each page checked for its content, for escaping (`<script>` in every name a user controls),
//! for missing data (no lint report, no schema model) and for 404s.

use crate::common::*;
use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Version 1: a shop of four tables (three with foreign keys) and a table named with markup.
pub const V1: &[(&str, &str)] = &[
    (
        "1_users.sql",
        "-- who buys\nCREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT 'a<b>');\n",
    ),
    (
        "2_shop.sql",
        "CREATE TABLE products (id bigint PRIMARY KEY, name text);\n\
         CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\n\
         CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id), \
         product_id bigint REFERENCES products (id));\n",
    ),
    (
        "3_evil.sql",
        "CREATE TABLE \"<script>alert(1)</script>\" (id int);\nDROP TABLE products;\n",
    ),
];

/// Version 2: file 3 changed, file 4 added.
pub const V2: &[(&str, &str)] = &[
    V1[0],
    V1[1],
    (
        "3_evil.sql",
        "CREATE TABLE \"<script>alert(1)</script>\" (id int);\n",
    ),
    (
        "4_more.sql",
        "ALTER TABLE users ADD COLUMN nickname text;\n",
    ),
];

/// A lint report of version 1 as `strata migrate lint --format json` prints it.
pub fn lint_report() -> Value {
    let text = V1[2].1;
    json!({"Files": [{
        "Name": "3_evil.sql",
        "Text": text,
        "Reports": [{"Text": "destructive changes detected", "Diagnostics": [{
            "Pos": text.find("DROP").unwrap(),
            "Text": "Dropping table \"products\" <img src=x>",
            "Code": "DS102",
            "SuggestedFixes": [{"Message": "Add a pre-migration check to ensure table \"products\" is empty before dropping it"}]
        }]}],
        "Error": "destructive changes detected"
    }]})
}

/// The schema model of version 1 as the engine builds it (`strata_schema::Realm` as JSON): five tables, three
/// foreign keys, one table named with markup.
pub fn model() -> Value {
    use strata_schema::{
        Column, ColumnType, Dialect, ForeignKey, PrimaryKey, Realm, Schema, Table,
    };
    let table = |name: &str, cols: &[(&str, &str)], fks: &[(&str, &str, &str)]| {
        let mut t = Table::new(name);
        t.columns = cols
            .iter()
            .map(|(n, ty)| {
                let mut c = Column::new(*n, ColumnType::parse(Dialect::Postgres, ty));
                c.nullable = *n != "id";
                c
            })
            .collect();
        t.primary_key = Some(PrimaryKey::columns(["id"]));
        t.foreign_keys = fks
            .iter()
            .map(|(n, col, to)| ForeignKey {
                name: (*n).into(),
                columns: vec![(*col).into()],
                ref_schema: "public".into(),
                ref_table: (*to).into(),
                ref_columns: vec!["id".into()],
                on_update: Default::default(),
                on_delete: Default::default(),
                deferrable: false,
                initially_deferred: false,
            })
            .collect();
        t
    };
    let mut r = Realm::new(Dialect::Postgres);
    r.schemas.push(Schema {
        name: "public".into(),
        tables: vec![
            table("<script>alert(1)</script>", &[("id", "integer")], &[]),
            table(
                "order_items",
                &[
                    ("id", "bigint"),
                    ("order_id", "bigint"),
                    ("product_id", "bigint"),
                ],
                &[
                    ("order_items_order_id_fkey", "order_id", "orders"),
                    ("order_items_product_id_fkey", "product_id", "products"),
                ],
            ),
            table(
                "orders",
                &[("id", "bigint"), ("user_id", "bigint")],
                &[("orders_user_id_fkey", "user_id", "users")],
            ),
            table("products", &[("id", "bigint"), ("name", "text")], &[]),
            table("users", &[("id", "bigint"), ("email", "text")], &[]),
        ],
        ..Schema::default()
    });
    serde_json::to_value(&r).unwrap()
}

/// A JSON push body with attachments.
pub fn push_body(pairs: &[(&str, &str)], lint: Option<Value>, schema: Option<Value>) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&json_body(pairs)).unwrap();
    if let Some(l) = lint {
        v["lint_report"] = l;
    }
    if let Some(s) = schema {
        v["schema"] = s;
    }
    v.to_string().into_bytes()
}

async fn push(app: &Router, push_token: &str, body: Vec<u8>, tag: &str) -> String {
    let res = call(
        app,
        "POST",
        &format!("/api/projects/app/dirs/shop/versions?tag={tag}"),
        Some(push_token),
        Some("application/json"),
        body,
    )
    .await;
    assert!(res.status.is_success(), "{}", res.text());
    res.json()["version"]["id"].as_str().unwrap().to_owned()
}

/// A page, with the numeric character references askama writes (`&#60;`) spelled as named ones (`&lt;`), as
/// the highlighter and the diagram write them, so the assertions read one way.
async fn get(app: &Router, token: &str, path: &str) -> (StatusCode, String) {
    let res = call(app, "GET", path, Some(token), None, vec![]).await;
    (res.status, named_entities(&res.text()))
}

pub fn named_entities(page: &str) -> String {
    page.replace("&#34;", "&quot;")
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#38;", "&amp;")
        .replace("&#39;", "'")
}

fn no_markup(page: &str, what: &str) {
    assert!(
        !page.contains("<script>") && !page.contains("<img src=x>") && !page.contains("<b>"),
        "{what}: user data must be escaped:\n{page}"
    );
}

#[tokio::test]
async fn version_page_highlights_files_and_shows_the_lint_report() {
    let (app, _s, t, _d, _g) = app().await;
    let plain = push(&app, &t.push, push_body(V1, None, None), "v0").await;
    // The same files with a report and a model: the same version, now with both.
    let v1 = push(
        &app,
        &t.push,
        push_body(V1, Some(lint_report()), Some(model())),
        "v1",
    )
    .await;
    assert_eq!(plain, v1, "attachments do not change the version id");

    let (status, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{v1}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    no_markup(&page, "version page");
    // Highlighted SQL: keywords, comments, strings, quoted identifiers, escaped.
    for want in [
        "<span class=\"cm\">-- who buys</span>",
        "<span class=\"kw\">CREATE</span> <span class=\"kw\">TABLE</span> <span class=\"id\">users</span>",
        "<span class=\"str\">'a&lt;b&gt;'</span>",
        "<span class=\"qid\">&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;</span>",
    ] {
        assert!(page.contains(want), "{want:?} missing:\n{page}");
    }
    // The lint report: file, the statement's line, code, message, fix.
    let lint = &page[page.find("id=\"lint-report\"").expect("lint table")..];
    for want in [
        "3_evil.sql",
        "<td>2</td>",
        "DS102",
        "Dropping table &quot;products&quot; &lt;img src=x&gt;",
        "Add a pre-migration check",
    ] {
        assert!(lint.contains(want), "{want:?} missing:\n{lint}");
    }
    assert!(!page.contains("(not pushed)"), "the schema was pushed");

    // A version without attachments says how to push them.
    let v2 = push(&app, &t.push, push_body(V2, None, None), "v2").await;
    let (_, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{v2}"),
    )
    .await;
    assert!(
        page.contains("No lint report was pushed with this version; push with <code>strata migrate push NAME:TAG --lint-report FILE</code>"),
        "{page}"
    );
    assert!(page.contains("schema (not pushed)"), "{page}");
    // The diff form offers the other version.
    assert!(page.contains(&format!("<option value=\"{v1}\">")), "{page}");
}

#[tokio::test]
async fn schema_page_lists_tables_and_draws_the_er_diagram() {
    let (app, _s, t, _d, _g) = app().await;
    let v1 = push(
        &app,
        &t.push,
        push_body(V1, Some(lint_report()), Some(model())),
        "v1",
    )
    .await;
    let (status, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{v1}/schema"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    no_markup(&page, "schema page");
    assert!(page.contains("PostgreSQL, 5 tables"), "{page}");
    let svg = &page[page.find("<svg").expect("an inline SVG")..page.find("</svg>").unwrap()];
    assert_eq!(svg.matches("<g class=\"er-table\"").count(), 5, "{svg}");
    for edge in [
        "data-from=\"orders\" data-to=\"users\"",
        "data-from=\"order_items\" data-to=\"orders\"",
        "data-from=\"order_items\" data-to=\"products\"",
    ] {
        assert!(
            svg.contains(&format!("<path class=\"er-fk\" {edge}")),
            "{edge} missing:\n{svg}"
        );
    }
    assert!(
        svg.contains("data-table=\"&lt;script&gt;alert(1)&lt;/script&gt;\""),
        "{svg}"
    );
    assert!(
        svg.contains("class=\"er-col pk\""),
        "PK columns are marked: {svg}"
    );
    assert!(
        svg.contains("class=\"er-col fk\""),
        "FK columns are marked: {svg}"
    );
    // The tables below: columns, keys.
    for want in [
        "<h3 id=\"table-orders\">orders</h3>",
        "FK → users(id)",
        "orders_user_id_fkey: (user_id) → users(id) on delete NO ACTION",
        "Primary key (id)",
    ] {
        assert!(page.contains(want), "{want:?} missing:\n{page}");
    }

    // No model pushed: a clear line; unknown version: 404.
    let v2 = push(&app, &t.push, push_body(V2, None, None), "v2").await;
    let (status, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{v2}/schema"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("No schema model was pushed with this version; push with <code>strata migrate push NAME:TAG --dev-url URL</code>"),
        "{page}"
    );
    let (status, _) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{}/schema", "0".repeat(64)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &app,
        &t.read,
        "/projects/app/dirs/shop/versions/nothex/schema",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Another project's token sees nothing.
    let (status, _) = get(
        &app,
        &t.other,
        &format!("/projects/app/dirs/shop/versions/{v1}/schema"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_attachments_are_refused_with_the_reason() {
    let (app, _s, t, _d, _g) = app().await;
    for (lint, schema, want) in [
        (
            Some(json!([1])),
            None,
            "\"lint_report\" must be the object 'strata migrate lint --format json' prints",
        ),
        (
            Some(json!({"Files": [{"Text": "x"}]})),
            None,
            "Files[0] has no \"Name\" string",
        ),
        (
            None,
            Some(json!({"dialect": "oracle"})),
            "\"schema\" is not a schema model (unknown dialect \"oracle\"",
        ),
    ] {
        let res = call(
            &app,
            "POST",
            "/api/projects/app/dirs/shop/versions",
            Some(&t.push),
            Some("application/json"),
            push_body(V1, lint, schema),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
        assert!(
            res.json()["message"].as_str().unwrap().contains(want),
            "{}",
            res.text()
        );
    }
}

#[tokio::test]
async fn diff_page_shows_added_removed_and_changed_files() {
    let (app, _s, t, _d, _g) = app().await;
    let v1 = push(&app, &t.push, push_body(V1, None, None), "v1").await;
    let v2 = push(&app, &t.push, push_body(V2, None, None), "v2").await;
    let (status, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/diff?from={v1}&to={v2}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    no_markup(&page, "diff page");
    let summary = &page[page.find("id=\"diff-summary\"").unwrap()..];
    assert!(
        summary.contains("<code>3_evil.sql</code></a></td><td class=\"change-changed\">changed"),
        "{summary}"
    );
    assert!(
        summary.contains("<code>4_more.sql</code></a></td><td class=\"change-added\">added"),
        "{summary}"
    );
    assert!(
        !summary.contains("1_users.sql"),
        "unchanged files are left out"
    );
    assert!(
        page.contains("<span class=\"same\">  CREATE TABLE &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; (id int);</span>"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"del\">- DROP TABLE products;</span>"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"add\">+ ALTER TABLE users ADD COLUMN nickname text;</span>"),
        "an added file shows its lines: {page}"
    );
    // Tags name versions too; the other way round, the file is removed.
    let (status, page) = get(&app, &t.read, "/projects/app/dirs/shop/diff?from=v2&to=v1").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("<td class=\"change-removed\">removed"),
        "{page}"
    );
    // The same version: nothing differs.
    let (_, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/diff?from={v1}&to=v1"),
    )
    .await;
    assert!(
        page.contains("The two versions have the same files."),
        "{page}"
    );
    // Unknown versions and tags: 404; missing or unknown parameters: 400.
    for (path, want) in [
        (
            format!(
                "/projects/app/dirs/shop/diff?from={}&to={v2}",
                "a".repeat(64)
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            "/projects/app/dirs/shop/diff?from=nope&to=v1".into(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/projects/app/dirs/shop/diff?from=v1".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/projects/app/dirs/shop/diff?from=v1&to=v2&x=1".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/projects/app/dirs/nodir/diff?from=v1&to=v2".into(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, page) = get(&app, &t.read, &path).await;
        assert_eq!(status, want, "{path}: {page}");
    }
}

#[tokio::test]
async fn deployment_page_shows_each_file() {
    let (app, _s, t, _d, _g) = app().await;
    let v1 = push(&app, &t.push, push_body(V1, None, None), "v1").await;
    let report = json!({
        "dir": "shop", "target": "postgres://u:pw@db:5432/shop", "tag": "v1", "version": v1,
        "from_version": "", "to_version": "3", "status": "failed",
        "error": "relation \"<script>\" already exists",
        "files": [
            {"name": "1_users.sql", "statements": 1, "version": "1", "outcome": "applied", "duration_ms": 12},
            {"name": "2_shop.sql", "statements": 3, "version": "2", "outcome": "applied", "duration_ms": 30},
            {"name": "3_evil.sql", "statements": 1, "version": "3", "outcome": "failed", "duration_ms": 4,
             "error": "relation \"<script>\" already exists"},
        ],
        "statements": 5, "duration_ms": 46,
        "started_at": "2026-01-02T00:00:00Z", "finished_at": "2026-01-02T00:00:01Z"
    });
    let res = call(
        &app,
        "POST",
        "/api/projects/app/deployments",
        Some(&t.report),
        Some("application/json"),
        report.to_string().into_bytes(),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    assert_eq!(res.json()["files"][2]["outcome"], "failed");

    let (status, page) = get(&app, &t.read, &format!("/projects/app/deployments/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    no_markup(&page, "deployment page");
    assert!(!page.contains("pw@"), "no credential");
    let files = &page[page.find("id=\"deployment-files\"").unwrap()..];
    for want in [
        "<tr><td><code>1_users.sql</code></td><td>1</td>\n<td class=\"applied\">applied</td>\n<td>1</td><td>12 ms</td>",
        "<tr><td><code>3_evil.sql</code></td><td>3</td>\n<td class=\"failed\">failed</td>\n<td>1</td><td>4 ms</td>",
        "relation &quot;&lt;script&gt;&quot; already exists",
    ] {
        assert!(files.contains(want), "{want:?} missing:\n{files}");
    }
    assert!(page.contains("id=\"deployment-error\""), "{page}");
    assert!(
        page.contains(&format!("/projects/app/dirs/shop/versions/{v1}")),
        "links the version"
    );
    // The deployments list links here.
    let (_, list) = get(&app, &t.read, "/projects/app/deployments").await;
    assert!(
        list.contains(&format!("href=\"/projects/app/deployments/{id}\"")),
        "{list}"
    );

    // A report of an older client (no per-file detail): the outcome is implied, the duration not reported.
    let (_, page) = get(&app, &t.read, "/projects/app/deployments/1").await;
    assert!(page.contains("No file ran."), "{page}");
    let old = json!({"dir": "shop", "target": "sqlite://x.db", "status": "succeeded",
        "files": [{"name": "1_users.sql", "statements": 1}],
        "started_at": "2026-01-02T00:00:00Z", "finished_at": "2026-01-02T00:00:01Z"});
    let res = call(
        &app,
        "POST",
        "/api/projects/app/deployments",
        Some(&t.report),
        Some("application/json"),
        old.to_string().into_bytes(),
    )
    .await;
    let id = res.json()["id"].as_i64().unwrap();
    let (_, page) = get(&app, &t.read, &format!("/projects/app/deployments/{id}")).await;
    assert!(
        page.contains("<td class=\"applied\">applied</td>"),
        "{page}"
    );
    assert!(page.contains("not reported"), "{page}");

    // Unknown ids, other projects: 404.
    for path in [
        "/projects/app/deployments/999999",
        "/projects/app/deployments/x1",
        "/projects/other/deployments/1",
    ] {
        let (status, _) = get(&app, &t.read, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // A negative file duration is refused.
    let mut bad = report.clone();
    bad["files"][0]["duration_ms"] = json!(-1);
    let res = call(
        &app,
        "POST",
        "/api/projects/app/deployments",
        Some(&t.report),
        Some("application/json"),
        bad.to_string().into_bytes(),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
}

async fn report_drift(app: &Router, token: &str, body: Value) -> crate::common::Res {
    call(
        app,
        "POST",
        "/api/projects/app/drift",
        Some(token),
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await
}

#[tokio::test]
async fn overview_shows_what_runs_where_with_drift() {
    let (app, _s, t, _d, _g) = app().await;
    let v1 = push(&app, &t.push, push_body(V1, None, None), "v1").await;
    for (target, status) in [
        ("postgres://db/staging", "failed"),
        ("postgres://db/staging", "succeeded"),
    ] {
        let r = json!({"dir": "shop", "target": target, "tag": "v1", "version": v1, "to_version": "3",
            "status": status, "started_at": "2026-01-02T00:00:00Z", "finished_at": "2026-01-02T00:00:01Z"});
        let res = call(
            &app,
            "POST",
            "/api/projects/app/deployments",
            Some(&t.report),
            Some("application/json"),
            r.to_string().into_bytes(),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let res = report_drift(
        &app,
        &t.report,
        json!({"dir": "shop", "target": "postgres://admin:pw@db/staging",
        "lines": ["table \"users\": column \"<b>nick</b>\" added outside migrations"],
        "checked_at": "2026-01-03T00:00:00Z"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(
        res.json()["target"],
        "postgres://db/staging",
        "credentials are removed"
    );
    // A target only checked for drift, in sync.
    let res = report_drift(
        &app,
        &t.report,
        json!({"dir": "shop", "target": "postgres://db/dev", "lines": [],
        "checked_at": "2026-01-03T00:00:00Z"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED);

    let (status, page) = get(&app, &t.read, "/overview").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    no_markup(&page, "overview");
    assert!(!page.contains("pw@"));
    let rows: Vec<&str> = page.split("<tr class=\"target-row\">").skip(1).collect();
    assert_eq!(rows.len(), 3, "app/prod, shop/dev, shop/staging: {page}");
    let row = |target: &str| {
        *rows
            .iter()
            .find(|r| r.contains(&format!("<code>{target}</code>")))
            .unwrap()
    };
    let staging = row("postgres://db/staging");
    assert!(
        staging.contains("<td>shop</td>")
            && staging.contains(&v1[..12])
            && staging.contains("<span class=\"tag\">v1</span>"),
        "{staging}"
    );
    assert!(
        staging.contains("<td class=\"succeeded\">"),
        "the latest run counts: {staging}"
    );
    assert!(
        staging.contains("drifted")
            && staging
                .contains("column &quot;&lt;b&gt;nick&lt;/b&gt;&quot; added outside migrations"),
        "{staging}"
    );
    assert!(
        staging.contains("checked 2026-01-03T00:00:00Z"),
        "{staging}"
    );
    let dev = row("postgres://db/dev");
    assert!(
        dev.contains("no deployment reported") && dev.contains("in sync"),
        "{dev}"
    );
    let prod = row("postgres://db/prod");
    assert!(
        prod.contains("not checked") && prod.contains("(local directory)"),
        "{prod}"
    );
    // The home page links it; the header of every page too.
    let (_, home) = get(&app, &t.read, "/").await;
    assert!(home.contains("href=\"/overview\""), "{home}");

    // The API lists the latest checks; reporting needs the report scope and sane fields.
    let res = call(
        &app,
        "GET",
        "/api/projects/app/drift",
        Some(&t.read),
        None,
        vec![],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json().as_array().unwrap().len(), 2);
    let ok = json!({"dir": "shop", "target": "postgres://db/x", "lines": [], "checked_at": "2026-01-03T00:00:00Z"});
    assert_eq!(
        report_drift(&app, &t.read, ok.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        report_drift(&app, &t.other, ok.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    for (field, value, want) in [
        (
            "checked_at",
            json!("yesterday"),
            "is not an RFC 3339 timestamp",
        ),
        ("target", json!(""), "target must be 1-2048 characters"),
        ("dir", json!("../x"), "directory name"),
        (
            "lines",
            json!(["a\u{1b}[2Jb"]),
            "lines[0] contains the control or invisible formatting character U+001B",
        ),
        ("extra", json!(1), "unknown field"),
    ] {
        let mut b = ok.clone();
        b[field] = value;
        let res = report_drift(&app, &t.report, b).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            res.text()
        );
        assert!(res.text().contains(want), "{field}: {}", res.text());
    }
}

/// What [`fill_through_the_api`] pushed and reported.
pub struct Filled {
    pub v1: String,
    pub v2: String,
    pub deployment: i64,
}

/// Fills directory `shop` of project `app` through the real HTTP API with the client crate, as the CLI and the
/// operator do: version 1 with its lint report and schema model (five tables, three foreign keys), version 2
/// without, a failed deployment with per-file detail, and a drift check of its target.
pub async fn fill_through_the_api(base: &str, t: &Tokens) -> Filled {
    use strata_registry::model::{
        DeployStatus, DeployedFile, FileOutcome, NewDeployment, NewDrift,
    };
    use strata_registry_client::Client;
    let dir = |pairs: &[(&str, &str)]| {
        let files: Vec<_> = pairs
            .iter()
            .map(|(n, b)| strata_migrate::MigrationFile::new(*n, b.as_bytes()))
            .collect();
        let sum = strata_migrate::sum::SumFile::compute(&files).to_bytes();
        strata_migrate::MigrationDir::from_parts("shop", files, Some(sum)).unwrap()
    };
    let pusher = Client::new(base, Some(t.push.clone())).unwrap();
    let v1 = pusher
        .push_with(
            "app",
            "shop",
            &dir(V1),
            &["v1".into()],
            Some(lint_report()),
            Some(model()),
        )
        .await
        .unwrap()
        .version
        .id;
    let v2 = pusher
        .push("app", "shop", &dir(V2), &["v2".into()])
        .await
        .unwrap()
        .version
        .id;
    let reporter = Client::new(base, Some(t.report.clone())).unwrap();
    let file =
        |name: &str, version: &str, statements, outcome, ms, error: Option<&str>| DeployedFile {
            version: Some(version.into()),
            outcome: Some(outcome),
            duration_ms: Some(ms),
            ..DeployedFile::new(name, statements, error.map(str::to_owned))
        };
    let d = reporter
        .report(
            "app",
            &NewDeployment {
                dir: "shop".into(),
                target: "postgres://ci:hunter2@db/shop".into(),
                tag: Some("v1".into()),
                version: Some(v1.clone()),
                from_version: String::new(),
                to_version: "3".into(),
                status: DeployStatus::Failed,
                error: Some("relation \"<script>alert(1)</script>\" already exists".into()),
                files: vec![
                    file("1_users.sql", "1", 1, FileOutcome::Applied, 12, None),
                    file("2_shop.sql", "2", 3, FileOutcome::Applied, 30, None),
                    file(
                        "3_evil.sql",
                        "3",
                        1,
                        FileOutcome::Failed,
                        4,
                        Some("relation \"<script>alert(1)</script>\" already exists"),
                    ),
                ],
                statements: 5,
                duration_ms: 46,
                started_at: "2026-01-02T00:00:00Z".into(),
                finished_at: "2026-01-02T00:00:01Z".into(),
            },
        )
        .await
        .unwrap();
    let drift = reporter
        .report_drift(
            "app",
            &NewDrift {
                dir: "shop".into(),
                target: "postgres://ci:hunter2@db/shop".into(),
                lines: vec!["table \"users\": column \"nickname\" added outside migrations".into()],
                checked_at: "2026-01-03T00:00:00Z".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        drift.target, "postgres://db/shop",
        "the registry keeps no credential"
    );
    assert_eq!(drift.lines.len(), 1);
    // A read token cannot report drift.
    let reader = Client::new(base, Some(t.read.clone())).unwrap();
    let refused = reader
        .report_drift(
            "app",
            &NewDrift {
                lines: vec![],
                ..drift_report()
            },
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(strata_registry_client::ClientError::Forbidden(_))
        ),
        "{refused:?}"
    );
    Filled {
        v1,
        v2,
        deployment: d.id,
    }
}

fn drift_report() -> strata_registry::model::NewDrift {
    strata_registry::model::NewDrift {
        dir: "shop".into(),
        target: "postgres://db/shop".into(),
        lines: Vec::new(),
        checked_at: "2026-01-03T00:00:00Z".into(),
    }
}

/// The client crate against a real server: a push with a lint report and a model, a deployment with per-file
/// detail and a drift check (`Client::report_drift`) arrive whole, and the pages show them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_crate_fills_the_pages_over_http() {
    let (app, state, t, _d, _g) = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let srv = tokio::spawn(strata_registry::server::serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    let filled = fill_through_the_api(&base, &t).await;
    let (_, page) = get(&app, &t.read, "/overview").await;
    assert!(
        page.contains("column &quot;nickname&quot; added outside migrations"),
        "{page}"
    );
    let (_, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{}", filled.v1),
    )
    .await;
    assert!(page.contains("DS102"), "{page}");
    let (_, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/dirs/shop/versions/{}/schema", filled.v1),
    )
    .await;
    assert_eq!(page.matches("<path class=\"er-fk\"").count(), 3, "{page}");
    let (_, page) = get(
        &app,
        &t.read,
        &format!("/projects/app/deployments/{}", filled.deployment),
    )
    .await;
    assert!(page.contains("<td>3</td><td>30 ms</td>"), "{page}");
    let (_, page) = get(
        &app,
        &t.read,
        &format!(
            "/projects/app/dirs/shop/diff?from={}&to={}",
            filled.v1, filled.v2
        ),
    )
    .await;
    assert!(page.contains("4_more.sql"), "{page}");
    let _ = stop_tx.send(());
    srv.await.unwrap().unwrap();
}
