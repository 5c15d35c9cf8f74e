//! Purging deleted channels: in transactions of at most [`STEP`] each, one
//! after each batch of writes and back to back while none waits, so that
//! deleting a channel of a million messages never holds back a send for
//! more than a step. What is left after a restart is purged then.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use super::scrub::Scrub;
use crate::domain::error::StoreError;
use crate::domain::messages;
use crate::domain::purge::{self, Purged};

/// The longest a purge step holds the write lock (about: it stops after
/// the chunk that passes it).
const STEP: Duration = Duration::from_millis(5);
/// Rows deleted per statement within a step.
const CHUNK: u32 = 16;
/// How long to wait before trying again after a step failed (the disk may
/// be full, or another process may hold the lock).
const RETRY: Duration = Duration::from_secs(1);

/// Whether a purge is due, and when.
pub struct Purge {
    pending: bool,
    failed_at: Option<Instant>,
    /// The channel whose way of purging is chosen (see `purge_some`).
    chosen: Option<i64>,
    /// Whether the purge left deleted entries in the search index.
    marked: bool,
}

impl Purge {
    /// Finds out whether a purge was left unfinished (by a stop or a crash).
    pub fn start(conn: &Connection) -> Purge {
        let pending = purge::purge_pending(conn).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not tell whether a channel is left to purge");
            true
        });
        Purge {
            pending,
            failed_at: None,
            chosen: None,
            // What a purge before the restart left is unknown.
            marked: pending,
        }
    }

    /// A channel was deleted: its rows are to be purged.
    pub fn pending(&mut self) {
        self.pending = true;
    }

    /// How long the writer may wait for a write: for ever with nothing to
    /// purge, not at all while purging, until the retry after a failure.
    pub fn wait(&self) -> Option<Duration> {
        match (self.pending, self.failed_at) {
            (false, _) => None,
            (true, None) => Some(Duration::ZERO),
            (true, Some(at)) => Some(RETRY.saturating_sub(at.elapsed())),
        }
    }

    /// Purges for about [`STEP`], if a purge is due; once it ends, tells
    /// `scrub` what is left to erase.
    pub fn step(&mut self, conn: &mut Connection, scrub: &mut Scrub) {
        if !self.pending || self.wait().is_some_and(|w| !w.is_zero()) {
            return;
        }
        match step(conn, &mut self.chosen, &mut self.marked) {
            Ok(more) => {
                self.pending = more;
                self.failed_at = None;
                if !more {
                    tracing::info!("deleted channels purged");
                    if std::mem::take(&mut self.marked) {
                        scrub.purged();
                    } else {
                        scrub.erased();
                    }
                }
            }
            Err(e) => {
                if self.failed_at.is_none() {
                    tracing::warn!(error = %e, "purging a deleted channel failed; retrying every second");
                }
                self.failed_at = Some(Instant::now());
            }
        }
    }
}

fn step(
    conn: &mut Connection,
    chosen: &mut Option<i64>,
    marked: &mut bool,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let began = Instant::now();
    messages::keep_newest_seq(&tx)?;
    let mut more = true;
    while more && began.elapsed() < STEP {
        let purged = purge::purge_some(&tx, CHUNK, chosen)?;
        *marked |= purged == Purged::Marked;
        more = purged != Purged::Nothing;
    }
    tx.commit()?;
    Ok(more)
}

/// The next write, waiting at most `wait` (`None`: for ever; zero: only
/// one already queued). `None` once every sender is gone; `Some(None)` when
/// the wait ended with no write.
pub fn next<T>(queue: &Receiver<T>, wait: Option<Duration>) -> Option<Option<T>> {
    match wait {
        None => queue.recv().ok().map(Some),
        Some(wait) => match queue.recv_timeout(wait) {
            Ok(job) => Some(Some(job)),
            Err(RecvTimeoutError::Timeout) => Some(None),
            Err(RecvTimeoutError::Disconnected) => None,
        },
    }
}
