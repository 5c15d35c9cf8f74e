//! Messages and their storage: sending, editing, deleting, and a channel's
//! history in pages.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::attachments::{self, Attachment};
use super::channels::{self, Kind, SEEN, Seen};
use super::clock::Timestamp;
use super::error::{Refusal, StoreError};
use super::mentions;
use super::names::MessageContent;
use crate::media::links::Links;

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
    /// The accounts it mentions (`@name`), each once.
    pub mentions: Vec<Uuid>,
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
        mentions: Vec::new(),
        files: !files.is_empty(),
    };
    message.mentions = mentions::find(conn, channel, &message.content)?;
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
    if !message.mentions.is_empty() {
        mentions::store(conn, seq, channel.seq, &message.mentions)?;
    }
    if message.files {
        let seqs: Vec<i64> = files.iter().map(|(seq, _)| *seq).collect();
        attachments::attach(conn, &seqs, seq)?;
        fill(conn, [&mut message])?;
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
     m.files IS NOT NULL, m.mentions FROM messages m JOIN seen c ON c.seq = m.channel";

/// A message from a row of `id, author, channel id, content, created_at,
/// edited_at, whether it has files, mentions` (its attachments not loaded
/// yet: see [`fill`]).
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
        mentions: mentions::decode(r.get(7)?),
    })
}

/// The message `id`, unless it does not exist, was deleted, or is in a
/// channel `viewer` may not see.
pub fn load(conn: &Connection, viewer: &Uuid, id: &Uuid) -> Result<Option<Message>, StoreError> {
    let mut found = conn
        .prepare_cached(&format!("WITH {SEEN} SELECT {COLUMNS} WHERE m.id = ?2"))?
        .query_row([viewer, id], from_row)
        .optional()?;
    fill(conn, found.iter_mut())?;
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
    let channel = channels::seen_or_not_found(conn, by, &message.channel)?;
    message.content = content.into_string();
    message.edited_at = Some(now);
    message.mentions = mentions::find(conn, &channel, &message.content)?;
    let seq: i64 = conn
        .prepare_cached(
            "UPDATE messages SET content = ?2, edited_at = ?3 WHERE id = ?1 RETURNING seq",
        )?
        .query_row(params![id, message.content, now.0], |r| r.get(0))?;
    mentions::store(conn, seq, channel.seq, &message.mentions)?;
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

/// Loads the attachments of those of `messages` that have any (their
/// links unsigned: see [`sign_all`]).
pub fn fill<'a>(
    conn: &Connection,
    messages: impl IntoIterator<Item = &'a mut Message>,
) -> Result<(), StoreError> {
    for message in messages.into_iter().filter(|m| m.files) {
        message.attachments = attachments::of_message(conn, &message.id)?;
    }
    Ok(())
}

/// Signs the links of every attachment of `messages`, at `now`.
pub fn sign_all<'a>(
    messages: impl IntoIterator<Item = &'a mut Message>,
    links: &Links,
    now: Timestamp,
) {
    for message in messages {
        for attachment in &mut message.attachments {
            attachment.sign(links, now);
        }
    }
}
