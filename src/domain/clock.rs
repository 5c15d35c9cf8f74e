//! Time as azuma sees it: microseconds since the Unix epoch, from a clock that
//! tests can move forward without waiting.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat};
use serde::{Serialize, Serializer};

/// An instant in microseconds since the Unix epoch (UTC), as stored in the
/// database. Serialises as RFC 3339 with microseconds and a `Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// This instant moved `by` later.
    pub fn plus(self, by: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(micros(by)))
    }

    /// This instant moved `by` earlier.
    pub fn minus(self, by: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(micros(by)))
    }

    /// `2021-03-28T14:39:40.063095Z`.
    pub fn to_rfc3339(self) -> String {
        match DateTime::from_timestamp_micros(self.0) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Micros, true),
            // Out of chrono's range (±262,000 years): never written by azuma.
            None => String::from("1970-01-01T00:00:00.000000Z"),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC with microseconds and a Z"))
            .examples([serde_json::json!("2021-03-28T14:39:40.063095Z")])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

/// The wall clock plus an offset that only [`Clock::advance`] changes.
/// Clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_us: Arc<AtomicI64>,
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        let wall = chrono::Utc::now().timestamp_micros();
        Timestamp(wall.saturating_add(self.offset_us.load(Ordering::Relaxed)))
    }

    /// Moves this clock (and every clone of it) forward: for tests of expiry.
    pub fn advance(&self, by: Duration) {
        self.offset_us.fetch_add(micros(by), Ordering::Relaxed);
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A whole number of seconds, as options give durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl Seconds {
    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> Seconds {
        Seconds(Duration::from_secs(secs))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs())
    }
}

impl FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Seconds, String> {
        match text.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Seconds::from_secs(secs)),
            _ => Err(format!(
                "{text:?} is not a whole number of seconds, 1 or more"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_whole_and_positive() {
        assert_eq!("30".parse(), Ok(Seconds::from_secs(30)));
        assert!("0".parse::<Seconds>().is_err() && "1.5".parse::<Seconds>().is_err());
    }

    #[test]
    fn formats_rfc3339_with_micros_and_z() {
        assert_eq!(
            Timestamp(1_616_942_380_063_095).to_rfc3339(),
            "2021-03-28T14:39:40.063095Z"
        );
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            serde_json::to_string(&Timestamp(1_000_001)).unwrap(),
            "\"1970-01-01T00:00:01.000001Z\""
        );
    }

    #[test]
    fn advance_moves_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::from_secs(3600));
        let after = other.now();
        assert!(after.0 - before.0 >= 3_600_000_000);
    }

    #[test]
    fn plus_saturates() {
        assert_eq!(
            Timestamp(i64::MAX - 1).plus(Duration::from_secs(1)),
            Timestamp(i64::MAX)
        );
    }
}
