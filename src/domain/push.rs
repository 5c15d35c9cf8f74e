//! Web Push subscriptions, each a browser's, kept with the session that
//! made it (ending the session ends them), and the server's VAPID key.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::channels::{self, Kind};
use super::clock::Timestamp;
use super::error::StoreError;
use super::notifications::{LEVEL, Level};
use super::sessions::TokenHash;

/// Subscriptions one account keeps: a new one past this replaces its
/// oldest (browsers come and go; each message costs a push per one).
pub const PER_USER: i64 = 10;

/// Where one browser is reached, and the keys its pushes are encrypted for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Subscription {
    /// The push service's URL for it.
    pub endpoint: String,
    /// The browser's P-256 public key (base64url).
    pub p256dh: String,
    /// Its authentication secret (base64url).
    pub auth: String,
}

/// Stores `subscription` for `user`'s session `session`, taking it over
/// from whichever session had it; `user` keeps at most [`PER_USER`].
pub fn subscribe(
    conn: &Connection,
    session: &TokenHash,
    user: &Uuid,
    subscription: &Subscription,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO push_subscriptions (endpoint, session, user, p256dh, auth, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (endpoint) DO UPDATE SET session = excluded.session,
             user = excluded.user, p256dh = excluded.p256dh, auth = excluded.auth,
             created_at = excluded.created_at",
    )?
    .execute(params![
        subscription.endpoint,
        session,
        user,
        subscription.p256dh,
        subscription.auth,
        now.0
    ])?;
    conn.prepare_cached(
        "DELETE FROM push_subscriptions WHERE endpoint IN (
             SELECT endpoint FROM push_subscriptions WHERE user = ?1
             ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?2)",
    )?
    .execute(params![user, PER_USER])?;
    Ok(())
}

/// Deletes `user`'s subscription at `endpoint`, if they have it.
pub fn unsubscribe(conn: &Connection, user: &Uuid, endpoint: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM push_subscriptions WHERE user = ?1 AND endpoint = ?2")?
        .execute(params![user, endpoint])?;
    Ok(())
}

/// Deletes the subscription at `endpoint`: its push service says it is gone.
pub fn forget(conn: &Connection, endpoint: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM push_subscriptions WHERE endpoint = ?1")?
        .execute([endpoint])?;
    Ok(())
}

/// The VAPID key's secret, made by `make` (and kept) if there is none yet.
pub fn vapid_secret(
    conn: &Connection,
    make: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, StoreError> {
    let kept = || {
        conn.query_row("SELECT key FROM secrets WHERE name = 'vapid'", [], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .optional()
    };
    if let Some(secret) = kept()? {
        return Ok(secret);
    }
    conn.execute(
        "INSERT OR IGNORE INTO secrets (name, key) VALUES ('vapid', ?1)",
        [make()],
    )?;
    Ok(
        conn.query_row("SELECT key FROM secrets WHERE name = 'vapid'", [], |r| {
            r.get(0)
        })?,
    )
}

/// A channel, as a push names it.
#[derive(Clone, Debug)]
pub struct Channel {
    pub name: String,
    pub kind: Kind,
}

/// A subscription of someone who may see a channel, with their level there.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub user: Uuid,
    pub level: Level,
    pub subscription: Subscription,
}

/// Channel `id` (unless it is gone) and every subscription of the accounts
/// that may see it, with their levels.
pub fn recipients(
    conn: &Connection,
    id: &Uuid,
) -> Result<Option<(Channel, Vec<Recipient>)>, StoreError> {
    let Some((seq, channel)) = conn
        .prepare_cached("SELECT seq, name, kind FROM channels WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Channel {
                    name: r.get(1)?,
                    kind: r.get(2)?,
                },
            ))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT s.user, {LEVEL}, s.endpoint, s.p256dh, s.auth
         FROM channels c JOIN push_subscriptions s
         LEFT JOIN notification_levels l ON l.user = s.user AND l.channel = c.seq
         WHERE c.seq = ?1 AND (c.kind = 'public' OR EXISTS (
             SELECT 1 FROM channel_members m WHERE m.channel = c.seq AND m.user = s.user))"
    ))?;
    let rows = stmt.query_map([seq], |r| {
        Ok(Recipient {
            user: r.get(0)?,
            level: r.get(1)?,
            subscription: Subscription {
                endpoint: r.get(2)?,
                p256dh: r.get(3)?,
                auth: r.get(4)?,
            },
        })
    })?;
    Ok(Some((channel, rows.collect::<rusqlite::Result<_>>()?)))
}

/// Whether `user` still has the subscription at `endpoint` and may still
/// see channel `channel`: checked again when a push leaves, which may be
/// long after the message (after a logout, or a removal from the channel).
pub fn still_heard(
    conn: &Connection,
    endpoint: &str,
    user: &Uuid,
    channel: &Uuid,
) -> Result<bool, StoreError> {
    let subscribed = conn
        .prepare_cached("SELECT 1 FROM push_subscriptions WHERE endpoint = ?1 AND user = ?2")?
        .exists(params![endpoint, user])?;
    Ok(subscribed && channels::seen(conn, user, channel)?.is_some())
}
