//! Messages and their storage: sending, editing, deleting, and a channel's
//! history in pages.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::attachments::{self, Attachment};
use super::channels::{self, Kind, SEEN, Seen};
use super::clock::Timestamp;
use super::error::{Refusal, StoreError};
use super::names::MessageContent;

/// A message as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    /// The message's id.
    pub id: Uuid,
    /// Who sent it.
    pub author: Uuid,
    /// Where.
    pub channel: Uuid,
    /// What it says now.
    pub content: String,
    /// When it was stored.
    pub created_at: Timestamp,
    /// When it was last edited, or `null`.
    pub edited_at: Option<Timestamp>,
    /// The files it carries.
    pub attachments: Vec<Attachment>,
    /// Whether it carries any (they are loaded only then).
    #[serde(skip)]
    pub files: bool,
}

/// Where a message is stored: its channel's and its own sequence numbers.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    /// The channel's.
    pub channel_seq: i64,
    /// The message's, which history follows.
    pub seq: i64,
}

/// A deleted message: what its `MessageDeleted` event names.
pub struct Deleted {
    /// The message's id.
    pub id: Uuid,
    /// Its channel's id.
    pub channel: Uuid,
}

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

/// The refusal for an unknown (or deleted) message `id`.
pub fn not_found(id: &Uuid) -> Refusal {
    Refusal::NotFound(format!("no message with id {id}"))
}

/// The highest storage sequence number of any message there is or was (0
/// for none). New messages take the next one, so that a deleted message's
/// place is never taken, nor, after a purge, a purged one's (`seq_high`,
/// which [`keep_newest_seq`] raises before a purge).
pub fn newest_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT max(coalesce((SELECT max(seq) FROM messages), 0),
                        coalesce((SELECT max(seq) FROM message_tombstones), 0),
                        coalesce((SELECT value FROM meta WHERE key = 'seq_high'), 0))",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Records the newest seq so far, before a purge may delete the rows that
/// hold it.
pub fn keep_newest_seq(conn: &Connection) -> Result<(), StoreError> {
    let newest = newest_seq(conn)?;
    conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'seq_high' AND value < ?1")?
        .execute([newest])?;
    Ok(())
}

/// Stores `content` from `author` in `channel`, stamped `now`, with the
/// attachments `files` (their seqs and names; checked by
/// `attachments::claimable`).
pub fn insert(
    conn: &Connection,
    channel: &Seen,
    author: Uuid,
    content: MessageContent,
    files: &[(i64, String)],
    now: Timestamp,
) -> Result<(Message, Place), StoreError> {
    let mut message = Message {
        id: Uuid::new_v4(),
        author,
        channel: channel.id,
        content: content.into_string(),
        created_at: now,
        edited_at: None,
        attachments: Vec::new(),
        files: !files.is_empty(),
    };
    let seq = newest_seq(conn)? + 1;
    let names = message.files.then(|| {
        let names: Vec<&str> = files.iter().map(|(_, name)| name.as_str()).collect();
        names.join("\n")
    });
    conn.prepare_cached(
        "INSERT INTO messages (seq, id, channel, author, content, created_at, files)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        seq,
        message.id,
        channel.seq,
        message.author,
        message.content,
        message.created_at.0,
        names
    ])?;
    if message.files {
        let seqs: Vec<i64> = files.iter().map(|(seq, _)| *seq).collect();
        attachments::attach(conn, &seqs, seq)?;
        attachments::fill(conn, [&mut message])?;
    }
    Ok((
        message,
        Place {
            channel_seq: channel.seq,
            seq,
        },
    ))
}

/// Columns read by [`from_row`], with the channel's id from a join with
/// the channels user `?1` may see.
const COLUMNS: &str = "m.id, m.author, c.id, m.content, m.created_at, m.edited_at,
     m.files IS NOT NULL FROM messages m JOIN seen c ON c.seq = m.channel";

/// A message from a row of `id, author, channel id, content, created_at,
/// edited_at, whether it has files` (its attachments not loaded yet: see
/// `attachments::fill`).
pub fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        author: r.get(1)?,
        channel: r.get(2)?,
        content: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        edited_at: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        attachments: Vec::new(),
        files: r.get(6)?,
    })
}

