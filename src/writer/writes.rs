//! The writes the writer takes, what each stores, and the events each
//! publishes after the commit.

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::domain::channels::{self, Channel};
use crate::domain::clock::Timestamp;
use crate::domain::error::{Refusal, StoreError, cause};
use crate::domain::markers::{self, Marker};
use crate::domain::messages::{self, Deleted, Message};
use crate::domain::names::MessageContent;
use crate::realtime::hub::Event;

/// A write waiting for the writer.
pub enum Write {
    Send {
        channel: Uuid,
        author: Uuid,
        content: MessageContent,
    },
    Edit {
        id: Uuid,
        by: Uuid,
        content: MessageContent,
    },
    DeleteMessage {
        id: Uuid,
        by: Uuid,
    },
    MarkRead {
        user: Uuid,
        channel: Uuid,
        message: Uuid,
    },
    /// A channel, unless its owner has this many (0: no limit).
    CreateChannel(Channel, u32),
    DeleteChannel {
        id: Uuid,
        by: Uuid,
    },
    /// Nothing: that the batch carrying it committed shows the database
    /// takes writes (`/health`).
    Probe,
}

/// Where a write's result goes: one kind per kind of result.
pub enum Reply {
    Message(oneshot::Sender<Result<Message, Refusal>>),
    Channel(oneshot::Sender<Result<Channel, Refusal>>),
    Done(oneshot::Sender<Result<(), Refusal>>),
}

/// What a write stored: its result, and what its events say.
pub enum Stored {
    /// A message, the sender's marker if it moved, and the message's seq
    /// (for the search index).
    Sent(Message, Option<Marker>, i64),
    Edited(Message),
    MessageDeleted(Deleted),
    Marked(Option<Marker>),
    Channel(Channel),
    ChannelDeleted(Uuid),
    Probed,
}

impl Write {
    /// Whether this write stores a new message (which the batch indexes for
    /// search at its end, or before anything that edits or deletes).
    pub fn is_send(&self) -> bool {
        matches!(self, Write::Send { .. })
    }

    /// Stores this write on `conn`, inside the batch's transaction.
    pub fn apply(self, conn: &rusqlite::Connection, now: Timestamp) -> Result<Stored, Refusal> {
        match self {
            Write::Send {
                channel,
                author,
                content,
            } => {
                let (message, place) = messages::insert(conn, channel, author, content, now)?;
                // Sending moves the sender's own read marker.
                let marker = markers::sent(conn, &message, place)?;
                Ok(Stored::Sent(message, marker, place.seq))
            }
            Write::Edit { id, by, content } => {
                messages::edit(conn, &id, &by, content, now).map(Stored::Edited)
            }
            Write::DeleteMessage { id, by } => {
                messages::delete(conn, &id, &by).map(Stored::MessageDeleted)
            }
            Write::MarkRead {
                user,
                channel,
                message,
            } => markers::mark(conn, &user, &channel, &message).map(Stored::Marked),
            Write::CreateChannel(channel, most) => {
                if most > 0 && channels::owned_by(conn, &channel.owner)? >= i64::from(most) {
                    // Deleting one frees a place; otherwise, no sooner than an hour.
                    return Err(Refusal::Limited(std::time::Duration::from_secs(3600)));
                }
                channels::insert(conn, &channel)?;
                Ok(Stored::Channel(channel))
            }
            Write::DeleteChannel { id, by } => {
                channels::delete_owned(conn, &id, &by, now)?;
                Ok(Stored::ChannelDeleted(id))
            }
            Write::Probe => Ok(Stored::Probed),
        }
    }
}

impl Stored {
    /// The events it publishes, in order.
    pub fn events(&self) -> impl Iterator<Item = Event<'_>> {
        let (first, marker) = match self {
            Stored::Sent(m, marker, _) => (Some(Event::Message(m)), marker.as_ref()),
            Stored::Edited(m) => (Some(Event::MessageUpdated(m)), None),
            Stored::MessageDeleted(d) => (
                Some(Event::MessageDeleted {
                    id: d.id,
                    channel: d.channel,
                }),
                None,
            ),
            Stored::Marked(marker) => (None, marker.as_ref()),
            Stored::Channel(c) => (Some(Event::ChannelCreated(c)), None),
            Stored::ChannelDeleted(id) => (Some(Event::ChannelDeleted { id: *id }), None),
            Stored::Probed => (None, None),
        };
        let marker = marker.map(|m| Event::ReadMarker {
            user: m.user,
            channel: m.channel,
            message: m.message,
        });
        first.into_iter().chain(marker)
    }
}

impl Reply {
    /// Hands `result` to the caller; one who went away (its client is gone)
    /// needs no answer. Each kind of write stores its own kind of object.
    pub fn send(self, result: Result<Stored, Refusal>) {
        let wrong = || Refusal::Store(StoreError::Failed(cause("a write stored another kind")));
        match self {
            Reply::Message(to) => drop(to.send(result.and_then(|stored| match stored {
                Stored::Sent(m, _, _) | Stored::Edited(m) => Ok(m),
                _ => Err(wrong()),
            }))),
            Reply::Channel(to) => drop(to.send(result.and_then(|stored| match stored {
                Stored::Channel(c) => Ok(c),
                _ => Err(wrong()),
            }))),
            Reply::Done(to) => drop(to.send(result.map(drop))),
        }
    }
}
