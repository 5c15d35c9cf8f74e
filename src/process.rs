//! The process around the server: logging to stderr, stopping on a signal.

use std::io::IsTerminal;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use crate::log;

use crate::http::tls::Tls;

/// The level without a `RUST_LOG`.
const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// Logs to stderr at `RUST_LOG`'s level ([`DEFAULT_LEVEL`] by default), in colour only
/// on a terminal. Lines are formatted where they happen ([`log::Fields`],
/// [`log::Format`]: as the library's default format, more cheaply) and
/// written by a thread of their own ([`crate::log`]): the access log cost
/// over a third of `GET /`'s throughput when each line was a write. None
/// is dropped, and dropping the returned guard, at the end of `main`,
/// writes out the rest.
pub fn log_to_stderr() -> std::io::Result<log::Guard> {
    let (writer, guard) = log::to_stderr()?;
    let ansi = std::io::stderr().is_terminal();
    if !ansi {
        log::write_directly(&writer);
    }
    let builder = tracing_subscriber::fmt()
        .with_ansi(ansi)
        .fmt_fields(log::Fields)
        .event_format(log::Format)
        .with_writer(writer);
    match one_level(std::env::var("RUST_LOG")) {
        Some(level) => builder.with_max_level(level).init(),
        None => builder
            .with_env_filter(
                EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LEVEL.to_string())),
            )
            .init(),
    }
    Ok(guard)
}

/// The level of a `RUST_LOG` that names one for everything (unset is
/// `info`): then a plain level filters, as `EnvFilter` would. `EnvFilter`
/// takes a read lock on every span's entry, exit and close to look for
/// per-span directives.
fn one_level(rust_log: Result<String, std::env::VarError>) -> Option<LevelFilter> {
    match rust_log {
        Err(std::env::VarError::NotPresent) => Some(DEFAULT_LEVEL),
        Ok(level) if !level.is_empty() && level.bytes().all(|b| b.is_ascii_alphabetic()) => {
            level.parse().ok()
        }
        _ => None,
    }
}

/// Raises the soft limit on open files to the hard one (systemd's default
/// soft limit is 1024, which 10,000 websockets would meet) and logs what
/// that allows.
pub fn raise_open_files() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is unlimited. Linux refuses more than its nr_open (2^20 by
    // default), which an unlimited hard limit would ask for.
    let wanted = limit.maximum.unwrap_or(u64::MAX).min(1 << 20);
    let mut open_files = limit.current.unwrap_or(u64::MAX);
    if open_files < wanted {
        let raised = Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => open_files = wanted,
            Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
        }
    }
    // The database, the log and the listener hold a few dozen.
    tracing::info!(
        open_files,
        "about {} connections fit in the open files limit",
        open_files.saturating_sub(64)
    );
}

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

/// Reads the TLS certificate and key again on every SIGHUP; a bad pair is
/// logged and the one in use kept. Without TLS a SIGHUP (a `systemctl
/// reload`, say) only says so, rather than ending the process as it would
/// by default. The signal is watched from the call on (so call it before
/// saying that the server listens); the future runs until dropped.
pub fn reload_on_sighup(tls: Option<Arc<Tls>>) -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let hangups = signal(SignalKind::hangup());
    async move {
        match hangups {
            Ok(hangups) => reload_on(hangups, tls).await,
            Err(e) => tracing::warn!(error = %e, "cannot watch SIGHUP: no TLS reloads"),
        }
    }
}

async fn reload_on(mut hangups: tokio::signal::unix::Signal, tls: Option<Arc<Tls>>) {
    while hangups.recv().await.is_some() {
        let Some(tls) = tls.clone() else {
            tracing::info!("SIGHUP: nothing to reload without TLS");
            continue;
        };
        // Reading files blocks: not on the async runtime.
        match tokio::task::spawn_blocking(move || tls.reload()).await {
            Ok(Ok(())) => tracing::info!("reloaded the TLS certificate and key"),
            Ok(Err(why)) => tracing::error!("{why}; keeping the certificate in use"),
            Err(e) => {
                tracing::error!(error = %e, "reloading TLS failed; keeping the certificate in use")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_level_for_everything_skips_env_filter() {
        use std::env::VarError::NotPresent;
        assert_eq!(one_level(Err(NotPresent)), Some(LevelFilter::INFO));
        assert_eq!(one_level(Ok("warn".into())), Some(LevelFilter::WARN));
        assert_eq!(one_level(Ok("OFF".into())), Some(LevelFilter::OFF));
        for directives in ["", "3", "azuma=debug", "info,azuma=debug", "nonsense"] {
            assert_eq!(one_level(Ok(directives.into())), None, "{directives}");
        }
    }
}
