//! The single writer: one thread that takes every write whose events must
//! go out in commit order (messages sent, edited and deleted, read markers,
//! channels created and deleted), and commits all that are waiting in one
//! transaction (group commit). Each
//! caller is answered only after that commit, so every answer is as durable
//! as before, but one disk sync serves every write that arrived while the
//! last one ran: throughput grows with concurrency. Between batches it
//! purges deleted channels a little at a time (`purge`).

pub mod channels;
mod checkpoint;
mod job;
mod purge;
mod scrub;
pub mod writes;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use checkpoint::Checkpointer;
use job::{Job, Pending};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;
use writes::{After, Write};

use crate::domain::clock::Clock;
use crate::domain::error::{Refusal, StoreError, cause};
use crate::domain::search;
use crate::domain::wal::Checkpoints;
use crate::media::links::Links;
use crate::push::Notifier;
use crate::realtime::hub::{Event, Hub};

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;

/// The handle callers write through; the thread ends when it is dropped.
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// The last batch that stored anything failed for want of space, and
    /// none has stored anything since (`/health`: a tiny probe may still
    /// fit where a message does not).
    full: Arc<AtomicBool>,
}

impl Writer {
    /// Starts the writer thread on its own connection; after deletes it
    /// checkpoints if `checkpoints` says it is azuma's to do, and then
    /// `checkpoint`, a connection of its own, checkpoints as writes come
    /// in ([`checkpoint`]).
    pub fn start(
        conn: Connection,
        hub: Arc<Hub>,
        notifier: Option<Notifier>,
        clock: Clock,
        links: Links,
        checkpoints: Checkpoints,
        checkpoint: Option<Connection>,
    ) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        let scrub = scrub::Scrub::new(checkpoints);
        let checkpointer = checkpoint.map(Checkpointer::start).transpose()?;
        let full = Arc::new(AtomicBool::new(false));
        let filled = full.clone();
        std::thread::Builder::new()
            .name("azuma-writer".into())
            .spawn(move || {
                run(
                    conn,
                    &queue,
                    (&hub, notifier.as_ref(), &filled),
                    &clock,
                    &links,
                    scrub,
                    checkpointer.as_ref(),
                );
            })?;
        Ok(Writer { jobs, full })
    }

    /// Whether the last write that stored anything failed for want of
    /// space, with none stored since.
    pub fn full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Queues `write` and waits for its result, after the commit (and after
    /// its events are published).
    pub async fn submit<W: Write>(&self, write: W) -> Result<W::Output, Refusal> {
        let (reply, result) = oneshot::channel();
        let stopped = || StoreError::Busy(cause("the writer has stopped"));
        self.jobs
            .send(Pending::new(write, reply))
            .map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}

fn run(
    mut conn: Connection,
    queue: &mpsc::Receiver<Box<dyn Job>>,
    (hub, notifier, full): (&Hub, Option<&Notifier>, &AtomicBool),
    clock: &Clock,
    links: &Links,
    mut scrub: scrub::Scrub,
    checkpointer: Option<&Checkpointer>,
) {
    let wrote = |conn: &Connection| {
        if let Some(checkpointer) = checkpointer {
            checkpointer.wrote(conn);
        }
    };
    let mut purge = purge::Purge::start(&conn);
    let wait = |purge: &purge::Purge, scrub: &scrub::Scrub| match (purge.wait(), scrub.wait()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // Heavy writes (an upload's chunks) held for later batches.
    let mut held = VecDeque::new();
    loop {
        let first = match held.pop_front() {
            Some(job) => Some(job),
            None => match purge::next(queue, wait(&purge, &scrub)) {
                Some(first) => first,
                None => break,
            },
        };
        let Some(first) = first else {
            purge.step(&mut conn, &mut scrub);
            scrub.step(&mut conn);
            wrote(&conn);
            continue;
        };
        let mut heavy = first.heavy();
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                // One heavy write a batch: what waits behind it is at most
                // one chunk, however many uploads are under way.
                Ok(job) if job.heavy() && heavy => held.push_back(job),
                Ok(job) => {
                    heavy |= job.heavy();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let changes = conn.total_changes();
        if let Err(e) = commit(&mut conn, &mut jobs, (hub, notifier), clock, links) {
            if matches!(e, StoreError::Full(_)) {
                full.store(true, Ordering::Relaxed);
            }
            for job in jobs {
                job.fail(e.clone());
            }
        } else {
            if conn.total_changes() > changes {
                full.store(false, Ordering::Relaxed);
            }
            for job in jobs {
                match job.after() {
                    After::Purge => purge.pending(),
                    After::Erase => scrub.erased(),
                    After::Nothing => {}
                }
                job.answer();
            }
        }
        // One step after each batch, so that a steady stream of writes
        // cannot starve the purge (nor the purge the writes).
        purge.step(&mut conn, &mut scrub);
        scrub.step(&mut conn);
        wrote(&conn);
    }
}

/// Stores `jobs` in one transaction and publishes their events after the
/// commit (and hands new messages to the push queue); each keeps its own
/// result (a channel may not exist). An `Err` means nothing was stored:
/// the whole batch fails with it.
fn commit(
    conn: &mut Connection,
    jobs: &mut [Box<dyn Job>],
    (hub, notifier): (&Hub, Option<&Notifier>),
    clock: &Clock,
    links: &Links,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // New messages not yet in the search index: their first and last seq.
    let mut unindexed: Option<(i64, i64)> = None;
    for job in jobs.iter_mut() {
        if job.touches_messages()
            && let Some((first, last)) = unindexed.take()
        {
            search::index(&tx, search::Index::Live, first, last)?;
        }
        // Stamped under the write lock, so times follow storage order (as far
        // as the clock does; the order itself never depends on it).
        job.apply(&tx, clock.now(), links)?;
        if let Some(seq) = job.sent() {
            let first = unindexed.map_or(seq, |(first, _)| first);
            unindexed = Some((first, seq));
        }
    }
    if let Some((first, last)) = unindexed {
        search::index(&tx, search::Index::Live, first, last)?;
    }
    let mut events = Vec::with_capacity(jobs.len());
    for job in jobs.iter() {
        job.events(&mut events);
    }
    hub.commit_and_publish(tx, &events)?;
    if let Some(notifier) = notifier {
        for event in &events {
            if let Event::Message(message) = event {
                notifier.stored(message);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
