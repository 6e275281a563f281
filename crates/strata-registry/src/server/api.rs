//! The REST API and its OpenAPI document.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, OpenApi, ToSchema};

use super::budget::Reservation;
use super::cache::Cached;
use super::{ApiError, AppState};
use crate::error::RegistryError;
use crate::model::{
    Deployment, DeploymentFilter, DirListing, Directory, Drift, JsonFile, JsonUpload, NameSchema,
    NewDeployment, NewDrift, Project, PushOutcome, Ref, Scope, Scopes, TagInfo, TagSchema,
    TokenInfo, VersionIdSchema, VersionInfo, VersionInfoJson, check_name, check_tag, check_version,
    hidden_or_control,
};
use crate::upload;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/projects", get(list_projects))
        .route(
            "/api/projects/{project}",
            get(get_project).patch(patch_project),
        )
        .route("/api/projects/{project}/dirs", get(list_dirs))
        .route(
            "/api/projects/{project}/dirs/{dir}/versions",
            get(list_versions).post(push),
        )
        .route(
            "/api/projects/{project}/dirs/{dir}/versions/{version}",
            get(version_listing),
        )
        .route(
            "/api/projects/{project}/dirs/{dir}/versions/{version}/archive",
            get(version_archive),
        )
        .route("/api/projects/{project}/dirs/{dir}/tags", get(list_tags))
        .route(
            "/api/projects/{project}/dirs/{dir}/tags/{tag}",
            get(tag_listing),
        )
        .route(
            "/api/projects/{project}/dirs/{dir}/tags/{tag}/archive",
            get(tag_archive),
        )
        .route(
            "/api/projects/{project}/deployments",
            get(list_deployments).post(report_deployment),
        )
        .route(
            "/api/projects/{project}/drift",
            get(list_drift).post(report_drift),
        )
        .route(
            "/api/projects/{project}/tokens",
            get(list_tokens).post(create_token),
        )
        .route("/api/projects/{project}/tokens/{id}", delete(revoke_token))
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Strata registry",
        description = "Tagged, Atlas-compatible migration directories with deployment history. Authenticate with \
                       'Authorization: Bearer <token>'; tokens belong to one project and carry scopes read, push, \
                       report, admin (admin implies the others)."
    ),
    paths(
        list_projects, get_project, patch_project, list_dirs, list_versions, push, version_listing,
        version_archive, list_tags, tag_listing, tag_archive, list_deployments, report_deployment,
        list_drift, report_drift, list_tokens, create_token, revoke_token
    ),
    components(schemas(ErrorBody, JsonFile, JsonUpload, NameSchema, TagSchema, VersionIdSchema)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The OpenAPI document as served at `/api/openapi.json` (built once).
pub fn openapi_json() -> Result<String, String> {
    static DOC: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string()))
        .clone()
}

/// `Path`, refused with the API's JSON error (axum's own refusal is `text/plain`), e.g. for a path segment that
/// is not UTF-8 once percent-decoded.
pub(crate) struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(Self(t)),
            Err(e) => {
                let message = match &e {
                    PathRejection::FailedToDeserializePathParams(d) => match d.kind() {
                        axum::extract::path::ErrorKind::InvalidUtf8InPathParam { key } => format!(
                            "path parameter {key:?} is not valid UTF-8 once percent-decoded; names use letters, \
                             digits, '.', '_' and '-'"
                        ),
                        _ => "a path parameter could not be read; see /api/openapi.json".to_owned(),
                    },
                    _ => "the request path could not be read; see /api/openapi.json".to_owned(),
                };
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    message,
                ))
            }
        }
    }
}

/// `{project}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct ProjectPath {
    /// The project.
    #[param(value_type = NameSchema)]
    project: String,
}

/// `{project}/dirs/{dir}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct DirPath {
    /// The project.
    #[param(value_type = NameSchema)]
    project: String,
    /// The directory.
    #[param(value_type = NameSchema)]
    dir: String,
}

/// `{project}/dirs/{dir}/versions/{version}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct VersionPath {
    /// The project.
    #[param(value_type = NameSchema)]
    project: String,
    /// The directory.
    #[param(value_type = NameSchema)]
    dir: String,
    /// The version id.
    #[param(value_type = VersionIdSchema)]
    version: String,
}

/// `{project}/dirs/{dir}/tags/{tag}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TagPath {
    /// The project.
    #[param(value_type = NameSchema)]
    project: String,
    /// The directory.
    #[param(value_type = NameSchema)]
    dir: String,
    /// The tag.
    #[param(value_type = TagSchema)]
    tag: String,
}

