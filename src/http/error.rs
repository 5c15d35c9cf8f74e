//! The API's error model: every failure, on every route, becomes the JSON
//! body `{"message": CODE, "detail"?: "..."}` with its status. Causes of
//! internal failures go to the log, never to the client.

use std::borrow::Cow;
use std::convert::Infallible;

use serde::Serialize;
use warp::Rejection;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::{MAX_BODY, MAX_HEADER_BYTES, MAX_HEADERS};
use crate::auth::password::HashError;
use crate::domain::error::{Cause, Refusal, StoreError, cause, chain};
use crate::domain::names::Invalid;

/// A failure that the API reports to the client.
#[derive(Clone, Debug)]
pub enum ApiError {
    /// 400: the request is malformed or breaks a limit; says what is wrong.
    BadRequest(String),
    /// 401: missing, malformed, unknown, revoked or expired token.
    Unauthorized,
    /// 403: authenticated, but not allowed.
    Forbidden(String),
    /// 404: no such route or object.
    NotFound(String),
    /// 405: known path, wrong method.
    MethodNotAllowed,
    /// 408: the request body did not arrive in time.
    RequestTimeout,
    /// 409: a unique value is taken.
    AlreadyExists(String),
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 413: an uploaded file is over this many bytes.
    FileTooLarge(u64),
    /// 416: the range asked for starts past the end.
    RangeNotSatisfiable,
    /// 431: the request line and headers are over the limits.
    HeadersTooLarge,
    /// 429: too many failed attempts; try again after this long.
    TooManyRequests(std::time::Duration),
    /// 503: the database is busy past its timeout, or the server is stopping.
    /// The cause is logged.
    Unavailable(Cause),
    /// 503: too much work waiting (password hashes); try again after this.
    Overloaded(std::time::Duration),
    /// 507: the disk is full; nothing was written. The cause is logged.
    InsufficientStorage(Cause),
    /// 500: a bug or a broken disk. The cause is logged, never sent.
    Internal(Cause),
}

impl ApiError {
    /// A 500 whose cause is `why`.
    pub fn internal(why: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::Internal(cause(why))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Busy(_) => ApiError::Unavailable(cause(e)),
            StoreError::Full(_) => ApiError::InsufficientStorage(cause(e)),
            StoreError::Failed(_) => ApiError::Internal(cause(e)),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::NotFound(why) => ApiError::NotFound(why),
            Refusal::Forbidden(why) => ApiError::Forbidden(why),
            Refusal::Taken(why) => ApiError::AlreadyExists(why),
            Refusal::Invalid(why) => ApiError::BadRequest(why),
            Refusal::Limited(wait) => ApiError::TooManyRequests(wait),
            Refusal::Store(e) => e.into(),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => ApiError::Overloaded(std::time::Duration::from_secs(1)),
            HashError::Failed(_) => ApiError::Internal(cause(e)),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::BadRequest(e.0)
    }
}

/// Lets handlers use `?` on what the layers below return.
macro_rules! reject_via_api_error {
    ($($from:ty),*) => {$(
        impl From<$from> for Rejection {
            fn from(e: $from) -> Self {
                warp::reject::custom(ApiError::from(e))
            }
        }
    )*};
}

reject_via_api_error!(StoreError, Refusal, HashError, Invalid);

impl warp::reject::Reject for ApiError {}

