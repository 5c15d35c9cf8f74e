//! `GET /app/` and `GET /app/{file}`: the web client (`web/`), embedded in
//! the binary, sent with the headers that keep a page safe (a strict
//! Content-Security-Policy, no sniffing, no referrer, no framing), an
//! `ETag` and gzip.

use std::convert::Infallible;
use std::sync::LazyLock;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, header};
use warp::reply::Response;

use super::route::Routes;
use crate::app::App;
use crate::http::asset::Asset;
use crate::http::filters;

/// A file of `web/`: its name, body, gzipped body and content type.
type WebFile = (&'static str, &'static [u8], &'static [u8], &'static str);

// `PAGE_FILE` and `FILES`, written by `build.rs` from `web/` (the one list
// of the client's files).
include!(concat!(env!("OUT_DIR"), "/web.rs"));

/// The page, `/app/` itself.
static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    let (_, body, gzip, content_type) = PAGE_FILE;
    Asset::new(body, gzip, content_type)
});

/// Each file with its hash, made on the first request for any of them.
static ASSETS: LazyLock<Vec<(&str, Asset)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, body, gzip, content_type)| (name, Asset::new(body, gzip, content_type)))
        .collect()
});

fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, asset)| asset)
}

/// The pages' Content-Security-Policy: nothing but this origin (its
/// websocket included), no inline script or style, no framing.
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /app/` and `GET /app/{file}`.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(page, file))]
pub struct Api;

pub fn routes(_: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let page = r
        .route::<__path_page>()
        .and(conditions())
        .map(page);
    let file = r
        .path::<__path_file>()
        // An unknown file is no route: 404, whatever the method.
        .and_then(|names: Vec<String>| async move {
            let name = names.first().map_or("", String::as_str);
            asset(name).ok_or_else(warp::reject::not_found)
        })
        .and(filters::get())
        .and(conditions())
        .map(file);
    page.or(file).unify().boxed()
}

/// What a cached copy depends on: the request's `If-None-Match` and
/// `Accept-Encoding` (a header that is not text counts as absent).
struct Conditions {
    if_none_match: Option<String>,
    accept_encoding: Option<String>,
}

fn conditions() -> impl Filter<Extract = (Conditions,), Error = Infallible> + Clone {
    warp::header::headers_cloned().map(|headers: HeaderMap| {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Conditions {
            if_none_match: text(header::IF_NONE_MATCH),
            accept_encoding: text(header::ACCEPT_ENCODING),
        }
    })
}

/// The web client.
#[utoipa::path(get, operation_id = "web_client", path = "/app/", tag = "server", security(()),
    params(
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: `304` if it is still this page's"),
        ("Accept-Encoding" = Option<String>, Header, description = "With `gzip`, the page is sent gzipped"),
    ),
    responses(
        (status = 200, description = "The web client's page (`ETag`, one for the plain and one for the gzipped body; `Cache-Control: no-cache`, `Vary: accept-encoding`)",
            content_type = "text/html", body = String),
        (status = 304, description = "The client's copy (its `If-None-Match`) is current; no body"),
    ))]
fn page(conditions: Conditions) -> Response {
    file(&PAGE, conditions)
}

/// One of the web client's files (its scripts, stylesheet, icons, the
/// installable app's manifest and its service worker).
#[utoipa::path(get, operation_id = "web_client_file", path = "/app/{file}", tag = "server", security(()),
    params(
        ("file" = String, Path, description = "A file of the client, such as `main.js`, `style.css`, `manifest.webmanifest` or `sw.js` (the service worker, scope `/app/`)"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: `304` if it is still this file's"),
        ("Accept-Encoding" = Option<String>, Header, description = "With `gzip`, the file is sent gzipped"),
    ),
    responses(
        (status = 200, description = "The file (`ETag`, one for the plain and one for the gzipped body; `Cache-Control: no-cache`, `Vary: accept-encoding`)",
            content((String = "text/javascript"), (String = "text/css"), (String = "image/svg+xml"),
                (String = "image/png"), (String = "application/manifest+json"))),
        (status = 304, description = "The client's copy (its `If-None-Match`) is current; no body"),
        (status = 404, description = "No such file", body = crate::http::error::ErrorBody),
    ))]
fn file(asset: &'static Asset, conditions: Conditions) -> Response {
    let mut response = asset.reply(
        conditions.if_none_match.as_deref(),
        conditions.accept_encoding.as_deref(),
    );
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
