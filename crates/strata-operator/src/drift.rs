//! Drift detection in the operator: the pieces `AtlasMigration` and `AtlasSchema` share, and the
//! `AtlasMigration` check.
//!
//! - **When**: a resource is checked while it is Ready, once per period. The period is the operator's flag for
//!   its kind (`--drift-interval-migration`, off by default; `--drift-interval-schema`, 10 minutes by default),
//!   unless the resource's annotation `strata.dev/drift-interval` says otherwise (`0` or `off` disables it, a Go
//!   duration such as `5m` sets it): [`interval`]. The last check of each resource is kept in memory
//!   ([`Schedule`]); after a restart the first reconcile of a Ready resource checks at once.
//! - **What is reported**: the `Drifted` condition ([`condition`]): `True` / `Drifted` with the differences,
//!   each followed by where they happened (`table "users": column "nickname" added outside migrations`), joined
//!   with `; ` and cut after [`MAX_LINES`] lines or [`MAX_MESSAGE`] bytes with the number left out; `False` /
//!   `InSync` when a check found nothing; `Unknown` / `CheckFailed` when the check itself failed (dev database
//!   unreachable, …) or `InvalidDriftInterval` when the annotation does not parse; no condition before the first
//!   check, and none while checks are off. A Warning Event `Drifted` goes out when the summary changes, not on
//!   every period ([`transition_event`]). Metrics: the gauge `strata_operator_drifted{kind,namespace,name}` (1/0)
//!   and the counter `strata_operator_drift_checks_total{kind,result}` ([`DriftMetrics`]).
//! - **Never a change**: drift writes nothing to the database (the engine inspects it through a read-only
//!   session: [`strata_engine::schema::drift`]) and never touches `Ready`.
//!
//! For `AtlasMigration` ([`check_migration`]) the expected state is the directory replayed up to
//! `status.lastAppliedVersion` on the dev database: `spec.devURLFrom` / `spec.devURL` when set, else SQLite in
//! memory for a SQLite target, else a throw-away database on the target's server (`?strata_dev=scratch`); the
//! replay goes through the engine's replay cache, so a check of an unchanged directory runs nothing on the dev
//! database.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use strata_driver::DbUrl;
use strata_engine::schema::ReplayCache;
use strata_engine::schema::drift::{DriftOptions, default_dev_url, migration_drift};

use crate::conditions::{now_rfc3339, set_condition};
use crate::crd::{AtlasMigration, Condition};
use crate::reconcile::{Env, Event, EventType, Outcome, Requeue, database_key};
use crate::resolve;

/// The condition type.
pub const DRIFTED: &str = "Drifted";
/// Reason of a check that found differences (and of the Warning Event).
pub const REASON_DRIFTED: &str = "Drifted";
/// Reason of a check that found none.
pub const REASON_IN_SYNC: &str = "InSync";
/// Reason of a check that could not run.
pub const REASON_CHECK_FAILED: &str = "CheckFailed";
/// Reason of an annotation that does not parse.
pub const REASON_INVALID_INTERVAL: &str = "InvalidDriftInterval";
/// The per-resource period annotation.
pub const ANNOTATION: &str = "strata.dev/drift-interval";
/// What an `AtlasMigration`'s drift lines end with.
pub const MIGRATION_SUFFIX: &str = "outside migrations";
/// What an `AtlasSchema`'s drift lines end with.
pub const SCHEMA_SUFFIX: &str = "outside the desired schema";
/// `--drift-interval-schema`'s default.
pub const DEFAULT_SCHEMA_INTERVAL: Duration = Duration::from_secs(600);
/// Lines a condition message names at most.
pub const MAX_LINES: usize = 10;
/// Bytes a condition message holds at most (the Event note's limit is 1 kB).
pub const MAX_MESSAGE: usize = 900;

/// The two kinds drift is checked for (the metrics' `kind` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `AtlasMigration`.
    Migration,
    /// `AtlasSchema`.
    Schema,
}

impl Kind {
    /// The resource kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Migration => "AtlasMigration",
            Kind::Schema => "AtlasSchema",
        }
    }

    /// What this kind's drift lines end with.
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Migration => MIGRATION_SUFFIX,
            Kind::Schema => SCHEMA_SUFFIX,
        }
    }
}

