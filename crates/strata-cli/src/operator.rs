//! `strata operator …`: the Kubernetes operator's entry points. The logic lives in `strata-operator`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use strata_operator::ResolveSettings;
use strata_operator::controller::{RunOptions, Settings};

use crate::output::{CliError, out};
use crate::runtime::Runtime;

/// `strata operator` subcommands.
#[derive(Debug, Subcommand)]
pub enum Operator {
    /// Print the CustomResourceDefinitions (YAML) the operator serves.
    Crds,
    /// Run the operator: reconcile AtlasMigration resources until SIGTERM.
    Run(Box<RunArgs>),
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
}

fn addr(s: &str) -> Result<SocketAddr, CliError> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    };
    full.parse().map_err(|source| CliError::Address {
        value: s.to_owned(),
        source,
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

/// Runs an operator subcommand.
pub fn run(cmd: Operator, rt: &Runtime) -> Result<(), CliError> {
    match cmd {
        Operator::Crds => out(&strata_operator::crd_yaml()),
        Operator::Run(a) => {
            // A bad default registry is refused at start, not reported on every remote resource later.
            let registry = a
                .registry
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|u| strata_operator::registry::check_registry_url(u, "--registry"))
                .transpose()
                .map_err(CliError::OperatorRegistry)?;
            init_logs(a.log_format);
            let opts = RunOptions {
                settings: Settings {
                    namespaces: a.namespace.into_iter().filter(|n| !n.is_empty()).collect(),
                    label_selector: a.label_selector.filter(|s| !s.is_empty()),
                    resolve: ResolveSettings {
                        allow_custom_config: a.allow_custom_config,
                        registry,
                    },
                    concurrency: a.concurrency.max(1),
                    lock_timeout: Duration::from_secs(a.lock_timeout),
                    ..Settings::default()
                },
                metrics_addr: addr(&a.metrics_bind_address)?,
                health_addr: addr(&a.health_probe_bind_address)?,
                leader_elect: a.leader_elect,
                leader_election_id: a.leader_election_id,
                leader_election_namespace: a.leader_election_namespace,
            };
            rt.block_on(strata_operator::controller::run(opts))?
                .map_err(CliError::Operator)
        }
    }
}
