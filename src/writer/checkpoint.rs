//! Checkpoints off the commit path. SQLite's own checkpoint runs inside the
//! commit that grows the WAL past 1000 pages, and the writes queued behind
//! that commit wait for it (copying 4 MiB and syncing the file): with
//! uploads streaming in, every send's p99. Here no connection checkpoints
//! in its commits (`db::configure`); a thread of its own runs a passive
//! checkpoint, which never blocks a writer, once the writer has committed
//! and at most every [`PERIOD`], and every [`IDLE`] regardless, for what
//! the pool wrote (sessions, the prune).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The shortest time between two checkpoints: the WAL grows by at most
/// what is written in it.
const PERIOD: Duration = Duration::from_millis(200);
/// How often it checkpoints with no word from the writer: a checkpoint
/// with nothing to copy costs nothing.
const IDLE: Duration = Duration::from_secs(10);

/// Tells the checkpoint thread that writes came in; the thread ends when
/// this is dropped.
pub struct Checkpointer {
    wrote: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread on `conn`, its own connection.
    pub fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        let (wrote, writes) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("azuma-checkpoint".into())
            .spawn(move || run(&conn, &writes))?;
        Ok(Checkpointer { wrote })
    }

    /// Notes that writes were committed (never waits: one note pending
    /// is enough).
    pub fn wrote(&self) {
        let _full_or_gone = self.wrote.try_send(());
    }
}

fn run(conn: &Connection, writes: &Receiver<()>) {
    loop {
        match writes.recv_timeout(IDLE) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => {
                checkpoint(conn);
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
        checkpoint(conn);
    }
}

fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "a checkpoint failed; the next writes retry it");
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
            checkpointer.wrote();
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

    #[test]
    fn writes_are_checkpointed_off_the_commit_path() {
        assert!(wal_frames(false) > 900);
        assert!(wal_frames(true) < 10);
    }
}
