//! `GET /init_ws`: the realtime connection. A client authenticates with its
//! token, then hears every event the [`Hub`](crate::hub::Hub) publishes.
//!
//! Each connection is two tasks: a reader that handles the client's frames,
//! deadlines and the hub's events, and a writer that drains a bounded queue
//! into the socket. The reader never waits on the writer: when the queue is
//! full the client is too slow, and it is closed with 1008 `lagged`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use uuid::Uuid;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use crate::error::ApiError;
use crate::hub::Frame;
use crate::json::optional_header;
use crate::server::UpgradeSlot;
use crate::session::{self, TokenHash};
use crate::{App, with_app};

/// The largest frame or message a client may send.
const MAX_INCOMING: usize = 64 * 1024;

/// An upgraded connection.
type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Small buffers: tungstenite's default 128 KiB read buffer, zero-filled
/// on first read, would cost 128 KiB of memory per idle connection.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0) // each frame goes out as it is sent
        .max_write_buffer_size(MAX_INCOMING * 4)
        .max_message_size(Some(MAX_INCOMING))
        .max_frame_size(Some(MAX_INCOMING))
}

const WELCOME: &str = r#"{"type":"Welcome"}"#;
const UNAUTHORIZED: &str = r#"{"type":"Error","content":{"message":"UNAUTHORIZED"}}"#;
const BAD_REQUEST: &str = r#"{"type":"Error","content":{"message":"BAD_REQUEST"}}"#;
const UNAVAILABLE: &str = r#"{"type":"Error","content":{"message":"SERVICE_UNAVAILABLE"}}"#;
const INTERNAL: &str = r#"{"type":"Error","content":{"message":"INTERNAL_SERVER_ERROR"}}"#;

/// Websocket deadlines and limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// A connection must authenticate within this.
    pub auth_timeout: Duration,
    /// The server pings this often.
    pub ping_interval: Duration,
    /// A connection silent for this long is closed.
    pub idle_timeout: Duration,
    /// Undelivered frames a connection may have before it is `lagged`.
    pub queue: usize,
    /// How long a close frame may take to leave before the socket is dropped.
    pub close_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            auth_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            queue: 256,
            close_wait: Duration::from_secs(10),
        }
    }
}

/// Why the server ends a connection: a close code and reason.
type Close = (u16, &'static str);
const NOT_AUTHENTICATED: Close = (1008, "not authenticated");
const IDLE: Close = (1008, "idle");
const LAGGED: Close = (1008, "lagged");
const REVOKED: Close = (1008, "token revoked");
const SHUTTING_DOWN: Close = (1001, "server shutting down");

/// What the writer sends.
enum Outbound {
    Text(&'static str),
    Frame(Frame),
    Ping,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "content")]
enum ClientFrame {
    Authenticate { token: String },
}

/// An authenticated connection, as the registry knows it.
struct Authenticated {
    user: Uuid,
    token: TokenHash,
    revoke: oneshot::Sender<()>,
}

/// Every open connection: which token each authenticated with (so that a
/// revocation closes them), and the shutdown signal.
pub struct Connections {
    next_id: AtomicU64,
    authenticated: Mutex<HashMap<u64, Authenticated>>,
    shutdown: watch::Sender<bool>,
    open: watch::Sender<usize>,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            next_id: AtomicU64::new(0),
            authenticated: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            open: watch::channel(0).0,
        }
    }
}

impl Connections {
    /// Closes the connections that authenticated with `token`.
    pub fn revoke_token(&self, token: &TokenHash) {
        self.revoke(|c| c.token == *token);
    }

    /// Closes `user`'s connections, but those authenticated with `keep`.
    pub fn revoke_user_except(&self, user: &Uuid, keep: &TokenHash) {
        self.revoke(|c| c.user == *user && c.token != *keep);
    }

    fn revoke(&self, which: impl Fn(&Authenticated) -> bool) {
        let mut all = self.lock();
        let doomed: Vec<u64> = all
            .iter()
            .filter(|(_, c)| which(c))
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            if let Some(connection) = all.remove(&id) {
                let _ = connection.revoke.send(());
            }
        }
    }

    /// The tokens of every authenticated connection.
    pub fn tokens(&self) -> Vec<TokenHash> {
        self.lock().values().map(|c| c.token).collect()
    }

    /// Tells every connection to close with 1001.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Completes when no connection is open any more.
    pub async fn closed(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|n| *n == 0).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Authenticated>> {
        crate::lock(&self.authenticated)
    }
}