/// What clients switch on: the `message` of every error body, and of the
/// websocket's `Error` frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    AlreadyExists,
    PayloadTooLarge,
    RangeNotSatisfiable,
    RequestHeaderFieldsTooLarge,
    TooManyRequests,
    InternalServerError,
    ServiceUnavailable,
    InsufficientStorage,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    message: Code,
    /// Human-readable; never secrets, SQL or stack traces.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, Code) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, Code::BadRequest),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, Code::Unauthorized),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, Code::Forbidden),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, Code::NotFound),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, Code::MethodNotAllowed),
            ApiError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, Code::RequestTimeout),
            ApiError::AlreadyExists(_) => (StatusCode::CONFLICT, Code::AlreadyExists),
            ApiError::PayloadTooLarge | ApiError::FileTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, Code::PayloadTooLarge)
            }
            ApiError::RangeNotSatisfiable => {
                (StatusCode::RANGE_NOT_SATISFIABLE, Code::RangeNotSatisfiable)
            }
            ApiError::HeadersTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                Code::RequestHeaderFieldsTooLarge,
            ),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, Code::TooManyRequests),
            ApiError::Unavailable(_) | ApiError::Overloaded(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, Code::ServiceUnavailable)
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, Code::InternalServerError),
            ApiError::InsufficientStorage(_) => {
                (StatusCode::INSUFFICIENT_STORAGE, Code::InsufficientStorage)
            }
        }
    }

    /// The human-readable part that is safe to send.
    fn detail(&self) -> Option<Cow<'_, str>> {
        let text = match self {
            ApiError::BadRequest(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::AlreadyExists(d) => d,
            ApiError::Unauthorized => "a valid bearer token is required",
            ApiError::MethodNotAllowed => "this path does not take that method",
            ApiError::RequestTimeout => "the request body did not arrive in time",
            ApiError::PayloadTooLarge => {
                return Some(
                    format!("request bodies are limited to {} KiB", MAX_BODY / 1024).into(),
                );
            }
            ApiError::FileTooLarge(bytes) => {
                return Some(format!("files are limited to {} MiB", bytes >> 20).into());
            }
            ApiError::RangeNotSatisfiable => "the range starts past the end of the file",
            ApiError::HeadersTooLarge => {
                return Some(
                    format!(
                        "the request line and headers are limited to {} KiB and {MAX_HEADERS} fields",
                        MAX_HEADER_BYTES / 1024
                    )
                    .into(),
                );
            }
            ApiError::TooManyRequests(_) => "too many requests; see Retry-After",
            ApiError::Unavailable(_) => "the server is busy or stopping; try again",
            ApiError::Overloaded(_) => "the server is busy; see Retry-After",
            ApiError::InsufficientStorage(_) => {
                "the disk is full: nothing was written; retry later"
            }
            ApiError::Internal(_) => return None,
        };
        Some(Cow::Borrowed(text))
    }

    /// Logs the cause of a server-side failure, with its sources, named by
    /// its request (`log/request.rs`); client errors log nothing.
    pub fn log(&self) {
        match self {
            ApiError::Internal(e) => {
                tracing::error!(cause = %chain(e.as_ref()), "internal error");
            }
            ApiError::Unavailable(e) => {
                tracing::warn!(cause = %chain(e.as_ref()), "service unavailable");
            }
            ApiError::InsufficientStorage(e) => {
                tracing::error!(cause = %chain(e.as_ref()), "the disk is full");
            }
            _ => {}
        }
    }

    /// The status and the JSON body, for an answer written without warp.
    pub fn json(&self) -> (StatusCode, Vec<u8>) {
        let (status, message) = self.status_and_code();
        let detail = self.detail();
        let body = ErrorBody {
            message,
            detail: detail.as_deref(),
        };
        // A code and a string: serialising them cannot fail.
        (status, serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The response, logging the cause of a server-side failure.
    pub fn to_response(&self) -> Response {
        self.log();
        let (status, body) = self.json();
        let mut response = Response::new(body.into());
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests(wait) | ApiError::Overloaded(wait) => {
                // Whole seconds, rounded up: never "0", which invites a retry now.
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            _ => {}
        }
        response
    }
}

/// The last filter of the chain: turns any rejection into the API's error.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(match rejection.find::<ApiError>() {
        Some(e) => e.to_response(),
        None => from_warp(&rejection).to_response(),
    })
}

/// Maps warp's own rejections: the filters in the chain reject only for a
/// path, a method, a query string or a CORS origin. Only path and method
/// filters run before a route has matched, so anything else comes from a
/// matched route and wins over them.
fn from_warp(r: &Rejection) -> ApiError {
    use warp::reject::{InvalidQuery, MethodNotAllowed};
    if let Some(e) = r.find::<InvalidQuery>() {
        ApiError::BadRequest(e.to_string())
    } else if let Some(e) = r.find::<warp::filters::cors::CorsForbidden>() {
        ApiError::Forbidden(e.to_string())
    } else if r.find::<MethodNotAllowed>().is_some() {
        ApiError::MethodNotAllowed
    } else if r.is_not_found() {
        ApiError::NotFound(String::from("no such route"))
    } else {
        ApiError::internal(format!("unhandled rejection: {r:?}"))
    }
}
