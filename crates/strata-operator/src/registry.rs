//! Remote directories through the Strata registry (operator-spec §1, §4.2): which registry, project, directory and
//! tag a spec names ([`remote_request`]), the [`RegistryClient`] that fetches directories and reports runs over
//! HTTP with [`strata_registry_client::Client`], and the deployment record of a run ([`deployment`]).
//!
//! The token is a bearer token. It never appears in an error, a status, an event or a log line: messages are built
//! from the registry's answers and scrubbed of the token, and registry URLs carrying credentials are refused.

use std::time::Duration;

use async_trait::async_trait;
use strata_engine::EngineError;
use strata_engine::report::ApplyReport;
use strata_registry_client::model::{self, NewDeployment, NewDrift, Ref};
use strata_registry_client::{Client, ClientError, InvalidName};

use crate::crd::AtlasMigrationSpec;
use crate::resolve::{Registry, RemoteDir, RemoteRequest, ResolveSettings};

/// Longest wait for a directory download.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for a run report (it is sent while the database's in-process lock is held).
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a remote directory could not be fetched or a run not reported. Messages name the registry without
/// credentials, never contain the token, and say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// Neither `spec.cloud.url` nor the operator's `--registry` is set.
    #[error(
        "remote directory {dir:?} needs a registry URL: set spec.cloud.url, or start the operator with \
         --registry URL (Helm value registry.url)"
    )]
    NoRegistryUrl {
        /// `dir.remote.name`.
        dir: String,
    },
    /// The registry URL is malformed or carries credentials.
    #[error(
        "registry URL {url:?} from {origin} is not usable: {reason}; give the registry's base URL, \
         e.g. http://strata-registry.strata:8080"
    )]
    BadUrl {
        /// The URL, redacted.
        url: String,
        /// `spec.cloud.url` or `--registry`.
        origin: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The spec names an invalid project, directory or tag, or the token is empty.
    #[error("{0}")]
    Spec(String),
    /// 401: the token is missing, unknown or revoked.
    #[error(
        "registry {r} refused the token: {d}; put a valid token for project {p:?} in {s} \
         ('strata registry token create --project {p} --scope read,report')",
        r = .0.registry, d = .0.detail, p = .0.project, s = .0.token_source
    )]
    Unauthorized(Box<Refusal>),
    /// 403: the token lacks a scope.
    #[error(
        "registry {r} refused the request: {d}; the token in {s} needs the read and report scopes for project {p:?}",
        r = .0.registry, d = .0.detail, p = .0.project, s = .0.token_source
    )]
    Forbidden(Box<Refusal>),
    /// 404: unknown project, directory or tag (or a token of another project).
    #[error(
        "registry {r}: {d}; push the directory with 'strata migrate push {p}/{dir}:{t}', fix spec.dir.remote \
         (name, tag) or spec.cloud.project, or check that the token in {s} belongs to project {p:?}",
        r = .0.registry, d = .0.detail, p = .0.project, s = .0.token_source, dir = .0.dir, t = .0.tag
    )]
    NotFound(Box<Refusal>),
    /// No answer: connection refused, DNS, TLS or a timeout.
    #[error(
        "cannot reach the registry at {registry} ({detail}); check spec.cloud.url or the operator's --registry, \
         and that the registry is running"
    )]
    Unreachable {
        /// Registry base URL (no credentials).
        registry: String,
        /// What failed.
        detail: String,
    },
    /// Any other failure (a server error, an unreadable answer).
    #[error("registry {registry}: {detail}")]
    Other {
        /// Registry base URL (no credentials).
        registry: String,
        /// What failed.
        detail: String,
    },
}

/// A registry's refusal of a request, with what messages need to say what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Registry base URL (no credentials).
    pub registry: String,
    /// Project.
    pub project: String,
    /// Directory.
    pub dir: String,
    /// Tag.
    pub tag: String,
    /// Where the token comes from, e.g. `secret apps/atlas-credentials key "token"`.
    pub token_source: String,
    /// The registry's answer.
    pub detail: String,
}

impl RemoteError {
    /// Whether the failure may pass without a spec change (the registry comes back, the tag gets pushed).
    pub fn transient(&self) -> bool {
        matches!(
            self,
            Self::NotFound(_) | Self::Unreachable { .. } | Self::Other { .. }
        )
    }
}

