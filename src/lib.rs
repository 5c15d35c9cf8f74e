//! azuma: a small, fast Azuma chat server backed by one SQLite file.
//!
//! [`Server::bind`] opens the database and the listening socket from a
//! [`Config`]; [`Server::run`] serves until a shutdown future completes.
//! ARCHITECTURE.md maps the modules.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub mod admin;
mod app;
mod auth;
mod config;
pub mod dev;
mod domain;
mod http;
mod log;
mod media;
mod process;
mod push;
mod realtime;
mod routes;
mod sync;
mod writer;

pub use auth::password;
pub use auth::throttle::Policy as LoginThrottle;
pub use config::{Config, DatabaseFile, Registration, ScryptCost, Seconds, defaults};
pub use domain::clock::{Clock, Timestamp};
pub use domain::db::{OpenError, SyncMode};
pub use domain::names;
pub use http::client::Cidr;
pub use http::cors;
pub use http::options::Options as HttpOptions;
pub use http::tls::TlsFiles;
pub use process::{log_to_stderr, shutdown_signal};
pub use push::guard::parse_allowed as parse_push_host;
pub use push::{Pace as PushPace, PushOptions};
pub use realtime::connections::Limits as RealtimeLimits;

/// How long requests in flight may take to finish at shutdown.
const GRACE: Duration = Duration::from_secs(10);
const MINUTE: Duration = Duration::from_secs(60);
/// Thumbnails made at once: each decodes a whole image (up to 50
/// megapixels, 200 MB), so a Pi's memory bounds this, not its cores.
const THUMBNAILS_AT_ONCE: usize = 2;

/// A per-user budget of `count` actions per `period`, all at once if need
/// be, then spread evenly; 0 lifts it.
fn per_period(count: u32, period: Duration) -> auth::rate::Rate<uuid::Uuid> {
    auth::rate::Rate::new(count, period / count.max(1))
}

