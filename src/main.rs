//! The `azuma` command: parses the command line and wires up the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use azuma::admin::{self, UserAction};
use azuma::{Cidr, Config, LoginThrottle, Server, SyncMode, TlsFiles, cors, defaults, password};
use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Write a consistent, compact copy of the database to FILE; safe while
    /// the server runs. FILE must not exist.
    Backup {
        #[command(flatten)]
        database: DatabaseArg,
        /// Where to write the copy.
        file: PathBuf,
    },
    /// A throwaway server with demo data (alice and bob, password azuma) for trying a client.
    Dev {
        /// Loopback address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Manage accounts; safe while the server runs.
    User {
        #[command(flatten)]
        database: DatabaseArg,
        #[command(flatten)]
        scrypt: ScryptArgs,
        #[command(subcommand)]
        action: UserAction,
    },
}

#[derive(Args)]
struct DatabaseArg {
    /// The SQLite database file.
    #[arg(
        long,
        env = "AZUMA_DATABASE",
        default_value = defaults::DATABASE,
        global = true
    )]
    database: PathBuf,
}

#[derive(Args)]
struct ScryptArgs {
    /// scrypt cost of new password hashes: log2 of N (memory is 128·r·2^log_n bytes).
    /// Lower it on small machines (e.g. 14 on a Pi Zero); existing hashes still verify.
    #[arg(long, env = "AZUMA_SCRYPT_LOG_N", default_value_t = password::DEFAULT_LOG_N,
          global = true)]
    scrypt_log_n: u8,

    /// scrypt block size r of new password hashes.
    #[arg(long, env = "AZUMA_SCRYPT_R", default_value_t = password::DEFAULT_R, global = true)]
    scrypt_r: u32,

    /// scrypt parallelism p of new password hashes.
    #[arg(long, env = "AZUMA_SCRYPT_P", default_value_t = password::DEFAULT_P, global = true)]
    scrypt_p: u32,
}

