//! The kube-rs `Controller` around [`crate::reconcile()`]: watches, status writes (server-side apply under one field
//! manager, retried on conflict), events, requeues with jittered back-off, metrics, health endpoints, leader
//! election and graceful shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, PartialObjectMeta, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, predicates, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use strata_engine::Cancel;
use tracing::{info, warn};

use crate::atlas_schema::{AtlasSchema, AtlasSchemaStatus};
use crate::crd::{AtlasMigration, AtlasMigrationStatus};
use crate::drift::Kind;
use crate::endpoints::{self, Endpoints};
use crate::events::EventPublisher;
use crate::metrics::Metrics;
use crate::reconcile::{self, DatabaseLocks, Env, Requeue};
use crate::registry::RegistryClient;
use crate::resolve::{LookupError, Objects, RefKind, Registry, ResolveSettings, references};
use crate::watch;

/// Field manager of every status write.
pub const FIELD_MANAGER: &str = "strata-operator";
/// Reporter name of events (the reference's).
pub const REPORTER: &str = "atlasmigration-controller";

/// A failure the controller runtime sees: only Kubernetes API errors (reconcile outcomes are status, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing the status failed.
    #[error("writing status: {0}")]
    Status(#[source] kube::Error),
}

impl Error {
    /// Label for the failures metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Status(_) => "StatusWrite",
        }
    }
}

/// Reads Secrets and ConfigMaps through the API.
pub struct KubeObjects {
    client: Client,
}

impl KubeObjects {
    /// Over this client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn lookup_err(e: kube::Error) -> LookupError {
    LookupError(e.to_string())
}

#[async_trait]
impl Objects for KubeObjects {
    async fn secret(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, LookupError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let s = api.get_opt(name).await.map_err(lookup_err)?;
        Ok(s.map(|s| {
            let mut out: BTreeMap<String, Vec<u8>> = s
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            for (k, v) in s.string_data.unwrap_or_default() {
                out.insert(k, v.into_bytes());
            }
            out
        }))
    }

    async fn config_map(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, LookupError> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), ns);
        let c = api.get_opt(name).await.map_err(lookup_err)?;
        Ok(c.map(|c| {
            let mut out: BTreeMap<String, Vec<u8>> = c
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            for (k, v) in c.binary_data.unwrap_or_default() {
                out.insert(k, v.0);
            }
            out
        }))
    }
}

/// Settings of a controller run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Watched namespaces; empty = all.
    pub namespaces: Vec<String>,
    /// Label selector on the resources.
    pub label_selector: Option<String>,
    /// Resolution settings (registry, custom config).
    pub resolve: ResolveSettings,
    /// Reconciles running at once.
    pub concurrency: u16,
    /// Wait for a migration lock held elsewhere.
    pub lock_timeout: Duration,
    /// Where per-database SQLite lock directories go.
    pub sqlite_lock_root: Option<PathBuf>,
    /// Drift checks: periods per kind, the replay cache ([`crate::drift`]).
    pub drift: crate::drift::DriftSettings,
    /// Create dev-database Deployments for `AtlasSchema` resources whose target server refuses a throw-away
    /// database and that name no `devURL` (`--dev-db-deployments`; needs the RBAC the chart's `devDB.deployments`
    /// grants).
    pub dev_db_deployments: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespaces: vec![],
            label_selector: None,
            resolve: ResolveSettings::default(),
            concurrency: 16,
            lock_timeout: Duration::from_secs(10),
            sqlite_lock_root: Some(std::env::temp_dir().join("strata-operator-locks")),
            drift: crate::drift::DriftSettings::default(),
            dev_db_deployments: false,
        }
    }
}

/// State shared by every reconcile.
pub struct Context {
    /// API client.
    pub client: Client,
    /// Events (one per distinct note; repeats aggregated).
    pub events: Arc<EventPublisher>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Per-database serialisation.
    pub locks: DatabaseLocks,
    /// Secret/ConfigMap reads.
    pub objects: Arc<dyn Objects>,
    /// Remote directories.
    pub registry: Arc<dyn Registry>,
    /// Settings.
    pub settings: Settings,
    /// Stops running applies between files on shutdown.
    pub cancel: Cancel,
    /// Statuses written just before a "requeue now", until the watch brings them.
    pub written: WrittenStatuses,
    /// When each resource's drift was last checked.
    pub drift_schedule: crate::drift::Schedule,
    /// Dev-database Deployments, when [`Settings::dev_db_deployments`] allows them.
    pub dev_dbs: Option<Arc<dyn crate::atlas_schema::devdb::DevDbs>>,
}

