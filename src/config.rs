//! What a server is started with, defined once: clap derives the command
//! line from [`Config`] (each option, its `AZUMA_` variable and `--help`),
//! and [`Config::new`] takes the same defaults, from [`defaults`]. Adding
//! an option is adding a field here (or to one of the groups it flattens).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, FromArgMatches, ValueEnum};

use crate::auth::password;
use crate::auth::throttle::Policy;
use crate::domain::clock::Clock;
pub use crate::domain::clock::Seconds;
use crate::domain::db::SyncMode;
use crate::domain::wal::Checkpoints;
use crate::http::cors;
use crate::http::options::Options as HttpOptions;
use crate::http::tls::TlsFiles;
use crate::realtime::connections::Limits;

/// The defaults, each with why it is what it is.
pub mod defaults {
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

    pub use crate::auth::throttle::{AUTH_PER_MINUTE, LOGIN_ATTEMPTS, LOGIN_COOLDOWN};
    pub use crate::http::options::{MAX_CONNECTIONS_PER_ADDRESS, REQUEST_TIMEOUT};

    use crate::domain::clock::Seconds;

    /// Where to listen: loopback only, until told otherwise.
    pub const LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
    /// The database file, in the working directory.
    pub const DATABASE: &str = "azuma.db";
    /// How often expired sessions are deleted.
    pub const PRUNE_INTERVAL: Seconds = Seconds::from_secs(60);
    /// Password hashes that may wait for a CPU: at the default cost, a
    /// queue of 8 on a 4-core Pi is about a second of waiting at worst.
    pub const HASH_QUEUE: usize = 8;
    /// Channels one user may create per hour: plenty for people, few enough
    /// that a script cannot flood the list everyone loads.
    pub const CHANNELS_PER_HOUR: u32 = 10;
    /// Channels one user may own at once, for the same reason.
    pub const CHANNELS_PER_USER: u32 = 100;
    /// Searches one user may make per minute: a person searches now and
    /// then; a script repeating costly searches is held to one every two
    /// seconds.
    pub const SEARCHES_PER_MINUTE: u32 = 30;
    /// Edits and deletes of messages one user may make per minute: an edit
    /// costs several sends (the search index is rewritten); a person fixing
    /// typos or clearing out spam stays well under it.
    pub const EDITS_PER_MINUTE: u32 = 60;
    /// Typing and status events of one user that reach others per second,
    /// whatever the user sends: a person typing in a few channels at once
    /// fits; a flood of everyone's sockets does not.
    pub const TYPING_STATUS_PER_SECOND: u32 = 5;
    /// MiB one upload may have: a phone's video of a minute or two.
    pub const MAX_UPLOAD_MIB: u64 = 25;
}

/// Everything a server needs to start: the options of `azuma serve`.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address and port to listen on; port 0 picks a free port (the log says which).
    #[arg(long, env = "AZUMA_LISTEN", default_value_t = defaults::LISTEN)]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseFile,
    /// Seconds between deletions of expired sessions.
    #[arg(long, env = "AZUMA_PRUNE_INTERVAL", default_value_t = defaults::PRUNE_INTERVAL)]
    pub prune_interval: Seconds,
    /// Allow a web client from this origin (e.g. http://localhost:5173) via CORS;
    /// repeat it (or separate with commas) for several, or `*` for any origin.
    /// Without it no CORS headers are sent.
    #[arg(long = "cors-origin", env = "AZUMA_CORS_ORIGIN", value_delimiter = ',',
          value_name = "ORIGIN", value_parser = cors::parse_origin)]
    pub cors_origins: Vec<String>,
    /// Serve HTTPS and WSS with this PEM certificate chain (and --tls-key);
    /// SIGHUP reads both again.
    #[arg(long, env = "AZUMA_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "AZUMA_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Whether anyone may register.
    #[arg(long, env = "AZUMA_REGISTRATION", value_enum, default_value_t = Registration::Open)]
    pub registration: Registration,
    /// What an acknowledged write survives (see the README).
    #[arg(long, env = "AZUMA_SYNC", value_enum, default_value_t = SyncMode::Full)]
    pub sync: SyncMode,
    #[command(flatten)]
    pub login_throttle: Policy,
    /// Password hashes allowed to wait for a CPU; beyond, 503 (0: no limit).
    #[arg(long, env = "AZUMA_HASH_QUEUE", default_value_t = defaults::HASH_QUEUE)]
    pub hash_queue: usize,
    #[command(flatten)]
    pub http: HttpOptions,
    /// Channels one user may create per hour (0: no limit).
    #[arg(long, env = "AZUMA_CHANNELS_PER_HOUR", default_value_t = defaults::CHANNELS_PER_HOUR)]
    pub channels_per_hour: u32,
    /// Channels one user may own at once (0: no limit).
    #[arg(long, env = "AZUMA_CHANNELS_PER_USER", default_value_t = defaults::CHANNELS_PER_USER)]
    pub channels_per_user: u32,
    /// Searches one user may make per minute (0: no limit).
    #[arg(long, env = "AZUMA_SEARCHES_PER_MINUTE", default_value_t = defaults::SEARCHES_PER_MINUTE)]
    pub searches_per_minute: u32,
    /// Message edits and deletes one user may make per minute (0: no limit).
    #[arg(long, env = "AZUMA_EDITS_PER_MINUTE", default_value_t = defaults::EDITS_PER_MINUTE)]
    pub edits_per_minute: u32,
    /// Typing and status events of one user relayed to others per second (0: no limit).
    #[arg(long, env = "AZUMA_TYPING_STATUS_PER_SECOND",
          default_value_t = defaults::TYPING_STATUS_PER_SECOND)]
    pub typing_status_per_second: u32,
    /// MiB the database may grow to; past it, writes answer 507 (0: the disk's size).
    #[arg(long, env = "AZUMA_MAX_DATABASE_MIB", default_value_t = 0)]
    pub max_database_mib: u64,
    /// MiB one uploaded file may have; larger is 413, before anything is stored.
    #[arg(long, env = "AZUMA_MAX_UPLOAD_MIB", default_value_t = defaults::MAX_UPLOAD_MIB)]
    pub max_upload_mib: u64,
    #[command(flatten)]
    pub push: crate::push::PushOptions,
    #[command(flatten)]
    pub scrypt: ScryptCost,
    /// The clock sessions expire by (tests move it).
    #[arg(skip)]
    pub clock: Clock,
    /// Websocket deadlines and queue size.
    #[arg(skip)]
    pub realtime: Limits,
    /// Whether only pages and host names on this machine may use the server
    /// (`azuma dev`, whose password is public).
    #[arg(skip)]
    pub local_only: bool,
}