/// The message `id`, unless it does not exist, was deleted, or is in a
/// channel `viewer` may not see.
pub fn load(conn: &Connection, viewer: &Uuid, id: &Uuid) -> Result<Option<Message>, StoreError> {
    let mut found = conn
        .prepare_cached(&format!("WITH {SEEN} SELECT {COLUMNS} WHERE m.id = ?2"))?
        .query_row([viewer, id], from_row)
        .optional()?;
    attachments::fill(conn, found.iter_mut())?;
    Ok(found)
}

/// Replaces the content of message `id`, if `by` wrote it.
pub fn edit(
    conn: &Connection,
    id: &Uuid,
    by: &Uuid,
    content: MessageContent,
    now: Timestamp,
) -> Result<Message, Refusal> {
    let mut message = load(conn, by, id)?.ok_or_else(|| not_found(id))?;
    if message.author != *by {
        return Err(Refusal::Forbidden(
            "only the message's author may edit it".into(),
        ));
    }
    message.content = content.into_string();
    message.edited_at = Some(now);
    conn.prepare_cached("UPDATE messages SET content = ?2, edited_at = ?3 WHERE id = ?1")?
        .execute(params![id, message.content, now.0])?;
    Ok(message)
}

/// Deletes message `id`, if `by` wrote it or owns its channel (not a
/// direct one: a conversation has no moderator): the row and its search
/// entry go (the content with them), a tombstone keeps its place.
pub fn delete(conn: &Connection, id: &Uuid, by: &Uuid) -> Result<Deleted, Refusal> {
    let found: Option<(i64, Uuid, i64, Uuid, Uuid, Kind)> = conn
        .prepare_cached(&format!(
            "WITH {SEEN} SELECT m.seq, m.author, m.channel, c.id, c.owner, c.kind FROM messages m
             JOIN seen c ON c.seq = m.channel WHERE m.id = ?2"
        ))?
        .query_row([by, id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let (seq, author, channel_seq, channel, owner, kind) = found.ok_or_else(|| not_found(id))?;
    let moderates = *by == owner && kind != Kind::Direct;
    if *by != author && !moderates {
        return Err(Refusal::Forbidden(
            "only the message's author or the channel's owner may delete it".into(),
        ));
    }
    conn.prepare_cached("DELETE FROM messages WHERE seq = ?1")?
        .execute([seq])?;
    conn.prepare_cached("INSERT INTO message_tombstones (seq, id, channel) VALUES (?1, ?2, ?3)")?
        .execute(params![seq, id, channel_seq])?;
    Ok(Deleted { id: *id, channel })
}

/// The storage sequence number of message `id`, deleted or not (a
/// message's place stays a valid cursor), if it is in `channel`.
pub fn seq_in(conn: &Connection, id: &Uuid, channel: &Seen) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT seq FROM messages WHERE id = ?1 AND channel = ?2
             UNION ALL
             SELECT seq FROM message_tombstones WHERE id = ?1 AND channel = ?2",
        )?
        .query_row(params![id, channel.seq], |r| r.get(0))
        .optional()?)
}

/// The storage sequence number of message `id`, deleted or not, if it is
/// in a channel `viewer` may see.
pub fn seq_seen(conn: &Connection, viewer: &Uuid, id: &Uuid) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "WITH {SEEN}
             SELECT m.seq FROM messages m JOIN seen c ON c.seq = m.channel WHERE m.id = ?2
             UNION ALL
             SELECT t.seq FROM message_tombstones t JOIN seen c ON c.seq = t.channel
             WHERE t.id = ?2"
        ))?
        .query_row([viewer, id], |r| r.get(0))
        .optional()?)
}

/// The newest `?3` messages of channel `?1` below seq `?2`, newest first.
const NEWEST_BEFORE: &str = "SELECT id, author, content, created_at, edited_at, files IS NOT NULL
    FROM messages
    WHERE channel = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";
/// The oldest `?3` messages of channel `?1` above seq `?2`.
const OLDEST_AFTER: &str = "SELECT id, author, content, created_at, edited_at, files IS NOT NULL
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
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    attachments::fill(&tx, messages.iter_mut())?;
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
