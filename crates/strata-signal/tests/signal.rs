//! `shutdown_signal` waits for a stop signal and completes on SIGTERM (sent to this test process, whose default
//! action tokio's handler replaces).

use std::time::Duration;

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completes_on_sigterm_and_not_before() {
    let waiting = tokio::spawn(strata_signal::shutdown_signal());
    // No signal yet: still waiting (this also gives the task time to install its handlers).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "completed without a signal");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed: {status}");
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("SIGTERM did not complete shutdown_signal")
        .expect("the waiting task panicked");
}
