//! Password hashing: scrypt as PHC strings, on blocking threads, with at most
//! one hash per CPU at a time so a burst of logins cannot exhaust memory,
//! and a bounded queue behind them, so a burst cannot make everyone wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use scrypt::Scrypt;
use scrypt::password_hash::phc::PasswordHash;
use scrypt::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::domain::error::{Cause, cause};
use crate::domain::names::Password;

/// Why a hash could not be made or checked.
#[derive(Clone, Debug)]
pub enum HashError {
    /// As many hashes wait as the queue allows: try again shortly.
    Busy,
    /// A bug, or a stored hash that is not one.
    Failed(Cause),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Busy => f.write_str("too many password hashes waiting"),
            HashError::Failed(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}

impl std::error::Error for HashError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HashError::Busy => None,
            HashError::Failed(e) => Some(e.as_ref()),
        }
    }
}

fn failed(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> HashError {
    HashError::Failed(cause(e))
}

/// The default cost, sized for a Raspberry Pi: N=2^15, r=8 (32 MiB per hash),
/// p=3.
pub const DEFAULT_LOG_N: u8 = 15;
/// See [`DEFAULT_LOG_N`].
pub const DEFAULT_R: u32 = 8;
/// See [`DEFAULT_LOG_N`].
pub const DEFAULT_P: u32 = 3;

/// The default cost as scrypt parameters.
pub fn default_params() -> scrypt::Params {
    params(DEFAULT_LOG_N, DEFAULT_R, DEFAULT_P).unwrap_or_default()
}

/// The most memory one hash may take: more would take the server down at
/// the first registration rather than protect anyone.
const MAX_HASH_MEMORY: u128 = 1 << 30;

/// scrypt parameters, or a one-line reason they are unusable.
pub fn params(log_n: u8, r: u32, p: u32) -> Result<scrypt::Params, String> {
    let invalid = |why: &str| format!("invalid scrypt cost log_n={log_n} r={r} p={p}: {why}");
    if !(1..64).contains(&log_n) {
        return Err(invalid("log_n must be from 1 to 63"));
    }
    // At most 2^39 · 2^63: no overflow.
    let memory = (128 * u128::from(r)) << log_n;
    if memory > MAX_HASH_MEMORY {
        return Err(invalid("a hash would need more than 1 GiB of memory"));
    }
    scrypt::Params::new(log_n, r, p).map_err(|e| invalid(&e.to_string()))
}

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Clone)]
pub struct Passwords {
    hasher: Scrypt,
    permits: Arc<Semaphore>,
    /// Hashes running or waiting, and how many may be: one per CPU
    /// running plus the queue (`None`: no bound).
    in_flight: Arc<AtomicUsize>,
    most: Option<usize>,
}

/// A hash's place among those in flight, given back when dropped: also
/// when its caller goes away while it waits.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Passwords {
    /// New hashes use `params`; hashes with other parameters still verify.
    /// At most `queue` hashes wait for a CPU; 0 for no bound.
    pub fn new(params: scrypt::Params, queue: usize) -> Passwords {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Passwords {
            hasher: Scrypt::new_with_params(params),
            permits: Arc::new(Semaphore::new(cpus)),
            in_flight: Arc::default(),
            most: (queue > 0).then_some(cpus + queue),
        }
    }

    /// A PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let hasher = self.hasher;
        self.limited(move || {
            hasher
                .hash_password(password.as_str().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| failed(e.to_string()))
        })
        .await
    }

    /// Whether `password` matches the stored PHC string.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, HashError> {
        let hasher = self.hasher;
        self.limited(move || {
            let stored = PasswordHash::new(&stored)
                .map_err(|e| failed(format!("stored password hash: {e}")))?;
            Ok(hasher.verify_password(password.as_bytes(), &stored).is_ok())
        })
        .await
    }

    /// Runs `f` on a blocking thread once one of the permits is free, or
    /// refuses at once when the queue is full.
    async fn limited<T, F>(&self, f: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, HashError> + Send + 'static,
    {
        let before = self.in_flight.fetch_add(1, Ordering::Relaxed);
        let place = Place(self.in_flight.clone());
        if self.most.is_some_and(|most| before >= most) {
            return Err(HashError::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await.map_err(failed)?;
        tokio::task::spawn_blocking(move || {
            let result = f();
            drop((permit, place));
            result
        })
        .await
        .map_err(failed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(text: &str) -> Password {
        Password::try_from(text.to_owned()).unwrap()
    }

    fn cheap(log_n: u8) -> Passwords {
        Passwords::new(scrypt::Params::new(log_n, 8, 1).unwrap(), 0)
    }

    #[test]
    fn bounds_the_cost() {
        let d = default_params();
        assert_eq!((d.log_n(), d.r(), d.p()), (15, 8, 3));
        assert!(params(1, 1, 1).is_ok());
        assert!(params(20, 8, 1).is_ok()); // exactly 1 GiB
        assert!(params(0, 8, 1).is_err());
        assert!(params(21, 8, 1).is_err());
        assert!(params(63, 8, 1).is_err());
        assert!(params(255, 8, 1).is_err());
        assert!(params(10, 0, 1).is_err());
        assert!(params(10, 8, 0).is_err());
    }

    #[tokio::test]
    async fn verifies_its_own_hashes_and_rejects_others() {
        let p = cheap(4);
        let stored = p.hash(pw("neo")).await.unwrap();
        assert!(stored.starts_with("$scrypt$ln=4,r=8,p=1$"), "{stored}");
        assert!(p.verify("neo".into(), stored.clone()).await.unwrap());
        assert!(!p.verify("Neo".into(), stored).await.unwrap());
    }

    #[tokio::test]
    async fn verifies_hashes_made_with_other_parameters() {
        let old = cheap(5).hash(pw("trinity")).await.unwrap();
        assert!(cheap(4).verify("trinity".into(), old).await.unwrap());
        // A passlib test vector: ln=16, r=8, p=1.
        let passlib = "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E";
        assert!(
            cheap(4)
                .verify("password".into(), passlib.into())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let p = Passwords::new(scrypt::Params::new(12, 8, 1).unwrap(), 1);
        let hashes: Vec<_> = (0..cpus + 3).map(|_| p.hash(pw("x"))).collect();
        let results = futures_util::future::join_all(hashes).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert_eq!(busy, 2, "cpus run, one waits, the rest are refused");
        assert!(p.hash(pw("x")).await.is_ok(), "places are given back");
    }

    #[tokio::test]
    async fn salts_every_hash() {
        let p = cheap(4);
        let a = p.hash(pw("same")).await.unwrap();
        let b = p.hash(pw("same")).await.unwrap();
        assert_ne!(a, b);
    }
}
