//! The HTTP client of one registry: push a directory (optionally with its lint report and schema model), fetch
//! one by tag or version, report a deployment or a drift check, list deployments. Used by `strata migrate push`, `migrate apply/status --dir strata://…` and the operator.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use strata_migrate::dir::SUM_FILE;
use strata_migrate::{MigrationDir, MigrationFile};

use crate::error::{ClientError, Result};
use crate::model::{
    Deployment, DirListing, Drift, JsonFile, JsonUpload, Millis, NewDeployment, NewDrift, Ref,
    VersionInfoJson,
};

/// What a push returned.
#[derive(Debug, Clone, Deserialize)]
pub struct Pushed {
    /// The version.
    pub version: VersionInfoJson,
    /// Whether it is new.
    pub created: bool,
    /// Tags set.
    pub tags: Vec<String>,
}

/// A fetched directory.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The directory, ready for the engine.
    pub dir: MigrationDir,
    /// The registry version.
    pub version: VersionInfoJson,
}

/// An HTTP client for one registry.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &strata_driver::redact(&self.base))
            .field(
                "token",
                &self.token.as_ref().map(|_| strata_driver::url::REDACTED),
            )
            .finish_non_exhaustive()
    }
}

/// A reqwest error as messages show it: without its URL, which may hold the registry's credentials.
fn http_error(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

#[derive(Deserialize)]
struct ErrorJson {
    message: String,
}

impl Client {
    /// A client for the registry at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: Option<String>) -> Result<Self> {
        // reqwest is built without a default crypto provider: use ring (no aws-lc, no OpenSSL).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Http(format!(
                "registry URL {:?} must start with http:// or https:// (set --registry or STRATA_REGISTRY)",
                strata_driver::redact(&base)
            )));
        }
        if let Err(e) = url::Url::parse(&base) {
            return Err(ClientError::Http(format!(
                "registry URL {:?} is not a valid URL: {e} (percent-encode '/', '?', '#' and '@' in a user name or \
                 password; set --registry or STRATA_REGISTRY)",
                strata_driver::redact(&base)
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ClientError::Http(format!("cannot build the HTTP client: {}", http_error(e)))
            })?;
        Ok(Self {
            base,
            token: token.filter(|t| !t.is_empty()),
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    async fn send(&self, rb: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response> {
        let res = self.auth(rb).send().await.map_err(|e| {
            ClientError::Http(format!(
                "{what}: cannot reach the registry at {}: {}; check --registry / STRATA_REGISTRY",
                strata_driver::redact(&self.base),
                http_error(e)
            ))
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ErrorJson>(&text)
            .map(|e| e.message)
            .unwrap_or_else(|_| text.chars().take(500).collect());
        let hint = match status.as_u16() {
            401 => " (pass a token with --token or STRATA_TOKEN)",
            _ => "",
        };
        Err(match status.as_u16() {
            401 => ClientError::Unauthorized(format!("{what}: {message}{hint}")),
            403 => ClientError::Forbidden(format!("{what}: {message}")),
            404 => ClientError::NotFound(format!("{what}: {message}")),
            _ => ClientError::Http(format!("{what}: the registry answered {status}: {message}")),
        })
    }

    /// Pushes a directory (its `*.sql` files and `atlas.sum`) and points `latest` and `tags` at it.
    pub async fn push(
        &self,
        project: &str,
        dir: &str,
        d: &MigrationDir,
        tags: &[String],
    ) -> Result<Pushed> {
        self.push_upload(project, dir, &json_upload(d), tags).await
    }

    /// Pushes a directory with what the registry keeps beside it: the lint report (`strata migrate lint --format
    /// json`) and the schema model the directory builds (`strata_schema::Realm` as JSON). Neither changes the
    /// version id; a later push of the same files replaces the version's attachments that it carries.
    pub async fn push_with(
        &self,
        project: &str,
        dir: &str,
        d: &MigrationDir,
        tags: &[String],
        lint_report: Option<serde_json::Value>,
        schema: Option<serde_json::Value>,
    ) -> Result<Pushed> {
        let mut upload = json_upload(d);
        upload.lint_report = lint_report;
        upload.schema = schema;
        self.push_upload(project, dir, &upload, tags).await
    }

    async fn push_upload(
        &self,
        project: &str,
        dir: &str,
        upload: &JsonUpload,
        tags: &[String],
    ) -> Result<Pushed> {
        let mut url =
            url::Url::parse(&self.url(&format!("/api/projects/{project}/dirs/{dir}/versions")))
                .map_err(|e| ClientError::Http(format!("invalid registry URL: {e}")))?;
        for t in tags {
            url.query_pairs_mut().append_pair("tag", t);
        }
        let res = self.send(self.http.post(url).json(upload), "push").await?;
        res.json().await.map_err(|e| {
            ClientError::Http(format!(
                "push: unreadable answer from the registry: {}",
                http_error(e)
            ))
        })
    }

    /// Fetches a directory by tag or version.
    pub async fn fetch(&self, project: &str, dir: &str, r: &Ref) -> Result<Fetched> {
        let path = match r {
            Ref::Tag(t) => format!("/api/projects/{project}/dirs/{dir}/tags/{t}"),
            Ref::Version(v) => format!("/api/projects/{project}/dirs/{dir}/versions/{v}"),
        };
        let what = format!("fetching {r} of {project}/{dir}");
        let listing: DirListing = self
            .send(self.http.get(self.url(&path)), &what)
            .await?
            .json()
            .await
            .map_err(|e| {
                ClientError::Http(format!(
                    "{what}: unreadable answer from the registry: {}",
                    http_error(e)
                ))
            })?;
        let mut files = Vec::new();
        let mut sum = None;
        for f in listing.files {
            let bytes = match (f.text, f.base64) {
                (Some(t), _) => t.into_bytes(),
                (None, Some(b)) => B64.decode(b).map_err(|e| {
                    ClientError::Http(format!("{what}: bad base64 in {}: {e}", f.name))
                })?,
                (None, None) => Vec::new(),
            };
            if f.name == SUM_FILE {
                sum = Some(bytes);
            } else {
                files.push(MigrationFile::new(f.name, bytes));
            }
        }
        let location = match r {
            Ref::Tag(t) => format!("strata://{project}/{dir}?tag={t}"),
            Ref::Version(v) => format!("strata://{project}/{dir}?version={v}"),
        };
        let dir = MigrationDir::from_parts(location, files, sum)
            .map_err(|e| ClientError::Http(format!("{what}: {e}")))?;
        Ok(Fetched {
            dir,
            version: listing.version,
        })
    }

    /// Reports a deployment.
    pub async fn report(&self, project: &str, d: &NewDeployment) -> Result<Deployment> {
        #[derive(Deserialize)]
        struct Created {
            id: i64,
        }
        let res = self
            .send(
                self.http
                    .post(self.url(&format!("/api/projects/{project}/deployments")))
                    .json(d),
                "reporting the deployment",
            )
            .await?;
        let created: Created = res.json().await.map_err(|e| {
            ClientError::Http(format!(
                "reporting the deployment: unreadable answer: {}",
                http_error(e)
            ))
        })?;
        Ok(Deployment {
            id: created.id,
            report: d.clone(),
            reported_at: Millis::now(),
        })
    }

    /// Reports a drift check of a target (`POST /api/projects/{project}/drift`, scope `report`): the registry
    /// keeps the latest per directory and target and shows it on its "what runs where" page. The target must be
    /// given without credentials ([`crate::target_of`]); the registry removes any it finds.
    pub async fn report_drift(&self, project: &str, d: &NewDrift) -> Result<Drift> {
        #[derive(Deserialize)]
        struct Recorded {
            target: String,
            reported_at: String,
        }
        let r: Recorded = self
            .send(
                self.http
                    .post(self.url(&format!("/api/projects/{project}/drift")))
                    .json(d),
                "reporting drift",
            )
            .await?
            .json()
            .await
            .map_err(|e| {
                ClientError::Http(format!(
                    "reporting drift: unreadable answer: {}",
                    http_error(e)
                ))
            })?;
        let reported_at = r
            .reported_at
            .parse::<jiff::Timestamp>()
            .map(|t| Millis(t.as_millisecond()))
            .unwrap_or_else(|_| Millis::now());
        Ok(Drift::of(
            NewDrift {
                target: r.target,
                ..d.clone()
            },
            reported_at,
        ))
    }

    /// GETs a path (e.g. a web UI page) with the token, returning the body as text.
    pub async fn get_text(&self, path: &str) -> Result<String> {
        self.send(self.http.get(self.url(path)), path)
            .await?
            .text()
            .await
            .map_err(|e| ClientError::Http(format!("{path}: unreadable answer: {}", http_error(e))))
    }

    /// Deployments as JSON values, newest first.
    pub async fn deployments(&self, project: &str) -> Result<Vec<serde_json::Value>> {
        self.send(
            self.http
                .get(self.url(&format!("/api/projects/{project}/deployments"))),
            "listing deployments",
        )
        .await?
        .json()
        .await
        .map_err(|e| {
            ClientError::Http(format!(
                "listing deployments: unreadable answer: {}",
                http_error(e)
            ))
        })
    }

    /// The latest drift check of every directory and target of a project (scope `read`), as JSON objects in the
    /// server's shape (`dir`, `target`, `lines`, `checked_at`, `reported_at`).
    pub async fn drifts(&self, project: &str) -> Result<Vec<serde_json::Value>> {
        self.send(
            self.http
                .get(self.url(&format!("/api/projects/{project}/drift"))),
            "listing drift checks",
        )
        .await?
        .json()
        .await
        .map_err(|e| {
            ClientError::Http(format!(
                "listing drift checks: unreadable answer: {}",
                http_error(e)
            ))
        })
    }
}

/// Builds a JSON upload from a directory (what [`Client::push`] sends): every file as base64, `atlas.sum` last.
pub fn json_upload(dir: &MigrationDir) -> JsonUpload {
    let mut files: Vec<JsonFile> = dir
        .files()
        .iter()
        .map(|f| JsonFile {
            name: f.name().to_owned(),
            text: None,
            base64: Some(B64.encode(f.bytes())),
        })
        .collect();
    if let Some(sum) = dir.sum_bytes() {
        files.push(JsonFile {
            name: SUM_FILE.into(),
            text: None,
            base64: Some(B64.encode(sum)),
        });
    }
    JsonUpload {
        files,
        lint_report: None,
        schema: None,
    }
}
