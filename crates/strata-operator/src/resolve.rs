//! Turning a spec into concrete inputs: the target URL, the migration directory, the registry token and the
//! `observed_hash` (operator-spec §3.1, §4.2, §9.2). Kubernetes objects are read through [`Objects`], so tests feed
//! values without a cluster.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use strata_driver::DbUrl;
use strata_migrate::sum::SumFile;
use strata_migrate::{MigrationDir, MigrationFile};

use strata_registry_client::model::{NewDeployment, NewDrift};

use crate::crd::{AtlasMigrationSpec, Credentials, KeyRef, ValueFrom};
use crate::registry::RemoteError;

/// Why a referenced object could not be read. The message is shown to users, so it never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError(pub String);

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read access to the Secrets and ConfigMaps a resource references. `Ok(None)` means the object does not exist.
#[async_trait]
pub trait Objects: Send + Sync {
    /// The `data` of a Secret.
    async fn secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, LookupError>;
    /// The `data` (and `binaryData`) of a ConfigMap.
    async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, LookupError>;
}

/// In-memory [`Objects`], for tests and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct StaticObjects {
    /// `(namespace, name)` → Secret data.
    pub secrets: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
    /// `(namespace, name)` → ConfigMap data.
    pub config_maps: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
}

impl StaticObjects {
    /// Adds (or replaces) a Secret.
    pub fn with_secret(mut self, ns: &str, name: &str, data: &[(&str, &str)]) -> Self {
        self.secrets.insert((ns.into(), name.into()), to_data(data));
        self
    }

    /// Adds (or replaces) a ConfigMap.
    pub fn with_config_map(mut self, ns: &str, name: &str, data: &[(&str, &str)]) -> Self {
        self.config_maps
            .insert((ns.into(), name.into()), to_data(data));
        self
    }
}

fn to_data(data: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    data.iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect()
}

#[async_trait]
impl Objects for StaticObjects {
    async fn secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, LookupError> {
        Ok(self.secrets.get(&(namespace.into(), name.into())).cloned())
    }

    async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, LookupError> {
        Ok(self
            .config_maps
            .get(&(namespace.into(), name.into()))
            .cloned())
    }
}

/// A registry directory to fetch, resolved from the spec by [`crate::registry::remote_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRequest {
    /// Registry base URL (`cloud.url`, else the operator's `--registry`): http(s), checked to carry no
    /// credentials.
    pub registry: String,
    /// Project: `cloud.project`, else the project part of a `PROJECT/DIR` name, else the directory name.
    pub project: String,
    /// Directory: `dir.remote.name` (without a `PROJECT/` prefix).
    pub dir: String,
    /// `dir.remote.tag`, `latest` when empty.
    pub tag: String,
    /// `envName`.
    pub env_name: String,
    /// Where the token comes from (`secret <ns>/<name> key "<key>"`), for messages.
    pub token_source: String,
}

/// A fetched registry directory.
#[derive(Debug, Clone)]
pub struct RemoteDir {
    /// The directory, ready for the engine.
    pub dir: MigrationDir,
    /// The registry version id (64 hex digits, the content address of the directory).
    pub version: String,
}

/// The seam to the registry: fetches remote directories and receives run reports. Production uses
/// [`crate::registry::RegistryClient`]; tests may plug in their own.
#[async_trait]
pub trait Registry: Send + Sync {
    /// Fetches a directory at its tag. The token is a bearer token and must never appear in an error.
    async fn fetch(&self, req: &RemoteRequest, token: &str) -> Result<RemoteDir, RemoteError>;
    /// Records a run of a remote directory. Callers treat a failure as a warning: the migration already happened.
    async fn report(
        &self,
        req: &RemoteRequest,
        token: &str,
        deployment: &NewDeployment,
    ) -> Result<(), RemoteError>;
    /// Records a drift check of a target of a remote directory (the "what runs where" overview shows it). Callers
    /// treat a failure as a warning.
    async fn report_drift(
        &self,
        req: &RemoteRequest,
        token: &str,
        drift: &NewDrift,
    ) -> Result<(), RemoteError>;
}

/// Operator-wide settings that shape resolution.
#[derive(Debug, Clone, Default)]
pub struct ResolveSettings {
    /// `--allow-custom-config`.
    pub allow_custom_config: bool,
    /// `--registry`: the default registry URL.
    pub registry: Option<String>,
}

/// Everything a reconcile needs, resolved from the spec and its references.
#[derive(Clone)]
pub struct Inputs {
    /// Target URL, parsed (its `Debug` and `Display` show no credential).
    pub url: DbUrl,
    /// The migration directory.
    pub dir: MigrationDir,
    /// For a remote directory: where it came from, to report the run.
    pub remote: Option<RemoteRun>,
    /// `observed_hash`.
    pub hash: String,
}

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inputs")
            .field("url", &self.url.redacted())
            .field("dir", &self.dir.location())
            .field("hash", &self.hash)
            .finish()
    }
}

