//! The operator's reconcile without a cluster (`strata-operator reconcile -f FILE…`, `strata operator reconcile`):
//! Kubernetes YAML documents are read from files, the Secrets and ConfigMaps among them are served to
//! [`crate::reconcile::reconcile`] through [`StaticObjects`], and each resource is reconciled pass after pass, as
//! the controller would requeue it, until it settles. Scripts and CI use it to run the exact code path of the
//! controller against a real database and registry.
//!
//! Documents are dispatched on `kind` ([`Resource`]); a kind this entry point does not reconcile is an error naming
//! the file, the document's line and the kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde::Serialize;
use serde_json::Value;

use crate::atlas_schema::AtlasSchema;
use crate::crd::AtlasMigration;
use crate::reconcile::{DatabaseLocks, Env, Event, Requeue, reconcile};
use crate::registry::RegistryClient;
use crate::resolve::{ResolveSettings, StaticObjects};

/// The API group every resource kind reconciled here belongs to.
pub const API_GROUP: &str = "db.atlasgo.io";

/// Why the files could not be read as manifests.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A file that cannot be read.
    #[error("{}: {source}", .path.display())]
    Read {
        /// As given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A document that is not valid YAML, or not the object its `kind` claims.
    #[error("{}:{line}: {message}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The first line of the document.
        line: usize,
        /// What is wrong (never a Secret value).
        message: String,
    },
    /// A `kind` this entry point does not reconcile or serve.
    #[error(
        "{}:{line}: kind {kind:?} (apiVersion {api_version:?}) is not supported here; `reconcile -f` reads AtlasMigration and AtlasSchema (db.atlasgo.io/v1alpha1), Secret and ConfigMap documents",
        .path.display()
    )]
    UnknownKind {
        /// The file.
        path: PathBuf,
        /// The first line of the document.
        line: usize,
        /// The document's `kind`.
        kind: String,
        /// The document's `apiVersion`.
        api_version: String,
    },
    /// No resource to reconcile in any file.
    #[error("no AtlasMigration or AtlasSchema in {files}; nothing to reconcile")]
    Empty {
        /// The files read, comma-separated.
        files: String,
    },
}

/// A resource to reconcile, by kind.
#[derive(Debug, Clone)]
pub enum Resource {
    /// An `AtlasMigration`.
    Migration(Box<AtlasMigration>),
    /// An `AtlasSchema`.
    Schema(Box<AtlasSchema>),
}

impl Resource {
    /// `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Migration(_) => "AtlasMigration",
            Resource::Schema(_) => "AtlasSchema",
        }
    }

    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Resource::Migration(m) => &m.metadata,
            Resource::Schema(m) => &m.metadata,
        }
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or("")
    }

    /// `metadata.namespace` (filled in by [`load`]).
    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or("default")
    }
}

/// What the files hold: the resources to reconcile, in file order, and the objects they may reference.
#[derive(Debug, Default)]
pub struct Manifests {
    /// Resources, in the order they appear.
    pub resources: Vec<Resource>,
    /// Secrets and ConfigMaps, by namespace and name.
    pub objects: StaticObjects,
}

/// One YAML document of a file: its text and first line.
fn documents(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = 1;
    let mut cur = String::new();
    for (i, line) in text.split('\n').enumerate() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") || t == "..." {
            out.push((start, std::mem::take(&mut cur)));
            start = i + 2;
            continue;
        }
        cur.push_str(line.strip_suffix('\r').unwrap_or(line));
        cur.push('\n');
    }
    out.push((start, cur));
    out
}

/// Reads Kubernetes YAML documents from `paths` (several documents per file separated by `---`). Documents without
/// a namespace are put in `namespace`, as `kubectl apply -n` would.
pub fn load(paths: &[PathBuf], namespace: &str) -> Result<Manifests, ManifestError> {
    let mut m = Manifests::default();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        for (line, doc) in documents(&text) {
            add_document(&mut m, path, line, &doc, namespace)?;
        }
    }
    if m.resources.is_empty() {
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(ManifestError::Empty {
            files: files.join(", "),
        });
    }
    Ok(m)
}

