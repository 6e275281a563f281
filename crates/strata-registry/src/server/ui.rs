//! The web UI: server-rendered pages that work without JavaScript. Every page needs a token with the `read`
//! scope, sent as `Authorization: Bearer`, or a session from the login form (see [`crate::auth::create_session`]):
//! the browser keeps only the session ids, in the [`COOKIE`] cookie — one per project it logged in to (a token
//! belongs to one project; logging in with another project's token adds a session, so the overview and the
//! project list span them, and logging out ends them all).
//!
//! Forms that change state (`POST /login`, `POST /logout`) are refused with 403 when the browser says they come
//! from another site (`Sec-Fetch-Site`, or an `Origin` that is not this registry's address) and when they lack
//! their CSRF field: on the login form, a random value that must equal the `strata_csrf` cookie set with the
//! form (double submit); on the logout form, a value derived from the session id. Failed logins are throttled
//! ([`super::throttle`]). Every UI response carries a strict CSP, `X-Frame-Options`, `X-Content-Type-Options`,
//! `Referrer-Policy` and (pages) `Cache-Control: no-store`.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::throttle::{Client, retry_after_secs};
use super::{ApiError, AppState, COOKIE};
use crate::auth::{self, Principal};
use crate::model::{
    AttachmentKind, Deployment, Drift, Millis, Project, Ref, Scope, TagInfo, VersionContent,
    VersionInfo, check_name, check_tag, check_version,
};
use crate::view::{self, diff, er, highlight, lint};

/// The login form's CSRF cookie (double submit: it must equal the form's hidden `csrf` field).
const CSRF_COOKIE: &str = "strata_csrf";
/// How long a login form stays usable.
const CSRF_MAX_AGE_SECS: u64 = 60 * 60;
/// The cookie of registries before server-side sessions, which held the token itself: cleared on login and
/// logout.
const LEGACY_COOKIE: &str = "strata_token";

/// No script at all, styles only from `/ui.css`, forms only to this origin, never framed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/ui.css", get(stylesheet))
        .route("/projects/{project}", get(project_page))
        .route(
            "/projects/{project}/dirs/{dir}/versions/{version}",
            get(version_page),
        )
        .route(
            "/projects/{project}/dirs/{dir}/versions/{version}/archive",
            get(version_archive),
        )
        .route("/projects/{project}/deployments", get(deployments_page))
        .route("/projects/{project}/deployments/{id}", get(deployment_page))
        .route("/overview", get(overview_page))
        .route(
            "/projects/{project}/dirs/{dir}/versions/{version}/schema",
            get(schema_page),
        )
        .route("/projects/{project}/dirs/{dir}/diff", get(diff_page))
        .layer(middleware::map_response(harden))
}

/// The browser-hardening headers of every UI response; pages (anything that did not choose its own caching)
/// are never stored.
async fn harden(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: browsers then still send the real `Origin` with the UI's own form posts.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/ui.css"),
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    logout: Option<String>,
    message: Option<String>,
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    logout: Option<String>,
    projects: Vec<Project>,
}

struct DirView {
    name: String,
    tags: Vec<TagInfo>,
    versions: Vec<VersionInfo>,
}

#[derive(Template, WebTemplate)]
#[template(path = "project.html")]
struct ProjectPage {
    logout: Option<String>,
    project: Project,
    dirs: Vec<DirView>,
}

/// A file of a version page: its name and its text as highlighted HTML.
struct FileView {
    name: String,
    html: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "version.html")]
struct VersionPage {
    logout: Option<String>,
    project: String,
    dir: String,
    version: VersionInfo,
    sum: String,
    files: Vec<FileView>,
    /// The pushed lint report's files and when it was pushed; `None`: none was pushed.
    lint: Option<(Vec<lint::File>, Millis)>,
    has_schema: bool,
    /// The directory's other versions, for the diff form.
    others: Vec<VersionInfo>,
}

