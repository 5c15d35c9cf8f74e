//! Attachments and their storage: files kept in the database in chunks of
//! [`CHUNK`] bytes (the last one shorter), each variant (the file, its
//! thumbnail) on its own, so that a byte range is a few rows and an upload
//! is many short transactions. An attachment is its uploader's alone until
//! a message carries it; then it is seen by whoever sees the message.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::channels::SEEN;
use super::clock::Timestamp;
use super::error::{Refusal, StoreError};
use crate::media::links::{Links, Variant};

/// The bytes of one stored chunk.
pub const CHUNK: usize = 128 * 1024;

/// The most attachments one message carries.
pub const MAX_PER_MESSAGE: usize = 10;

/// An attachment as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    /// Its id.
    pub id: Uuid,
    /// The file's name.
    pub name: String,
    /// Its media type, as uploaded.
    #[serde(rename = "type")]
    pub mime: String,
    /// Its size in bytes (as stored: a JPEG without its metadata).
    pub size: i64,
    /// An image's width as it shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// An image's height as it shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// When it was uploaded.
    pub created_at: Timestamp,
    /// The file, by a signed link (no token needed) that works at least a
    /// day.
    pub url: String,
    /// An image's thumbnail (at most 800 px), by a signed link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// Whether it has a thumbnail.
    #[serde(skip)]
    pub thumbnail: bool,
}

impl Attachment {
    /// Fills in its links, signed at `now`.
    pub fn sign(&mut self, links: &Links, now: Timestamp) {
        let seconds = now.0 / 1_000_000;
        self.url = links.url(&self.id, Variant::File, seconds);
        self.thumbnail_url = self
            .thumbnail
            .then(|| links.url(&self.id, Variant::Thumbnail, seconds));
    }
}

const COLUMNS: &str = "a.id, a.name, a.type, a.size, a.width, a.height, a.created_at,
    a.thumbnail_type IS NOT NULL";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        name: r.get(1)?,
        mime: r.get(2)?,
        size: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        created_at: Timestamp(r.get(6)?),
        url: String::new(),
        thumbnail_url: None,
        thumbnail: r.get(7)?,
    })
}

/// The key that signs links, made by the migration.
pub fn link_key(conn: &Connection) -> Result<Vec<u8>, StoreError> {
    Ok(
        conn.query_row("SELECT key FROM secrets WHERE name = 'links'", [], |r| {
            r.get(0)
        })?,
    )
}

/// Starts storing upload `id` of `owner`: its seq, under which its chunks
/// go. It is seen by no one until [`finish`].
pub fn create(
    conn: &Connection,
    id: &Uuid,
    owner: &Uuid,
    name: &str,
    mime: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO attachments (id, owner, name, type, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, owner, name, mime, now.0])?;
    Ok(conn.last_insert_rowid())
}

/// Stores chunk `n` of `variant` (0 the file, 1 the thumbnail) of the
/// attachment stored at `seq`.
pub fn store_chunk(
    conn: &Connection,
    seq: i64,
    variant: i64,
    n: i64,
    data: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO attachment_chunks (attachment, variant, n, data) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![seq, variant, n, data])?;
    Ok(())
}

/// What decoding an image found: its size as it shows and its
/// thumbnail's type.
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub thumbnail_type: &'static str,
}

/// Completes the attachment stored at `seq`: `size` bytes, of `mime`, an
/// image or not. It is its owner's from now on.
pub fn finish(
    conn: &Connection,
    seq: i64,
    size: i64,
    mime: &str,
    image: Option<&Image>,
) -> Result<Attachment, StoreError> {
    conn.prepare_cached(
        "UPDATE attachments SET size = ?2, type = ?3, width = ?4, height = ?5,
            thumbnail_type = ?6, complete = 1 WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        size,
        mime,
        image.map(|i| i.width),
        image.map(|i| i.height),
        image.map(|i| i.thumbnail_type)
    ])?;
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM attachments a WHERE a.seq = ?1"
        ))?
        .query_row([seq], from_row)?)
}

