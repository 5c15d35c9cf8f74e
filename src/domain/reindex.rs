//! Purging a channel that holds most of the messages by rebuilding the
//! search index without it, instead of deleting its entries.
//!
//! Deleted entries leave an FTS5 index as its merges meet them, and a
//! merge step is bounded by the pages it *writes*: where deleted entries
//! cancel out almost everything it reads (a purge of most of the index),
//! one step reads on through the whole index, holding the write lock for
//! seconds. A rebuild costs what the messages that stay cost, in steps of
//! a few rows:
//!
//! 1. [`begin`]: `messages_fts_next` is made as `messages_fts` is (its
//!    definition, settings and triggers copied from the schema), and meta
//!    'unindexed' names the channel, which neither index follows from now.
//! 2. [`build_some`]: the other channels' messages are copied into it in
//!    seq order up to meta 'reindexed_to'; its triggers keep what is
//!    copied in step with edits and deletes. New messages land above.
//! 3. Once it holds every message, it takes the index's name in one
//!    transaction, and the old index becomes `messages_fts_old`.
//! 4. [`empty_some`]: the old index's pages are deleted a few at a time
//!    (zeroed, under `PRAGMA secure_delete`), then the table is dropped:
//!    dropping it whole would zero a hundred megabytes in one go.
//!
//! The purged channel's messages then leave the table without touching the
//! index (see `schema.sql`, migration 11). Every step is a transaction of
//! its own, and the state lives in the file, so a restart goes on.

use rusqlite::{Connection, OptionalExtension};

use super::error::{StoreError, cause};
use super::search::{self, Index};

const LIVE: &str = "messages_fts";
const NEXT: &str = "messages_fts_next";
const OLD: &str = "messages_fts_old";
/// What the copied triggers add to their condition: only what the new
/// index already holds is kept in step (the rest is copied as it is).
const COPIED_ONLY: &str =
    "WHEN old.seq <= (SELECT value FROM meta WHERE key = 'reindexed_to') AND ";

/// Whether purging `channel` is better done by a rebuild: when it holds
/// more than half of the messages. The count stops at that half (about
/// 15 ms per half a million), once per purged channel.
pub fn worth_it(conn: &Connection, channel: i64) -> Result<bool, StoreError> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM messages")?
        .query_row([], |r| r.get(0))?;
    let half = total / 2;
    let held: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE channel = ?1 LIMIT ?2)",
        )?
        .query_row([channel, half + 1], |r| r.get(0))?;
    Ok(held > half)
}

/// Starts a rebuild of the index without `channel`'s messages.
pub fn begin(conn: &Connection, channel: i64) -> Result<(), StoreError> {
    let table: String = conn
        .prepare_cached("SELECT sql FROM sqlite_schema WHERE name = ?1")?
        .query_row([LIVE], |r| r.get(0))?;
    conn.execute_batch(&renamed(&table, None)?)?;
    conn.execute(
        &format!(
            "INSERT INTO {NEXT} ({NEXT}, rank)
             SELECT k, v FROM {LIVE}_config WHERE k <> 'version'"
        ),
        [],
    )?;
    for (_, sql) in triggers(conn, LIVE)? {
        conn.execute_batch(&renamed(&sql, Some(COPIED_ONLY))?)?;
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('unindexed', ?1), ('reindexed_to', 0)",
    )?
    .execute([channel])?;
    Ok(())
}

/// Copies up to `rows` messages' worth of seqs into the new index, or,
/// once it holds them all, puts it in the old one's place. Whether a
/// rebuild was under way.
pub fn build_some(conn: &Connection, rows: u32) -> Result<bool, StoreError> {
    if !exists(conn, NEXT)? {
        return Ok(false);
    }
    let from: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'reindexed_to'")?
        .query_row([], |r| r.get(0))?;
    let to: Option<i64> = conn
        .prepare_cached(
            "SELECT max(seq) FROM (SELECT seq FROM messages WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
        )?
        .query_row(rusqlite::params![from, rows], |r| r.get(0))?;
    match to {
        Some(to) => {
            search::index(conn, Index::Next, from + 1, to)?;
            conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'reindexed_to'")?
                .execute([to])?;
        }
        None => swap(conn)?,
    }
    Ok(true)
}

/// The new index takes the old one's name, triggers and all.
fn swap(conn: &Connection) -> Result<(), StoreError> {
    for (name, _) in triggers(conn, NEXT)? {
        conn.execute_batch(&format!("DROP TRIGGER {name}"))?;
    }
    // Renaming a table rewrites the triggers that name it: they are made
    // again afterwards, as they were.
    let live = triggers(conn, LIVE)?;
    for (name, _) in &live {
        conn.execute_batch(&format!("DROP TRIGGER {name}"))?;
    }
    conn.execute_batch(&format!(
        "ALTER TABLE {LIVE} RENAME TO {OLD};
         ALTER TABLE {NEXT} RENAME TO {LIVE};
         DELETE FROM meta WHERE key = 'reindexed_to';"
    ))?;
    for (_, sql) in live {
        conn.execute_batch(&sql)?;
    }
    Ok(())
}

/// Deletes up to `rows` of the old index's rows, or drops it once they are
/// gone. Whether an old index was left.
pub fn empty_some(conn: &Connection, rows: u32) -> Result<bool, StoreError> {
    if !exists(conn, OLD)? {
        return Ok(false);
    }
    let deleted = conn
        .prepare_cached(&format!(
            "DELETE FROM {OLD}_data WHERE id IN (SELECT id FROM {OLD}_data LIMIT ?1)"
        ))?
        .execute([rows])?
        + conn
            .prepare_cached(&format!(
                "DELETE FROM {OLD}_idx WHERE (segid, term) IN
                 (SELECT segid, term FROM {OLD}_idx LIMIT ?1)"
            ))?
            .execute([rows])?;
    if deleted == 0 {
        conn.execute_batch(&format!("DROP TABLE {OLD}"))?;
    }
    Ok(true)
}

fn exists(conn: &Connection, table: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
        .query_row([table], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The triggers on `messages` that keep `index` in step: (name, SQL).
fn triggers(conn: &Connection, index: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut found = Vec::new();
    let mut statement = conn.prepare_cached(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'trigger' AND tbl_name = 'messages' AND sql LIKE ?1",
    )?;
    let mut rows = statement.query([format!("%INSERT INTO {index} (%")])?;
    while let Some(row) = rows.next()? {
        found.push((row.get(0)?, row.get(1)?));
    }
    Ok(found)
}

/// `sql` (the index's definition or one of its triggers) for the new
/// index, with `condition` put first in its `WHEN` clause.
fn renamed(sql: &str, condition: Option<&str>) -> Result<String, StoreError> {
    let sql = sql.replace(LIVE, NEXT);
    match condition {
        None => Ok(sql),
        Some(condition) if sql.matches("WHEN ").count() == 1 => {
            Ok(sql.replacen("WHEN ", condition, 1))
        }
        Some(_) => Err(StoreError::Failed(cause(format!(
            "a search trigger without one WHEN clause: {sql}"
        )))),
    }
}