/// `{project}/tokens/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TokenPath {
    /// The project.
    #[param(value_type = NameSchema)]
    project: String,
    /// The token's public id (as listed).
    id: String,
}

/// The query of a push (documentation only: it is parsed by hand, refusing unknown keys).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PushQuery {
    /// Tags to point at the version besides `latest` (repeatable, at most 32).
    #[param(value_type = Option<Vec<TagSchema>>, max_items = 32)]
    tag: Option<Vec<String>>,
}

/// The query of a deployment listing (documentation only: it is parsed by hand, refusing unknown keys).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DeploymentsQuery {
    /// Only this directory.
    dir: Option<String>,
    /// Only this target (exact, redacted form).
    target: Option<String>,
    /// At most this many, newest first (default 100; clamped to 1-1000).
    limit: Option<i64>,
}

/// The refusals every `/api/projects/{project}/…` endpoint can answer, as `{"code", "message"}`.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Refusals {
    /// A path parameter, the query or the body is malformed (codes `invalid_name`, `invalid_path`,
    /// `invalid_query`, `invalid_body`, `invalid_upload`).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, or one that is malformed, unknown or revoked.
    #[response(status = 401, headers(("www-authenticate" = String, description = "Bearer realm=\"strata\"")))]
    Unauthorized(ErrorBody),
    /// The token lacks the scope the endpoint needs.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such project (or the token belongs to another one), directory, tag, version or token.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// A plain (not compressed) tar archive of a directory's files.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct TarArchive(Vec<u8>);

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// An error: a machine-readable code and a message saying what to do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// e.g. `invalid_upload`, `not_found`, `forbidden`.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// A project with its directories.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    /// The project.
    pub project: Project,
    /// Its directories.
    pub directories: Vec<Directory>,
}

/// Project settings to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    /// Whether tags other than `latest` may never move once set.
    pub immutable_tags: Option<bool>,
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A label, e.g. `ci`.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: String,
    /// Scopes to grant (at least one).
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
}

/// A created token: shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token; only its hash is stored.
    pub token: String,
    /// Its listing.
    pub info: TokenInfo,
}

type ApiResult<T> = Result<T, ApiError>;

fn names(project: &str, dir: Option<&str>) -> ApiResult<()> {
    check_name("project name", project)?;
    if let Some(d) = dir {
        check_name("directory name", d)?;
    }
    Ok(())
}

/// Reads a body of at most `limit` bytes. Its size (the `Content-Length`, else `limit`) is reserved against the
/// server's budget of body bytes in flight first, waiting for room; keep the reservation until the request is
/// done with what it decoded from the body.
async fn read_body(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> ApiResult<(axum::body::Bytes, Reservation)> {
    let too_large = || {
        ApiError::from(RegistryError::TooLarge(format!(
            "the request body is larger than the limit of {limit} bytes (or was cut off); raise --max-upload-bytes on the server if this is intended"
        )))
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let reservation = s
        .uploads()
        .reserve(announced.map_or(limit, |n| n as usize))
        .await;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    Ok((bytes, reservation))
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> ApiResult<T> {
    upload::json_object(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the body is not a valid {what}: {e}"),
        )
    })
}

async fn openapi() -> Response {
    match openapi_json() {
        Ok(s) => ([(header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e).into_response(),
    }
}

/// Projects the token can see (its own).
#[utoipa::path(get, path = "/api/projects", responses(
    (status = 200, description = "the token's project", body = Vec<Project>),
    (status = 401, description = "no token, or one that is malformed, unknown or revoked", body = ErrorBody,
        headers(("www-authenticate" = String, description = "Bearer realm=\"strata\"")))))]
async fn list_projects(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<Project>>> {
    let p = s.principal(&headers, false, None).await?.ok_or_else(|| {
        ApiError::from(RegistryError::Unauthorized(
            "a token is required: send 'Authorization: Bearer <token>'".into(),
        ))
    })?;
    Ok(axum::Json(
        s.store().project(&p.project).await?.into_iter().collect(),
    ))
}

/// A project and its directories (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}", params(ProjectPath), responses(
    (status = 200, description = "the project and its directories", body = ProjectView), Refusals))]
async fn get_project(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<ProjectView>> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    let p = s
        .store()
        .project(&project)
        .await?
        .ok_or_else(|| crate::store::not_found_project(&project))?;
    let directories = s.store().directories(&project).await?;
    Ok(axum::Json(ProjectView {
        project: p,
        directories,
    }))
}