/// The operator's drift settings (flags).
#[derive(Debug, Clone)]
pub struct DriftSettings {
    /// `--drift-interval-migration` (`None`: off).
    pub migration: Option<Duration>,
    /// `--drift-interval-schema` (`None`: off).
    pub schema: Option<Duration>,
    /// Where the replay cache lives (`None`: no cache, every check replays).
    pub cache_dir: Option<PathBuf>,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            migration: None,
            schema: Some(DEFAULT_SCHEMA_INTERVAL),
            cache_dir: Some(std::env::temp_dir().join("strata-operator-cache")),
        }
    }
}

impl DriftSettings {
    /// The flag's period for `kind`.
    pub fn default_for(&self, kind: Kind) -> Option<Duration> {
        match kind {
            Kind::Migration => self.migration,
            Kind::Schema => self.schema,
        }
    }

    /// The replay cache checks use.
    pub fn cache(&self) -> Option<ReplayCache> {
        self.cache_dir.as_ref().map(ReplayCache::new)
    }
}

/// Parses a drift period as the flags and the annotation take it: `0`, `off`, `false`, `disabled` or an empty
/// text turn checks off (`None`); otherwise a Go duration (`30s`, `5m`, `1h30m`).
pub fn parse_interval(s: &str) -> Result<Option<Duration>, String> {
    let t = s.trim();
    if t.is_empty() || ["0", "off", "false", "disabled"].contains(&t.to_ascii_lowercase().as_str())
    {
        return Ok(None);
    }
    let d = strata_engine::godur::parse(t).map_err(|_| {
        format!("invalid drift interval {s:?}: use 0 or off to disable checks, or a duration such as 30s, 5m or 1h")
    })?;
    Ok((!d.is_zero()).then_some(d))
}

/// The period of a resource: its [`ANNOTATION`] when present (which wins), else `default` (the kind's flag). A
/// bad annotation is an error naming it and its value.
pub fn interval(
    annotations: Option<&BTreeMap<String, String>>,
    default: Option<Duration>,
) -> Result<Option<Duration>, String> {
    match annotations.and_then(|a| a.get(ANNOTATION)) {
        Some(v) => parse_interval(v).map_err(|e| format!("annotation {ANNOTATION}: {e}")),
        None => Ok(default),
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Nothing differs.
    InSync,
    /// The differences, one line each (`strata_schema::diff::describe`).
    Drifted(Vec<String>),
    /// The check could not run (the message, without credentials).
    Failed(String),
    /// The resource's annotation does not parse (the message).
    InvalidInterval(String),
}

impl Check {
    /// A check's result from the changes a diff found (`AtlasSchema`: current → desired read the other way,
    /// desired → current, so each line says what the database has that the desired state does not).
    pub fn from_changes(changes: &strata_engine::schema::Changes) -> Self {
        Self::from_lines(strata_engine::schema::drift::describe(changes))
    }

    /// A check's result from the lines a diff described.
    pub fn from_lines(lines: Vec<String>) -> Self {
        if lines.is_empty() {
            Check::InSync
        } else {
            Check::Drifted(lines)
        }
    }

    /// The metrics' `result` label.
    pub fn label(&self) -> &'static str {
        match self {
            Check::InSync => "in_sync",
            Check::Drifted(_) => "drifted",
            Check::Failed(_) | Check::InvalidInterval(_) => "error",
        }
    }
}

/// The condition message of drift `lines`: each line followed by `suffix`, joined with `; `, at most
/// [`MAX_LINES`] lines and [`MAX_MESSAGE`] bytes, then `(and N more)`.
pub fn summary(lines: &[String], suffix: &str) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for line in lines {
        let item = if suffix.is_empty() {
            line.clone()
        } else {
            format!("{line} {suffix}")
        };
        let sep = if out.is_empty() { 0 } else { 2 };
        if shown == MAX_LINES || out.len() + sep + item.len() > MAX_MESSAGE {
            break;
        }
        if sep > 0 {
            out.push_str("; ");
        }
        out.push_str(&item);
        shown += 1;
    }
    if shown == 0
        && let Some(first) = lines.first()
    {
        // One line longer than the whole budget: cut at a character boundary.
        let mut end = MAX_MESSAGE.min(first.len());
        while !first.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&first[..end]);
        out.push('…');
        shown = 1;
    }
    if shown < lines.len() {
        out.push_str(&format!(" (and {} more)", lines.len() - shown));
    }
    out
}

