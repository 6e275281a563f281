//! One reconcile of an `AtlasSchema` as a plain function (operator-spec §9.3, with Strata's approval gate): inputs
//! in, the status to write, the events to publish and when to come back out. No Kubernetes API calls happen here;
//! the controller writes the outcome.
//!
//! The flow: first pass → `Reconciling`; resolve the inputs ([`super::resolve`], errors `ReadSchema`); Ready with a
//! changed `observed_hash` → back to `Reconciling` before the database is touched; then, holding the per-database
//! lock, inspect the target and load the desired state on the dev database, diff and plan
//! ([`strata_engine::schema::schema_diff`], as `strata schema apply` does). Ready and unchanged: nothing is
//! applied, the plan is returned as [`SchemaOutcome::drift`]. A destructive plan ([`Plan::destructive`]) is refused
//! on the first run (`FirstRunDestructive`) and under `policy.lint.destructive.error` (`LintPolicyError`), and
//! otherwise waits in `status.pendingPlan` until the `strata.dev/approve` annotation carries its hash. Anything
//! else is applied ([`strata_engine::schema::apply_plan`], `txMode`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use strata_driver::DriverError;
use strata_engine::schema::{
    self, LoadOptions, Loaded, Plan, SchemaApplyJson, SchemaApplyReport, SchemaError, Source,
};

use super::crd::{APPROVE_ANNOTATION, AtlasSchema, AtlasSchemaStatus, LintReview, PendingPlan};
use super::devdb::{self, DevDbState, DevDbs, Engine};
use super::resolve::{self, DevKind, SchemaInputs};
use crate::conditions::{self, APPLIED, RECONCILING};
use crate::reconcile::{Env, Event, EventType, Requeue, backoff, database_key, retryable_driver};

/// Ready reason when the inputs or the desired state cannot be read.
pub const READ_SCHEMA: &str = "ReadSchema";
/// Ready reason when the dev database cannot be had.
pub const GETTING_DEV_DB: &str = "GettingDevDB";
/// Ready reason when inspecting or planning fails.
pub const SCHEMA_PLAN: &str = "SchemaPlan";
/// Ready reason of a destructive first run.
pub const FIRST_RUN_DESTRUCTIVE: &str = "FirstRunDestructive";
/// Ready reason of `policy.lint.destructive.error`.
pub const LINT_POLICY_ERROR: &str = "LintPolicyError";
/// Ready reason of a destructive plan waiting for its approval annotation.
pub const APPROVAL_PENDING: &str = "ApprovalPending";
/// Ready reason when the database refuses the plan.
pub const APPLYING_SCHEMA: &str = "ApplyingSchema";
/// The Reconciling detail when the desired state changed since the last success.
pub const SCHEMA_CHANGED: &str = "current schema does not match last applied";
/// The end of the `FirstRunDestructive` message.
pub const FIRST_RUN_MESSAGE: &str =
    "the first run of a schema must not contain destructive changes";
/// Bytes of planned/applied SQL kept in the Ready message's apply response (operator-spec §7).
pub const RESPONSE_SQL_LIMIT: usize = 1024;
/// When a pending approval is looked at again without an event (the annotation and spec edits trigger at once).
pub const APPROVAL_RECHECK: Duration = Duration::from_secs(60);

/// What an `AtlasSchema` reconcile decided.
#[derive(Debug, Clone)]
pub struct SchemaOutcome {
    /// The status to write.
    pub status: AtlasSchemaStatus,
    /// Events to publish, in order.
    pub events: Vec<Event>,
    /// When to come back.
    pub requeue: Requeue,
    /// Statements applied by this reconcile.
    pub applied_statements: usize,
    /// Set when the reconcile failed: a short label for metrics (the Ready reason).
    pub failure: Option<String>,
    /// Ready and unchanged: the plan from the target to the desired state, computed and **not** applied (empty
    /// when the database matches). Drift reporting reads it; `None` on every other path.
    pub drift: Option<Plan>,
    /// With [`Self::drift`]: what differs, read from the desired state to the database (`column "x" added` = a
    /// column the database has and the desired state does not), for the `Drifted` condition.
    pub drift_changes: Option<strata_engine::schema::Changes>,
}

