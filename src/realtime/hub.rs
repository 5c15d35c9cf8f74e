//! The one place realtime fan-out starts: handlers publish [`Event`]s, each
//! serialised once into a frame that every subscriber shares. A frame says
//! whom it is for; each connection skips what is not for its user.

use std::sync::Mutex;

use rusqlite::Transaction;
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::channels::Channel;
use crate::domain::messages::Message;
use crate::sync::lock;

/// Undelivered frames a subscriber may fall behind by before it lags.
const CAPACITY: usize = 1024;

/// Something connected clients hear about.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "content")]
#[schema(as = ServerEvent)]
pub enum Event<'a> {
    /// A message was stored.
    Message(&'a Message),
    /// A message was edited.
    MessageUpdated(&'a Message),
    /// A message was deleted.
    MessageDeleted {
        /// The message's id.
        id: Uuid,
        /// Its channel's id.
        channel: Uuid,
    },
    /// A user's read marker moved: for that user's connections only.
    ReadMarker {
        /// Whose.
        #[serde(skip)]
        user: Uuid,
        /// In which channel.
        channel: Uuid,
        /// The last message read.
        message: Uuid,
    },
    /// A user is typing in a channel: for everyone else.
    Typing {
        /// Where.
        channel: Uuid,
        /// Who.
        user: Uuid,
    },
    /// A channel was created.
    ChannelCreated(&'a Channel),
    /// A channel and its messages were deleted.
    ChannelDeleted {
        /// The deleted channel's id.
        id: Uuid,
    },
    /// What others see of a user's status changed.
    Status {
        /// Whose.
        user: Uuid,
        /// `ONLINE`, `AFK`, `DND` or `OFFLINE`.
        #[schema(value_type = OnlineStatus)]
        onlinestatus: &'static str,
    },
}

/// The schema of a visible status, as `Status` events and `GET /user/...`
/// show it.
pub struct OnlineStatus;

impl OnlineStatus {
    /// Every status others may see.
    pub const ALL: [&str; 4] = ["ONLINE", "AFK", "DND", "OFFLINE"];
}

impl utoipa::PartialSchema for OnlineStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL))
            .into()
    }
}

impl utoipa::ToSchema for OnlineStatus {}

/// Whom a frame is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every authenticated connection.
    Everyone,
    /// One user's connections.
    Only(Uuid),
    /// Everyone's but one user's.
    AllBut(Uuid),
}

impl Audience {
    /// Whether connections of `user` get the frame.
    pub fn includes(self, user: &Uuid) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::Only(only) => only == *user,
            Audience::AllBut(other) => other != *user,
        }
    }
}

impl Event<'_> {
    fn audience(&self) -> Audience {
        match self {
            Event::ReadMarker { user, .. } => Audience::Only(*user),
            Event::Typing { user, .. } => Audience::AllBut(*user),
            _ => Audience::Everyone,
        }
    }
}

/// A serialised event, shared (not copied) by every subscriber, and whom
/// it is for.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The JSON text.
    pub text: tokio_tungstenite::tungstenite::Utf8Bytes,
    /// Whom it is for.
    pub to: Audience,
}

/// The publisher.
pub struct Hub {
    frames: broadcast::Sender<Frame>,
    /// Held from commit to publish, so that frames go out in commit order.
    order: Mutex<()>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            frames: broadcast::channel(CAPACITY).0,
            order: Mutex::new(()),
        }
    }
}

impl Hub {
    /// Commits `tx`, then publishes the events it stored, in order. Events
    /// go out in the order their transactions commit.
    pub fn commit_and_publish(
        &self,
        tx: Transaction<'_>,
        events: &[Event<'_>],
    ) -> rusqlite::Result<()> {
        let _order = lock(&self.order);
        tx.commit()?;
        for event in events {
            self.publish(event);
        }
        Ok(())
    }

    /// Serialises `event` once and hands it to every subscriber, if any.
    pub fn publish(&self, event: &Event<'_>) {
        if self.frames.receiver_count() == 0 {
            return;
        }
        match serde_json::to_string(event) {
            // No receivers left since the check is fine: nobody to tell.
            Ok(text) => drop(self.frames.send(Frame {
                text: text.into(),
                to: event.audience(),
            })),
            Err(e) => tracing::error!(error = %e, "cannot serialise an event"),
        }
    }

    /// A new subscription to every frame published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.frames.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_serialised_frames_in_commit_order() {
        let hub = Hub::default();
        let mut frames = hub.subscribe();
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let ids = [Uuid::new_v4(), Uuid::new_v4()];
        for id in ids {
            let tx = conn.transaction().unwrap();
            hub.commit_and_publish(tx, &[Event::ChannelDeleted { id }])
                .unwrap();
        }
        for id in ids {
            let frame = frames.try_recv().unwrap();
            assert_eq!(frame.to, Audience::Everyone);
            assert_eq!(
                frame.text.as_str(),
                format!(r#"{{"type":"ChannelDeleted","content":{{"id":"{id}"}}}}"#)
            );
        }
        assert!(frames.try_recv().is_err());
    }

    #[test]
    fn markers_go_to_their_user_and_typing_to_the_others() {
        let hub = Hub::default();
        let mut frames = hub.subscribe();
        let (me, you) = (Uuid::new_v4(), Uuid::new_v4());
        let (channel, message) = (Uuid::new_v4(), Uuid::new_v4());
        hub.publish(&Event::ReadMarker {
            user: me,
            channel,
            message,
        });
        hub.publish(&Event::Typing { channel, user: me });
        let marker = frames.try_recv().unwrap();
        assert!(marker.to.includes(&me) && !marker.to.includes(&you));
        assert_eq!(
            marker.text.as_str(),
            format!(
                r#"{{"type":"ReadMarker","content":{{"channel":"{channel}","message":"{message}"}}}}"#
            )
        );
        let typing = frames.try_recv().unwrap();
        assert!(!typing.to.includes(&me) && typing.to.includes(&you));
    }

    #[test]
    fn commits_without_subscribers() {
        let hub = Hub::default();
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let id = Uuid::new_v4();
        hub.commit_and_publish(tx, &[Event::ChannelDeleted { id }])
            .unwrap();
        let stored: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 1, "the transaction was committed");
    }
}