/// Deletes the attachment stored at `seq`, whatever is stored of it.
pub fn discard(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM attachments WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

/// An attachment as it is served.
pub struct Stored {
    pub seq: i64,
    pub name: String,
    pub mime: String,
    /// The media type of its thumbnail, if it has one.
    pub thumbnail_type: Option<String>,
}

/// Complete attachment `id`, if `viewer` may see it (`None`: if it
/// exists, whoever asks, for a signed link): its uploader's while no
/// message carries it, then seen by whoever sees its message.
pub fn find(
    conn: &Connection,
    viewer: Option<&Uuid>,
    id: &Uuid,
) -> Result<Option<Stored>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "WITH {SEEN}
             SELECT a.seq, a.name, a.type, a.thumbnail_type FROM attachments a
             WHERE a.id = ?2 AND a.complete AND (?3 = 0
                OR (a.message IS NULL AND a.owner = ?1)
                OR EXISTS (SELECT 1 FROM messages m JOIN seen c ON c.seq = m.channel
                           WHERE m.seq = a.message))"
        ))?
        .query_row(
            params![viewer.copied().unwrap_or_default(), id, viewer.is_some()],
            |r| {
                Ok(Stored {
                    seq: r.get(0)?,
                    name: r.get(1)?,
                    mime: r.get(2)?,
                    thumbnail_type: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// The size in bytes of `variant` of the attachment stored at `seq`.
pub fn size(conn: &Connection, seq: i64, variant: i64) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(length(data)), 0) FROM attachment_chunks
             WHERE attachment = ?1 AND variant = ?2",
        )?
        .query_row(params![seq, variant], |r| r.get(0))?)
}

/// Chunk `n` of `variant` of the attachment stored at `seq`, if there is
/// one (it may have been deleted meanwhile).
pub fn chunk(
    conn: &Connection,
    seq: i64,
    variant: i64,
    n: i64,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT data FROM attachment_chunks WHERE attachment = ?1 AND variant = ?2 AND n = ?3",
        )?
        .query_row(params![seq, variant, n], |r| r.get(0))
        .optional()?)
}

/// The seqs and names of attachments `ids`, if each is a complete upload
/// of `owner` that no message carries yet; refused otherwise.
pub fn claimable(
    conn: &Connection,
    owner: &Uuid,
    ids: &[Uuid],
) -> Result<Vec<(i64, String)>, Refusal> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, name FROM attachments
         WHERE id = ?1 AND owner = ?2 AND complete AND message IS NULL",
    )?;
    ids.iter()
        .map(|id| {
            stmt.query_row(params![id, owner], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Refusal::Invalid(format!("{id} is not an unused upload of yours")))
        })
        .collect()
}

/// Makes the message stored at `message` carry the attachments stored at
/// `seqs`.
pub fn attach(conn: &Connection, seqs: &[i64], message: i64) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("UPDATE attachments SET message = ?2 WHERE seq = ?1")?;
    for seq in seqs {
        stmt.execute(params![seq, message])?;
    }
    Ok(())
}

/// The attachments of message `id` (unsigned), in the order they were
/// uploaded.
pub fn of_message(conn: &Connection, id: &Uuid) -> Result<Vec<Attachment>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM attachments a
         WHERE a.message = (SELECT seq FROM messages WHERE id = ?1) ORDER BY a.seq"
    ))?;
    let rows = stmt.query_map([id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes uploads no message took before `unused_before`, and uploads
/// left incomplete before `incomplete_before` (a server stopped in the
/// middle of one); how many.
pub fn prune(
    conn: &Connection,
    unused_before: Timestamp,
    incomplete_before: Timestamp,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM attachments WHERE message IS NULL
             AND (created_at < ?1 OR (NOT complete AND created_at < ?2))",
        )?
        .execute(params![unused_before.0, incomplete_before.0])?)
}
