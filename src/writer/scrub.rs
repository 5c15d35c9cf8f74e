//! Erasing for good: once a message is deleted or edited, or a channel
//! purged, its old text must leave the database file and its WAL within a
//! minute, not linger until pages happen to be reused.
//!
//! The rows themselves are zeroed as they go (`PRAGMA secure_delete`), and a
//! single message's search entries too (FTS5's secure-delete). A purge
//! that deletes entries turns the latter off for speed, so its words stay
//! in older index segments, hidden by delete markers: after it, the index
//! is merged into one segment, [`MERGE_PAGES`] at a time between writes,
//! which drops them. (A purge that rebuilds the index instead zeroes the
//! old one's pages as it goes.)
//! Then a `TRUNCATE` checkpoint copies the WAL into the file and empties
//! it, since the WAL still holds the pages as they were before. Under
//! Litestream ([`Checkpoints::Litestream`]) that last step is Litestream's:
//! its own checkpoints bring the zeroed pages into the file.

use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use crate::domain::db;
use crate::domain::error::StoreError;
use crate::domain::search;
use crate::domain::wal::{self, Checkpoints};

/// How long after an erase the checkpoint runs: erases that follow within
/// it share one.
const DELAY: Duration = Duration::from_secs(5);
/// Index pages one merge step writes: a few milliseconds of the lock.
const MERGE_PAGES: i64 = 64;
/// How long the checkpoint waits for readers to move on; it blocks writes
/// meanwhile, so it gives up soon and tries again a second later.
const READERS_WAIT: Duration = Duration::from_millis(100);
const RETRY: Duration = Duration::from_secs(1);

/// What is left to erase, and when.
pub struct Scrub {
    due: Option<Instant>,
    merging: bool,
    checkpoints: Checkpoints,
}

impl Scrub {
    /// Nothing to erase yet; the checkpoint is azuma's or Litestream's.
    pub fn new(checkpoints: Checkpoints) -> Scrub {
        Scrub {
            due: None,
            merging: false,
            checkpoints,
        }
    }

    /// A message was deleted or edited: its old text is still in the WAL.
    pub fn erased(&mut self) {
        self.due.get_or_insert_with(|| Instant::now() + DELAY);
    }

    /// A purge that deleted search entries ended: the index's pages still
    /// hold its words.
    pub fn purged(&mut self) {
        self.merging = true;
        self.due = Some(Instant::now());
    }

    /// How long the writer may wait before the next step is due.
    pub fn wait(&self) -> Option<Duration> {
        self.due
            .map(|due| due.saturating_duration_since(Instant::now()))
    }

    /// Takes the next step, if one is due: a merge step, or the checkpoint.
    pub fn step(&mut self, conn: &mut Connection) {
        if self.due.is_none_or(|due| due > Instant::now()) {
            return;
        }
        let done = if self.merging {
            merge_step(conn).map(|more| {
                self.merging = more;
                false
            })
        } else if self.checkpoints.own() {
            checkpoint(conn).inspect(|&done| {
                if !done {
                    // Readers, or the checkpoint thread, hold the WAL.
                    self.due = Some(Instant::now() + RETRY);
                }
            })
        } else {
            Ok(true)
        };
        match done {
            Ok(true) => self.due = None,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "erasing deleted text failed; retrying");
                self.due = Some(Instant::now() + RETRY);
            }
        }
    }
}

/// One merge step; whether it did anything (more may be left).
fn merge_step(conn: &mut Connection) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before = tx.total_changes();
    search::merge(&tx, MERGE_PAGES)?;
    // The command itself counts as one change; any work done, as more.
    let more = tx.total_changes() - before >= 2;
    tx.commit()?;
    Ok(more)
}

/// Empties the WAL into the file; whether it could (readers may hold it).
fn checkpoint(conn: &mut Connection) -> Result<bool, StoreError> {
    Ok(db::waiting(conn, READERS_WAIT, wal::truncate)?)
}
