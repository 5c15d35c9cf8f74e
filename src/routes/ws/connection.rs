//! One websocket connection, once upgraded: a client authenticates with
//! its token, then hears every event the hub publishes.
//!
//! Each connection is one task: it handles the client's frames, deadlines
//! and the hub's events, and queues what it answers in a bounded outbox
//! that it drains into the socket as the socket takes it. Nothing waits on
//! a slow client: when the outbox is full the client is too slow, and it
//! is closed with 1008 `lagged`. (One task, not a reader and a writer: a
//! second task and a channel between them were 2.8 KB of an idle
//! connection's 9.7 KB of heap, and a second wake-up per event.)

use std::collections::VecDeque;
use std::task::{Context, Poll, ready};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::sync::broadcast;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

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

/// What the connection sends.
enum Outbound {
    Text(&'static str),
    Frame(Utf8Bytes),
    Ping,
}

/// Serves one upgraded connection until it closes.
pub(super) async fn run(app: App, socket: Socket) {
    let limits = &app.realtime;
    let _open = app.connections.open();
    let (mut sink, mut incoming) = socket.split();
    let mut outbox = Outbox {
        queued: VecDeque::new(),
        most: limits.queue,
        unflushed: false,
    };

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
                    && !outbox.push(Outbound::Text(reply))
                {
                    break Some(LAGGED);
                }
            }
            signal = next_signal(&mut session) => match signal {
                Signal::Event(Ok(frame)) => {
                    let mine = session.as_ref().is_some_and(|s| frame.to.includes(&s.user));
                    if mine && !outbox.push(Outbound::Frame(frame.text)) {
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
                if !outbox.push(Outbound::Ping) {
                    break Some(LAGGED);
                }
            }
            sent = std::future::poll_fn(|cx| outbox.drain(&mut sink, cx)), if outbox.busy() => {
                if sent.is_err() {
                    break None; // gone
                }
            }
            () = stopping(&mut shutdown) => break Some(SHUTTING_DOWN),
        }
    };

    if let Some(session) = session {
        app.connections.unregister(session.id);
        app.presence.disconnected(session.user, &app.hub);
    }
    // Whatever is still queued is dropped: the close frame goes next, and
    // gets `close_wait` to leave (a client that does not read never takes
    // it).
    if let Some((code, why)) = reason {
        let close = Message::Close(Some(CloseFrame {
            code: code.into(),
            reason: Utf8Bytes::from_static(why),
        }));
        let _ = timeout(limits.close_wait, sink.send(close)).await;
    }
}

/// Frames waiting for the socket, at most `most`.
struct Outbox {
    queued: VecDeque<Outbound>,
    most: usize,
    /// Frames were handed to the socket and not yet flushed.
    unflushed: bool,
}

impl Outbox {
    /// Queues `frame`; false if the outbox is full (the client is too slow).
    fn push(&mut self, frame: Outbound) -> bool {
        if self.queued.len() >= self.most {
            return false;
        }
        self.queued.push_back(frame);
        true
    }

    /// Whether there is anything to send or flush.
    fn busy(&self) -> bool {
        self.unflushed || !self.queued.is_empty()
    }

    /// Hands queued frames to the socket as it takes them, then flushes.
    /// Cancel-safe: a frame leaves the queue only when the socket has it.
    fn drain(
        &mut self,
        sink: &mut SplitSink<Socket, Message>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), tungstenite::Error>> {
        while !self.queued.is_empty() {
            ready!(sink.poll_ready_unpin(cx))?;
            let Some(next) = self.queued.pop_front() else {
                break;
            };
            let message = match next {
                Outbound::Text(text) => Message::Text(Utf8Bytes::from_static(text)),
                Outbound::Frame(frame) => Message::Text(frame),
                Outbound::Ping => Message::Ping(bytes::Bytes::new()),
            };
            sink.start_send_unpin(message)?;
            self.unflushed = true;
        }
        ready!(sink.poll_flush_unpin(cx))?;
        self.unflushed = false;
        Poll::Ready(Ok(()))
    }
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
