//! An `AtlasSchema` spec into concrete inputs (operator-spec §3.1, §5.1, §6): the target URL (the same resolution as
//! `AtlasMigration`, [`crate::resolve::target_url_of`]), the desired state, the dev database and `observed_hash`.

use sha2::{Digest, Sha256};
use strata_driver::{DbUrl, Dialect};
use strata_engine::schema::{Source, SqlText, dev};
use strata_hcl::parse::{HclFile, Vars};

use super::crd::AtlasSchemaSpec;
use crate::crd::{AtlasMigrationSpec, Cloud, Dir, Remote};
use crate::resolve::{
    Objects, RefKind, Registry, ResolveError, ResolveSettings, TargetFields, config_map_value,
    custom_config, custom_config_refusal, secret_value, target_url_of, value_from,
};

/// Where the dev database comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevKind {
    /// `devURL` / `devURLFrom`.
    Given,
    /// SQLite target: an in-memory database.
    SqliteMemory,
    /// A throw-away database created on the target's server (`?strata_dev=scratch`).
    Scratch,
    /// A throw-away database on the server of the resource's dev-database Deployment
    /// ([`super::devdb`]).
    Deployment,
}

/// Everything an `AtlasSchema` reconcile needs, resolved from the spec and its references.
#[derive(Clone)]
pub struct SchemaInputs {
    /// Target URL (its `Debug` and `Display` show no credential).
    pub url: DbUrl,
    /// The desired state, ready for the engine.
    pub desired: Source,
    /// Where the desired state came from, for messages (`spec.schema.sql`, `configmap ns/name key "x.sql"`, …).
    pub desired_label: String,
    /// The dev database.
    pub dev_url: DbUrl,
    /// How the dev database was chosen.
    pub dev_kind: DevKind,
    /// Input variables of an HCL desired state.
    pub vars: Vars,
    /// `observed_hash` (see [`schema_hash`]).
    pub hash: String,
    /// What the loaded desired state depends on: [`schema_hash`] without the target, and the dev database (for a
    /// throw-away one, the server: which database it creates does not matter). Resources sharing a desired state
    /// share its load.
    pub desired_key: String,
    /// [`schema_hash`] without the target: the desired state's half of [`Self::desired_key`].
    desired_hash: String,
}

impl SchemaInputs {
    /// Loads the desired state on `url` from now on (a dev-database Deployment's server).
    pub fn use_dev(&mut self, url: DbUrl, kind: DevKind) {
        self.desired_key = desired_key(&self.desired_hash, &url, kind);
        self.dev_url = url;
        self.dev_kind = kind;
    }
}

/// What a loaded desired state depends on: its hash and the dev database (for a throw-away one, the server).
fn desired_key(desired_hash: &str, dev: &DbUrl, kind: DevKind) -> String {
    let dev_part = match kind {
        DevKind::Scratch | DevKind::Deployment => {
            let p = dev.parts();
            format!("{kind:?} {} {} {}", p.scheme, p.host, p.query)
        }
        _ => dev.redacted().to_owned(),
    };
    format!("{desired_hash}|{dev_part}")
}

impl std::fmt::Debug for SchemaInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaInputs")
            .field("url", &self.url.redacted())
            .field("desired", &self.desired_label)
            .field("dev_url", &self.dev_url.redacted())
            .field("dev_kind", &self.dev_kind)
            .field("hash", &self.hash)
            .finish()
    }
}

/// Every Secret and ConfigMap an `AtlasSchema` spec references (all of them, operator-spec §11), sorted, no
/// duplicates.
pub fn references(spec: &AtlasSchemaSpec) -> Vec<(RefKind, String)> {
    crate::resolve::references_of(
        &[
            &spec.url_from,
            &spec.config_from,
            &spec.dev_url_from,
            &spec.cloud.as_ref().and_then(|c| c.token_from.clone()),
        ],
        spec.credentials.as_ref(),
        &spec.vars,
        spec.schema
            .config_map_key_ref
            .as_ref()
            .map(|r| r.name.as_str()),
    )
}

