//! The `AtlasMigration` custom resource (`db.atlasgo.io/v1alpha1`), field for field compatible with the Atlas
//! Operator's manifests and status (see `operator-spec.md` §3–§4).
//!
//! JSON names are the contract: `observed_hash` is snake_case while `lastApplied` is camelCase, `devURL` is always
//! serialised, and `observed_hash`, `lastApplied` and `failed` are always present in a written status.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResource;
use kube::api::ObjectMeta;
use kube::core::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Default of `spec.envName`.
pub const DEFAULT_ENV_NAME: &str = "kubernetes";
/// Default of `spec.backoffLimit`.
pub const DEFAULT_BACKOFF_LIMIT: i32 = 20;

/// The desired state of an `AtlasMigration`: which migration directory the target database should be at.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "db.atlasgo.io",
    version = "v1alpha1",
    kind = "AtlasMigration",
    plural = "atlasmigrations",
    singular = "atlasmigration",
    namespaced,
    status = "AtlasMigrationStatus",
    derive = "Default",
    derive = "PartialEq",
    doc = "AtlasMigration is the Schema for the atlasmigrations API: a migration directory applied to a database.",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AtlasMigrationSpec {
    /// Target database URL, e.g. `postgres://u:p@host:5432/db?sslmode=disable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Target database URL from a Secret in the same namespace; wins over `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_from: Option<ValueFrom>,
    /// Target database as parts; used when neither `urlFrom` nor `url` is set and the host is not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// Raw `atlas.hcl` project configuration (needs the operator's `allowCustomConfig`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `atlas.hcl` from a Secret; wins over `config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_from: Option<ValueFrom>,
    /// Environment block of the project configuration; also names the deployment environment in run reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = DEFAULT_ENV_NAME))]
    pub env_name: Option<String>,
    /// Input variables of the project configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vars: Vec<Variable>,
    /// A custom dev-database pod.
    #[serde(default, rename = "devDB", skip_serializing_if = "Option::is_none")]
    pub dev_db: Option<DevDb>,
    /// Registry (Atlas Cloud / Strata registry) settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    /// The migration directory: exactly one of `local`, `configMapRef`, `remote`.
    pub dir: Dir,
    /// Dev database URL (always serialised).
    #[serde(default, rename = "devURL")]
    pub dev_url: String,
    /// Dev database URL from a Secret; overrides `devURL`.
    #[serde(
        default,
        rename = "devURLFrom",
        skip_serializing_if = "Option::is_none"
    )]
    pub dev_url_from: Option<ValueFrom>,
    /// Schema of the revisions table (`migration.revisions_schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisions_schema: Option<String>,
    /// Baseline version (`migration.baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Execution order of the files (`migration.exec_order`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_order: Option<ExecOrder>,
    /// Flows that need an explicit opt-in, such as migrating down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_flows: Option<ProtectedFlows>,
    /// Consecutive failures after which retries stop (0 = retry forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = DEFAULT_BACKOFF_LIMIT))]
    pub backoff_limit: Option<i32>,
}

impl AtlasMigrationSpec {
    /// `envName`, defaulted.
    pub fn env_name(&self) -> &str {
        self.env_name.as_deref().unwrap_or(DEFAULT_ENV_NAME)
    }

    /// `backoffLimit`, defaulted.
    pub fn backoff_limit(&self) -> i32 {
        self.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT)
    }

    /// `execOrder`, defaulted.
    pub fn exec_order(&self) -> ExecOrder {
        self.exec_order.unwrap_or_default()
    }

    /// `protectedFlows.migrateDown`, defaulted.
    pub fn migrate_down(&self) -> MigrateDown {
        self.protected_flows
            .as_ref()
            .and_then(|p| p.migrate_down.clone())
            .unwrap_or_default()
    }
}

/// A value read from a Secret: `{secretKeyRef: {name, key}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueFrom {
    /// The Secret key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
}

/// A key of a Secret or ConfigMap in the resource's namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyRef {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// The key to select.
    pub key: String,
    /// Whether the object or its key may be missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// The target database as parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// Driver: `postgres`, `mysql`, `mariadb`, `sqlite`, `sqlserver`, … (aliases accepted, `+suffix` stripped).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scheme: String,
    /// User name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// User name from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_from: Option<ValueFrom>,
    /// Password.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// Password from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_from: Option<ValueFrom>,
    /// Host; a URL is built only when it is not empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// Host from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_from: Option<ValueFrom>,
    /// Port, appended as `host:port` when > 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub port: i32,
    /// Database (URL path; `database=` for `sqlserver`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub database: String,
    /// URL query parameters, e.g. `sslmode: disable`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

/// An input variable of the project configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    /// Variable name.
    pub key: String,
    /// Literal value.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Value from a Secret or ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<VarValueFrom>,
}

/// A variable's source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VarValueFrom {
    /// A Secret key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
    /// A ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
}

/// A custom dev-database pod. Its `spec` is a Pod spec, kept schemaless in the CRD (validated in code) so the CRD
/// stays far below the client-side-apply annotation limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DevDb {
    /// A Pod spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub spec: Option<serde_json::Value>,
}

fn preserve_unknown_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// Registry settings of an `AtlasMigration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cloud {
    /// Registry URL override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Project name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Registry token from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_from: Option<ValueFrom>,
}

