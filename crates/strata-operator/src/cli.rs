//! The operator's command line, shared by `strata operator …` (the CLI) and the lean `strata-operator` binary: the
//! subcommands, the flags of `run`, log set-up and the one start-up path ([`run`]); `reconcile -f FILE…` runs the
//! reconcile without a cluster ([`crate::local`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use crate::ResolveSettings;
use crate::controller::{RunOptions, Settings};

/// `strata operator` subcommands (also those of the `strata-operator` binary).
#[derive(Debug, Subcommand)]
pub enum Operator {
    /// Print the CustomResourceDefinitions (YAML) the operator serves.
    Crds,
    /// Run the operator: reconcile AtlasMigration resources until SIGTERM.
    Run(Box<RunArgs>),
    /// Reconcile the AtlasMigration resources of Kubernetes YAML files without a cluster (the Secrets and
    /// ConfigMaps they reference come from the same files) and print their final status. Exit 1 when one is not
    /// Ready.
    Reconcile(ReconcileArgs),
}

/// `strata operator reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// YAML files holding the resources and the Secrets / ConfigMaps they reference (repeatable; several
    /// documents per file separated by `---`).
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Namespace of documents that name none.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// Default registry URL for remote directories (dir.remote); spec.cloud.url wins, as in `run`.
    #[arg(long, env = "STRATA_REGISTRY_URL", hide_env_values = true)]
    registry: Option<String>,
    /// Accept spec.config / spec.configFrom.
    #[arg(long)]
    allow_custom_config: bool,
    /// How long to wait for a migration lock held by another process (seconds).
    #[arg(long, default_value_t = 10)]
    lock_timeout: u64,
    /// How long one resource may take to settle, retries after transient failures included (seconds).
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Output of the final statuses: yaml (one document per resource) or json (an array).
    #[arg(short = 'o', long, value_enum, default_value_t = crate::local::Output::Yaml)]
    output: crate::local::Output,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// `strata operator run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Watched namespaces (comma-separated); all namespaces when empty.
    #[arg(long, env = "STRATA_OPERATOR_NAMESPACE", value_delimiter = ',')]
    namespace: Vec<String>,
    /// Only reconcile resources matching this label selector.
    #[arg(long)]
    label_selector: Option<String>,
    /// Default registry URL for remote directories (dir.remote), e.g. http://strata-registry.strata:8080;
    /// spec.cloud.url wins. Tokens come from each resource's cloud.tokenFrom Secret, never from here.
    #[arg(long, env = "STRATA_REGISTRY_URL", hide_env_values = true)]
    registry: Option<String>,
    /// Accept spec.config / spec.configFrom.
    #[arg(long)]
    allow_custom_config: bool,
    /// Address of /metrics.
    #[arg(long, default_value = ":8080")]
    metrics_bind_address: String,
    /// Address of /healthz and /readyz.
    #[arg(long, default_value = ":8081")]
    health_probe_bind_address: String,
    /// Elect a leader through a Lease before reconciling.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// Name of the Lease.
    #[arg(long, default_value = "5220c287.atlasgo.io")]
    leader_election_id: String,
    /// Namespace of the Lease (default: POD_NAMESPACE).
    #[arg(long)]
    leader_election_namespace: Option<String>,
    /// Reconciles running at once (two resources on one database never apply at once).
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
    /// How long to wait for a migration lock held by another process before retrying later (seconds).
    #[arg(long, default_value_t = 10)]
    lock_timeout: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
    /// How often a Ready AtlasMigration's database is compared with its directory up to the applied version
    /// (drift detection): a duration such as 10m, or 0/off. A resource's strata.dev/drift-interval annotation wins.
    #[arg(long, default_value = "off", value_parser = parse_drift_interval)]
    drift_interval_migration: DriftInterval,
    /// How often a Ready AtlasSchema's database is compared with its desired schema: a duration, or 0/off. A
    /// resource's strata.dev/drift-interval annotation wins.
    #[arg(long, default_value = "10m", value_parser = parse_drift_interval)]
    drift_interval_schema: DriftInterval,
    /// Create a dev-database Deployment (<name>-atlas-dev-db) for an AtlasSchema whose target server refuses a
    /// throw-away database and that names no devURL (needs RBAC for deployments and pods).
    #[arg(long)]
    dev_db_deployments: bool,
}

/// A parsed `--drift-interval-*` value (`None`: off).
#[derive(Debug, Clone, Copy)]
struct DriftInterval(Option<Duration>);

fn parse_drift_interval(s: &str) -> Result<DriftInterval, String> {
    crate::drift::parse_interval(s).map(DriftInterval)
}

