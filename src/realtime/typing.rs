//! Typing indicators: relayed, never stored, and at most one per user and
//! channel every [`INTERVAL`]; the rest are dropped.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use std::time::Instant;

use uuid::Uuid;

use crate::sync::lock;

/// At most one `Typing` relayed per user and channel this often.
pub const INTERVAL: Duration = Duration::from_secs(3);

/// When each user last had a `Typing` relayed in each channel.
#[derive(Default)]
pub struct Typing {
    last: Mutex<HashMap<(Uuid, Uuid), Instant>>,
}

impl Typing {
    /// Whether `user` typing in `channel` at `now` is relayed (and counts it).
    pub fn relay(&self, user: Uuid, channel: Uuid, now: Instant) -> bool {
        let mut last = lock(&self.last);
        if last.len() > 10_000 {
            // Forget what no longer limits anyone.
            last.retain(|_, at| now.duration_since(*at) < INTERVAL);
        }
        match last.get(&(user, channel)) {
            Some(at) if now.duration_since(*at) < INTERVAL => false,
            _ => {
                last.insert((user, channel), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_user_and_channel_every_interval() {
        let typing = Typing::default();
        let (me, you) = (Uuid::new_v4(), Uuid::new_v4());
        let (here, there) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Instant::now();
        assert!(typing.relay(me, here, now));
        assert!(!typing.relay(me, here, now + INTERVAL / 2));
        assert!(typing.relay(me, there, now));
        assert!(typing.relay(you, here, now));
        assert!(typing.relay(me, here, now + INTERVAL));
    }
}
