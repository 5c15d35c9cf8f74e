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

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{Instant, timeout};
use uuid::Uuid;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::ws::{Message, WebSocket, Ws};
use warp::reply::{Reply, Response};

use crate::error::ApiError;
use crate::hub::Frame;
use crate::session::{self, TokenHash};
use crate::{App, with_app};

/// The largest frame or message a client may send.
const MAX_INCOMING: usize = 64 * 1024;

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
        self.authenticated
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        .and(warp::ws())
        .and(with_app(app))
        .map(|ws: Ws, app: App| {
            ws.max_message_size(MAX_INCOMING)
                .max_frame_size(MAX_INCOMING)
                .on_upgrade(move |socket| connection(app, socket))
                .into_response()
        })
        .boxed()
}

/// A user who has authenticated on this connection.
struct Session {
    id: u64,
    user: Uuid,
    events: broadcast::Receiver<Frame>,
    revoked: oneshot::Receiver<()>,
}

async fn connection(app: App, socket: WebSocket) {
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
                if message.is_close() {
                    break None; // tungstenite answers the close itself
                }
                let reply = if let Ok(text) = message.to_str() {
                    on_text(&app, text, &mut session).await
                } else if message.is_binary() {
                    Some(BAD_REQUEST)
                } else {
                    None // ping (answered by tungstenite) or pong
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
    let hash = session::digest(&token);
    let now = app.clock.now();
    let user = match app
        .db
        .run(move |conn| session::authenticate(conn, hash, now))
        .await
    {
        Ok(found) => found.user_id,
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
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
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
            Outbound::Text(text) => Message::text(text),
            Outbound::Frame(frame) => Message::text(&*frame),
            Outbound::Ping => Message::ping(Vec::new()),
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
        let _ = timeout(close_wait, sink.send(Message::close_with(code, why))).await;
    }
}
