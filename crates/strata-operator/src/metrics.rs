//! Prometheus metrics: reconciles, durations, migrations applied, failures by reason and a ready gauge per
//! resource, rendered in the OpenMetrics text format on `/metrics`.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabel {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
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
    /// 1 when a resource is Ready, else 0.
    pub ready: Family<ResourceLabel, Gauge>,
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
        Self {
            registry: Mutex::new(r),
            reconciles,
            duration,
            applied,
            failures,
            ready,
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

    /// Sets the ready gauge of a resource.
    pub fn set_ready(&self, namespace: &str, name: &str, ready: bool) {
        self.ready
            .get_or_create(&ResourceLabel {
                namespace: namespace.into(),
                name: name.into(),
            })
            .set(i64::from(ready));
    }

    /// The OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let r = self.registry.lock().expect("metrics registry");
        prometheus_client::encoding::text::encode(&mut out, &r).expect("encoding to a String");
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
        m.set_ready("apps", "db", true);
        let text = m.render();
        for want in [
            "strata_operator_reconciles_total{result=\"ready\"} 1",
            "strata_operator_reconcile_duration_seconds_count 1",
            "strata_operator_migrations_applied_total 3",
            "strata_operator_failures_total{reason=\"Migrating\"} 1",
            "strata_operator_resource_ready{namespace=\"apps\",name=\"db\"} 1",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
    }
}