/// Statuses this controller wrote before asking to be reconciled again at once (first pass, changed inputs). The
/// requeued reconcile can start before the watch event of the write reaches the store; it then gets the object as
/// it was *before* the write, and would write the same first-pass status again, and again, until the event
/// arrives. While the store holds exactly the version the write was based on, the reconcile starts from the
/// written status instead; any other version (the event arrived, the spec changed) drops the entry.
pub struct WrittenStatuses<K: Reconciled = AtlasMigration>(
    std::sync::Mutex<std::collections::HashMap<String, Written<K::Status>>>,
);

impl<K: Reconciled> Default for WrittenStatuses<K> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<K: Reconciled> std::fmt::Debug for WrittenStatuses<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrittenStatuses")
            .field("len", &self.len())
            .finish()
    }
}

#[derive(Debug)]
struct Written<S> {
    /// `metadata.resourceVersion` the write was based on.
    based_on: Option<String>,
    status: S,
}

/// A resource kind this operator reconciles: its status type, read and replaced.
pub trait Reconciled: Resource + Clone {
    /// The status.
    type Status: Clone + PartialEq;
    /// Replaces the status.
    fn set_status(&mut self, status: Self::Status);
    /// The status the object carries.
    fn status(&self) -> Option<&Self::Status>;
}

impl Reconciled for AtlasMigration {
    type Status = AtlasMigrationStatus;
    fn set_status(&mut self, status: AtlasMigrationStatus) {
        self.status = Some(status);
    }
    fn status(&self) -> Option<&AtlasMigrationStatus> {
        self.status.as_ref()
    }
}

impl Reconciled for AtlasSchema {
    type Status = AtlasSchemaStatus;
    fn set_status(&mut self, status: AtlasSchemaStatus) {
        self.status = Some(status);
    }
    fn status(&self) -> Option<&AtlasSchemaStatus> {
        self.status.as_ref()
    }
}

impl<K: Reconciled> WrittenStatuses<K> {
    /// `obj`, with the status this controller last wrote when the store still holds the version before the write.
    pub fn current(&self, obj: Arc<K>) -> Arc<K> {
        let Some(uid) = obj.meta().uid.clone() else {
            return obj;
        };
        let Ok(mut map) = self.0.lock() else {
            return obj;
        };
        match map.get(&uid) {
            Some(w) if w.based_on == obj.meta().resource_version => {
                let mut fresh = (*obj).clone();
                fresh.set_status(w.status.clone());
                Arc::new(fresh)
            }
            Some(_) => {
                map.remove(&uid);
                obj
            }
            None => obj,
        }
    }

    fn remember(&self, obj: &K, status: &K::Status) {
        if let (Some(uid), Ok(mut map)) = (obj.meta().uid.clone(), self.0.lock()) {
            map.insert(
                uid,
                Written {
                    based_on: obj.meta().resource_version.clone(),
                    status: status.clone(),
                },
            );
        }
    }

