//! `--cors-origin`: CORS for web clients served from another origin.

use warp::filters::cors::{Builder, Cors};

/// Checks and normalises an origin given on the command line:
/// `scheme://host[:port]` (a trailing `/` is dropped), or `*` for any.
pub fn parse_origin(origin: &str) -> Result<String, String> {
    if origin == "*" {
        return Ok(origin.to_owned());
    }
    let trimmed = origin.strip_suffix('/').unwrap_or(origin);
    let invalid = || format!("{origin:?} is not an origin like http://localhost:5173 (or *)");
    let (scheme, host) = trimmed.split_once("://").ok_or_else(invalid)?;
    let scheme_ok = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic());
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c));
    if scheme_ok && host_ok {
        Ok(trimmed.to_owned())
    } else {
        Err(invalid())
    }
}

/// The CORS wrapper for `origins` (already checked by [`parse_origin`]),
/// or `None` when there are none, so that no CORS headers are sent.
pub fn filter(origins: &[String]) -> Option<Cors> {
    if origins.is_empty() {
        return None;
    }
    let builder: Builder = warp::cors()
        .allow_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allow_headers(["authorization", "content-type"])
        .expose_headers(["retry-after"])
        .max_age(3600);
    let builder = if origins.iter().any(|o| o == "*") {
        builder.allow_any_origin()
    } else {
        builder.allow_origins(origins.iter().map(String::as_str))
    };
    Some(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_origins() {
        for (given, want) in [
            ("http://localhost:5173", "http://localhost:5173"),
            ("https://chat.example.org/", "https://chat.example.org"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("*", "*"),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(want));
        }
        for bad in [
            "",
            "localhost:5173",
            "http://",
            "http://a/b",
            "://a",
            "1http://a",
            "http://a b",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accepted_origins_build_without_panicking() {
        let origins: Vec<String> = [
            "http://localhost:5173",
            "https://chat.example.org/",
            "http://[::1]:8080",
        ]
        .into_iter()
        .map(|o| parse_origin(o).unwrap())
        .collect();
        assert!(filter(&origins).is_some());
        assert!(filter(&[]).is_none());
    }
}
