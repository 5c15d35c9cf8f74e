//! Notification levels: what a user hears of each channel, where they
//! chose something other than the default (`all` in private and direct
//! channels, `mentions` in public ones).

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::channels::Seen;
use super::error::StoreError;
use super::words::stored_as_words;

/// What a user is notified of in a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Every message.
    All,
    /// Messages that mention them.
    Mentions,
    /// Nothing.
    None,
}

stored_as_words!(Level {
    All => "all",
    Mentions => "mentions",
    None => "none",
});

/// The level of user `u` in channel `c` (SQL over a `notification_levels
/// l` row joined on them, and the channel's `kind`): theirs, or the
/// default. The one place the defaults are written.
pub const LEVEL: &str =
    "coalesce(l.level, CASE c.kind WHEN 'public' THEN 'mentions' ELSE 'all' END)";

/// Sets `user`'s level in `channel`.
pub fn set(conn: &Connection, user: &Uuid, channel: &Seen, level: Level) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO notification_levels (user, channel, level) VALUES (?1, ?2, ?3)
         ON CONFLICT (user, channel) DO UPDATE SET level = excluded.level",
    )?
    .execute(params![user, channel.seq, level])?;
    Ok(())
}