    fn forget(&self, uid: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(uid);
        }
    }

    /// Entries held (tests).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// No entries held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Context {
    /// A context over `client` with the default collaborators.
    pub fn new(client: Client, settings: Settings, metrics: Arc<Metrics>) -> Self {
        Self {
            events: Arc::new(EventPublisher::new(
                client.clone(),
                REPORTER,
                std::env::var("POD_NAME").ok(),
            )),
            objects: Arc::new(KubeObjects::new(client.clone())),
            dev_dbs: settings.dev_db_deployments.then(|| {
                Arc::new(crate::atlas_schema::devdb::KubeDevDbs::new(client.clone()))
                    as Arc<dyn crate::atlas_schema::devdb::DevDbs>
            }),
            client,
            metrics,
            locks: DatabaseLocks::default(),
            registry: Arc::new(RegistryClient),
            settings,
            cancel: Cancel::new(),
            written: WrittenStatuses::default(),
            drift_schedule: crate::drift::Schedule::default(),
        }
    }

    /// What a reconcile of `kind` works with (dev-database Deployments only for `AtlasSchema`).
    pub fn env(&self, kind: Kind) -> Env<'_> {
        Env {
            objects: self.objects.as_ref(),
            registry: self.registry.as_ref(),
            settings: &self.settings.resolve,
            locks: &self.locks,
            sqlite_lock_root: self.settings.sqlite_lock_root.clone(),
            lock_timeout: self.settings.lock_timeout,
            cancel: self.cancel.clone(),
            dev_dbs: match kind {
                Kind::Migration => None,
                Kind::Schema => self.dev_dbs.as_deref(),
            },
        }
    }

    /// A resource found deleted by its status write: its gauge and drift schedule go.
    fn forget_resource(&self, kind: Kind, ns: &str, name: &str, uid: &str) {
        self.metrics.forget(kind, ns, name, uid);
        self.drift_schedule.forget(kind, ns, name);
    }

    /// A finished reconcile of the resource `[namespace, name, uid]`: its Ready gauge, the failure reason and the
    /// result counter with the duration.
    fn record(
        &self,
        kind: Kind,
        [ns, name, uid]: [&str; 3],
        ready: bool,
        failure: Option<&str>,
        took: Duration,
    ) {
        self.metrics.set_ready(kind, ns, name, uid, ready);
        let result = match (failure, ready) {
            (Some(reason), _) => {
                self.metrics.failed(reason);
                "failed"
            }
            (None, true) => "ready",
            (None, false) => "progressing",
        };
        self.metrics.reconciled(result, took);
    }
}

/// The controller's answer for an outcome's requeue (the delay jittered per resource).
fn action(requeue: Requeue, name: &str, failed: i32) -> Action {
    match requeue {
        Requeue::Now => Action::requeue(Duration::ZERO),
        Requeue::After(d) => Action::requeue(jitter(d, name, failed)),
        Requeue::Never => Action::await_change(),
    }
}

/// Writes a reconcile's `status` when it differs from what `obj` carries, and keeps [`WrittenStatuses`] in step
/// (remembered for a "requeue now", else forgotten). `Ok(false)`: the object was deleted meanwhile; its ready
/// gauge and drift schedule are forgotten, and the caller publishes nothing for it.
async fn write_changed<K>(
    base: &Context,
    written: &WrittenStatuses<K>,
    kind: Kind,
    obj: &K,
    status: &K::Status,
    requeue: Requeue,
) -> Result<bool, Error>
where
    K: Reconciled
        + Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::Status: serde::Serialize,
{
    if obj.status() == Some(status) {
        return Ok(true);
    }
    let ns = obj.namespace().unwrap_or_else(|| "default".into());
    let name = obj.name_any();
    let uid = obj.uid().unwrap_or_default();
    let api: Api<K> = Api::namespaced(base.client.clone(), &ns);
    if !apply_status(api, kind.as_str(), name.clone(), status)
        .await
        .map_err(Error::Status)?
    {
        written.forget(&uid);
        base.forget_resource(kind, &ns, &name, &uid);
        info!(kind = kind.as_str(), namespace = %ns, name = %name, "resource deleted during the reconcile");
        return Ok(false);
    }
    if requeue == Requeue::Now {
        written.remember(obj, status);
    } else {
        written.forget(&uid);
    }
    Ok(true)
}