/// Changes project settings (scope `admin`).
#[utoipa::path(patch, path = "/api/projects/{project}", params(ProjectPath), request_body = ProjectPatch,
    responses((status = 200, description = "the project as changed", body = Project),
    (status = 413, description = "the body is larger than 64 KiB", body = ErrorBody), Refusals))]
async fn patch_project(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<Project>> {
    s.authorize(&headers, &project, Scope::Admin, false).await?;
    let (body, _reserved) = read_body(&s, &headers, body, 64 << 10).await?;
    let patch: ProjectPatch = parse_json(&body, "project patch")?;
    let p = match patch.immutable_tags {
        Some(on) => s.store().set_immutable_tags(&project, on).await?,
        None => s
            .store()
            .project(&project)
            .await?
            .ok_or_else(|| crate::store::not_found_project(&project))?,
    };
    Ok(axum::Json(p))
}

/// The project's directories (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs", params(ProjectPath), responses(
    (status = 200, description = "the directories, by name", body = Vec<Directory>), Refusals))]
async fn list_dirs(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<Directory>>> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    Ok(axum::Json(s.store().directories(&project).await?))
}

/// The directory's versions, newest first (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs/{dir}/versions", params(DirPath), responses(
    (status = 200, description = "the versions, newest first", body = Vec<VersionInfo>), Refusals))]
async fn list_versions(
    State(s): State<AppState>,
    ApiPath(DirPath { project, dir }): ApiPath<DirPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<VersionInfo>>> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    names(&project, Some(&dir))?;
    Ok(axum::Json(s.store().versions(&project, &dir).await?))
}

/// Pushes a directory (scope `push`). The body is either JSON (`Content-Type: application/json`,
/// `{"files": [{"name", "text" | "base64"}]}`) or a plain tar archive (`Content-Type: application/x-tar`) of the
/// directory's `*.sql` files and `atlas.sum`. `latest` and every `?tag=` (repeatable) are pointed at the version.
#[utoipa::path(post, path = "/api/projects/{project}/dirs/{dir}/versions",
    params(DirPath, PushQuery),
    request_body(content(
        (JsonUpload = "application/json"),
        (TarArchive = "application/x-tar"))),
    responses(
        (status = 201, description = "a new version", body = PushOutcome),
        (status = 200, description = "identical content was already stored; tags moved", body = PushOutcome),
        (status = 409, description = "a tag is immutable and names another version", body = ErrorBody),
        (status = 413, description = "the body, a file or the number of files is over a limit", body = ErrorBody),
        (status = 415, description = "the Content-Type is neither application/json nor application/x-tar",
            body = ErrorBody),
        Refusals))]
async fn push(
    State(s): State<AppState>,
    ApiPath(DirPath { project, dir }): ApiPath<DirPath>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Push, false).await?;
    names(&project, Some(&dir))?;
    let mut tags = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "tag" => {
                check_tag(&v)?;
                tags.push(v.into_owned());
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("unknown query parameter {other:?}; only 'tag' is accepted"),
                ));
            }
        }
    }
    if tags.len() > 32 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "at most 32 tags per push",
        ));
    }
    let limits = s.config().limits;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = match ctype.as_str() {
        "application/json" => true,
        "application/x-tar" | "application/tar" => false,
        other => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "unsupported Content-Type {other:?}: send application/json ({{\"files\": [...]}}) or application/x-tar"
                ),
            ));
        }
    };
    // Held until the push is stored: the decoded files are alive until then.
    let (body, _reserved) = read_body(&s, &headers, body, limits.max_upload_bytes).await?;
    let validated = if json {
        upload::from_json(&body, &limits)?
    } else {
        upload::from_tar(&body, &limits)?
    };
    let out = s.store().push(&project, &dir, &validated, &tags).await?;
    tracing::info!(project, dir, version = %out.version.id, created = out.created, tags = ?out.tags, "push");
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(out)).into_response())
}

