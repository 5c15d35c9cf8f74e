//! Channels and their storage. Deleting one hides it at once; its
//! messages, tombstones and markers are purged afterwards, a few at a time
//! (`purge_some`), so that a big channel never holds the write lock for
//! long. Reads go through the `channels` view, which shows only the
//! channels that are not deleted.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use uuid::Uuid;

use super::clock::Timestamp;
use super::error::{Refusal, StoreError};

/// A channel as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Channel {
    /// The channel's id.
    pub id: Uuid,
    /// Its name, trimmed; not unique.
    pub name: String,
    /// What it is about, or `null`.
    pub description: Option<String>,
    /// Who created it, and may delete it.
    pub owner: Uuid,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Columns read by [`Channel::from_row`].
const COLUMNS: &str = "id, name, description, owner, created_at";

impl Channel {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Channel> {
        Ok(Channel {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            owner: r.get(3)?,
            created_at: Timestamp(r.get(4)?),
        })
    }
}

/// The refusal for an unknown channel `id`.
pub fn not_found(id: &Uuid) -> Refusal {
    Refusal::NotFound(format!("no channel with id {id}"))
}

/// Stores a new channel.
pub fn insert(conn: &Connection, channel: &Channel) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO channel_rows (id, name, description, owner, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(rusqlite::params![
        channel.id,
        channel.name,
        channel.description,
        channel.owner,
        channel.created_at.0
    ])?;
    Ok(())
}

/// How many channels `owner` owns.
pub fn owned_by(conn: &Connection, owner: &Uuid) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM channels WHERE owner = ?1")?
        .query_row([owner], |r| r.get(0))?)
}

/// Every channel, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Channel>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM channels ORDER BY seq"))?;
    let rows = stmt.query_map([], Channel::from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The channel with `id`, if any.
pub fn load(conn: &Connection, id: &Uuid) -> Result<Option<Channel>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM channels WHERE id = ?1"))?
        .query_row([id], Channel::from_row)
        .optional()?)
}

/// The storage sequence number of channel `id`, if it exists: what its
/// messages refer to.
pub fn seq(conn: &Connection, id: &Uuid) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq FROM channels WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Deletes channel `id` at `now`, if `by` owns it: it is gone for every
/// reader at once, and its rows are left for [`purge_some`].
pub fn delete_owned(
    conn: &Connection,
    id: &Uuid,
    by: &Uuid,
    now: Timestamp,
) -> Result<(), Refusal> {
    let owner: Option<Uuid> = conn
        .query_row("SELECT owner FROM channels WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    match owner {
        None => Err(not_found(id)),
        Some(owner) if owner != *by => Err(Refusal::Forbidden(
            "only the channel's owner may delete it".into(),
        )),
        Some(_) => {
            conn.prepare_cached("UPDATE channel_rows SET deleted_at = ?2 WHERE id = ?1")?
                .execute(rusqlite::params![id, now.0])?;
            Ok(())
        }
    }
}

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
