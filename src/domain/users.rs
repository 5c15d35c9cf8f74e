//! Users and their storage.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use super::clock::Timestamp;
use super::error::{Refusal, StoreError, is_unique_violation};
use super::invites;
use super::messages;
use super::names::{LoginName, UserName};
use super::sessions::{self, TokenHash};
use super::unicode;

/// A user as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// The unique name.
    pub name: String,
    /// When the account was registered.
    pub created_at: Timestamp,
}

/// One account, as `azuma user list` shows it.
#[derive(Debug)]
pub struct Account {
    /// The account's name.
    pub name: String,
    /// Its id.
    pub id: Uuid,
    /// When it registered.
    pub created_at: Timestamp,
    /// How many sessions it has open (expired ones not yet pruned included).
    pub sessions: i64,
}

/// The refusal for a name that is taken.
pub fn taken(name: &str) -> Refusal {
    Refusal::Taken(format!("the name {name:?} is taken"))
}

/// A unique violation on the name is [`taken`]; anything else is storage.
fn unique_or(e: rusqlite::Error, name: &str) -> Refusal {
    if is_unique_violation(&e) {
        taken(name)
    } else {
        e.into()
    }
}

/// Whether an account already has `name`.
pub fn name_taken(conn: &Connection, name: &UserName) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM users WHERE name = ?1",
            [name.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Creates an account; its name must be free.
pub fn insert(
    conn: &Connection,
    name: &UserName,
    hash: &str,
    now: Timestamp,
) -> Result<Uuid, Refusal> {
    let id = Uuid::new_v4();
    // Unread counts start from the history as it stands now.
    let first_seq = messages::newest_seq(conn)?;
    conn.execute(
        "INSERT INTO users (id, name, name_key, password, created_at, first_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, name.as_str(), name.key(), hash, now.0, first_seq],
    )
    .map_err(|e| unique_or(e, name.as_str()))?;
    Ok(id)
}

/// Creates an account and its first session, in one transaction, using up
/// `invite` if given (the account is made only if the code was good); the
/// session's token.
pub fn register(
    conn: &mut Connection,
    name: &UserName,
    hash: &str,
    invite: Option<&Uuid>,
    now: Timestamp,
) -> Result<Uuid, Refusal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(code) = invite {
        invites::redeem(&tx, code, now)?;
    }
    let id = insert(&tx, name, hash, now)?;
    let token = sessions::issue(&tx, &id, now)?;
    tx.commit()?;
    Ok(token)
}

/// The id and stored password hash of the account named `name` (as typed,
/// or in NFC), if any.
pub fn credentials(
    conn: &Connection,
    name: &LoginName,
) -> Result<Option<(Uuid, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, password FROM users WHERE name IN (?1, ?2) LIMIT 1")?
        .query_row(name.forms(), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The user with `id`, if any.
pub fn load(conn: &Connection, id: &Uuid) -> Result<Option<User>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name, created_at FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(User {
                id: *id,
                name: r.get(0)?,
                created_at: Timestamp(r.get(1)?),
            })
        })
        .optional()?)
}

/// Renames and/or re-passwords `id` in one transaction; a new password
/// revokes every session of the user but `keep`. `None` if the user is gone.
pub fn update(
    conn: &mut Connection,
    id: &Uuid,
    name: Option<&UserName>,
    hash: Option<&str>,
    keep: &TokenHash,
) -> Result<Option<User>, Refusal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(name) = name {
        tx.execute(
            "UPDATE users SET name = ?2, name_key = ?3 WHERE id = ?1",
            params![id, name.as_str(), name.key()],
        )
        .map_err(|e| unique_or(e, name.as_str()))?;
    }
    if let Some(hash) = hash {
        set_password(&tx, id, hash, Some(keep))?;
    }
    let user = load(&tx, id)?;
    tx.commit()?;
    Ok(user)
}

/// Stores a new password hash and revokes every session of the user but
/// `keep`: a changed password signs out everywhere else.
fn set_password(
    conn: &Connection,
    id: &Uuid,
    hash: &str,
    keep: Option<&TokenHash>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET password = ?2 WHERE id = ?1",
        params![id, hash],
    )?;
    sessions::delete_all_but(conn, id, keep)
}

/// The id of the account named (or with the id) `name`.
fn id_of(conn: &Connection, name: &str) -> Result<Uuid, Refusal> {
    let by_id = Uuid::try_parse(name).ok();
    conn.query_row(
        "SELECT id FROM users WHERE name = ?1 OR id = ?2",
        params![name, by_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Refusal::NotFound(format!("no user named {}", name.escape_debug())))
}

/// Gives names from before migration 4 their key, where no other name
/// that looks the same has it; called at every start, after migrating.
pub fn backfill_keys(conn: &Connection) -> rusqlite::Result<()> {
    let unkeyed: Vec<(Uuid, String)> = conn
        .prepare("SELECT id, name FROM users WHERE name_key IS NULL ORDER BY created_at")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set = conn.prepare("UPDATE OR IGNORE users SET name_key = ?2 WHERE id = ?1")?;
    for (id, name) in unkeyed {
        set.execute(params![id, unicode::name_key(&name)])?;
    }
    Ok(())
}

/// Changes the password of the account named `name` from outside the
/// server, revoking all its sessions (a running server notices).
pub fn change_password(conn: &mut Connection, name: &str, hash: &str) -> Result<(), Refusal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = id_of(&tx, name)?;
    set_password(&tx, &id, hash, None)?;
    sessions::note_revocation(&tx)?;
    Ok(tx.commit()?)
}

/// Deletes the account named `name` and its sessions from outside the
/// server. Its messages and channels stay: others' history is not rewritten.
pub fn remove(conn: &mut Connection, name: &str) -> Result<(), Refusal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = id_of(&tx, name)?;
    tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
    sessions::note_revocation(&tx)?;
    Ok(tx.commit()?)
}

/// The first of `ids` that names no account, if any.
pub fn unknown(conn: &Connection, ids: &[Uuid]) -> Result<Option<Uuid>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?;
    for id in ids {
        if !stmt.exists([id])? {
            return Ok(Some(*id));
        }
    }
    Ok(None)
}

/// At most `limit` accounts whose name starts with `prefix`, ignoring case
/// and diacritics, sorted by name the same way. (Every name is read: a
/// server's accounts are people, not millions.)
pub fn people(conn: &Connection, prefix: &str, limit: usize) -> Result<Vec<User>, StoreError> {
    let prefix = unicode::sort_key(prefix);
    let mut stmt = conn.prepare_cached("SELECT id, name, created_at FROM users")?;
    let rows = stmt.query_map([], |r| {
        Ok(User {
            id: r.get(0)?,
            name: r.get(1)?,
            created_at: Timestamp(r.get(2)?),
        })
    })?;
    let mut found = Vec::new();
    for user in rows {
        let user = user?;
        let key = unicode::sort_key(&user.name);
        if key.starts_with(&prefix) {
            found.push((key, user));
        }
    }
    found.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.name.cmp(&y.name)));
    Ok(found
        .into_iter()
        .take(limit)
        .map(|(_, user)| user)
        .collect())
}

/// Every account, oldest first.
pub fn accounts(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT name, id, created_at,
                (SELECT count(*) FROM sessions s WHERE s.user_id = u.id)
         FROM users u ORDER BY created_at, name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Account {
            name: r.get(0)?,
            id: r.get(1)?,
            created_at: Timestamp(r.get(2)?),
            sessions: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
