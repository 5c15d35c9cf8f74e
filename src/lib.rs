//! azuma: a small, fast Azuma chat server backed by one SQLite file.
//!
//! [`Server::bind`] opens the database and the listening socket from a
//! [`Config`]; [`Server::run`] serves until a shutdown future completes.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::{Reply, Response};

pub mod admin;
mod channel;
mod clock;
pub mod cors;
mod db;
mod error;
mod hub;
mod index;
mod json;
mod message;
pub mod password;
mod presence;
mod server;
mod session;
mod throttle;
mod user;
mod writer;
mod ws;

pub use clock::{Clock, Timestamp};
pub use db::{OpenError, SyncMode};
pub use throttle::Policy as LoginThrottle;
pub use ws::Limits as RealtimeLimits;

/// How long requests in flight may take to finish at shutdown.
const GRACE: Duration = Duration::from_secs(10);

/// Everything a server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The SQLite file, created on first start.
    pub database: PathBuf,
    /// How often expired sessions are deleted.
    pub prune_interval: Duration,
    /// Origins allowed by CORS (see [`cors::parse_origin`]); empty for none.
    pub cors_origins: Vec<String>,
    /// Cost of new password hashes.
    pub scrypt: scrypt::Params,
    /// The clock sessions expire by.
    pub clock: Clock,
    /// Websocket deadlines and queue size.
    pub realtime: RealtimeLimits,
    /// Whether `POST /user/register` is open to anyone.
    pub registration_open: bool,
    /// What a committed write survives.
    pub sync: SyncMode,
    /// How many failed logins are let through.
    pub login_throttle: LoginThrottle,
}

impl Config {
    /// The defaults, serving `database` on 127.0.0.1:8080.
    pub fn new(database: impl Into<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: database.into(),
            prune_interval: Duration::from_secs(60),
            cors_origins: Vec::new(),
            scrypt: password::default_params(),
            clock: Clock::default(),
            realtime: RealtimeLimits::default(),
            registration_open: true,
            sync: SyncMode::default(),
            login_throttle: LoginThrottle::default(),
        }
    }
}

