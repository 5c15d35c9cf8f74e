//! Who is in a private or direct channel, in the order they joined. These
//! functions take a channel's storage seq: callers get it from
//! `channels::seen`, which has already checked that the caller may see it.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::error::StoreError;

/// The most members a private channel is made with, its creator included
/// (more join one by one).
pub const MAX_MEMBERS: usize = 256;

/// The most other people a direct conversation may have.
pub const MAX_DIRECT: usize = 8;

/// The members of the channel stored at `seq`, oldest first.
pub fn of(conn: &Connection, seq: i64) -> Result<Vec<Uuid>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT user FROM channel_members WHERE channel = ?1 ORDER BY joined")?;
    let rows = stmt.query_map([seq], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Adds `user` to the channel stored at `seq`; whether they were not a
/// member yet.
pub fn add(conn: &Connection, seq: i64, user: &Uuid) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached("INSERT OR IGNORE INTO channel_members (channel, user) VALUES (?1, ?2)")?
        .execute(params![seq, user])?;
    Ok(added > 0)
}

/// Removes `user` from the channel stored at `seq`, with their read
/// marker there; whether they were a member.
pub fn remove(conn: &Connection, seq: i64, user: &Uuid) -> Result<bool, StoreError> {
    let removed = conn
        .prepare_cached("DELETE FROM channel_members WHERE channel = ?1 AND user = ?2")?
        .execute(params![seq, user])?;
    conn.prepare_cached("DELETE FROM read_markers WHERE channel = ?1 AND user = ?2")?
        .execute(params![seq, user])?;
    Ok(removed > 0)
}

/// The member of the channel stored at `seq` who joined first, if any.
pub fn earliest(conn: &Connection, seq: i64) -> Result<Option<Uuid>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT user FROM channel_members WHERE channel = ?1 ORDER BY joined LIMIT 1",
        )?
        .query_row([seq], |r| r.get(0))
        .optional()?)
}

/// Makes `user` the owner of the channel stored at `seq`.
pub fn hand_over(conn: &Connection, seq: i64, user: &Uuid) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE channel_rows SET owner = ?2 WHERE seq = ?1")?
        .execute(params![seq, user])?;
    Ok(())
}

/// What names the direct conversation of exactly `people`: their ids,
/// sorted, end to end.
pub fn direct_key(people: &[Uuid]) -> Vec<u8> {
    let mut sorted = people.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.iter().flat_map(|id| *id.as_bytes()).collect()
}