/// `observed_hash`: hex SHA-256 over, each followed by a NUL byte: the target URL, the desired state's kind
/// (`sql`, `hcl`, `url`) and its text (for a registry URL: the URL and the fetched version id, so a moved tag
/// changes it), the `schemas`, the `exclude` patterns and the input variables (`key=value`). Not included: the dev
/// database, `txMode`, the policies and `backoffLimit` (a generation change still triggers a reconcile; the hash
/// drives only the Ready flip). Unlike Atlas it is not a hash of the normalised schema, so a reformatted but
/// equivalent desired state flips Ready once, and then applies an empty plan.
pub fn schema_hash(
    url: &str,
    kind: &str,
    text: &str,
    spec: &AtlasSchemaSpec,
    vars: &Vars,
) -> String {
    let mut h = Sha256::new();
    let mut part = |s: &str| {
        h.update(s.as_bytes());
        h.update([0u8]);
    };
    part(url);
    part(kind);
    part(text);
    part(&spec.schemas.join(","));
    part(&spec.exclude.join(","));
    for (k, v) in vars {
        part(&format!("{k}={v:?}"));
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The desired state as the spec gives it, before loading: its kind, its text and where it came from.
struct Desired {
    kind: &'static str,
    text: String,
    label: String,
    source: Source,
}

/// Resolves every input of an `AtlasSchema` reconcile. (Boxed so the future is proven `Send` once, here.)
pub fn resolve<'a>(
    objects: &'a dyn Objects,
    registry: &'a dyn Registry,
    settings: &'a ResolveSettings,
    ns: &'a str,
    spec: &'a AtlasSchemaSpec,
) -> futures::future::BoxFuture<'a, Result<SchemaInputs, ResolveError>> {
    Box::pin(resolve_impl(objects, registry, settings, ns, spec))
}

async fn resolve_impl(
    objects: &dyn Objects,
    registry: &dyn Registry,
    settings: &ResolveSettings,
    ns: &str,
    spec: &AtlasSchemaSpec,
) -> Result<SchemaInputs, ResolveError> {
    let config = custom_config(objects, ns, &spec.config, &spec.config_from).await?;
    if config.is_some() {
        return Err(custom_config_refusal(
            settings,
            None,
            "url, schema, devURL, exclude, schemas, policy",
        ));
    }
    if spec.dev_db.is_some() && spec.dev_url.is_empty() && spec.dev_url_from.is_none() {
        return Err(ResolveError::invalid(
            "devURL is required when devDB is provided",
        ));
    }
    let url = target_url_of(
        objects,
        ns,
        TargetFields {
            url: &spec.url,
            url_from: &spec.url_from,
            credentials: &spec.credentials,
        },
    )
    .await?
    .ok_or_else(|| ResolveError::missing("no target database defined"))?;
    let db_url = url
        .parse::<DbUrl>()
        .map_err(|e| ResolveError::invalid(e.to_string()))?;
    let vars = variables(objects, ns, spec).await?;
    let desired = desired(objects, registry, settings, ns, spec).await?;
    let (dev_url, dev_kind) = dev_url(objects, ns, spec, &db_url).await?;
    let hash = schema_hash(&url, desired.kind, &desired.text, spec, &vars);
    let desired_hash = schema_hash("", desired.kind, &desired.text, spec, &vars);
    Ok(SchemaInputs {
        desired_key: desired_key(&desired_hash, &dev_url, dev_kind),
        desired_hash,
        url: db_url,
        desired: desired.source,
        desired_label: desired.label,
        dev_url,
        dev_kind,
        vars,
        hash,
    })
}

/// `vars[]` as HCL input variables: a literal value or one read from a Secret / ConfigMap key; a repeated key
/// becomes a list.
async fn variables(
    objects: &dyn Objects,
    ns: &str,
    spec: &AtlasSchemaSpec,
) -> Result<Vars, ResolveError> {
    let mut values: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for v in &spec.vars {
        let value = match &v.value_from {
            Some(f) => {
                if let Some(r) = &f.secret_key_ref {
                    secret_value(objects, ns, r).await?.unwrap_or_default()
                } else if let Some(r) = &f.config_map_key_ref {
                    config_map_value(objects, ns, r).await?.unwrap_or_default()
                } else {
                    v.value.clone()
                }
            }
            None => v.value.clone(),
        };
        values.entry(v.key.clone()).or_default().push(value);
    }
    Ok(values
        .into_iter()
        .map(|(k, mut v)| {
            let value = if v.len() == 1 {
                strata_hcl::parse::Value::String(v.remove(0))
            } else {
                strata_hcl::parse::Value::Array(
                    v.into_iter()
                        .map(strata_hcl::parse::Value::String)
                        .collect(),
                )
            };
            (k, value)
        })
        .collect())
}

/// Go's `filepath.Ext`: the suffix from the last dot of the last path element, or empty.
fn extension(key: &str) -> &str {
    let base = key.rsplit('/').next().unwrap_or(key);
    base.rfind('.').map_or("", |i| &base[i..])
}

