//! A channel's history, in pages: each page one range of the
//! `messages_by_channel` index, read from one snapshot.

use rusqlite::{Connection, params};
use uuid::Uuid;

use super::channels;
use super::clock::Timestamp;
use super::error::Refusal;
use super::mentions;
use super::messages::{self, Message, seq_in};

/// Which slice of a channel's history to return.
#[derive(Debug, PartialEq)]
pub enum Cursor {
    /// The newest messages.
    Newest,
    /// The newest messages older than this one.
    Before(Uuid),
    /// The oldest messages newer than this one.
    After(Uuid),
}

/// A history request: a cursor and how many messages, at most.
#[derive(Debug, PartialEq)]
pub struct Page {
    /// Where the page starts.
    pub cursor: Cursor,
    /// From 1 to [`MAX_LIMIT`].
    pub limit: u32,
}

/// How many messages a page holds unless asked otherwise.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most messages one page holds.
pub const MAX_LIMIT: u32 = 100;

/// The newest `?3` messages of channel `?1` below seq `?2`, newest first.
const NEWEST_BEFORE: &str = "SELECT id, author, content, created_at, edited_at, files IS NOT NULL,
    mentions
    FROM messages
    WHERE channel = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";
/// The oldest `?3` messages of channel `?1` above seq `?2`.
const OLDEST_AFTER: &str = "SELECT id, author, content, created_at, edited_at, files IS NOT NULL,
    mentions
    FROM messages
    WHERE channel = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3";

/// One page of channel `channel_id`'s history as `viewer` may see it,
/// oldest first, read from one snapshot. Each page is one range of the
/// `messages_by_channel` index.
pub fn history(
    conn: &mut Connection,
    viewer: &Uuid,
    channel_id: Uuid,
    page: &Page,
) -> Result<Vec<Message>, Refusal> {
    let tx = conn.transaction()?; // one snapshot for every read
    let channel = channels::seen_or_not_found(&tx, viewer, &channel_id)?;
    let channel_seq = channel.seq;
    let cursor_seq = |id: &Uuid| -> Result<i64, Refusal> {
        seq_in(&tx, id, &channel)?
            .ok_or_else(|| Refusal::Invalid(format!("{id} is not a message of this channel")))
    };
    let (sql, from, newest_first) = match &page.cursor {
        Cursor::Newest => (NEWEST_BEFORE, i64::MAX, true),
        Cursor::Before(id) => (NEWEST_BEFORE, cursor_seq(id)?, true),
        Cursor::After(id) => (OLDEST_AFTER, cursor_seq(id)?, false),
    };
    let mut messages = {
        let mut stmt = tx.prepare_cached(sql)?;
        let rows = stmt.query_map(params![channel_seq, from, page.limit], |r| {
            Ok(Message {
                id: r.get(0)?,
                author: r.get(1)?,
                channel: channel_id,
                content: r.get(2)?,
                created_at: Timestamp(r.get(3)?),
                edited_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
                attachments: Vec::new(),
                files: r.get(5)?,
                mentions: mentions::decode(r.get(6)?),
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    messages::fill(&tx, messages.iter_mut())?;
    tx.finish()?;
    if newest_first {
        messages.reverse();
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_pages_are_index_ranges_not_scans() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::domain::db::migrate(&mut conn).unwrap();
        for sql in [NEWEST_BEFORE, OLDEST_AFTER] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(params![1, 2, 3], |r| r.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(
                plan,
                [
                    "SEARCH messages USING INDEX messages_by_channel (channel=? AND seq>?)"
                        .replace('>', if sql == NEWEST_BEFORE { "<" } else { ">" })
                ],
                "{sql}"
            );
        }
    }
}