/// The `Drifted` condition a check writes (`suffix`: [`Kind::suffix`]).
pub fn condition(check: &Check, suffix: &str, generation: i64) -> Condition {
    let (status, reason, message) = match check {
        Check::InSync => ("False", REASON_IN_SYNC, String::new()),
        Check::Drifted(lines) => ("True", REASON_DRIFTED, summary(lines, suffix)),
        Check::Failed(m) => ("Unknown", REASON_CHECK_FAILED, m.clone()),
        Check::InvalidInterval(m) => ("Unknown", REASON_INVALID_INTERVAL, m.clone()),
    };
    Condition {
        type_: DRIFTED.into(),
        status: status.into(),
        observed_generation: generation,
        last_transition_time: now_rfc3339(),
        reason: reason.into(),
        message,
    }
}

/// The Warning Event a new `Drifted` condition calls for, given the conditions before it: one when the resource
/// drifted and the summary differs from the one already reported (first drift, or a different one), and when a
/// check starts failing or fails differently; none when nothing changed (a drift already reported is not
/// reported again every period) and none for `InSync`.
pub fn transition_event(before: &[Condition], new: &Condition) -> Option<Event> {
    let old = before.iter().find(|c| c.type_ == DRIFTED);
    let same = old.is_some_and(|o| {
        o.status == new.status && o.reason == new.reason && o.message == new.message
    });
    if same {
        return None;
    }
    let reason = match new.reason.as_str() {
        REASON_DRIFTED => REASON_DRIFTED,
        REASON_CHECK_FAILED | REASON_INVALID_INTERVAL => new.reason.as_str(),
        _ => return None,
    };
    Some(Event {
        type_: EventType::Warning,
        reason: reason.to_owned(),
        note: new.message.clone(),
    })
}

/// Writes a check's `Drifted` condition into `conds` (transition time kept while the status stays) and returns
/// the Event it calls for ([`transition_event`]).
pub fn record(
    conds: &mut Vec<Condition>,
    check: &Check,
    suffix: &str,
    generation: i64,
) -> Option<Event> {
    let c = condition(check, suffix, generation);
    let ev = transition_event(conds, &c);
    set_condition(conds, c);
    ev
}

/// Removes the `Drifted` condition (checks turned off: an old result would only mislead).
pub fn clear(conds: &mut Vec<Condition>) {
    conds.retain(|c| c.type_ != DRIFTED);
}

/// When each resource was last checked, in memory.
#[derive(Debug, Default)]
pub struct Schedule {
    last: Mutex<HashMap<(Kind, String, String), Instant>>,
}

impl Schedule {
    /// How long until the resource's next check is due (`Duration::ZERO`: due now, including never checked).
    pub fn remaining(&self, kind: Kind, ns: &str, name: &str, period: Duration) -> Duration {
        let map = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(kind, ns.to_owned(), name.to_owned())) {
            Some(t) => period.saturating_sub(t.elapsed()),
            None => Duration::ZERO,
        }
    }

    /// Notes a check of the resource now.
    pub fn checked(&self, kind: Kind, ns: &str, name: &str) {
        let mut map = self.last.lock().unwrap_or_else(|e| e.into_inner());
        map.insert((kind, ns.to_owned(), name.to_owned()), Instant::now());
    }

    /// Forgets a deleted resource.
    pub fn forget(&self, kind: Kind, ns: &str, name: &str) {
        let mut map = self.last.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&(kind, ns.to_owned(), name.to_owned()));
    }
}

/// `kind` / `namespace` / `name` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct DriftLabel {
    /// `AtlasMigration` or `AtlasSchema`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// `kind` / `result` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabel {
    /// `AtlasMigration` or `AtlasSchema`.
    pub kind: String,
    /// `in_sync`, `drifted` or `error`.
    pub result: String,
}

/// The drift metrics (registered with the operator's others by [`crate::metrics::Metrics`]).
#[derive(Debug, Default, Clone)]
pub struct DriftMetrics {
    /// 1 while the resource's last check found drift, else 0.
    pub drifted: Family<DriftLabel, Gauge>,
    /// Checks by kind and result.
    pub checks: Family<CheckLabel, Counter>,
}