impl ScryptArgs {
    fn params(&self) -> Result<scrypt::Params, String> {
        password::params(self.scrypt_log_n, self.scrypt_r, self.scrypt_p)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Registration {
    /// Anyone can register.
    Open,
    /// `POST /user/register` answers 403; add accounts with `azuma user add`.
    Closed,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sync {
    /// Every acknowledged write survives a power cut (one fsync per commit).
    Full,
    /// Acknowledged writes survive a crash of azuma, not always a power cut.
    Normal,
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free port (the log says which).
    #[arg(long, env = "AZUMA_LISTEN", default_value_t = defaults::LISTEN)]
    listen: SocketAddr,
    #[command(flatten)]
    database: DatabaseArg,
    /// Seconds between deletions of expired sessions.
    #[arg(long, env = "AZUMA_PRUNE_INTERVAL", default_value_t = defaults::PRUNE_INTERVAL.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    prune_interval: u64,
    /// Allow a web client from this origin (e.g. http://localhost:5173) via CORS;
    /// repeat it (or separate with commas) for several, or `*` for any origin.
    /// Without it no CORS headers are sent.
    #[arg(long = "cors-origin", env = "AZUMA_CORS_ORIGIN", value_delimiter = ',',
          value_parser = cors::parse_origin)]
    cors_origins: Vec<String>,
    /// A reverse proxy (e.g. 127.0.0.1/32) whose X-Forwarded-For names the client;
    /// repeat it (or separate with commas) for several. Without it, no header is believed.
    #[arg(
        long = "trusted-proxy",
        env = "AZUMA_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<Cidr>,
    /// Serve HTTPS and WSS with this PEM certificate chain (and --tls-key);
    /// SIGHUP reads both again.
    #[arg(long, env = "AZUMA_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "AZUMA_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Whether anyone may register.
    #[arg(long, env = "AZUMA_REGISTRATION", value_enum, default_value = "open")]
    registration: Registration,
    /// What an acknowledged write survives (see the README).
    #[arg(long, env = "AZUMA_SYNC", value_enum, default_value = "full")]
    sync: Sync,
    /// Failed logins allowed from one address before it must wait (an account gets
    /// twice as many).
    #[arg(long, env = "AZUMA_LOGIN_ATTEMPTS", default_value_t = defaults::LOGIN_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..))]
    login_attempts: u32,
    /// Seconds after which each failed login is forgiven.
    #[arg(long, env = "AZUMA_LOGIN_COOLDOWN", default_value_t = defaults::LOGIN_COOLDOWN.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    login_cooldown: u64,
    /// Registrations and logins, successful or not, from one address per minute
    /// (0: no limit).
    #[arg(long, env = "AZUMA_AUTH_PER_MINUTE", default_value_t = defaults::AUTH_PER_MINUTE)]
    auth_per_minute: u32,
    /// Password hashes allowed to wait for a CPU; beyond, 503 (0: no limit).
    #[arg(long, env = "AZUMA_HASH_QUEUE", default_value_t = defaults::HASH_QUEUE)]
    hash_queue: usize,
    /// Open connections from one address, websockets included (0: no limit).
    #[arg(long, env = "AZUMA_MAX_CONNECTIONS_PER_ADDRESS",
          default_value_t = defaults::MAX_CONNECTIONS_PER_ADDRESS)]
    max_connections_per_address: usize,
    /// Channels one user may create per hour (0: no limit).
    #[arg(long, env = "AZUMA_CHANNELS_PER_HOUR", default_value_t = defaults::CHANNELS_PER_HOUR)]
    channels_per_hour: u32,
    /// Channels one user may own at once (0: no limit).
    #[arg(long, env = "AZUMA_CHANNELS_PER_USER", default_value_t = defaults::CHANNELS_PER_USER)]
    channels_per_user: u32,
    /// Searches one user may make per minute (0: no limit).
    #[arg(long, env = "AZUMA_SEARCHES_PER_MINUTE", default_value_t = defaults::SEARCHES_PER_MINUTE)]
    searches_per_minute: u32,
    /// Message edits and deletes one user may make per minute (0: no limit).
    #[arg(long, env = "AZUMA_EDITS_PER_MINUTE", default_value_t = defaults::EDITS_PER_MINUTE)]
    edits_per_minute: u32,
    /// Typing and status events of one user relayed to others per second (0: no limit).
    #[arg(long, env = "AZUMA_TYPING_STATUS_PER_SECOND",
          default_value_t = defaults::TYPING_STATUS_PER_SECOND)]
    typing_status_per_second: u32,
    /// MiB the database may grow to; past it, writes answer 507 (0: the disk's size).
    #[arg(long, env = "AZUMA_MAX_DATABASE_MIB", default_value_t = 0)]
    max_database_mib: u64,
    #[command(flatten)]
    scrypt: ScryptArgs,
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
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
        Some(Command::Backup { database, file }) => {
            admin::backup(&database.database, &file).map_err(Into::into)
        }
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
            .and_then(|params| admin::user(&database.database, params, action)),
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

fn serve(args: ServeArgs) -> Result<(), Failure> {
    let mut config = Config::new(args.database.database);
    config.listen = args.listen;
    config.prune_interval = Duration::from_secs(args.prune_interval);
    config.cors_origins = args.cors_origins;
    config.scrypt = args.scrypt.params()?;
    config.registration_open = matches!(args.registration, Registration::Open);
    config.sync = match args.sync {
        Sync::Full => SyncMode::Full,
        Sync::Normal => SyncMode::Normal,
    };
    config.login_throttle = LoginThrottle {
        burst: args.login_attempts,
        cooldown: Duration::from_secs(args.login_cooldown),
        per_minute: args.auth_per_minute,
    };
    config.hash_queue = args.hash_queue;
    config.http.per_address = args.max_connections_per_address;
    config.http.trusted_proxies = args.trusted_proxies;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(TlsFiles { cert, key });
    }
    config.channels_per_hour = args.channels_per_hour;
    config.channels_per_user = args.channels_per_user;
    config.searches_per_minute = args.searches_per_minute;
    config.edits_per_minute = args.edits_per_minute;
    config.typing_status_per_second = args.typing_status_per_second;
    config.max_database_bytes = args.max_database_mib.saturating_mul(1 << 20);
    tokio::runtime::Runtime::new()?.block_on(async {
        let server = Server::bind(config).await?;
        server.run(azuma::shutdown_signal()).await;
        Ok(())
    })
}