/// Writes `status` with server-side apply under [`FIELD_MANAGER`]. On a conflict the object is re-read and the
/// write retried, up to three times. `Ok(false)`: the object is gone (deleted meanwhile), nothing to write.
async fn apply_status<K>(
    api: Api<K>,
    kind: &str,
    name: String,
    status: impl serde::Serialize,
) -> Result<bool, kube::Error>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = json!({
        "apiVersion": "db.atlasgo.io/v1alpha1",
        "kind": kind,
        "status": status,
    });
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match api.patch_status(&name, &pp, &Patch::Apply(&patch)).await {
            Ok(_) => return Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 3 => {
                if api.get_opt(&name).await?.is_none() {
                    return Ok(false);
                }
            }
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

/// Adds up to 10% jitter (deterministic per resource and attempt) to a delay.
fn jitter(d: Duration, key: &str, failed: i32) -> Duration {
    let mut h: u64 = 1469598103934665603;
    for b in key.bytes().chain(failed.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
    }
    d + d.mul_f64((h % 1000) as f64 / 10_000.0)
}

/// One reconcile through the controller: compute, write status, publish events, record metrics.
///
/// Boxed so the future is checked for `Send` here rather than under the runtime's higher-ranked bounds.
pub fn reconcile(
    obj: Arc<AtlasMigration>,
    ctx: Arc<Context>,
) -> futures::future::BoxFuture<'static, Result<Action, Error>> {
    Box::pin(reconcile_inner(obj, ctx))
}

async fn reconcile_inner(obj: Arc<AtlasMigration>, ctx: Arc<Context>) -> Result<Action, Error> {
    let start = Instant::now();
    let ns = obj.namespace().unwrap_or_else(|| "default".into());
    let name = obj.name_any();
    let env = ctx.env(Kind::Migration);
    let obj = ctx.written.current(obj);
    let out = reconcile::reconcile(&obj, &env).await;
    let out = drift_step(&obj, &env, &ctx, out).await;
    let uid = obj.uid().unwrap_or_default();
    let ready = out.status.is_ready();
    // Deleted while we worked: no status, no events, and no gauge for it.
    if !write_changed(
        &ctx,
        &ctx.written,
        Kind::Migration,
        &*obj,
        &out.status,
        out.requeue,
    )
    .await?
    {
        return Ok(Action::await_change());
    }
    publish(ctx.events.clone(), obj.object_ref(&()), out.events.clone()).await;
    ctx.metrics.applied.inc_by(out.applied_files as u64);
    ctx.record(
        Kind::Migration,
        [&ns, &name, &uid],
        ready,
        out.failure.as_deref(),
        start.elapsed(),
    );
    let c = out.status.condition("Ready");
    info!(
        namespace = %ns,
        name = %name,
        ready,
        reason = c.map(|c| c.reason.as_str()).unwrap_or(""),
        message = c.map(|c| c.message.as_str()).unwrap_or(""),
        failed = out.status.failed,
        applied = out.applied_files,
        "reconciled"
    );
    Ok(action(out.requeue, &name, out.status.failed))
}

/// The drift step after a reconcile ([`crate::drift::check_migration`]): a check when one is due, with its
/// condition, Event, metrics and report; the outcome carries them and the requeue.
async fn drift_step(
    obj: &AtlasMigration,
    env: &Env<'_>,
    ctx: &Context,
    out: reconcile::Outcome,
) -> reconcile::Outcome {
    let denv = crate::drift::DriftEnv {
        settings: &ctx.settings.drift,
        schedule: &ctx.drift_schedule,
        metrics: &ctx.metrics.drift,
    };
    crate::drift::check_migration(obj, env, &denv, out).await.0
}

/// Publishes events; a rejected event is logged, never a reconcile failure.
fn publish(
    events: Arc<EventPublisher>,
    reference: k8s_openapi::api::core::v1::ObjectReference,
    list: Vec<reconcile::Event>,
) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move {
        for ev in list {
            if let Err(err) = events.publish(&ev, &reference).await {
                warn!(error = %err, reason = %ev.reason, "publishing event failed");
            }
        }
    })
}

/// API errors (status writes): counted and retried after 5 s.
pub fn error_policy(obj: Arc<AtlasMigration>, err: &Error, ctx: Arc<Context>) -> Action {
    warn!(name = %obj.name_any(), error = %err, "reconcile failed");
    ctx.metrics.failed(err.metric_label());
    ctx.metrics.reconciled("error", Duration::ZERO);
    Action::requeue(reconcile::BACKOFF_BASE)
}

/// A resource kind whose spec references Secrets and ConfigMaps (both kinds' watch mappers).
pub trait Referencing:
    Resource<DynamicType = ()> + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// Every Secret and ConfigMap the spec references.
    fn references(&self) -> Vec<(RefKind, String)>;
}