/// One row of "what runs where": a target of a directory and what it last ran.
struct WhereRow {
    project: String,
    dir: String,
    target: String,
    /// The latest deployment, if any was reported.
    last: Option<Deployment>,
    /// The latest drift check, if any was reported.
    drift: Option<Drift>,
}

#[derive(Template, WebTemplate)]
#[template(path = "overview.html")]
struct OverviewPage {
    logout: Option<String>,
    rows: Vec<WhereRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "deployment.html")]
struct DeploymentPage {
    logout: Option<String>,
    project: String,
    d: Deployment,
}

/// A file of the diff page.
struct DiffFile {
    name: String,
    /// `added`, `removed` or `changed`.
    change: &'static str,
    /// The line diff (an added file: all its lines added; a removed one: all removed).
    lines: Vec<diff::Line>,
}

#[derive(Template, WebTemplate)]
#[template(path = "diff.html")]
struct DiffPage {
    logout: Option<String>,
    project: String,
    dir: String,
    from: VersionInfo,
    to: VersionInfo,
    files: Vec<DiffFile>,
}

/// A column of the schema page.
struct ColumnView {
    name: String,
    ty: String,
    nullable: bool,
    default: String,
    pk: bool,
    /// `table(column)` it references, when a foreign key covers it.
    references: Vec<String>,
}

/// A table of the schema page.
struct TableView {
    name: String,
    columns: Vec<ColumnView>,
    primary_key: Vec<String>,
    /// `name: (cols) → table(cols)`.
    foreign_keys: Vec<String>,
    /// `name (cols)`, unique ones marked.
    indexes: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "schema.html")]
struct SchemaPage {
    logout: Option<String>,
    project: String,
    dir: String,
    version: VersionInfo,
    /// `None`: no model was pushed with the version.
    model: Option<SchemaView>,
}

struct SchemaView {
    dialect: &'static str,
    tables: Vec<TableView>,
    /// The ER diagram (SVG, every name escaped); `None` when the model has no table.
    svg: Option<String>,
    pushed_at: Millis,
}

#[derive(Template, WebTemplate)]
#[template(path = "deployments.html")]
struct DeploymentsPage {
    logout: Option<String>,
    project: String,
    targets: Vec<(String, Vec<Deployment>)>,
}

/// A `Set-Cookie` value with the UI's attributes (`Secure` when configured, on clearing too: a browser does not
/// let a response without `Secure` overwrite a `Secure` cookie).
fn cookie(s: &AppState, name: &str, value: &str, path: &str, max_age: u64) -> HeaderValue {
    let secure = if s.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("strata_invalid=; Max-Age=0"))
}

/// The login form with `message`, answered with `status`. The form carries a CSRF value, also set as the
/// [`CSRF_COOKIE`] cookie (the browser's current one is kept, so several open login tabs all work).
fn login_page(
    s: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let csrf = super::cookie_value(headers, CSRF_COOKIE)
        .filter(|v| auth::csrf_shape(v))
        .unwrap_or_else(auth::new_csrf);
    let mut r = LoginPage {
        logout: None,
        message,
        csrf: csrf.clone(),
    }
    .into_response();
    *r.status_mut() = status;
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie(s, CSRF_COOKIE, &csrf, "/login", CSRF_MAX_AGE_SECS),
    );
    r
}

/// An error page: the status and, for 401, the login form.
fn page_error(s: &AppState, headers: &HeaderMap, e: ApiError) -> Response {
    if e.status == StatusCode::UNAUTHORIZED {
        return login_page(s, headers, e.status, Some(e.message));
    }
    let body = format!(
        "<!doctype html><title>{0}</title><h1>{0}</h1><p>{1}</p><p><a href=\"/\">Back</a></p>",
        e.status,
        html_escape(&e.message)
    );
    let mut r = axum::response::Html(body).into_response();
    *r.status_mut() = e.status;
    r
}

fn html_escape(s: &str) -> String {
    view::escape(s)
}