/// Why a server could not start. Each displays as one line.
#[derive(Debug)]
pub enum StartError {
    /// The address could not be bound (in use, not permitted...).
    Listen(SocketAddr, std::io::Error),
    /// The database could not be opened or migrated.
    Database(OpenError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Listen(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::Database(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StartError {}

/// What every handler shares.
pub(crate) struct State {
    pub db: db::Db,
    pub passwords: password::Passwords,
    pub clock: Clock,
    pub hub: Arc<hub::Hub>,
    pub sessions: session::Sessions,
    pub users: user::Users,
    pub writer: writer::Writer,
    pub presence: presence::Presence,
    pub connections: ws::Connections,
    pub realtime: RealtimeLimits,
    pub registration_open: bool,
    pub throttle: throttle::Throttle,
}

/// Shared handle on the [`State`].
pub(crate) type App = Arc<State>;

/// A filter handing each request the [`App`].
pub(crate) fn with_app(
    app: &App,
) -> impl Filter<Extract = (App,), Error = Infallible> + Clone + use<> {
    let app = app.clone();
    warp::any().map(move || app.clone())
}

/// Locks `mutex`, carrying on past a panic that poisoned it: every state
/// guarded this way stays consistent between statements.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Parses an id from a path, query or body: malformed is a 400 naming `what`.
pub(crate) fn parse_id(text: &str, what: &str) -> Result<uuid::Uuid, error::ApiError> {
    uuid::Uuid::try_parse(text)
        .map_err(|_| error::ApiError::BadRequest(format!("malformed {what} id {text:?}")))
}

/// A bound, ready server.
pub struct Server {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    app: App,
    config: Config,
}

impl Server {
    /// Binds the listening socket, then opens and migrates the database.
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let (path, sync) = (config.database.clone(), config.sync);
        let (db, writer_conn) = tokio::task::spawn_blocking(move || {
            let db = db::Db::open(&path, sync)?;
            let writer_conn = db.dedicated()?;
            Ok((db, writer_conn))
        })
        .await
        .map_err(|e| {
            StartError::Database(OpenError::Failed(config.database.clone(), e.to_string()))
        })?
        .map_err(StartError::Database)?;
        let hub = Arc::new(hub::Hub::default());
        let writer = writer::Writer::start(writer_conn, hub.clone(), config.clock.clone())
            .map_err(|e| {
                StartError::Database(OpenError::Failed(config.database.clone(), e.to_string()))
            })?;
        let app = Arc::new(State {
            db,
            passwords: password::Passwords::new(config.scrypt),
            clock: config.clock.clone(),
            hub,
            sessions: session::Sessions::default(),
            users: user::Users::default(),
            writer,
            presence: presence::Presence::default(),
            connections: ws::Connections::default(),
            realtime: config.realtime.clone(),
            registration_open: config.registration_open,
            throttle: throttle::Throttle::new(config.login_throttle),
        });
        Ok(Server {
            listener,
            local_addr,
            app,
            config,
        })
    }

    /// The address actually bound (with port 0, the real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then lets requests in flight end
    /// (for a bounded time), closes every websocket with 1001 and
    /// checkpoints the WAL into the database file.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        tracing::info!(
            address = %self.local_addr,
            database = %self.config.database.display(),
            "listening on http://{}",
            self.local_addr
        );
        let maintenance = tokio::spawn(session::maintain(
            self.app.clone(),
            self.config.prune_interval,
        ));
        let app = self.app.clone();
        let shutdown = async move {
            shutdown.await;
            app.connections.shut_down();
        };
        server::serve(
            self.listener,
            routes(&self.app, &self.config.cors_origins),
            shutdown,
            GRACE,
        )
        .await;
        let close_wait = self.app.realtime.close_wait + Duration::from_secs(1);
        if tokio::time::timeout(close_wait, self.app.connections.closed())
            .await
            .is_err()
        {
            tracing::warn!("websockets still open after {close_wait:?}; dropping them");
        }
        maintenance.abort();
        // Pending session renewals, then one self-contained file.
        if let Err(e) = session::persist(&self.app, false).await {
            e.log();
        }
        match self.app.db.checkpoint().await {
            Ok(()) => tracing::info!("stopped; the database is checkpointed"),
            Err(e) => e.log(),
        }
    }
}

/// The whole API: every resource's routes, CORS, errors and the access log.
///
/// | routes | module |
/// |---|---|
/// | `GET /`, `GET /health` | `index` |
/// | `/user/...` | `user` (tokens in `session`) |
/// | `/channel`, `/channel/{id}` | `channel` |
/// | `/message/send`, `/channel/{id}/messages` | `message` |
/// | `/init_ws` | `ws` (statuses in `presence`, events from `hub`) |
fn routes(app: &App, cors_origins: &[String]) -> BoxedFilter<(Response,)> {
    let api = index::routes(app)
        .or(user::routes(app))
        .unify()
        .or(channel::routes(app))
        .unify()
        .or(message::routes(app))
        .unify()
        .or(ws::routes(app))
        .unify()
        .recover(error::recover)
        .unify();
    // CORS wraps the recovered API so error responses carry its headers too;
    // its own refusals are recovered outside it.
    let api = match cors::filter(cors_origins) {
        Some(cors) => api
            .with(cors)
            .map(Reply::into_response)
            .recover(error::recover)
            .unify()
            .boxed(),
        None => api.boxed(),
    };
    api.with(warp::log::custom(|info| {
        tracing::info!(
            method = %info.method(),
            path = info.path(),
            status = info.status().as_u16(),
            micros = info.elapsed().as_micros() as u64,
            "request"
        );
    }))
    .map(Reply::into_response)
    .boxed()
}
