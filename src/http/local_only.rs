//! `azuma dev` serves this machine only. Listening on loopback is not
//! enough: any website the developer visits can make their browser send
//! requests to it, and the demo accounts' password is public. So its CORS
//! answers pages served from this machine alone (a client's dev server on
//! any port), and a request whose `Host` is not a loopback name is refused:
//! a hostile name that resolves to 127.0.0.1 (DNS rebinding) makes the
//! page same-origin with the server, and CORS no longer applies. A
//! websocket handshake, which CORS never covers, meets the same checks.
//!
//! Refusals are `403 FORBIDDEN`, a code every client knows already; `421`
//! would say "wrong host" more exactly, but no browser acts on it and it
//! would add a code to the error model for a development server.

use std::net::{Ipv4Addr, Ipv6Addr};

use warp::http::HeaderValue;
use warp::{Filter, Rejection};

use super::error::ApiError;
use super::json::optional_header;

/// Passes requests from this machine's pages (or from no page) to this
/// machine's names; refuses the rest. A request without `Host` (HTTP/1.0)
/// passes: no browser sends one.
pub fn guard() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    optional_header("host")
        .and(optional_header("origin"))
        .and_then(
            |host: Option<HeaderValue>, origin: Option<HeaderValue>| async move {
                let text = |v: &HeaderValue| v.to_str().unwrap_or("").to_owned();
                if let Some(host) = host.filter(|h| !is_loopback(&text(h))) {
                    return Err(ApiError::Forbidden(format!(
                        "{:?} is not this machine: azuma dev answers localhost, 127.0.0.1 and [::1]",
                        text(&host)
                    ))
                    .into());
                }
                if origin.is_some_and(|o| !is_loopback_origin(&text(&o))) {
                    return Err(ApiError::Forbidden(String::from(
                        "azuma dev answers pages from this machine only",
                    ))
                    .into());
                }
                Ok::<_, Rejection>(())
            },
        )
        .untuple_one()
}

/// Whether `origin` is `http://` or `https://` and a loopback authority.
fn is_loopback_origin(origin: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            && is_loopback(authority)
    })
}

/// Whether `authority` (a `Host`, or an origin after its scheme) names
/// this machine: `localhost`, `127.x.y.z` or `[::1]`, with any port or none.
fn is_loopback(authority: &str) -> bool {
    let (name, port, ipv6) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((name, port)) => (name, port, true),
            None => return false,
        },
        None => match authority.find(':') {
            Some(at) => (&authority[..at], &authority[at..], false),
            None => (authority, "", false),
        },
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
    let name_ok = if ipv6 {
        name.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
    } else {
        name.eq_ignore_ascii_case("localhost")
            || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    };
    port_ok && name_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_any_port_and_nothing_else() {
        for host in [
            "localhost",
            "LocalHost:8080",
            "127.0.0.1",
            "127.0.0.1:1",
            "127.1.2.3:65535",
            "[::1]",
            "[::1]:5173",
            "[0:0:0:0:0:0:0:1]:80",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "localhost.evil.example",
            "localhost:80.evil.example",
            "127.0.0.1.evil.example",
            "127.0.0.1:",
            "127.0.0.1:8080:1",
            "127.0.0.1:123456",
            "10.0.0.1",
            "0.0.0.0:80",
            "::1",
            "[::1",
            "[::]:80",
            "[::ffff:127.0.0.1]",
            "[::1]x",
            "user@localhost",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn loopback_origins_over_http_or_https() {
        for origin in [
            "http://localhost:5173",
            "https://127.0.0.1:8443",
            "http://[::1]:8080",
            "http://localhost",
        ] {
            assert!(is_loopback_origin(origin), "{origin}");
        }
        for origin in [
            "null",
            "http://evil.example",
            "file://localhost",
            "http://localhost:5173/",
            "localhost:5173",
            "chrome-extension://abc",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }
}
