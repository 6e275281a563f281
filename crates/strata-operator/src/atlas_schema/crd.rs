//! The `AtlasSchema` custom resource (`db.atlasgo.io/v1alpha1`), field for field compatible with the Atlas
//! Operator's manifests and status (operator-spec §3, §5).
//!
//! JSON names are the contract: the status writes `observed_hash` and **`last_applied`** in snake_case (unlike
//! `AtlasMigration`'s `lastApplied`), and `observed_hash`, `last_applied`, `planURL`, `planLink` and `failed` are
//! always serialised. The policy keeps Atlas's snake_case keys (`concurrent_index`, `add_table`, …).
//!
//! Beyond Atlas, `status.pendingPlan` holds a destructive plan waiting for approval: its statements and its hash.
//! The plan applies once the annotation [`APPROVE_ANNOTATION`] carries that hash.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResource;
use kube::api::ObjectMeta;
use kube::core::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::crd::{
    Condition, Credentials, DEFAULT_BACKOFF_LIMIT, DevDb, KeyRef, ValueFrom, Variable,
};

/// The annotation that approves a pending destructive plan: its value must equal `status.pendingPlan.hash`.
pub const APPROVE_ANNOTATION: &str = "strata.dev/approve";

/// The desired state of an `AtlasSchema`: the schema a database should have.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "db.atlasgo.io",
    version = "v1alpha1",
    kind = "AtlasSchema",
    plural = "atlasschemas",
    singular = "atlasschema",
    namespaced,
    status = "AtlasSchemaStatus",
    derive = "Default",
    derive = "PartialEq",
    doc = "AtlasSchema is the Schema for the atlasschemas API: a desired schema applied to a database.",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AtlasSchemaSpec {
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
    /// Environment block of the project configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_name: Option<String>,
    /// Input variables of an HCL desired state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vars: Vec<Variable>,
    /// A custom dev-database pod.
    #[serde(default, rename = "devDB", skip_serializing_if = "Option::is_none")]
    pub dev_db: Option<DevDb>,
    /// The desired schema: `configMapKeyRef`, `hcl`, `sql` or `url` (in that precedence).
    pub schema: SchemaSource,
    /// Registry settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<SchemaCloud>,
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
    /// Glob patterns of objects to leave alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Schemas to manage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// Transaction mode of the apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_mode: Option<SchemaTxMode>,
    /// Lint and diff policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// Consecutive failures after which retries stop (0 = retry forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = DEFAULT_BACKOFF_LIMIT))]
    pub backoff_limit: Option<i32>,
}

impl AtlasSchemaSpec {
    /// `backoffLimit`, defaulted.
    pub fn backoff_limit(&self) -> i32 {
        self.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT)
    }

    /// `txMode`, defaulted.
    pub fn tx_mode(&self) -> SchemaTxMode {
        self.tx_mode.unwrap_or_default()
    }

    /// `policy.lint.destructive.error`.
    pub fn destructive_error(&self) -> bool {
        self.policy
            .as_ref()
            .and_then(|p| p.lint.as_ref())
            .and_then(|l| l.destructive.as_ref())
            .is_some_and(|d| d.error)
    }

    /// `policy.lint.review`.
    pub fn review(&self) -> Option<LintReview> {
        self.policy
            .as_ref()
            .and_then(|p| p.lint.as_ref())
            .and_then(|l| l.review)
    }

    /// `policy.diff.skip`, defaulted.
    pub fn diff_skip(&self) -> DiffSkip {
        self.policy
            .as_ref()
            .and_then(|p| p.diff.as_ref())
            .and_then(|d| d.skip.clone())
            .unwrap_or_default()
    }

    /// `policy.diff.concurrent_index`, defaulted.
    pub fn concurrent_index(&self) -> ConcurrentIndex {
        self.policy
            .as_ref()
            .and_then(|p| p.diff.as_ref())
            .and_then(|d| d.concurrent_index.clone())
            .unwrap_or_default()
    }
}

/// `spec.schema`: where the desired state comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaSource {
    /// SQL statements, executed on the dev database and inspected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Atlas HCL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hcl: Option<String>,
    /// A registry URL, `atlas://<repo>?tag=<tag>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A ConfigMap key whose name ends in `.sql` or `.hcl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
}

/// Registry settings of an `AtlasSchema` (a different shape from `AtlasMigration`'s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaCloud {
    /// Registry repository for plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Registry token from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_from: Option<ValueFrom>,
}

/// `txMode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SchemaTxMode {
    /// The plan in one transaction where DDL is transactional.
    #[default]
    File,
    /// As `file`: a plan is one unit.
    All,
    /// No transaction.
    None,
}

impl From<SchemaTxMode> for strata_migrate::directive::TxMode {
    fn from(m: SchemaTxMode) -> Self {
        match m {
            SchemaTxMode::File => Self::File,
            SchemaTxMode::All => Self::All,
            SchemaTxMode::None => Self::None,
        }
    }
}

/// `spec.policy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Policy {
    /// Lint policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<PolicyLint>,
    /// Diff policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<PolicyDiff>,
}

/// `spec.policy.lint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyLint {
    /// The destructive-changes check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive: Option<CheckConfig>,
    /// Which plans wait for approval besides destructive ones (Atlas: a registry review; Strata: the
    /// `strata.dev/approve` annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<LintReview>,
}

/// A lint check's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckConfig {
    /// Fail instead of warning.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
}

