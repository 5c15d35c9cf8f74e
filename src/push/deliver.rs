//! One push over HTTP (RFC 8030): the encrypted payload, its VAPID
//! authorization and headers, and what the push service's answer means.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use super::guard::Guard;
use crate::domain::error::chain;

/// How long a push message may wait at the push service for the browser.
pub const TTL: &str = "86400";

/// A push ready to leave: everything but the connection.
pub struct Request {
    pub endpoint: Url,
    /// The `aes128gcm` body, encrypted for the subscription.
    pub body: Vec<u8>,
    /// `vapid t=…, k=…`.
    pub authorization: String,
    pub urgency: &'static str,
    /// Replaces the channel's push still waiting at the push service.
    pub topic: String,
}

/// What the push service said.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Taken (2xx).
    Delivered,
    /// The subscription is no more (404, 410): it is to be deleted.
    Gone,
    /// Try again later (429, 5xx, no answer), after at least this long if
    /// the service said.
    Retry(Option<Duration>),
    /// Refused for good (any other answer): dropped, and logged.
    Refused(String),
}

/// The client pushes leave through: `guard` resolves every name (and
/// checks each address), no proxy, no redirects. Made at the first push,
/// not at start: it reads the system's CA certificates, which takes time,
/// and a system without any still serves everything but pushes.
pub fn client(guard: &Guard) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .dns_resolver(guard.clone())
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("azuma/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends `request` with `client` (whose resolver is `guard`), after
/// checking its URL again (a host given as an address never reaches the
/// resolver).
pub async fn send(client: &reqwest::Client, guard: &Guard, request: Request) -> Outcome {
    if let Err(e) = guard.check_url(&request.endpoint) {
        return Outcome::Refused(e.to_string());
    }
    let sent = client
        .post(request.endpoint)
        .header(CONTENT_ENCODING, "aes128gcm")
        .header(CONTENT_TYPE, "application/octet-stream")
        .header("TTL", TTL)
        .header("Urgency", request.urgency)
        .header("Topic", request.topic)
        .header(AUTHORIZATION, request.authorization)
        .body(request.body)
        .send()
        .await;
    match sent.map_err(reqwest::Error::without_url) {
        Ok(answer) => outcome(answer.status(), answer.headers()),
        // (Never the URL in the log: its path is the subscription's secret.)
        Err(e) if e.is_connect() && is_refused_by_guard(&e) => Outcome::Refused(chain(&e)),
        Err(e) => {
            tracing::debug!(cause = %chain(&e), "push not delivered; will retry");
            Outcome::Retry(None)
        }
    }
}

/// What an answer means.
fn outcome(status: StatusCode, headers: &HeaderMap) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Delivered,
        404 | 410 => Outcome::Gone,
        429 | 500..=599 => Outcome::Retry(retry_after(headers)),
        _ => Outcome::Refused(format!("the push service answered {status}")),
    }
}

/// `Retry-After` in seconds (an HTTP date counts as absent: backoff).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// Whether a failure to connect was the guard's refusal (no retry helps).
fn is_refused_by_guard(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<super::guard::Refused>() {
            return true;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_mean_what_rfc_8030_says() {
        let mut retry = HeaderMap::new();
        retry.insert(RETRY_AFTER, "7".parse().unwrap());
        let none = HeaderMap::new();
        assert_eq!(outcome(StatusCode::CREATED, &none), Outcome::Delivered);
        assert_eq!(outcome(StatusCode::GONE, &none), Outcome::Gone);
        assert_eq!(outcome(StatusCode::NOT_FOUND, &none), Outcome::Gone);
        assert_eq!(
            outcome(StatusCode::TOO_MANY_REQUESTS, &retry),
            Outcome::Retry(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            outcome(StatusCode::BAD_GATEWAY, &none),
            Outcome::Retry(None)
        );
        assert!(matches!(
            outcome(StatusCode::PAYLOAD_TOO_LARGE, &none),
            Outcome::Refused(_)
        ));
    }
}
