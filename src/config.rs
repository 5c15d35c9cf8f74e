//! What a server is started with, and every default, defined once: the
//! command line shows these in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::password;
use crate::auth::throttle::Policy;
use crate::domain::clock::Clock;
use crate::domain::db::SyncMode;
use crate::realtime::connections::Limits;

/// The defaults.
pub mod defaults {
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
    use std::time::Duration;

    /// Where to listen: loopback only, until told otherwise.
    pub const LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
    /// The database file, in the working directory.
    pub const DATABASE: &str = "azuma.db";
    /// How often expired sessions are deleted.
    pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);
    /// Failed logins from one address before it must wait.
    pub const LOGIN_ATTEMPTS: u32 = 5;
    /// After this long, each failed login is forgiven.
    pub const LOGIN_COOLDOWN: Duration = Duration::from_secs(30);
}

/// Everything a server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The SQLite file, created on first start.
    pub database: PathBuf,
    /// How often expired sessions are deleted.
    pub prune_interval: Duration,
    /// Origins allowed by CORS (see [`crate::cors::parse_origin`]); empty for none.
    pub cors_origins: Vec<String>,
    /// Cost of new password hashes.
    pub scrypt: scrypt::Params,
    /// The clock sessions expire by.
    pub clock: Clock,
    /// Websocket deadlines and queue size.
    pub realtime: Limits,
    /// Whether `POST /user/register` is open to anyone.
    pub registration_open: bool,
    /// What a committed write survives.
    pub sync: SyncMode,
    /// How many failed logins are let through.
    pub login_throttle: Policy,
}

impl Config {
    /// The defaults, serving `database` on [`defaults::LISTEN`].
    pub fn new(database: impl Into<PathBuf>) -> Config {
        Config {
            listen: defaults::LISTEN,
            database: database.into(),
            prune_interval: defaults::PRUNE_INTERVAL,
            cors_origins: Vec::new(),
            scrypt: password::default_params(),
            clock: Clock::default(),
            realtime: Limits::default(),
            registration_open: true,
            sync: SyncMode::default(),
            login_throttle: Policy {
                burst: defaults::LOGIN_ATTEMPTS,
                cooldown: defaults::LOGIN_COOLDOWN,
            },
        }
    }
}
