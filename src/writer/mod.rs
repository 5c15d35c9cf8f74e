//! The single writer: one thread that takes every write whose events must
//! go out in commit order (messages sent, edited and deleted, read markers,
//! channels created and deleted), and commits all that are waiting in one
//! transaction (group commit). Each
//! caller is answered only after that commit, so every answer is as durable
//! as before, but one disk sync serves every write that arrived while the
//! last one ran: throughput grows with concurrency. Between batches it
//! purges deleted channels a little at a time (`purge`).

mod purge;
mod scrub;
mod writes;

use std::sync::Arc;
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;
use uuid::Uuid;
use writes::{Reply, Stored, Write};

use crate::domain::channels::Channel;
use crate::domain::clock::Clock;
use crate::domain::error::{Refusal, StoreError, cause};
use crate::domain::messages::Message;
use crate::domain::names::MessageContent;
use crate::domain::search;
use crate::realtime::hub::{Event, Hub};

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;

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

    /// Replaces the content of message `id`, if `by` wrote it, and publishes
    /// that.
    pub async fn edit(
        &self,
        id: Uuid,
        by: Uuid,
        content: MessageContent,
    ) -> Result<Message, Refusal> {
        self.submit(Write::Edit { id, by, content }, Reply::Message)
            .await
    }

    /// Deletes message `id`, if `by` wrote it or owns its channel, and
    /// publishes that.
    pub async fn delete_message(&self, id: Uuid, by: Uuid) -> Result<(), Refusal> {
        self.submit(Write::DeleteMessage { id, by }, Reply::Done)
            .await
    }

    /// Moves `user`'s read marker in `channel` forward to `message`, and
    /// tells the user's connections if it moved.
    pub async fn mark_read(&self, user: Uuid, channel: Uuid, message: Uuid) -> Result<(), Refusal> {
        let write = Write::MarkRead {
            user,
            channel,
            message,
        };
        self.submit(write, Reply::Done).await
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

    /// Whether a write can be committed now: a write that stores nothing,
    /// in turn with the others (so a probe never contends with the writer
    /// for the database's write lock, and waits as long as a write would).
    pub async fn probe(&self) -> Result<(), Refusal> {
        self.submit(Write::Probe, Reply::Done).await
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
    let mut purge = purge::Purge::start(&conn);
    let mut scrub = scrub::Scrub::default();
    let wait = |purge: &purge::Purge, scrub: &scrub::Scrub| match (purge.wait(), scrub.wait()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    while let Some(first) = purge::next(queue, wait(&purge, &scrub)) {
        let Some(first) = first else {
            if purge.step(&mut conn) {
                scrub.purged();
            }
            scrub.step(&mut conn);
            continue;
        };
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
        for result in &results {
            match result {
                Ok(Stored::ChannelDeleted(_)) => purge.pending(),
                Ok(Stored::Edited(_) | Stored::MessageDeleted(_)) => scrub.erased(),
                _ => {}
            }
        }
        for (reply, result) in replies.into_iter().zip(results) {
            reply.send(result);
        }
        // One step after each batch, so that a steady stream of writes
        // cannot starve the purge (nor the purge the writes).
        if purge.step(&mut conn) {
            scrub.purged();
        }
        scrub.step(&mut conn);
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
    // New messages not yet in the search index: their first and last seq.
    let mut unindexed: Option<(i64, i64)> = None;
    for write in writes {
        if !write.is_send()
            && let Some((first, last)) = unindexed.take()
        {
            search::index(&tx, first, last)?;
        }
        // Stamped under the write lock, so times follow storage order (as far
        // as the clock does; the order itself never depends on it).
        match write.apply(&tx, clock.now()) {
            // The transaction is in doubt: dropping it rolls it back.
            Err(Refusal::Store(e)) => return Err(e),
            result => {
                if let Ok(Stored::Sent(_, _, seq)) = &result {
                    let first = unindexed.map_or(*seq, |(first, _)| first);
                    unindexed = Some((first, *seq));
                }
                results.push(result);
            }
        }
    }
    if let Some((first, last)) = unindexed {
        search::index(&tx, first, last)?;
    }
    let events: Vec<Event<'_>> = results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .flat_map(Stored::events)
        .collect();
    hub.commit_and_publish(tx, &events)?;
    Ok(results)
}

#[cfg(test)]
mod tests;