fn sql_source(label: &str, text: &str) -> Source {
    Source::Sql(vec![SqlText::new(label, text)])
}

fn hcl_source(label: &str, text: &str) -> Source {
    Source::HclText(vec![HclFile::new(label, text)])
}

/// The desired state, in Atlas's precedence: `configMapKeyRef` → `hcl` → `sql` → `url`.
async fn desired(
    objects: &dyn Objects,
    registry: &dyn Registry,
    settings: &ResolveSettings,
    ns: &str,
    spec: &AtlasSchemaSpec,
) -> Result<Desired, ResolveError> {
    let s = &spec.schema;
    if let Some(r) = &s.config_map_key_ref {
        let ext = extension(&r.key);
        if ext != ".sql" && ext != ".hcl" {
            return Err(ResolveError::invalid(format!(
                "configmaps key \"{}\" must be ending with .sql or .hcl, received \"{ext}\"",
                r.key
            )));
        }
        let text = config_map_value(objects, ns, r).await?.unwrap_or_default();
        let label = format!("configmap {ns}/{} key {}", r.name, r.key);
        return Ok(if ext == ".sql" {
            Desired {
                kind: "sql",
                source: sql_source(&label, &text),
                text,
                label,
            }
        } else {
            Desired {
                kind: "hcl",
                source: hcl_source(&label, &text),
                text,
                label,
            }
        });
    }
    if let Some(text) = s.hcl.as_ref().filter(|t| !t.is_empty()) {
        let label = "spec.schema.hcl".to_owned();
        return Ok(Desired {
            kind: "hcl",
            source: hcl_source(&label, text),
            text: text.clone(),
            label,
        });
    }
    if let Some(text) = s.sql.as_ref().filter(|t| !t.is_empty()) {
        let label = "spec.schema.sql".to_owned();
        return Ok(Desired {
            kind: "sql",
            source: sql_source(&label, text),
            text: text.clone(),
            label,
        });
    }
    if let Some(u) = s.url.as_ref().filter(|t| !t.is_empty()) {
        return remote(objects, registry, settings, ns, spec, u).await;
    }
    Err(ResolveError::invalid(
        "no desired schema specified: set one of spec.schema.sql, spec.schema.hcl, \
         spec.schema.configMapKeyRef or spec.schema.url",
    ))
}

/// `schema.url`: only `atlas://<repo>?tag=<tag>`, a directory of the Strata registry fetched through the
/// [`Registry`] seam (as `AtlasMigration`'s `dir.remote`), whose migration files, replayed on the dev database,
/// are the desired state.
async fn remote(
    objects: &dyn Objects,
    registry: &dyn Registry,
    settings: &ResolveSettings,
    ns: &str,
    spec: &AtlasSchemaSpec,
    url: &str,
) -> Result<Desired, ResolveError> {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    if scheme != "atlas" {
        return Err(ResolveError::invalid(format!(
            "unsupported URL schema \"{scheme}\""
        )));
    }
    let rest = &url["atlas://".len()..];
    let (repo, query) = rest.split_once('?').unwrap_or((rest, ""));
    let tag = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("tag="))
        .unwrap_or_default();
    let token_from = spec.cloud.as_ref().and_then(|c| c.token_from.clone());
    let Some(token_ref) = token_from.as_ref().and_then(|t| t.secret_key_ref.clone()) else {
        return Err(ResolveError::invalid(format!(
            "spec.schema.url {url:?} is a registry URL: set spec.cloud.tokenFrom to the Secret key holding the \
             registry token"
        )));
    };
    let source = format!("secret {ns}/{} key \"{}\"", token_ref.name, token_ref.key);
    let token = secret_value(objects, ns, &token_ref)
        .await?
        .unwrap_or_default();
    // The same request as an AtlasMigration's `dir.remote` with this repository and tag.
    let as_migration = AtlasMigrationSpec {
        cloud: Some(Cloud {
            token_from,
            ..Cloud::default()
        }),
        dir: Dir {
            remote: Some(Remote {
                name: repo.to_owned(),
                tag: tag.to_owned(),
            }),
            ..Dir::default()
        },
        env_name: spec.env_name.clone(),
        ..AtlasMigrationSpec::default()
    };
    let req = crate::registry::remote_request(&as_migration, settings, &source).map_err(|e| {
        let mut e = ResolveError::from(e);
        e.message = e
            .message
            .replace("spec.dir.remote.name", "spec.schema.url")
            .replace("spec.dir.remote.tag", "spec.schema.url");
        e
    })?;
    if token.trim().is_empty() {
        return Err(ResolveError::invalid(format!(
            "the registry token in {source} is empty; put a token for project {:?} there",
            req.project
        )));
    }
    let fetched = registry.fetch(&req, &token).await?;
    let files = replay_files(&fetched.dir).map_err(ResolveError::invalid)?;
    let label = url.to_owned();
    Ok(Desired {
        kind: "url",
        text: format!("{url}\n{}", fetched.version),
        source: Source::Sql(files),
        label,
    })
}

