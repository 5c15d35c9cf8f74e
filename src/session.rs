//! Bearer-token sessions: issuing, checking, renewing, revoking and
//! pruning. Tokens are random v4 UUIDs; only their SHA-256 is stored.
//!
//! Checking a token costs no database write and, once a token has been seen,
//! no read: [`Sessions`] keeps every token in use in memory. Renewals are
//! made there and written in batches by [`maintain`], which also prunes
//! expired sessions and notices revocations made by other processes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use warp::Filter;
use warp::http::HeaderValue;

use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::json::optional_header;
use crate::{App, with_app};

/// A new token expires this long after it is issued unless it is used.
pub const FIRST_USE: Duration = Duration::from_secs(5 * 60);
/// Each use moves the expiry to this long after the use.
pub const AFTER_USE: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// A renewal is written once it moves the stored expiry by more than this,
/// so an active token costs at most one write a minute. The stored expiry
/// is never later than the real one: after a crash a token can only expire
/// early, by at most this (plus the time since it was last written).
const RENEW_SLACK: Duration = Duration::from_secs(60);
/// How often [`maintain`] writes renewals and looks for revocations made by
/// other processes.
pub const TICK: Duration = Duration::from_secs(1);

/// The SHA-256 digest under which a token is stored.
pub type TokenHash = [u8; 32];

/// The caller of an authenticated request.
#[derive(Clone, Debug)]
pub struct Session {
    /// Whose token it is.
    pub user_id: Uuid,
    /// Which token it is.
    pub token_hash: TokenHash,
}

/// A token in use, as held in memory.
struct Held {
    user_id: Uuid,
    /// When it expires, renewals included.
    expires_at: Timestamp,
    /// What the database says.
    stored: Timestamp,
}

#[derive(Default)]
struct Table {
    held: HashMap<TokenHash, Held>,
    /// Bumped by every revocation: a lookup that read the database before a
    /// revocation must not remember what it read.
    generation: u64,
}

/// The tokens in use, in memory.
#[derive(Default)]
pub struct Sessions {
    table: Mutex<Table>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        crate::lock(&self.table)
    }

    /// Forgets one token.
    pub fn revoke(&self, token: &TokenHash) {
        let mut table = self.lock();
        table.held.remove(token);
        table.generation += 1;
    }

    /// Forgets every token of `user_id` but `keep`.
    pub fn revoke_others(&self, user_id: &Uuid, keep: &TokenHash) {
        let mut table = self.lock();
        table
            .held
            .retain(|token, held| held.user_id != *user_id || token == keep);
        table.generation += 1;
    }

    /// Forgets every token: another process changed sessions behind our
    /// back. (The maintenance tick has just written pending renewals; any
    /// made since are simply made again at the token's next use.)
    fn forget_all(&self) {
        let mut table = self.lock();
        table.held.clear();
        table.generation += 1;
    }

    /// Renewals to write: tokens whose expiry moved by more than the slack.
    fn pending(&self) -> Vec<(TokenHash, Timestamp)> {
        self.lock()
            .held
            .iter()
            .filter(|(_, h)| h.expires_at > h.stored.plus(RENEW_SLACK))
            .map(|(token, h)| (*token, h.expires_at))
            .collect()
    }

    /// Notes that `written` renewals are in the database.
    fn stored(&self, written: &[(TokenHash, Timestamp)]) {
        let mut table = self.lock();
        for (token, at) in written {
            if let Some(held) = table.held.get_mut(token) {
                held.stored = held.stored.max(*at);
            }
        }
    }

    fn forget_expired(&self, now: Timestamp) {
        self.lock().held.retain(|_, held| held.expires_at > now);
    }
}

/// Checks a token and counts this as a use of it.
pub async fn check(app: &App, token: &Uuid) -> Result<Session, ApiError> {
    let token_hash = digest(token);
    let now = app.clock.now();
    let generation = {
        let mut table = app.sessions.lock();
        if let Some(held) = table.held.get_mut(&token_hash) {
            if held.expires_at <= now {
                table.held.remove(&token_hash);
                return Err(ApiError::Unauthorized);
            }
            held.expires_at = held.expires_at.max(now.plus(AFTER_USE));
            let user_id = held.user_id;
            return Ok(Session {
                user_id,
                token_hash,
            });
        }
        table.generation
    };
    let found: Option<(Uuid, i64)> = app
        .db
        .run(move |conn| {
            Ok(conn
                .prepare_cached("SELECT user_id, expires_at FROM sessions WHERE token_hash = ?1")?
                .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        })
        .await?;
    let Some((user_id, stored)) = found else {
        return Err(ApiError::Unauthorized);
    };
    let stored = Timestamp(stored);
    if stored <= now {
        return Err(ApiError::Unauthorized);
    }
    let mut table = app.sessions.lock();
    if table.generation == generation {
        table.held.insert(
            token_hash,
            Held {
                user_id,
                expires_at: stored.max(now.plus(AFTER_USE)),
                stored,
            },
        );
    }
    Ok(Session {
        user_id,
        token_hash,
    })
}

/// The digest of a token.
pub fn digest(token: &Uuid) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Issues a new token for `user_id`, valid for [`FIRST_USE`].
pub fn issue(conn: &Connection, user_id: &Uuid, now: Timestamp) -> rusqlite::Result<Uuid> {
    let token = Uuid::new_v4();
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
        params![digest(&token), user_id, now.plus(FIRST_USE).0],
    )?;
    Ok(token)
}

/// Revokes one token in the database.
pub fn revoke(conn: &Connection, token_hash: &TokenHash) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Revokes every token of `user_id` in the database, except `keep` if
/// given. A running server learns of it from its own caller, or, when the
/// caller is another process, from [`note_revocation`].
pub fn revoke_all_but(
    conn: &Connection,
    user_id: &Uuid,
    keep: Option<&TokenHash>,
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND token_hash IS NOT ?2",
        params![user_id, keep],
    )?;
    Ok(())
}

