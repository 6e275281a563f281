//! `strata registry …` (serve, tokens, project settings), `strata migrate push`, and `strata://` / `atlas://`
//! directories for `migrate apply` and `migrate status`.

use clap::{Args, Subcommand, ValueEnum};
use strata_engine::report::ApplyReport;
use strata_migrate::MigrationDir;
use strata_registry::server::Config;
use strata_registry::upload::Limits;
use strata_registry_client::{Client, ClientError, DirUrl, Ref};

use crate::cli::DirArgs;
use crate::output::{self, CliError};
use crate::runtime::Runtime;

/// Where the registry is and how to authenticate (for `--dir strata://…` and `migrate push`).
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Registry base URL, e.g. http://127.0.0.1:8080 (for --dir strata://… and migrate push).
    #[arg(long, env = "STRATA_REGISTRY", hide_env_values = true)]
    pub registry: Option<String>,
    /// Registry token (never printed).
    #[arg(long, env = "STRATA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `strata registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCmd {
    /// Run the registry server (REST API, web UI, /healthz, /metrics).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "STRATA_REGISTRY_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Registry database: sqlite://PATH (embedded, default registry.db) or postgres://… (shared by replicas).
        #[arg(
            long,
            env = "STRATA_REGISTRY_DB",
            default_value = "sqlite://registry.db",
            hide_env_values = true
        )]
        db: String,
        /// Largest push accepted, in bytes.
        #[arg(long, default_value_t = Limits::default().max_upload_bytes)]
        max_upload_bytes: usize,
        /// Most request-body bytes read and processed at once across all requests; pushes beyond it wait
        /// (default: twice --max-upload-bytes). A push needs about 3 times its body in memory.
        #[arg(long)]
        max_upload_bytes_in_flight: Option<usize>,
        /// Log format.
        #[arg(long, value_enum, default_value = "text")]
        log_format: LogFormat,
        /// Mark the web UI's session cookie Secure (when served over HTTPS behind a proxy).
        #[arg(long)]
        secure_cookies: bool,
        /// How long a verified token is trusted before it is checked against the database again: a revocation
        /// (on another replica or with `registry token revoke`) reaches this server within this time; 0 checks
        /// every request.
        #[arg(long, default_value = "5s", value_parser = crate::cli::parse_duration)]
        token_cache_ttl: std::time::Duration,
    },
    /// Manage tokens directly on the registry database.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Change a project's settings directly on the registry database.
    Project {
        /// The project (created if missing).
        name: String,
        /// Registry database URL.
        #[arg(long, env = "STRATA_REGISTRY_DB", hide_env_values = true)]
        db: String,
        /// Make tags other than `latest` immutable (true) or movable (false).
        #[arg(long)]
        immutable_tags: Option<bool>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `strata registry token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token; it is printed once, as the last line.
    Create {
        /// Registry database URL.
        #[arg(long, env = "STRATA_REGISTRY_DB", hide_env_values = true)]
        db: String,
        /// The project the token belongs to (created if missing).
        #[arg(long)]
        project: String,
        /// Scopes: read, push, report, admin (comma-separated; admin implies the others).
        #[arg(long, default_value = "read")]
        scope: String,
        /// A label shown in listings.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List a project's tokens (never their secrets).
    List {
        /// Registry database URL.
        #[arg(long, env = "STRATA_REGISTRY_DB", hide_env_values = true)]
        db: String,
        /// The project.
        #[arg(long)]
        project: String,
    },
    /// Revoke a token by id.
    Revoke {
        /// Registry database URL.
        #[arg(long, env = "STRATA_REGISTRY_DB", hide_env_values = true)]
        db: String,
        /// The project.
        #[arg(long)]
        project: String,
        /// The token id (as listed).
        id: String,
    },
}

fn reg_err(e: strata_registry::RegistryError) -> CliError {
    CliError::Registry(e)
}

fn client_err(e: impl Into<ClientError>) -> CliError {
    CliError::Client(e.into())
}

pub fn run(cmd: RegistryCmd, rt: &Runtime) -> Result<(), CliError> {
    match cmd {
        RegistryCmd::Serve {
            addr,
            db,
            max_upload_bytes,
            max_upload_bytes_in_flight,
            log_format,
            secure_cookies,
            token_cache_ttl,
        } => {
            strata_registry::server::init_logging(matches!(log_format, LogFormat::Json));
            let mut limits = Limits::with_max_upload_bytes(max_upload_bytes);
            if let Some(n) = max_upload_bytes_in_flight {
                limits.max_upload_bytes_in_flight = n;
            }
            let config = Config {
                limits,
                secure_cookies,
                token_cache_ttl,
            };
            rt.block_on(strata_registry::server::run(&addr, &db, config))?
                .map_err(reg_err)
        }
        RegistryCmd::Token(t) => rt.block_on(token(t))?,
        RegistryCmd::Project {
            name,
            db,
            immutable_tags,
        } => rt.block_on(async {
            let store = strata_registry::open_store(&db).await.map_err(reg_err)?;
            let mut p = store.ensure_project(&name).await.map_err(reg_err)?;
            if let Some(on) = immutable_tags {
                p = store.set_immutable_tags(&name, on).await.map_err(reg_err)?;
            }
            output::out(&format!(
                "project {:?}: tags {}\n",
                p.name,
                if p.immutable_tags {
                    "immutable (except latest)"
                } else {
                    "movable"
                }
            ))
        })?,
    }
}

async fn token(cmd: TokenCmd) -> Result<(), CliError> {
    match cmd {
        TokenCmd::Create {
            db,
            project,
            scope,
            name,
        } => {
            let scopes = scope.parse().map_err(client_err)?;
            let store = strata_registry::open_store(&db).await.map_err(reg_err)?;
            let (info, token) =
                strata_registry::auth::create_token(store.as_ref(), &project, &name, scopes)
                    .await
                    .map_err(reg_err)?;
            output::out(&format!(
                "Created token {} for project {:?} with scopes {}. It is shown only now:\n{token}\n",
                info.id, info.project, info.scopes
            ))
        }
        TokenCmd::List { db, project } => {
            let store = strata_registry::open_store(&db).await.map_err(reg_err)?;
            let list = store.tokens(&project).await.map_err(reg_err)?;
            let mut s = format!(
                "{:<14}{:<20}{:<26}{:<25}{}\n",
                "ID", "NAME", "SCOPES", "CREATED", "REVOKED"
            );
            for t in list {
                s.push_str(&format!(
                    "{:<14}{:<20}{:<26}{:<25}{}\n",
                    t.id,
                    t.name,
                    t.scopes.to_string(),
                    t.created_at.human(),
                    t.revoked_at
                        .map(|r| r.human())
                        .unwrap_or_else(|| "-".into())
                ));
            }
            output::out(&s)
        }
        TokenCmd::Revoke { db, project, id } => {
            let store = strata_registry::open_store(&db).await.map_err(reg_err)?;
            if store.revoke_token(&project, &id).await.map_err(reg_err)? {
                output::out(&format!("Revoked token {id} of project {project:?}.\n"))
            } else {
                Err(CliError::NoSuchToken { project, id })
            }
        }
    }
}

fn client(args: &RegistryArgs) -> Result<Client, CliError> {
    let base = args.registry.as_deref().ok_or(CliError::NoRegistry)?;
    Client::new(base, args.token.clone()).map_err(client_err)
}

/// What `migrate push` sends besides the directory.
pub struct PushExtras {
    /// `--git-tag`: also tag the version with the current commit.
    pub git_tag: bool,
    /// `--lint-report FILE`: `migrate lint --format json`'s output, kept with the version.
    pub lint_report: Option<std::path::PathBuf>,
    /// `--dev-url URL`: replay the directory there and push the schema it builds.
    pub dev_url: Option<String>,
}

/// Reads `--lint-report FILE`: a JSON object with a `Files` list, as `migrate lint --format json` prints it.
fn read_lint_report(path: &std::path::Path) -> Result<serde_json::Value, CliError> {
    let bad = |reason: String| CliError::LintReportFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "not JSON (line {}, column {}: {e})",
            e.line(),
            e.column()
        ))
    })?;
    if !v.get("Files").is_some_and(serde_json::Value::is_array) {
        return Err(bad("it has no \"Files\" list".into()));
    }
    Ok(v)
}

/// The schema `d` builds, replayed on the dev database `url` (through the replay cache, as `migrate diff`
/// does), as the schema model's JSON.
fn replayed_model(
    d: &MigrationDir,
    url: &str,
    rt: &Runtime,
) -> Result<serde_json::Value, CliError> {
    use strata_engine::schema::{self, DevDatabase, ReplayCache, ReplayOptions, SchemaError};
    let url = url
        .parse::<strata_engine::DbUrl>()
        .map_err(SchemaError::from)?;
    let realm = rt.block_on(async {
        let mut dev = DevDatabase::open(&url).await?;
        let opts = ReplayOptions::default().cache(ReplayCache::from_env());
        let r = schema::replay::replay(&mut dev, d, &opts).await;
        let closed = dev.close().await;
        let r = r?;
        closed?;
        Ok::<_, SchemaError>(r.realm)
    })??;
    serde_json::to_value(&realm).map_err(|e| CliError::Io {
        context: "encoding the replayed schema".into(),
        source: std::io::Error::other(e),
    })
}

/// `strata migrate push NAME[:TAG]`.
pub fn push(
    name: &str,
    dir: &DirArgs,
    registry: &RegistryArgs,
    extras: PushExtras,
    rt: &Runtime,
) -> Result<(), CliError> {
    let PushExtras {
        git_tag,
        lint_report,
        dev_url,
    } = extras;
    let (name, tag) = match name.rsplit_once(':') {
        Some((n, t)) => (n, t),
        None => (name, strata_registry_client::LATEST),
    };
    let (project, dir_name) = strata_registry_client::parse_name(name).map_err(client_err)?;
    let path = strata_migrate::dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref())?;
    let d = MigrationDir::open(&path)?;
    // Refuse locally what the registry would refuse, with the same advice.
    if let Err(e) = strata_migrate::sum::validate(&d) {
        output::print_sum_block(&e, &output::invoked_as())?;
        return Err(CliError::Sum(e));
    }
    let mut tags = vec![tag.to_owned()];
    if git_tag {
        tags.push(git_commit(&path)?);
    }
    let lint_report = lint_report.as_deref().map(read_lint_report).transpose()?;
    let model = dev_url
        .as_deref()
        .map(|u| replayed_model(&d, u, rt))
        .transpose()?;
    let c = client(registry)?;
    let out = rt
        .block_on(c.push_with(&project, &dir_name, &d, &tags, lint_report, model))?
        .map_err(client_err)?;
    output::out(&format!(
        "{} {project}/{dir_name} version {} ({} files, last migration {}) tagged {}\n",
        if out.created {
            "Pushed"
        } else {
            "Already stored:"
        },
        out.version.id,
        out.version.files,
        out.version.last_migration,
        out.tags.join(", ")
    ))
}

fn git_commit(path: &std::path::Path) -> Result<String, CliError> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args(["rev-parse", "HEAD"])
        .output()
        .map_err(|source| CliError::Io {
            context: "running git for --git-tag".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(CliError::GitTag {
            path: path.to_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A directory for `migrate apply` / `status`: from disk, or fetched from the registry.
pub struct Source {
    pub dir: MigrationDir,
    remote: Option<Remote>,
}

struct Remote {
    client: Client,
    url: DirUrl,
    version: String,
}

/// Opens `--dir`: `file://…` from disk (on a blocking thread, so a session can open meanwhile; through
/// [`strata_engine::cache::open_dir`]), `strata://…` /
/// `atlas://…` from the registry.
/// The local folder `dir` names, when it names one (not a registry directory, and a valid `file://` URL).
pub fn local_dir(dir: &DirArgs) -> Option<std::path::PathBuf> {
    if DirUrl::is_registry(&dir.dir) {
        return None;
    }
    strata_migrate::dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref()).ok()
}

