//! The stop signals of Strata's long-running processes — `strata registry serve` and the operator (`strata-operator
//! run`, `strata operator run`) — in one place: [`shutdown_signal`].
//!
//! A crate of its own because the two servers share nothing else at this level: the operator does not link the
//! registry server, the registry server does not link the engine, and neither the registry client nor the
//! database driver is a home for process signals.
#![warn(missing_docs)]

use std::future::pending;

/// Completes when the process is asked to stop: Ctrl-C (SIGINT) or, on Unix, SIGTERM (what Kubernetes, Docker and
/// systemd send). Never panics: a handler that cannot be installed is logged as a warning and the other signal
/// still stops the process; if neither can be installed this never completes, and only SIGKILL stops it.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C (SIGINT); stop the process with SIGTERM");
            pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop the process with Ctrl-C (SIGINT)");
                pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
