//! `reconcile` as the controller runs it, without a cluster: Secrets and ConfigMaps in memory, real databases
//! (SQLite files, PostgreSQL when reachable), and the checks the tests make on an [`Outcome`].

use std::time::Duration;

use strata_driver::testing::{self, TestDb};
use strata_operator::resolve::StaticObjects;
use strata_operator::{
    AtlasMigration, DatabaseLocks, Env, Outcome, RegistryClient, Requeue, ResolveSettings,
    reconcile,
};

use super::objects::NS;

/// What `reconcile` reads besides the object: Secrets / ConfigMaps, the operator's settings, its per-database
/// locks, and a private directory for SQLite lock files.
pub struct Harness {
    pub objects: StaticObjects,
    pub settings: ResolveSettings,
    pub locks: DatabaseLocks,
    pub lock_root: tempfile::TempDir,
}

impl Harness {
    /// Over `objects` with `settings`.
    pub fn new(objects: StaticObjects, settings: ResolveSettings) -> Self {
        Self {
            objects,
            settings,
            locks: DatabaseLocks::default(),
            lock_root: tempfile::tempdir().unwrap(),
        }
    }

    /// For a local directory: Secret `db` holds the target `url` (see `objects::local_migration`).
    pub fn local(url: &str) -> Self {
        Self::new(
            StaticObjects::default().with_secret(NS, "db", &[("url", url)]),
            ResolveSettings::default(),
        )
    }

    /// For a remote directory (see `objects::remote_migration`): target `url`, registry `token`, and the
    /// operator's `--registry` (None: not set).
    pub fn remote(url: &str, token: &str, registry: Option<&str>) -> Self {
        Self::new(
            StaticObjects::default()
                .with_secret(NS, "postgres-credentials", &[("url", url)])
                .with_secret(NS, "atlas-credentials", &[("token", token)]),
            ResolveSettings {
                registry: registry.map(Into::into),
                ..ResolveSettings::default()
            },
        )
    }

    /// The reconcile's environment over this harness (what `step` passes; drift checks take it too).
    pub fn env(&self) -> Env<'_> {
        Env {
            objects: &self.objects,
            registry: &RegistryClient,
            settings: &self.settings,
            locks: &self.locks,
            sqlite_lock_root: Some(self.lock_root.path().to_owned()),
            lock_timeout: Duration::from_secs(2),
            cancel: Default::default(),
            dev_dbs: None,
        }
    }

    /// One reconcile; the written status goes back into the object, as the controller would.
    pub async fn step(&self, obj: &mut AtlasMigration) -> Outcome {
        let env = Env {
            objects: &self.objects,
            registry: &RegistryClient,
            settings: &self.settings,
            locks: &self.locks,
            sqlite_lock_root: Some(self.lock_root.path().to_owned()),
            lock_timeout: Duration::from_secs(2),
            cancel: Default::default(),
            dev_dbs: None,
        };
        let out = reconcile(obj, &env).await;
        obj.status = Some(out.status.clone());
        out
    }

    /// Reconciles until the outcome is not "requeue now" (five times at most); returns every outcome.
    pub async fn settle(&self, obj: &mut AtlasMigration) -> Vec<Outcome> {
        let mut outs = Vec::new();
        for _ in 0..5 {
            let out = self.step(obj).await;
            let again = out.requeue == Requeue::Now;
            outs.push(out);
            if !again {
                break;
            }
        }
        outs
    }
}

/// The Ready condition: (status, reason, message).
pub fn ready(o: &Outcome) -> (String, String, String) {
    let c = o.status.condition("Ready").expect("Ready condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

/// The events, as `<type> <reason> <note>`.
pub fn events(o: &Outcome) -> Vec<String> {
    o.events.iter().map(ToString::to_string).collect()
}

/// Everything a user could see of an outcome: status (conditions included) and events.
pub fn visible(o: &Outcome) -> String {
    format!(
        "{} {:?}",
        serde_json::to_string(&o.status).unwrap(),
        events(o)
    )
}

/// The targets a test runs on, each with the schema its tables land in: a SQLite file, and PostgreSQL when
/// reachable (failing under `CI=true` when not).
pub async fn targets() -> Vec<(&'static str, TestDb)> {
    let mut v = vec![("main", testing::sqlite())];
    if let Some(pg) = testing::postgres().await {
        v.push(("public", pg));
    }
    v
}

/// Whether `schema.table` exists in the database at `url`.
pub async fn has_table(url: &str, schema: &str, table: &str) -> bool {
    let mut drv = strata_driver::connect(&url.parse::<strata_driver::DbUrl>().unwrap())
        .await
        .unwrap();
    let exists = drv.table_exists(schema, table).await.unwrap();
    drv.close().await.unwrap();
    exists
}
