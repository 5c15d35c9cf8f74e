//! The one place realtime fan-out starts: handlers publish [`Event`]s, each
//! serialised once into a frame that every subscriber shares.

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

/// Something every connected client hears about.
#[derive(Debug, Serialize)]
#[serde(tag = "type", content = "content")]
pub enum Event<'a> {
    /// A message was stored.
    Message(&'a Message),
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
        onlinestatus: &'static str,
    },
}

/// A serialised event, shared (not copied) by every subscriber.
pub type Frame = tokio_tungstenite::tungstenite::Utf8Bytes;

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
            Ok(frame) => drop(self.frames.send(Frame::from(frame))),
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
            assert_eq!(
                frame.as_str(),
                format!(r#"{{"type":"ChannelDeleted","content":{{"id":"{id}"}}}}"#)
            );
        }
        assert!(frames.try_recv().is_err());
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