fn add_document(
    m: &mut Manifests,
    path: &Path,
    line: usize,
    doc: &str,
    namespace: &str,
) -> Result<(), ManifestError> {
    let invalid = |message: String| ManifestError::Invalid {
        path: path.to_owned(),
        line,
        message,
    };
    let value: Value =
        serde_saphyr::from_str(doc).map_err(|e| invalid(format!("not valid YAML: {e}")))?;
    if value.is_null() {
        return Ok(());
    }
    if !value.is_object() {
        return Err(invalid(
            "a document must be a Kubernetes object (a mapping with apiVersion and kind)".into(),
        ));
    }
    let kind = value["kind"].as_str().unwrap_or_default().to_owned();
    let api_version = value["apiVersion"].as_str().unwrap_or_default().to_owned();
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    let typed = |what: &str, e: serde_json::Error| invalid(format!("{what}: {e}"));
    match (group, kind.as_str()) {
        (API_GROUP, "AtlasMigration") => {
            let mut obj: AtlasMigration =
                serde_json::from_value(value).map_err(|e| typed("AtlasMigration", e))?;
            if obj.metadata.name.as_deref().unwrap_or("").is_empty() {
                return Err(invalid("AtlasMigration without metadata.name".into()));
            }
            obj.metadata
                .namespace
                .get_or_insert_with(|| namespace.into());
            // As the API server would: a generation to observe, and no status carried over from a file.
            obj.metadata.generation.get_or_insert(1);
            obj.status = None;
            m.resources.push(Resource::Migration(Box::new(obj)));
        }
        (API_GROUP, "AtlasSchema") => {
            let mut obj: AtlasSchema =
                serde_json::from_value(value).map_err(|e| typed("AtlasSchema", e))?;
            if obj.metadata.name.as_deref().unwrap_or("").is_empty() {
                return Err(invalid("AtlasSchema without metadata.name".into()));
            }
            obj.metadata
                .namespace
                .get_or_insert_with(|| namespace.into());
            obj.metadata.generation.get_or_insert(1);
            obj.status = None;
            m.resources.push(Resource::Schema(Box::new(obj)));
        }
        ("", "Secret") => {
            // Secret values are never part of an error: only the serde path and reason.
            let s: Secret = serde_json::from_value(value).map_err(|e| {
                invalid(format!(
                    "Secret: {}",
                    if e.is_data() {
                        "data must be base64 and stringData text".to_owned()
                    } else {
                        e.to_string()
                    }
                ))
            })?;
            let (ns, name) = key(&s.metadata, namespace);
            let mut data: BTreeMap<String, Vec<u8>> = s
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            for (k, v) in s.string_data.unwrap_or_default() {
                data.insert(k, v.into_bytes());
            }
            m.objects.secrets.insert((ns, name), data);
        }
        ("", "ConfigMap") => {
            let c: ConfigMap = serde_json::from_value(value).map_err(|e| typed("ConfigMap", e))?;
            let (ns, name) = key(&c.metadata, namespace);
            let mut data: BTreeMap<String, Vec<u8>> = c
                .binary_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            for (k, v) in c.data.unwrap_or_default() {
                data.insert(k, v.into_bytes());
            }
            m.objects.config_maps.insert((ns, name), data);
        }
        _ => {
            return Err(ManifestError::UnknownKind {
                path: path.to_owned(),
                line,
                kind,
                api_version,
            });
        }
    }
    Ok(())
}

fn key(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    namespace: &str,
) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_else(|| namespace.into()),
        meta.name.clone().unwrap_or_default(),
    )
}

/// How the passes run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Operator settings (`--registry`, `--allow-custom-config`).
    pub settings: ResolveSettings,
    /// How long to wait for a migration lock held by another process.
    pub lock_timeout: Duration,
    /// How long a resource may take to settle, retries after transient failures included. A requeue whose delay
    /// would pass it ends the run with the status so far.
    pub timeout: Duration,
    /// At most this many passes per resource.
    pub max_passes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            settings: ResolveSettings::default(),
            lock_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_passes: 20,
        }
    }
}

