//! Users seen since start, in memory: `GET /user/self` and `/user/{id}`
//! read no database. Renames update it; a change of accounts made by another
//! process clears it (the sessions' maintenance notices those).

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use super::users::User;
use crate::sync::lock;

/// The cache.
#[derive(Default)]
pub struct UserCache {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    by_id: HashMap<Uuid, User>,
    /// Bumped by every change: a read of the database made before a change
    /// must not be remembered after it.
    generation: u64,
}

/// When a read of the database began, for [`UserCache::remember_read`].
pub struct Generation(u64);

impl UserCache {
    /// The user `id` if cached; otherwise when the caller's read begins.
    pub fn get(&self, id: &Uuid) -> Result<User, Generation> {
        let table = lock(&self.table);
        table
            .by_id
            .get(id)
            .cloned()
            .ok_or(Generation(table.generation))
    }

    /// Caches `user` as read from the database, unless the user changed
    /// since the read began (then the next read fetches the change).
    pub fn remember_read(&self, user: &User, read: Generation) {
        let mut table = lock(&self.table);
        if table.generation == read.0 {
            table.by_id.entry(user.id).or_insert_with(|| user.clone());
        }
    }

    /// Caches `user` as just changed (a rename).
    pub fn changed(&self, user: &User) {
        let mut table = lock(&self.table);
        table.by_id.insert(user.id, user.clone());
        table.generation += 1;
    }

    /// Forgets everyone: another process changed accounts.
    pub fn forget_all(&self) {
        let mut table = lock(&self.table);
        table.by_id.clear();
        table.generation += 1;
    }
}
