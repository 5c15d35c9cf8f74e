//! `GET /app/`: the web client's page, embedded in the binary, with the
//! headers that keep a page safe (a strict Content-Security-Policy, no
//! sniffing, no referrer, no framing), an `ETag` and gzip. Today it only
//! says where the API is; the client itself is issue 12's.

use std::sync::LazyLock;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, header};
use warp::reply::Response;

use crate::http::asset::Asset;
use crate::http::filters;

/// The page.
static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../../web/index.html"),
        "text/html; charset=utf-8",
    )
});

/// The page's Content-Security-Policy: nothing but this origin, no inline
/// script, no framing.
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /app/`.
pub fn routes() -> BoxedFilter<(Response,)> {
    warp::path!("app")
        .and(filters::get())
        .and(warp::header::headers_cloned())
        .map(|headers: HeaderMap| {
            // A header that is not text counts as absent, never as an error.
            let text = |name| {
                headers
                    .get(name)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
            };
            page(text(header::IF_NONE_MATCH), text(header::ACCEPT_ENCODING))
        })
        .boxed()
}

/// The web client.
#[utoipa::path(get, operation_id = "web_client", path = "/app/", tag = "server", security(()),
    params(
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: `304` if it is still this page's"),
        ("Accept-Encoding" = Option<String>, Header, description = "With `gzip`, the page is sent gzipped"),
    ),
    responses(
        (status = 200, description = "The web client's page (`ETag`, `Cache-Control: no-cache`, `Vary: accept-encoding`)",
            content_type = "text/html", body = String),
        (status = 304, description = "The client's copy (its `If-None-Match`) is current; no body"),
    ))]
fn page(if_none_match: Option<&str>, accept_encoding: Option<&str>) -> Response {
    let mut response = PAGE.reply(if_none_match, accept_encoding);
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether an `Accept` header prefers `text/html` to `application/json`:
/// a browser's address bar, which `GET /` sends on to the client.
pub fn prefers_html(accept: &str) -> bool {
    // The q of the most specific range that matches `kind/sub`.
    let quality = |kind: &str, sub: &str| {
        let mut best: Option<(u8, f32)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let specificity = match media.split_once('/') {
                Some((k, s)) if k == kind && s == sub => 2,
                Some((k, "*")) if k == kind => 1,
                Some(("*", "*")) => 0,
                _ => continue,
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    quality("text", "html") > quality("application", "json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_prefer_html_and_api_clients_do_not() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                      image/webp,*/*;q=0.8";
        assert!(prefers_html(firefox));
        assert!(prefers_html(chrome));
        for accept in [
            "*/*",
            "application/json",
            "",
            "text/html;q=0.5,application/json",
            "application/json, text/html",
            "TEXT/HTML;q=0, */*",
        ] {
            assert!(!prefers_html(accept), "{accept}");
        }
        assert!(prefers_html("text/*, application/json;q=0.9"));
    }
}