impl SchemaOutcome {
    fn new(status: AtlasSchemaStatus, events: Vec<Event>, requeue: Requeue) -> Self {
        Self {
            status,
            events,
            requeue,
            applied_statements: 0,
            failure: None,
            drift: None,
            drift_changes: None,
        }
    }
}

// ---- status transitions (operator-spec §8; in-progress phases per §13: Ready's message is `Reconciling`) ----

fn put(
    s: &mut AtlasSchemaStatus,
    generation: i64,
    flags: [bool; 3],
    reason: &str,
    msgs: [&str; 2],
) {
    conditions::put_conditions_with(&mut s.conditions, generation, flags, reason, msgs);
    s.observed_generation = generation;
}

/// In progress with `reason` (`Reconciling`, `ApprovalPending`): Ready False with the message `Reconciling` (so
/// Argo CD's built-in check says Progressing), the detail in the `Reconciling` condition; `failed` kept.
fn progressing(
    mut s: AtlasSchemaStatus,
    generation: i64,
    reason: &str,
    detail: &str,
) -> AtlasSchemaStatus {
    put(
        &mut s,
        generation,
        [false, true, false],
        reason,
        [RECONCILING, detail],
    );
    s
}

/// The first pass or changed inputs: `failed` reset, no plan pending.
fn reconciling(s: AtlasSchemaStatus, generation: i64, detail: &str) -> AtlasSchemaStatus {
    let mut s = progressing(s, generation, RECONCILING, detail);
    s.failed = 0;
    s.pending_plan = None;
    s
}

/// Success: the whole status replaced (hash, time), then Ready True / `Applied` with `message`.
fn ready(
    old: &AtlasSchemaStatus,
    generation: i64,
    hash: &str,
    last_applied: i64,
    message: &str,
) -> AtlasSchemaStatus {
    let mut s = AtlasSchemaStatus {
        conditions: old.conditions.clone(),
        observed_hash: hash.into(),
        last_applied,
        ..AtlasSchemaStatus::default()
    };
    put(
        &mut s,
        generation,
        [true, false, false],
        APPLIED,
        [message, ""],
    );
    s
}

/// A failure: transient ones are Reconciling (retried), the others Stalled; `failed` + 1 either way. Ready's
/// message is the error text.
fn failed(
    mut s: AtlasSchemaStatus,
    generation: i64,
    reason: &str,
    message: &str,
    stalled: bool,
) -> AtlasSchemaStatus {
    put(
        &mut s,
        generation,
        [false, !stalled, stalled],
        reason,
        [message, message],
    );
    s.failed = s.failed.saturating_add(1);
    s.pending_plan = None;
    s
}

// ---- the reconcile ----

/// A failure with its Ready reason, whether it may pass by itself, and the Warning event reason (`Error` /
/// `TransientErr`, or a specific one such as `FirstRunDestructive`).
struct Failure {
    reason: &'static str,
    message: String,
    transient: bool,
    event: Option<&'static str>,
    /// The target's server refused a throw-away dev database (a dev-database Deployment may stand in).
    scratch_refused: bool,
}

impl Failure {
    fn new(reason: &'static str, message: impl Into<String>, transient: bool) -> Self {
        Self {
            reason,
            message: message.into(),
            transient,
            event: None,
            scratch_refused: false,
        }
    }
}

/// Runs one reconcile of `obj`. (Boxed: the future is proven `Send` here, once, for the controller runtime.)
pub fn reconcile_schema<'a>(
    obj: &'a AtlasSchema,
    env: &'a Env<'a>,
) -> futures::future::BoxFuture<'a, SchemaOutcome> {
    Box::pin(reconcile_impl(obj, env))
}