impl DriftMetrics {
    /// Registers the families (`strata_operator_drifted`, `strata_operator_drift_checks_total`).
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "drifted",
            "1 when the resource's last drift check found differences",
            self.drifted.clone(),
        );
        r.register(
            "drift_checks",
            "Drift checks by kind and result",
            self.checks.clone(),
        );
    }

    /// Records a check: the counter, and the gauge unless the check could not tell.
    pub fn record(&self, kind: Kind, ns: &str, name: &str, check: &Check) {
        self.checks
            .get_or_create(&CheckLabel {
                kind: kind.as_str().into(),
                result: check.label().into(),
            })
            .inc();
        let v = match check {
            Check::InSync => 0,
            Check::Drifted(_) => 1,
            Check::Failed(_) | Check::InvalidInterval(_) => return,
        };
        self.drifted.get_or_create(&label(kind, ns, name)).set(v);
    }

    /// Removes the gauge of a resource (deleted, or checks turned off).
    pub fn forget(&self, kind: Kind, ns: &str, name: &str) {
        self.drifted.remove(&label(kind, ns, name));
    }
}

fn label(kind: Kind, ns: &str, name: &str) -> DriftLabel {
    DriftLabel {
        kind: kind.as_str().into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

/// The log line of a check (the registry's report of a remote directory's check is [`check_migration`]'s, which
/// knows the run's origin).
pub fn report_to_registry(kind: Kind, ns: &str, name: &str, check: &Check) {
    match check {
        Check::Drifted(lines) => tracing::info!(
            kind = kind.as_str(),
            namespace = ns,
            name,
            changes = lines.len(),
            summary = %summary(lines, kind.suffix()),
            "drift detected"
        ),
        Check::InSync => tracing::debug!(kind = kind.as_str(), namespace = ns, name, "in sync"),
        Check::Failed(m) | Check::InvalidInterval(m) => {
            tracing::warn!(kind = kind.as_str(), namespace = ns, name, error = %m, "drift check failed")
        }
    }
}

/// Whether a resource's drift check is due ([`due`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Checks are off for it: drop its condition and gauge.
    Off,
    /// Its annotation does not parse (the message, for [`Check::InvalidInterval`]).
    Invalid(String),
    /// Not yet: come back after this long.
    Later(Duration),
    /// Check now, then come back after the period.
    Now(Duration),
}

/// Whether the drift check of resource `ns/name` of `kind` is due: its period ([`interval`] of its annotations and
/// the kind's flag) against its last check in `schedule`.
pub fn due(
    kind: Kind,
    ns: &str,
    name: &str,
    annotations: Option<&BTreeMap<String, String>>,
    settings: &DriftSettings,
    schedule: &Schedule,
) -> Due {
    match interval(annotations, settings.default_for(kind)) {
        Err(m) => Due::Invalid(m),
        Ok(None) => Due::Off,
        Ok(Some(period)) => match schedule.remaining(kind, ns, name, period) {
            r if r.is_zero() => Due::Now(period),
            r => Due::Later(r),
        },
    }
}

/// Everything a finished check leads to, for either kind: the `Drifted` condition written into `conds`, the
/// Warning Event when the summary changed pushed onto `events`, the metrics, the registry report. `schedule` is
/// told the resource was checked (an invalid annotation is not a check).
// Each argument is a separate piece of the caller's state: the two kinds keep their statuses and outcomes apart, so
// there is no one struct to pass.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    kind: Kind,
    ns: &str,
    name: &str,
    generation: i64,
    check: &Check,
    conds: &mut Vec<Condition>,
    events: &mut Vec<Event>,
    metrics: &DriftMetrics,
    schedule: &Schedule,
) {
    if !matches!(check, Check::InvalidInterval(_)) {
        schedule.checked(kind, ns, name);
    }
    if let Some(ev) = record(conds, check, kind.suffix(), generation) {
        events.push(ev);
    }
    metrics.record(kind, ns, name, check);
    report_to_registry(kind, ns, name, check);
}

/// Checks turned off for a resource: its condition, gauge and schedule entry go.
pub fn turned_off(
    kind: Kind,
    ns: &str,
    name: &str,
    conds: &mut Vec<Condition>,
    metrics: &DriftMetrics,
    schedule: &Schedule,
) {
    clear(conds);
    metrics.forget(kind, ns, name);
    schedule.forget(kind, ns, name);
}

