//! The dev-database Deployment (operator-spec §6): the last resort for an `AtlasSchema` whose target server
//! refuses a throw-away database and that names no `devURL`.
//!
//! As Atlas's operator does, a Deployment `<resource>-atlas-dev-db` (one replica, owned by the resource, labels
//! `atlasgo.io/engine` and `app.kubernetes.io/{name=atlas-dev-db,instance,part-of,created-by}`) runs the engine's
//! image, and its pod template's annotation `atlasgo.io/conntmpl` holds the URL with `localhost` where the Ready
//! pod's IP goes (no Service). Unlike Atlas, the password is random per Deployment, and the URL asks for a
//! throw-away database on that server (`strata_dev=scratch`): every load gets a clean database, so the pod is
//! never deleted or scaled down between reconciles to be clean again. While no pod is Ready the resource waits
//! (`GettingDevDB`, rechecked every [`STARTING_RECHECK`]).
//!
//! What needs no API server is here as plain functions ([`deployment`], [`ready_url`]); [`DevDbs`] is the one
//! place that talks to it ([`KubeDevDbs`]), so the reconcile is tested with a stand-in whose "pod" is a real
//! database server.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, ExecAction, Pod, PodSpec, PodTemplateSpec, Probe,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use strata_driver::{DbUrl, Dialect};

use super::AtlasSchema;
use crate::resolve::LookupError;

/// The Deployment's name after the resource's.
pub const NAME_SUFFIX: &str = "-atlas-dev-db";
/// The pod annotation holding the connection template.
pub const CONNTMPL: &str = "atlasgo.io/conntmpl";
/// The label naming the engine.
pub const ENGINE_LABEL: &str = "atlasgo.io/engine";
/// How soon a resource waiting for its dev database looks again.
pub const STARTING_RECHECK: Duration = Duration::from_secs(5);

/// The database engine a dev-database pod runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `postgres:latest`.
    Postgres,
    /// `mysql:latest`.
    Mysql,
    /// `mariadb:latest`.
    Mariadb,
}

impl Engine {
    /// The engine for a target: its dialect, MariaDB when the scheme says so (`maria://`, `mariadb://`). SQLite
    /// needs no pod.
    pub fn of(target: &DbUrl) -> Option<Engine> {
        match target.dialect() {
            Dialect::Postgres => Some(Engine::Postgres),
            Dialect::Mysql if target.parts().scheme.starts_with("maria") => Some(Engine::Mariadb),
            Dialect::Mysql => Some(Engine::Mysql),
            Dialect::Sqlite => None,
        }
    }

    /// The `atlasgo.io/engine` label value (Atlas's driver names).
    pub fn label(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
        }
    }

    fn image(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres:latest",
            Engine::Mysql => "mysql:latest",
            Engine::Mariadb => "mariadb:latest",
        }
    }
}

/// The Deployment's name for the resource `name`.
pub fn deployment_name(name: &str) -> String {
    format!("{name}{NAME_SUFFIX}")
}