async fn reconcile_impl(obj: &AtlasSchema, env: &Env<'_>) -> SchemaOutcome {
    let generation = obj.metadata.generation.unwrap_or(0);
    let old = obj.status.clone().unwrap_or_default();
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");

    // 1. First pass: say we are on it before doing anything.
    if old.conditions.is_empty() {
        return SchemaOutcome::new(
            reconciling(old, generation, RECONCILING),
            vec![],
            Requeue::Now,
        );
    }

    // 2. Inputs and hash.
    let inputs =
        match resolve::resolve(env.objects, env.registry, env.settings, ns, &obj.spec).await {
            Ok(i) => i,
            Err(e) => {
                return fail(obj, old, Failure::new(READ_SCHEMA, e.message, e.transient));
            }
        };

    // 3. Flip before heavy work, so GitOps tools see Ready=False before the database is touched.
    if old.is_ready() && inputs.hash != old.observed_hash {
        return SchemaOutcome::new(
            reconciling(old, generation, SCHEMA_CHANGED),
            vec![],
            Requeue::Now,
        );
    }

    let _db = env.locks.lock(&database_key(&inputs.url)).await;
    let mut inputs = inputs;
    let mut events = Vec::new();
    // 4. A dev-database Deployment made for this resource earlier is used again; one is made when the target's
    //    server refuses a throw-away database.
    if let (DevKind::Scratch, Some(dbs)) = (inputs.dev_kind, env.dev_dbs)
        && let Some(out) = use_dev_db(obj, &old, dbs, &mut inputs, false, &mut events).await
    {
        return out;
    }
    let mut result = plan_and_apply(obj, &inputs).await;
    if let (Err(f), Some(dbs)) = (&result, env.dev_dbs)
        && f.scratch_refused
    {
        if let Some(out) = use_dev_db(obj, &old, dbs, &mut inputs, true, &mut events).await {
            return out;
        }
        result = plan_and_apply(obj, &inputs).await;
    }
    let mut out = match result {
        Ok(out) => out,
        Err(f) => fail(obj, old, f),
    };
    events.append(&mut out.events);
    out.events = events;
    out
}

/// Looks for (with `create`, makes) the resource's dev-database Deployment and points `inputs` at its Ready pod.
/// `None`: go on (with the pod, or as before when there is no Deployment); `Some`: the outcome to return (waiting
/// for the pod, or the API server's error).
async fn use_dev_db(
    obj: &AtlasSchema,
    old: &AtlasSchemaStatus,
    dbs: &dyn DevDbs,
    inputs: &mut SchemaInputs,
    create: bool,
    events: &mut Vec<Event>,
) -> Option<SchemaOutcome> {
    let engine = Engine::of(&inputs.url)?;
    let generation = obj.metadata.generation.unwrap_or(0);
    let deployment = devdb::deployment_name(obj.metadata.name.as_deref().unwrap_or(""));
    let report = match dbs.dev_db(obj, engine, create).await {
        Ok(r) => r?,
        Err(e) => {
            let f = Failure::new(
                GETTING_DEV_DB,
                format!("dev-database Deployment: {}", e.0),
                true,
            );
            let mut out = fail(obj, old.clone(), f);
            events.append(&mut out.events);
            out.events = std::mem::take(events);
            return Some(out);
        }
    };
    if report.created {
        events.push(Event::new(
            EventType::Normal,
            "CreatedDevDB",
            format!(
                "created dev-database Deployment {deployment} ({})",
                engine.label()
            ),
        ));
    }
    if report.scaled_up {
        events.push(Event::new(
            EventType::Normal,
            "ScaledUpDevDB",
            format!("scaled dev-database Deployment {deployment} to one replica"),
        ));
    }
    match report.state {
        DevDbState::Ready(url) => {
            inputs.use_dev(*url, DevKind::Deployment);
            None
        }
        DevDbState::Starting => {
            let detail =
                format!("waiting for a Ready pod of the dev-database Deployment {deployment}");
            events.push(Event::new(
                EventType::Warning,
                GETTING_DEV_DB,
                detail.clone(),
            ));
            Some(SchemaOutcome::new(
                progressing(old.clone(), generation, GETTING_DEV_DB, &detail),
                std::mem::take(events),
                Requeue::After(devdb::STARTING_RECHECK),
            ))
        }
    }
}