/// A remote directory's origin, kept to report the run.
#[derive(Clone)]
pub struct RemoteRun {
    /// The request the directory was fetched with.
    pub req: RemoteRequest,
    /// The registry token (never log it).
    pub token: String,
    /// The registry version id fetched.
    pub version: String,
}

impl fmt::Debug for RemoteRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteRun")
            .field("req", &self.req)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A resolution failure: its message (no secret values) and whether it may go away by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    /// User-facing text.
    pub message: String,
    /// A missing object or an API error (may be fixed by creating the object), as opposed to an invalid spec.
    pub transient: bool,
}

impl ResolveError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self {
            message: msg.into(),
            transient: false,
        }
    }

    pub(crate) fn missing(msg: impl Into<String>) -> Self {
        Self {
            message: msg.into(),
            transient: true,
        }
    }
}

impl From<RemoteError> for ResolveError {
    fn from(e: RemoteError) -> Self {
        Self {
            message: e.to_string(),
            transient: e.transient(),
        }
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A kind of referenced object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// Every Secret and ConfigMap a spec references (operator-spec §11, Strata: all of them), sorted, no duplicates.
pub fn references(spec: &AtlasMigrationSpec) -> Vec<(RefKind, String)> {
    references_of(
        &[
            &spec.url_from,
            &spec.config_from,
            &spec.dev_url_from,
            &spec.cloud.as_ref().and_then(|c| c.token_from.clone()),
        ],
        spec.credentials.as_ref(),
        &spec.vars,
        spec.dir.config_map_ref.as_ref().map(|r| r.name.as_str()),
    )
}

/// The one body of both kinds' reference lists: the Secrets of `values` and of `credentials`, those and the
/// ConfigMaps of `vars`, and the kind's own ConfigMap; sorted, no duplicates, no empty names.
pub(crate) fn references_of(
    values: &[&Option<ValueFrom>],
    credentials: Option<&crate::crd::Credentials>,
    vars: &[crate::crd::Variable],
    config_map: Option<&str>,
) -> Vec<(RefKind, String)> {
    let mut out = Vec::new();
    let mut secret = |v: &Option<ValueFrom>| {
        if let Some(r) = v.as_ref().and_then(|v| v.secret_key_ref.as_ref()) {
            out.push((RefKind::Secret, r.name.clone()));
        }
    };
    for v in values {
        secret(v);
    }
    if let Some(c) = credentials {
        secret(&c.user_from);
        secret(&c.password_from);
        secret(&c.host_from);
    }
    for v in vars {
        if let Some(f) = &v.value_from {
            if let Some(r) = &f.secret_key_ref {
                out.push((RefKind::Secret, r.name.clone()));
            }
            if let Some(r) = &f.config_map_key_ref {
                out.push((RefKind::ConfigMap, r.name.clone()));
            }
        }
    }
    if let Some(name) = config_map {
        out.push((RefKind::ConfigMap, name.to_owned()));
    }
    out.retain(|(_, n)| !n.is_empty());
    out.sort();
    out.dedup();
    out
}

/// Reads the value of a Secret key. A missing Secret surfaces as the API would say it; a missing key is always an
/// error (Strata), unless the reference is `optional`.
pub(crate) async fn secret_value(
    objects: &dyn Objects,
    ns: &str,
    r: &KeyRef,
) -> Result<Option<String>, ResolveError> {
    let data = objects
        .secret(ns, &r.name)
        .await
        .map_err(|e| ResolveError::missing(e.0))?;
    key_value(data, ns, r, ["secrets", "secret"])
}

/// Reads a ConfigMap key; a missing ConfigMap surfaces as the API says it, a missing key as Atlas says it.
pub(crate) async fn config_map_value(
    objects: &dyn Objects,
    ns: &str,
    r: &KeyRef,
) -> Result<Option<String>, ResolveError> {
    let data = objects
        .config_map(ns, &r.name)
        .await
        .map_err(|e| ResolveError::missing(e.0))?;
    key_value(data, ns, r, ["configmaps", "configmap"])
}

/// The one body of [`secret_value`] and [`config_map_value`]: key `r.key` of the object's `data` (`None`: the
/// object does not exist), `names` = the kind as the API names it in "not found" and as a key's message names it.
fn key_value(
    data: Option<BTreeMap<String, Vec<u8>>>,
    ns: &str,
    r: &KeyRef,
    [plural, singular]: [&str; 2],
) -> Result<Option<String>, ResolveError> {
    let optional = r.optional.unwrap_or(false);
    let Some(data) = data else {
        if optional {
            return Ok(None);
        }
        return Err(ResolveError::missing(format!(
            "{plural} \"{}\" not found",
            r.name
        )));
    };
    // Atlas names a ConfigMap's missing key with the plural ("configmaps ns/name does not contain key").
    let missing_noun = if plural == "configmaps" {
        plural
    } else {
        singular
    };
    match data.get(&r.key) {
        Some(v) => String::from_utf8(v.clone()).map(Some).map_err(|_| {
            ResolveError::invalid(format!(
                "{singular} {ns}/{} key \"{}\" is not valid UTF-8",
                r.name, r.key
            ))
        }),
        None if optional => Ok(None),
        None => Err(ResolveError::missing(format!(
            "{missing_noun} {ns}/{} does not contain key \"{}\"",
            r.name, r.key
        ))),
    }
}

pub(crate) async fn value_from(
    objects: &dyn Objects,
    ns: &str,
    v: &Option<ValueFrom>,
) -> Result<Option<String>, ResolveError> {
    match v.as_ref().and_then(|v| v.secret_key_ref.as_ref()) {
        Some(r) => secret_value(objects, ns, r).await,
        None => Ok(None),
    }
}

/// Characters Go's `url.UserPassword` escapes in the user-info part (everything but unreserved and sub-delims).
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');
/// Characters escaped in query keys and values (Go's `url.QueryEscape`, with `%20` for space).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Characters escaped in the path.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// The dev database URL a spec gives: `devURLFrom` (a Secret key) → `devURL` → none.
pub async fn dev_url(
    objects: &dyn Objects,
    ns: &str,
    spec: &AtlasMigrationSpec,
) -> Result<Option<String>, ResolveError> {
    if let Some(u) = value_from(objects, ns, &spec.dev_url_from).await? {
        return Ok(Some(u));
    }
    Ok(Some(spec.dev_url.trim().to_owned()).filter(|u| !u.is_empty()))
}

/// Resolves the target URL: `urlFrom` → `url` → `credentials` (only when the host is set) → none.
pub async fn target_url(
    objects: &dyn Objects,
    ns: &str,
    spec: &AtlasMigrationSpec,
) -> Result<Option<String>, ResolveError> {
    target_url_of(
        objects,
        ns,
        TargetFields {
            url: &spec.url,
            url_from: &spec.url_from,
            credentials: &spec.credentials,
        },
    )
    .await
}

/// The target-database fields both kinds share (operator-spec §3.1).
#[derive(Debug, Clone, Copy)]
pub struct TargetFields<'a> {
    /// `url`.
    pub url: &'a Option<String>,
    /// `urlFrom`.
    pub url_from: &'a Option<ValueFrom>,
    /// `credentials`.
    pub credentials: &'a Option<Credentials>,
}

/// [`target_url`] for any kind: `urlFrom` → `url` → `credentials` (only when the host is set) → none.
pub async fn target_url_of(
    objects: &dyn Objects,
    ns: &str,
    t: TargetFields<'_>,
) -> Result<Option<String>, ResolveError> {
    if let Some(u) = value_from(objects, ns, t.url_from).await? {
        return Ok(Some(u));
    }
    if let Some(u) = t.url.as_ref().filter(|u| !u.is_empty()) {
        return Ok(Some(u.clone()));
    }
    let Some(c) = t.credentials else {
        return Ok(None);
    };
    let host = match value_from(objects, ns, &c.host_from).await? {
        Some(h) => h,
        None => c.host.clone(),
    };
    if host.is_empty() {
        return Ok(None);
    }
    let user = match value_from(objects, ns, &c.user_from).await? {
        Some(u) => u,
        None => c.user.clone(),
    };
    let password = match value_from(objects, ns, &c.password_from).await? {
        Some(p) => p,
        None => c.password.clone(),
    };
    let scheme = c.scheme.as_str();
    let mut url = format!("{scheme}://");
    if !user.is_empty() || !password.is_empty() {
        url.push_str(&utf8_percent_encode(&user, USERINFO).to_string());
        url.push(':');
        url.push_str(&utf8_percent_encode(&password, USERINFO).to_string());
        url.push('@');
    }
    url.push_str(&host);
    if c.port > 0 {
        url.push_str(&format!(":{}", c.port));
    }
    let mut params = c.parameters.clone();
    let driver = scheme.split('+').next().unwrap_or(scheme);
    let is_sqlserver = matches!(driver, "sqlserver" | "mssql" | "azuresql");
    if is_sqlserver {
        if !c.database.is_empty() {
            params.insert("database".into(), c.database.clone());
        }
    } else if !c.database.is_empty() {
        let db = c.database.strip_prefix('/').unwrap_or(&c.database);
        url.push('/');
        url.push_str(&utf8_percent_encode(db, PATH).to_string());
    }
    if !params.is_empty() {
        let q: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY),
                    utf8_percent_encode(v, QUERY)
                )
            })
            .collect();
        url.push('?');
        url.push_str(&q.join("&"));
    }
    Ok(Some(url))
}

