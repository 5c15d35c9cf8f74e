//! The login throttle. Every login counts as a failure from the moment it
//! arrives, per client address and, once the name is found, per account,
//! so concurrent attempts cannot exceed the budget; one that succeeds is
//! refunded and clears the account. Past a burst of failures one more
//! attempt is allowed per cooldown, and the others get `429` with
//! `Retry-After`. Apart from failures, registrations and logins together
//! are limited per address and minute.

use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

use super::rate::Rate;
use crate::domain::clock::{Seconds, Timestamp};

/// Failed logins from one address before it must wait (an account gets
/// twice as many). Ten lets a household behind one address mistype now and
/// then without noticing; a guessing script gets ten tries, then one per
/// cooldown: two a minute, under three thousand a day.
pub const LOGIN_ATTEMPTS: u32 = 10;
/// After this long, each failed login is forgiven.
pub const LOGIN_COOLDOWN: Seconds = Seconds::from_secs(30);
/// Registrations and logins from one address per minute: a household
/// behind one address signing in on every device at once stays under it;
/// a script gets 30 tries a minute, and the failed-login budget still holds
/// it to one guess per cooldown.
pub const AUTH_PER_MINUTE: u32 = 30;

/// How many attempts are let through, and how fast they are forgiven.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct Policy {
    /// Failed logins allowed from one address before it must wait (an account gets
    /// twice as many).
    #[arg(long = "login-attempts", env = "AZUMA_LOGIN_ATTEMPTS", default_value_t = LOGIN_ATTEMPTS,
          value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..))]
    pub burst: u32,
    /// Seconds after which each failed login is forgiven.
    #[arg(long = "login-cooldown", env = "AZUMA_LOGIN_COOLDOWN", default_value_t = LOGIN_COOLDOWN,
          value_name = "SECONDS")]
    pub cooldown: Seconds,
    /// Registrations and logins, successful or not, from one address per minute
    /// (0: no limit).
    #[arg(long = "auth-per-minute", env = "AZUMA_AUTH_PER_MINUTE",
          default_value_t = AUTH_PER_MINUTE, value_name = "COUNT")]
    pub per_minute: u32,
}

/// The login throttle.
pub struct Throttle {
    addresses: Rate<IpAddr>,
    accounts: Rate<Uuid>,
    arrivals: Rate<IpAddr>,
}

impl Throttle {
    /// A throttle with `policy`.
    pub fn new(policy: Policy) -> Throttle {
        let minute = Duration::from_secs(60);
        Throttle {
            addresses: Rate::new(policy.burst, policy.cooldown.0),
            accounts: Rate::new(policy.burst.saturating_mul(2), policy.cooldown.0),
            arrivals: Rate::new(policy.per_minute, minute / policy.per_minute.max(1)),
        }
    }

    /// A registration or login from `address` arrives.
    pub fn arrive(&self, address: IpAddr, now: Timestamp) -> Result<(), Duration> {
        self.arrivals.take(address, now)
    }

    /// A login from `address` begins: it counts as failed until it succeeds.
    pub fn begin(&self, address: IpAddr, now: Timestamp) -> Result<(), Duration> {
        self.addresses.take(address, now)
    }

    /// The login begun from `address` names `account`: it counts against the
    /// account too. If the account must wait, the address is refunded: no
    /// password was tried.
    pub fn against(&self, address: IpAddr, account: Uuid, now: Timestamp) -> Result<(), Duration> {
        self.accounts.take(account, now).inspect_err(|_| {
            self.addresses.refund(address, now);
        })
    }

    /// The login from `address` into `account` could not try the password
    /// (the server was busy): both get their attempt back.
    pub fn abandoned(&self, address: IpAddr, account: Uuid, now: Timestamp) {
        self.addresses.refund(address, now);
        self.accounts.refund(account, now);
    }

    /// The login from `address` into `account` succeeded: the address gets
    /// its attempt back, and the account's failures are cleared.
    pub fn succeeded(&self, address: IpAddr, account: Uuid, now: Timestamp) {
        self.addresses.refund(address, now);
        self.accounts.clear(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_when_they_begin_and_success_clears_the_account() {
        let throttle = Throttle::new(Policy {
            burst: 1,
            cooldown: Seconds::from_secs(60),
            per_minute: 0,
        });
        let (ip, account, now) = (IpAddr::from([192, 0, 2, 1]), Uuid::nil(), Timestamp(0));
        let other = IpAddr::from([192, 0, 2, 2]);
        assert!(throttle.begin(ip, now).is_ok());
        assert!(throttle.begin(ip, now).is_err(), "counted before it ends");
        assert!(throttle.against(ip, account, now).is_ok());
        assert!(throttle.begin(other, now).is_ok());
        assert!(throttle.against(other, account, now).is_ok());
        assert!(throttle.begin(IpAddr::from([192, 0, 2, 3]), now).is_ok());
        let third = IpAddr::from([192, 0, 2, 3]);
        assert!(throttle.against(third, account, now).is_err());
        assert!(
            throttle.begin(third, now).is_ok(),
            "refunded: no password tried"
        );
        throttle.succeeded(third, account, now);
        assert!(throttle.against(third, account, now).is_ok(), "cleared");
        assert!(throttle.begin(ip, now).is_err(), "others' failures stay");
    }

    #[test]
    fn arrivals_are_limited_per_minute() {
        let throttle = Throttle::new(Policy {
            burst: 5,
            cooldown: Seconds::from_secs(30),
            per_minute: 3,
        });
        let (ip, now) = (IpAddr::from([192, 0, 2, 1]), Timestamp(0));
        for _ in 0..3 {
            assert!(throttle.arrive(ip, now).is_ok());
        }
        assert_eq!(throttle.arrive(ip, now), Err(Duration::from_secs(20)));
    }
}