/// `policy.lint.review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LintReview {
    /// Every plan.
    Always,
    /// Plans with warnings.
    Warning,
    /// Plans with errors.
    Error,
}

/// `spec.policy.diff`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyDiff {
    /// Kinds of change left out of plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<DiffSkip>,
    /// PostgreSQL `CONCURRENTLY` for index changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_index: Option<ConcurrentIndex>,
}

/// `policy.diff.concurrent_index`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConcurrentIndex {
    /// `CREATE INDEX CONCURRENTLY`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create: bool,
    /// `DROP INDEX CONCURRENTLY`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
}

impl ConcurrentIndex {
    /// The planner's option.
    pub fn plan(&self) -> strata_engine::schema::ConcurrentIndex {
        strata_engine::schema::ConcurrentIndex {
            create: self.create,
            drop: self.drop,
        }
    }
}

macro_rules! diff_skip {
    ($($field:ident => $kind:ident: $doc:literal),* $(,)?) => {
        /// `policy.diff.skip`: the 15 `<op>_<object>` flags.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        pub struct DiffSkip {
            $(
                #[doc = $doc]
                #[serde(default, skip_serializing_if = "std::ops::Not::not")]
                pub $field: bool,
            )*
        }

        impl DiffSkip {
            /// The engine's kinds of change the set flags leave out.
            pub fn kinds(&self) -> Vec<strata_engine::schema::SkipKind> {
                let mut out = Vec::new();
                $(
                    if self.$field {
                        out.push(strata_engine::schema::SkipKind::$kind);
                    }
                )*
                out
            }
        }
    };
}

diff_skip! {
    add_schema => AddSchema: "Skip new schemas.",
    drop_schema => DropSchema: "Skip dropped schemas.",
    modify_schema => ModifySchema: "Skip schema attribute changes.",
    add_table => AddTable: "Skip new tables.",
    drop_table => DropTable: "Skip dropped tables.",
    modify_table => ModifyTable: "Skip changes inside tables.",
    add_column => AddColumn: "Skip new columns.",
    drop_column => DropColumn: "Skip dropped columns.",
    modify_column => ModifyColumn: "Skip changed columns.",
    add_index => AddIndex: "Skip new indexes.",
    drop_index => DropIndex: "Skip dropped indexes.",
    modify_index => ModifyIndex: "Skip changed indexes.",
    add_foreign_key => AddForeignKey: "Skip new foreign keys.",
    drop_foreign_key => DropForeignKey: "Skip dropped foreign keys.",
    modify_foreign_key => ModifyForeignKey: "Skip changed foreign keys.",
}

/// The observed state of an `AtlasSchema`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AtlasSchemaStatus {
    /// `metadata.generation` at the last status write (omitted when 0).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// `Ready`, `Reconciling` and `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Hex SHA-256 of the desired-state inputs at the last success (snake_case, always serialised).
    #[serde(default, rename = "observed_hash")]
    pub observed_hash: String,
    /// Unix seconds of the last success (snake_case, always serialised).
    #[serde(default, rename = "last_applied")]
    pub last_applied: i64,
    /// Registry plan URL (Atlas Cloud; always serialised, empty with Strata).
    #[serde(default, rename = "planURL")]
    pub plan_url: String,
    /// Registry plan link (Atlas Cloud; always serialised, empty with Strata).
    #[serde(default, rename = "planLink")]
    pub plan_link: String,
    /// Consecutive failures (always serialised).
    #[serde(default)]
    #[schemars(extend("default" = 0))]
    pub failed: i32,
    /// Strata: a destructive plan waiting for approval by the `strata.dev/approve` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_plan: Option<PendingPlan>,
}

/// A plan waiting for approval (`status.pendingPlan`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingPlan {
    /// The first 16 hex digits of the SHA-256 of the plan's statements (each followed by `;\n`); approve with
    /// `kubectl annotate atlasschema <name> strata.dev/approve=<hash>`.
    pub hash: String,
    /// The statements, in order.
    pub statements: Vec<String>,
    /// What the plan destroys, one line each (`drop table "users"`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destructive: Vec<String>,
    /// The plan's lint findings, one line each (`statement 2: PG101 Creating index …`), when
    /// `policy.lint.review` is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lint: Vec<String>,
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

impl AtlasSchemaStatus {
    /// The condition of this type, if set.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Whether `Ready` is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition("Ready").is_some_and(|c| c.status == "True")
    }
}

/// The `CustomResourceDefinition` of `AtlasSchema`, as installed by the chart and printed by `strata operator
/// crds`, with the same adjustments as [`crate::crd::crd`] (status default, condition validation).
pub fn crd() -> CustomResourceDefinition {
    let crd = AtlasSchema::crd();
    let mut value = serde_json::to_value(&crd).expect("a CRD serialises");
    let root = &mut value["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    root["description"] = json!(
        "AtlasSchema is the Schema for the atlasschemas API: a desired schema applied to a database."
    );
    crate::crd::adjust_status_schema(&mut root["properties"]["status"]);
    serde_json::from_value(value).expect("the adjusted CRD deserialises")
}

/// [`crd()`] as YAML, exactly as committed under `deploy/crds/`.
pub fn crd_yaml() -> String {
    crate::crd::generated_yaml(&crd())
}

/// An `AtlasSchema` named `name` in `namespace` at generation 1.
pub fn new_schema(name: &str, namespace: &str, spec: AtlasSchemaSpec) -> AtlasSchema {
    AtlasSchema {
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
