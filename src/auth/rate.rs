//! Rate limits (GCRA): per key, past a burst, one more action per period;
//! the others are refused with how long to wait. An action is counted when
//! it is let through, so concurrent callers cannot exceed the budget; one
//! that turns out not to count (a login that succeeds) is refunded.
//!
//! Each key costs one entry holding when its debt is paid off; keys whose
//! debt is paid are forgotten, and a table holds at most [`CAPACITY`] keys,
//! so a flood of distinct names or addresses cannot grow the state without
//! bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use crate::domain::clock::Timestamp;
use crate::sync::lock;

/// Most keys a table tracks.
pub const CAPACITY: usize = 10_000;

/// A rate limit on actions per key.
pub struct Rate<K> {
    /// `None` when the limit is lifted.
    limiter: Option<Mutex<Limiter<K>>>,
}

impl<K: Hash + Ord + Copy> Rate<K> {
    /// `burst` actions at once, then one per `period`; a burst of 0 lifts
    /// the limit.
    pub fn new(burst: u32, period: Duration) -> Rate<K> {
        Rate {
            limiter: (burst > 0).then(|| Mutex::new(Limiter::new(burst, period))),
        }
    }

    /// Counts an action by `key` if it is allowed now; otherwise how long
    /// to wait.
    pub fn take(&self, key: K, now: Timestamp) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let mut limiter = lock(limiter);
        limiter.check(&key, now)?;
        limiter.charge(key, now);
        Ok(())
    }

    /// Gives back one action taken by `key`.
    pub fn refund(&self, key: K, now: Timestamp) {
        if let Some(limiter) = &self.limiter {
            lock(limiter).refund(key, now);
        }
    }

    /// Forgets every action of `key`.
    pub fn clear(&self, key: K) {
        if let Some(limiter) = &self.limiter {
            lock(limiter).debts.remove(&key);
        }
    }
}

/// GCRA: per key, the time at which all its actions are forgiven.
struct Limiter<K> {
    debts: HashMap<K, Timestamp>,
    cooldown: Duration,
    /// Debt that may be carried while still allowed to try: (burst-1)·cooldown.
    tolerance: Duration,
}

impl<K: Hash + Ord + Copy> Limiter<K> {
    fn new(burst: u32, cooldown: Duration) -> Self {
        Limiter {
            debts: HashMap::new(),
            cooldown,
            tolerance: cooldown.saturating_mul(burst.max(1) - 1),
        }
    }

    fn check(&self, key: &K, now: Timestamp) -> Result<(), Duration> {
        let Some(&paid_at) = self.debts.get(key) else {
            return Ok(());
        };
        let allowed_from = paid_at.minus(self.tolerance);
        if allowed_from <= now {
            Ok(())
        } else {
            Err(Duration::from_micros(
                (allowed_from.0 - now.0).unsigned_abs(),
            ))
        }
    }

    fn refund(&mut self, key: K, now: Timestamp) {
        if let Some(debt) = self.debts.get_mut(&key) {
            *debt = debt.minus(self.cooldown);
            if *debt <= now {
                self.debts.remove(&key);
            }
        }
    }

    fn charge(&mut self, key: K, now: Timestamp) {
        if !self.debts.contains_key(&key) && self.debts.len() >= CAPACITY {
            self.make_room(now);
        }
        let debt = self.debts.entry(key).or_insert(now);
        *debt = (*debt).max(now).plus(self.cooldown);
    }

    /// Forgets keys whose debt is paid; if that frees nothing, the tenth
    /// closest to paying (in one go, so a flood costs O(1) per key).
    fn make_room(&mut self, now: Timestamp) {
        self.debts.retain(|_, paid_at| *paid_at > now);
        if self.debts.len() >= CAPACITY {
            let mut by_debt: Vec<(Timestamp, K)> =
                self.debts.iter().map(|(k, t)| (*t, *k)).collect();
            let evict = CAPACITY / 10;
            by_debt.select_nth_unstable(evict);
            for (_, key) in &by_debt[..evict] {
                self.debts.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000;

    #[test]
    fn lets_a_burst_through_then_one_per_cooldown() {
        let mut limiter = Limiter::new(3, Duration::from_secs(10));
        let t0 = Timestamp(1_000 * SECOND);
        for _ in 0..3 {
            assert_eq!(limiter.check(&1, t0), Ok(()));
            limiter.charge(1, t0);
        }
        assert_eq!(limiter.check(&1, t0), Err(Duration::from_secs(10)));
        assert_eq!(
            limiter.check(&1, Timestamp(t0.0 + 4 * SECOND)),
            Err(Duration::from_secs(6))
        );
        let later = Timestamp(t0.0 + 10 * SECOND);
        assert_eq!(limiter.check(&1, later), Ok(()));
        limiter.charge(1, later);
        assert_eq!(limiter.check(&1, later), Err(Duration::from_secs(10)));
        // Other keys are not affected.
        assert_eq!(limiter.check(&2, later), Ok(()));
        // After the whole debt is paid, a full burst again.
        let much_later = Timestamp(later.0 + 40 * SECOND);
        for _ in 0..3 {
            assert_eq!(limiter.check(&1, much_later), Ok(()));
            limiter.charge(1, much_later);
        }
        assert!(limiter.check(&1, much_later).is_err());
    }

    #[test]
    fn state_stays_bounded_under_a_flood_of_keys() {
        let mut limiter = Limiter::new(1, Duration::from_secs(60));
        let now = Timestamp(0);
        for key in 0..(3 * CAPACITY as u64) {
            limiter.charge(key, now);
        }
        assert!(limiter.debts.len() <= CAPACITY);
        // Paid debts make room first.
        let later = Timestamp(61 * SECOND);
        limiter.charge(u64::MAX, later);
        assert_eq!(limiter.debts.len(), 1);
    }

    #[test]
    fn takes_count_at_once_and_refunds_give_back() {
        let rate = Rate::new(2, Duration::from_secs(10));
        let t0 = Timestamp(1_000 * SECOND);
        assert_eq!(rate.take(7, t0), Ok(()));
        assert_eq!(rate.take(7, t0), Ok(()));
        assert_eq!(rate.take(7, t0), Err(Duration::from_secs(10)));
        rate.refund(7, t0);
        assert_eq!(rate.take(7, t0), Ok(()));
        rate.clear(7);
        assert_eq!(rate.take(7, t0), Ok(()));
        let lifted = Rate::new(0, Duration::from_secs(10));
        for _ in 0..100 {
            assert_eq!(lifted.take(7, t0), Ok(()));
        }
    }
}
