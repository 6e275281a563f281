//! The web UI's login, sessions and response headers, through the router and over real sockets.
//!
//! What a browser sends is spelled out per request: `Origin`, `Sec-Fetch-Site`, `Host`, and only the cookies a
//! browser would attach (the UI's cookies are `SameSite=Strict`, so a cross-site request carries none of them).
//! Tests named `…_sqlite` / `…_postgres` run the same body on both store backends (PostgreSQL ones are skipped
//! without a server, failing under `CI=true`); the replica test runs three servers on one PostgreSQL database.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::*;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use strata_registry::server::{AppState, COOKIE, Config};
use tower::ServiceExt as _;

const FORM: &str = "application/x-www-form-urlencoded";

/// One request through the router with the given headers.
async fn send(app: &Router, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Res {
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(b.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Res {
        status,
        headers,
        body,
    }
}

/// Every `Set-Cookie` of a response for cookie `name` (the whole header value).
fn set_cookies(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect()
}

/// The `name=value` pair of the one `Set-Cookie` for `name`.
fn cookie_pair(headers: &HeaderMap, name: &str) -> String {
    let all = set_cookies(headers, name);
    assert_eq!(all.len(), 1, "one Set-Cookie for {name}: {all:?}");
    all[0].split(';').next().unwrap().to_owned()
}

/// The value of the hidden `csrf` field of a page's form.
fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What the login page hands a browser: the CSRF cookie (`name=value`) and the form's hidden field (empty
/// when the page has none, so that these tests also run, and fail on their own assertions, against a registry
/// without them).
async fn login_form(app: &Router) -> (String, String) {
    let r = send(app, "GET", "/login", &[], "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let cookie = set_cookies(&r.headers, "strata_csrf")
        .first()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap_or_default();
    (cookie, csrf_field(&r.text()).unwrap_or_default())
}

/// Logs in the way a browser on the registry's own page does; returns the session cookie (`name=value`).
async fn login(app: &Router, token: &str) -> String {
    login_with(app, token, None).await
}

/// [`login`] from a browser that already holds the session cookie `session`.
async fn login_with(app: &Router, token: &str, session: Option<&str>) -> String {
    let (cookie, csrf) = login_form(app).await;
    let cookie = match session {
        Some(s) => format!("{cookie}; {s}"),
        None => cookie,
    };
    let r = send(
        app,
        "POST",
        "/login",
        &[
            ("content-type", FORM),
            ("host", "registry.test"),
            ("origin", "http://registry.test"),
            ("sec-fetch-site", "same-origin"),
            ("cookie", &cookie),
        ],
        &form(&[("token", token), ("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    cookie_pair(&r.headers, COOKIE)
}

/// A page fetched with the session cookie: its status, the logout form's CSRF field, and the response.
async fn page(app: &Router, path: &str, session: &str) -> Res {
    send(app, "GET", path, &[("cookie", session)], "").await
}

/// A cross-site page cannot log a victim in: every way a forged POST /login can arrive is refused with 403 and
/// sets no session, while the same request from the registry's own page is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_login_is_refused() {
    let (app, _s, t, _, _dir) = app().await;
    // The attacker can fetch the login page too and gets a CSRF pair of its own, but the victim's browser
    // does not send the attacker's cookie.
    let attacker_csrf =
        csrf_field(&send(&app, "GET", "/login", &[], "").await.text()).unwrap_or_default();
    let body = form(&[("token", &t.read), ("csrf", &attacker_csrf)]);
    let refused = |r: &Res, what: &str| {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text());
        assert!(
            set_cookies(&r.headers, COOKIE).is_empty()
                && set_cookies(&r.headers, "strata_token").is_empty(),
            "{what}: no session cookie: {:?}",
            r.headers
        );
        assert!(
            r.text().contains("action=\"/login\""),
            "{what}: the login form again"
        );
    };
    // A modern browser: Origin and Sec-Fetch-Site name the attacker; no SameSite=Strict cookie.
    let r = send(
        &app,
        "POST",
        "/login",
        &[
            ("content-type", FORM),
            ("host", "registry.test"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        &body,
    )
    .await;
    refused(&r, "cross-site browser");
    assert!(r.text().contains("another site"), "{}", r.text());
    // An old browser that sends neither header: no CSRF cookie matches the field.
    let r = send(&app, "POST", "/login", &[("content-type", FORM)], &body).await;
    refused(&r, "no CSRF cookie");
    // No field at all.
    let (cookie, csrf) = login_form(&app).await;
    let r = send(
        &app,
        "POST",
        "/login",
        &[("content-type", FORM), ("cookie", &cookie)],
        &form(&[("token", &t.read)]),
    )
    .await;
    refused(&r, "no CSRF field");
    // A field that is not the cookie's.
    let r = send(
        &app,
        "POST",
        "/login",
        &[("content-type", FORM), ("cookie", &cookie)],
        &form(&[("token", &t.read), ("csrf", &format!("{csrf}x"))]),
    )
    .await;
    refused(&r, "CSRF field mismatch");
    // Even with a matching pair, a foreign Origin, an opaque Origin or a cross-site fetch is refused.
    let good = form(&[("token", &t.read), ("csrf", &csrf)]);
    for (what, headers) in [
        (
            "foreign Origin",
            vec![
                ("host", "registry.test"),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "Origin null",
            vec![("host", "registry.test"), ("origin", "null")],
        ),
        (
            "same host, other port",
            vec![
                ("host", "registry.test"),
                ("origin", "http://registry.test:8081"),
            ],
        ),
        (
            "Sec-Fetch-Site cross-site",
            vec![("sec-fetch-site", "cross-site")],
        ),
        (
            "Sec-Fetch-Site same-site",
            vec![("sec-fetch-site", "same-site")],
        ),
    ] {
        let mut h = vec![("content-type", FORM), ("cookie", cookie.as_str())];
        h.extend(headers);
        let r = send(&app, "POST", "/login", &h, &good).await;
        refused(&r, what);
    }
    // The registry's own page, directly and behind a proxy that forwards the public host.
    for headers in [
        vec![
            ("host", "registry.test"),
            ("origin", "http://registry.test"),
            ("sec-fetch-site", "same-origin"),
        ],
        vec![
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "registry.example.com"),
            ("origin", "https://registry.example.com"),
            ("sec-fetch-site", "same-origin"),
        ],
        // Non-browser clients send neither header.
        vec![],
    ] {
        let mut h = vec![("content-type", FORM), ("cookie", cookie.as_str())];
        h.extend(headers.clone());
        let r = send(&app, "POST", "/login", &h, &good).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{headers:?}: {}", r.text());
        assert_eq!(r.headers["location"], "/projects/app");
        cookie_pair(&r.headers, COOKIE);
    }
}

/// A cross-site page cannot log a victim out (or do anything else with the session): POST /logout needs the
/// session's own CSRF field, which only the registry's pages carry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_logout_is_refused() {
    let (app, _s, t, _, _dir) = app().await;
    let session = login(&app, &t.read).await;
    let r = page(&app, "/", &session).await;
    assert_eq!(r.status, StatusCode::OK);
    let csrf = csrf_field(&r.text()).unwrap_or_default();
    let still_logged_in = || async {
        assert_eq!(page(&app, "/", &session).await.status, StatusCode::OK);
    };
    for (what, headers, body) in [
        // A browser sends no SameSite=Strict cookie cross-site, and the attacker does not know the field.
        (
            "cross-site, no cookie",
            vec![
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            String::new(),
        ),
        (
            "cookie without field",
            vec![("cookie", session.as_str())],
            String::new(),
        ),
        (
            "cookie with a wrong field",
            vec![("cookie", session.as_str())],
            form(&[("csrf", "0123456789abcdef")]),
        ),
        (
            "right field from another site",
            vec![
                ("cookie", session.as_str()),
                ("host", "registry.test"),
                ("origin", "https://evil.example"),
            ],
            form(&[("csrf", &csrf)]),
        ),
        (
            "right field, Sec-Fetch-Site cross-site",
            vec![
                ("cookie", session.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
            form(&[("csrf", &csrf)]),
        ),
    ] {
        let mut h = vec![("content-type", FORM)];
        h.extend(headers);
        let r = send(&app, "POST", "/logout", &h, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text());
        assert!(
            set_cookies(&r.headers, COOKIE).is_empty(),
            "{what}: the cookie is left alone"
        );
        still_logged_in().await;
    }
    // From the registry's own page it works.
    let r = send(
        &app,
        "POST",
        "/logout",
        &[
            ("content-type", FORM),
            ("cookie", &session),
            ("host", "registry.test"),
            ("origin", "http://registry.test"),
            ("sec-fetch-site", "same-origin"),
        ],
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.headers["location"], "/login");
}

/// Every UI response carries the browser-hardening headers; authenticated pages are never stored by caches;
/// the CSP allows no script and no inline style (the stylesheet is served separately), and no page needs
/// JavaScript: login and logout are plain forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_responses_carry_security_headers() {
    let (app, _s, t, digest, _dir) = app().await;
    let session = login(&app, &t.read).await;
    let bearer = format!("Bearer {}", t.read);
    let mut checked = Vec::new();
    for path in [
        "/".to_owned(),
        "/projects/app".into(),
        format!("/projects/app/dirs/app/versions/{digest}"),
        "/projects/app/deployments".into(),
    ] {
        for (who, headers) in [
            ("session", vec![("cookie", session.as_str())]),
            ("bearer", vec![("authorization", bearer.as_str())]),
        ] {
            let r = send(&app, "GET", &path, &headers, "").await;
            assert_eq!(r.status, StatusCode::OK, "{path} ({who}): {}", r.text());
            checked.push((format!("{path} ({who})"), r));
        }
    }
    checked.push(("/login".into(), send(&app, "GET", "/login", &[], "").await));
    checked.push((
        "401 page".into(),
        send(&app, "GET", "/projects/app", &[], "").await,
    ));
    checked.push((
        "404 page".into(),
        send(&app, "GET", "/projects/nope", &[("cookie", &session)], "").await,
    ));
    for (what, r) in &checked {
        let h = |name: &str| {
            r.headers
                .get(name)
                .unwrap_or_else(|| panic!("{what}: no {name} header: {:?}", r.headers))
                .to_str()
                .unwrap()
                .to_owned()
        };
        let csp = h("content-security-policy");
        for directive in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
            "style-src 'self'",
        ] {
            assert!(
                csp.contains(directive),
                "{what}: CSP {csp:?} lacks {directive}"
            );
        }
        assert!(!csp.contains("unsafe"), "{what}: {csp}");
        assert!(
            !csp.contains("script-src"),
            "{what}: no script allowed: {csp}"
        );
        assert_eq!(h("x-frame-options"), "DENY", "{what}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(h("referrer-policy"), "same-origin", "{what}");
        assert_eq!(h("cache-control"), "no-store", "{what}");
        let html = r.text();
        assert!(
            !html.contains("<script"),
            "{what}: works without JavaScript"
        );
        assert!(!html.contains("<style"), "{what}: no inline style");
    }
    // The stylesheet the pages link is served (publicly: the login page needs it) and may be cached.
    let page = &checked[0].1.text();
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/ui.css\">"),
        "{page}"
    );
    let css = send(&app, "GET", "/ui.css", &[], "").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(css.headers["x-content-type-options"], "nosniff");
    assert!(css.text().contains("font-family"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_hold_no_token_and_end_on_logout_sqlite() {
    sessions_hold_no_token_and_end_on_logout(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_hold_no_token_and_end_on_logout_postgres() {
    sessions_hold_no_token_and_end_on_logout(Backend::Postgres).await;
}

/// The cookie holds a random session id, never the token (not even for an admin token), the database holds
/// only the id's SHA-256, and a logged-out id is refused even when presented again.
async fn sessions_hold_no_token_and_end_on_logout(backend: Backend) {
    let Some((app, _s, t, _, guard)) = app_on(backend, Config::default()).await else {
        return;
    };
    let session = login(&app, &t.admin).await;
    let id = session
        .strip_prefix(&format!("{COOKIE}="))
        .unwrap()
        .to_owned();
    // `strata_<id>_<secret>`: the secret is base64url and may itself hold `_`, so split at the first two only (the
    // last `_`-separated piece can be a character or two, which a random session id then contains by chance).
    let secret = t.admin.splitn(3, '_').nth(2).unwrap();
    assert!(secret.len() >= 43, "{secret}");
    assert!(
        !id.contains(secret) && !id.starts_with("strata_") && !t.admin.contains(&id),
        "the cookie holds the token: {session}"
    );
    assert!(
        id.len() >= 43,
        "a session id of at least 256 random bits: {id}"
    );
    // At rest: one row, keyed by the id's hash; the id itself is nowhere in it.
    let rows = session_rows(&guard).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let hash = strata_registry::upload::sha256_hex(id.as_bytes());
    assert!(rows[0].contains(&hash), "{rows:?} lacks {hash}");
    assert!(
        !rows[0].contains(&id),
        "the raw session id is stored: {rows:?}"
    );
    // The cookie is a UI session: it does not open the API.
    let r = send(
        &app,
        "GET",
        "/api/projects/app",
        &[("cookie", &session)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Log out, then present the old id again (a copied cookie): refused, and its row is gone.
    let r = page(&app, "/", &session).await;
    let csrf = csrf_field(&r.text()).unwrap_or_default();
    let r = send(
        &app,
        "POST",
        "/logout",
        &[("content-type", FORM), ("cookie", &session)],
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let cleared = set_cookies(&r.headers, COOKIE);
    assert!(
        cleared.len() == 1 && cleared[0].contains("Max-Age=0"),
        "the cookie is cleared: {cleared:?}"
    );
    // The cookie of earlier versions, which held the token itself, is cleared too.
    let legacy = set_cookies(&r.headers, "strata_token");
    assert!(
        legacy.len() == 1 && legacy[0].contains("Max-Age=0"),
        "{legacy:?}"
    );
    let r = page(&app, "/", &session).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert!(r.text().contains("log in again"), "{}", r.text());
    assert!(session_rows(&guard).await.is_empty());
    // A made-up id is refused the same way.
    let made_up = format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let r = page(&app, "/", &made_up).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// Every column of every row of `sessions`, as text.
async fn session_rows(guard: &Guard) -> Vec<String> {
    use sqlx::Row as _;
    match guard {
        Guard::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.path().join("registry.db").display());
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query("SELECT * FROM sessions")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            r.try_get::<String, _>(i)
                                .or_else(|_| r.try_get::<i64, _>(i).map(|n| n.to_string()))
                                .unwrap_or_default()
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        }
        Guard::Postgres(db) => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query("SELECT * FROM sessions")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            r.try_get::<String, _>(i)
                                .or_else(|_| r.try_get::<i64, _>(i).map(|n| n.to_string()))
                                .unwrap_or_default()
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        }
    }
}

/// With `--secure-cookies` every cookie the UI sets is `Secure`, including the ones logout clears (a browser
/// refuses to overwrite a `Secure` cookie from a response that would set a non-`Secure` one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_flag_is_kept_on_logout() {
    let (app, _s, t, _, _dir) = app_with(Config {
        secure_cookies: true,
        ..Config::default()
    })
    .await;
    let (cookie, csrf) = login_form(&app).await;
    let r = send(
        &app,
        "POST",
        "/login",
        &[("content-type", FORM), ("cookie", &cookie)],
        &form(&[("token", &t.read), ("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let set = set_cookies(&r.headers, COOKIE);
    assert!(
        set[0].contains("; Secure")
            && set[0].contains("HttpOnly")
            && set[0].contains("SameSite=Strict"),
        "{set:?}"
    );
    let session = cookie_pair(&r.headers, COOKIE);
    let csrf = csrf_field(&page(&app, "/", &session).await.text()).unwrap_or_default();
    let r = send(
        &app,
        "POST",
        "/logout",
        &[("content-type", FORM), ("cookie", &session)],
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let all: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(!all.is_empty());
    for c in &all {
        assert!(
            c.contains("; Secure") && c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
    let r = send(&app, "GET", "/login", &[], "").await;
    let csrf_cookie = set_cookies(&r.headers, "strata_csrf");
    assert!(csrf_cookie[0].contains("; Secure"), "{csrf_cookie:?}");
    // Without the flag, no cookie claims Secure (plain-HTTP deployments must keep working).
    let (plain, _s, _, _, _dir) = crate::common::app().await;
    let r = send(&plain, "GET", "/login", &[], "").await;
    assert!(!set_cookies(&r.headers, "strata_csrf")[0].contains("Secure"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_token_ends_its_sessions_sqlite() {
    revoking_the_token_ends_its_sessions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_token_ends_its_sessions_postgres() {
    revoking_the_token_ends_its_sessions(Backend::Postgres).await;
}

/// A session lives no longer than its token: revoking the token through the API or on the database ends every
/// session created from it at once (sessions are checked against the database on every page, uncached).
async fn revoking_the_token_ends_its_sessions(backend: Backend) {
    let Some((app, state, t, _, _guard)) = app_on(backend, Config::default()).await else {
        return;
    };
    let store = state.store_for_tests();
    let tokens = store.tokens("app").await.unwrap();
    let read_id = tokens.iter().find(|i| i.name == "r").unwrap().id.clone();
    let s1 = login(&app, &t.read).await;
    let s2 = login(&app, &t.read).await;
    assert_ne!(s1, s2, "each login is its own session");
    for s in [&s1, &s2] {
        assert_eq!(page(&app, "/projects/app", s).await.status, StatusCode::OK);
    }
    let r = send(
        &app,
        "DELETE",
        &format!("/api/projects/app/tokens/{read_id}"),
        &[("authorization", &format!("Bearer {}", t.admin))],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    for s in [&s1, &s2] {
        let r = page(&app, "/projects/app", s).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    }
    // On the database directly (`strata registry token revoke`): no server is told.
    let (info, tok) =
        strata_registry::auth::create_token(store, "app", "ui", "read".parse().unwrap())
            .await
            .unwrap();
    let s3 = login(&app, &tok).await;
    assert_eq!(page(&app, "/", &s3).await.status, StatusCode::OK);
    assert!(store.revoke_token("app", &info.id).await.unwrap());
    assert_eq!(page(&app, "/", &s3).await.status, StatusCode::UNAUTHORIZED);
}

/// A real server (with the peer address known, as `strata registry serve` runs it).
struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(strata_registry::server::serve(
            listener,
            state,
            async move {
                let _ = rx.await;
            },
        ));
        Self {
            base,
            stop: Some(tx),
            task,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// A browser-like HTTP client (no redirects followed, cookies handled by hand) from a given loopback address.
fn client(from: [u8; 4]) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(from))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

struct HttpRes {
    status: u16,
    headers: HeaderMap,
    body: String,
}

async fn http(
    c: &reqwest::Client,
    method: &str,
    url: String,
    cookie: Option<&str>,
    body: Option<String>,
) -> HttpRes {
    let mut req = c.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        &url,
    );
    if let Some(k) = cookie {
        req = req.header("cookie", k);
    }
    if let Some(b) = body {
        req = req.header("content-type", FORM).body(b);
    }
    let r = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let mut headers = HeaderMap::new();
    for (k, v) in r.headers() {
        headers.append(
            axum::http::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
            axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    HttpRes {
        status,
        headers,
        body: r.text().await.unwrap(),
    }
}

/// Logs in over HTTP as a browser would; returns the response to the POST.
async fn http_login(c: &reqwest::Client, base: &str, token: &str) -> HttpRes {
    let f = http(c, "GET", format!("{base}/login"), None, None).await;
    assert_eq!(f.status, 200, "{}", f.body);
    let cookie = set_cookies(&f.headers, "strata_csrf")
        .first()
        .map(|c| c.split(';').next().unwrap().to_owned());
    let csrf = csrf_field(&f.body).unwrap_or_default();
    http(
        c,
        "POST",
        format!("{base}/login"),
        cookie.as_deref(),
        Some(form(&[("token", token), ("csrf", &csrf)])),
    )
    .await
}

/// Failed logins are throttled per client address: after five failures within a minute the sixth attempt is a
/// 429 with `Retry-After` and a message saying when to retry — whatever the token, so guessing cannot go on —
/// while a client at another address still logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled() {
    let (_app, state, t, _, _dir) = app().await;
    let srv = Server::start(state).await;
    let a = client([127, 0, 0, 1]);
    for i in 0..5 {
        let r = http_login(&a, &srv.base, &format!("strata_guess{i:05}0000_xxxxxxxx")).await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    for token in ["strata_guess999990000_xxxxxxxx", t.read.as_str()] {
        let r = http_login(&a, &srv.base, token).await;
        assert_eq!(r.status, 429, "{}", r.body);
        let after: u64 = r.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&after), "Retry-After {after}");
        assert!(
            r.body.contains("Too many failed logins") && r.body.contains(&format!("{after} s")),
            "{}",
            r.body
        );
        assert!(set_cookies(&r.headers, COOKIE).is_empty());
    }
    // Another client address is not affected.
    let b = client([127, 0, 0, 2]);
    let r = http_login(&b, &srv.base, &t.read).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let _: SocketAddr = srv.base.trim_start_matches("http://").parse().unwrap();
}

/// Sessions live in the shared database: one created through replica A works on B and C at once, a logout
/// through C ends it on A and B at once, and a token revoked on the database ends its sessions everywhere at
/// once (sessions are not cached, unlike bearer tokens).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_created_on_one_replica_is_valid_on_the_others() {
    let Some(db) = strata_driver::testing::postgres().await else {
        return;
    };
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let store = strata_registry::open_store(&db.url).await.unwrap();
        replicas.push(Server::start(AppState::new(store, Config::default())).await);
    }
    let admin = strata_registry::open_store(&db.url).await.unwrap();
    let (info, token) =
        strata_registry::auth::create_token(admin.as_ref(), "app", "ui", "read".parse().unwrap())
            .await
            .unwrap();
    let c = client([127, 0, 0, 1]);
    let (a, b, cc) = (&replicas[0].base, &replicas[1].base, &replicas[2].base);
    let r = http_login(&c, a, &token).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let session = cookie_pair(&r.headers, COOKIE);
    let mut csrf = String::new();
    for base in [a, b, cc] {
        let r = http(
            &c,
            "GET",
            format!("{base}/projects/app"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{base}: {}", r.body);
        let field = csrf_field(&r.body).unwrap_or_default();
        assert!(
            csrf.is_empty() || csrf == field,
            "one logout field per session"
        );
        csrf = field;
    }
    let r = http(
        &c,
        "POST",
        format!("{cc}/logout"),
        Some(&session),
        Some(form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    for base in [a, b, cc] {
        let r = http(
            &c,
            "GET",
            format!("{base}/projects/app"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(r.status, 401, "{base} still accepts a logged-out session");
    }
    // Revoked on the database: every replica refuses its sessions at once.
    let r = http_login(&c, b, &token).await;
    let session = cookie_pair(&r.headers, COOKIE);
    for base in [a, b, cc] {
        let r = http(&c, "GET", format!("{base}/"), Some(&session), None).await;
        assert_eq!(r.status, 200, "{base}");
    }
    assert!(admin.revoke_token("app", &info.id).await.unwrap());
    for base in [a, b, cc] {
        let r = http(&c, "GET", format!("{base}/"), Some(&session), None).await;
        assert_eq!(
            r.status, 401,
            "{base} still accepts a session of a revoked token"
        );
    }
}

/// The version page's "archive (tar)" link works for the browser that shows it: it once pointed at the API, which
/// takes only a bearer token, so a logged-in user got 401. Without a session the archive is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_pages_archive_link_works_with_the_session() {
    let (app, _s, t, digest, _dir) = app().await;
    let session = login(&app, &t.read).await;
    let page_path = format!("/projects/app/dirs/app/versions/{digest}");
    let html = page(&app, &page_path, &session).await.text();
    let link = format!("{page_path}/archive");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    let r = page(&app, &link, &session).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["content-type"], "application/x-tar");
    let mut names: Vec<String> = tar::Archive::new(r.body.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    names.sort();
    assert!(names.iter().any(|n| n == "atlas.sum"), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".sql")), "{names:?}");
    let anonymous = send(&app, "GET", &link, &[], "").await;
    assert_ne!(anonymous.status, StatusCode::OK);
}

/// A token belongs to one project; a browser that logs in with a second project's token keeps the first
/// project's session too, so the overview and the project list span both, each project's pages open with its
/// own session, logging in to a project again replaces its session, and logging out ends them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_logged_in_to_two_projects_sees_both() {
    let Some((app, state, t, _, guard)) = app_on(Backend::Sqlite, Config::default()).await else {
        return;
    };
    let store = state.store_for_tests();
    let (_, other) =
        strata_registry::auth::create_token(store, "billing", "ui", "read,report".parse().unwrap())
            .await
            .unwrap();
    // A run in each project, so each has a row in what runs where.
    for (project, token, dir) in [
        ("app", &t.admin, "app-dir"),
        ("billing", &other, "billing-dir"),
    ] {
        let body = serde_json::json!({
            "dir": dir, "target": format!("postgres://db/{project}"), "status": "succeeded",
            "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"
        })
        .to_string();
        let r = send(
            &app,
            "POST",
            &format!("/api/projects/{project}/deployments"),
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            &body,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let one = login(&app, &t.read).await;
    let overview = page(&app, "/overview", &one).await.text();
    assert!(
        overview.contains("app-dir") && !overview.contains("billing-dir"),
        "{overview}"
    );
    assert_eq!(
        page(&app, "/projects/billing", &one).await.status,
        StatusCode::NOT_FOUND
    );

    let both = login_with(&app, &other, Some(&one)).await;
    assert_eq!(session_rows(&guard).await.len(), 2);
    for path in ["/projects/app", "/projects/billing"] {
        let r = page(&app, path, &both).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    }
    let overview = page(&app, "/overview", &both).await.text();
    assert!(
        overview.contains("app-dir") && overview.contains("billing-dir"),
        "{overview}"
    );
    let index = page(&app, "/", &both).await.text();
    assert!(
        index.contains("/projects/app") && index.contains("/projects/billing"),
        "{index}"
    );

    // Logging in to billing again replaces its session (and ends the old one): still two.
    let again = login_with(&app, &other, Some(&both)).await;
    assert_eq!(session_rows(&guard).await.len(), 2);
    assert_eq!(
        page(&app, "/projects/app", &again).await.status,
        StatusCode::OK
    );

    // Log out: every session of the browser ends.
    let csrf = csrf_field(&page(&app, "/", &again).await.text()).unwrap_or_default();
    let r = send(
        &app,
        "POST",
        "/logout",
        &[("content-type", FORM), ("cookie", &again)],
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(session_rows(&guard).await.is_empty());
    assert_eq!(
        page(&app, "/projects/billing", &again).await.status,
        StatusCode::UNAUTHORIZED
    );
}