/// The migration directory source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dir {
    /// File name → content, the whole directory inline including `atlas.sum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<BTreeMap<String, String>>,
    /// A ConfigMap in the same namespace whose `data` holds the files (incl. `atlas.sum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
    /// A registry directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<Remote>,
}

/// A reference to an object in the same namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    /// Object name.
    #[serde(default)]
    pub name: String,
}

/// A registry directory at a tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Remote {
    /// Directory (repository) name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Tag; empty means the latest.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
}

/// `execOrder`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExecOrder {
    /// Files run in order; a file older than the last applied one is an error.
    #[default]
    Linear,
    /// As `linear`, but older unapplied files are skipped.
    LinearSkip,
    /// Older unapplied files run too.
    NonLinear,
}

impl From<ExecOrder> for strata_engine::ExecOrder {
    fn from(o: ExecOrder) -> Self {
        match o {
            ExecOrder::Linear => Self::Linear,
            ExecOrder::LinearSkip => Self::LinearSkip,
            ExecOrder::NonLinear => Self::NonLinear,
        }
    }
}

/// Protected flows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProtectedFlows {
    /// Migrating down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_down: Option<MigrateDown>,
}

/// `protectedFlows.migrateDown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrateDown {
    /// Allow migrating down.
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub allow: bool,
    /// Migrate down without an approval.
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub auto_approve: bool,
}

/// The observed state of an `AtlasMigration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AtlasMigrationStatus {
    /// `metadata.generation` at the last status write (omitted when 0).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// `Ready`, `Reconciling` and `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The database version after the last success.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_applied_version: String,
    /// Deployment URL (down-migration path only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_deployment_url: String,
    /// Where a pending protected flow is approved.
    #[serde(
        default,
        rename = "approvalUrl",
        skip_serializing_if = "String::is_empty"
    )]
    pub approval_url: String,
    /// Hex SHA-256 of the inputs at the last success (snake_case, always serialised).
    #[serde(default, rename = "observed_hash")]
    pub observed_hash: String,
    /// Unix seconds of the last success (always serialised).
    #[serde(default)]
    pub last_applied: i64,
    /// Consecutive failures (always serialised).
    #[serde(default)]
    #[schemars(extend("default" = 0))]
    pub failed: i32,
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

/// A `metav1.Condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Reconciling` or `Stalled`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// `metadata.generation` the condition was set for.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// RFC 3339 time of the last status change.
    pub last_transition_time: String,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message (may be empty).
    pub message: String,
}

impl AtlasMigrationStatus {
    /// The condition of this type, if set.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Whether `Ready` is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition("Ready").is_some_and(|c| c.status == "True")
    }
}

/// The `CustomResourceDefinition`, as installed by the chart and printed by `strata operator crds`.
///
/// Adjusts what the derive cannot express: the status schema default `{"observedGeneration": -1}`, the
/// `metav1.Condition` validation (enum of `status`, formats) and the required `dir`.
pub fn crd() -> CustomResourceDefinition {
    let mut crd = AtlasMigration::crd();
    let mut value = serde_json::to_value(&crd).expect("a CRD serialises");
    let root = &mut value["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    root["description"] = json!(
        "AtlasMigration is the Schema for the atlasmigrations API: a migration directory applied to a database."
    );
    adjust_status_schema(&mut root["properties"]["status"]);
    crd = serde_json::from_value(value).expect("the adjusted CRD deserialises");
    crd
}

/// What both kinds' status schemas need beyond the derive: the default `{"observedGeneration": -1}` and the
/// `metav1.Condition` validation (enum of `status`, formats, lengths).
pub(crate) fn adjust_status_schema(status: &mut serde_json::Value) {
    status["default"] = json!({"observedGeneration": -1});
    let cond = &mut status["properties"]["conditions"]["items"];
    cond["properties"]["status"]["enum"] = json!(["True", "False", "Unknown"]);
    cond["properties"]["lastTransitionTime"]["format"] = json!("date-time");
    cond["properties"]["observedGeneration"]["minimum"] = json!(0);
    cond["properties"]["reason"]["maxLength"] = json!(1024);
    cond["properties"]["message"]["maxLength"] = json!(32768);
    cond["properties"]["type"]["maxLength"] = json!(316);
}

/// A CRD as committed YAML, with the "generated" header.
pub(crate) fn generated_yaml(crd: &CustomResourceDefinition) -> String {
    let header =
        "# Generated by `strata operator crds`; do not edit. A test fails when this copy drifts.\n";
    let body = serde_saphyr::to_string(crd).expect("a CRD serialises to YAML");
    format!("{header}{body}")
}

/// [`crd()`] as YAML, exactly as committed under `deploy/crds/`.
pub fn crd_yaml() -> String {
    generated_yaml(&crd())
}

/// Every CRD the operator serves (`AtlasMigration`, then `AtlasSchema`), as one multi-document YAML stream:
/// what `strata operator crds` prints.
pub fn crds_yaml() -> String {
    format!(
        "{}---\n{}",
        crd_yaml(),
        crate::atlas_schema::crd::crd_yaml()
    )
}

/// An empty `AtlasMigration` named `name` in `namespace`.
pub fn new_migration(name: &str, namespace: &str, spec: AtlasMigrationSpec) -> AtlasMigration {
    AtlasMigration {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            generation: Some(1),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }
}