impl Referencing for AtlasMigration {
    fn references(&self) -> Vec<(RefKind, String)> {
        references(&self.spec)
    }
}

impl Referencing for AtlasSchema {
    fn references(&self) -> Vec<(RefKind, String)> {
        crate::atlas_schema::resolve::references(&self.spec)
    }
}

/// The resources in `store` that reference the `kind` object `ns/name` — the watch mapper. The index is the specs
/// themselves, so it is always current: a spec that stops referencing an object stops being triggered by it.
pub fn dependents<R: Referencing>(
    store: &[Arc<R>],
    kind: RefKind,
    ns: &str,
    name: &str,
) -> Vec<ObjectRef<R>> {
    store
        .iter()
        .filter(|m| m.namespace().as_deref() == Some(ns))
        .filter(|m| m.references().iter().any(|(k, n)| *k == kind && n == name))
        .map(|m| ObjectRef::from_obj(m.as_ref()))
        .collect()
}

/// The `AtlasSchema`s in `store` that reference the `kind` object `ns/name` ([`dependents`]).
pub fn schema_dependents(
    store: &[Arc<AtlasSchema>],
    kind: RefKind,
    ns: &str,
    name: &str,
) -> Vec<ObjectRef<AtlasSchema>> {
    dependents(store, kind, ns, name)
}

fn mapper<K: Resource, R: Referencing>(
    store: Store<R>,
    kind: RefKind,
) -> impl Fn(PartialObjectMeta<K>) -> Vec<ObjectRef<R>> + Send + Sync + 'static {
    move |o: PartialObjectMeta<K>| {
        let ns = o.metadata.namespace.clone().unwrap_or_default();
        let name = o.metadata.name.clone().unwrap_or_default();
        dependents(&store.state(), kind, &ns, &name)
    }
}

/// Keeps the per-resource metrics of `kind` in step with the watch (the finalizer-less cleanup path): a deletion
/// removes the resource's ready gauge; the end of a (re-)list removes the gauges of resources of `namespace` (all
/// with `None`) that `store` no longer holds, deleted while the watch was down.
pub fn on_watch_event<K>(
    metrics: &Metrics,
    kind: Kind,
    store: &Store<K>,
    namespace: Option<&str>,
    event: &watcher::Event<K>,
) where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    match event {
        watcher::Event::Delete(obj) => metrics.forget(
            kind,
            obj.meta().namespace.as_deref().unwrap_or("default"),
            &obj.name_any(),
            obj.meta().uid.as_deref().unwrap_or(""),
        ),
        watcher::Event::InitDone => metrics.retain(kind, |ns, name| {
            namespace.is_some_and(|w| w != ns)
                || store.get(&ObjectRef::<K>::new(name).within(ns)).is_some()
        }),
        _ => {}
    }
}

/// What the reflector keeps of a resource: everything but what nothing here reads and what weighs most on a real
/// API server: `managedFields` (every manager's field set, the inline directory's keys included) and `kubectl
/// apply`'s last-applied annotation (the whole manifest again, as a string). Status writes are server-side applies
/// that never send either.
pub fn strip_for_store(obj: &mut AtlasMigration) {
    strip_meta(&mut obj.metadata);
}

