//! The writes the writer takes, one type each: what it stores, what its
//! caller gets back (`Write::Output`, so the compiler pairs each write with
//! its answer) and the events it publishes after the commit. Adding a write
//! is adding a type here (or, for channels and their members, in
//! `channels`) and calling `Writer::submit` with it.

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::clock::Timestamp;
use crate::domain::error::{Refusal, StoreError};
use crate::domain::markers::{self, Marker};
use crate::domain::messages::{self, Deleted, Message};
use crate::domain::names::MessageContent;
use crate::domain::{attachments, channels};
use crate::media::links::Links;
use crate::realtime::hub::Event;

/// A write the writer stores in a batch's transaction.
pub trait Write: Send + 'static {
    /// What the caller gets back once the batch is committed.
    type Output: Send + 'static;

    /// Whether it only adds a message, never touching stored ones: anything
    /// else may edit or delete a message stored earlier in its batch, which
    /// must then be indexed for search first.
    const ONLY_ADDS_MESSAGES: bool = false;

    /// Whether it writes a lot (an upload's chunk): a batch takes at most
    /// one such, and the writes queued behind it go first.
    const HEAVY: bool = false;

    /// Stores it on `conn`, inside the batch's transaction; a
    /// `Refusal::Store` fails the whole batch.
    fn apply(self, conn: &Connection, now: Timestamp) -> Result<Self::Output, Refusal>;

    /// Appends the events its result publishes, in order.
    fn events<'a>(_output: &'a Self::Output, _events: &mut Vec<Event<'a>>) {}

    /// Signs the links of the attachments its result shows.
    fn sign(_output: &mut Self::Output, _links: &Links, _now: Timestamp) {}

    /// What else it asks of the writer once committed.
    fn after(_output: &Self::Output) -> After {
        After::Nothing
    }

    /// The seq of the message it stored, if it stored one: new messages are
    /// indexed for search together, at the batch's end or before a write
    /// that may edit or delete them.
    fn sent(_output: &Self::Output) -> Option<i64> {
        None
    }
}

/// What a committed write asks of the writer besides its events.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum After {
    Nothing,
    /// A channel was deleted: its rows are to be purged.
    Purge,
    /// Text was replaced or deleted: it is to be erased from the WAL.
    Erase,
}

/// Stores a message, with the author's unused uploads `attachments`; the
/// sender's read marker moves to it.
pub struct SendMessage {
    pub channel: Uuid,
    pub author: Uuid,
    pub content: MessageContent,
    pub attachments: Vec<Uuid>,
}

/// A stored message, and what else its send changed.
pub struct Sent {
    pub message: Message,
    /// The sender's marker, if it moved.
    pub marker: Option<Marker>,
    seq: i64,
}

impl Write for SendMessage {
    type Output = Sent;
    const ONLY_ADDS_MESSAGES: bool = true;

    fn apply(self, conn: &Connection, now: Timestamp) -> Result<Sent, Refusal> {
        let channel = channels::seen_or_not_found(conn, &self.author, &self.channel)?;
        let files = attachments::claimable(conn, &self.author, &self.attachments)?;
        let (message, place) =
            messages::insert(conn, &channel, self.author, self.content, &files, now)?;
        let marker = markers::sent(conn, &message, place)?;
        Ok(Sent {
            message,
            marker,
            seq: place.seq,
        })
    }

    fn events<'a>(sent: &'a Sent, events: &mut Vec<Event<'a>>) {
        events.push(Event::Message(&sent.message));
        events.extend(sent.marker.as_ref().map(marker_event));
    }

    fn sent(sent: &Sent) -> Option<i64> {
        Some(sent.seq)
    }

    fn sign(sent: &mut Sent, links: &Links, now: Timestamp) {
        messages::sign_all([&mut sent.message], links, now);
    }
}

/// Replaces the content of message `id`, if `by` wrote it.
pub struct Edit {
    pub id: Uuid,
    pub by: Uuid,
    pub content: MessageContent,
}