/// The version `r` names and its content. Tags move, so they are resolved every time; a version's content never
/// changes and is cached.
pub(crate) async fn content(
    s: &AppState,
    project: &str,
    dir: &str,
    r: Ref,
) -> ApiResult<(VersionInfo, Arc<Cached>)> {
    names(project, Some(dir))?;
    match &r {
        Ref::Tag(t) => check_tag(t)?,
        Ref::Version(v) => check_version(v)?,
    }
    let missing = || {
        ApiError::from(RegistryError::NotFound(format!(
            "{r} of directory {dir:?} not found in project {project:?}"
        )))
    };
    let info = s
        .store()
        .resolve(project, dir, &r)
        .await?
        .ok_or_else(missing)?;
    if let Some(c) = s.cache().content(project, dir, &info.id) {
        return Ok((info, c));
    }
    let c = s
        .store()
        .content(project, dir, &Ref::Version(info.id.clone()))
        .await?
        .ok_or_else(missing)?;
    let c = Arc::new(Cached::new(c));
    s.cache().remember_content(project, dir, c.clone());
    Ok((info, c))
}

fn listing(project: &str, dir: &str, (info, c): &(VersionInfo, Arc<Cached>)) -> Response {
    // The files never change: splice their cached JSON into the listing (same shape as `DirListing`).
    let head = serde_json::json!({
        "project": project,
        "dir": dir,
        "version": VersionInfoJson::from(info),
    })
    .to_string();
    let files = c.files_json();
    let mut body = Vec::with_capacity(head.len() + files.len() + 16);
    body.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    body.extend_from_slice(b",\"files\":");
    body.extend_from_slice(&files);
    body.push(b'}');
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    version_headers(r.headers_mut(), &info.id);
    r
}

pub(crate) fn archive(dir: &str, (info, c): &(VersionInfo, Arc<Cached>)) -> Response {
    let mut r = c.tar().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{dir}-{}.tar\"",
        &info.id[..12]
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    version_headers(h, &info.id);
    r
}

fn version_headers(h: &mut HeaderMap, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        h.insert("x-strata-version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{id}\"")) {
        h.insert(header::ETAG, v);
    }
}

/// A version's files as JSON (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs/{dir}/versions/{version}", params(VersionPath),
    responses((status = 200, description = "the version and its files", body = DirListing,
        headers(("x-strata-version" = String, description = "the version id"),
            ("etag" = String, description = "the quoted version id"))),
    Refusals))]
async fn version_listing(
    State(s): State<AppState>,
    ApiPath(VersionPath {
        project,
        dir,
        version,
    }): ApiPath<VersionPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    let c = content(&s, &project, &dir, Ref::Version(version)).await?;
    Ok(listing(&project, &dir, &c))
}

/// A version as a tar archive (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs/{dir}/versions/{version}/archive", params(VersionPath),
    responses((status = 200, description = "a deterministic tar: atlas.sum first, mode 0644, time 0",
        content_type = "application/x-tar", body = TarArchive,
        headers(("x-strata-version" = String, description = "the version id"),
            ("etag" = String, description = "the quoted version id"),
            ("content-disposition" = String, description = "attachment; filename=\"DIR-ID.tar\""))),
    Refusals))]
async fn version_archive(
    State(s): State<AppState>,
    ApiPath(VersionPath {
        project,
        dir,
        version,
    }): ApiPath<VersionPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    let c = content(&s, &project, &dir, Ref::Version(version)).await?;
    Ok(archive(&dir, &c))
}

/// The directory's tags (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs/{dir}/tags", params(DirPath), responses(
    (status = 200, description = "the tags, by name", body = Vec<TagInfo>), Refusals))]
async fn list_tags(
    State(s): State<AppState>,
    ApiPath(DirPath { project, dir }): ApiPath<DirPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<TagInfo>>> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    names(&project, Some(&dir))?;
    Ok(axum::Json(s.store().tags(&project, &dir).await?))
}

/// The version a tag names, with its files as JSON (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs/{dir}/tags/{tag}", params(TagPath), responses(
    (status = 200, description = "the version the tag names and its files", body = DirListing,
        headers(("x-strata-version" = String, description = "the version id"),
            ("etag" = String, description = "the quoted version id"))),
    Refusals))]
async fn tag_listing(
    State(s): State<AppState>,
    ApiPath(TagPath { project, dir, tag }): ApiPath<TagPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    let c = content(&s, &project, &dir, Ref::Tag(tag)).await?;
    Ok(listing(&project, &dir, &c))
}

/// The version a tag names, as a tar archive (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/dirs/{dir}/tags/{tag}/archive", params(TagPath),
    responses((status = 200, description = "a deterministic tar: atlas.sum first, mode 0644, time 0",
        content_type = "application/x-tar", body = TarArchive,
        headers(("x-strata-version" = String, description = "the version id"),
            ("etag" = String, description = "the quoted version id"),
            ("content-disposition" = String, description = "attachment; filename=\"DIR-ID.tar\""))),
    Refusals))]
