//! The single writer: one thread that takes every write whose events must
//! go out in commit order (messages, channels created and deleted), and
//! commits all that are waiting in one transaction (group commit). Each
//! caller is answered only after that commit, so every answer is as durable
//! as before, but one disk sync serves every write that arrived while the
//! last one ran: throughput grows with concurrency.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::domain::channels::{self, Channel};
use crate::domain::clock::Clock;
use crate::domain::error::{Refusal, StoreError, cause};
use crate::domain::messages::{self, Message};
use crate::domain::names::MessageContent;
use crate::realtime::hub::{Event, Hub};

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;

/// A write waiting for the writer.
enum Write {
    Send {
        channel: Uuid,
        author: Uuid,
        content: MessageContent,
    },
    /// A channel, unless its owner has this many (0: no limit).
    CreateChannel(Channel, u32),
    DeleteChannel {
        id: Uuid,
        by: Uuid,
    },
}

/// Where a write's result goes: one kind per kind of write.
enum Reply {
    Message(oneshot::Sender<Result<Message, Refusal>>),
    Channel(oneshot::Sender<Result<Channel, Refusal>>),
    Done(oneshot::Sender<Result<(), Refusal>>),
}

/// What a write stored: its result, and the event it publishes.
enum Stored {
    Message(Message),
    Channel(Channel),
    ChannelDeleted(Uuid),
}

impl Stored {
    fn event(&self) -> Event<'_> {
        match self {
            Stored::Message(m) => Event::Message(m),
            Stored::Channel(c) => Event::ChannelCreated(c),
            Stored::ChannelDeleted(id) => Event::ChannelDeleted { id: *id },
        }
    }
}

/// The handle callers write through; the thread ends when it is dropped.
pub struct Writer {
    jobs: mpsc::Sender<(Write, Reply)>,
}

impl Writer {
    /// Starts the writer thread on its own connection.
    pub fn start(conn: Connection, hub: Arc<Hub>, clock: Clock) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("azuma-writer".into())
            .spawn(move || run(conn, &queue, &hub, &clock))?;
        Ok(Writer { jobs })
    }

    /// Stores a message in `channel` and publishes it.
    pub async fn send(
        &self,
        channel: Uuid,
        author: Uuid,
        content: MessageContent,
    ) -> Result<Message, Refusal> {
        let write = Write::Send {
            channel,
            author,
            content,
        };
        self.submit(write, Reply::Message).await
    }

    /// Stores a new channel and publishes it, unless its owner already owns
    /// `most` (0: no limit).
    pub async fn create_channel(&self, channel: Channel, most: u32) -> Result<Channel, Refusal> {
        self.submit(Write::CreateChannel(channel, most), Reply::Channel)
            .await
    }

    /// Deletes channel `id` if `by` owns it, and publishes that.
    pub async fn delete_channel(&self, id: Uuid, by: Uuid) -> Result<(), Refusal> {
        self.submit(Write::DeleteChannel { id, by }, Reply::Done)
            .await
    }

    /// Queues a write and waits for its result, after the commit.
    async fn submit<T>(
        &self,
        write: Write,
        reply: impl FnOnce(oneshot::Sender<Result<T, Refusal>>) -> Reply,
    ) -> Result<T, Refusal> {
        let (sender, result) = oneshot::channel();
        let stopped = || StoreError::Busy(cause("the writer has stopped"));
        self.jobs
            .send((write, reply(sender)))
            .map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}

fn run(mut conn: Connection, queue: &mpsc::Receiver<(Write, Reply)>, hub: &Hub, clock: &Clock) {
    while let Ok(first) = queue.recv() {
        let mut writes = vec![first.0];
        let mut replies = vec![first.1];
        while writes.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok((write, reply)) => {
                    writes.push(write);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let results = match commit(&mut conn, writes, hub, clock) {
            Ok(results) => results,
            Err(e) => replies.iter().map(|_| Err(e.clone().into())).collect(),
        };
        for (reply, result) in replies.into_iter().zip(results) {
            reply.send(result);
        }
    }
}

/// Stores `writes` in one transaction and publishes their events after the
/// commit; each write's own result (a channel may not exist). An `Err` means
/// nothing was stored: the whole batch fails with it.
fn commit(
    conn: &mut Connection,
    writes: Vec<Write>,
    hub: &Hub,
    clock: &Clock,
) -> Result<Vec<Result<Stored, Refusal>>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        match apply(&tx, write, clock) {
            // The transaction is in doubt: dropping it rolls it back.
            Err(Refusal::Store(e)) => return Err(e),
            result => results.push(result),
        }
    }
    let events: Vec<Event<'_>> = results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .map(Stored::event)
        .collect();
    hub.commit_and_publish(tx, &events)?;
    Ok(results)
}

/// Stores one write.
fn apply(conn: &Connection, write: Write, clock: &Clock) -> Result<Stored, Refusal> {
    match write {
        Write::Send {
            channel,
            author,
            content,
        } => {
            // Stamped under the write lock, so times follow storage order (as
            // far as the clock does; the order itself never depends on it).
            messages::insert(conn, channel, author, content, clock.now()).map(Stored::Message)
        }
        Write::CreateChannel(channel, most) => {
            if most > 0 && channels::owned_by(conn, &channel.owner)? >= i64::from(most) {
                // Deleting one frees a place; otherwise, no sooner than an hour.
                return Err(Refusal::Limited(Duration::from_secs(3600)));
            }
            channels::insert(conn, &channel)?;
            Ok(Stored::Channel(channel))
        }
        Write::DeleteChannel { id, by } => {
            channels::delete_owned(conn, &id, &by)?;
            Ok(Stored::ChannelDeleted(id))
        }
    }
}

impl Reply {
    /// Hands `result` to the caller; one who went away (its client is gone)
    /// needs no answer. Each kind of write stores its own kind of object.
    fn send(self, result: Result<Stored, Refusal>) {
        let wrong = || Refusal::Store(StoreError::Failed(cause("a write stored another kind")));
        match self {
            Reply::Message(to) => drop(to.send(result.and_then(|stored| match stored {
                Stored::Message(m) => Ok(m),
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
