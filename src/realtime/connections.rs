//! The registry of websocket connections: which token each authenticated
//! with (so that revoking the token closes it), how many are open, and the
//! shutdown signal they all watch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::domain::sessions::TokenHash;
use crate::sync::lock;

/// Websocket deadlines and limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// A connection must authenticate within this.
    pub auth_timeout: Duration,
    /// The server pings this often.
    pub ping_interval: Duration,
    /// A connection silent for this long is closed.
    pub idle_timeout: Duration,
    /// Undelivered frames a connection may have before it is `lagged`.
    pub queue: usize,
    /// How long a close frame may take to leave before the socket is dropped.
    pub close_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            auth_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            queue: 256,
            close_wait: Duration::from_secs(10),
        }
    }
}

/// Why the registry ends a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Its token was revoked (a logout, a changed password, an admin).
    Revoked,
    /// Its session expired.
    Expired,
}

/// An authenticated connection, as the registry knows it.
struct Entry {
    user: Uuid,
    token: TokenHash,
    end: oneshot::Sender<Ending>,
}

/// Every open connection.
pub struct Connections {
    next_id: AtomicU64,
    authenticated: Mutex<HashMap<u64, Entry>>,
    shutdown: watch::Sender<bool>,
    open: watch::Sender<usize>,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            next_id: AtomicU64::new(0),
            authenticated: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            open: watch::channel(0).0,
        }
    }
}

/// A connection's place in the registry: its id, and what completes when
/// the registry ends it (it only ever lets go of the sender to end it).
pub struct Registered {
    /// Its key in the registry.
    pub id: u64,
    /// Completes with the reason the connection must close.
    pub ended: oneshot::Receiver<Ending>,
}

impl Connections {
    /// Records a connection authenticated as `user` with `token`.
    pub fn register(&self, user: Uuid, token: TokenHash) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (end, ended) = oneshot::channel();
        self.lock().insert(id, Entry { user, token, end });
        Registered { id, ended }
    }

    /// Forgets connection `id`, which is closing.
    pub fn unregister(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Closes the connections that authenticated with `token`.
    pub fn end_token(&self, token: &TokenHash, why: Ending) {
        self.end(|c| c.token == *token, why);
    }

    /// Closes `user`'s connections, but those authenticated with `keep`.
    pub fn revoke_user_except(&self, user: &Uuid, keep: &TokenHash) {
        self.end(|c| c.user == *user && c.token != *keep, Ending::Revoked);
    }

    fn end(&self, which: impl Fn(&Entry) -> bool, why: Ending) {
        let mut all = self.lock();
        let doomed: Vec<u64> = all
            .iter()
            .filter(|(_, c)| which(c))
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            if let Some(connection) = all.remove(&id) {
                let _ = connection.end.send(why);
            }
        }
    }

    /// The tokens of every authenticated connection.
    pub fn tokens(&self) -> Vec<TokenHash> {
        self.lock().values().map(|c| c.token).collect()
    }

    /// Tells every connection to close with 1001.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// A watch on the shutdown signal, for [`stopping`].
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Completes when no connection is open any more.
    pub async fn closed(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|n| *n == 0).await;
    }

    /// Counts a connection as open until the guard is dropped.
    pub fn open(&self) -> Open<'_> {
        self.open.send_modify(|n| *n += 1);
        Open(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        lock(&self.authenticated)
    }
}

/// Completes once the server is shutting down.
pub async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // Err means the server is gone altogether: stopping all the same.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// An open connection, counted until dropped.
pub struct Open<'a>(&'a Connections);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.send_modify(|n| *n -= 1);
    }
}