async fn tag_archive(
    State(s): State<AppState>,
    ApiPath(TagPath { project, dir, tag }): ApiPath<TagPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    let c = content(&s, &project, &dir, Ref::Tag(tag)).await?;
    Ok(archive(&dir, &c))
}

/// Deployments, newest first (scope `read`); filter with `?dir=`, `?target=`, `?limit=`.
#[utoipa::path(get, path = "/api/projects/{project}/deployments", params(ProjectPath, DeploymentsQuery),
    responses((status = 200, description = "the deployments, newest first", body = Vec<Deployment>), Refusals))]
async fn list_deployments(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<Deployment>>> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    let f = deployment_filter(query.as_deref())?;
    Ok(axum::Json(s.store().deployments(&project, &f).await?))
}

pub(crate) fn deployment_filter(query: Option<&str>) -> ApiResult<DeploymentFilter> {
    let mut f = DeploymentFilter::default();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "dir" => f.dir = Some(v.into_owned()),
            "target" => f.target = Some(v.into_owned()),
            "limit" => {
                f.limit = Some(v.parse().map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_query",
                        "limit must be a number",
                    )
                })?)
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("unknown query parameter {other:?}; use dir, target or limit"),
                ));
            }
        }
    }
    Ok(f)
}

/// Reports a deployment (scope `report`). The target is stored without credentials whatever the client sent, and
/// any password it held is removed from the error texts.
#[utoipa::path(post, path = "/api/projects/{project}/deployments", params(ProjectPath),
    request_body = NewDeployment, responses(
    (status = 201, description = "the deployment as recorded", body = Deployment),
    (status = 413, description = "the body is larger than 4 MiB", body = ErrorBody), Refusals))]
async fn report_deployment(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Report, false)
        .await?;
    let (body, _reserved) = read_body(&s, &headers, body, 4 << 20).await?;
    let mut d: NewDeployment = parse_json(&body, "deployment report")?;
    check_name("directory name", &d.dir)?;
    if let Some(t) = &d.tag {
        check_tag(t)?;
    }
    if let Some(v) = &d.version {
        check_version(v)?;
    }
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", m.to_owned());
    if d.target.is_empty() || d.target.chars().count() > 2048 {
        return Err(bad(
            "target must be 1-2048 characters (a database URL without credentials)",
        ));
    }
    if d.files.len() > 100_000 || d.error.as_ref().is_some_and(|e| e.len() > 1 << 20) {
        return Err(bad(
            "the report is too large (at most 100000 files and a 1 MiB error)",
        ));
    }
    if d.statements < 0
        || d.duration_ms < 0
        || d.files
            .iter()
            .any(|f| f.statements < 0 || f.duration_ms.is_some_and(|ms| ms < 0))
    {
        return Err(bad(
            "statements and duration_ms (of the run and of each file) must not be negative",
        ));
    }
    if let Some((f, c)) = d
        .files
        .iter()
        .find_map(|f| hidden_or_control(&f.name).map(|c| (f, c)))
    {
        return Err(bad(&format!(
            "file name {:?} contains the control or invisible formatting character U+{:04X}",
            f.name.chars().take(120).collect::<String>(),
            c as u32
        )));
    }
    if let Some(f) = d.files.iter().find(|f| {
        f.version
            .as_ref()
            .is_some_and(|v| v.len() > 256 || hidden_or_control(v).is_some())
    }) {
        return Err(bad(&format!(
            "the version of file {:?} must be at most 256 characters without control or invisible formatting characters",
            f.name.chars().take(120).collect::<String>()
        )));
    }
    for t in [&d.started_at, &d.finished_at] {
        if t.parse::<jiff::Timestamp>().is_err() {
            return Err(bad(
                "started_at and finished_at must be RFC 3339 timestamps",
            ));
        }
    }
    // Never store credentials, whatever the client sent: the target loses its user-info and secret parameters
    // (as the client's own `target_of` does), and whatever secret it held is scrubbed from the error texts, which
    // an older client could have filled with the unredacted URL.
    let raw_target = std::mem::take(&mut d.target);
    d.target = strata_registry_client::target_of(&raw_target);
    for e in d
        .error
        .iter_mut()
        .chain(d.files.iter_mut().filter_map(|f| f.error.as_mut()))
    {
        *e = strata_driver::scrub(e, &raw_target);
    }
    let out = s.store().add_deployment(&project, &d).await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