pub async fn open_dir(dir: &DirArgs, registry: &RegistryArgs) -> Result<Source, CliError> {
    if !DirUrl::is_registry(&dir.dir) {
        let path = strata_migrate::dir::local_path_from_url(&dir.dir, dir.dir_format.as_deref())?;
        // Unchanged files come from the directory's snapshot in the user's cache: a re-run stats them instead of
        // reading them.
        let d = tokio::task::spawn_blocking(move || strata_engine::cache::open_dir(&path))
            .await
            .map_err(|_| CliError::DirReader)??;
        return Ok(Source {
            dir: d,
            remote: None,
        });
    }
    let url = DirUrl::parse(&dir.dir).map_err(client_err)?;
    let c = client(registry)?;
    let fetched = c
        .fetch(&url.project, &url.dir, &url.reference)
        .await
        .map_err(client_err)?;
    Ok(Source {
        dir: fetched.dir,
        remote: Some(Remote {
            client: c,
            url,
            version: fetched.version.id,
        }),
    })
}

impl AsRef<MigrationDir> for Source {
    fn as_ref(&self) -> &MigrationDir {
        &self.dir
    }
}

impl Source {
    /// After an apply from the registry, reports the run (target without credentials) as the shared mapping
    /// decides ([`strata_registry_client::deployment()`]): a lock timeout is not reported (nothing ran; the error is
    /// printed), a failed or cancelled run is `failed` with its error. `target_url` is the URL as given, also when
    /// it did not parse (the driver's redaction reads any text). A failed report is a warning: the migration itself
    /// already happened.
    pub async fn report(
        &self,
        target_url: &str,
        result: Result<&ApplyReport, &strata_engine::EngineError>,
    ) {
        let Some(r) = &self.remote else { return };
        let tag = match &r.url.reference {
            Ref::Tag(t) => Some(t.as_str()),
            Ref::Version(_) => None,
        };
        let Some(d) = strata_registry_client::deployment(
            &r.url.dir,
            target_url,
            tag,
            Some(&r.version),
            result,
        ) else {
            return;
        };
        if let Err(e) = r.client.report(&r.url.project, &d).await {
            eprintln!(
                "Warning: the deployment was not reported to the registry: {}",
                crate::output::escape_controls(&e.to_string())
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::RegistryCmd;
    use crate::cli::{Cli, Command};

    fn serve_ttl(args: &[&str]) -> Result<std::time::Duration, clap::Error> {
        let argv = ["strata", "registry", "serve"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Registry(RegistryCmd::Serve {
                token_cache_ttl, ..
            }) => Ok(token_cache_ttl),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn token_cache_ttl_defaults_to_the_library_default() {
        assert_eq!(
            serve_ttl(&[]).unwrap(),
            strata_registry::server::TOKEN_CACHE_TTL
        );
        assert_eq!(
            serve_ttl(&["--token-cache-ttl", "250ms"]).unwrap(),
            std::time::Duration::from_millis(250)
        );
        assert!(serve_ttl(&["--token-cache-ttl", "0"]).unwrap().is_zero());
        assert!(serve_ttl(&["--token-cache-ttl", "soon"]).is_err());
    }
}
