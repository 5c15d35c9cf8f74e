//! The `azuma` command: parses the command line and wires up the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use azuma::admin::{self, UserAction};
use azuma::{Config, DatabaseFile, ScryptCost, Server};
use clap::{Parser, Subcommand};

/// A small, fast Azuma chat server backed by one SQLite file.
///
/// With no subcommand, serves (the same as `azuma serve`).
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Azuma API (the default).
    Serve(Box<Config>),
    /// Write a consistent, compact copy of the database to FILE; safe while
    /// the server runs. FILE must not exist.
    Backup {
        #[command(flatten)]
        database: DatabaseFile,
        /// Where to write the copy.
        file: PathBuf,
    },
    /// A throwaway server with demo data (alice and bob, password azuma) for trying a client.
    Dev {
        /// Loopback address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Print an invitation's code, for registering with `--registration
    /// invite`: one use, valid 7 days; safe while the server runs.
    Invite {
        #[command(flatten)]
        database: DatabaseFile,
        /// The server's address as people open it (e.g. https://chat.example.org):
        /// prints the web client's link too.
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage accounts; safe while the server runs.
    User {
        #[command(flatten)]
        database: DatabaseFile,
        #[command(flatten)]
        scrypt: ScryptCost,
        #[command(subcommand)]
        action: UserAction,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = match azuma::log_to_stderr() {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("azuma: cannot start the log: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Serve(config)) => serve(*config),
        None => serve(cli.serve),
        Some(Command::Backup { database, file }) => {
            admin::backup(&database.path, &file).map_err(Into::into)
        }
        Some(Command::Invite { database, url }) => admin::invite(&database, url.as_deref()),
        Some(Command::Dev { listen }) => tokio::runtime::Runtime::new()
            .map_err(Into::into)
            .and_then(|rt| Ok(rt.block_on(azuma::dev::run(listen, azuma::shutdown_signal()))?)),
        Some(Command::User {
            database,
            scrypt,
            action,
        }) => scrypt
            .params()
            .map_err(Into::into)
            .and_then(|params| admin::user(&database, params, action)),
    };
    // Writes out the last log lines, before any error line below.
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("azuma: {e}");
            ExitCode::FAILURE
        }
    }
}

type Failure = Box<dyn std::error::Error>;

fn serve(config: Config) -> Result<(), Failure> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let server = Server::bind(config).await?;
        server.run(azuma::shutdown_signal()).await;
        Ok(())
    })
}