/// The final state of one resource.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    /// `apiVersion`.
    pub api_version: &'static str,
    /// `kind`.
    pub kind: &'static str,
    /// Name and namespace.
    pub metadata: SettledMeta,
    /// The status the controller would have written last (the kind's status shape).
    pub status: serde_json::Value,
    /// Whether `Ready` is `True`.
    #[serde(skip)]
    pub ready: bool,
    /// Events published along the way, as `<type> <reason> <note>`.
    #[serde(skip)]
    pub events: Vec<String>,
    /// Passes run.
    #[serde(skip)]
    pub passes: usize,
}

/// `metadata` of a [`Settled`].
#[derive(Debug, Clone, Serialize)]
pub struct SettledMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
}

impl Settled {
    /// Whether `Ready` is `True`.
    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

/// Reconciles every resource of `m`, one after the other, each until it settles: Ready, a failure the controller
/// would not retry, the pass limit, or a retry that would go past `opts.timeout`.
pub async fn reconcile_all(m: &Manifests, opts: &Options) -> Vec<Settled> {
    let locks = DatabaseLocks::default();
    let env = Env {
        objects: &m.objects,
        registry: &RegistryClient,
        settings: &opts.settings,
        locks: &locks,
        sqlite_lock_root: None,
        lock_timeout: opts.lock_timeout,
        cancel: Default::default(),
        dev_dbs: None,
    };
    let mut out = Vec::new();
    for r in &m.resources {
        match r {
            Resource::Migration(obj) => out.push(settle(obj.as_ref(), &env, opts).await),
            Resource::Schema(obj) => out.push(settle(obj.as_ref(), &env, opts).await),
        }
    }
    out
}

/// What one reconcile pass of either kind leaves, for [`settle`].
struct Pass {
    ready: bool,
    /// `Stalled=True`: what needs the user does not change by trying again.
    stalled: bool,
    requeue: Requeue,
    events: Vec<Event>,
}

/// A kind `reconcile -f` settles: one pass of its reconcile, its status written back into the object.
trait Local: Sized {
    const KIND: &'static str;
    async fn pass(&mut self, env: &Env<'_>) -> Pass;
    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    fn status_json(&self) -> Value;
}

impl Local for AtlasMigration {
    const KIND: &'static str = "AtlasMigration";
    async fn pass(&mut self, env: &Env<'_>) -> Pass {
        let o = reconcile(self, env).await;
        self.status = Some(o.status.clone());
        Pass {
            ready: o.status.is_ready(),
            stalled: o
                .status
                .condition("Stalled")
                .is_some_and(|c| c.status == "True"),
            requeue: o.requeue,
            events: o.events,
        }
    }
    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        &self.metadata
    }
    fn status_json(&self) -> Value {
        serde_json::to_value(self.status.clone().unwrap_or_default())
            .expect("a status serialises to JSON")
    }
}

/// Nothing carries over between runs (a file's status is dropped), so every `AtlasSchema` run is a first run: a
/// destructive plan is refused (`FirstRunDestructive`), as the operator refuses it on a new resource.
impl Local for AtlasSchema {
    const KIND: &'static str = "AtlasSchema";
    async fn pass(&mut self, env: &Env<'_>) -> Pass {
        let o = crate::atlas_schema::reconcile_schema(self, env).await;
        self.status = Some(o.status.clone());
        Pass {
            ready: o.status.is_ready(),
            stalled: o
                .status
                .condition("Stalled")
                .is_some_and(|c| c.status == "True"),
            requeue: o.requeue,
            events: o.events,
        }
    }
    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        &self.metadata
    }
    fn status_json(&self) -> Value {
        serde_json::to_value(self.status.clone().unwrap_or_default())
            .expect("a status serialises to JSON")
    }
}

