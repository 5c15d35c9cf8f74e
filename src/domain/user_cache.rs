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
    by_id: Mutex<HashMap<Uuid, User>>,
}

impl UserCache {
    /// The user `id`, if cached.
    pub fn get(&self, id: &Uuid) -> Option<User> {
        lock(&self.by_id).get(id).cloned()
    }

    /// Caches (or refreshes) `user`.
    pub fn remember(&self, user: &User) {
        lock(&self.by_id).insert(user.id, user.clone());
    }

    /// Forgets everyone: another process changed accounts.
    pub fn forget_all(&self) {
        lock(&self.by_id).clear();
    }
}