/// How long a desired state loaded on a dev database is reused (see [`plan`]).
pub const DESIRED_TTL: Duration = Duration::from_secs(600);
/// Desired states kept at most.
const DESIRED_MAX: usize = 256;

/// One desired state's slot: loaded once at a time (concurrent reconciles of resources sharing it wait for the
/// first load instead of each creating a throw-away database).
type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Loaded)>>>;
type DesiredCache = Mutex<HashMap<String, Slot>>;

/// Desired states loaded on a dev database, by [`SchemaInputs::desired_key`] (desired text, schemas, exclude,
/// vars, and the dev database or server). Loading one means a throw-away database (create, run the SQL, inspect,
/// drop); the desired state does not depend on the target's contents, so an unchanged resource's re-check, and
/// resources sharing one desired state, reuse it for [`DESIRED_TTL`].
fn desired_cache() -> &'static DesiredCache {
    static CACHE: OnceLock<DesiredCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn slot(key: &str) -> Slot {
    let mut c = desired_cache().lock().unwrap_or_else(|e| e.into_inner());
    if c.len() >= DESIRED_MAX && !c.contains_key(key) {
        // Forget slots nobody is loading or reading.
        c.retain(|_, s| Arc::strong_count(s) > 1);
        if c.len() >= DESIRED_MAX {
            c.clear();
        }
    }
    c.entry(key.to_owned()).or_default().clone()
}

/// The plan from the target to the desired state, as `strata schema apply` computes it
/// ([`strata_engine::schema::schema_diff`]: both sides loaded with `schemas`, `exclude` and the HCL variables, the
/// desired one on the dev database; diffed without the `policy.diff.skip` kinds), with the desired side from
/// [`desired_cache`] when it is there.
/// The plan from the target to the desired state; with `drift`, also the changes read the other way (desired →
/// target: what the database has that the desired state does not), for drift reports.
async fn plan(
    obj: &AtlasSchema,
    inputs: &SchemaInputs,
    drift: bool,
) -> Result<(Plan, Option<strata_engine::schema::Changes>), SchemaError> {
    let mut lo = LoadOptions::default();
    lo.dev_url = Some(inputs.dev_url.clone());
    lo.dialect = Some(inputs.url.dialect());
    lo.vars = inputs.vars.clone();
    lo.inspect.schemas.clone_from(&obj.spec.schemas);
    lo.inspect.exclude.clone_from(&obj.spec.exclude);
    let current = schema::load(&Source::from(inputs.url.clone()), &lo).await?;
    let desired = {
        let slot = slot(&inputs.desired_key);
        let mut held = slot.lock().await;
        match held.as_ref().filter(|(at, _)| at.elapsed() < DESIRED_TTL) {
            Some((_, l)) => l.clone(),
            None => {
                let l = schema::load(&inputs.desired, &lo).await?;
                *held = Some((Instant::now(), l.clone()));
                l
            }
        }
    };
    let changes = if drift {
        Some(schema::diff_changes(
            desired.clone(),
            current.clone(),
            &obj.spec.exclude,
        )?)
    } else {
        None
    };
    let plan = schema::diff_loaded_with(
        current,
        desired,
        &obj.spec.exclude,
        &obj.spec.diff_skip().kinds(),
        None,
        &schema::PlanOptions::default().concurrent_index(obj.spec.concurrent_index().plan()),
    )?;
    Ok((plan, changes))
}

