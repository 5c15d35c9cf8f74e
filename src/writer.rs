//! The message writer: one thread that takes every send waiting and commits
//! them in one transaction (group commit). Each sender is answered only after
//! that commit, so every `200` is as durable as before, but one disk sync
//! now serves every message that arrived while the last one ran: throughput
//! grows with concurrency.

use std::sync::Arc;
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::hub::{Event, Hub};
use crate::message::{Message, channel_seq};

/// Most sends committed in one transaction.
const MAX_BATCH: usize = 512;

/// A send waiting for the writer.
struct Job {
    channel: Uuid,
    author: Uuid,
    content: String,
    done: oneshot::Sender<Result<Message, ApiError>>,
}

/// The handle handlers send through; the thread ends when it is dropped.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
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

    /// Stores a message in `channel` and publishes it; resolves after the
    /// commit.
    pub async fn send(
        &self,
        channel: Uuid,
        author: Uuid,
        content: String,
    ) -> Result<Message, ApiError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Job {
                channel,
                author,
                content,
                done,
            })
            .map_err(|_| ApiError::Unavailable("the message writer has stopped".into()))?;
        result
            .await
            .map_err(|_| ApiError::Internal("the message writer dropped a send".into()))?
    }
}

fn run(mut conn: Connection, queue: &mpsc::Receiver<Job>, hub: &Hub, clock: &Clock) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let answers = match commit(&mut conn, &mut batch, hub, clock) {
            Ok(answers) => answers,
            Err(e) => batch.iter().map(|_| Err(e.clone())).collect(),
        };
        for (job, answer) in batch.into_iter().zip(answers) {
            // A sender that went away (its client is gone) needs no answer.
            let _ = job.done.send(answer);
        }
    }
}

/// Stores `batch` in one transaction and publishes it after the commit;
/// each job's own answer (a channel may not exist). An `Err` means nothing
/// was stored: the whole batch fails with it.
fn commit(
    conn: &mut Connection,
    batch: &mut [Job],
    hub: &Hub,
    clock: &Clock,
) -> Result<Vec<Result<Message, ApiError>>, ApiError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        match store(&tx, job, clock) {
            // The transaction is in doubt: dropping it rolls it back.
            Err(e @ (ApiError::Internal(_) | ApiError::Unavailable(_))) => return Err(e),
            answer => answers.push(answer),
        }
    }
    let events: Vec<Event<'_>> = answers
        .iter()
        .filter_map(|answer| answer.as_ref().ok())
        .map(Event::Message)
        .collect();
    hub.commit_and_publish(tx, &events)?;
    Ok(answers)
}

fn store(conn: &Connection, job: &mut Job, clock: &Clock) -> Result<Message, ApiError> {
    let Some(channel_seq) = channel_seq(conn, &job.channel)? else {
        return Err(crate::channel::not_found(&job.channel));
    };
    // Stamped under the write lock, so times follow storage order (as far as
    // the clock does; the order itself never depends on it).
    let message = Message {
        id: Uuid::new_v4(),
        author: job.author,
        channel: job.channel,
        content: std::mem::take(&mut job.content),
        created_at: clock.now(),
    };
    conn.prepare_cached(
        "INSERT INTO messages (id, channel, author, content, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        message.id,
        channel_seq,
        message.author,
        message.content,
        message.created_at.0
    ])?;
    Ok(message)
}
