//! Channels and their storage, and who may see them. A private or direct
//! channel exists only for its members: every read of a channel on behalf
//! of a user goes through [`SEEN`] (a list) or [`seen`] (one channel, as a
//! [`Seen`] that only it makes), so a query written later cannot show
//! someone a channel they are not in.
//!
//! Deleting a channel hides it at once (`purge` removes its rows later):
//! reads go through the `channels` view, which shows only the channels
//! that are not deleted.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clock::Timestamp;
use super::error::{Refusal, StoreError};
use super::members;
use super::words::stored_as_words;

/// Who may see a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Everyone.
    Public,
    /// Its members, whom members add.
    Private,
    /// Its members, who never change.
    Direct,
}

stored_as_words!(Kind {
    Public => "public",
    Private => "private",
    Direct => "direct",
});

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
    /// Who may see it.
    pub kind: Kind,
    /// Its members, oldest first: private and direct channels only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Uuid>>,
}

/// The channels user `?1` may see, as a common table `seen` with the
/// columns of the `channels` view: the public ones and those they are a
/// member of. Every query that lists channels for a user starts with it.
pub const SEEN: &str = "seen AS (SELECT * FROM channels c WHERE c.kind = 'public'
    OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel = c.seq AND m.user = ?1))";

/// Columns read by [`Channel::from_row`].
const COLUMNS: &str = "id, name, description, owner, created_at, kind";

impl Channel {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<(Channel, i64)> {
        let channel = Channel {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            owner: r.get(3)?,
            created_at: Timestamp(r.get(4)?),
            kind: r.get(5)?,
            members: None,
        };
        Ok((channel, r.get(6)?))
    }

    /// Fills in the members of a channel stored at `seq`, if it has any.
    fn with_members(mut self, conn: &Connection, seq: i64) -> Result<Channel, StoreError> {
        if self.kind != Kind::Public {
            self.members = Some(members::of(conn, seq)?);
        }
        Ok(self)
    }
}

/// A channel that a user may see: only [`seen`] makes one, so whatever
/// takes it was checked.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    /// The channel's id.
    pub id: Uuid,
    /// Its storage sequence number, which its messages refer to.
    pub seq: i64,
    /// Who may see it.
    pub kind: Kind,
    /// Its owner.
    pub owner: Uuid,
}

/// The refusal for an unknown channel `id`, and for one the caller may not
/// see: the two read the same.
pub fn not_found(id: &Uuid) -> Refusal {
    Refusal::NotFound(format!("no channel with id {id}"))
}

/// Channel `id`, if `viewer` may see it.
pub fn seen(conn: &Connection, viewer: &Uuid, id: &Uuid) -> Result<Option<Seen>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "WITH {SEEN} SELECT seq, kind, owner FROM seen WHERE id = ?2"
        ))?
        .query_row([viewer, id], |r| {
            Ok(Seen {
                id: *id,
                seq: r.get(0)?,
                kind: r.get(1)?,
                owner: r.get(2)?,
            })
        })
        .optional()?)
}

/// Channel `id`, if `viewer` may see it; else the refusal of a channel
/// that does not exist.
pub fn seen_or_not_found(conn: &Connection, viewer: &Uuid, id: &Uuid) -> Result<Seen, Refusal> {
    seen(conn, viewer, id)?.ok_or_else(|| not_found(id))
}

/// Stores a new channel; a direct one under `direct_key`, its members'
/// sorted ids, which no other channel may have.
pub fn insert(
    conn: &Connection,
    channel: &Channel,
    direct_key: Option<&[u8]>,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO channel_rows (id, name, description, owner, created_at, kind, direct_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(rusqlite::params![
        channel.id,
        channel.name,
        channel.description,
        channel.owner,
        channel.created_at.0,
        channel.kind,
        direct_key
    ])?;
    Ok(conn.last_insert_rowid())
}

/// How many public and private channels `owner` owns (direct ones are
/// conversations, not channels they run).
pub fn owned_by(conn: &Connection, owner: &Uuid) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM channels WHERE owner = ?1 AND kind != 'direct'")?
        .query_row([owner], |r| r.get(0))?)
}

/// Every channel `viewer` may see, oldest first.
pub fn list(conn: &Connection, viewer: &Uuid) -> Result<Vec<Channel>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "WITH {SEEN} SELECT {COLUMNS}, seq FROM seen ORDER BY seq"
    ))?;
    let rows = stmt.query_map([viewer], Channel::from_row)?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(channel, seq)| channel.with_members(conn, seq))
        .collect()
}

/// Channel `id`, if `viewer` may see it.
pub fn load(conn: &Connection, viewer: &Uuid, id: &Uuid) -> Result<Option<Channel>, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "WITH {SEEN} SELECT {COLUMNS}, seq FROM seen WHERE id = ?2"
        ))?
        .query_row([viewer, id], Channel::from_row)
        .optional()?;
    found
        .map(|(channel, seq)| channel.with_members(conn, seq))
        .transpose()
}

/// The direct channel whose members' sorted ids are `key`, if any.
pub fn direct(conn: &Connection, key: &[u8]) -> Result<Option<Channel>, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, seq FROM channel_rows WHERE direct_key = ?1 AND deleted_at IS NULL"
        ))?
        .query_row([key], Channel::from_row)
        .optional()?;
    found
        .map(|(channel, seq)| channel.with_members(conn, seq))
        .transpose()
}

/// A channel's id, and its members if it has any (`None`: public).
pub type Audience = (Uuid, Option<Vec<Uuid>>);

/// Every channel's id, with its members if it has any (`None`: public):
/// who hears of what happens in each.
pub fn audiences(conn: &Connection) -> Result<Vec<Audience>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, seq, kind FROM channels ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Uuid>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Kind>(2)?,
        ))
    })?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, seq, kind)| {
            let members = match kind {
                Kind::Public => None,
                Kind::Private | Kind::Direct => Some(members::of(conn, seq)?),
            };
            Ok((id, members))
        })
        .collect()
}

/// Deletes channel `id` at `now`, if `by` owns it: it is gone for every
/// reader at once, and its rows are left for `purge::purge_some`. A direct
/// channel is never deleted.
pub fn delete_owned(
    conn: &Connection,
    id: &Uuid,
    by: &Uuid,
    now: Timestamp,
) -> Result<Seen, Refusal> {
    let channel = seen_or_not_found(conn, by, id)?;
    if channel.kind == Kind::Direct {
        return Err(Refusal::Forbidden(
            "a direct conversation cannot be deleted".into(),
        ));
    }
    if channel.owner != *by {
        return Err(Refusal::Forbidden(
            "only the channel's owner may delete it".into(),
        ));
    }
    delete(conn, &channel, now)?;
    Ok(channel)
}

/// Deletes `channel` at `now`, whoever asks: its rows are left for
/// `purge::purge_some`.
pub fn delete(conn: &Connection, channel: &Seen, now: Timestamp) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE channel_rows SET deleted_at = ?2 WHERE seq = ?1")?
        .execute(rusqlite::params![channel.seq, now.0])?;
    Ok(())
}