/// Why a server could not start. Each displays as one line.
#[derive(Debug)]
pub enum StartError {
    /// The address could not be bound (in use, not permitted...).
    Listen(SocketAddr, std::io::Error),
    /// The database could not be opened or migrated.
    Database(OpenError),
    /// The TLS certificate or key could not be used; why.
    Tls(String),
    /// The scrypt cost is not one scrypt takes; why.
    Scrypt(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Listen(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::Database(e) => e.fmt(f),
            StartError::Tls(why) | StartError::Scrypt(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StartError {}

/// A bound, ready server.
pub struct Server {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    app: app::App,
    tls: Option<Arc<http::tls::Tls>>,
    config: Config,
}

impl Server {
    /// Binds the listening socket, then opens and migrates the database.
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let scrypt = config.scrypt.params().map_err(StartError::Scrypt)?;
        // Before anything is bound or opened: a bad pair changes nothing.
        // Reading files blocks, so not on the async runtime.
        let tls = match config.tls() {
            Some(files) => {
                let loaded = tokio::task::spawn_blocking(move || http::tls::Tls::load(files))
                    .await
                    .map_err(|e| StartError::Tls(e.to_string()))?;
                Some(Arc::new(loaded.map_err(StartError::Tls)?))
            }
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let (path, sync) = (config.database.path.clone(), config.sync);
        let (max_bytes, checkpoints) = (config.max_database_bytes(), config.database.checkpoints());
        let failed = |e: &dyn fmt::Display| {
            StartError::Database(OpenError::Failed(
                config.database.path.clone(),
                e.to_string(),
            ))
        };
        let (db, writer_conn, checkpoint_conn, reaches, key, vapid) =
            tokio::task::spawn_blocking(move || {
                let db = domain::db::Db::open(&path, sync, max_bytes, checkpoints)?;
                let writer_conn = db.dedicated()?;
                let checkpoint_conn = checkpoints.own().then(|| db.dedicated()).transpose()?;
                let failed = |e: domain::error::StoreError| {
                    OpenError::Failed(path.clone(), domain::error::chain(&e))
                };
                let reaches = domain::channels::audiences(&writer_conn).map_err(failed)?;
                let key = domain::attachments::link_key(&writer_conn).map_err(failed)?;
                let made = push::vapid::VapidKey::generate()
                    .map_err(|e| OpenError::Failed(path.clone(), e.to_string()))?;
                let vapid =
                    domain::push::vapid_secret(&writer_conn, || made.secret_bytes().to_vec())
                        .map_err(failed)?;
                Ok((db, writer_conn, checkpoint_conn, reaches, key, vapid))
            })
            .await
            .map_err(|e| failed(&e))?
            .map_err(StartError::Database)?;
        let hub = Arc::new(realtime::hub::Hub::new(realtime::audience::Reaches::new(
            reaches,
        )));
        let links = media::links::Links::new(key);
        let presence = Arc::new(realtime::presence::Presence::default());
        let (push, notifier) =
            push::Push::start(db.clone(), presence.clone(), &config.push, &vapid)
                .map_err(|e| failed(&e))?;
        let writer = writer::Writer::start(
            writer_conn,
            hub.clone(),
            Some(notifier),
            config.clock.clone(),
            links.clone(),
            checkpoints,
            checkpoint_conn,
        )
        .map_err(|e| failed(&e))?;
        let connections = Arc::new(realtime::connections::Connections::default());
        let app = Arc::new(app::State {
            sessions: auth::sessions::Sessions::new(
                db.clone(),
                config.clock.clone(),
                connections.clone(),
            ),
            db,
            passwords: auth::password::Passwords::new(scrypt, config.hash_queue),
            clock: config.clock.clone(),
            hub,
            users: domain::user_cache::UserCache::default(),
            writer,
            presence,
            push,
            typing: realtime::typing::Typing::default(),
            connections,
            realtime: config.realtime.clone(),
            registration: config.registration,
            throttle: auth::throttle::Throttle::new(config.login_throttle),
            channel_rate: per_period(config.channels_per_hour, Duration::from_secs(3600)),
            channels_per_user: config.channels_per_user,
            search_rate: per_period(config.searches_per_minute, MINUTE),
            searches: tokio::sync::Semaphore::new(domain::db::SEARCHES),
            edit_rate: per_period(config.edits_per_minute, MINUTE),
            signal_rate: per_period(config.typing_status_per_second, Duration::from_secs(1)),
            links,
            thumbnails: tokio::sync::Semaphore::new(THUMBNAILS_AT_ONCE),
            max_upload: config.max_upload_mib.saturating_mul(1 << 20),
        });
        Ok(Server {
            listener,
            local_addr,
            app,
            tls,
            config,
        })
    }

    /// The address actually bound (with port 0, the real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then lets requests in flight end
    /// (for a bounded time), closes every websocket with 1001 and
    /// checkpoints the WAL into the database file (unless that is
    /// Litestream's to do).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        process::raise_open_files();
        // Watching SIGHUP before saying "listening": one sent right after
        // must not end the process (the default action).
        let reloads = tokio::spawn(process::reload_on_sighup(self.tls.clone()));
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        tracing::info!(
            address = %self.local_addr,
            database = %self.config.database.path.display(),
            "listening on {scheme}://{}",
            self.local_addr
        );
        let app = self.app.clone();
        let interval = self.config.prune_interval.0;
        let maintenance = tokio::spawn(async move {
            auth::maintain::maintain(&app.db, &app.sessions, &app.users, &app.clock, interval).await
        });
        let app = self.app.clone();
        let shutdown = async move {
            shutdown.await;
            app.connections.shut_down();
        };
        http::server::serve(
            self.listener,
            routes::api(&self.app, &self.config.cors_origins, self.config.local_only),
            self.config.http.clone(),
            self.tls.clone(),
            shutdown,
            GRACE,
        )
        .await;
        reloads.abort();
        let close_wait = self.app.realtime.close_wait + Duration::from_secs(1);
        if tokio::time::timeout(close_wait, self.app.connections.closed())
            .await
            .is_err()
        {
            tracing::warn!("websockets still open after {close_wait:?}; dropping them");
        }
        maintenance.abort();
        // Pending session renewals, then one self-contained file.
        let log = |e: &domain::error::StoreError| {
            tracing::error!(cause = %domain::error::chain(e), "cannot stop cleanly");
        };
        if let Err(e) = self.app.sessions.persist(false).await {
            log(&e);
        }
        if self.config.database.litestream {
            // Litestream must read what is in the WAL before it leaves it.
            tracing::info!("stopped; checkpoints are left to Litestream");
            return;
        }
        match self.app.db.checkpoint().await {
            Ok(()) => tracing::info!("stopped; the database is checkpointed"),
            Err(e) => log(&e),
        }
    }
}
