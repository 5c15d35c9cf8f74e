//! Login throttling. Failed logins are counted per client address and per
//! account: past a burst of failures, one more attempt is allowed per
//! cooldown, and the others get `429` with `Retry-After`.
//!
//! Each key costs one entry holding when its debt is paid off (GCRA); keys
//! whose debt is paid are forgotten, and each table holds at most
//! [`CAPACITY`] keys, so a flood of distinct names or addresses cannot grow
//! the state without bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;

use crate::domain::clock::Timestamp;
use crate::sync::lock;

/// Most keys each table tracks.
pub const CAPACITY: usize = 10_000;

/// How many failures are let through, and how fast they are forgiven.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failed logins from one address before it is throttled; an account
    /// gets twice as many, so that one address cannot lock it out alone.
    pub burst: u32,
    /// Each failure is forgiven after this long.
    pub cooldown: Duration,
}

/// The login throttle.
pub struct Throttle {
    addresses: Mutex<Limiter<IpAddr>>,
    accounts: Mutex<Limiter<Uuid>>,
}

impl Throttle {
    /// A throttle with `policy`.
    pub fn new(policy: Policy) -> Throttle {
        Throttle {
            addresses: Mutex::new(Limiter::new(policy.burst, policy.cooldown)),
            accounts: Mutex::new(Limiter::new(
                policy.burst.saturating_mul(2),
                policy.cooldown,
            )),
        }
    }

    /// `Err(retry_after)` if `address` must wait before trying again.
    pub fn check_address(&self, address: IpAddr, now: Timestamp) -> Result<(), Duration> {
        lock(&self.addresses).check(&address, now)
    }

    /// `Err(retry_after)` if `account` must wait before trying again.
    pub fn check_account(&self, account: Uuid, now: Timestamp) -> Result<(), Duration> {
        lock(&self.accounts).check(&account, now)
    }

    /// Counts a failed login from `address`, against `account` if it exists.
    pub fn failed(&self, address: IpAddr, account: Option<Uuid>, now: Timestamp) {
        lock(&self.addresses).charge(address, now);
        if let Some(account) = account {
            lock(&self.accounts).charge(account, now);
        }
    }

    /// A successful login clears the account's failures.
    pub fn succeeded(&self, account: Uuid) {
        lock(&self.accounts).debts.remove(&account);
    }
}

/// GCRA: per key, the time at which all its failures are forgiven.
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
    fn success_clears_the_account_only() {
        let throttle = Throttle::new(Policy {
            burst: 1,
            cooldown: Duration::from_secs(60),
        });
        let (ip, account, now) = (IpAddr::from([192, 0, 2, 1]), Uuid::nil(), Timestamp(0));
        throttle.failed(ip, Some(account), now);
        throttle.failed(ip, Some(account), now);
        assert!(throttle.check_address(ip, now).is_err());
        assert!(throttle.check_account(account, now).is_err());
        throttle.succeeded(account);
        assert!(throttle.check_account(account, now).is_ok());
        assert!(throttle.check_address(ip, now).is_err());
    }
}