/// Why the operator did not start or stopped with a failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bind address that does not parse.
    #[error("invalid address {address:?}: {reason}")]
    Address {
        /// As given.
        address: String,
        /// The parser's complaint.
        reason: String,
    },
    /// `--registry` is unusable.
    #[error(transparent)]
    Registry(#[from] crate::registry::RemoteError),
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `reconcile -f`: the files are not usable manifests.
    #[error(transparent)]
    Manifest(#[from] crate::local::ManifestError),
    /// The operator stopped with an error (API unreachable, leadership lost, …).
    #[error("operator: {0}")]
    Operator(Box<dyn std::error::Error + Send + Sync>),
}

fn addr(s: &str) -> Result<SocketAddr, Error> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    };
    full.parse()
        .map_err(|e: std::net::AddrParseError| Error::Address {
            address: s.to_owned(),
            reason: e.to_string(),
        })
}

fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => b.json().flatten_event(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

impl RunArgs {
    /// The process options these flags ask for. A bad default registry or address is refused here, at start,
    /// not reported on every remote resource later.
    pub fn options(self) -> Result<(RunOptions, LogFormat), Error> {
        let registry = self
            .registry
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|u| crate::registry::check_registry_url(u, "--registry"))
            .transpose()?;
        let opts = RunOptions {
            settings: Settings {
                namespaces: self
                    .namespace
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .collect(),
                label_selector: self.label_selector.filter(|s| !s.is_empty()),
                resolve: ResolveSettings {
                    allow_custom_config: self.allow_custom_config,
                    registry,
                },
                concurrency: self.concurrency.max(1),
                lock_timeout: Duration::from_secs(self.lock_timeout),
                drift: crate::drift::DriftSettings {
                    migration: self.drift_interval_migration.0,
                    schema: self.drift_interval_schema.0,
                    ..crate::drift::DriftSettings::default()
                },
                dev_db_deployments: self.dev_db_deployments,
                ..Settings::default()
            },
            metrics_addr: addr(&self.metrics_bind_address)?,
            health_addr: addr(&self.health_probe_bind_address)?,
            leader_elect: self.leader_elect,
            leader_election_id: self.leader_election_id,
            leader_election_namespace: self.leader_election_namespace,
        };
        Ok((opts, self.log_format))
    }
}

/// Checks the flags and sets up logging: what is left is `controller::run` on the caller's runtime (the `strata`
/// CLI has one runtime per process).
pub fn prepare(args: RunArgs) -> Result<RunOptions, Error> {
    let (opts, log_format) = args.options()?;
    init_logs(log_format);
    Ok(opts)
}

/// `run`: checks the flags, sets up logging, and runs the operator on a multi-threaded runtime until SIGTERM.
pub fn run(args: RunArgs) -> Result<(), Error> {
    let opts = prepare(args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    rt.block_on(crate::controller::run(opts))
        .map_err(Error::Operator)
}

/// What `reconcile -f` found: the final statuses rendered for stdout, the events for stderr, and whether every
/// resource is Ready.
#[derive(Debug)]
pub struct Reconciled {
    /// The statuses in the requested format.
    pub output: String,
    /// `<kind> <namespace>/<name>: <type> <reason> <note>` lines, in order.
    pub events: Vec<String>,
    /// Every resource Ready.
    pub ready: bool,
}

/// `reconcile -f`: reads the files, reconciles each resource until it settles, renders the statuses. Logs (warnings
/// only, unless `RUST_LOG` says otherwise) go to stderr, so stdout holds nothing but the statuses.
pub async fn reconcile(args: ReconcileArgs) -> Result<Reconciled, Error> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let registry = args
        .registry
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|u| crate::registry::check_registry_url(u, "--registry"))
        .transpose()?;
    let manifests = crate::local::load(&args.files, &args.namespace)?;
    let opts = crate::local::Options {
        settings: ResolveSettings {
            allow_custom_config: args.allow_custom_config,
            registry,
        },
        lock_timeout: Duration::from_secs(args.lock_timeout),
        timeout: Duration::from_secs(args.timeout),
        ..crate::local::Options::default()
    };
    let settled = crate::local::reconcile_all(&manifests, &opts).await;
    let events = settled
        .iter()
        .flat_map(|s| {
            s.events.iter().map(move |e| {
                format!(
                    "{} {}/{}: {e}",
                    s.kind, s.metadata.namespace, s.metadata.name
                )
            })
        })
        .collect();
    Ok(Reconciled {
        output: crate::local::render(&settled, args.output),
        events,
        ready: settled.iter().all(crate::local::Settled::is_ready),
    })
}

/// `reconcile -f` on a runtime of its own (the lean binary): prints the statuses on stdout and the events on
/// stderr; `Ok(false)` when a resource is not Ready.
pub fn run_reconcile(args: ReconcileArgs) -> Result<bool, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let r = rt.block_on(reconcile(args))?;
    print_reconciled(&r);
    Ok(r.ready)
}

/// Prints a [`Reconciled`]: events on stderr, statuses on stdout (a closed pipe is not an error).
pub fn print_reconciled(r: &Reconciled) {
    use std::io::Write as _;
    for e in &r.events {
        eprintln!("{e}");
    }
    let _ = std::io::stdout().lock().write_all(r.output.as_bytes());
}