fn labels(name: &str, engine: Engine) -> BTreeMap<String, String> {
    [
        (ENGINE_LABEL, engine.label()),
        ("app.kubernetes.io/name", "atlas-dev-db"),
        ("app.kubernetes.io/instance", name),
        ("app.kubernetes.io/part-of", "atlas-operator"),
        ("app.kubernetes.io/created-by", "controller-manager"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The label selector of the resource `name`'s dev-database pods.
pub fn selector(name: &str) -> String {
    format!("app.kubernetes.io/name=atlas-dev-db,app.kubernetes.io/instance={name}")
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..EnvVar::default()
    }
}

/// The dev-database Deployment of `obj` for `engine`, with `password` for the engine's administrator.
pub fn deployment(obj: &AtlasSchema, engine: Engine, password: &str) -> Deployment {
    let name = obj.name_any();
    let labels = labels(&name, engine);
    let (envs, port, probe, template) = match engine {
        Engine::Postgres => (
            vec![
                env("POSTGRES_USER", "root"),
                env("POSTGRES_PASSWORD", password),
                env("POSTGRES_DB", "postgres"),
            ],
            5432,
            // Over TCP: the image's first-start server listens on the socket only, so it never looks ready.
            "pg_isready -h 127.0.0.1 -U root -d postgres",
            format!(
                "postgres://root:{password}@localhost:5432/postgres?sslmode=disable&strata_dev=scratch"
            ),
        ),
        Engine::Mysql => (
            vec![env("MYSQL_ROOT_PASSWORD", password)],
            3306,
            "mysqladmin ping -h 127.0.0.1 -uroot -p\"$MYSQL_ROOT_PASSWORD\"",
            format!("mysql://root:{password}@localhost:3306/?strata_dev=scratch"),
        ),
        Engine::Mariadb => (
            vec![env("MARIADB_ROOT_PASSWORD", password)],
            3306,
            "mariadb-admin ping -h 127.0.0.1 -uroot -p\"$MARIADB_ROOT_PASSWORD\"",
            format!("mariadb://root:{password}@localhost:3306/?strata_dev=scratch"),
        ),
    };
    let owner = OwnerReference {
        api_version: AtlasSchema::api_version(&()).into_owned(),
        kind: AtlasSchema::kind(&()).into_owned(),
        name: name.clone(),
        uid: obj.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    Deployment {
        metadata: ObjectMeta {
            name: Some(deployment_name(&name)),
            namespace: obj.namespace(),
            labels: Some(labels.clone()),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(BTreeMap::from([
                    (
                        "app.kubernetes.io/name".to_owned(),
                        "atlas-dev-db".to_owned(),
                    ),
                    ("app.kubernetes.io/instance".to_owned(), name.clone()),
                ])),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(CONNTMPL.to_owned(), template)])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: engine.label().to_owned(),
                        image: Some(engine.image().to_owned()),
                        env: Some(envs),
                        ports: Some(vec![ContainerPort {
                            container_port: port,
                            ..ContainerPort::default()
                        }]),
                        readiness_probe: Some(Probe {
                            exec: Some(ExecAction {
                                command: Some(vec!["sh".into(), "-c".into(), probe.into()]),
                            }),
                            period_seconds: Some(2),
                            ..Probe::default()
                        }),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The dev URL of the first Ready pod (Running, condition Ready True, an IP, not being deleted, a connection
/// template): the template with `localhost` replaced by the pod's IP.
pub fn ready_url(pods: &[Pod]) -> Option<Result<DbUrl, String>> {
    pods.iter().find_map(|p| {
        if p.metadata.deletion_timestamp.is_some() {
            return None;
        }
        let status = p.status.as_ref()?;
        let ready = status.phase.as_deref() == Some("Running")
            && status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
        let ip = status.pod_ip.as_deref().filter(|ip| !ip.is_empty())?;
        let template = p.metadata.annotations.as_ref()?.get(CONNTMPL)?;
        if !ready {
            return None;
        }
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip.to_owned()
        };
        Some(
            template
                .replacen("@localhost:", &format!("@{host}:"), 1)
                .parse::<DbUrl>()
                .map_err(|e| format!("the {CONNTMPL} annotation of pod {}: {e}", p.name_any())),
        )
    })
}

/// A dev-database Deployment's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevDbState {
    /// No pod is Ready yet.
    Starting,
    /// The dev URL of a Ready pod.
    Ready(Box<DbUrl>),
}

/// What [`DevDbs::dev_db`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevDbReport {
    /// The state.
    pub state: DevDbState,
    /// The Deployment was created now.
    pub created: bool,
    /// The Deployment had no replica and was scaled to one.
    pub scaled_up: bool,
}

/// Dev-database Deployments: the one place that talks to the API server about them.
#[async_trait]
pub trait DevDbs: Send + Sync {
    /// The dev-database Deployment of `obj` for `engine`: `None` when there is none and `create` is false;
    /// created when there is none and `create` is true; scaled up when it has no replica. One of another engine
    /// (the target changed kind) is deleted and treated as absent.
    async fn dev_db(
        &self,
        obj: &AtlasSchema,
        engine: Engine,
        create: bool,
    ) -> Result<Option<DevDbReport>, LookupError>;
}

/// [`DevDbs`] through the API server.
pub struct KubeDevDbs {
    client: Client,
}

impl KubeDevDbs {
    /// Over this client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn api_err(what: &str) -> impl Fn(kube::Error) -> LookupError + '_ {
    move |e| LookupError(format!("{what}: {e}"))
}

/// A random administrator password (128 bits, hex).
fn password() -> String {
    let mut buf = [0u8; 16];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl DevDbs for KubeDevDbs {
    async fn dev_db(
        &self,
        obj: &AtlasSchema,
        engine: Engine,
        create: bool,
    ) -> Result<Option<DevDbReport>, LookupError> {
        let ns = obj.namespace().unwrap_or_else(|| "default".into());
        let name = obj.name_any();
        let dname = deployment_name(&name);
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
        let what = format!("dev-database Deployment {ns}/{dname}");
        let mut found = deployments.get_opt(&dname).await.map_err(api_err(&what))?;
        if let Some(d) = &found {
            let label = d.labels().get(ENGINE_LABEL).map(String::as_str);
            if label != Some(engine.label()) {
                deployments
                    .delete(&dname, &Default::default())
                    .await
                    .map_err(api_err(&what))?;
                found = None;
            }
        }
        let mut report = DevDbReport {
            state: DevDbState::Starting,
            created: false,
            scaled_up: false,
        };
        match found {
            None if !create => return Ok(None),
            None => {
                deployments
                    .create(
                        &PostParams::default(),
                        &deployment(obj, engine, &password()),
                    )
                    .await
                    .map_err(api_err(&what))?;
                report.created = true;
                return Ok(Some(report));
            }
            Some(d) if d.spec.as_ref().and_then(|s| s.replicas) == Some(0) => {
                let scale = serde_json::json!({ "spec": { "replicas": 1 } });
                deployments
                    .patch(&dname, &PatchParams::default(), &Patch::Merge(&scale))
                    .await
                    .map_err(api_err(&what))?;
                report.scaled_up = true;
                return Ok(Some(report));
            }
            Some(_) => {}
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let list = pods
            .list(&ListParams::default().labels(&selector(&name)))
            .await
            .map_err(api_err(&format!("pods of {what}")))?;
        if let Some(url) = ready_url(&list.items) {
            report.state = DevDbState::Ready(Box::new(url.map_err(LookupError)?));
        }
        Ok(Some(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas_schema::crd::{AtlasSchemaSpec, new_schema};
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    fn obj() -> AtlasSchema {
        let mut o = new_schema("app", "shop", AtlasSchemaSpec::default());
        o.metadata.uid = Some("u-1".into());
        o
    }

    fn pod(phase: &str, ready: bool, ip: &str, template: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("app-atlas-dev-db-x".into()),
                annotations: template
                    .map(|t| BTreeMap::from([(CONNTMPL.to_owned(), t.to_owned())])),
                ..ObjectMeta::default()
            },
            status: Some(PodStatus {
                phase: Some(phase.into()),
                pod_ip: Some(ip.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn the_deployment_is_owned_labelled_and_carries_its_template() {
        let d = deployment(&obj(), Engine::Postgres, "pw_secret");
        assert_eq!(d.metadata.name.as_deref(), Some("app-atlas-dev-db"));
        assert_eq!(d.metadata.namespace.as_deref(), Some("shop"));
        let owner = &d.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                owner.kind.as_str(),
                owner.api_version.as_str(),
                owner.uid.as_str()
            ),
            ("AtlasSchema", "db.atlasgo.io/v1alpha1", "u-1")
        );
        assert_eq!(owner.controller, Some(true));
        let spec = d.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(1));
        let template = spec.template.metadata.as_ref().unwrap();
        let tl = template.labels.as_ref().unwrap();
        assert_eq!(tl.get(ENGINE_LABEL).map(String::as_str), Some("postgres"));
        // The selector picks the template's pods, and it is the one the pod list uses.
        for (k, v) in spec.selector.match_labels.as_ref().unwrap() {
            assert_eq!(tl.get(k), Some(v));
            assert!(selector("app").contains(&format!("{k}={v}")));
        }
        let conn = template
            .annotations
            .as_ref()
            .unwrap()
            .get(CONNTMPL)
            .unwrap();
        assert_eq!(
            conn,
            "postgres://root:pw_secret@localhost:5432/postgres?sslmode=disable&strata_dev=scratch"
        );
        let c = &spec.template.spec.as_ref().unwrap().containers[0];
        assert_eq!(c.image.as_deref(), Some("postgres:latest"));
        let probe = c.readiness_probe.as_ref().unwrap().exec.as_ref().unwrap();
        assert!(probe.command.as_ref().unwrap()[2].contains("-h 127.0.0.1"));
        // The password is in the container's environment and the template, never in the probe's command line.
        let d = deployment(&obj(), Engine::Mariadb, "pw_secret");
        let c = &d
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        assert_eq!(c.image.as_deref(), Some("mariadb:latest"));
        let probe = &c
            .readiness_probe
            .as_ref()
            .unwrap()
            .exec
            .as_ref()
            .unwrap()
            .command;
        assert!(!probe.as_ref().unwrap().concat().contains("pw_secret"));
    }

    #[test]
    fn only_a_ready_running_pod_gives_a_url_with_its_ip() {
        let t = "mysql://root:pw@localhost:3306/?strata_dev=scratch";
        assert!(ready_url(&[]).is_none());
        assert!(ready_url(&[pod("Pending", false, "10.0.0.7", Some(t))]).is_none());
        assert!(ready_url(&[pod("Running", false, "10.0.0.7", Some(t))]).is_none());
        assert!(ready_url(&[pod("Running", true, "", Some(t))]).is_none());
        assert!(ready_url(&[pod("Running", true, "10.0.0.7", None)]).is_none());
        let mut going = pod("Running", true, "10.0.0.8", Some(t));
        going.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
        );
        let url = ready_url(&[going, pod("Running", true, "10.0.0.7", Some(t))])
            .unwrap()
            .unwrap();
        assert_eq!(
            url.expose(),
            "mysql://root:pw@10.0.0.7:3306/?strata_dev=scratch"
        );
        let v6 = ready_url(&[pod("Running", true, "fd00::7", Some(t))])
            .unwrap()
            .unwrap();
        assert_eq!(
            v6.expose(),
            "mysql://root:pw@[fd00::7]:3306/?strata_dev=scratch"
        );
        let bad = ready_url(&[pod("Running", true, "10.0.0.7", Some("nope://x"))]).unwrap();
        assert!(bad.unwrap_err().contains(CONNTMPL));
    }

    #[test]
    fn engines_follow_the_target() {
        let e = |u: &str| Engine::of(&u.parse().unwrap());
        assert_eq!(e("postgres://u@h/db"), Some(Engine::Postgres));
        assert_eq!(e("mysql://u@h/db"), Some(Engine::Mysql));
        assert_eq!(e("mariadb://u@h/db"), Some(Engine::Mariadb));
        assert_eq!(e("maria://u@h/db"), Some(Engine::Mariadb));
        assert_eq!(e("sqlite://file.db"), None);
    }
}
