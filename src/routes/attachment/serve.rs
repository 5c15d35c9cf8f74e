//! Serving an attachment's bytes: one range at most, read a chunk at a
//! time (a download holds a few chunks in memory, whatever the file's
//! size), with headers that keep anything uploaded from running as this
//! server's origin.

use bytes::Bytes;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use crate::app::App;
use crate::domain::attachments::{self, CHUNK, Stored};
use crate::domain::error::StoreError;
use crate::http::error::ApiError;

/// Media types shown inline: images that browsers decode safely, sound
/// and video. Anything else (SVG and HTML included) is a download.
fn inline(mime: &str) -> bool {
    matches!(mime, "image/jpeg" | "image/png" | "image/gif" | "image/webp")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
}

/// The byte range a `Range` header asks of `size` bytes: `Ok(None)` for
/// the whole (no header, or one this server does not serve as a range,
/// such as several ranges), `Err` if it cannot be satisfied.
fn range(header: Option<&HeaderValue>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(a), Ok(b)) if a <= b => (a, b.min(size.saturating_sub(1))),
        (Ok(a), Err(_)) if last.is_empty() => (a, size.saturating_sub(1)),
        (Err(_), Ok(n)) if first.is_empty() && n > 0 => (size.saturating_sub(n), size.saturating_sub(1)),
        _ => return Ok(None),
    };
    if parsed.0 >= size {
        return Err(());
    }
    Ok(Some(parsed))
}

/// The answer for `variant` (0 the file, 1 its thumbnail) of `stored`,
/// `size` bytes, tagged `etag`.
pub fn respond(
    app: &App,
    stored: &Stored,
    variant: i64,
    size: u64,
    etag: &str,
    range_header: Option<&HeaderValue>,
) -> Result<Response, ApiError> {
    let mime = match variant {
        0 => stored.mime.as_str(),
        _ => stored.thumbnail_type.as_deref().unwrap_or("image/jpeg"),
    };
    let (status, first, last) = match range(range_header, size) {
        Ok(Some((first, last))) => (StatusCode::PARTIAL_CONTENT, first, last),
        Ok(None) => (StatusCode::OK, 0, size.saturating_sub(1)),
        Err(()) => {
            let mut response = ApiError::RangeNotSatisfiable.to_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            protect(headers, etag);
            return Ok(response);
        }
    };
    let length = if size == 0 { 0 } else { last - first + 1 };
    let mut response = if length == 0 {
        Response::default()
    } else {
        body(app.clone(), stored.seq, variant, first, last)
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if inline(mime) {
        headers.insert(header::CONTENT_TYPE, value(mime));
    } else {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        let disposition = format!("attachment; filename*=UTF-8''{}", percent(&stored.name));
        headers.insert(header::CONTENT_DISPOSITION, value(&disposition));
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if status == StatusCode::PARTIAL_CONTENT {
        headers.insert(header::CONTENT_RANGE, value(&format!("bytes {first}-{last}/{size}")));
    }
    protect(headers, etag);
    Ok(response)
}

/// The headers every answer about an attachment carries.
pub fn protect(headers: &mut warp::http::HeaderMap, etag: &str) {
    sandbox(headers);
    headers.insert(header::ETAG, value(etag));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
}

/// What keeps an answer from running as this origin, whatever it holds.
pub fn sandbox(headers: &mut warp::http::HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `name` percent-encoded for `filename*` (RFC 5987): all but unreserved
/// characters.
fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Bytes `first` to `last` of `variant` of the attachment at `seq`, read a
/// chunk at a time as the client takes them.
fn body(app: App, seq: i64, variant: i64, first: u64, last: u64) -> Response {
    let (pieces, mut taken) = tokio::sync::mpsc::channel::<Result<Bytes, StoreError>>(2);
    tokio::spawn(async move {
        let chunk = CHUNK as u64;
        for n in first / chunk..=last / chunk {
            let piece = match slice(&app, seq, variant, n, first, last).await {
                Ok(Some(piece)) => Ok(piece),
                // Deleted while it was being read: the answer breaks off.
                Ok(None) => Err(StoreError::Failed(crate::domain::error::cause(
                    "the attachment was deleted",
                ))),
                Err(e) => Err(e),
            };
            let failed = piece.is_err();
            if pieces.send(piece).await.is_err() || failed {
                return;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| taken.poll_recv(cx));
    warp::reply::stream(stream).into_response()
}

/// Reads chunk `n`, sliced to the bytes in `first..=last`.
async fn slice(app: &App, seq: i64, variant: i64, n: u64, first: u64, last: u64) -> Result<Option<Bytes>, StoreError> {
    let chunk = app
        .db
        .run(move |conn| attachments::chunk(conn, seq, variant, n as i64))
        .await?;
    Ok(chunk.map(|chunk| {
        let start = n * CHUNK as u64;
        let from = first.saturating_sub(start) as usize;
        let to = ((last + 1).saturating_sub(start) as usize).min(chunk.len());
        Bytes::from(chunk).slice(from.min(to)..to)
    }))
}
