//! The sessions in use, in memory: checking a token costs no database write
//! and, once the token has been seen, no read. Renewals are made here and
//! written in batches by the maintenance task. Revoking is one operation
//! here: the database, this memory and the token's websockets together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use crate::domain::clock::{Clock, Timestamp};
use crate::domain::db::Db;
use crate::domain::error::{StoreError, cause};
use crate::domain::sessions::{self, AFTER_USE, TokenHash};
use crate::realtime::connections::{Connections, Ending, Registered};
use crate::sync::lock;

/// A renewal is written once it moves the stored expiry by more than this,
/// so an active token costs at most one write a minute. The stored expiry
/// is never later than the real one: after a crash a token can only expire
/// early, by at most this (plus the time since it was last written).
const RENEW_SLACK: Duration = Duration::from_secs(60);

/// The caller of an authenticated request.
#[derive(Clone, Debug)]
pub struct Session {
    /// Whose token it is.
    pub user_id: Uuid,
    /// Which token it is.
    pub token_hash: TokenHash,
}

/// Which sessions a revocation ends.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// One token.
    Token(&'a TokenHash),
    /// Every token of a user but one (a changed password).
    OthersOf {
        /// Whose.
        user: &'a Uuid,
        /// The token that stays.
        keep: &'a TokenHash,
    },
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

/// The tokens in use.
pub struct Sessions {
    db: Db,
    clock: Clock,
    connections: Arc<Connections>,
    table: Mutex<Table>,
}

impl Sessions {
    /// Sessions stored in `db`, expiring by `clock`; revocations close
    /// websockets in `connections`.
    pub fn new(db: Db, clock: Clock, connections: Arc<Connections>) -> Sessions {
        Sessions {
            db,
            clock,
            connections,
            table: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        lock(&self.table)
    }

    /// Checks a token and counts this as a use of it: the caller, or `None`
    /// for a token that is unknown, revoked or expired.
    pub async fn check(&self, token: &Uuid) -> Result<Option<Session>, StoreError> {
        self.check_then(token, |_| ())
            .await
            .map(|found| found.map(|(s, ())| s))
    }

    /// Checks a token for a websocket and registers the connection, at one
    /// instant as far as revocations go: a revocation either comes before
    /// (and the token is refused) or finds the connection registered.
    pub async fn check_and_register(
        &self,
        token: &Uuid,
    ) -> Result<Option<(Session, Registered)>, StoreError> {
        let connections = &self.connections;
        self.check_then(token, |s| connections.register(s.user_id, s.token_hash))
            .await
    }

    /// Checks a token, and runs `then` under the table's lock while the
    /// session is known good: no revocation can come in between.
    async fn check_then<R>(
        &self,
        token: &Uuid,
        then: impl Fn(&Session) -> R,
    ) -> Result<Option<(Session, R)>, StoreError> {
        let token_hash = sessions::digest(token);
        // A revocation between the database read and the lock sends us round
        // again; a server revoking sessions without pause is not a real one.
        for _ in 0..100 {
            let now = self.clock.now();
            let generation = {
                let mut table = self.lock();
                if let Some(held) = table.held.get_mut(&token_hash) {
                    if held.expires_at <= now {
                        table.held.remove(&token_hash);
                        return Ok(None);
                    }
                    held.expires_at = held.expires_at.max(now.plus(AFTER_USE));
                    let session = Session {
                        user_id: held.user_id,
                        token_hash,
                    };
                    let then = then(&session);
                    return Ok(Some((session, then)));
                }
                table.generation
            };
            let found = self
                .db
                .run(move |conn| sessions::find(conn, &token_hash))
                .await?;
            let Some((user_id, stored)) = found.filter(|(_, stored)| *stored > now) else {
                return Ok(None);
            };
            let mut table = self.lock();
            if table.generation == generation {
                table.held.insert(
                    token_hash,
                    Held {
                        user_id,
                        expires_at: stored.max(now.plus(AFTER_USE)),
                        stored,
                    },
                );
                let session = Session {
                    user_id,
                    token_hash,
                };
                let then = then(&session);
                return Ok(Some((session, then)));
            }
        }
        Err(StoreError::Busy(cause("revocations without pause")))
    }

    /// Revokes one token: deletes it, forgets it and closes its websockets.
    pub async fn revoke(&self, token_hash: TokenHash) -> Result<(), StoreError> {
        self.db
            .run(move |conn| sessions::delete(conn, &token_hash))
            .await?;
        self.forget(Scope::Token(&token_hash));
        Ok(())
    }

    /// Forgets the sessions of `scope`, already deleted from the database,
    /// and closes their websockets.
    pub fn forget(&self, scope: Scope<'_>) {
        let mut table = self.lock();
        match scope {
            Scope::Token(token) => {
                table.held.remove(token);
                self.connections.end_token(token, Ending::Revoked);
            }
            Scope::OthersOf { user, keep } => {
                table
                    .held
                    .retain(|token, held| held.user_id != *user || token == keep);
                self.connections.revoke_user_except(user, keep);
            }
        }
        table.generation += 1;
    }

    /// Another process revoked sessions: forgets every token held, and
    /// closes the websockets whose tokens are gone from the database. (The
    /// maintenance tick has just written pending renewals; any made since
    /// are made again at the token's next use.)
    pub async fn forget_all(&self) -> Result<(), StoreError> {
        {
            let mut table = self.lock();
            table.held.clear();
            table.generation += 1;
        }
        let tokens = self.connections.tokens();
        let gone = self
            .db
            .run(move |conn| sessions::gone(conn, tokens))
            .await?;
        for token in &gone {
            self.forget(Scope::Token(token));
        }
        Ok(())
    }

    /// Writes pending renewals, and with `prune` deletes expired sessions;
    /// for the maintenance tick and for shutdown.
    pub async fn persist(&self, prune: bool) -> Result<(), StoreError> {
        let renewals = self.pending();
        if renewals.is_empty() && !prune {
            return Ok(());
        }
        let now = self.clock.now();
        let written = renewals.clone();
        let pruned = self
            .db
            .run(move |conn| sessions::renew_and_prune(conn, &written, prune.then_some(now)))
            .await?;
        self.stored(&renewals);
        if prune {
            let mut table = self.lock();
            table.held.retain(|_, held| held.expires_at > now);
            for token in &pruned {
                table.held.remove(token);
                self.connections.end_token(token, Ending::Expired);
            }
            if !pruned.is_empty() {
                table.generation += 1;
                tracing::debug!(pruned = pruned.len(), "expired sessions deleted");
            }
        }
        Ok(())
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
}