/// A URL as messages may show it: credentials redacted, no query or fragment.
pub fn display_url(url: &str) -> String {
    let r = strata_engine::redact(url);
    let end = r.find(['?', '#']).unwrap_or(r.len());
    r[..end].to_owned()
}

/// Checks a registry base URL: `http(s)://host[:port][/path]`, no credentials, query or fragment. Returns it
/// without a trailing `/`.
pub fn check_registry_url(url: &str, origin: &'static str) -> Result<String, RemoteError> {
    let bad = |reason: &str| RemoteError::BadUrl {
        url: display_url(url),
        origin,
        reason: reason.to_owned(),
    };
    let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "it carries credentials; remove them and put the registry token in the Secret named by \
             spec.cloud.tokenFrom",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it has a query or fragment"));
    }
    Ok(url.trim().trim_end_matches('/').to_owned())
}

/// What a spec's `dir.remote` names: the registry (`cloud.url`, else the operator's `--registry`), the project
/// (`cloud.project`; absent, the project part of a `PROJECT/DIR` name, else the directory name itself, as in
/// `strata://NAME`), the directory (`dir.remote.name`) and the tag (`dir.remote.tag`; empty = `latest`).
/// `token_source` describes where the token comes from, for messages.
pub fn remote_request(
    spec: &AtlasMigrationSpec,
    settings: &ResolveSettings,
    token_source: &str,
) -> Result<RemoteRequest, RemoteError> {
    let remote = spec.dir.remote.clone().unwrap_or_default();
    let cloud = spec.cloud.clone().unwrap_or_default();
    let spec_err = |e: InvalidName, field: &str| RemoteError::Spec(format!("{e}; fix {field}"));
    let (named_project, dir) = match remote.name.split_once('/') {
        Some(_) => {
            let (p, d) = strata_registry_client::parse_name(&remote.name)
                .map_err(|e| spec_err(e, "spec.dir.remote.name"))?;
            (Some(p), d)
        }
        None => {
            model::check_name("directory name", &remote.name)
                .map_err(|e| spec_err(e, "spec.dir.remote.name"))?;
            (None, remote.name.clone())
        }
    };
    let project = match (cloud.project.filter(|p| !p.is_empty()), named_project) {
        (Some(p), Some(n)) if p != n => {
            return Err(RemoteError::Spec(format!(
                "spec.dir.remote.name {:?} names project {n:?} but spec.cloud.project is {p:?}; drop the \
                 project from the name or make them agree",
                remote.name
            )));
        }
        (Some(p), _) => {
            model::check_name("project name", &p).map_err(|e| spec_err(e, "spec.cloud.project"))?;
            p
        }
        (None, Some(n)) => n,
        (None, None) => dir.clone(),
    };
    let tag = if remote.tag.is_empty() {
        model::LATEST.to_owned()
    } else {
        model::check_tag(&remote.tag).map_err(|e| spec_err(e, "spec.dir.remote.tag"))?;
        remote.tag.clone()
    };
    let registry = match cloud.url.filter(|u| !u.trim().is_empty()) {
        Some(u) => check_registry_url(&u, "spec.cloud.url")?,
        None => match settings
            .registry
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            Some(u) => check_registry_url(u, "--registry")?,
            None => return Err(RemoteError::NoRegistryUrl { dir: remote.name }),
        },
    };
    Ok(RemoteRequest {
        registry,
        project,
        dir,
        tag,
        env_name: spec.env_name().to_owned(),
        token_source: token_source.to_owned(),
    })
}

/// The deployment record of an apply of a remote directory, or `None` when the run is not reported: the shared
/// mapping of the CLI and the operator ([`strata_registry_client::deployment()`], which documents the rules). A lock
/// timeout is not reported (nothing ran; the run is retried), a failed run is `failed` with its error, whether it
/// stopped in a statement or was cancelled (with the files that ran) or failed before executing anything.
pub fn deployment(
    req: &RemoteRequest,
    version: &str,
    target_url: &str,
    result: &Result<ApplyReport, EngineError>,
) -> Option<NewDeployment> {
    strata_registry_client::deployment(
        &req.dir,
        target_url,
        Some(req.tag.as_str()),
        Some(version),
        result.as_ref(),
    )
}

/// Removes the token from a message (a registry never echoes it, but a proxy might).
fn scrub(text: &str, token: &str) -> String {
    if token.len() >= 8 {
        text.replace(token, "<token>")
    } else {
        text.to_owned()
    }
}