/// Reports a drift check of a target (scope `report`): the differences between the target and what it should
/// be, one line each (none: no drift). The registry keeps the latest check per directory and target, and stores
/// the target without credentials whatever the client sent.
#[utoipa::path(post, path = "/api/projects/{project}/drift", params(ProjectPath),
    request_body = NewDrift, responses(
    (status = 201, description = "the check as recorded", body = Drift),
    (status = 413, description = "the body is larger than 4 MiB", body = ErrorBody), Refusals))]
async fn report_drift(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Report, false)
        .await?;
    let (body, _reserved) = read_body(&s, &headers, body, 4 << 20).await?;
    let mut d: NewDrift = parse_json(&body, "drift report")?;
    check_name("directory name", &d.dir)?;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", m);
    if d.target.is_empty() || d.target.chars().count() > 2048 {
        return Err(bad(
            "target must be 1-2048 characters (a database URL without credentials)".into(),
        ));
    }
    if d.lines.len() > 10_000 || d.lines.iter().any(|l| l.len() > 4096) {
        return Err(bad(
            "the drift report is too large (at most 10000 lines of 4096 bytes)".into(),
        ));
    }
    if let Some((i, c)) = d
        .lines
        .iter()
        .enumerate()
        .find_map(|(i, l)| hidden_or_control(l).map(|c| (i, c)))
    {
        return Err(bad(format!(
            "lines[{i}] contains the control or invisible formatting character U+{:04X}; send one difference per line",
            c as u32
        )));
    }
    if d.checked_at.parse::<jiff::Timestamp>().is_err() {
        return Err(bad(format!(
            "checked_at {:?} is not an RFC 3339 timestamp (e.g. 2026-01-02T15:04:05Z)",
            d.checked_at.chars().take(64).collect::<String>()
        )));
    }
    let raw_target = std::mem::take(&mut d.target);
    d.target = strata_registry_client::target_of(&raw_target);
    for l in &mut d.lines {
        *l = strata_driver::scrub(l, &raw_target);
    }
    let out = s.store().report_drift(&project, &d).await?;
    tracing::info!(project, dir = %d.dir, target = %d.target, lines = d.lines.len(), "drift reported");
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

/// The latest drift check of every directory and target (scope `read`).
#[utoipa::path(get, path = "/api/projects/{project}/drift", params(ProjectPath), responses(
    (status = 200, description = "the latest check per directory and target", body = Vec<Drift>), Refusals))]
async fn list_drift(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<Drift>>> {
    s.authorize(&headers, &project, Scope::Read, false).await?;
    Ok(axum::Json(s.store().drifts(&project).await?))
}

/// The project's tokens, without secrets (scope `admin`).
#[utoipa::path(get, path = "/api/projects/{project}/tokens", params(ProjectPath), responses(
    (status = 200, description = "the tokens, revoked ones included", body = Vec<TokenInfo>), Refusals))]
async fn list_tokens(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<TokenInfo>>> {
    s.authorize(&headers, &project, Scope::Admin, false).await?;
    Ok(axum::Json(s.store().tokens(&project).await?))
}

/// Creates a token (scope `admin`); the response is the only time the token is shown.
#[utoipa::path(post, path = "/api/projects/{project}/tokens", params(ProjectPath), request_body = NewToken,
    responses((status = 201, description = "the token, shown this once", body = CreatedToken),
    (status = 413, description = "the body is larger than 64 KiB", body = ErrorBody), Refusals))]
async fn create_token(
    State(s): State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    s.authorize(&headers, &project, Scope::Admin, false).await?;
    let (body, _reserved) = read_body(&s, &headers, body, 64 << 10).await?;
    let req: NewToken = parse_json(&body, "token request")?;
    if req.name.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the token name is longer than 200 characters",
        ));
    }
    let (info, token) =
        crate::auth::create_token(s.store(), &project, &req.name, Scopes::of(&req.scopes)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken { token, info }),
    )
        .into_response())
}

/// Revokes a token (scope `admin`).
#[utoipa::path(delete, path = "/api/projects/{project}/tokens/{id}", params(TokenPath), responses(
    (status = 204, description = "revoked"), Refusals))]
async fn revoke_token(
    State(s): State<AppState>,
    ApiPath(TokenPath { project, id }): ApiPath<TokenPath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    s.authorize(&headers, &project, Scope::Admin, false).await?;
    if s.store().revoke_token(&project, &id).await? {
        s.cache().forget_tokens();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(
            RegistryError::NotFound(format!("project {project:?} has no active token {id:?}"))
                .into(),
        )
    }
}
