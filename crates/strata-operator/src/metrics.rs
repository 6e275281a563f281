//! Prometheus metrics: reconciles, durations, migrations applied, failures by reason and a ready gauge per
//! resource, rendered in the OpenMetrics text format on `/metrics`.
//!
//! The ready gauge lives as long as its resource: no finalizer is used, so the controller removes it when the watch
//! reports a deletion, when a status write finds the object gone, and when a re-list no longer contains it
//! ([`Metrics::forget`], [`Metrics::retain`]). A reconcile still running when its resource is deleted cannot bring
//! the gauge back: deleted uids are remembered (a bounded list) and ignored by [`Metrics::set_ready`].

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::drift::Kind;

/// `result` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// `ready`, `progressing`, `failed` or `error` (API failure).
    pub result: String,
}

/// `reason` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The Ready reason (`Migrating`, `ReadingMigrationData`, …) or `kube` for API errors.
    pub reason: String,
}

/// `namespace` / `name` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct ResourceLabel {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `AtlasMigration` or `AtlasSchema` (the two kinds may share a name).
    pub kind: String,
}

fn resource(kind: Kind, namespace: &str, name: &str) -> ResourceLabel {
    ResourceLabel {
        namespace: namespace.into(),
        name: name.into(),
        kind: kind.as_str().into(),
    }
}

/// The operator's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Reconciles by result.
    pub reconciles: Family<ResultLabel, Counter>,
    /// Reconcile durations.
    pub duration: Histogram,
    /// Migration files applied.
    pub applied: Counter,
    /// Failures by reason.
    pub failures: Family<ReasonLabel, Counter>,
    /// 1 when a resource is Ready, else 0. Change it through [`Metrics::set_ready`] and [`Metrics::forget`].
    pub ready: Family<ResourceLabel, Gauge>,
    /// Drift checks and the drifted gauge ([`crate::drift`]).
    pub drift: crate::drift::DriftMetrics,
    resources: Mutex<Resources>,
}

/// How many deleted resources are remembered to ignore their late reconciles.
const DELETED_MEMORY: usize = 1024;

/// The resources with a ready gauge, and recently deleted ones.
#[derive(Default)]
struct Resources {
    live: BTreeSet<ResourceLabel>,
    /// `(resource, uid)` of deletions, oldest first.
    deleted: VecDeque<(ResourceLabel, String)>,
}