/// [`strip_for_store`] on any kind's metadata.
fn strip_meta(meta: &mut kube::api::ObjectMeta) {
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove(LAST_APPLIED);
        if a.is_empty() {
            meta.annotations = None;
        }
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Resources per list page.
pub const LIST_PAGE: u32 = 100;

/// An API of `K` in namespace `ns`, or in every namespace with `None` (what both controllers watch).
fn scoped<K>(client: &kube::Client, ns: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Runs the controller for one namespace (or all, with `None`) until `shutdown` resolves.
pub async fn run_controller(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    type Meta<K> = PartialObjectMeta<K>;
    let ns = namespace.as_deref();
    let (migrations, secrets, config_maps): (
        Api<AtlasMigration>,
        Api<Meta<Secret>>,
        Api<Meta<ConfigMap>>,
    ) = (
        scoped(&client, ns),
        scoped(&client, ns),
        scoped(&client, ns),
    );
    // Lists in pages of 100 (kube's default is 500): the peak of a (re-)list is one page's raw JSON and parsed
    // objects before they are stripped (`strip_for_store`), which on a real API server, with managedFields and
    // kubectl's last-applied annotation, is several MB per 500 resources with inline directories.
    let mut wc = watcher::Config::default().page_size(LIST_PAGE);
    if let Some(sel) = &ctx.settings.label_selector {
        wc = wc.labels(sel);
    }
    let (reader, writer) = reflector::store();
    // Status-only edits do not trigger: only generation changes (and the first sight of each object).
    let (metrics, store, watched) = (ctx.metrics.clone(), reader.clone(), namespace.clone());
    // Every watch backs off briefly and re-lists at once on `410 Gone` (`crate::watch`), so the operator catches
    // up within seconds of an API server coming back.
    let main = watch::objects(migrations, wc)
        .modify(strip_for_store)
        .reflect(writer)
        .inspect(move |ev| {
            if let Ok(ev) = ev {
                on_watch_event(&metrics, Kind::Migration, &store, watched.as_deref(), ev);
            }
        });
    let main = watch::applied_after_lists(main, reader.clone())
        .predicate_filter(predicates::generation, Default::default());
    // Secrets and ConfigMaps are watched by metadata only (`PartialObjectMeta`: the API server sends no data):
    // their data is read on demand, never cached.
    let secret_events = watch::objects(secrets, watcher::Config::default()).touched_objects();
    let cm_events = watch::objects(config_maps, watcher::Config::default()).touched_objects();
    let config = kube::runtime::controller::Config::default().concurrency(ctx.settings.concurrency);
    Controller::for_stream(main, reader.clone())
        .with_config(config)
        .trigger_backoff(watch::NoDelay)
        .watches_stream(
            secret_events,
            mapper::<Secret, _>(reader.clone(), RefKind::Secret),
        )
        .watches_stream(
            cm_events,
            mapper::<ConfigMap, _>(reader, RefKind::ConfigMap),
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "controller event");
            }
        })
        .await;
}

/// Process-level options of `strata operator run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Controller settings.
    pub settings: Settings,
    /// `/metrics` address.
    pub metrics_addr: SocketAddr,
    /// `/healthz` and `/readyz` address.
    pub health_addr: SocketAddr,
    /// Leader election on/off.
    pub leader_elect: bool,
    /// Lease name.
    pub leader_election_id: String,
    /// Lease namespace (`POD_NAMESPACE` by default).
    pub leader_election_namespace: Option<String>,
}

/// Readiness flag: `/readyz` answers 200 once it is set.
#[derive(Debug, Default)]
pub struct AtlasReady(pub AtomicBool);

