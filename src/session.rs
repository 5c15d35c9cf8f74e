//! Bearer-token sessions: issuing, checking (with cheap renewal), revoking
//! and pruning. Tokens are random v4 UUIDs; only their SHA-256 is stored.

use std::convert::Infallible;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
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
/// A renewal is written only when it moves the stored expiry by more than
/// this, so a busy client costs no write per request. A token can thus
/// expire at most this much before 14 days after its last use, never later.
const RENEW_SLACK: Duration = Duration::from_secs(60);

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

/// Checks a token and counts this as a use of it.
pub fn authenticate(
    conn: &Connection,
    token_hash: TokenHash,
    now: Timestamp,
) -> Result<Session, ApiError> {
    let found: Option<(Uuid, i64)> = conn
        .prepare_cached("SELECT user_id, expires_at FROM sessions WHERE token_hash = ?1")?
        .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((user_id, expires_at)) = found else {
        return Err(ApiError::Unauthorized);
    };
    if Timestamp(expires_at) <= now {
        return Err(ApiError::Unauthorized);
    }
    let renewed = now.plus(AFTER_USE);
    if renewed > Timestamp(expires_at).plus(RENEW_SLACK) {
        conn.prepare_cached("UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1")?
            .execute(params![token_hash, renewed.0])?;
    }
    Ok(Session {
        user_id,
        token_hash,
    })
}

/// Revokes one token.
pub fn revoke(conn: &Connection, token_hash: &TokenHash) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Revokes every token of `user_id`, except `keep` if given.
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

/// Deletes expired sessions; returns how many.
pub fn prune(conn: &Connection, now: Timestamp) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])
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
            let hash = digest(&token);
            let now = app.clock.now();
            let session = app
                .db
                .run(move |conn| authenticate(conn, hash, now))
                .await?;
            Ok::<_, warp::Rejection>(session)
        })
}

/// Deletes expired sessions every `interval`, until the task is dropped.
pub async fn prune_every(app: App, interval: Duration) -> Infallible {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = app.clock.now();
        match app.db.run(move |conn| Ok(prune(conn, now)?)).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "expired sessions deleted"),
            Err(e) => tracing::warn!(error = ?e, "pruning sessions failed"),
        }
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