impl Default for Metrics {
    fn default() -> Self {
        let reconciles = Family::<ResultLabel, Counter>::default();
        let duration =
            Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]);
        let applied = Counter::default();
        let failures = Family::<ReasonLabel, Counter>::default();
        let ready = Family::<ResourceLabel, Gauge>::default();
        let mut r = Registry::with_prefix("strata_operator");
        r.register("reconciles", "Reconciles by result", reconciles.clone());
        r.register(
            "reconcile_duration_seconds",
            "Duration of reconciles (including migration runs)",
            duration.clone(),
        );
        r.register(
            "migrations_applied",
            "Migration files applied",
            applied.clone(),
        );
        r.register(
            "failures",
            "Failed reconciles by Ready reason",
            failures.clone(),
        );
        r.register(
            "resource_ready",
            "1 when the AtlasMigration is Ready",
            ready.clone(),
        );
        let drift = crate::drift::DriftMetrics::default();
        drift.register(&mut r);
        Self {
            registry: Mutex::new(r),
            reconciles,
            duration,
            applied,
            failures,
            ready,
            drift,
            resources: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Records a finished reconcile.
    pub fn reconciled(&self, result: &str, took: Duration) {
        self.reconciles
            .get_or_create(&ResultLabel {
                result: result.into(),
            })
            .inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// Records a failure.
    pub fn failed(&self, reason: &str) {
        self.failures
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// Sets the ready gauge of a resource (`uid` empty when unknown), unless that very object was deleted.
    pub fn set_ready(&self, kind: Kind, namespace: &str, name: &str, uid: &str, ready: bool) {
        let label = resource(kind, namespace, name);
        let mut r = self.resources.lock().expect("metrics resources");
        if !uid.is_empty() && r.deleted.iter().any(|(l, u)| *l == label && u == uid) {
            return;
        }
        self.ready.get_or_create(&label).set(i64::from(ready));
        r.live.insert(label);
    }

    /// Removes the ready gauge of a deleted resource; a reconcile of the same `uid` finishing later does not
    /// bring it back.
    pub fn forget(&self, kind: Kind, namespace: &str, name: &str, uid: &str) {
        let label = resource(kind, namespace, name);
        let mut r = self.resources.lock().expect("metrics resources");
        self.ready.remove(&label);
        self.drift.forget(kind, namespace, name);
        r.live.remove(&label);
        if !uid.is_empty() {
            if r.deleted.len() >= DELETED_MEMORY {
                r.deleted.pop_front();
            }
            r.deleted.push_back((label, uid.to_owned()));
        }
    }

    /// Keeps the ready gauges of `kind`'s resources that `keep(namespace, name)` accepts and removes its others
    /// (after a re-list, for deletions the watch did not see).
    pub fn retain(&self, kind: Kind, keep: impl Fn(&str, &str) -> bool) {
        let mut r = self.resources.lock().expect("metrics resources");
        let gone: Vec<ResourceLabel> = r
            .live
            .iter()
            .filter(|l| l.kind == kind.as_str() && !keep(&l.namespace, &l.name))
            .cloned()
            .collect();
        for l in gone {
            self.ready.remove(&l);
            self.drift.forget(kind, &l.namespace, &l.name);
            r.live.remove(&l);
        }
    }

    /// The OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // A panic elsewhere while the registry was locked leaves it usable; writing to a String cannot fail.
        let r = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::default();
        m.reconciled("ready", Duration::from_millis(20));
        m.failed("Migrating");
        m.applied.inc_by(3);
        m.set_ready(Kind::Migration, "apps", "db", "uid-1", true);
        let text = m.render();
        for want in [
            "strata_operator_reconciles_total{result=\"ready\"} 1",
            "strata_operator_reconcile_duration_seconds_count 1",
            "strata_operator_migrations_applied_total 3",
            "strata_operator_failures_total{reason=\"Migrating\"} 1",
            "strata_operator_resource_ready{namespace=\"apps\",name=\"db\",kind=\"AtlasMigration\"} 1",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
    }

    #[test]
    fn the_ready_gauge_goes_with_its_resource() {
        let m = Metrics::default();
        let line = |name: &str| {
            format!(
                "strata_operator_resource_ready{{namespace=\"apps\",name=\"{name}\",kind=\"AtlasMigration\"}}"
            )
        };
        let schema_line =
            "strata_operator_resource_ready{namespace=\"apps\",name=\"a\",kind=\"AtlasSchema\"} 0";
        const M: Kind = Kind::Migration;
        m.set_ready(M, "apps", "a", "uid-a", true);
        m.set_ready(M, "apps", "b", "uid-b", false);
        m.set_ready(M, "other", "c", "uid-c", true);
        // An AtlasSchema of the same name has a gauge of its own.
        m.set_ready(Kind::Schema, "apps", "a", "uid-s", false);
        assert!(m.render().contains(&line("a")));
        assert!(m.render().contains(schema_line), "{}", m.render());

        // Deleted: gone, and a reconcile of that object finishing late does not bring it back.
        m.forget(M, "apps", "a", "uid-a");
        assert!(!m.render().contains(&line("a")), "{}", m.render());
        assert!(
            m.render().contains(schema_line),
            "the other kind's gauge stays"
        );
        m.set_ready(M, "apps", "a", "uid-a", true);
        assert!(!m.render().contains(&line("a")));
        // A new object under the same name has its own gauge.
        m.set_ready(M, "apps", "a", "uid-a2", true);
        assert!(m.render().contains(&format!("{} 1", line("a"))));

        // A re-list keeps only what still exists, of its own kind.
        m.retain(M, |ns, name| ns != "apps" || name == "a");
        let text = m.render();
        assert!(
            text.contains(&line("a")) && !text.contains(&line("b")),
            "{text}"
        );
        assert!(text.contains("namespace=\"other\",name=\"c\""), "{text}");
        m.retain(Kind::Schema, |_, _| false);
        assert!(!m.render().contains(schema_line));
        assert!(m.render().contains(&line("a")));
    }
}