/// What the `AtlasMigration` drift step needs besides the reconcile's [`Env`].
pub struct DriftEnv<'a> {
    /// The flags.
    pub settings: &'a DriftSettings,
    /// Last checks.
    pub schedule: &'a Schedule,
    /// The operator's drift metrics.
    pub metrics: &'a DriftMetrics,
}

/// The drift step after an `AtlasMigration` reconcile: when the outcome is Ready (nothing failed, nothing to
/// redo at once) and the resource's period is due ([`due`]), the target is checked against its directory up to
/// `lastAppliedVersion` and the result published into the outcome ([`publish`]: condition, Event, metrics) which
/// comes back after the period; a period not yet reached only shortens the requeue. Checks turned off remove the
/// condition and the gauge. Returns the outcome and the check made, if any.
pub async fn check_migration(
    obj: &AtlasMigration,
    env: &Env<'_>,
    drift: &DriftEnv<'_>,
    mut out: Outcome,
) -> (Outcome, Option<Check>) {
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let name = obj.metadata.name.as_deref().unwrap_or("");
    let generation = obj.metadata.generation.unwrap_or(0);
    let kind = Kind::Migration;
    if out.failure.is_some() || out.requeue == Requeue::Now || !out.status.is_ready() {
        return (out, None);
    }
    let when = due(
        kind,
        ns,
        name,
        obj.metadata.annotations.as_ref(),
        drift.settings,
        drift.schedule,
    );
    let check = match when {
        Due::Off => {
            turned_off(
                kind,
                ns,
                name,
                &mut out.status.conditions,
                drift.metrics,
                drift.schedule,
            );
            return (out, None);
        }
        Due::Later(left) => {
            out.requeue = sooner(out.requeue, left);
            return (out, None);
        }
        Due::Invalid(m) => Check::InvalidInterval(m),
        Due::Now(period) => {
            out.requeue = sooner(out.requeue, period);
            let (check, remote) =
                run_migration_check(obj, env, drift.settings, &out.status.last_applied_version)
                    .await;
            if let Some((run, target)) = &remote {
                report_remote(env.registry, run, target, &check, ns, name).await;
            }
            check
        }
    };
    publish(
        kind,
        ns,
        name,
        generation,
        &check,
        &mut out.status.conditions,
        &mut out.events,
        drift.metrics,
        drift.schedule,
    );
    (out, Some(check))
}

/// The drift step after an `AtlasSchema` reconcile. A Ready, unchanged resource's reconcile already inspected the
/// target and diffed it with the desired state without applying anything ([`SchemaOutcome::drift_changes`]), so
/// the check costs nothing more: when checks are on for it, the result is published (condition, Event on change,
/// metrics) and the resource comes back after its period; when they are off, the condition and gauge go. A
/// reconcile that applied, failed or is in progress leaves the condition as it was.
///
/// [`SchemaOutcome::drift_changes`]: crate::atlas_schema::SchemaOutcome::drift_changes
pub fn check_schema(
    obj: &crate::atlas_schema::AtlasSchema,
    drift: &DriftEnv<'_>,
    out: &mut crate::atlas_schema::SchemaOutcome,
) -> Option<Check> {
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let name = obj.metadata.name.as_deref().unwrap_or("");
    let generation = obj.metadata.generation.unwrap_or(0);
    let kind = Kind::Schema;
    if out.failure.is_some() || out.requeue == Requeue::Now || !out.status.is_ready() {
        return None;
    }
    let annotations = obj.metadata.annotations.as_ref();
    let check = match interval(annotations, drift.settings.default_for(kind)) {
        Ok(None) => {
            turned_off(
                kind,
                ns,
                name,
                &mut out.status.conditions,
                drift.metrics,
                drift.schedule,
            );
            return None;
        }
        Err(m) => Check::InvalidInterval(m),
        Ok(Some(period)) => {
            out.requeue = sooner(out.requeue, period);
            match &out.drift_changes {
                Some(changes) => Check::from_changes(changes),
                // Just applied: the target is what the desired state says.
                None => Check::InSync,
            }
        }
    };
    publish(
        kind,
        ns,
        name,
        generation,
        &check,
        &mut out.status.conditions,
        &mut out.events,
        drift.metrics,
        drift.schedule,
    );
    Some(check)
}

