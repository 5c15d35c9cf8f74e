//! Online status, in memory only: `OFFLINE` without an authenticated
//! websocket connection, `ONLINE` from the first one unless set otherwise,
//! forgotten when the last one closes.
//!
//! A change others see is charged to the user's typing-and-status budget
//! (`charge`, from the caller): over it, the change is refused with how
//! long to wait, so no user can flood everyone's sockets with
//! `Status` events, by setting statuses or by connecting over and over.

use std::collections::HashMap;
use std::sync::Mutex;

use std::time::Duration;

use serde::Deserialize;
use uuid::Uuid;

use super::hub::{Event, Hub};
use crate::sync::lock;

/// A status a user can choose.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Shown as `ONLINE`.
    Online,
    /// Shown as `AFK`.
    Afk,
    /// Shown as `DND`.
    Dnd,
    /// Shown to everyone, the user included, as `OFFLINE`.
    #[serde(alias = "OFFLINE")]
    AppearAsOffline,
}

impl Status {
    fn visible(self) -> &'static str {
        match self {
            Status::Online => "ONLINE",
            Status::Afk => "AFK",
            Status::Dnd => "DND",
            Status::AppearAsOffline => OFFLINE,
        }
    }
}

const OFFLINE: &str = "OFFLINE";

struct Entry {
    connections: usize,
    status: Status,
}

/// Who is connected, and as what.
#[derive(Default)]
pub struct Presence {
    users: Mutex<HashMap<Uuid, Entry>>,
}

