//! What a client says over its websocket, and the server's answers:
//! `Authenticate` and `Typing`, and the `Welcome` and `Error` frames.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

use crate::app::App;
use crate::domain::channels;
use crate::domain::error::{StoreError, chain};
use crate::http::error::Code;
use crate::realtime::connections::Ending;
use crate::realtime::hub::{Event, Frame};

/// What a client may send.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "content")]
pub(in crate::routes) enum ClientFrame {
    /// Signs the connection in; answered by `Welcome` or `Error`.
    Authenticate {
        #[schema(value_type = uuid::Uuid)]
        token: String,
    },
    /// The user is typing in a channel.
    Typing {
        #[schema(value_type = uuid::Uuid)]
        channel: String,
    },
}

/// The server's answers to a client's frames (its events are
/// `ServerEvent`s).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "content")]
#[schema(as = ServerAnswer)]
pub(in crate::routes) enum Answer {
    /// The connection is authenticated: events follow.
    Welcome,
    /// A frame was refused; the connection stays open.
    Error { message: Code },
}

/// An answer's frame (it cannot fail to serialise: no maps, no floats).
fn text(answer: &Answer) -> String {
    serde_json::to_string(answer).unwrap_or_default()
}

/// An `Error` frame's text.
fn error(message: Code) -> String {
    text(&Answer::Error { message })
}

// Each answer, serialised once.
static WELCOME: LazyLock<String> = LazyLock::new(|| text(&Answer::Welcome));
static UNAUTHORIZED: LazyLock<String> = LazyLock::new(|| error(Code::Unauthorized));
pub(super) static BAD_REQUEST: LazyLock<String> = LazyLock::new(|| error(Code::BadRequest));
static UNAVAILABLE: LazyLock<String> = LazyLock::new(|| error(Code::ServiceUnavailable));
static INTERNAL: LazyLock<String> = LazyLock::new(|| error(Code::InternalServerError));
static NOT_FOUND: LazyLock<String> = LazyLock::new(|| error(Code::NotFound));
static LIMITED: LazyLock<String> = LazyLock::new(|| error(Code::TooManyRequests));

/// A user who has authenticated on this connection.
pub(super) struct Session {
    pub(super) id: u64,
    pub(super) user: Uuid,
    pub(super) events: broadcast::Receiver<Frame>,
    pub(super) ended: oneshot::Receiver<Ending>,
}

/// Handles a text frame; returns the reply, if any.
pub(super) async fn on_text(
    app: &App,
    text: &str,
    session: &mut Option<Session>,
) -> Option<&'static str> {
    match serde_json::from_str(text) {
        Ok(ClientFrame::Authenticate { token }) => authenticate(app, &token, session).await,
        Ok(ClientFrame::Typing { channel }) => match session {
            Some(session) => typing(app, &channel, session.user).await,
            None => Some(UNAUTHORIZED.as_str()),
        },
        Err(_) => Some(BAD_REQUEST.as_str()),
    }
}

/// Relays that `user` is typing in `channel` to everyone else, unless they
/// did so moments ago, or their typing-and-status budget is spent (then
/// the frame is dropped without a word, before any lookup).
async fn typing(app: &App, channel: &str, user: Uuid) -> Option<&'static str> {
    let Ok(channel) = Uuid::try_parse(channel) else {
        return Some(BAD_REQUEST.as_str());
    };
    let now = std::time::Instant::now();
    if !app.typing.due(user, channel, now) || app.signal_rate.take(user, app.clock.now()).is_err() {
        return None;
    }
    match app
        .db
        .run(move |conn| channels::seen(conn, &user, &channel))
        .await
    {
        Ok(Some(_)) => {
            if app.typing.relayed(user, channel, now) {
                app.hub.publish(&Event::Typing { channel, user });
            }
            None
        }
        Ok(None) => Some(NOT_FOUND.as_str()),
        Err(e) => Some(store_failure(&e)),
    }
}

/// The error frame for a storage failure, which is logged.
fn store_failure(e: &StoreError) -> &'static str {
    tracing::warn!(cause = %chain(e), "a websocket frame failed");
    match e {
        StoreError::Busy(_) | StoreError::Full(_) => UNAVAILABLE.as_str(),
        StoreError::Failed(_) => INTERNAL.as_str(),
    }
}

/// Authenticates the connection with `token`.
async fn authenticate(
    app: &App,
    token: &str,
    session: &mut Option<Session>,
) -> Option<&'static str> {
    if session.is_some() {
        return Some(BAD_REQUEST.as_str());
    }
    let Ok(token) = Uuid::try_parse(token) else {
        return Some(UNAUTHORIZED.as_str());
    };
    // Subscribe before the Welcome, so nothing after it is missed.
    let events = app.hub.subscribe();
    let (found, registered) = match app.sessions.check_and_register(&token).await {
        Ok(Some(found)) => found,
        Ok(None) => return Some(UNAUTHORIZED.as_str()),
        Err(e) => return Some(store_failure(&e)),
    };
    // The Status this may publish waits in `events` until the reader's next
    // turn, so the client sees the Welcome first. Coming online counts
    // against the user's budget: connecting over and over cannot flood
    // everyone with Status events.
    let charge = || app.signal_rate.take(found.user_id, app.clock.now());
    if app
        .presence
        .connected(found.user_id, &app.hub, charge)
        .is_err()
    {
        app.connections.unregister(registered.id);
        return Some(LIMITED.as_str());
    }
    *session = Some(Session {
        id: registered.id,
        user: found.user_id,
        events,
        ended: registered.ended,
    });
    Some(WELCOME.as_str())
}
