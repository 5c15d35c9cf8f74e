//! What a client says over its websocket, and the server's answers:
//! `Authenticate` and `Typing`, and the `Welcome` and `Error` frames.

use serde::Deserialize;
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

use crate::app::App;
use crate::domain::channels;
use crate::domain::error::{StoreError, chain};
use crate::realtime::connections::Ending;
use crate::realtime::hub::{Event, Frame};

const WELCOME: &str = r#"{"type":"Welcome"}"#;
const UNAUTHORIZED: &str = r#"{"type":"Error","content":{"message":"UNAUTHORIZED"}}"#;
pub(super) const BAD_REQUEST: &str = r#"{"type":"Error","content":{"message":"BAD_REQUEST"}}"#;
const UNAVAILABLE: &str = r#"{"type":"Error","content":{"message":"SERVICE_UNAVAILABLE"}}"#;
const INTERNAL: &str = r#"{"type":"Error","content":{"message":"INTERNAL_SERVER_ERROR"}}"#;
const NOT_FOUND: &str = r#"{"type":"Error","content":{"message":"NOT_FOUND"}}"#;

#[derive(Deserialize)]
#[serde(tag = "type", content = "content")]
enum ClientFrame {
    Authenticate { token: String },
    Typing { channel: String },
}

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
            None => Some(UNAUTHORIZED),
        },
        Err(_) => Some(BAD_REQUEST),
    }
}

/// Relays that `user` is typing in `channel` to everyone else, unless they
/// did so moments ago (then the frame is dropped without a word).
async fn typing(app: &App, channel: &str, user: Uuid) -> Option<&'static str> {
    let Ok(channel) = Uuid::try_parse(channel) else {
        return Some(BAD_REQUEST);
    };
    if !app.typing.relay(user, channel, std::time::Instant::now()) {
        return None;
    }
    match app.db.run(move |conn| channels::seq(conn, &channel)).await {
        Ok(Some(_)) => {
            app.hub.publish(&Event::Typing { channel, user });
            None
        }
        Ok(None) => Some(NOT_FOUND),
        Err(e) => Some(store_failure(&e)),
    }
}

/// The error frame for a storage failure, which is logged.
fn store_failure(e: &StoreError) -> &'static str {
    tracing::warn!(cause = %chain(e), "a websocket frame failed");
    match e {
        StoreError::Busy(_) => UNAVAILABLE,
        StoreError::Failed(_) => INTERNAL,
    }
}

/// Authenticates the connection with `token`.
async fn authenticate(
    app: &App,
    token: &str,
    session: &mut Option<Session>,
) -> Option<&'static str> {
    if session.is_some() {
        return Some(BAD_REQUEST);
    }
    let Ok(token) = Uuid::try_parse(token) else {
        return Some(UNAUTHORIZED);
    };
    // Subscribe before the Welcome, so nothing after it is missed.
    let events = app.hub.subscribe();
    let (found, registered) = match app.sessions.check_and_register(&token).await {
        Ok(Some(found)) => found,
        Ok(None) => return Some(UNAUTHORIZED),
        Err(e) => return Some(store_failure(&e)),
    };
    *session = Some(Session {
        id: registered.id,
        user: found.user_id,
        events,
        ended: registered.ended,
    });
    // The Status this may publish waits in `events` until the reader's next
    // turn, so the client sees the Welcome first.
    app.presence.connected(found.user_id, &app.hub);
    Some(WELCOME)
}