/// The registry's own words from a client error: without the client's "what it was doing:" prefix and without
/// the command-line hints (`--token`, `STRATA_REGISTRY`) that do not apply to the operator.
fn detail(message: &str) -> String {
    let m = if ["fetching ", "reporting ", "listing "]
        .iter()
        .any(|p| message.starts_with(p))
    {
        message.split_once(": ").map_or(message, |(_, rest)| rest)
    } else {
        message
    };
    m.trim_end_matches(" (pass a token with --token or STRATA_TOKEN)")
        .trim_end_matches("; check --registry / STRATA_REGISTRY")
        .to_owned()
}

/// Maps a client error to a [`RemoteError`], scrubbed of the token.
fn remote_error(e: ClientError, req: &RemoteRequest, token: &str) -> RemoteError {
    let registry = display_url(&req.registry);
    let d = scrub(&detail(&e.to_string()), token);
    let refusal = |detail: &str| {
        Box::new(Refusal {
            registry: registry.clone(),
            project: req.project.clone(),
            dir: req.dir.clone(),
            tag: req.tag.clone(),
            token_source: req.token_source.clone(),
            detail: detail.to_owned(),
        })
    };
    match e {
        ClientError::Unauthorized(_) => RemoteError::Unauthorized(refusal(&d)),
        ClientError::Forbidden(_) => RemoteError::Forbidden(refusal(&d)),
        ClientError::NotFound(_) => RemoteError::NotFound(refusal(&d)),
        _ => match d.strip_prefix("cannot reach the registry at ") {
            Some(rest) => RemoteError::Unreachable {
                detail: rest
                    .strip_prefix(&req.registry)
                    .map(|r| r.trim_start_matches(": "))
                    .unwrap_or(rest)
                    .to_owned(),
                registry,
            },
            None => RemoteError::Other {
                registry,
                detail: d,
            },
        },
    }
}

/// The production [`Registry`]: HTTP to the Strata registry through [`strata_registry_client::Client`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RegistryClient;

impl RegistryClient {
    fn client(req: &RemoteRequest, token: &str) -> Result<Client, RemoteError> {
        Client::new(&req.registry, Some(token.to_owned())).map_err(|e| remote_error(e, req, token))
    }

    fn timed_out(req: &RemoteRequest, after: Duration) -> RemoteError {
        RemoteError::Unreachable {
            registry: display_url(&req.registry),
            detail: format!("no answer within {} s", after.as_secs()),
        }
    }
}

#[async_trait]
impl Registry for RegistryClient {
    async fn fetch(&self, req: &RemoteRequest, token: &str) -> Result<RemoteDir, RemoteError> {
        let c = Self::client(req, token)?;
        let r = Ref::Tag(req.tag.clone());
        let fetched = tokio::time::timeout(FETCH_TIMEOUT, c.fetch(&req.project, &req.dir, &r))
            .await
            .map_err(|_| Self::timed_out(req, FETCH_TIMEOUT))?
            .map_err(|e| remote_error(e, req, token))?;
        Ok(RemoteDir {
            dir: fetched.dir,
            version: fetched.version.id,
        })
    }

    async fn report(
        &self,
        req: &RemoteRequest,
        token: &str,
        deployment: &NewDeployment,
    ) -> Result<(), RemoteError> {
        let c = Self::client(req, token)?;
        tokio::time::timeout(REPORT_TIMEOUT, c.report(&req.project, deployment))
            .await
            .map_err(|_| Self::timed_out(req, REPORT_TIMEOUT))?
            .map(drop)
            .map_err(|e| remote_error(e, req, token))
    }

