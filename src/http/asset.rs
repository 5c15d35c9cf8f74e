//! A file embedded in the binary, served the way browsers cache best: a
//! strong `ETag` (a `304` to a matching `If-None-Match`), and gzip when the
//! client accepts it (gzipped at build time, by `build.rs`). The gzipped
//! body is another representation, so it has a tag of its own: a strong
//! tag promises the same bytes, and a cache (or a `Range` request) that
//! took one body for the other would be handed the wrong ones.

use sha2::{Digest, Sha256};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

/// An embedded file as sent.
pub struct Asset {
    body: &'static [u8],
    /// The gzipped body, when that is smaller.
    gzip: Option<&'static [u8]>,
    content_type: &'static str,
    etag: HeaderValue,
    /// The gzipped body's tag: the plain one with `-gzip` inside the quotes.
    gzip_etag: HeaderValue,
}

impl Asset {
    /// `body`, its gzipped form `gzip`, and its hash for the `ETag`s.
    pub fn new(body: &'static [u8], gzip: &'static [u8], content_type: &'static str) -> Asset {
        let digest = Sha256::digest(body);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        // Hex digits only: always a valid header value.
        let tag = |suffix| {
            HeaderValue::from_str(&format!("\"{hex}{suffix}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        };
        let gzip = Some(gzip).filter(|gzip| gzip.len() < body.len());
        Asset {
            body,
            gzip,
            content_type,
            etag: tag(""),
            gzip_etag: tag("-gzip"),
        }
    }

    /// The answer to a GET with these `If-None-Match` and `Accept-Encoding`
    /// headers: `304` if the client holds this version, else the file,
    /// gzipped if the client takes gzip. Caches may keep it, but must ask
    /// again before each use (`no-cache`): a new binary may bring new files.
    pub fn reply(&self, if_none_match: Option<&str>, accept_encoding: Option<&str>) -> Response {
        let gzip = self
            .gzip
            .as_ref()
            .filter(|_| accept_encoding.is_some_and(accepts_gzip));
        // The tag of the body this client would get: a copy of the other
        // body is not fresh for it.
        let etag = if gzip.is_some() {
            &self.gzip_etag
        } else {
            &self.etag
        };
        let fresh = if_none_match.is_some_and(|tags| matches(tags, etag));
        let mut response = match (fresh, gzip) {
            (true, _) => {
                let mut response = Response::new(Vec::new().into());
                *response.status_mut() = StatusCode::NOT_MODIFIED;
                response
            }
            (false, Some(gzip)) => {
                let mut response = Response::new((*gzip).into());
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                response
            }
            (false, None) => Response::new(self.body.into()),
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, etag.clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if !fresh {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
        }
        response
    }
}

/// Whether an `If-None-Match` list names `etag` (weakly, as RFC 9110 says
/// for this header) or is `*`.
fn matches(tags: &str, etag: &HeaderValue) -> bool {
    let etag = etag.to_str().unwrap_or("");
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Whether an `Accept-Encoding` list takes gzip: named (or `*`) with a
/// q above 0.
fn accepts_gzip(accept: &str) -> bool {
    accept.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_when_named_or_starred_with_a_positive_q() {
        for accept in ["gzip", "gzip, deflate, br, zstd", "br;q=1, GZIP;q=0.5", "*"] {
            assert!(accepts_gzip(accept), "{accept}");
        }
        for accept in ["", "identity", "br", "gzip;q=0", "x-gzip2", "gzip;q=0.0"] {
            assert!(!accepts_gzip(accept), "{accept}");
        }
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let etag = HeaderValue::from_static("\"abc\"");
        for tags in ["\"abc\"", "\"x\", \"abc\"", "W/\"abc\"", "*"] {
            assert!(matches(tags, &etag), "{tags}");
        }
        for tags in ["", "abc", "\"abcd\"", "\"x\""] {
            assert!(!matches(tags, &etag), "{tags}");
        }
    }
}