/// Reconciles `obj` pass after pass as the controller would requeue it, until it is Ready or Stalled, or the pass
/// limit or `opts.timeout` is reached.
async fn settle<K: Local + Clone>(obj: &K, env: &Env<'_>, opts: &Options) -> Settled {
    let mut obj = obj.clone();
    let started = Instant::now();
    let mut events: Vec<Event> = Vec::new();
    let mut passes = 0;
    let mut ready = false;
    while passes < opts.max_passes.max(1) {
        passes += 1;
        let p = obj.pass(env).await;
        events.extend(p.events);
        ready = p.ready;
        if p.ready || p.stalled {
            break;
        }
        match p.requeue {
            Requeue::Now => {}
            Requeue::Never => break,
            Requeue::After(d) => {
                if started.elapsed() + d > opts.timeout {
                    break;
                }
                tokio::time::sleep(d).await;
            }
        }
    }
    Settled {
        api_version: "db.atlasgo.io/v1alpha1",
        kind: K::KIND,
        metadata: SettledMeta {
            name: obj.meta().name.clone().unwrap_or_default(),
            namespace: obj.meta().namespace.clone().unwrap_or_default(),
        },
        ready,
        status: obj.status_json(),
        events: events.iter().map(ToString::to_string).collect(),
        passes,
    }
}

/// Output format of the final statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One YAML document per resource.
    Yaml,
    /// A JSON array, one object per resource.
    Json,
}

/// The final statuses as text: one YAML document per resource (`---` between them), or a JSON array.
pub fn render(settled: &[Settled], output: Output) -> String {
    match output {
        Output::Json => {
            let mut s = serde_json::to_string_pretty(settled).expect("statuses serialise to JSON");
            s.push('\n');
            s
        }
        Output::Yaml => settled
            .iter()
            .map(|s| serde_saphyr::to_string(s).expect("statuses serialise to YAML"))
            .collect::<Vec<_>>()
            .join("---\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "strata-local-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn documents_keep_their_first_line() {
        let docs = documents("a: 1\n---\nb: 2\nc: 3\n--- \n\n");
        let starts: Vec<usize> = docs.iter().map(|(l, _)| *l).collect();
        assert_eq!(starts, [1, 3, 6]);
    }

    #[test]
    fn secrets_config_maps_and_migrations_are_read_from_several_documents() {
        let d = tmp();
        let p = write(
            &d,
            "all.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  url: c3FsaXRlOi8vYS5kYg==\nstringData:\n  other: x\n---\n# comment only\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: files, namespace: other}\ndata: {a.sql: 'SELECT 1;'}\n---\napiVersion: db.atlasgo.io/v1alpha1\nkind: AtlasMigration\nmetadata: {name: m}\nspec:\n  urlFrom: {secretKeyRef: {name: db, key: url}}\n  dir: {configMapRef: {name: files}}\nstatus: {observed_hash: x}\n",
        );
        let m = load(&[p], "app").unwrap();
        assert_eq!(
            m.objects.secrets[&("app".into(), "db".into())]["url"],
            b"sqlite://a.db"
        );
        assert_eq!(
            m.objects.secrets[&("app".into(), "db".into())]["other"],
            b"x"
        );
        assert!(
            m.objects
                .config_maps
                .contains_key(&("other".into(), "files".into()))
        );
        let Resource::Migration(mig) = &m.resources[0] else {
            panic!("an AtlasMigration: {:?}", m.resources[0].kind())
        };
        assert_eq!(mig.metadata.namespace.as_deref(), Some("app"));
        assert_eq!(mig.metadata.generation, Some(1));
        assert!(mig.status.is_none());
    }

    #[test]
    fn an_unknown_kind_names_the_file_line_and_kind() {
        let d = tmp();
        let p = write(
            &d,
            "x.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n",
        );
        let e = load(std::slice::from_ref(&p), "default")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "{}:5: kind \"Deployment\" (apiVersion \"apps/v1\") is not supported here; `reconcile -f` reads AtlasMigration and AtlasSchema (db.atlasgo.io/v1alpha1), Secret and ConfigMap documents",
                p.display()
            )
        );
    }

    #[test]
    fn a_bad_secret_never_shows_its_value_and_no_resource_is_an_error() {
        let d = tmp();
        let p = write(
            &d,
            "s.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  url: 'not base64 hunter2!'\n",
        );
        let e = load(std::slice::from_ref(&p), "default")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:1: Secret: "), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let ok = write(
            &d,
            "c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        );
        let e = load(std::slice::from_ref(&ok), "default")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no AtlasMigration or AtlasSchema in "), "{e}");
    }
}
