//! The one place realtime fan-out starts: handlers publish [`Event`]s, each
//! serialised once into a frame that every subscriber shares. A frame says
//! whom it is for (see `audience`: a private channel's frames are for its
//! members); each connection skips what is not for its user.

use std::sync::Mutex;

use rusqlite::Transaction;
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::channels::Channel;
use crate::domain::messages::Message;
use crate::sync::lock;

pub use super::audience::{Audience, Reaches};

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
    /// Someone joined a private channel: for its members, the new one
    /// included, who first gets `ChannelCreated` for it.
    MemberAdded {
        /// The channel.
        channel: Uuid,
        /// Who joined.
        user: Uuid,
        /// The channel, as the new member's `ChannelCreated` shows it.
        #[serde(skip)]
        joined: &'a Channel,
    },
    /// Someone left or was removed from a private channel: for its
    /// members, the one who left included; nothing of the channel reaches
    /// them after it.
    MemberRemoved {
        /// The channel.
        channel: Uuid,
        /// Who left.
        user: Uuid,
    },
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
    /// Who hears of each channel; held from commit to publish, so that
    /// frames go out in commit order, each to the audience of its moment.
    order: Mutex<Reaches>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(Reaches::default())
    }
}

impl Hub {
    /// A hub whose channels reach as `reaches` says.
    pub fn new(reaches: Reaches) -> Hub {
        Hub {
            frames: broadcast::channel(CAPACITY).0,
            order: Mutex::new(reaches),
        }
    }

    /// Commits `tx`, then publishes the events it stored, in order. Events
    /// go out in the order their transactions commit.
    pub fn commit_and_publish(
        &self,
        tx: Transaction<'_>,
        events: &[Event<'_>],
    ) -> rusqlite::Result<()> {
        let mut reaches = lock(&self.order);
        tx.commit()?;
        for event in events {
            self.publish_in(&mut reaches, event);
        }
        Ok(())
    }

    /// Publishes `event`, which stored nothing (a status, typing).
    pub fn publish(&self, event: &Event<'_>) {
        self.publish_in(&mut lock(&self.order), event);
    }

    /// Publishes `event` to whom `reaches` says, keeping `reaches` up to
    /// date with the membership it changes.
    fn publish_in(&self, reaches: &mut Reaches, event: &Event<'_>) {
        let to = match event {
            Event::Message(m) | Event::MessageUpdated(m) => reaches.of(&m.channel),
            Event::MessageDeleted { channel, .. } => reaches.of(channel),
            Event::ReadMarker { user, .. } => Audience::Only(*user),
            Event::Typing { channel, user } => reaches.of(channel).but(*user),
            Event::Status { .. } => Audience::Everyone,
            Event::ChannelCreated(channel) => {
                reaches.set(channel.id, channel.members.clone());
                reaches.of(&channel.id)
            }
            Event::MemberAdded {
                channel,
                user,
                joined,
            } => {
                reaches.add(channel, *user);
                self.send(&Event::ChannelCreated(joined), Audience::Only(*user));
                reaches.of(channel)
            }
            Event::MemberRemoved { channel, user } => {
                let to = reaches.of(channel);
                reaches.remove(channel, user);
                to
            }
            Event::ChannelDeleted { id } => {
                let to = reaches.of(id);
                reaches.forget(id);
                to
            }
        };
        self.send(event, to);
    }

    /// Serialises `event` once and hands it to every subscriber, if any
    /// and if it is for anyone.
    fn send(&self, event: &Event<'_>, to: Audience) {
        if self.frames.receiver_count() == 0 || to == Audience::Nobody {
            return;
        }
        match serde_json::to_string(event) {
            // No receivers left since the check is fine: nobody to tell.
            Ok(text) => drop(self.frames.send(Frame {
                text: text.into(),
                to,
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
        let ids = [Uuid::new_v4(), Uuid::new_v4()];
        let hub = Hub::new(Reaches::new(ids.map(|id| (id, None))));
        let mut frames = hub.subscribe();
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
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
        let (me, you) = (Uuid::new_v4(), Uuid::new_v4());
        let (channel, message) = (Uuid::new_v4(), Uuid::new_v4());
        let hub = Hub::new(Reaches::new([(channel, None)]));
        let mut frames = hub.subscribe();
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