/// Validates the directory source and the protected flows (exact reference messages).
pub fn validate(spec: &AtlasMigrationSpec, has_custom_config: bool) -> Result<(), ResolveError> {
    let dir = &spec.dir;
    let remote = dir.remote.as_ref().is_some_and(|r| !r.name.is_empty());
    let down = spec.migrate_down();
    if !remote && dir.local.is_none() && dir.config_map_ref.is_none() {
        return Err(ResolveError::invalid("no directory specified"));
    }
    if remote {
        let token = spec
            .cloud
            .as_ref()
            .and_then(|c| c.token_from.as_ref())
            .and_then(|t| t.secret_key_ref.as_ref())
            .is_some();
        if !token && !has_custom_config {
            return Err(ResolveError::invalid(
                "cannot use remote directory without Atlas Cloud token",
            ));
        }
        if down.allow && down.auto_approve {
            return Err(ResolveError::invalid(
                "autoApprove is not allowed for a remote directory",
            ));
        }
    } else {
        if dir.local.is_some() && dir.config_map_ref.is_some() {
            return Err(ResolveError::invalid(
                "cannot use both configmaps and local directory",
            ));
        }
        if down.allow && !down.auto_approve {
            return Err(ResolveError::invalid(
                "allow cannot be true without autoApprove for local migration directory",
            ));
        }
    }
    if spec.dev_db.is_some() && spec.dev_url.is_empty() && spec.dev_url_from.is_none() {
        return Err(ResolveError::invalid(
            "devURL is required when devDB is provided",
        ));
    }
    Ok(())
}

