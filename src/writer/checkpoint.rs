//! Checkpoints off the commit path. SQLite's own checkpoint runs inside the
//! commit that grows the WAL past 1000 pages, and the writes queued behind
//! that commit wait for it (copying 4 MiB and syncing the file): with
//! uploads streaming in, every send's p99. Here no connection checkpoints
//! in its commits (`db::configure`); a thread of its own runs a passive
//! checkpoint, which never blocks a writer, once the writer has committed
//! and at most every [`PERIOD`], and every [`IDLE`] regardless, for what
//! the pool wrote (sessions, the prune). Once it finds the WAL past its
//! limit, the writer starts it over between two of its transactions (see
//! `wal::restart`): the writer holds the lock, where the thread could wait
//! for it for ever while a purge runs back to back, and what is left to
//! copy is what came after the thread's checkpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::domain::{db, wal};

/// The shortest time between two checkpoints: the WAL grows by at most
/// what is written in it.
const PERIOD: Duration = Duration::from_millis(200);
/// How often it checkpoints with no word from the writer: a checkpoint
/// with nothing to copy costs nothing.
const IDLE: Duration = Duration::from_secs(10);
/// How long the writer waits for readers to leave the WAL as it starts it
/// over; writes wait meanwhile, so it gives up soon and tries again after
/// the thread's next turn.
const READERS_WAIT: Duration = Duration::from_millis(20);

/// Tells the checkpoint thread that writes came in; the thread ends when
/// this is dropped.
pub struct Checkpointer {
    wrote: SyncSender<()>,
    /// Set by the thread: the WAL is past its limit.
    restart: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts the thread on `conn`, its own connection.
    pub fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        let (wrote, writes) = mpsc::sync_channel(1);
        let restart = Arc::new(AtomicBool::new(false));
        let due = restart.clone();
        std::thread::Builder::new()
            .name("azuma-checkpoint".into())
            .spawn(move || run(&conn, &writes, &due))?;
        Ok(Checkpointer { wrote, restart })
    }

    /// Notes that the writer committed on `conn` (never waits: one note
    /// pending is enough), first starting the WAL over if it is due.
    pub fn wrote(&self, conn: &Connection) {
        if self.restart.swap(false, Ordering::Relaxed) {
            match db::waiting(conn, READERS_WAIT, wal::restart) {
                // Readers held the WAL: the thread's next turn says so again.
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "starting the WAL over failed"),
            }
        }
        let _full_or_gone = self.wrote.try_send(());
    }
}

fn run(conn: &Connection, writes: &Receiver<()>, restart: &AtomicBool) {
    let checkpoint = || match wal::passive(conn) {
        Ok(past_limit) => restart.store(past_limit, Ordering::Relaxed),
        Err(e) => tracing::warn!(error = %e, "a checkpoint failed; the next writes retry it"),
    };
    loop {
        match writes.recv_timeout(IDLE) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => {
                checkpoint();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Let writes gather for a period; stop at once when told.
        let until = Instant::now() + PERIOD;
        loop {
            match writes.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        checkpoint();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames in the WAL after a big write and the checkpoint thread's
    /// turn, if it has one (waiting up to 10 s for it).
    fn wal_frames(with_thread: bool) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let open = || {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
            conn
        };
        let conn = open();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        let checkpointer = with_thread.then(|| Checkpointer::start(open()).unwrap());
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(4000000));")
            .unwrap();
        if let Some(checkpointer) = &checkpointer {
            checkpointer.wrote(&conn);
        }
        // A write restarts a WAL checkpointed whole; a checkpoint that does
        // nothing (NOOP) then says how many frames the WAL holds.
        let frames = || -> i64 {
            conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
            conn.query_row("PRAGMA wal_checkpoint(NOOP)", [], |r| r.get(1))
                .unwrap()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        std::thread::sleep(PERIOD * 2);
        let mut found = frames();
        while with_thread && found >= 10 && std::time::Instant::now() < deadline {
            std::thread::sleep(PERIOD);
            found = frames();
        }
        found
    }

    /// Under steady reads and writes no write finds the WAL free to start
    /// over by itself: the checkpoint thread has it start over, and cut
    /// back, once it passes its limit. Returns the WAL file's largest size.
    fn wal_bytes_under_steady_reads() -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let open = || {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
            wal::Checkpoints::Own.configure(&conn).unwrap();
            conn
        };
        let conn = open();
        conn.execute("CREATE TABLE t (x)", []).unwrap();
        for _ in 0..16 {
            conn.execute("INSERT INTO t VALUES (randomblob(65536))", [])
                .unwrap();
        }
        let checkpointer = Checkpointer::start(open()).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (reader, stop) = (open(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        reader
                            .execute_batch("BEGIN; SELECT length(x) FROM t; COMMIT;")
                            .unwrap();
                    }
                })
            })
            .collect();
        let wal = dir.path().join("t.db-wal");
        let mut largest = 0;
        // Six times the limit, 64 KiB at a time.
        for i in 0..(6 * wal::LIMIT_BYTES / 65536) {
            conn.execute(
                "UPDATE t SET x = randomblob(65536) WHERE rowid = ?1",
                [i % 16 + 1],
            )
            .unwrap();
            checkpointer.wrote(&conn);
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for reader in readers {
            reader.join().unwrap();
        }
        largest
    }

    #[test]
    fn the_wal_is_started_over_under_steady_reads_and_writes() {
        let largest = wal_bytes_under_steady_reads();
        // It would grow to all that was written, six times the limit.
        assert!(
            largest < 3 * wal::LIMIT_BYTES as u64,
            "the WAL grew to {largest} bytes"
        );
    }

    #[test]
    fn writes_are_checkpointed_off_the_commit_path() {
        assert!(wal_frames(false) > 900);
        assert!(wal_frames(true) < 10);
    }
}