impl Write for Edit {
    type Output = Message;

    fn apply(self, conn: &Connection, now: Timestamp) -> Result<Message, Refusal> {
        messages::edit(conn, &self.id, &self.by, self.content, now)
    }

    fn events<'a>(message: &'a Message, events: &mut Vec<Event<'a>>) {
        events.push(Event::MessageUpdated(message));
    }

    fn sign(message: &mut Message, links: &Links, now: Timestamp) {
        messages::sign_all([message], links, now);
    }

    fn after(_: &Message) -> After {
        After::Erase
    }
}

/// Deletes message `id`, if `by` wrote it or owns its channel.
pub struct DeleteMessage {
    pub id: Uuid,
    pub by: Uuid,
}

impl Write for DeleteMessage {
    type Output = Deleted;

    fn apply(self, conn: &Connection, _: Timestamp) -> Result<Deleted, Refusal> {
        messages::delete(conn, &self.id, &self.by)
    }

    fn events<'a>(deleted: &'a Deleted, events: &mut Vec<Event<'a>>) {
        events.push(Event::MessageDeleted {
            id: deleted.id,
            channel: deleted.channel,
        });
    }

    fn after(_: &Deleted) -> After {
        After::Erase
    }
}

/// Moves `user`'s read marker in `channel` forward to `message`.
pub struct MarkRead {
    pub user: Uuid,
    pub channel: Uuid,
    pub message: Uuid,
}

impl Write for MarkRead {
    /// The marker, if it moved.
    type Output = Option<Marker>;

    fn apply(self, conn: &Connection, _: Timestamp) -> Result<Option<Marker>, Refusal> {
        markers::mark(conn, &self.user, &self.channel, &self.message)
    }

    fn events<'a>(marker: &'a Option<Marker>, events: &mut Vec<Event<'a>>) {
        events.extend(marker.as_ref().map(marker_event));
    }
}

/// Nothing: that the batch carrying it committed shows the database takes
/// writes (`/health`).
pub struct Probe;

impl Write for Probe {
    type Output = ();

    fn apply(self, _: &Connection, _: Timestamp) -> Result<(), Refusal> {
        Ok(())
    }
}

fn marker_event(m: &Marker) -> Event<'_> {
    Event::ReadMarker {
        user: m.user,
        channel: m.channel,
        message: m.message,
    }
}

/// Stores chunk `n` of `variant` (0 the file, 1 its thumbnail) of the
/// upload at `seq`. Through the writer, not the pool: a send then waits
/// behind at most a chunk or two in the queue, where competing for the
/// write lock it waited in SQLite's busy handler, whose sleeps grow to
/// 100 ms while four uploads kept taking the lock.
pub struct StoreChunk {
    pub seq: i64,
    pub variant: i64,
    pub n: i64,
    pub data: Vec<u8>,
}

impl Write for StoreChunk {
    /// A chunk that could not be stored (a full disk, its upload pruned)
    /// fails its upload, not the sends in its batch.
    type Output = Result<(), StoreError>;
    const ONLY_ADDS_MESSAGES: bool = true;
    const HEAVY: bool = true;

    fn apply(self, conn: &Connection, _now: Timestamp) -> Result<Self::Output, Refusal> {
        conn.execute_batch("SAVEPOINT chunk")?;
        match attachments::store_chunk(conn, self.seq, self.variant, self.n, &self.data) {
            Ok(()) => {
                conn.execute_batch("RELEASE chunk")?;
                Ok(Ok(()))
            }
            // SQLite rolled the whole transaction back, as it may on a
            // full disk: the batch fails.
            Err(e) if conn.is_autocommit() => Err(Refusal::Store(e)),
            Err(e) => {
                conn.execute_batch("ROLLBACK TO chunk; RELEASE chunk")?;
                Ok(Err(e))
            }
        }
    }
}