/// The hash an approval must carry: the first 16 hex digits of the SHA-256 of the plan's statements, each
/// followed by `;\n`.
pub fn plan_hash(plan: &Plan) -> String {
    let mut h = Sha256::new();
    for s in &plan.statements {
        h.update(s.sql.as_bytes());
        h.update(b";\n");
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One lint finding of a plan, as the pending plan shows it.
struct PlanFinding {
    /// `statement <n>: <code> <message>`.
    line: String,
    error: bool,
}

/// The plan's findings under the statement rules (the plan as the migration file `migrate diff` would write),
/// each named by its statement's 1-based index in the plan.
fn plan_findings(plan: &Plan) -> Vec<PlanFinding> {
    let Ok(file) = plan.to_migration_file() else {
        return Vec::new();
    };
    // Where each statement starts in the file, to name findings by statement.
    let mut starts = Vec::with_capacity(plan.statements.len());
    let mut from = 0;
    for st in &plan.statements {
        // Found: the next search starts after it (a boundary, since the text matched); not found (never with the
        // files `to_migration_file` writes): the statement is taken to start where the search stands.
        let at = match file.get(from..).and_then(|rest| rest.find(&st.sql)) {
            Some(i) => {
                let at = from + i;
                from = at + st.sql.len();
                at
            }
            None => from,
        };
        starts.push(file[..at].matches('\n').count() + 1);
    }
    let report = strata_lint::lint_file(
        plan.dialect,
        "plan.sql",
        &file,
        &strata_lint::Config::default(),
    );
    report
        .findings
        .iter()
        .map(|f| {
            let n = starts
                .iter()
                .rposition(|&l| l <= f.line)
                .map_or(0, |i| i + 1);
            PlanFinding {
                line: format!("statement {n}: {} {}", f.code, f.message),
                error: f.severity == strata_lint::Severity::Error,
            }
        })
        .collect()
}

/// Why the plan waits for the approval annotation, if it does: a destructive plan always does (a plan never loses
/// data silently); `policy.lint.review` adds every plan (`ALWAYS`), plans with findings (`WARNING`) or with
/// errors (`ERROR`).
fn approval_needed(
    destructive: bool,
    review: Option<LintReview>,
    findings: &[PlanFinding],
) -> Option<&'static str> {
    if destructive {
        return Some("is destructive");
    }
    match review? {
        LintReview::Always => Some("needs review (policy.lint.review: ALWAYS)"),
        LintReview::Warning if !findings.is_empty() => {
            Some("has lint findings (policy.lint.review: WARNING)")
        }
        LintReview::Error if findings.iter().any(|f| f.error) => {
            Some("has lint errors (policy.lint.review: ERROR)")
        }
        _ => None,
    }
}

/// `destructive changes detected:` and one line per destructive statement, with what it destroys (a SQLite
/// table copy drops the old table to drop a column: the line says which column).
fn destructive_message(plan: &Plan) -> String {
    let mut m = "destructive changes detected:".to_owned();
    for s in plan.statements.iter().filter(|s| !s.destructive.is_empty()) {
        let losses: Vec<String> = s.destructive.iter().map(ToString::to_string).collect();
        m.push_str(&format!("\n- {} ({})", s.sql, losses.join(", ")));
    }
    m
}

fn plan_and_apply<'a>(
    obj: &'a AtlasSchema,
    inputs: &'a SchemaInputs,
) -> futures::future::BoxFuture<'a, Result<SchemaOutcome, Failure>> {
    Box::pin(plan_and_apply_impl(obj, inputs))
}

