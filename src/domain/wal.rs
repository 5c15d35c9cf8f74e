//! Who checkpoints the WAL into the database file: azuma itself, or
//! Litestream, which must read every frame before it leaves the WAL (a
//! checkpoint it did not run makes it take a whole new snapshot); and the
//! checkpoints azuma runs, which also keep the WAL from growing for ever.

use rusqlite::Connection;
use rusqlite::config::DbConfig;

/// The WAL's size past which the writer starts it over, and what the file
/// is cut back to then: 32 MiB, 8,192 frames of 4 KiB.
pub const LIMIT_BYTES: i64 = 32 << 20;
const LIMIT_FRAMES: i64 = LIMIT_BYTES / 4096;

/// Who moves the WAL into the database file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Checkpoints {
    /// azuma: the writer's checkpoint thread, the scrub's after a delete,
    /// and one at shutdown.
    #[default]
    Own,
    /// Litestream: azuma never checkpoints, not even as it stops.
    Litestream,
}

impl Checkpoints {
    /// Sets up a new connection: under Litestream, SQLite does not
    /// checkpoint as the last connection to the file closes (which would
    /// also delete the WAL), nor after a commit that grows the WAL past 1000
    /// pages (which the server's connections never do anyway).
    ///
    /// With azuma's checkpoints, a WAL started over is cut back to
    /// [`LIMIT_BYTES`] by the write that starts it over.
    pub fn configure(self, conn: &Connection) -> rusqlite::Result<()> {
        match self {
            Checkpoints::Own => {
                conn.pragma_update(None, "journal_size_limit", LIMIT_BYTES)?;
            }
            Checkpoints::Litestream => {
                conn.pragma_update(None, "wal_autocheckpoint", 0)?;
                conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
            }
        }
        Ok(())
    }

    /// Whether azuma checkpoints.
    pub fn own(self) -> bool {
        self == Checkpoints::Own
    }
}

/// Copies into the file what of the WAL no reader still needs, waiting
/// for no one; whether the WAL has grown past [`LIMIT_BYTES`], and should
/// be started over ([`restart`]).
pub fn passive(conn: &Connection) -> rusqlite::Result<bool> {
    let frames: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    Ok(frames > LIMIT_FRAMES)
}

/// Copies the WAL into the file and has the next write start it over (and
/// cut it back to [`LIMIT_BYTES`]); whether it could. A write starts the
/// WAL over by itself only when no reader holds a snapshot in it, which
/// under steady reads and writes may never be: the WAL then grows for as
/// long as they last (gigabytes in a minute while a big channel is
/// purged), and cutting it back later holds the writer for a second per
/// six gigabytes. This waits for those readers, holding back writes, for
/// as long as the connection's busy timeout.
pub fn restart(conn: &Connection) -> rusqlite::Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

/// Copies the WAL into the file and empties it; whether it could (a reader
/// may hold it, for as long as the connection's busy timeout).
pub fn truncate(conn: &Connection) -> rusqlite::Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_pages_after_closing(checkpoints: Checkpoints) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        checkpoints.configure(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(100000));")
            .unwrap();
        let autocheckpoint: i64 = conn
            .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
            .unwrap();
        assert_eq!(autocheckpoint == 0, checkpoints == Checkpoints::Litestream);
        drop(conn);
        std::fs::metadata(dir.path().join("t.db-wal")).map_or(0, |m| m.len())
    }

    #[test]
    fn under_litestream_the_last_connection_leaves_the_wal_as_it_is() {
        assert_eq!(wal_pages_after_closing(Checkpoints::Own), 0);
        assert!(wal_pages_after_closing(Checkpoints::Litestream) > 100_000);
    }
}
