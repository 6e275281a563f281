//! The registry client used by `strata migrate push`, `migrate apply/status --dir strata://…` and the operator.

use std::time::Duration;

use serde::Deserialize;
use strata_engine::report::ApplyReport;
use strata_migrate::dir::SUM_FILE;
use strata_migrate::{MigrationDir, MigrationFile};

use crate::error::{RegistryError, Result};
use crate::model::{
    DeployStatus, DeployedFile, Deployment, NewDeployment, Ref, check_name, check_tag,
    check_version,
};
use crate::server::api::{DirListing, VersionInfoJson};
use crate::upload;

/// A directory in the registry as a `--dir` URL: `strata://PROJECT[/DIR][?tag=T|?version=V]` (also `atlas://`).
/// `DIR` defaults to the project name and the reference to `tag=latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirUrl {
    /// Project.
    pub project: String,
    /// Directory.
    pub dir: String,
    /// Tag or version.
    pub reference: Ref,
}

impl DirUrl {
    /// Whether `url` names a registry directory (`strata://` or `atlas://`).
    pub fn is_registry(url: &str) -> bool {
        let l = url.to_ascii_lowercase();
        l.starts_with("strata://") || l.starts_with("atlas://")
    }

    /// Parses `strata://NAME?tag=T`.
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("strata") || s.eq_ignore_ascii_case("atlas"))
            .map(|(_, r)| r)
            .ok_or_else(|| RegistryError::InvalidName {
                kind: "registry directory URL",
                value: url.into(),
                reason: "use strata://PROJECT[/DIR]?tag=TAG (or atlas://…)",
            })?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (project, dir) = parse_name(path.trim_end_matches('/'))?;
        let mut reference = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let r = match k.as_ref() {
                "tag" => {
                    check_tag(&v)?;
                    Ref::Tag(v.into_owned())
                }
                "version" => {
                    check_version(&v)?;
                    Ref::Version(v.into_owned())
                }
                _ => {
                    return Err(RegistryError::InvalidName {
                        kind: "registry directory URL parameter",
                        value: k.into_owned(),
                        reason: "use ?tag=TAG or ?version=VERSION",
                    });
                }
            };
            if reference.replace(r).is_some() {
                return Err(RegistryError::InvalidName {
                    kind: "registry directory URL",
                    value: url.into(),
                    reason: "give one tag or one version",
                });
            }
        }
        Ok(Self {
            project,
            dir,
            reference: reference.unwrap_or(Ref::Tag(crate::model::LATEST.into())),
        })
    }
}

