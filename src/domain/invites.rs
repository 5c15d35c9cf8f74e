//! Invitations: one-use codes that let someone register on an invite-only
//! server. Only a digest of each code is stored, as for tokens: a copy of
//! the file hands out no way in.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::clock::Timestamp;
use super::error::Refusal;

/// How long a code is valid.
pub const VALID_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// How many codes one user may make in an [`HOUR`].
pub const PER_HOUR: i64 = 10;

const HOUR: Duration = Duration::from_secs(3600);

/// A new code, and when it stops being valid.
pub struct Invite {
    /// The code, shown once.
    pub code: Uuid,
    /// When it expires.
    pub expires_at: Timestamp,
}

fn digest(code: &Uuid) -> [u8; 32] {
    Sha256::digest(code.as_bytes()).into()
}

/// Makes a code for `by` (`None`: the command line), at most [`PER_HOUR`]
/// of them per user in any hour. Expired codes are forgotten meanwhile.
pub fn create(conn: &mut Connection, by: Option<&Uuid>, now: Timestamp) -> Result<Invite, Refusal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached("DELETE FROM invites WHERE expires_at <= ?1")?
        .execute([now.0])?;
    if let Some(by) = by {
        let since = now.minus(HOUR).0;
        let oldest: Option<i64> = tx
            .prepare_cached(
                "SELECT created_at FROM invites WHERE created_by = ?1 AND created_at > ?2
                 ORDER BY created_at DESC LIMIT 1 OFFSET ?3",
            )?
            .query_row(params![by, since, PER_HOUR - 1], |r| r.get(0))
            .optional()?;
        if let Some(oldest) = oldest {
            let wait = u64::try_from(oldest - since).unwrap_or(0);
            return Err(Refusal::Limited(
                Duration::from_micros(wait).max(Duration::from_secs(1)),
            ));
        }
    }
    let invite = Invite {
        code: Uuid::new_v4(),
        expires_at: now.plus(VALID_FOR),
    };
    tx.prepare_cached(
        "INSERT INTO invites (digest, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        digest(&invite.code),
        by,
        now.0,
        invite.expires_at.0
    ])?;
    tx.commit()?;
    Ok(invite)
}

/// Uses up `code` at `now`, inside the caller's transaction: refused if it
/// is unknown, used or expired. Of two transactions redeeming one code,
/// the second finds it used.
pub fn redeem(conn: &Connection, code: &Uuid, now: Timestamp) -> Result<(), Refusal> {
    let used = conn
        .prepare_cached(
            "UPDATE invites SET used_at = ?2
             WHERE digest = ?1 AND used_at IS NULL AND expires_at > ?2",
        )?
        .execute(params![digest(code), now.0])?;
    if used == 0 {
        return Err(Refusal::Forbidden(
            "the invitation is unknown, used or expired".into(),
        ));
    }
    Ok(())
}
