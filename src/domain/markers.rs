//! Read markers: how far each user has read in each channel, and what is
//! unread. A marker only moves forward.

use rusqlite::{Connection, params};
use serde::Serialize;
use uuid::Uuid;

use super::channels::{self, SEEN};
use super::error::{Refusal, StoreError};
use super::messages::{self, Message, Place};
use super::notifications::{LEVEL, Level};

/// Unread counts stop here: a client shows "999+" long before. (Each
/// channel keeps the seq of its 1000th newest message, by trigger: see
/// `schema.sql`, migration 12.)
pub const UNREAD_CAP: i64 = 1000;

/// A user's read marker in a channel, where it now stands.
#[derive(Clone, Debug)]
pub struct Marker {
    /// Whose.
    pub user: Uuid,
    /// In which channel.
    pub channel: Uuid,
    /// The last message read.
    pub message: Uuid,
}

/// One channel's line of `GET /user/self/unread`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unread {
    /// The channel.
    pub channel: Uuid,
    /// The last message read, or `null`.
    pub last_read: Option<Uuid>,
    /// Messages after it (not deleted), at most [`UNREAD_CAP`].
    #[schema(minimum = 0, maximum = 1000)]
    pub unread: i64,
    /// The user's notification level in the channel.
    pub notifications: Level,
    /// Unread messages that mention the user, at most [`UNREAD_CAP`].
    #[schema(minimum = 0, maximum = 1000)]
    pub mentions: i64,
}

/// Moves the author's marker to the message they just sent (at `place`),
/// unless it is further on already: the marker, if it moved.
pub fn sent(
    conn: &Connection,
    message: &Message,
    place: Place,
) -> Result<Option<Marker>, StoreError> {
    let moved = advance(
        conn,
        &message.author,
        place.channel_seq,
        place.seq,
        &message.id,
    )?;
    Ok(moved.then_some(Marker {
        user: message.author,
        channel: message.channel,
        message: message.id,
    }))
}

/// Moves `user`'s marker in channel `channel_seq` to message `seq` (id
/// `message`) unless it is already there or further; whether it moved.
fn advance(
    conn: &Connection,
    user: &Uuid,
    channel_seq: i64,
    seq: i64,
    message: &Uuid,
) -> Result<bool, StoreError> {
    let moved = conn
        .prepare_cached(
            "INSERT INTO read_markers (user, channel, seq, message) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user, channel) DO UPDATE
             SET seq = excluded.seq, message = excluded.message
             WHERE excluded.seq > read_markers.seq",
        )?
        .execute(params![user, channel_seq, seq, message])?;
    Ok(moved > 0)
}

/// Marks channel `channel` read up to `message` for `user`: the marker, if
/// it moved. An older message than the marker's changes nothing.
pub fn mark(
    conn: &Connection,
    user: &Uuid,
    channel: &Uuid,
    message: &Uuid,
) -> Result<Option<Marker>, Refusal> {
    let seen = channels::seen_or_not_found(conn, user, channel)?;
    let seq = messages::seq_in(conn, message, &seen)?
        .ok_or_else(|| Refusal::Invalid(format!("{message} is not a message of this channel")))?;
    let moved = advance(conn, user, seen.seq, seq, message)?;
    Ok(moved.then_some(Marker {
        user: *user,
        channel: *channel,
        message: *message,
    }))
}

/// Puts `user`'s marker in the channel stored at `channel_seq` at its
/// newest message, if it has one: a new member's count starts there.
pub fn start_at_end(conn: &Connection, user: &Uuid, channel_seq: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO read_markers (user, channel, seq, message)
         SELECT ?1, channel, seq, id FROM messages WHERE channel = ?2
         ORDER BY seq DESC LIMIT 1",
    )?
    .execute(params![user, channel_seq])?;
    Ok(())
}

/// The unread count of every channel `user` may see, in the order of
/// `GET /channel`.
/// Where the user never marked a channel, counting starts where the history
/// stood when the account was made. A count at the cap reads none of the
/// `(channel, seq)` index, any other fewer than [`UNREAD_CAP`] entries of
/// it; each count of mentions at most as many of the user's entries in
/// `mentions`.
pub fn unread(conn: &Connection, user: &Uuid) -> Result<Vec<Unread>, StoreError> {
    // A marker below the channel's 1000th newest message (`cap_seq`, kept
    // by triggers) has the cap unread; above it, the count is short.
    let mut stmt = conn.prepare_cached(&format!(
        "WITH {SEEN}, marked AS (
             SELECT c.id AS channel, c.seq AS channel_seq, r.message AS last_read,
                    coalesce(r.seq, (SELECT first_seq FROM users WHERE id = ?1)) AS after,
                    {LEVEL} AS level, k.cap_seq AS cap_seq
             FROM seen c
             JOIN channel_rows k ON k.seq = c.seq
             LEFT JOIN read_markers r ON r.user = ?1 AND r.channel = c.seq
             LEFT JOIN notification_levels l ON l.user = ?1 AND l.channel = c.seq
         )
         SELECT channel, last_read,
                CASE WHEN cap_seq > after THEN ?2
                     ELSE (SELECT count(*) FROM messages m
                           WHERE m.channel = channel_seq AND m.seq > after)
                END,
                level,
                (SELECT count(*) FROM (SELECT 1 FROM mentions n
                     WHERE n.user = ?1 AND n.channel = channel_seq AND n.seq > after
                     LIMIT ?2))
         FROM marked ORDER BY channel_seq"
    ))?;
    let rows = stmt.query_map(params![user, UNREAD_CAP], |r| {
        Ok(Unread {
            channel: r.get(0)?,
            last_read: r.get(1)?,
            unread: r.get(2)?,
            notifications: r.get(3)?,
            mentions: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