/// Splits `PROJECT[/DIR]`; `DIR` defaults to `PROJECT`.
pub fn parse_name(name: &str) -> Result<(String, String)> {
    let (project, dir) = match name.split_once('/') {
        Some((p, d)) => (p, d),
        None => (name, name),
    };
    check_name("project name", project)?;
    check_name("directory name", dir)?;
    Ok((project.to_owned(), dir.to_owned()))
}

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
            return Err(RegistryError::Http(format!(
                "registry URL {:?} must start with http:// or https:// (set --registry or STRATA_REGISTRY)",
                strata_driver::redact(&base)
            )));
        }
        if let Err(e) = url::Url::parse(&base) {
            return Err(RegistryError::Http(format!(
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
                RegistryError::Http(format!("cannot build the HTTP client: {}", http_error(e)))
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
            RegistryError::Http(format!(
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
            401 => RegistryError::Unauthorized(format!("{what}: {message}{hint}")),
            403 => RegistryError::Forbidden(format!("{what}: {message}")),
            404 => RegistryError::NotFound(format!("{what}: {message}")),
            _ => RegistryError::Http(format!("{what}: the registry answered {status}: {message}")),
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
        let mut url =
            url::Url::parse(&self.url(&format!("/api/projects/{project}/dirs/{dir}/versions")))
                .map_err(|e| RegistryError::Http(format!("invalid registry URL: {e}")))?;
        for t in tags {
            url.query_pairs_mut().append_pair("tag", t);
        }
        let res = self
            .send(self.http.post(url).json(&upload::json_upload(d)), "push")
            .await?;
        res.json().await.map_err(|e| {
            RegistryError::Http(format!(
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
                RegistryError::Http(format!(
                    "{what}: unreadable answer from the registry: {}",
                    http_error(e)
                ))
            })?;
        let mut files = Vec::new();
        let mut sum = None;
        for f in listing.files {
            let bytes = match (f.text, f.base64) {
                (Some(t), _) => t.into_bytes(),
                (None, Some(b)) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .map_err(|e| {
                            RegistryError::Http(format!("{what}: bad base64 in {}: {e}", f.name))
                        })?
                }
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
            .map_err(|e| RegistryError::Http(format!("{what}: {e}")))?;
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
            RegistryError::Http(format!(
                "reporting the deployment: unreadable answer: {}",
                http_error(e)
            ))
        })?;
        Ok(Deployment {
            id: created.id,
            report: d.clone(),
            reported_at: crate::model::Millis::now(),
        })
    }

    /// GETs a path (e.g. a web UI page) with the token, returning the body as text.
    pub async fn get_text(&self, path: &str) -> Result<String> {
        self.send(self.http.get(self.url(path)), path)
            .await?
            .text()
            .await
            .map_err(|e| {
                RegistryError::Http(format!("{path}: unreadable answer: {}", http_error(e)))
            })
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
            RegistryError::Http(format!(
                "listing deployments: unreadable answer: {}",
                http_error(e)
            ))
        })
    }
}

/// A database URL as deployments show it: credentials removed entirely (user and password), secret query
/// parameters redacted. The driver's redaction does it ([`strata_driver::without_credentials`]), so it finds a
/// password wherever `redact` does, also in a URL that does not parse.
pub fn target_of(url: &str) -> String {
    strata_driver::without_credentials(url)
}

/// Builds a deployment record from an apply run. Neither the target nor an error text holds a credential of
/// `target_url`.
pub fn deployment_from_report(
    dir: &str,
    target_url: &str,
    tag: Option<&str>,
    version: Option<&str>,
    report: &ApplyReport,
) -> NewDeployment {
    let files: Vec<DeployedFile> = report
        .applied
        .iter()
        .map(|f| DeployedFile {
            name: f.file.name.clone(),
            statements: f.applied.len() as i64,
            error: f
                .error
                .as_ref()
                .map(|e| strata_driver::scrub(&e.text, target_url)),
        })
        .collect();
    let status = if !report.error.is_empty() {
        DeployStatus::Failed
    } else if report.applied.is_empty() {
        DeployStatus::Noop
    } else {
        DeployStatus::Succeeded
    };
    let duration = report.end.duration_since(report.start).as_millis() as i64;
    NewDeployment {
        dir: dir.to_owned(),
        target: target_of(target_url),
        tag: tag.map(str::to_owned),
        version: version.map(str::to_owned),
        from_version: report.current.clone(),
        to_version: if report.target.is_empty() {
            report.current.clone()
        } else {
            report.target.clone()
        },
        status,
        error: (!report.error.is_empty()).then(|| strata_driver::scrub(&report.error, target_url)),
        statements: files.iter().map(|f| f.statements).sum(),
        files,
        duration_ms: duration.max(0),
        started_at: report.start.to_string(),
        finished_at: report.end.to_string(),
    }
}

/// A deployment record for a run that failed before executing anything (no report). `error` is scrubbed of
/// `target_url`'s credentials.
pub fn failed_deployment(
    dir: &str,
    target_url: &str,
    tag: Option<&str>,
    version: Option<&str>,
    error: &str,
) -> NewDeployment {
    let now = jiff::Timestamp::now().to_string();
    NewDeployment {
        dir: dir.to_owned(),
        target: target_of(target_url),
        tag: tag.map(str::to_owned),
        version: version.map(str::to_owned),
        from_version: String::new(),
        to_version: String::new(),
        status: DeployStatus::Failed,
        error: Some(strata_driver::scrub(error, target_url)),
        files: Vec::new(),
        statements: 0,
        duration_ms: 0,
        started_at: now.clone(),
        finished_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_urls() {
        let u = DirUrl::parse("strata://app?tag=v1").unwrap();
        assert_eq!((u.project.as_str(), u.dir.as_str()), ("app", "app"));
        assert_eq!(u.reference, Ref::Tag("v1".into()));
        let u = DirUrl::parse("atlas://app/core").unwrap();
        assert_eq!(u.dir, "core");
        assert_eq!(u.reference, Ref::Tag("latest".into()));
        let v = "a".repeat(64);
        assert_eq!(
            DirUrl::parse(&format!("strata://app?version={v}"))
                .unwrap()
                .reference,
            Ref::Version(v)
        );
        for bad in [
            "file://x",
            "strata://../x",
            "strata://app?tag=a&tag=b",
            "strata://app?x=1",
            "strata://app?version=zz",
        ] {
            assert!(DirUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(DirUrl::is_registry("ATLAS://x"));
    }

    #[test]
    fn targets_lose_credentials() {
        assert_eq!(
            target_of("postgres://u:secret@db:5432/app?sslmode=disable"),
            "postgres://db:5432/app?sslmode=disable"
        );
        assert_eq!(
            target_of("mysql://root:pw@localhost/x"),
            "mysql://localhost/x"
        );
        assert!(!target_of("postgres://db/app?password=hunter2").contains("hunter2"));
        assert_eq!(target_of("sqlite://file.db"), "sqlite://file.db");
        // Issue 10 item 8: the password used to survive when it held a '/', '?' or '#'.
        assert_eq!(
            target_of("postgres://u:S3cr/3tPW@host:1/x"),
            "postgres://host:1/x"
        );
        assert_eq!(
            target_of("mysql://u:S3cr?3t#PW@host:1/x"),
            "mysql://host:1/x"
        );
    }
}