/// Why the browser says a form post comes from another site, if it does. `Sec-Fetch-Site` other than
/// `same-origin`/`none` is another site; so is an `Origin` (`null` included) that is not this registry's
/// address as the request names it (`Host`, or `X-Forwarded-Host` from a reverse proxy: a page cannot make a
/// browser send either). Clients that send neither header (not browsers) are left to the CSRF field.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Some(format!("the browser reports it as {site}"));
    }
    let origin = get(header::ORIGIN)?;
    let Some((scheme, authority)) = origin.split_once("://") else {
        return Some(format!("its Origin is {origin:?}"));
    };
    let ours = get(header::HOST)
        .into_iter()
        .chain(
            headers
                .get_all("x-forwarded-host")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(',')),
        )
        .map(|h| normalize_authority(scheme, h))
        .collect::<Vec<_>>();
    let theirs = normalize_authority(scheme, authority);
    if ours.contains(&theirs) {
        return None;
    }
    Some(format!(
        "its Origin {origin} is not this registry's address{} (behind a reverse proxy, forward the Host header or set X-Forwarded-Host)",
        ours.first().map(|h| format!(" {h}")).unwrap_or_default()
    ))
}

/// `host[:port]` in lower case without the scheme's default port.
fn normalize_authority(scheme: &str, authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    let default = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    match a.strip_suffix(default) {
        Some(stripped) if !default.is_empty() => stripped.to_owned(),
        _ => a,
    }
}

/// The caller of a page, and the logout form's CSRF value when the caller came with a session.
async fn reader(
    s: &AppState,
    headers: &HeaderMap,
    project: Option<&str>,
) -> Result<(Principal, Option<String>), ApiError> {
    let p = s.principal(headers, true, project).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in with a token that has the 'read' scope",
        )
    })?;
    let project = project.unwrap_or(p.project.as_str()).to_owned();
    super::check(&p, &project, Scope::Read)?;
    let logout = if headers.contains_key(header::AUTHORIZATION) {
        None
    } else {
        super::cookie_value(headers, COOKIE).map(|id| auth::session_csrf(&id))
    };
    Ok((p, logout))
}