/// Builds a directory from `name → content` entries (inline or a ConfigMap): `atlas.sum` is the sum, other
/// `*.sql` keys are migrations, anything else is ignored as it would be on disk.
pub fn dir_from_entries(
    location: &str,
    entries: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<MigrationDir, ResolveError> {
    let mut files = Vec::new();
    let mut sum = None;
    for (name, bytes) in entries {
        if name == strata_migrate::dir::SUM_FILE {
            sum = Some(bytes);
        } else if name.ends_with(".sql") {
            files.push(MigrationFile::new(name, bytes));
        }
    }
    MigrationDir::from_parts(location, files, sum).map_err(|e| ResolveError::invalid(e.to_string()))
}

/// `observed_hash`: `hex(sha256(url ‖ config ‖ token ‖ cloud.url ‖ cloud.project ‖ X))`, X being the remote
/// `name ‖ tag` or the recomputed directory sum of a local/ConfigMap directory.
pub fn observed_hash(
    url: &str,
    config: &str,
    token: &str,
    cloud_url: &str,
    project: &str,
    x: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [url, config, token, cloud_url, project, x] {
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The custom `atlas.hcl` of either kind: `configFrom` (a Secret key) when set, else a non-empty `config`.
pub(crate) async fn custom_config(
    objects: &dyn Objects,
    ns: &str,
    config: &Option<String>,
    config_from: &Option<ValueFrom>,
) -> Result<Option<String>, ResolveError> {
    Ok(match value_from(objects, ns, config_from).await? {
        Some(c) => Some(c),
        None => config.clone().filter(|c| !c.is_empty()),
    })
}

/// Why a custom `atlas.hcl` is refused, in the order Atlas's operator checks: the operator's
/// `allowCustomConfig`, then (`AtlasMigration`, `env_name` given) an env name, then that Strata does not run it
/// yet and which spec `fields` to use instead.
pub(crate) fn custom_config_refusal(
    settings: &ResolveSettings,
    env_name: Option<&str>,
    fields: &str,
) -> ResolveError {
    if !settings.allow_custom_config {
        return ResolveError::invalid(
            "install the operator with \"--set allowCustomConfig=true\" to use custom atlas.hcl config",
        );
    }
    if env_name.is_some_and(str::is_empty) {
        return ResolveError::invalid("env name must be set when using custom atlas.hcl config");
    }
    ResolveError::invalid(format!(
        "custom atlas.hcl config is not supported by the Strata operator yet; use the spec fields ({fields}) instead"
    ))
}

/// Resolves every input of a reconcile. (Boxed so the future is proven `Send` once, here.)
pub fn resolve<'a>(
    objects: &'a dyn Objects,
    registry: &'a dyn Registry,
    settings: &'a ResolveSettings,
    ns: &'a str,
    spec: &'a AtlasMigrationSpec,
) -> futures::future::BoxFuture<'a, Result<Inputs, ResolveError>> {
    Box::pin(resolve_impl(objects, registry, settings, ns, spec))
}

async fn resolve_impl(
    objects: &dyn Objects,
    registry: &dyn Registry,
    settings: &ResolveSettings,
    ns: &str,
    spec: &AtlasMigrationSpec,
) -> Result<Inputs, ResolveError> {
    let config = custom_config(objects, ns, &spec.config, &spec.config_from).await?;
    validate(spec, config.is_some())?;
    if config.is_some() {
        return Err(custom_config_refusal(
            settings,
            Some(spec.env_name.as_deref().unwrap_or("")),
            "url, dir, revisionsSchema, baseline, execOrder",
        ));
    }
    let url = target_url(objects, ns, spec)
        .await?
        .ok_or_else(|| ResolveError::missing("no target database defined"))?;
    // Parsed once, here; a URL that does not parse is a spec error (the message shows it redacted).
    let db_url = url
        .parse::<DbUrl>()
        .map_err(|e| ResolveError::invalid(e.to_string()))?;
    let token_ref = spec
        .cloud
        .as_ref()
        .and_then(|c| c.token_from.as_ref())
        .and_then(|t| t.secret_key_ref.as_ref());
    let token = match token_ref {
        Some(r) => secret_value(objects, ns, r).await?,
        None => None,
    }
    .unwrap_or_default();
    let cloud_url = spec.cloud.as_ref().and_then(|c| c.url.clone());
    let project = spec.cloud.as_ref().and_then(|c| c.project.clone());
    let dir = &spec.dir;
    let (migrations, x, remote) = match dir.remote.as_ref().filter(|r| !r.name.is_empty()) {
        Some(r) => {
            let source = token_ref.map_or_else(
                || "spec.cloud.tokenFrom".to_owned(),
                |t| format!("secret {ns}/{} key \"{}\"", t.name, t.key),
            );
            let req = crate::registry::remote_request(spec, settings, &source)?;
            if token.trim().is_empty() {
                return Err(ResolveError::invalid(format!(
                    "the registry token in {source} is empty; put a token for project {:?} there",
                    req.project
                )));
            }
            let fetched = registry.fetch(&req, &token).await?;
            // The version id makes a moved tag change the hash, so Ready flips before the new version applies.
            let x = format!("{}{}{}", r.name, r.tag, fetched.version);
            (
                fetched.dir,
                x,
                Some(RemoteRun {
                    req,
                    token: token.clone(),
                    version: fetched.version,
                }),
            )
        }
        None => {
            let migrations = if let Some(local) = &dir.local {
                dir_from_entries(
                    "dir.local",
                    local
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone().into_bytes())),
                )?
            } else {
                let name = &dir.config_map_ref.as_ref().expect("validated").name;
                let data = objects
                    .config_map(ns, name)
                    .await
                    .map_err(|e| ResolveError::missing(e.0))?
                    .ok_or_else(|| {
                        ResolveError::missing(format!("configmaps \"{name}\" not found"))
                    })?;
                dir_from_entries(&format!("configmap {ns}/{name}"), data)?
            };
            let x = SumFile::compute(migrations.files()).dir_sum();
            (migrations, x, None)
        }
    };
    let hash = observed_hash(
        &url,
        config.as_deref().unwrap_or(""),
        &token,
        cloud_url.as_deref().unwrap_or(""),
        project.as_deref().unwrap_or(""),
        &x,
    );
    Ok(Inputs {
        url: db_url,
        dir: migrations,
        remote,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{Credentials, Dir, LocalObjectReference, Remote};

    fn from(name: &str, key: &str) -> Option<ValueFrom> {
        Some(ValueFrom {
            secret_key_ref: Some(KeyRef {
                name: name.into(),
                key: key.into(),
                optional: None,
            }),
        })
    }

    fn local_dir() -> Dir {
        Dir {
            local: Some(BTreeMap::new()),
            ..Dir::default()
        }
    }

    #[tokio::test]
    async fn a_target_url_that_does_not_parse_is_a_spec_error_without_its_password() {
        let objs = StaticObjects::default().with_secret(
            "ns",
            "db",
            &[("url", "postgres://u:s3cr3t-pw@h:port/db")],
        );
        let spec = AtlasMigrationSpec {
            url_from: from("db", "url"),
            dir: local_dir(),
            ..AtlasMigrationSpec::default()
        };
        let err = resolve(
            &objs,
            &FakeRegistry::default(),
            &ResolveSettings::default(),
            "ns",
            &spec,
        )
        .await
        .unwrap_err();
        assert!(!err.transient, "{err}");
        assert!(err.message.starts_with("invalid database URL "), "{err}");
        assert!(err.message.contains("port"), "{err}");
        assert!(!err.message.contains("s3cr3t-pw"), "{err}");
    }

    /// A custom `atlas.hcl` (inline or from a Secret) is refused in Atlas's order: `allowCustomConfig` first, then
    /// (AtlasMigration) the env name, then that Strata does not run it, naming the spec fields to use; the same
    /// read and refusal serve `AtlasSchema`.
    #[tokio::test]
    async fn custom_config_is_refused_in_order_for_both_kinds() {
        let objs = StaticObjects::default().with_secret("ns", "cfg", &[("hcl", "env \"x\" {}")]);
        let allowed = ResolveSettings {
            allow_custom_config: true,
            ..ResolveSettings::default()
        };
        let message = |spec: &AtlasMigrationSpec, settings: &ResolveSettings| {
            let (objs, settings, spec) = (objs.clone(), settings.clone(), spec.clone());
            async move {
                resolve(&objs, &FakeRegistry::default(), &settings, "ns", &spec)
                    .await
                    .unwrap_err()
                    .message
            }
        };
        let inline = AtlasMigrationSpec {
            config: Some("env \"x\" {}".into()),
            dir: local_dir(),
            ..AtlasMigrationSpec::default()
        };
        let from_secret = AtlasMigrationSpec {
            config: None,
            config_from: from("cfg", "hcl"),
            ..inline.clone()
        };
        for spec in [&inline, &from_secret] {
            let m = message(spec, &ResolveSettings::default()).await;
            assert!(m.contains("--set allowCustomConfig=true"), "{m}");
        }
        let m = message(&inline, &allowed).await;
        assert_eq!(m, "env name must be set when using custom atlas.hcl config");
        let named = AtlasMigrationSpec {
            env_name: Some("x".into()),
            ..from_secret
        };
        let m = message(&named, &allowed).await;
        assert!(
            m.starts_with("custom atlas.hcl config is not supported by the Strata operator yet")
                && m.contains("(url, dir, revisionsSchema, baseline, execOrder)"),
            "{m}"
        );
        // An empty inline config is no config.
        let empty = AtlasMigrationSpec {
            config: Some(String::new()),
            ..inline
        };
        assert_eq!(
            custom_config(&objs, "ns", &empty.config, &empty.config_from)
                .await
                .unwrap(),
            None
        );

        let schema = crate::atlas_schema::crd::AtlasSchemaSpec {
            config_from: from("cfg", "hcl"),
            ..Default::default()
        };
        let err = crate::atlas_schema::resolve::resolve(
            &objs,
            &FakeRegistry::default(),
            &allowed,
            "ns",
            &schema,
        )
        .await
        .unwrap_err();
        assert!(
            err.message
                .contains("(url, schema, devURL, exclude, schemas, policy)"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn url_from_wins_over_url_and_credentials() {
        let objs = StaticObjects::default().with_secret("ns", "db", &[("url", "sqlite://a.db")]);
        let spec = AtlasMigrationSpec {
            url_from: from("db", "url"),
            url: Some("sqlite://b.db".into()),
            ..AtlasMigrationSpec::default()
        };
        let u = target_url(&objs, "ns", &spec).await.unwrap();
        assert_eq!(u.as_deref(), Some("sqlite://a.db"));
        let spec = AtlasMigrationSpec {
            url_from: None,
            ..spec
        };
        let u = target_url(&objs, "ns", &spec).await.unwrap();
        assert_eq!(u.as_deref(), Some("sqlite://b.db"));
    }

    #[tokio::test]
    async fn credentials_build_a_url_with_escaping_and_sorted_parameters() {
        let objs = StaticObjects::default().with_secret("ns", "pw", &[("p", "p@ss/w:rd")]);
        let spec = AtlasMigrationSpec {
            credentials: Some(Credentials {
                scheme: "postgres".into(),
                user: "root".into(),
                password_from: from("pw", "p"),
                host: "db.svc".into(),
                port: 5432,
                database: "app".into(),
                parameters: [("sslmode", "disable"), ("search_path", "public")]
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                ..Credentials::default()
            }),
            ..AtlasMigrationSpec::default()
        };
        let u = target_url(&objs, "ns", &spec).await.unwrap().unwrap();
        assert_eq!(
            u,
            "postgres://root:p%40ss%2Fw%3Ard@db.svc:5432/app?search_path=public&sslmode=disable"
        );
        let mut ss = spec.clone();
        let c = ss.credentials.as_mut().unwrap();
        c.scheme = "sqlserver".into();
        c.parameters.clear();
        c.password_from = None;
        let u = target_url(&objs, "ns", &ss).await.unwrap().unwrap();
        assert_eq!(u, "sqlserver://root:@db.svc:5432?database=app");
    }

    #[tokio::test]
    async fn credentials_without_host_give_no_url() {
        let spec = AtlasMigrationSpec {
            credentials: Some(Credentials {
                scheme: "postgres".into(),
                user: "u".into(),
                ..Credentials::default()
            }),
            dir: local_dir(),
            ..AtlasMigrationSpec::default()
        };
        let objs = StaticObjects::default();
        assert_eq!(target_url(&objs, "ns", &spec).await.unwrap(), None);
        let err = resolve(
            &objs,
            &crate::registry::RegistryClient,
            &ResolveSettings::default(),
            "ns",
            &spec,
        )
        .await
        .unwrap_err();
        assert_eq!(err.message, "no target database defined");
    }

    #[tokio::test]
    async fn missing_secret_and_key_are_clear() {
        let spec = AtlasMigrationSpec {
            url_from: from("db", "url"),
            dir: local_dir(),
            ..AtlasMigrationSpec::default()
        };
        let none = StaticObjects::default();
        let e = target_url(&none, "ns", &spec).await.unwrap_err();
        assert_eq!(e.message, "secrets \"db\" not found");
        let wrong = StaticObjects::default().with_secret("ns", "db", &[("other", "x")]);
        let e = target_url(&wrong, "ns", &spec).await.unwrap_err();
        assert_eq!(e.message, "secret ns/db does not contain key \"url\"");
        assert!(e.transient);
    }

    #[test]
    fn validation_messages_are_the_references() {
        let v = |spec: &AtlasMigrationSpec| validate(spec, false).map_err(|e| e.message);
        let mut spec = AtlasMigrationSpec::default();
        assert_eq!(v(&spec).unwrap_err(), "no directory specified");
        spec.dir.local = Some(BTreeMap::new());
        spec.dir.config_map_ref = Some(LocalObjectReference { name: "m".into() });
        assert_eq!(
            v(&spec).unwrap_err(),
            "cannot use both configmaps and local directory"
        );
        spec.dir.config_map_ref = None;
        spec.protected_flows = Some(crate::crd::ProtectedFlows {
            migrate_down: Some(crate::crd::MigrateDown {
                allow: true,
                auto_approve: false,
            }),
        });
        assert_eq!(
            v(&spec).unwrap_err(),
            "allow cannot be true without autoApprove for local migration directory"
        );
        spec.dir = Dir {
            remote: Some(Remote {
                name: "app".into(),
                tag: "v1".into(),
            }),
            ..Dir::default()
        };
        assert_eq!(
            v(&spec).unwrap_err(),
            "cannot use remote directory without Atlas Cloud token"
        );
        spec.cloud = Some(crate::crd::Cloud {
            token_from: from("tok", "token"),
            ..Default::default()
        });
        spec.protected_flows = Some(crate::crd::ProtectedFlows {
            migrate_down: Some(crate::crd::MigrateDown {
                allow: true,
                auto_approve: true,
            }),
        });
        assert_eq!(
            v(&spec).unwrap_err(),
            "autoApprove is not allowed for a remote directory"
        );
        spec.protected_flows = None;
        assert_eq!(v(&spec), Ok(()));
        spec.dev_db = Some(crate::crd::DevDb::default());
        assert_eq!(
            v(&spec).unwrap_err(),
            "devURL is required when devDB is provided"
        );
    }

    #[test]
    fn hash_is_hex_sha256_of_the_concatenated_inputs() {
        let h = observed_hash("u", "", "t", "", "p", "x");
        assert_eq!(h.len(), 64);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        // Plain concatenation: moving a boundary does not change the hash (as in the reference).
        assert_eq!(h, observed_hash("ut", "", "", "", "p", "x"));
        assert_ne!(h, observed_hash("u", "", "t2", "", "p", "x"));
    }

    #[tokio::test]
    async fn remote_dirs_go_through_the_registry_seam() {
        let objs = StaticObjects::default()
            .with_secret("ns", "db", &[("url", "sqlite://x.db")])
            .with_secret("ns", "tok", &[("token", "s3cr3t")]);
        let spec = AtlasMigrationSpec {
            url_from: from("db", "url"),
            cloud: Some(crate::crd::Cloud {
                project: Some("atlasdemo".into()),
                token_from: from("tok", "token"),
                ..Default::default()
            }),
            dir: Dir {
                remote: Some(Remote {
                    name: "atlasdemo".into(),
                    tag: "v1".into(),
                }),
                ..Dir::default()
            },
            ..AtlasMigrationSpec::default()
        };
        // No registry URL anywhere: a clear reason, and the registry is not asked.
        let fake = FakeRegistry::default();
        let err = resolve(&objs, &fake, &ResolveSettings::default(), "ns", &spec)
            .await
            .unwrap_err();
        assert!(err.message.contains("set spec.cloud.url"), "{err}");
        assert!(!err.transient);
        assert!(fake.seen.lock().unwrap().is_empty());

        let settings = ResolveSettings {
            registry: Some("http://registry:8080/".into()),
            ..ResolveSettings::default()
        };
        let inputs = resolve(&objs, &fake, &settings, "ns", &spec).await.unwrap();
        let run = inputs.remote.as_ref().unwrap();
        assert_eq!(run.token, "s3cr3t");
        assert_eq!(run.version, "v-one");
        assert_eq!(
            run.req,
            RemoteRequest {
                registry: "http://registry:8080".into(),
                project: "atlasdemo".into(),
                dir: "atlasdemo".into(),
                tag: "v1".into(),
                env_name: "kubernetes".into(),
                token_source: "secret ns/tok key \"token\"".into(),
            }
        );
        assert!(!format!("{inputs:?}").contains("s3cr3t"));
        assert_eq!(inputs.dir.files().len(), 1);
        // The same tag at another version changes the hash (the tag moved).
        *fake.version.lock().unwrap() = "v-two".into();
        let moved = resolve(&objs, &fake, &settings, "ns", &spec).await.unwrap();
        assert_ne!(moved.hash, inputs.hash);

        // An empty token is refused before any request.
        let empty = objs.clone().with_secret("ns", "tok", &[("token", "")]);
        let before = fake.seen.lock().unwrap().len();
        let err = resolve(&empty, &fake, &settings, "ns", &spec)
            .await
            .unwrap_err();
        assert_eq!(
            err.message,
            "the registry token in secret ns/tok key \"token\" is empty; put a token for project \"atlasdemo\" there"
        );
        assert_eq!(fake.seen.lock().unwrap().len(), before);
    }

    /// Serves one fixed file at a settable version and records requests.
    #[derive(Default)]
    struct FakeRegistry {
        version: std::sync::Mutex<String>,
        seen: std::sync::Mutex<Vec<RemoteRequest>>,
    }

    #[async_trait]
    impl Registry for FakeRegistry {
        async fn fetch(&self, req: &RemoteRequest, _token: &str) -> Result<RemoteDir, RemoteError> {
            self.seen.lock().unwrap().push(req.clone());
            let mut version = self.version.lock().unwrap().clone();
            if version.is_empty() {
                version = "v-one".into();
            }
            let dir = dir_from_entries(
                "fake",
                [
                    ("1.sql".to_owned(), b"SELECT 1;\n".to_vec()),
                    (
                        "atlas.sum".to_owned(),
                        SumFile::compute(&[MigrationFile::new("1.sql", b"SELECT 1;\n".to_vec())])
                            .to_bytes(),
                    ),
                ],
            )
            .map_err(|e| RemoteError::Spec(e.message))?;
            Ok(RemoteDir { dir, version })
        }

        async fn report(
            &self,
            _req: &RemoteRequest,
            _token: &str,
            _deployment: &NewDeployment,
        ) -> Result<(), RemoteError> {
            Ok(())
        }

        async fn report_drift(
            &self,
            _req: &RemoteRequest,
            _token: &str,
            _drift: &NewDrift,
        ) -> Result<(), RemoteError> {
            Ok(())
        }
    }

    #[test]
    fn references_cover_every_secret_and_config_map() {
        let spec = AtlasMigrationSpec {
            url_from: from("a", "url"),
            config_from: from("b", "cfg"),
            dev_url_from: from("c", "dev"),
            credentials: Some(Credentials {
                user_from: from("d", "u"),
                password_from: from("e", "p"),
                host_from: from("f", "h"),
                ..Credentials::default()
            }),
            cloud: Some(crate::crd::Cloud {
                token_from: from("g", "t"),
                ..Default::default()
            }),
            vars: vec![crate::crd::Variable {
                key: "k".into(),
                value: String::new(),
                value_from: Some(crate::crd::VarValueFrom {
                    secret_key_ref: Some(KeyRef {
                        name: "h".into(),
                        key: "v".into(),
                        optional: None,
                    }),
                    config_map_key_ref: Some(KeyRef {
                        name: "i".into(),
                        key: "v".into(),
                        optional: None,
                    }),
                }),
            }],
            dir: Dir {
                config_map_ref: Some(LocalObjectReference { name: "j".into() }),
                ..Dir::default()
            },
            ..AtlasMigrationSpec::default()
        };
        let refs = references(&spec);
        let secrets: Vec<_> = refs
            .iter()
            .filter(|(k, _)| *k == RefKind::Secret)
            .map(|(_, n)| n.as_str())
            .collect();
        let cms: Vec<_> = refs
            .iter()
            .filter(|(k, _)| *k == RefKind::ConfigMap)
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(secrets, ["a", "b", "c", "d", "e", "f", "g", "h"]);
        assert_eq!(cms, ["i", "j"]);
    }
}
