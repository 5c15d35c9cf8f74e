//! Typing indicators: relayed, never stored, and at most one per user and
//! channel every [`INTERVAL`]; the rest are dropped. What is remembered is
//! bounded and forgotten in the order it was written, so each frame costs
//! the same however many came before.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::sync::lock;

/// At most one `Typing` relayed per user and channel this often.
pub const INTERVAL: Duration = Duration::from_secs(3);
/// Most (user, channel) pairs remembered at once; past it (every one
/// relayed within the interval), further typing is dropped until the
/// oldest expire.
pub const CAPACITY: usize = 10_000;

type Key = (Uuid, Uuid);

/// When each user last had a `Typing` relayed in each channel.
#[derive(Default)]
pub struct Typing {
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    at: HashMap<Key, Instant>,
    /// The same entries, oldest first.
    order: VecDeque<(Key, Instant)>,
}

impl Typing {
    /// Whether `user` typing in `channel` at `now` would be relayed (the
    /// channel still to be checked).
    pub fn due(&self, user: Uuid, channel: Uuid, now: Instant) -> bool {
        lock(&self.recent)
            .at
            .get(&(user, channel))
            .is_none_or(|at| now.duration_since(*at) >= INTERVAL)
    }

    /// Counts a `Typing` of `user` in `channel` relayed at `now`; false
    /// (not to be relayed) when it is not due or the table is full.
    pub fn relayed(&self, user: Uuid, channel: Uuid, now: Instant) -> bool {
        let mut recent = lock(&self.recent);
        let Recent { at, order } = &mut *recent;
        while let Some(&(key, when)) = order.front() {
            if now.duration_since(when) < INTERVAL {
                break;
            }
            if at.get(&key) == Some(&when) {
                at.remove(&key);
            }
            order.pop_front();
        }
        let key = (user, channel);
        if at.contains_key(&key) || at.len() >= CAPACITY {
            return false;
        }
        at.insert(key, now);
        order.push_back((key, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(typing: &Typing, user: Uuid, channel: Uuid, now: Instant) -> bool {
        typing.due(user, channel, now) && typing.relayed(user, channel, now)
    }

    #[test]
    fn one_per_user_and_channel_every_interval() {
        let typing = Typing::default();
        let (me, you) = (Uuid::new_v4(), Uuid::new_v4());
        let (here, there) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Instant::now();
        assert!(relay(&typing, me, here, now));
        assert!(!relay(&typing, me, here, now + INTERVAL / 2));
        assert!(relay(&typing, me, there, now));
        assert!(relay(&typing, you, here, now));
        assert!(relay(&typing, me, here, now + INTERVAL));
    }

    #[test]
    fn the_table_is_bounded_and_forgets_the_oldest_first() {
        let typing = Typing::default();
        let now = Instant::now();
        let user = Uuid::new_v4();
        for _ in 0..CAPACITY {
            assert!(typing.relayed(user, Uuid::new_v4(), now));
        }
        assert!(!typing.relayed(user, Uuid::new_v4(), now), "full");
        let later = now + INTERVAL;
        assert!(
            typing.relayed(user, Uuid::new_v4(), later),
            "the old expired"
        );
        let recent = lock(&typing.recent);
        assert_eq!((recent.at.len(), recent.order.len()), (1, 1));
    }
}
