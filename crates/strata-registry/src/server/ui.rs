//! The web UI: server-rendered pages that work without JavaScript. Every page needs a token with the `read`
//! scope, sent as `Authorization: Bearer` or kept in the `strata_token` cookie after the login form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ApiError, AppState, COOKIE};
use crate::auth::Principal;
use crate::model::{
    Deployment, Project, Ref, Scope, TagInfo, VersionInfo, check_name, check_version,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/projects/{project}", get(project_page))
        .route(
            "/projects/{project}/dirs/{dir}/versions/{version}",
            get(version_page),
        )
        .route("/projects/{project}/deployments", get(deployments_page))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    logged_in: bool,
    message: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    logged_in: bool,
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
    logged_in: bool,
    project: Project,
    dirs: Vec<DirView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "version.html")]
struct VersionPage {
    logged_in: bool,
    project: String,
    dir: String,
    version: VersionInfo,
    sum: String,
    files: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "deployments.html")]
struct DeploymentsPage {
    logged_in: bool,
    project: String,
    targets: Vec<(String, Vec<Deployment>)>,
}

/// An error page: the status and, for 401, the login form.
fn page_error(e: ApiError) -> Response {
    if e.status == StatusCode::UNAUTHORIZED {
        let mut r = LoginPage {
            logged_in: false,
            message: Some(e.message),
        }
        .into_response();
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
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
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn reader(
    s: &AppState,
    headers: &HeaderMap,
    project: Option<&str>,
) -> Result<Principal, ApiError> {
    let p = s.principal(headers, true).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in with a token that has the 'read' scope",
        )
    })?;
    let project = project.unwrap_or(p.project.as_str()).to_owned();
    super::check(&p, &project, Scope::Read)?;
    Ok(p)
}

async fn index(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let r = async {
        let p = reader(&s, &headers, None).await?;
        let projects = s.store().project(&p.project).await?.into_iter().collect();
        Ok::<_, ApiError>(
            IndexPage {
                logged_in: true,
                projects,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(page_error)
}

async fn login_form() -> Response {
    LoginPage {
        logged_in: false,
        message: None,
    }
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(s): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    match crate::auth::verify(s.store(), form.token.trim()).await {
        Ok(p) if p.scopes.grants(Scope::Read) => {
            let secure = if s.config().secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800{secure}",
                form.token.trim()
            );
            let mut r = Redirect::to(&format!("/projects/{}", p.project)).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(_) => page_error(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this token lacks the 'read' scope; the web UI needs a read token",
        )),
        Err(e) => page_error(e.into()),
    }
}

async fn logout() -> Response {
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("strata_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

async fn project_page(
    State(s): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        reader(&s, &headers, Some(&project)).await?;
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
                logged_in: true,
                project: p,
                dirs,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(page_error)
}

async fn version_page(
    State(s): State<AppState>,
    Path((project, dir, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let r = async {
        reader(&s, &headers, Some(&project)).await?;
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
            .map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned()))
            .collect();
        Ok::<_, ApiError>(
            VersionPage {
                logged_in: true,
                project,
                dir,
                sum: String::from_utf8_lossy(&c.sum).into_owned(),
                version: c.info,
                files,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(page_error)
}

async fn deployments_page(
    State(s): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = async {
        reader(&s, &headers, Some(&project)).await?;
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
                logged_in: true,
                project,
                targets,
            }
            .into_response(),
        )
    };
    r.await.unwrap_or_else(page_error)
}