async fn plan_and_apply_impl(
    obj: &AtlasSchema,
    inputs: &SchemaInputs,
) -> Result<SchemaOutcome, Failure> {
    let generation = obj.metadata.generation.unwrap_or(0);
    let old = obj.status.clone().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or("");
    let unchanged = old.is_ready() && old.observed_hash == inputs.hash;
    let (plan, drift_changes) = plan(obj, inputs, unchanged)
        .await
        .map_err(|e| plan_failure(&e, inputs))?;

    // Ready and unchanged: never apply; the plan is what drifted.
    if unchanged {
        let mut out = SchemaOutcome::new(old.clone(), vec![], Requeue::Never);
        // Keep the status as written (an idempotent re-check writes nothing), but for the generation.
        if old.observed_generation != generation {
            out.status = ready(
                &old,
                generation,
                &inputs.hash,
                old.last_applied,
                &ready_message(&old),
            );
        }
        out.drift = Some(plan);
        out.drift_changes = drift_changes;
        return Ok(out);
    }

    let now = jiff::Timestamp::now().as_second();
    if plan.is_empty() {
        let json = apply_response(inputs, SchemaApplyReport::default());
        return Ok(SchemaOutcome::new(
            ready(&old, generation, &inputs.hash, now, &applied_message(&json)),
            vec![],
            Requeue::Never,
        ));
    }

    let mut events = Vec::new();
    let destructive = !plan.destructive().is_empty();
    if destructive {
        if old.last_applied == 0 {
            return Err(Failure {
                event: Some(FIRST_RUN_DESTRUCTIVE),
                ..Failure::new(
                    FIRST_RUN_DESTRUCTIVE,
                    format!("{}\n{FIRST_RUN_MESSAGE}", destructive_message(&plan)),
                    false,
                )
            });
        }
        if obj.spec.destructive_error() {
            return Err(Failure::new(
                LINT_POLICY_ERROR,
                destructive_message(&plan),
                false,
            ));
        }
    }
    let review = obj.spec.review();
    let findings = match review {
        Some(_) => plan_findings(&plan),
        None => Vec::new(),
    };
    if let Some(why) = approval_needed(destructive, review, &findings) {
        let hash = plan_hash(&plan);
        let approval = obj
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(APPROVE_ANNOTATION));
        if approval.map(|a| a.trim()) != Some(hash.as_str()) {
            let how = format!(
                "kubectl annotate atlasschema {name} {APPROVE_ANNOTATION}={hash} --overwrite"
            );
            let detail = match approval {
                None => format!(
                    "the plan {hash} {why} and waits for approval (status.pendingPlan); approve it with `{how}`"
                ),
                Some(a) => format!(
                    "the {APPROVE_ANNOTATION} annotation ({:?}) does not match the current plan's hash {hash}; \
                     review status.pendingPlan and approve it with `{how}`",
                    a.chars().take(64).collect::<String>()
                ),
            };
            let mut status = progressing(old.clone(), generation, APPROVAL_PENDING, &detail);
            status.pending_plan = Some(PendingPlan {
                hash: hash.clone(),
                statements: plan.statements.iter().map(|s| s.sql.clone()).collect(),
                destructive: plan.destructive().iter().map(|l| l.to_string()).collect(),
                lint: findings.iter().map(|f| f.line.clone()).collect(),
            });
            return Ok(SchemaOutcome::new(
                status,
                vec![Event::new(EventType::Warning, APPROVAL_PENDING, detail)],
                Requeue::After(APPROVAL_RECHECK),
            ));
        }
        events.push(Event::new(
            EventType::Normal,
            APPROVAL_PENDING,
            format!("plan {hash} approved by the {APPROVE_ANNOTATION} annotation"),
        ));
    }

    let report = schema::apply_plan(&inputs.url, &plan, obj.spec.tx_mode().into())
        .await
        .map_err(|e| apply_failure(&e, inputs))?;
    let applied = report.applied.len();
    let json = apply_response(inputs, report);
    events.push(Event::new(EventType::Normal, APPLIED, "Applied schema"));
    Ok(SchemaOutcome {
        status: ready(&old, generation, &inputs.hash, now, &applied_message(&json)),
        events,
        requeue: Requeue::Never,
        applied_statements: applied,
        failure: None,
        drift: None,
        drift_changes: None,
    })
}

