//! A deleted channel's rows, removed after it is gone for every reader:
//! its messages, tombstones and markers go a few at a time, so that a big
//! channel never holds the write lock for long.

use rusqlite::{Connection, OptionalExtension};

use super::error::StoreError;
use super::reindex;

/// Messages a rebuild of the search index copies per statement: FTS5
/// writes a segment per statement, so not a few at a time.
const COPIED: u32 = 256;

/// What a call to [`purge_some`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purged {
    /// Nothing: no deleted channel has rows left.
    Nothing,
    /// A step of a rebuild of the search index, or rows it was rebuilt
    /// without.
    Rows,
    /// Rows whose search entries are marked deleted: FTS5's merges are
    /// still to drop them from the index's pages.
    Marked,
}

/// Whether a deleted channel still has rows to purge.
pub fn purge_pending(conn: &Connection) -> Result<bool, StoreError> {
    Ok(deleted_channel(conn)?.is_some())
}

/// The seq of a deleted channel whose rows are not all purged yet, the one
/// the search index was rebuilt without first; and whether it was.
fn deleted_channel(conn: &Connection) -> Result<Option<(i64, bool)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, seq IS (SELECT value FROM meta WHERE key = 'unindexed')
             FROM channel_rows WHERE deleted_at IS NOT NULL ORDER BY 2 DESC LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Takes the next few steps of purging deleted channels: a part of a
/// rebuild of the search index, or up to `rows` rows of a channel, its
/// messages first (their search entries with them, by trigger, unless the
/// index was rebuilt without them), then its tombstones, then the channel
/// itself (its read markers by cascade).
///
/// `chosen` is the channel whose way of purging was chosen (by counting,
/// see [`reindex::worth_it`]): a channel that holds most of the messages
/// is purged by a rebuild, any other by deleting its entries.
///
/// Where entries are deleted, FTS5's secure-delete is off meanwhile: it
/// rewrites every index page a message's words are on (milliseconds per
/// message at a million), where a plain delete only records that the
/// entries are gone. The purged words are then unsearchable at once, and
/// leave the index's pages as FTS5's own merges reach them; a single
/// message's delete stays secure.
pub fn purge_some(
    conn: &Connection,
    rows: u32,
    chosen: &mut Option<i64>,
) -> Result<Purged, StoreError> {
    if reindex::build_some(conn, COPIED)? || reindex::empty_some(conn, rows)? {
        return Ok(Purged::Rows);
    }
    let Some((channel, unindexed)) = deleted_channel(conn)? else {
        return Ok(Purged::Nothing);
    };
    if unindexed {
        purge_rows(conn, channel, rows)?;
        return Ok(Purged::Rows);
    }
    if *chosen != Some(channel) {
        *chosen = Some(channel);
        if reindex::worth_it(conn, channel)? {
            reindex::begin(conn, channel)?;
            return Ok(Purged::Rows);
        }
    }
    secure_delete(conn, false)?;
    let purged = purge_rows(conn, channel, rows);
    secure_delete(conn, true)?;
    purged.map(|()| Purged::Marked)
}

fn purge_rows(conn: &Connection, channel: i64, rows: u32) -> Result<(), StoreError> {
    for table in ["messages", "message_tombstones"] {
        let purged = conn
            .prepare_cached(&format!(
                "DELETE FROM {table} WHERE seq IN
                 (SELECT seq FROM {table} WHERE channel = ?1 ORDER BY seq LIMIT ?2)"
            ))?
            .execute(rusqlite::params![channel, rows])?;
        if purged > 0 {
            return Ok(());
        }
    }
    conn.prepare_cached("DELETE FROM channel_rows WHERE seq = ?1")?
        .execute([channel])?;
    conn.prepare_cached("DELETE FROM meta WHERE key = 'unindexed' AND value = ?1")?
        .execute([channel])?;
    Ok(())
}

fn secure_delete(conn: &Connection, on: bool) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', ?1)",
    )?
    .execute([on])?;
    Ok(())
}
