//! Session records: bearer tokens, stored only as their SHA-256 digest, so a
//! copy of the file hands out no sessions.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::clock::Timestamp;
use super::error::StoreError;

/// A new token expires this long after it is issued unless it is used.
pub const FIRST_USE: Duration = Duration::from_secs(5 * 60);
/// Each use moves the expiry to this long after the use.
pub const AFTER_USE: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// The SHA-256 digest under which a token is stored.
pub type TokenHash = [u8; 32];

/// The digest of a token.
pub fn digest(token: &Uuid) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Issues a new token for `user_id`, valid for [`FIRST_USE`].
pub fn issue(conn: &Connection, user_id: &Uuid, now: Timestamp) -> Result<Uuid, StoreError> {
    let token = Uuid::new_v4();
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
        params![digest(&token), user_id, now.plus(FIRST_USE).0],
    )?;
    Ok(token)
}

/// Whose token `token_hash` is, and when it expires, if it exists.
pub fn find(
    conn: &Connection,
    token_hash: &TokenHash,
) -> Result<Option<(Uuid, Timestamp)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT user_id, expires_at FROM sessions WHERE token_hash = ?1")?
        .query_row([token_hash], |r| Ok((r.get(0)?, Timestamp(r.get(1)?))))
        .optional()?)
}

/// Deletes one token.
pub fn delete(conn: &Connection, token_hash: &TokenHash) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Deletes every token of `user_id`, except `keep` if given.
pub fn delete_all_but(
    conn: &Connection,
    user_id: &Uuid,
    keep: Option<&TokenHash>,
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND token_hash IS NOT ?2",
        params![user_id, keep],
    )?;
    Ok(())
}

/// Bumps the revocation counter that a running server watches: for
/// revocations made outside it (the admin commands).
pub fn note_revocation(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'revocations'",
        [],
    )?;
    Ok(())
}

/// The revocation counter.
pub fn revocations(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT value FROM meta WHERE key = 'revocations'",
        [],
        |r| r.get(0),
    )?)
}

/// Writes `renewals`, then deletes sessions expired at `prune_before`, in
/// one transaction (so no renewed session is pruned by its stale stored
/// expiry); the tokens pruned.
pub fn renew_and_prune(
    conn: &mut Connection,
    renewals: &[(TokenHash, Timestamp)],
    prune_before: Option<Timestamp>,
) -> Result<Vec<TokenHash>, StoreError> {
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
        Some(now) => tx
            .prepare("DELETE FROM sessions WHERE expires_at <= ?1 RETURNING token_hash")?
            .query_map([now.0], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    tx.commit()?;
    Ok(pruned)
}

/// Those of `tokens` that are no longer stored.
pub fn gone(conn: &Connection, tokens: Vec<TokenHash>) -> Result<Vec<TokenHash>, StoreError> {
    let mut exists = conn.prepare_cached("SELECT 1 FROM sessions WHERE token_hash = ?1")?;
    let mut gone = Vec::new();
    for token in tokens {
        if !exists.exists([token])? {
            gone.push(token);
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_of_the_uuid_bytes() {
        let d = digest(&Uuid::nil());
        assert_eq!(
            d[..4],
            [0x37, 0x47, 0x08, 0xff],
            "sha256 of 16 zero bytes starts 374708ff"
        );
    }
}