fn ready_message(s: &AtlasSchemaStatus) -> String {
    s.condition("Ready")
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

fn applied_message(json: &str) -> String {
    format!("The schema has been applied successfully. Apply response: {json}")
}

/// Atlas's apply response (`schema apply --format '{{ json . }}'`, no credentials), its planned and applied SQL
/// cut to [`RESPONSE_SQL_LIMIT`] bytes in total.
fn apply_response(inputs: &SchemaInputs, mut report: SchemaApplyReport) -> String {
    let mut budget = RESPONSE_SQL_LIMIT;
    for list in [&mut report.applied, &mut report.pending] {
        let mut kept = Vec::new();
        for s in list.drain(..) {
            if budget == 0 {
                break;
            }
            if s.len() <= budget {
                budget -= s.len();
                kept.push(s);
            } else {
                let mut end = budget;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                kept.push(format!("{}…", &s[..end]));
                budget = 0;
            }
        }
        *list = kept;
    }
    let doc = SchemaApplyJson::new(&inputs.url, report, None);
    let text = serde_json::to_string(&doc).unwrap_or_default();
    inputs.url.scrub(&text)
}

/// Whether a schema error is the desired state's fault (a SQL or HCL error, the wrong number of schemas, …).
fn desired_state_error(e: &SchemaError) -> bool {
    matches!(
        e,
        SchemaError::SqlFile { .. }
            | SchemaError::Hcl(_)
            | SchemaError::Scan(_)
            | SchemaError::NoSchema
            | SchemaError::SchemaCount { .. }
            | SchemaError::DialectMismatch { .. }
            | SchemaError::Dir(_)
            | SchemaError::Sum(_)
    )
}

fn driver_of(e: &SchemaError) -> Option<&DriverError> {
    match e {
        SchemaError::Driver(d) => Some(d),
        _ => None,
    }
}

/// A failure while inspecting, loading or planning.
fn plan_failure(e: &SchemaError, inputs: &SchemaInputs) -> Failure {
    let text = scrub(inputs, &e.to_string());
    if desired_state_error(e) {
        return Failure::new(
            READ_SCHEMA,
            format!("{}: {text}", inputs.desired_label),
            false,
        );
    }
    if let Some(d) = driver_of(e) {
        if inputs.dev_kind == DevKind::Scratch && refused(d) {
            return Failure {
                scratch_refused: true,
                ..Failure::new(
                    GETTING_DEV_DB,
                    format!(
                        "creating a throw-away dev database on the target's server was refused ({text}); set \
                     spec.devURL (or spec.devURLFrom) to an empty database the operator may use, or grant the \
                     target's user the right to create databases (or run the operator with \
                     --dev-db-deployments)"
                    ),
                    false,
                )
            };
        }
        if retryable_driver(d) {
            return Failure::new(SCHEMA_PLAN, text, true);
        }
    }
    if matches!(
        e,
        SchemaError::DevNotClean { .. } | SchemaError::DevRestore { .. }
    ) {
        return Failure::new(GETTING_DEV_DB, text, false);
    }
    Failure::new(SCHEMA_PLAN, text, false)
}

/// A permission error (PostgreSQL `42501`, MySQL `42000` access denied, or the text saying so).
fn refused(d: &DriverError) -> bool {
    match d {
        DriverError::Sql { code, message } => {
            code.as_deref() == Some("42501")
                || message.contains("denied")
                || message.contains("permission")
        }
        _ => false,
    }
}

/// A failure while applying.
fn apply_failure(e: &SchemaError, inputs: &SchemaInputs) -> Failure {
    let transient = driver_of(e).is_some_and(retryable_driver);
    Failure::new(APPLYING_SCHEMA, scrub(inputs, &e.to_string()), transient)
}

/// Removes the target's and dev database's credentials from a message.
fn scrub(inputs: &SchemaInputs, text: &str) -> String {
    inputs.dev_url.scrub(&inputs.url.scrub(text))
}

/// A failure: not-ready with the reason, a Warning event, and a capped exponential retry — or none once `failed`
/// exceeds `backoffLimit` (> 0).
fn fail(obj: &AtlasSchema, old: AtlasSchemaStatus, f: Failure) -> SchemaOutcome {
    let generation = obj.metadata.generation.unwrap_or(0);
    let limit = obj.spec.backoff_limit();
    let exhausted = limit > 0 && old.failed.saturating_add(1) > limit;
    let stalled = !f.transient || exhausted;
    let status = failed(old, generation, f.reason, &f.message, stalled);
    let kind = f
        .event
        .unwrap_or(if f.transient { "TransientErr" } else { "Error" });
    let mut events = vec![Event::new(EventType::Warning, kind, f.message.clone())];
    let requeue = if exhausted {
        events.push(Event::new(
            EventType::Warning,
            "BackoffLimitExceeded",
            "backoff limit exceeded",
        ));
        Requeue::Never
    } else {
        Requeue::After(backoff(status.failed))
    };
    SchemaOutcome {
        status,
        events,
        requeue,
        applied_statements: 0,
        failure: Some(f.reason.to_owned()),
        drift: None,
        drift_changes: None,
    }
}
