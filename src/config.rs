//! What a server is started with, and every default, defined once: the
//! command line shows these in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::password;
use crate::auth::throttle::Policy;
use crate::domain::clock::Clock;
use crate::domain::db::SyncMode;
use crate::http::server::Options as HttpOptions;
use crate::http::tls::TlsFiles;
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
    /// Failed logins from one address before it must wait (an account gets
    /// twice as many). Ten lets a household behind one address mistype
    /// now and then without noticing; a guessing script gets ten tries,
    /// then one per cooldown: two a minute, under three thousand a day.
    pub const LOGIN_ATTEMPTS: u32 = 10;
    /// After this long, each failed login is forgiven.
    pub const LOGIN_COOLDOWN: Duration = Duration::from_secs(30);
    /// Registrations and logins from one address per minute: a household
    /// behind one address signing in on every device at once stays under
    /// it; a script gets 30 tries a minute, and the failed-login budget
    /// still holds it to one guess per cooldown.
    pub const AUTH_PER_MINUTE: u32 = 30;
    /// Password hashes that may wait for a CPU: at the default cost, a
    /// queue of 8 on a 4-core Pi is about a second of waiting at worst.
    pub const HASH_QUEUE: usize = 8;
    /// Open connections from one address, websockets included: ten people
    /// behind one address, each with a few tabs and apps, fit; a script
    /// holding thousands does not.
    pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 64;
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
    /// Deadline for a request's headers (and the keep-alive idle time), and
    /// for its body.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
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
    /// Serve this machine only (`azuma dev`): CORS for pages on loopback
    /// origins instead of `cors_origins`, and requests to any other `Host`
    /// refused, so that no website can drive the server.
    pub local_only: bool,
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
    /// How many failed logins, and logins and registrations, are let through.
    pub login_throttle: Policy,
    /// Password hashes that may wait for a CPU; 0 for no bound.
    pub hash_queue: usize,
    /// What one client may hold of the HTTP server, and which proxies to
    /// believe.
    pub http: HttpOptions,
    /// Channels one user may create per hour; 0 for no limit.
    pub channels_per_hour: u32,
    /// Channels one user may own; 0 for no limit.
    pub channels_per_user: u32,
    /// Searches one user may make per minute; 0 for no limit.
    pub searches_per_minute: u32,
    /// Message edits and deletes one user may make per minute; 0 for no
    /// limit.
    pub edits_per_minute: u32,
    /// Typing and status events of one user relayed per second; 0 for no
    /// limit.
    pub typing_status_per_second: u32,
    /// Bytes the database file may grow to; 0 for as far as the disk
    /// allows. Past it, writes answer 507 as on a full disk.
    pub max_database_bytes: u64,
    /// Serve HTTPS and WSS with this certificate and key, instead of HTTP.
    pub tls: Option<TlsFiles>,
}

impl Config {
    /// The defaults, serving `database` on [`defaults::LISTEN`].
    pub fn new(database: impl Into<PathBuf>) -> Config {
        Config {
            listen: defaults::LISTEN,
            database: database.into(),
            prune_interval: defaults::PRUNE_INTERVAL,
            cors_origins: Vec::new(),
            local_only: false,
            scrypt: password::default_params(),
            clock: Clock::default(),
            realtime: Limits::default(),
            registration_open: true,
            sync: SyncMode::default(),
            login_throttle: Policy {
                burst: defaults::LOGIN_ATTEMPTS,
                cooldown: defaults::LOGIN_COOLDOWN,
                per_minute: defaults::AUTH_PER_MINUTE,
            },
            hash_queue: defaults::HASH_QUEUE,
            http: HttpOptions {
                header_timeout: defaults::REQUEST_TIMEOUT,
                body_timeout: defaults::REQUEST_TIMEOUT,
                per_address: defaults::MAX_CONNECTIONS_PER_ADDRESS,
                trusted_proxies: Vec::new(),
            },
            channels_per_hour: defaults::CHANNELS_PER_HOUR,
            channels_per_user: defaults::CHANNELS_PER_USER,
            searches_per_minute: defaults::SEARCHES_PER_MINUTE,
            edits_per_minute: defaults::EDITS_PER_MINUTE,
            typing_status_per_second: defaults::TYPING_STATUS_PER_SECOND,
            max_database_bytes: 0,
            tls: None,
        }
    }
}