/// The projects the caller may read, sorted: a bearer token's project, or those of every valid session the
/// browser holds (a token belongs to one project; logging in with another project's token adds a session).
async fn readable_projects(s: &AppState, headers: &HeaderMap, p: &Principal) -> Vec<String> {
    let mut out = vec![p.project.clone()];
    if !headers.contains_key(header::AUTHORIZATION) {
        for session in s.sessions(headers).await.into_iter().flatten() {
            if session.scopes.grants(Scope::Read) {
                out.push(session.project);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

async fn index(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let r = async {
        let (p, logout) = reader(&s, &headers, None).await?;
        let mut projects = Vec::new();
        for name in readable_projects(&s, &headers, &p).await {
            projects.extend(s.store().project(&name).await?);
        }
        Ok::<_, ApiError>(IndexPage { logout, projects }.into_response())
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

async fn login_form(State(s): State<AppState>, headers: HeaderMap) -> Response {
    login_page(&s, &headers, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let refuse = |status: StatusCode, message: String| {
        tracing::info!(reason = %message, "web UI login refused");
        login_page(&s, &headers, status, Some(message))
    };
    if let Some(why) = cross_site(&headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Login refused: the form was sent from another site ({why}). Log in on this page instead."
            ),
        );
    }
    let csrf_ok = super::cookie_value(&headers, CSRF_COOKIE)
        .is_some_and(|c| auth::csrf_shape(&c) && auth::same_secret(&c, &form.csrf));
    if !csrf_ok {
        return refuse(
            StatusCode::FORBIDDEN,
            "Login refused: the login form expired or was sent from another site (its CSRF field does not match \
             this browser's cookie; cookies must be enabled). Log in again with this form."
                .into(),
        );
    }
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let attempt = match s.login_throttle().begin(Client::of(peer), Instant::now()) {
        Ok(a) => a,
        Err(wait) => {
            let secs = retry_after_secs(wait);
            let mut r = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many failed logins from your address: try again in {secs} s."),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return r;
        }
    };
    let p = match auth::verify(s.store(), form.token.trim()).await {
        Ok(p) if p.scopes.grants(Scope::Read) => p,
        Ok(_) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "this token lacks the 'read' scope; the web UI needs a read token".into(),
            );
        }
        Err(e) => {
            let e = ApiError::from(e);
            return refuse(e.status, e.message);
        }
    };
    s.login_throttle().succeeded(attempt);
    let id = match auth::create_session(s.store(), &p, auth::SESSION_TTL).await {
        Ok(id) => id,
        Err(e) => return page_error(&s, &headers, e.into()),
    };
    // The browser's sessions of other projects stay (the overview spans them); one of this project is replaced
    // and ended; the oldest go beyond MAX_SESSIONS.
    let mut ids = Vec::new();
    for old in super::session_ids(&headers) {
        match auth::session(s.store(), &old).await {
            Ok(other) if other.project != p.project => ids.push(old),
            Ok(_) => {
                let _ = auth::end_session(s.store(), &old).await;
            }
            Err(_) => {}
        }
    }
    ids.push(id);
    let drop = ids.len().saturating_sub(super::MAX_SESSIONS);
    for old in ids.drain(..drop) {
        let _ = auth::end_session(s.store(), &old).await;
    }
    let id = ids.join(".");
    tracing::info!(project = %p.project, token_id = %p.token_id, "web UI login");
    let mut r = Redirect::to(&format!("/projects/{}", p.project)).into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie(&s, COOKIE, &id, "/", auth::SESSION_TTL.as_secs()),
    );
    h.append(header::SET_COOKIE, cookie(&s, LEGACY_COOKIE, "", "/", 0));
    r
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let refuse = |message: String| {
        tracing::info!(reason = %message, "web UI logout refused");
        page_error(
            &s,
            &headers,
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
        )
    };
    if let Some(why) = cross_site(&headers) {
        return refuse(format!(
            "Logout refused: the form was sent from another site ({why}). Use the Log out button of a registry page."
        ));
    }
    let Some(id) = super::cookie_value(&headers, COOKIE) else {
        return refuse(
            "Logout refused: this browser has no session (already logged out?). Nothing was changed.".into(),
        );
    };
    if !auth::same_secret(&auth::session_csrf(&id), &form.csrf) {
        return refuse(
            "Logout refused: the form does not belong to this session (sent from another site, or from a page \
             of an earlier session). Reload the page and press Log out again."
                .into(),
        );
    }
    for one in super::session_ids(&headers) {
        if let Err(e) = auth::end_session(s.store(), &one).await {
            return page_error(&s, &headers, e.into());
        }
    }
    tracing::info!("web UI logout");
    let mut r = Redirect::to("/login").into_response();
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, cookie(&s, COOKIE, "", "/", 0));
    h.append(header::SET_COOKIE, cookie(&s, LEGACY_COOKIE, "", "/", 0));
    r
}

async fn project_page(
    State(s): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        let (_, logout) = reader(&s, &headers, Some(&project)).await?;
        let p = s
            .store()
            .project(&project)
            .await?
            .ok_or_else(|| crate::store::not_found_project(&project))?;
        let mut dirs = Vec::new();
        for d in s.store().directories(&project).await? {
            dirs.push(DirView {
                tags: s.store().tags(&project, &d.name).await?,
                versions: s.store().versions(&project, &d.name).await?,
                name: d.name,
            });
        }
        Ok::<_, ApiError>(
            ProjectPage {
                logout,
                project: p,
                dirs,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

/// A version's files as a tar for the logged-in browser: the version page links here, since the API's archive
/// takes a bearer token and never the session cookie.
async fn version_archive(
    State(s): State<AppState>,
    Path((project, dir, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        reader(&s, &headers, Some(&project)).await?;
        let c = super::api::content(&s, &project, &dir, Ref::Version(version)).await?;
        Ok::<_, ApiError>(super::api::archive(&dir, &c))
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

async fn version_page(
    State(s): State<AppState>,
    Path((project, dir, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        let (_, logout) = reader(&s, &headers, Some(&project)).await?;
        check_name("directory name", &dir)?;
        check_version(&version)?;
        let c = s
            .store()
            .content(&project, &dir, &Ref::Version(version.clone()))
            .await?
            .ok_or_else(|| {
                crate::RegistryError::NotFound(format!("version {version} of {dir:?} not found"))
            })?;
        let files = c
            .files
            .iter()
            .map(|(n, b)| FileView {
                name: n.clone(),
                html: highlight::sql_html(&String::from_utf8_lossy(b)),
            })
            .collect();
        let lint = s
            .store()
            .attachment(&project, &dir, &version, AttachmentKind::LintReport)
            .await?
            .map(|a| {
                let report = serde_json::from_str(&a.json).unwrap_or_default();
                let text = |name: &str| {
                    c.files
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                };
                (lint::files(&report, text), a.updated_at)
            });
        let has_schema = s
            .store()
            .attachment(&project, &dir, &version, AttachmentKind::Schema)
            .await?
            .is_some();
        let others = s
            .store()
            .versions(&project, &dir)
            .await?
            .into_iter()
            .filter(|v| v.id != version)
            .collect();
        Ok::<_, ApiError>(
            VersionPage {
                logout,
                project,
                dir,
                sum: String::from_utf8_lossy(&c.sum).into_owned(),
                version: c.info,
                files,
                lint,
                has_schema,
                others,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

async fn deployments_page(
    State(s): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = async {
        let (_, logout) = reader(&s, &headers, Some(&project)).await?;
        let mut f = super::api::deployment_filter(query.as_deref())?;
        f.limit = f.limit.or(Some(500));
        let list = s.store().deployments(&project, &f).await?;
        let mut targets: Vec<(String, Vec<Deployment>)> = Vec::new();
        for d in list {
            match targets.iter_mut().find(|(t, _)| *t == d.report.target) {
                Some((_, v)) => v.push(d),
                None => targets.push((d.report.target.clone(), vec![d])),
            }
        }
        Ok::<_, ApiError>(
            DeploymentsPage {
                logout,
                project,
                targets,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

/// A version of `dir` named by a version id or a tag, as the diff form sends it; 404 when there is none.
async fn named_content(
    s: &AppState,
    project: &str,
    dir: &str,
    name: &str,
) -> Result<VersionContent, ApiError> {
    let r = if check_version(name).is_ok() {
        Ref::Version(name.to_owned())
    } else {
        check_tag(name)?;
        Ref::Tag(name.to_owned())
    };
    s.store()
        .content(project, dir, &r)
        .await?
        .ok_or_else(|| crate::RegistryError::NotFound(format!("{r} of {dir:?} not found")).into())
}

fn texts(c: &VersionContent) -> Vec<(String, String)> {
    c.files
        .iter()
        .map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect()
}

async fn diff_page(
    State(s): State<AppState>,
    Path((project, dir)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = async {
        let (_, logout) = reader(&s, &headers, Some(&project)).await?;
        check_name("directory name", &dir)?;
        let (mut from, mut to) = (None, None);
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "from" => from = Some(v.into_owned()),
                "to" => to = Some(v.into_owned()),
                other => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_query",
                        format!(
                            "unknown query parameter {other:?}; use ?from=VERSION&to=VERSION (version ids or tags)"
                        ),
                    ));
                }
            }
        }
        let (Some(from), Some(to)) = (from, to) else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "name both versions: ?from=VERSION&to=VERSION (version ids or tags)",
            ));
        };
        let old = named_content(&s, &project, &dir, &from).await?;
        let new = named_content(&s, &project, &dir, &to).await?;
        let (old_texts, new_texts) = (texts(&old), texts(&new));
        let text_of = |list: &[(String, String)], name: &str| {
            list.iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        let files = diff::files(&old_texts, &new_texts)
            .into_iter()
            .map(|(name, c)| match c {
                // An added file is all added lines, a removed one all removed lines.
                diff::FileChange::Added => DiffFile {
                    lines: diff::lines("", &text_of(&new_texts, &name)),
                    name,
                    change: "added",
                },
                diff::FileChange::Removed => DiffFile {
                    lines: diff::lines(&text_of(&old_texts, &name), ""),
                    name,
                    change: "removed",
                },
                diff::FileChange::Changed(lines) => DiffFile {
                    name,
                    change: "changed",
                    lines,
                },
            })
            .collect();
        Ok::<_, ApiError>(
            DiffPage {
                logout,
                project,
                dir,
                from: old.info,
                to: new.info,
                files,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

async fn deployment_page(
    State(s): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        let (_, logout) = reader(&s, &headers, Some(&project)).await?;
        let missing = || crate::RegistryError::NotFound(format!("deployment {id:?} not found"));
        let n: i64 = id.parse().map_err(|_| missing())?;
        let d = s
            .store()
            .deployment(&project, n)
            .await?
            .ok_or_else(missing)?;
        Ok::<_, ApiError>(DeploymentPage { logout, project, d }.into_response())
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

/// Every directory × target of `projects` with its latest deployment and drift check, by project, directory
/// and target.
async fn what_runs_where(s: &AppState, projects: &[String]) -> Result<Vec<WhereRow>, ApiError> {
    let mut rows: Vec<WhereRow> = Vec::new();
    for project in projects {
        for d in s.store().latest_deployments(project).await? {
            rows.push(WhereRow {
                project: project.clone(),
                dir: d.report.dir.clone(),
                target: d.report.target.clone(),
                last: Some(d),
                drift: None,
            });
        }
        for drift in s.store().drifts(project).await? {
            match rows
                .iter_mut()
                .find(|r| r.project == *project && r.dir == drift.dir && r.target == drift.target)
            {
                Some(r) => r.drift = Some(drift),
                None => rows.push(WhereRow {
                    project: project.clone(),
                    dir: drift.dir.clone(),
                    target: drift.target.clone(),
                    last: None,
                    drift: Some(drift),
                }),
            }
        }
    }
    rows.sort_by(|a, b| (&a.project, &a.dir, &a.target).cmp(&(&b.project, &b.dir, &b.target)));
    Ok(rows)
}

async fn overview_page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let r = async {
        let (p, logout) = reader(&s, &headers, None).await?;
        // Every project the caller reads: a token's one, or each project the browser logged in to.
        let rows = what_runs_where(&s, &readable_projects(&s, &headers, &p).await).await?;
        Ok::<_, ApiError>(OverviewPage { logout, rows }.into_response())
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

/// The tables of a schema model as the schema page lists them.
fn table_views(realm: &strata_schema::Realm) -> Vec<TableView> {
    let qualify = realm
        .schemas
        .iter()
        .filter(|s| !s.tables.is_empty())
        .count()
        > 1;
    let mut out = Vec::new();
    for schema in &realm.schemas {
        for t in &schema.tables {
            let pk: Vec<String> = t
                .primary_key
                .iter()
                .flat_map(|k| {
                    k.parts
                        .iter()
                        .filter_map(|p| p.column_name().map(str::to_owned))
                })
                .collect();
            let columns = t
                .columns
                .iter()
                .map(|c| ColumnView {
                    name: c.name.clone(),
                    ty: c.ty.raw.clone(),
                    nullable: c.nullable,
                    default: c.default.clone().unwrap_or_default(),
                    pk: pk.contains(&c.name),
                    references: t
                        .foreign_keys
                        .iter()
                        .filter_map(|fk| {
                            let i = fk.columns.iter().position(|x| *x == c.name)?;
                            Some(format!(
                                "{}({})",
                                fk.ref_table,
                                fk.ref_columns.get(i).map(String::as_str).unwrap_or("?")
                            ))
                        })
                        .collect(),
                })
                .collect();
            out.push(TableView {
                name: if qualify {
                    format!("{}.{}", schema.name, t.name)
                } else {
                    t.name.clone()
                },
                columns,
                primary_key: pk,
                foreign_keys: t
                    .foreign_keys
                    .iter()
                    .map(|fk| {
                        format!(
                            "{}: ({}) → {}({}) on delete {}",
                            fk.name,
                            fk.columns.join(", "),
                            fk.ref_table,
                            fk.ref_columns.join(", "),
                            fk.on_delete.sql()
                        )
                    })
                    .collect(),
                indexes: t
                    .indexes
                    .iter()
                    .map(|i| {
                        let parts: Vec<&str> = i
                            .parts
                            .iter()
                            .map(|p| match &p.key {
                                strata_schema::PartKey::Column(c) => c.as_str(),
                                strata_schema::PartKey::Expr(e) => e.as_str(),
                            })
                            .collect();
                        format!(
                            "{}{} ({})",
                            if i.unique { "unique " } else { "" },
                            i.name,
                            parts.join(", ")
                        )
                    })
                    .collect(),
            });
        }
    }
    out
}

async fn schema_page(
    State(s): State<AppState>,
    Path((project, dir, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        let (_, logout) = reader(&s, &headers, Some(&project)).await?;
        check_name("directory name", &dir)?;
        check_version(&version)?;
        let info = s
            .store()
            .resolve(&project, &dir, &Ref::Version(version.clone()))
            .await?
            .ok_or_else(|| {
                crate::RegistryError::NotFound(format!("version {version} of {dir:?} not found"))
            })?;
        let model = match s
            .store()
            .attachment(&project, &dir, &version, AttachmentKind::Schema)
            .await?
        {
            Some(a) => {
                let realm: strata_schema::Realm = serde_json::from_str(&a.json).map_err(|e| {
                    crate::RegistryError::Database(format!(
                        "the stored schema model does not parse: {e}"
                    ))
                })?;
                Some(SchemaView {
                    dialect: match realm.dialect {
                        strata_schema::Dialect::Postgres => "PostgreSQL",
                        strata_schema::Dialect::Mysql => "MySQL",
                        strata_schema::Dialect::Sqlite => "SQLite",
                    },
                    tables: table_views(&realm),
                    svg: er::svg(&realm),
                    pushed_at: a.updated_at,
                })
            }
            None => None,
        };
        Ok::<_, ApiError>(
            SchemaPage {
                logout,
                project,
                dir,
                version: info,
                model,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(|e| page_error(&s, &headers, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        let same = [
            vec![],
            vec![("sec-fetch-site", "same-origin")],
            vec![("sec-fetch-site", "none")],
            vec![
                ("host", "Reg.Example:443"),
                ("origin", "https://reg.example"),
            ],
            vec![("host", "reg.example"), ("origin", "http://reg.example:80")],
            vec![
                ("host", "10.0.0.5:8080"),
                ("x-forwarded-host", "a.example, reg.example"),
                ("origin", "https://reg.example"),
            ],
        ];
        for h in same {
            assert_eq!(cross_site(&headers(&h)), None, "{h:?}");
        }
        let cross = [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("host", "reg.example"), ("origin", "null")],
            vec![("origin", "https://reg.example")],
            vec![("host", "reg.example"), ("origin", "https://evil.example")],
            vec![
                ("host", "reg.example"),
                ("origin", "https://reg.example:8443"),
            ],
            vec![
                ("host", "reg.example.evil.example"),
                ("origin", "https://reg.example"),
            ],
        ];
        for h in cross {
            assert!(cross_site(&headers(&h)).is_some(), "{h:?}");
        }
    }
}