/// Counts a connection as open until dropped.
struct Open<'a>(&'a Connections);

impl<'a> Open<'a> {
    fn new(connections: &'a Connections) -> Self {
        connections.open.send_modify(|n| *n += 1);
        Open(connections)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.send_modify(|n| *n -= 1);
    }
}

/// `GET /init_ws`.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("init_ws")
        .and(warp::get())
        .and(optional_header("connection"))
        .and(optional_header("upgrade"))
        .and(optional_header("sec-websocket-version"))
        .and(optional_header("sec-websocket-key"))
        .and(warp::ext::optional::<UpgradeSlot>())
        .and(with_app(app))
        .and_then(upgrade)
        .boxed()
}

/// Checks the websocket handshake (RFC 6455), answers 101 and starts the
/// connection once the HTTP connection is handed over.
async fn upgrade(
    connection_header: Option<HeaderValue>,
    upgrade_header: Option<HeaderValue>,
    version: Option<HeaderValue>,
    key: Option<HeaderValue>,
    slot: Option<UpgradeSlot>,
    app: App,
) -> Result<Response, warp::Rejection> {
    let lists = |value: &Option<HeaderValue>, token: &str| {
        value
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !lists(&connection_header, "upgrade") || !lists(&upgrade_header, "websocket") {
        return Err(ApiError::BadRequest("this route takes a websocket handshake".into()).into());
    }
    if version.as_ref().map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(ApiError::BadRequest("only websocket version 13 is spoken".into()).into());
    }
    let (Some(key), Some(upgrade)) = (key, slot.and_then(|s| s.take())) else {
        return Err(ApiError::BadRequest("incomplete websocket handshake".into()).into());
    };
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(socket_config()),
                )
                .await;
                connection(app, socket).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|e| ApiError::Internal(format!("accept key: {e}")))?;
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(response)
}

/// A user who has authenticated on this connection.
struct Session {
    id: u64,
    user: Uuid,
    events: broadcast::Receiver<Frame>,
    revoked: oneshot::Receiver<()>,
}

async fn connection(app: App, socket: Socket) {
    let limits = &app.realtime;
    let _open = Open::new(&app.connections);
    let (sink, mut incoming) = socket.split();
    let (queue, queued) = mpsc::channel(limits.queue);
    let (close, close_requested) = oneshot::channel();
    let writer = tokio::spawn(write(sink, queued, close_requested, limits.close_wait));

    let mut shutdown = app.connections.shutdown.subscribe();
    let auth_deadline = Instant::now() + limits.auth_timeout;
    let mut ping =
        tokio::time::interval_at(Instant::now() + limits.ping_interval, limits.ping_interval);
    let mut last_seen = Instant::now();
    let mut session: Option<Session> = None;

    let reason: Option<Close> = loop {
        tokio::select! {
            frame = incoming.next() => {
                let message = match frame {
                    Some(Ok(message)) => message,
                    Some(Err(_)) | None => break None, // gone, or broke the protocol
                };
                last_seen = Instant::now();
                let reply = match &message {
                    Message::Text(text) => on_text(&app, text, &mut session).await,
                    Message::Binary(_) => Some(BAD_REQUEST),
                    Message::Close(_) => {
                        // tungstenite has queued the answering close frame;
                        // reading once more sends it.
                        let _ = timeout(limits.close_wait, incoming.next()).await;
                        break None;
                    }
                    // Pings are answered by tungstenite; pongs are a sign of life.
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
                };
                if let Some(reply) = reply
                    && queue.try_send(Outbound::Text(reply)).is_err()
                {
                    break Some(LAGGED);
                }
            }
            signal = next_signal(&mut session) => match signal {
                Signal::Event(Ok(frame)) => if queue.try_send(Outbound::Frame(frame)).is_err() {
                    break Some(LAGGED);
                },
                Signal::Event(Err(broadcast::error::RecvError::Lagged(_))) => break Some(LAGGED),
                Signal::Event(Err(broadcast::error::RecvError::Closed)) => {
                    break Some(SHUTTING_DOWN);
                }
                Signal::Revoked => break Some(REVOKED),
            },
            () = tokio::time::sleep_until(auth_deadline), if session.is_none() => {
                break Some(NOT_AUTHENTICATED);
            }
            _ = ping.tick() => {
                if last_seen.elapsed() >= limits.idle_timeout {
                    break Some(IDLE);
                }
                if queue.try_send(Outbound::Ping).is_err() {
                    break Some(LAGGED);
                }
            }
            () = stopping(&mut shutdown) => break Some(SHUTTING_DOWN),
        }
    };

    if let Some(session) = session {
        app.connections.lock().remove(&session.id);
        app.presence.disconnected(session.user, &app.hub);
    }
    // The writer ends on a close request, or, with none, once both the
    // queue and the request channel are dropped.
    match reason {
        Some(reason) => drop(close.send(reason)),
        None => drop(close),
    }
    drop(queue);
    let _ = writer.await;
}