/// The earlier of a requeue and "after `d`".
fn sooner(r: Requeue, d: Duration) -> Requeue {
    match r {
        Requeue::After(x) if x <= d => r,
        Requeue::Now => r,
        _ => Requeue::After(d),
    }
}

/// Resolves the inputs again (the reconcile does not hand them out), the dev database, and runs the engine's
/// check under the per-database lock. For a remote directory, also where its result is reported: the run's origin
/// and the target as the registry's records name it.
async fn run_migration_check(
    obj: &AtlasMigration,
    env: &Env<'_>,
    settings: &DriftSettings,
    version: &str,
) -> (Check, Option<(resolve::RemoteRun, String)>) {
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let inputs =
        match resolve::resolve(env.objects, env.registry, env.settings, ns, &obj.spec).await {
            Ok(i) => i,
            Err(e) => return (Check::Failed(e.message), None),
        };
    let remote = inputs.remote.clone().map(|r| {
        let target = strata_registry_client::target_of(inputs.url.expose());
        (r, target)
    });
    let dev = match dev_url(obj, env, &inputs.url).await {
        Ok(d) => d,
        Err(m) => return (Check::Failed(m), remote),
    };
    let opts = DriftOptions::new(dev.clone()).cache(settings.cache());
    let _db = env.locks.lock(&database_key(&inputs.url)).await;
    let check = match migration_drift(&inputs.url, &inputs.dir, Some(version), &opts).await {
        Ok(d) => Check::from_lines(d.lines),
        Err(e) => Check::Failed(dev.scrub(&inputs.url.scrub(&e.to_string()))),
    };
    (check, remote)
}

/// Sends a check of a remote directory's target to its registry (what the "what runs where" overview shows):
/// the lines with the kind's suffix, empty when in sync. A check that could not run is not reported (the
/// registry keeps the last real one); a report that fails is logged and changes nothing else.
async fn report_remote(
    registry: &dyn resolve::Registry,
    run: &resolve::RemoteRun,
    target: &str,
    check: &Check,
    ns: &str,
    name: &str,
) {
    let lines = match check {
        Check::InSync => Vec::new(),
        Check::Drifted(lines) => lines
            .iter()
            .map(|l| format!("{l} {}", Kind::Migration.suffix()))
            .collect(),
        Check::Failed(_) | Check::InvalidInterval(_) => return,
    };
    let drift = strata_registry_client::model::NewDrift {
        dir: run.req.dir.clone(),
        target: target.to_owned(),
        lines,
        checked_at: crate::conditions::now_rfc3339(),
    };
    if let Err(e) = registry.report_drift(&run.req, &run.token, &drift).await {
        tracing::warn!(
            namespace = ns,
            name,
            registry = %crate::registry::display_url(&run.req.registry),
            project = %run.req.project,
            error = %e,
            "the drift check was not reported to the registry"
        );
    }
}

