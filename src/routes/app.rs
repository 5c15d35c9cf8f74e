//! `GET /app/`: the web client's page, embedded in the binary, with the
//! headers that keep a page safe (a strict Content-Security-Policy, no
//! sniffing, no referrer, no framing). Today it only says where the API
//! is; the client itself is issue 12's.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, header};
use warp::reply::Response;

use crate::http::filters;

/// The page.
const PAGE: &str = include_str!("../../web/index.html");

/// The page's Content-Security-Policy: nothing but this origin, no inline
/// script, no framing.
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /app/`.
pub fn routes() -> BoxedFilter<(Response,)> {
    warp::path!("app").and(filters::get()).map(page).boxed()
}

/// The web client.
#[utoipa::path(get, operation_id = "web_client", path = "/app/", tag = "server", security(()),
    responses((status = 200, description = "The web client's page", content_type = "text/html",
        body = String)))]
fn page() -> Response {
    let mut response = Response::new(PAGE.into());
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
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
