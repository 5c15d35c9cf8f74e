//! Stopping on a signal.

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM; a second one ends
/// the process at once.
pub async fn shutdown_signal() {
    signal().await;
    tracing::info!("shutting down; a second signal stops at once");
    tokio::spawn(async {
        signal().await;
        tracing::warn!("second signal: exiting now");
        std::process::exit(1);
    });
}

async fn signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
