//! A deleted channel's rows, removed after it is gone for every reader:
//! its messages, tombstones and markers go a few at a time, so that a big
//! channel never holds the write lock for long.

use rusqlite::{Connection, OptionalExtension};

use super::error::StoreError;

/// Whether a deleted channel still has rows to purge.
pub fn purge_pending(conn: &Connection) -> Result<bool, StoreError> {
    Ok(deleted_channel(conn)?.is_some())
}

/// The seq of a deleted channel whose rows are not all purged yet.
fn deleted_channel(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq FROM channel_rows WHERE deleted_at IS NOT NULL LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// Purges up to `rows` rows of a deleted channel: its messages first (their
/// search entries with them, by trigger), then its tombstones, then the
/// channel itself (its read markers by cascade). Whether any deleted
/// channel may have rows left.
///
/// FTS5's secure-delete is off meanwhile: it rewrites every index page a
/// message's words are on (milliseconds per message at a million), where a
/// plain delete only records that the entries are gone. The purged words
/// are then unsearchable at once, and leave the index's pages as FTS5's own
/// merges reach them; a single message's delete stays secure.
pub fn purge_some(conn: &Connection, rows: u32) -> Result<bool, StoreError> {
    let Some(channel) = deleted_channel(conn)? else {
        return Ok(false);
    };
    secure_delete(conn, false)?;
    let more = purge_rows(conn, channel, rows);
    secure_delete(conn, true)?;
    more
}

fn purge_rows(conn: &Connection, channel: i64, rows: u32) -> Result<bool, StoreError> {
    for table in ["messages", "message_tombstones"] {
        let purged = conn
            .prepare_cached(&format!(
                "DELETE FROM {table} WHERE seq IN
                 (SELECT seq FROM {table} WHERE channel = ?1 ORDER BY seq LIMIT ?2)"
            ))?
            .execute(rusqlite::params![channel, rows])?;
        if purged > 0 {
            return Ok(true);
        }
    }
    conn.prepare_cached("DELETE FROM channel_rows WHERE seq = ?1")?
        .execute([channel])?;
    Ok(true)
}

fn secure_delete(conn: &Connection, on: bool) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', ?1)",
    )?
    .execute([on])?;
    Ok(())
}