/// Bumps the revocation counter that a running server watches: for
/// revocations made outside it (the admin commands).
pub fn note_revocation(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'revocations'",
        [],
    )?;
    Ok(())
}

fn revocations(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'revocations'",
        [],
        |r| r.get(0),
    )
}

/// Writes `renewals`, then deletes expired sessions, in one transaction
/// (so that no renewed session is pruned by its stale stored expiry).
fn write_and_prune(
    conn: &mut Connection,
    renewals: &[(TokenHash, Timestamp)],
    prune_before: Option<Timestamp>,
) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut renew = tx.prepare_cached(
            "UPDATE sessions SET expires_at = max(expires_at, ?2) WHERE token_hash = ?1",
        )?;
        for (token, at) in renewals {
            renew.execute(params![token, at.0])?;
        }
    }
    let pruned = match prune_before {
        Some(now) => tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])?,
        None => 0,
    };
    tx.commit()?;
    Ok(pruned)
}

/// Writes pending renewals (and prunes, if `prune`); for the maintenance
/// tick and for shutdown.
pub async fn persist(app: &App, prune: bool) -> Result<(), ApiError> {
    let renewals = app.sessions.pending();
    if renewals.is_empty() && !prune {
        return Ok(());
    }
    let now = app.clock.now();
    let written = renewals.clone();
    let pruned = app
        .db
        .run(move |conn| Ok(write_and_prune(conn, &written, prune.then_some(now))?))
        .await?;
    app.sessions.stored(&renewals);
    if prune {
        app.sessions.forget_expired(now);
        if pruned > 0 {
            tracing::debug!(pruned, "expired sessions deleted");
        }
    }
    Ok(())
}

/// The token of an `Authorization: Bearer <uuid>` header (scheme matched
/// case-insensitively), or `None` if there is no usable one.
fn bearer_token(header: Option<&HeaderValue>) -> Option<Uuid> {
    let value = header?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Uuid::try_parse(token.trim()).ok()
}

/// Requires a valid bearer token; yields the caller's [`Session`].
pub fn authenticated(
    app: &App,
) -> impl Filter<Extract = (Session,), Error = warp::Rejection> + Clone + use<> {
    optional_header("authorization")
        .and(with_app(app))
        .and_then(|header: Option<HeaderValue>, app: App| async move {
            let token = bearer_token(header.as_ref()).ok_or(ApiError::Unauthorized)?;
            Ok::<_, warp::Rejection>(check(&app, &token).await?)
        })
}

/// Every [`TICK`]: writes pending renewals, and on a revocation made by
/// another process forgets what memory holds and closes the websockets of
/// tokens that are gone. Every `prune_interval`: deletes expired sessions.
/// Runs until the task is dropped.
pub async fn maintain(app: App, prune_interval: Duration) -> Infallible {
    let mut ticks = tokio::time::interval(TICK.min(prune_interval));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_prune = tokio::time::Instant::now() + prune_interval;
    let mut seen: Option<i64> = None;
    loop {
        ticks.tick().await;
        let prune = tokio::time::Instant::now() >= next_prune;
        if prune {
            next_prune = tokio::time::Instant::now() + prune_interval;
        }
        if let Err(e) = persist(&app, prune).await {
            e.log();
        }
        match app.db.run(|conn| Ok(revocations(conn)?)).await {
            Ok(now) if seen.is_some_and(|before| before != now) => {
                seen = Some(now);
                app.sessions.forget_all();
                app.users.forget_all();
                close_revoked(&app).await;
            }
            Ok(now) => seen = Some(now),
            Err(e) => e.log(),
        }
    }
}

/// Closes the websockets whose tokens are no longer in the database.
async fn close_revoked(app: &App) {
    let tokens = app.connections.tokens();
    let gone = app
        .db
        .run(move |conn| {
            let mut exists = conn.prepare_cached("SELECT 1 FROM sessions WHERE token_hash = ?1")?;
            let mut gone = Vec::new();
            for token in tokens {
                if !exists.exists([token])? {
                    gone.push(token);
                }
            }
            Ok(gone)
        })
        .await;
    match gone {
        Ok(gone) => {
            for token in gone {
                app.connections.revoke_token(&token);
            }
        }
        Err(e) => e.log(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn parses_bearer_tokens() {
        let t = "318cd399-f47f-478f-8d09-c9c414c3750d";
        let want = Uuid::parse_str(t).ok();
        assert_eq!(bearer_token(Some(&header(&format!("Bearer {t}")))), want);
        assert_eq!(bearer_token(Some(&header(&format!("bEaReR {t}")))), want);
        assert_eq!(bearer_token(Some(&header(&format!("Bearer   {t} ")))), want);
        assert_eq!(bearer_token(None), None);
        assert_eq!(bearer_token(Some(&header(t))), None);
        assert_eq!(bearer_token(Some(&header(&format!("Basic {t}")))), None);
        assert_eq!(bearer_token(Some(&header("Bearer not-a-uuid"))), None);
        assert_eq!(bearer_token(Some(&header("Bearer"))), None);
        let latin1 = HeaderValue::from_bytes(b"Bearer \xe9").unwrap();
        assert_eq!(bearer_token(Some(&latin1)), None);
    }

    #[test]
    fn digest_is_sha256_of_the_uuid_bytes() {
        let t = Uuid::nil();
        let d = digest(&t);
        assert_eq!(
            d[..4],
            [0x37, 0x47, 0x08, 0xff],
            "sha256 of 16 zero bytes starts 374708ff"
        );
    }
}
