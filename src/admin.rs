//! The admin commands, `azuma backup` and `azuma user ...`: they work on the
//! database file directly, and are safe while a server is serving it (WAL
//! lets them read beside it; their writes wait for the server's).

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use uuid::Uuid;

use crate::clock::{Clock, Timestamp};
use crate::db::{self, Db, SyncMode};
use crate::error::ApiError;
use crate::password::Passwords;
use crate::user;

/// Why an admin command failed: one line for the operator.
#[derive(Debug)]
pub struct AdminError(String);

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

impl From<ApiError> for AdminError {
    fn from(e: ApiError) -> Self {
        AdminError(e.to_string())
    }
}

impl From<db::OpenError> for AdminError {
    fn from(e: db::OpenError) -> Self {
        AdminError(e.to_string())
    }
}

/// Writes a consistent, compact copy of the database at `source` to
/// `target`, which must not exist. Reads one snapshot, so it holds every
/// write committed before it began, while the server goes on writing.
pub fn backup(source: &Path, target: &Path) -> Result<(), AdminError> {
    if !source.exists() {
        return Err(no_database(source));
    }
    if target.exists() {
        return Err(AdminError(format!(
            "{} exists; refusing to overwrite it",
            target.display()
        )));
    }
    let failed = |e: &dyn fmt::Display| AdminError(format!("backup failed: {e}"));
    // No CREATE: a mistyped path is an error, not a new empty database.
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| db::OpenError::Failed(source.to_path_buf(), e.to_string()))?;
    db::check(&conn, source)?;
    conn.busy_timeout(db::BUSY_TIMEOUT)
        .map_err(|e| failed(&e))?;
    let target_text = target
        .to_str()
        .ok_or_else(|| AdminError(format!("{} is not UTF-8", target.display())))?;
    conn.execute("VACUUM INTO ?1", [target_text])
        .map_err(|e| failed(&e))?;
    // VACUUM INTO does not sync what it wrote.
    std::fs::File::open(target)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(&e))
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

/// The database, opened for the `azuma user` commands.
pub struct Accounts {
    db: Db,
    passwords: Passwords,
    clock: Clock,
}

impl Accounts {
    /// Opens the database at `path` (creating it only if `create`). New
    /// passwords are hashed at `scrypt` cost.
    pub fn open(path: &Path, create: bool, scrypt: scrypt::Params) -> Result<Accounts, AdminError> {
        if !create && !path.exists() {
            return Err(no_database(path));
        }
        Ok(Accounts {
            db: Db::open(path, SyncMode::Full)?,
            passwords: Passwords::new(scrypt),
            clock: Clock::default(),
        })
    }

    /// Creates an account.
    pub async fn add(&self, name: String, password: String) -> Result<Uuid, AdminError> {
        user::check_name(&name)?;
        user::check_password(&password)?;
        let hash = self.passwords.hash(password).await?;
        let now = self.clock.now();
        Ok(self
            .db
            .run(move |conn| user::insert(conn, &name, &hash, now))
            .await?)
    }

    /// Changes a password and signs the account out everywhere.
    pub async fn set_password(&self, name: String, password: String) -> Result<(), AdminError> {
        user::check_password(&password)?;
        let hash = self.passwords.hash(password).await?;
        Ok(self
            .db
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let id = id_of(&tx, &name)?;
                user::set_password(&tx, &id, &hash, None)?;
                crate::session::note_revocation(&tx)?;
                Ok(tx.commit()?)
            })
            .await?)
    }

    /// Every account, oldest first.
    pub async fn list(&self) -> Result<Vec<Account>, AdminError> {
        Ok(self
            .db
            .run(|conn| {
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
            })
            .await?)
    }

    /// Deletes an account and its sessions. Its messages and channels stay:
    /// other people's history is not rewritten.
    pub async fn remove(&self, name: String) -> Result<(), AdminError> {
        Ok(self
            .db
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let id = id_of(&tx, &name)?;
                tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
                crate::session::note_revocation(&tx)?;
                Ok(tx.commit()?)
            })
            .await?)
    }
}

fn no_database(path: &Path) -> AdminError {
    AdminError(format!("no database at {}", path.display()))
}

fn id_of(conn: &Connection, name: &str) -> Result<Uuid, ApiError> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no user named {name:?}")))
}