impl Config {
    /// The defaults, serving `database` on [`defaults::LISTEN`]; no
    /// environment variable is read.
    pub fn new(database: impl Into<PathBuf>) -> Config {
        let command = Config::augment_args(clap::Command::new("azuma"))
            .mut_args(|arg| arg.env(None::<&'static str>));
        let parsed = command
            .try_get_matches_from(["azuma"])
            .and_then(|matches| Config::from_arg_matches(&matches));
        // Only the defaults above are parsed: a unit test parses them too.
        #[allow(clippy::expect_used)]
        let mut config = parsed.expect("the defaults parse");
        config.database.path = database.into();
        config
    }

    /// The certificate and key to serve HTTPS with, if given.
    pub fn tls(&self) -> Option<TlsFiles> {
        let (cert, key) = (self.tls_cert.clone()?, self.tls_key.clone()?);
        Some(TlsFiles { cert, key })
    }

    /// Bytes the database file may grow to; 0 for as far as the disk
    /// allows.
    pub fn max_database_bytes(&self) -> u64 {
        self.max_database_mib.saturating_mul(1 << 20)
    }
}

/// The database file, an option of every command that opens one.
#[derive(Clone, Debug, Args)]
pub struct DatabaseFile {
    /// The SQLite database file; created on first start.
    #[arg(long = "database", env = "AZUMA_DATABASE", default_value = defaults::DATABASE,
          value_name = "FILE", global = true)]
    pub path: PathBuf,
    /// Leave every checkpoint to Litestream, which replicates the database:
    /// none at shutdown or after deletes, none automatic (see the README).
    #[arg(long, env = "AZUMA_LITESTREAM", global = true,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub litestream: bool,
}

impl DatabaseFile {
    /// Who checkpoints the WAL.
    pub(crate) fn checkpoints(&self) -> Checkpoints {
        match self.litestream {
            true => Checkpoints::Litestream,
            false => Checkpoints::Own,
        }
    }
}

/// The cost of new password hashes; existing hashes verify at their own.
#[derive(Clone, Copy, Debug, Args)]
pub struct ScryptCost {
    /// scrypt cost of new password hashes: log2 of N (memory is 128·r·2^log_n bytes).
    /// Lower it on small machines (e.g. 14 on a Pi Zero); existing hashes still verify.
    #[arg(long = "scrypt-log-n", env = "AZUMA_SCRYPT_LOG_N",
          default_value_t = password::DEFAULT_LOG_N, value_name = "LOG_N", global = true)]
    pub log_n: u8,
    /// scrypt block size r of new password hashes.
    #[arg(long = "scrypt-r", env = "AZUMA_SCRYPT_R", default_value_t = password::DEFAULT_R,
          value_name = "R", global = true)]
    pub r: u32,
    /// scrypt parallelism p of new password hashes.
    #[arg(long = "scrypt-p", env = "AZUMA_SCRYPT_P", default_value_t = password::DEFAULT_P,
          value_name = "P", global = true)]
    pub p: u32,
}

impl ScryptCost {
    /// The parameters, or why they are not valid.
    pub fn params(&self) -> Result<scrypt::Params, String> {
        password::params(self.log_n, self.r, self.p)
    }
}

/// Who may register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Registration {
    /// Anyone can register.
    Open,
    /// `POST /user/register` answers 403; add accounts with `azuma user add`.
    Closed,
    /// Registering needs an invitation's code (`POST /invite`, `azuma invite`).
    Invite,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse_and_read_no_environment() {
        let config = Config::new("x.db");
        assert_eq!(config.database.path, PathBuf::from("x.db"));
        assert_eq!(config.listen, defaults::LISTEN);
        assert_eq!(config.prune_interval, defaults::PRUNE_INTERVAL);
        assert_eq!(config.login_throttle.burst, defaults::LOGIN_ATTEMPTS);
        assert_eq!(
            config.http.per_address,
            defaults::MAX_CONNECTIONS_PER_ADDRESS
        );
        assert_eq!(config.http.header_timeout, defaults::REQUEST_TIMEOUT);
        assert_eq!(config.registration, Registration::Open);
        assert!(config.tls().is_none() && config.scrypt.params().is_ok());
    }
}
