//! One websocket connection, once upgraded: a client authenticates with
//! its token, then hears every event the hub publishes.
//!
//! Each connection is two tasks: a reader that handles the client's frames,
//! deadlines and the hub's events, and a writer that drains a bounded queue
//! into the socket. The reader never waits on the writer: when the queue is
//! full the client is too slow, and it is closed with 1008 `lagged`.

use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::frames::{self, Session};
use crate::app::App;
use crate::realtime::connections::{Ending, stopping};
use crate::realtime::hub::Frame;

/// The largest frame or message a client may send.
const MAX_INCOMING: usize = 64 * 1024;

/// An upgraded connection.
type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Small buffers: the read buffer is allocated whole when the connection
/// opens and held while it idles (tungstenite's default is 128 KiB); it
/// grows for a bigger frame. At 4 KiB it was 40 % of an idle connection's
/// heap (massif, 2,000 connections); 512 bytes hold a client's usual frame.
pub(super) fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0) // each frame goes out as it is sent
        .max_write_buffer_size(MAX_INCOMING * 4)
        .max_message_size(Some(MAX_INCOMING))
        .max_frame_size(Some(MAX_INCOMING))
}

/// Why the server ends a connection: a close code and reason.
type Close = (u16, &'static str);
const NOT_AUTHENTICATED: Close = (1008, "not authenticated");
const IDLE: Close = (1008, "idle");
const LAGGED: Close = (1008, "lagged");
const REVOKED: Close = (1008, "token revoked");
const EXPIRED: Close = (1008, "session expired");
const SHUTTING_DOWN: Close = (1001, "server shutting down");

/// What the writer sends.
enum Outbound {
    Text(&'static str),
    Frame(Utf8Bytes),
    Ping,
}

/// Serves one upgraded connection until it closes.
pub(super) async fn run(app: App, socket: Socket) {
    let limits = &app.realtime;
    let _open = app.connections.open();
    let (sink, mut incoming) = socket.split();
    let (queue, queued) = mpsc::channel(limits.queue);
    let (close, close_requested) = oneshot::channel();
    let writer = tokio::spawn(write(sink, queued, close_requested, limits.close_wait));

    let mut shutdown = app.connections.shutdown_signal();
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
                    Message::Text(text) => frames::on_text(&app, text, &mut session).await,
                    Message::Binary(_) => Some(frames::BAD_REQUEST.as_str()),
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
                Signal::Event(Ok(frame)) => {
                    let mine = session.as_ref().is_some_and(|s| frame.to.includes(&s.user));
                    if mine && queue.try_send(Outbound::Frame(frame.text)).is_err() {
                        break Some(LAGGED);
                    }
                }
                Signal::Event(Err(broadcast::error::RecvError::Lagged(_))) => break Some(LAGGED),
                Signal::Event(Err(broadcast::error::RecvError::Closed)) => {
                    break Some(SHUTTING_DOWN);
                }
                Signal::Ended(Ending::Revoked) => break Some(REVOKED),
                Signal::Ended(Ending::Expired) => break Some(EXPIRED),
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
        app.connections.unregister(session.id);
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

/// What an authenticated connection hears besides its client.
enum Signal {
    /// The hub published (or this connection fell too far behind it).
    Event(Result<Frame, broadcast::error::RecvError>),
    /// The registry ended the connection (it holds the sender, and only
    /// ever lets go of it to end the connection).
    Ended(Ending),
}

/// The next [`Signal`], once authenticated; never completes before.
async fn next_signal(session: &mut Option<Session>) -> Signal {
    let Some(session) = session else {
        return std::future::pending().await;
    };
    tokio::select! {
        biased;
        why = &mut session.ended => Signal::Ended(why.unwrap_or(Ending::Revoked)),
        event = session.events.recv() => Signal::Event(event),
    }
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