/// Runs the operator: health and metrics servers, leader election, one controller per watched namespace, until
/// SIGTERM/Ctrl-C (running applies stop between files) or the loss of leadership.
pub async fn run(opts: RunOptions) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let client = Client::try_default().await?;
    let metrics = Arc::new(Metrics::default());
    let ready = Arc::new(AtlasReady::default());
    let health = tokio::spawn(endpoints::serve(
        opts.health_addr,
        Endpoints::Health(ready.clone()),
    ));
    let metrics_srv = tokio::spawn(endpoints::serve(
        opts.metrics_addr,
        Endpoints::Metrics(metrics.clone()),
    ));
    info!(metrics = %opts.metrics_addr, health = %opts.health_addr, "serving");

    // Leader election: wait until this replica holds the Lease; losing it later ends the process (the pod restarts
    // and becomes a standby), the usual controller-runtime behaviour.
    let mut leadership = None;
    if opts.leader_elect {
        let ns = opts
            .leader_election_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".into());
        let identity = std::env::var("POD_NAME")
            .unwrap_or_else(|_| format!("strata-operator-{}", std::process::id()));
        let manager =
            kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &opts.leader_election_id)
                .with_namespace(&ns)
                .with_identity(&identity)
                .with_duration(15)
                .with_grace(5)
                .build()
                .await?;
        let (mut rx, task) = manager.watch().await;
        ready.0.store(true, Ordering::SeqCst); // a standby is ready: it serves and waits
        info!(lease = %opts.leader_election_id, namespace = %ns, identity = %identity, "waiting for leadership");
        let became_leader = tokio::select! {
            r = rx.wait_for(|leader| *leader) => { r?; true }
            _ = strata_signal::shutdown_signal() => false,
        };
        if !became_leader {
            drop(rx);
            let _ = task.await;
            return Ok(());
        }
        info!("leading");
        leadership = Some((rx, task));
    }

    let ctx = Arc::new(Context::new(client, opts.settings.clone(), metrics));
    let schema_ctx = Arc::new(SchemaContext::new(ctx.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let namespaces: Vec<Option<String>> = if opts.settings.namespaces.is_empty() {
        vec![None]
    } else {
        opts.settings.namespaces.iter().cloned().map(Some).collect()
    };
    let mut controllers = Vec::new();
    for ns in namespaces {
        let mut rx = stop_rx.clone();
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        controllers.push(tokio::spawn(run_controller(ctx.clone(), ns.clone(), stop)));
        let mut rx = stop_rx.clone();
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        controllers.push(tokio::spawn(run_schema_controller(
            schema_ctx.clone(),
            ns,
            stop,
        )));
    }
    ready.0.store(true, Ordering::SeqCst);
    info!(
        namespaces = ?opts.settings.namespaces,
        registry = opts.settings.resolve.registry.as_deref().unwrap_or("none (spec.cloud.url only)"),
        "controller running"
    );

    let lost = async {
        match &mut leadership {
            Some((rx, _)) => {
                let _ = rx.wait_for(|leader| !*leader).await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let lost_leadership = tokio::select! {
        _ = strata_signal::shutdown_signal() => false,
        _ = lost => true,
    };
    info!(lost_leadership, "shutting down");
    ctx.cancel.cancel();
    let _ = stop_tx.send(true);
    for c in controllers {
        let _ = c.await;
    }
    if let Some((rx, task)) = leadership {
        drop(rx); // releases the Lease
        let _ = task.await;
    }
    health.abort();
    metrics_srv.abort();
    if lost_leadership {
        return Err("lost leadership".into());
    }
    Ok(())
}

// ---- AtlasSchema: a second controller on the same machinery ----

/// Reporter name of `AtlasSchema` events (the reference's).
pub const SCHEMA_REPORTER: &str = "atlasschema-controller";

/// State of the `AtlasSchema` controller: the shared [`Context`] (client, Secrets/ConfigMaps, registry, locks,
/// metrics, settings), its own event reporter and its own written statuses.
pub struct SchemaContext {
    /// What both controllers share.
    pub base: Arc<Context>,
    /// Events reported by [`SCHEMA_REPORTER`].
    pub events: Arc<EventPublisher>,
    /// Statuses written just before a "requeue now" (see [`WrittenStatuses`]).
    pub written: WrittenStatuses<AtlasSchema>,
}

impl SchemaContext {
    /// Over the shared context.
    pub fn new(base: Arc<Context>) -> Self {
        Self {
            events: Arc::new(EventPublisher::new(
                base.client.clone(),
                SCHEMA_REPORTER,
                std::env::var("POD_NAME").ok(),
            )),
            base,
            written: WrittenStatuses::default(),
        }
    }
}

/// One `AtlasSchema` reconcile through the controller: compute ([`crate::atlas_schema::reconcile_schema`]), write
/// the status (server-side apply, [`FIELD_MANAGER`], only when changed), publish events, record metrics.
pub fn reconcile_atlas_schema(
    obj: Arc<AtlasSchema>,
    ctx: Arc<SchemaContext>,
) -> futures::future::BoxFuture<'static, Result<Action, Error>> {
    Box::pin(reconcile_atlas_schema_inner(obj, ctx))
}

async fn reconcile_atlas_schema_inner(
    obj: Arc<AtlasSchema>,
    ctx: Arc<SchemaContext>,
) -> Result<Action, Error> {
    let start = Instant::now();
    let base = &ctx.base;
    let ns = obj.namespace().unwrap_or_else(|| "default".into());
    let name = obj.name_any();
    let env = base.env(Kind::Schema);
    let obj = ctx.written.current(obj);
    let mut out = crate::atlas_schema::reconcile_schema(&obj, &env).await;
    let denv = crate::drift::DriftEnv {
        settings: &base.settings.drift,
        schedule: &base.drift_schedule,
        metrics: &base.metrics.drift,
    };
    crate::drift::check_schema(&obj, &denv, &mut out);
    let uid = obj.uid().unwrap_or_default();
    let ready = out.status.is_ready();
    if !write_changed(
        base,
        &ctx.written,
        Kind::Schema,
        &*obj,
        &out.status,
        out.requeue,
    )
    .await?
    {
        return Ok(Action::await_change());
    }
    publish(ctx.events.clone(), obj.object_ref(&()), out.events.clone()).await;
    base.record(
        Kind::Schema,
        [&ns, &name, &uid],
        ready,
        out.failure.as_deref(),
        start.elapsed(),
    );
    let c = out.status.condition("Ready");
    info!(
        kind = "AtlasSchema",
        namespace = %ns,
        name = %name,
        ready,
        reason = c.map(|c| c.reason.as_str()).unwrap_or(""),
        failed = out.status.failed,
        applied = out.applied_statements,
        drift = out.drift.as_ref().map(|p| p.statements.len()).unwrap_or(0),
        "reconciled"
    );
    Ok(action(out.requeue, &name, out.status.failed))
}

/// API errors (status writes) of the `AtlasSchema` controller: counted and retried after 5 s.
pub fn schema_error_policy(obj: Arc<AtlasSchema>, err: &Error, ctx: Arc<SchemaContext>) -> Action {
    warn!(kind = "AtlasSchema", name = %obj.name_any(), error = %err, "reconcile failed");
    ctx.base.metrics.failed(err.metric_label());
    ctx.base.metrics.reconciled("error", Duration::ZERO);
    Action::requeue(reconcile::BACKOFF_BASE)
}

/// Runs the `AtlasSchema` controller for one namespace (or all, with `None`) until `shutdown` resolves. As
/// [`run_controller`], but a change of the annotations triggers a reconcile too: approving a plan is an annotation
/// (`strata.dev/approve`), which does not change the generation.
pub async fn run_schema_controller(
    ctx: Arc<SchemaContext>,
    namespace: Option<String>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    use kube::runtime::Predicate as _;
    let client = ctx.base.client.clone();
    type Meta<K> = PartialObjectMeta<K>;
    let ns = namespace.as_deref();
    let (schemas, secrets, config_maps): (
        Api<AtlasSchema>,
        Api<Meta<Secret>>,
        Api<Meta<ConfigMap>>,
    ) = (
        scoped(&client, ns),
        scoped(&client, ns),
        scoped(&client, ns),
    );
    let mut wc = watcher::Config::default().page_size(LIST_PAGE);
    if let Some(sel) = &ctx.base.settings.label_selector {
        wc = wc.labels(sel);
    }
    let (reader, writer) = reflector::store();
    let (metrics, store, watched) = (ctx.base.metrics.clone(), reader.clone(), namespace.clone());
    let main = watch::objects(schemas, wc)
        .modify(|o: &mut AtlasSchema| strip_meta(&mut o.metadata))
        .reflect(writer)
        .inspect(move |ev| {
            if let Ok(ev) = ev {
                on_watch_event(&metrics, Kind::Schema, &store, watched.as_deref(), ev);
            }
        });
    let main = watch::applied_after_lists(main, reader.clone()).predicate_filter(
        predicates::generation.combine(predicates::annotations),
        Default::default(),
    );
    let secret_events = watch::objects(secrets, watcher::Config::default()).touched_objects();
    let cm_events = watch::objects(config_maps, watcher::Config::default()).touched_objects();
    let config =
        kube::runtime::controller::Config::default().concurrency(ctx.base.settings.concurrency);
    Controller::for_stream(main, reader.clone())
        .with_config(config)
        .trigger_backoff(watch::NoDelay)
        .watches_stream(
            secret_events,
            mapper::<Secret, _>(reader.clone(), RefKind::Secret),
        )
        .watches_stream(
            cm_events,
            mapper::<ConfigMap, _>(reader, RefKind::ConfigMap),
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile_atlas_schema, schema_error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "atlasschema controller event");
            }
        })
        .await;
}