/// The dev database of an `AtlasMigration`'s drift check: `devURLFrom`, `devURL`, else the engine's default for
/// the target ([`default_dev_url`]). Errors are messages without credentials.
async fn dev_url(obj: &AtlasMigration, env: &Env<'_>, target: &DbUrl) -> Result<DbUrl, String> {
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let given = resolve::dev_url(env.objects, ns, &obj.spec)
        .await
        .map_err(|e| e.message)?;
    match given {
        Some(u) => u
            .parse::<DbUrl>()
            .map_err(|e| format!("devURL: {}", strata_driver::url::scrub(&e.to_string(), &u))),
        None => default_dev_url(target).map_err(|e| target.scrub(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("table \"t{i}\": column \"c\" added"))
            .collect()
    }

    #[test]
    fn intervals_parse_and_the_annotation_wins() {
        assert_eq!(parse_interval("5m"), Ok(Some(Duration::from_secs(300))));
        assert_eq!(
            parse_interval(" 1h30m "),
            Ok(Some(Duration::from_secs(5400)))
        );
        for off in ["0", "off", "OFF", "false", "disabled", "", "0s"] {
            assert_eq!(parse_interval(off), Ok(None), "{off}");
        }
        assert_eq!(
            parse_interval("soon").unwrap_err(),
            "invalid drift interval \"soon\": use 0 or off to disable checks, or a duration such as 30s, 5m or 1h"
        );
        let ann = |v: &str| BTreeMap::from([(ANNOTATION.to_owned(), v.to_owned())]);
        let ten = Some(Duration::from_secs(600));
        assert_eq!(interval(None, ten), Ok(ten));
        assert_eq!(interval(Some(&BTreeMap::new()), None), Ok(None));
        assert_eq!(interval(Some(&ann("off")), ten), Ok(None));
        assert_eq!(
            interval(Some(&ann("30s")), None),
            Ok(Some(Duration::from_secs(30)))
        );
        assert_eq!(
            interval(Some(&ann("5 minutes")), ten).unwrap_err(),
            "annotation strata.dev/drift-interval: invalid drift interval \"5 minutes\": use 0 or off to disable \
             checks, or a duration such as 30s, 5m or 1h"
        );
        let d = DriftSettings::default();
        assert_eq!(d.default_for(Kind::Migration), None);
        assert_eq!(d.default_for(Kind::Schema), Some(DEFAULT_SCHEMA_INTERVAL));
    }

    #[test]
    fn summaries_name_each_change_and_stop_sensibly() {
        assert_eq!(
            summary(&lines(2), MIGRATION_SUFFIX),
            "table \"t0\": column \"c\" added outside migrations; table \"t1\": column \"c\" added outside \
             migrations"
        );
        assert_eq!(
            summary(&lines(1), SCHEMA_SUFFIX),
            "table \"t0\": column \"c\" added outside the desired schema"
        );
        let many = summary(&lines(25), MIGRATION_SUFFIX);
        assert!(
            many.ends_with("; table \"t9\": column \"c\" added outside migrations (and 15 more)"),
            "{many}"
        );
        assert!(many.len() <= MAX_MESSAGE + 20);
        // Long lines: cut by size, never inside a line.
        let long: Vec<String> = (0..5)
            .map(|i| format!("table \"{i}{}\" added", "x".repeat(300)))
            .collect();
        let s = summary(&long, MIGRATION_SUFFIX);
        assert!(s.ends_with("added outside migrations (and 3 more)"), "{s}");
        assert!(s.len() <= MAX_MESSAGE + 20);
        // One line over the whole budget: cut at a character boundary.
        let huge = vec![format!("table \"{}\" added", "é".repeat(1000))];
        let s = summary(&huge, MIGRATION_SUFFIX);
        assert!(
            s.ends_with('…') && s.len() <= MAX_MESSAGE + 3,
            "{}",
            s.len()
        );
    }

    #[test]
    fn conditions_and_events_follow_the_summary() {
        let mut conds = Vec::new();
        // First drift: condition True and a Warning Event.
        let drifted = Check::Drifted(vec!["table \"users\": column \"nickname\" added".into()]);
        let ev = record(&mut conds, &drifted, MIGRATION_SUFFIX, 3).expect("event");
        assert_eq!(
            ev.to_string(),
            "Warning Drifted table \"users\": column \"nickname\" added outside migrations"
        );
        let c = conds.iter().find(|c| c.type_ == DRIFTED).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str(), c.observed_generation),
            ("True", "Drifted", 3)
        );
        let since = c.last_transition_time.clone();
        // The same drift next period: no new Event, transition time kept.
        assert_eq!(record(&mut conds, &drifted, MIGRATION_SUFFIX, 3), None);
        assert_eq!(conds[0].last_transition_time, since);
        // A different drift: a new Event.
        let more = Check::Drifted(vec![
            "table \"users\": column \"nickname\" added".into(),
            "table \"users\": index \"users_name\" dropped".into(),
        ]);
        assert!(record(&mut conds, &more, MIGRATION_SUFFIX, 3).is_some());
        // Back in sync: False / InSync, no Event.
        assert_eq!(
            record(&mut conds, &Check::InSync, MIGRATION_SUFFIX, 3),
            None
        );
        assert_eq!(
            (
                conds[0].status.as_str(),
                conds[0].reason.as_str(),
                conds[0].message.as_str()
            ),
            ("False", "InSync", "")
        );
        // A failing check is Unknown with its message, and says so once.
        let failed = Check::Failed("dev database unreachable".into());
        let ev = record(&mut conds, &failed, MIGRATION_SUFFIX, 3).unwrap();
        assert_eq!(
            ev.to_string(),
            "Warning CheckFailed dev database unreachable"
        );
        assert_eq!(conds[0].status, "Unknown");
        assert_eq!(record(&mut conds, &failed, MIGRATION_SUFFIX, 3), None);
        clear(&mut conds);
        assert!(conds.is_empty());
    }

    #[test]
    fn metrics_gauge_and_counter() {
        let m = DriftMetrics::default();
        let mut r = Registry::with_prefix("strata_operator");
        m.register(&mut r);
        m.record(Kind::Migration, "apps", "db", &Check::Drifted(lines(1)));
        m.record(Kind::Schema, "apps", "s", &Check::InSync);
        m.record(Kind::Schema, "apps", "s", &Check::Failed("x".into()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        for want in [
            "strata_operator_drifted{kind=\"AtlasMigration\",namespace=\"apps\",name=\"db\"} 1",
            "strata_operator_drifted{kind=\"AtlasSchema\",namespace=\"apps\",name=\"s\"} 0",
            "strata_operator_drift_checks_total{kind=\"AtlasMigration\",result=\"drifted\"} 1",
            "strata_operator_drift_checks_total{kind=\"AtlasSchema\",result=\"error\"} 1",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        m.forget(Kind::Migration, "apps", "db");
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        assert!(!text.contains("name=\"db\""), "{text}");
    }

    #[test]
    fn due_follows_the_annotation_the_flag_and_the_last_check() {
        let settings = DriftSettings::default();
        let s = Schedule::default();
        let ann = |v: &str| BTreeMap::from([(ANNOTATION.to_owned(), v.to_owned())]);
        // AtlasMigration: off by default; AtlasSchema: every 10 minutes.
        assert_eq!(
            due(Kind::Migration, "a", "m", None, &settings, &s),
            Due::Off
        );
        assert_eq!(
            due(Kind::Schema, "a", "s", None, &settings, &s),
            Due::Now(DEFAULT_SCHEMA_INTERVAL)
        );
        let five = Due::Now(Duration::from_secs(300));
        assert_eq!(
            due(Kind::Migration, "a", "m", Some(&ann("5m")), &settings, &s),
            five
        );
        assert!(matches!(
            due(Kind::Migration, "a", "m", Some(&ann("x")), &settings, &s),
            Due::Invalid(m) if m.starts_with("annotation strata.dev/drift-interval")
        ));
        // After a published check: later; an invalid annotation is not a check.
        let (mut conds, mut events, m) = (Vec::new(), Vec::new(), DriftMetrics::default());
        publish(
            Kind::Schema,
            "a",
            "s",
            1,
            &Check::InSync,
            &mut conds,
            &mut events,
            &m,
            &s,
        );
        assert!(matches!(
            due(Kind::Schema, "a", "s", None, &settings, &s),
            Due::Later(d) if d > Duration::from_secs(590)
        ));
        let bad = Check::InvalidInterval("bad".into());
        publish(
            Kind::Migration,
            "a",
            "m",
            1,
            &bad,
            &mut conds,
            &mut events,
            &m,
            &s,
        );
        assert_eq!(
            due(Kind::Migration, "a", "m", Some(&ann("5m")), &settings, &s),
            five
        );
        assert_eq!(events.len(), 1, "the invalid annotation's Warning");
        turned_off(Kind::Schema, "a", "s", &mut conds, &m, &s);
        assert!(conds.is_empty());
        assert_eq!(
            due(Kind::Schema, "a", "s", None, &settings, &s),
            Due::Now(DEFAULT_SCHEMA_INTERVAL)
        );
    }

    #[test]
    fn the_schedule_says_when_a_check_is_due() {
        let s = Schedule::default();
        let p = Duration::from_secs(60);
        assert_eq!(s.remaining(Kind::Migration, "a", "b", p), Duration::ZERO);
        s.checked(Kind::Migration, "a", "b");
        let left = s.remaining(Kind::Migration, "a", "b", p);
        assert!(left > Duration::from_secs(55) && left <= p, "{left:?}");
        assert_eq!(s.remaining(Kind::Schema, "a", "b", p), Duration::ZERO);
        s.forget(Kind::Migration, "a", "b");
        assert_eq!(s.remaining(Kind::Migration, "a", "b", p), Duration::ZERO);
        assert_eq!(sooner(Requeue::Never, p), Requeue::After(p));
        assert_eq!(
            sooner(Requeue::After(Duration::from_secs(5)), p),
            Requeue::After(Duration::from_secs(5))
        );
    }
}