/// Handles a text frame; returns the reply, if any.
async fn on_text(app: &App, text: &str, session: &mut Option<Session>) -> Option<&'static str> {
    let Ok(ClientFrame::Authenticate { token }) = serde_json::from_str(text) else {
        return Some(BAD_REQUEST);
    };
    if session.is_some() {
        return Some(BAD_REQUEST);
    }
    let Ok(token) = Uuid::try_parse(&token) else {
        return Some(UNAUTHORIZED);
    };
    let (user, hash) = match session::check(app, &token).await {
        Ok(found) => (found.user_id, found.token_hash),
        Err(ApiError::Unauthorized) => return Some(UNAUTHORIZED),
        Err(e) => {
            e.log();
            return Some(match e {
                ApiError::Unavailable(_) => UNAVAILABLE,
                _ => INTERNAL,
            });
        }
    };
    // Subscribe before the Welcome, so nothing after it is missed.
    let events = app.hub.subscribe();
    let id = app.connections.next_id.fetch_add(1, Ordering::Relaxed);
    let (revoke, revoked) = oneshot::channel();
    app.connections.lock().insert(
        id,
        Authenticated {
            user,
            token: hash,
            revoke,
        },
    );
    *session = Some(Session {
        id,
        user,
        events,
        revoked,
    });
    // The Status this may publish waits in `events` until the reader's next
    // turn, so the client sees the Welcome first.
    app.presence.connected(user, &app.hub);
    Some(WELCOME)
}

/// What an authenticated connection hears besides its client.
enum Signal {
    /// The hub published (or this connection fell too far behind it).
    Event(Result<Frame, broadcast::error::RecvError>),
    /// The token was revoked (the registry, which holds the sender, only
    /// ever lets go of it to revoke).
    Revoked,
}

/// The next [`Signal`], once authenticated; never completes before.
async fn next_signal(session: &mut Option<Session>) -> Signal {
    let Some(session) = session else {
        return std::future::pending().await;
    };
    tokio::select! {
        biased;
        _ = &mut session.revoked => Signal::Revoked,
        event = session.events.recv() => Signal::Event(event),
    }
}

/// Completes once the server is shutting down.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // Err means the server is gone altogether: stopping all the same.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Drains `queued` into the socket until it ends or a close is requested;
/// a requested close frame gets `close_wait` to leave.
async fn write(
    mut sink: SplitSink<Socket, Message>,
    mut queued: mpsc::Receiver<Outbound>,
    mut close_requested: oneshot::Receiver<Close>,
    close_wait: Duration,
) {
    let reason = loop {
        let next = tokio::select! {
            biased;
            reason = &mut close_requested => break reason.ok(),
            next = queued.recv() => next,
        };
        let Some(next) = next else {
            break close_requested.await.ok();
        };
        let message = match next {
            Outbound::Text(text) => Message::Text(Utf8Bytes::from_static(text)),
            Outbound::Frame(frame) => Message::Text(frame),
            Outbound::Ping => Message::Ping(bytes::Bytes::new()),
        };
        // A close request interrupts a send stuck on a client that does not
        // read; the unsent frame stays whole in the socket's buffer.
        tokio::select! {
            biased;
            reason = &mut close_requested => break reason.ok(),
            sent = sink.send(message) => if sent.is_err() {
                return;
            },
        }
    };
    if let Some((code, why)) = reason {
        let close = Message::Close(Some(CloseFrame {
            code: code.into(),
            reason: Utf8Bytes::from_static(why),
        }));
        let _ = timeout(close_wait, sink.send(close)).await;
    }
}