/// A registry directory's files from its last checkpoint, in order, as the SQL texts the dev database runs.
fn replay_files(d: &strata_migrate::MigrationDir) -> Result<Vec<SqlText>, String> {
    strata_migrate::sum::validate(d).map_err(|e| e.to_string())?;
    let start = strata_migrate::replay::start(d.files()).map_err(|e| e.to_string())?;
    d.files()[start..]
        .iter()
        .map(|f| {
            let text = f.text().map_err(|e| e.to_string())?;
            Ok(SqlText::new(format!("{}/{}", d.location(), f.name()), text))
        })
        .collect()
}

/// The dev database: `devURLFrom` → `devURL` → SQLite in memory for a SQLite target → a throw-away database on
/// the target's server (`?strata_dev=scratch`, which needs the right to `CREATE DATABASE`).
async fn dev_url(
    objects: &dyn Objects,
    ns: &str,
    spec: &AtlasSchemaSpec,
    target: &DbUrl,
) -> Result<(DbUrl, DevKind), ResolveError> {
    let given = match value_from(objects, ns, &spec.dev_url_from).await? {
        Some(u) => Some(u),
        None => Some(spec.dev_url.clone()).filter(|u| !u.is_empty()),
    };
    if let Some(u) = given {
        let url = u
            .parse::<DbUrl>()
            .map_err(|e| ResolveError::invalid(format!("spec.devURL: {e}")))?;
        return Ok((url, DevKind::Given));
    }
    if target.dialect() == Dialect::Sqlite {
        let url = dev::SQLITE_DEV_URL
            .parse::<DbUrl>()
            .map_err(|e| ResolveError::invalid(e.to_string()))?;
        return Ok((url, DevKind::SqliteMemory));
    }
    let raw = target.expose();
    let (head, fragment) = raw.split_once('#').map_or((raw, ""), |(h, f)| (h, f));
    let sep = if head.contains('?') { '&' } else { '?' };
    let mut text = format!("{head}{sep}{}=scratch", dev::SCRATCH_PARAM);
    if !fragment.is_empty() {
        text.push('#');
        text.push_str(fragment);
    }
    let url = text
        .parse::<DbUrl>()
        .map_err(|e| ResolveError::invalid(e.to_string()))?;
    Ok((url, DevKind::Scratch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::StaticObjects;

    #[test]
    fn extension_is_gos_filepath_ext() {
        assert_eq!(extension("schema.sql"), ".sql");
        assert_eq!(extension("a/b.c/schema"), "");
        assert_eq!(extension("schema.txt"), ".txt");
        assert_eq!(extension("schema"), "");
    }

    #[tokio::test]
    async fn dev_url_defaults_to_memory_for_sqlite_and_scratch_for_servers() {
        let objs = StaticObjects::default();
        let spec = AtlasSchemaSpec::default();
        let sqlite: DbUrl = "sqlite://x.db".parse().unwrap();
        let (u, k) = dev_url(&objs, "ns", &spec, &sqlite).await.unwrap();
        assert_eq!(
            (u.redacted(), k),
            ("sqlite://dev?mode=memory", DevKind::SqliteMemory)
        );
        let pg: DbUrl = "postgres://u:pw@h:5432/app?sslmode=disable"
            .parse()
            .unwrap();
        let (u, k) = dev_url(&objs, "ns", &spec, &pg).await.unwrap();
        assert_eq!(k, DevKind::Scratch);
        assert_eq!(u.query_param("strata_dev").as_deref(), Some("scratch"));
        assert_eq!(u.query_param("sslmode").as_deref(), Some("disable"));
        let given = AtlasSchemaSpec {
            dev_url: "postgres://h/dev".into(),
            ..AtlasSchemaSpec::default()
        };
        let (_, k) = dev_url(&objs, "ns", &given, &pg).await.unwrap();
        assert_eq!(k, DevKind::Given);
    }
}