    async fn report_drift(
        &self,
        req: &RemoteRequest,
        token: &str,
        drift: &NewDrift,
    ) -> Result<(), RemoteError> {
        let c = Self::client(req, token)?;
        tokio::time::timeout(REPORT_TIMEOUT, c.report_drift(&req.project, drift))
            .await
            .map_err(|_| Self::timed_out(req, REPORT_TIMEOUT))?
            .map(drop)
            .map_err(|e| remote_error(e, req, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{Cloud, Dir, Remote};

    fn spec(name: &str, tag: &str, project: Option<&str>, url: Option<&str>) -> AtlasMigrationSpec {
        AtlasMigrationSpec {
            cloud: Some(Cloud {
                url: url.map(Into::into),
                project: project.map(Into::into),
                token_from: None,
            }),
            dir: Dir {
                remote: Some(Remote {
                    name: name.into(),
                    tag: tag.into(),
                }),
                ..Dir::default()
            },
            ..AtlasMigrationSpec::default()
        }
    }

    fn settings(registry: Option<&str>) -> ResolveSettings {
        ResolveSettings {
            registry: registry.map(Into::into),
            ..ResolveSettings::default()
        }
    }

    #[test]
    fn project_defaults_to_the_directory_and_tag_to_latest() {
        let r = remote_request(
            &spec("atlasdemo", "", None, None),
            &settings(Some("http://reg:8080/")),
            "src",
        )
        .unwrap();
        assert_eq!(
            (
                r.registry.as_str(),
                r.project.as_str(),
                r.dir.as_str(),
                r.tag.as_str()
            ),
            ("http://reg:8080", "atlasdemo", "atlasdemo", "latest")
        );
        let r = remote_request(
            &spec("core", "v1", Some("app"), Some("https://r.example/base")),
            &settings(Some("http://ignored")),
            "src",
        )
        .unwrap();
        assert_eq!(
            (
                r.registry.as_str(),
                r.project.as_str(),
                r.dir.as_str(),
                r.tag.as_str()
            ),
            ("https://r.example/base", "app", "core", "v1")
        );
        let r = remote_request(
            &spec("app/core", "v1", None, None),
            &settings(Some("http://r")),
            "",
        )
        .unwrap();
        assert_eq!((r.project.as_str(), r.dir.as_str()), ("app", "core"));
        let e = remote_request(
            &spec("app/core", "v1", Some("other"), None),
            &settings(Some("http://r")),
            "",
        )
        .unwrap_err();
        assert!(e.to_string().contains("spec.cloud.project"), "{e}");
    }

    #[test]
    fn no_registry_url_says_how_to_set_one() {
        let e =
            remote_request(&spec("atlasdemo", "v1", None, None), &settings(None), "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "remote directory \"atlasdemo\" needs a registry URL: set spec.cloud.url, or start the operator \
             with --registry URL (Helm value registry.url)"
        );
        assert!(!e.transient());
    }

    #[test]
    fn bad_names_and_urls_are_refused_without_credentials() {
        for (name, tag) in [("../x", "v1"), ("app", "a/b"), ("", "v1")] {
            let e = remote_request(
                &spec(name, tag, None, None),
                &settings(Some("http://r")),
                "",
            )
            .unwrap_err();
            assert!(matches!(e, RemoteError::Spec(_)), "{name} {tag}: {e}");
            assert!(e.to_string().contains("fix spec."), "{e}");
        }
        let e = remote_request(
            &spec("app", "v1", None, Some("http://admin:hunter2@reg:8080")),
            &settings(None),
            "",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("carries credentials"), "{msg}");
        assert!(msg.contains("spec.cloud.url"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        for bad in ["ftp://reg", "reg:8080", "http://reg/?token=abc", "http://"] {
            let e = check_registry_url(bad, "--registry").unwrap_err();
            assert!(e.to_string().contains("--registry"), "{e}");
            assert!(!e.to_string().contains("abc"), "{e}");
        }
    }

    #[test]
    fn client_errors_keep_the_registry_words_without_cli_hints_or_the_token() {
        let req = RemoteRequest {
            registry: "http://127.0.0.1:9".into(),
            project: "app".into(),
            dir: "app".into(),
            tag: "v1".into(),
            env_name: "kubernetes".into(),
            token_source: "secret apps/tok key \"token\"".into(),
        };
        let token = "strata_abcdefabcdef_s3cr3tvalue";
        let e = remote_error(
            ClientError::Unauthorized(format!(
                "fetching tag \"v1\" of app/app: the token {token} is not valid (pass a token with --token or STRATA_TOKEN)"
            )),
            &req,
            token,
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "registry http://127.0.0.1:9 refused the token: the token <token> is not valid;"
            ),
            "{msg}"
        );
        assert!(msg.contains("secret apps/tok key \"token\""), "{msg}");
        assert!(!msg.contains("s3cr3t") && !msg.contains("--token"), "{msg}");
        let e = remote_error(
            ClientError::Http(
                "fetching tag \"v1\" of app/app: cannot reach the registry at http://127.0.0.1:9: error sending \
                 request; check --registry / STRATA_REGISTRY"
                    .into(),
            ),
            &req,
            token,
        );
        assert_eq!(
            e,
            RemoteError::Unreachable {
                registry: "http://127.0.0.1:9".into(),
                detail: "error sending request".into()
            }
        );
        assert!(e.transient());
    }
}