impl Presence {
    /// What everyone sees of `user`.
    pub fn visible(&self, user: &Uuid) -> &'static str {
        self.lock()
            .get(user)
            .map_or(OFFLINE, |e| e.status.visible())
    }

    /// Whether `user` has an authenticated connection open.
    pub fn is_connected(&self, user: &Uuid) -> bool {
        self.lock().contains_key(user)
    }

    /// `user` authenticated one more connection; refused if it would
    /// announce them and their budget is spent.
    pub fn connected(
        &self,
        user: Uuid,
        hub: &Hub,
        charge: impl FnOnce() -> Result<(), Duration>,
    ) -> Result<(), Duration> {
        let mut users = self.lock();
        if !users.contains_key(&user) {
            charge()?;
        }
        let entry = users.entry(user).or_insert(Entry {
            connections: 0,
            status: Status::Online,
        });
        entry.connections += 1;
        if entry.connections == 1 {
            announce(hub, user, OFFLINE, entry.status.visible());
        }
        Ok(())
    }

    /// One of `user`'s connections closed.
    pub fn disconnected(&self, user: Uuid, hub: &Hub) {
        let mut users = self.lock();
        let Some(entry) = users.get_mut(&user) else {
            return;
        };
        entry.connections -= 1;
        if entry.connections == 0 {
            let before = entry.status.visible();
            users.remove(&user);
            announce(hub, user, before, OFFLINE);
        }
    }

    /// Sets `user`'s status; `None` if they have no connection to set it
    /// on, `Some(Err(wait))` if the change is over their budget.
    pub fn set(
        &self,
        user: Uuid,
        status: Status,
        hub: &Hub,
        charge: impl FnOnce() -> Result<(), Duration>,
    ) -> Option<Result<&'static str, Duration>> {
        let mut users = self.lock();
        let entry = users.get_mut(&user)?;
        let before = entry.status.visible();
        if before != status.visible()
            && let Err(wait) = charge()
        {
            return Some(Err(wait));
        }
        entry.status = status;
        announce(hub, user, before, status.visible());
        Some(Ok(status.visible()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Entry>> {
        lock(&self.users)
    }
}

/// Publishes a `Status` event if what others see changed. Called under the
/// presence lock, so events follow the order of the changes.
fn announce(hub: &Hub, user: Uuid, before: &'static str, after: &'static str) {
    if before != after {
        hub.publish(&Event::Status {
            user,
            onlinestatus: after,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(
        frames: &mut tokio::sync::broadcast::Receiver<crate::realtime::hub::Frame>,
    ) -> Option<String> {
        frames.try_recv().ok().map(|f| f.text.as_str().to_owned())
    }

    #[test]
    fn the_document_lists_every_visible_status() {
        let all = [
            Status::Online,
            Status::Afk,
            Status::Dnd,
            Status::AppearAsOffline,
        ];
        for status in all {
            assert!(crate::realtime::hub::OnlineStatus::ALL.contains(&status.visible()));
        }
    }

    fn free() -> Result<(), Duration> {
        Ok(())
    }

    #[test]
    fn changes_over_budget_are_refused_and_change_nothing() {
        let hub = Hub::default();
        let mut frames = hub.subscribe();
        let presence = Presence::default();
        let user = Uuid::nil();
        let spent = || Err(Duration::from_secs(1));
        assert_eq!(
            presence.connected(user, &hub, spent),
            Err(Duration::from_secs(1))
        );
        assert_eq!(presence.visible(&user), "OFFLINE");
        assert_eq!(next(&mut frames), None);
        presence.connected(user, &hub, free).unwrap();
        presence
            .connected(user, &hub, spent)
            .expect("a second connection announces nothing");
        assert_eq!(
            presence.set(user, Status::Dnd, &hub, spent),
            Some(Err(Duration::from_secs(1)))
        );
        assert_eq!(
            presence.set(user, Status::Online, &hub, spent),
            Some(Ok("ONLINE")),
            "no change"
        );
        assert_eq!(presence.visible(&user), "ONLINE");
    }

    #[test]
    fn tracks_connections_and_announces_visible_changes_only() {
        let hub = Hub::default();
        let mut frames = hub.subscribe();
        let presence = Presence::default();
        let user = Uuid::nil();
        let status = |s: &str| {
            format!(r#"{{"type":"Status","content":{{"user":"{user}","onlinestatus":"{s}"}}}}"#)
        };

        assert_eq!(presence.visible(&user), "OFFLINE");
        assert_eq!(presence.set(user, Status::Afk, &hub, free), None);
        presence.connected(user, &hub, free).unwrap();
        assert_eq!(next(&mut frames), Some(status("ONLINE")));
        presence.connected(user, &hub, free).unwrap();
        assert_eq!(
            next(&mut frames),
            None,
            "a second connection changes nothing"
        );
        assert_eq!(presence.set(user, Status::Dnd, &hub, free), Some(Ok("DND")));
        assert_eq!(next(&mut frames), Some(status("DND")));
        assert_eq!(presence.set(user, Status::Dnd, &hub, free), Some(Ok("DND")));
        assert_eq!(next(&mut frames), None, "no change, no event");
        presence.set(user, Status::AppearAsOffline, &hub, free);
        assert_eq!(next(&mut frames), Some(status("OFFLINE")));
        assert_eq!(presence.visible(&user), "OFFLINE");
        presence.disconnected(user, &hub);
        assert_eq!(
            next(&mut frames),
            None,
            "still invisible, one connection left"
        );
        presence.disconnected(user, &hub);
        assert_eq!(next(&mut frames), None);
        presence.connected(user, &hub, free).unwrap();
        assert_eq!(
            next(&mut frames),
            Some(status("ONLINE")),
            "the status was forgotten"
        );
        presence.disconnected(user, &hub);
        assert_eq!(next(&mut frames), Some(status("OFFLINE")));
    }

    #[test]
    fn parses_statuses() {
        for (text, status) in [
            ("\"ONLINE\"", Status::Online),
            ("\"AFK\"", Status::Afk),
            ("\"DND\"", Status::Dnd),
            ("\"APPEAR_AS_OFFLINE\"", Status::AppearAsOffline),
            ("\"OFFLINE\"", Status::AppearAsOffline),
        ] {
            assert_eq!(serde_json::from_str::<Status>(text).unwrap(), status);
        }
        for bad in ["\"online\"", "\"AWAY\"", "1", "null"] {
            assert!(serde_json::from_str::<Status>(bad).is_err());
        }
    }
}
