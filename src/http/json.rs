//! JSON in and out: the request body filter (Content-Type, the 64 KiB limit,
//! decoding) and the response helpers every route uses.

use std::convert::Infallible;

use bytes::{Buf, BufMut, BytesMut};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use warp::Filter;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::{Reply, Response};

use super::MAX_BODY;
use super::body::BodyTimeout;
use super::error::ApiError;

/// A header's raw value, if the request has it.
pub fn optional_header(
    name: &'static str,
) -> impl Filter<Extract = (Option<HeaderValue>,), Error = Infallible> + Clone {
    warp::header::value(name)
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

/// Decodes a JSON request body into `T`. A wrong or missing Content-Type,
/// malformed JSON, a missing field or a wrong type is 400; a body over
/// [`MAX_BODY`] is 413, refused from its Content-Length before it is read,
/// or as soon as a chunked body passes the limit.
pub fn body<T: DeserializeOwned + Send + 'static>()
-> impl Filter<Extract = (T,), Error = warp::Rejection> + Clone {
    optional_header("content-type")
        .and(optional_header("content-length"))
        .and(warp::body::stream())
        .and_then(
            |content_type: Option<HeaderValue>, length: Option<HeaderValue>, stream| async move {
                if !is_json(content_type.as_ref()) {
                    return Err(ApiError::BadRequest(
                        "Content-Type must be application/json".into(),
                    )
                    .into());
                }
                let declared = length
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if let Some(declared) = declared.filter(|n| *n > MAX_BODY as u64) {
                    // A body a little over the limit (what a proxy passes
                    // on) is read and dropped, so the 413 reaches the
                    // client over a connection left in order; a huge one
                    // is not read at all.
                    if declared <= DRAINED as u64 {
                        drain(stream).await;
                    }
                    return Err(ApiError::PayloadTooLarge.into());
                }
                let bytes = read_limited(stream, declared.unwrap_or(0) as usize).await?;
                decode(&bytes).map_err(warp::Rejection::from)
            },
        )
}

/// Parses JSON into `T`, with serde's explanation as the 400's detail.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object: serde would also read a struct from an
    // array of its fields' values (`[null, null]`), which no client means.
    let first = bytes.iter().find(|b| !b" \t\n\r".contains(b));
    if first != Some(&b'{') {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// The largest body over the limit that is read (and dropped) rather than
/// left unread: a proxy in front (nginx with contrib's settings passes at
/// most 128 KiB) closes the connection on an answer that comes before it
/// has sent the whole body, and reports a 502 instead of the 413.
const DRAINED: usize = 256 * 1024;

/// Reads and drops what comes of a body, at most [`DRAINED`] bytes, until
/// it ends, fails or stalls past its deadline.
async fn drain<S, B>(stream: S)
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut read = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.remaining();
        if read > DRAINED {
            return;
        }
    }
}

/// Reads a body of at most [`MAX_BODY`] bytes.
async fn read_limited<S, B>(stream: S, expected: usize) -> Result<BytesMut, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut body = BytesMut::with_capacity(expected.min(MAX_BODY));
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            use std::error::Error;
            match e.source().and_then(|s| s.downcast_ref::<BodyTimeout>()) {
                Some(_) => ApiError::RequestTimeout,
                None => ApiError::BadRequest(format!("reading the body: {e}")),
            }
        })?;
        if body.len() + chunk.remaining() > MAX_BODY {
            return Err(ApiError::PayloadTooLarge);
        }
        body.put(chunk);
    }
    Ok(body)
}

/// `application/json`, optionally with parameters such as a charset.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// `value` as a JSON response with `status`.
pub fn reply<T: Serialize>(status: StatusCode, value: &T) -> Response {
    warp::reply::with_status(warp::reply::json(value), status).into_response()
}

/// `204 No Content`, empty body.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_json_content_types_only() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(is_json(Some(&h("application/json"))));
        assert!(is_json(Some(&h("application/json; charset=utf-8"))));
        assert!(is_json(Some(&h("Application/JSON;charset=UTF-8"))));
        assert!(!is_json(None));
        assert!(!is_json(Some(&h("text/plain"))));
        assert!(!is_json(Some(&h("application/jsonx"))));
        assert!(!is_json(Some(&h("application/x-www-form-urlencoded"))));
    }
}
