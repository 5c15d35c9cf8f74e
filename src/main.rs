//! The `azuma` command: parses the command line and wires up the library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use azuma::{Config, Server, cors, password};
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// A small, fast Azuma chat server backed by one SQLite file.
///
/// With no subcommand, serves (the same as `azuma serve`).
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Azuma API (the default).
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free port (the log says which).
    #[arg(long, env = "AZUMA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// The SQLite database file; created on first start.
    #[arg(long, env = "AZUMA_DATABASE", default_value = "azuma.db")]
    database: PathBuf,

    /// Seconds between deletions of expired sessions.
    #[arg(long, env = "AZUMA_PRUNE_INTERVAL", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    prune_interval: u64,

    /// Allow a web client from this origin (e.g. http://localhost:5173) via CORS;
    /// repeat it (or separate with commas) for several, or `*` for any origin.
    /// Without it no CORS headers are sent.
    #[arg(long = "cors-origin", env = "AZUMA_CORS_ORIGIN", value_delimiter = ',',
          value_parser = cors::parse_origin)]
    cors_origins: Vec<String>,

    /// scrypt cost of new password hashes: log2 of N (memory is 128·r·2^N bytes).
    /// Lower it on small machines (e.g. 14 on a Pi Zero); existing hashes still verify.
    #[arg(long, env = "AZUMA_SCRYPT_LOG_N", default_value_t = password::DEFAULT_LOG_N)]
    scrypt_log_n: u8,

    /// scrypt block size r of new password hashes.
    #[arg(long, env = "AZUMA_SCRYPT_R", default_value_t = password::DEFAULT_R)]
    scrypt_r: u32,

    /// scrypt parallelism p of new password hashes.
    #[arg(long, env = "AZUMA_SCRYPT_P", default_value_t = password::DEFAULT_P)]
    scrypt_p: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("azuma: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::new(args.database);
    config.listen = args.listen;
    config.prune_interval = Duration::from_secs(args.prune_interval);
    config.cors_origins = args.cors_origins;
    config.scrypt = password::params(args.scrypt_log_n, args.scrypt_r, args.scrypt_p)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        server.run(shutdown_signal()).await;
        Ok(())
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
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
    tracing::info!("shutting down");
}
