//! The API's error model: every failure, on every route, becomes the JSON
//! body `{"message": CODE, "detail"?: "..."}` with its status. Causes of
//! internal failures go to the log, never to the client.

use std::convert::Infallible;

use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Rejection, Reply};

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
    /// 409: a unique value is taken.
    AlreadyExists(String),
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 429: too many failed attempts; try again after this long.
    TooManyRequests(std::time::Duration),
    /// 503: the database is busy past its timeout, or the server is stopping.
    /// The cause is logged.
    Unavailable(String),
    /// 500: a bug or a broken disk. The cause is logged, never sent.
    Internal(String),
}

impl warp::reject::Reject for ApiError {}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            ApiError::AlreadyExists(_) => (StatusCode::CONFLICT, "ALREADY_EXISTS"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR"),
        }
    }

    /// The human-readable part that is safe to send.
    fn detail(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::AlreadyExists(d) => Some(d),
            ApiError::Unauthorized => Some("a valid bearer token is required"),
            ApiError::MethodNotAllowed => Some("this path does not take that method"),
            ApiError::PayloadTooLarge => Some("request bodies are limited to 64 KiB"),
            ApiError::TooManyRequests(_) => Some("too many failed attempts; see Retry-After"),
            ApiError::Unavailable(_) => Some("the server is busy or stopping; try again"),
            ApiError::Internal(_) => None,
        }
    }

    /// Logs the cause of a server-side failure; client errors log nothing.
    pub fn log(&self) {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "service unavailable"),
            _ => {}
        }
    }

    /// The response, logging the cause of a server-side failure.
    pub fn to_response(&self) -> Response {
        self.log();
        let (status, message) = self.status_and_code();
        let body = ErrorBody {
            message,
            detail: self.detail(),
        };
        let mut response =
            warp::reply::with_status(warp::reply::json(&body), status).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests(wait) => {
                // Whole seconds, rounded up: never "0", which invites a retry now.
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            _ => {}
        }
        response
    }
}

/// For the operator (the admin commands): the detail, or the cause.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => f.write_str(cause),
            other => f.write_str(other.detail().unwrap_or(other.status_and_code().1)),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => ApiError::Unavailable(e.to_string()),
            _ => ApiError::Internal(format!("database: {e}")),
        }
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
        ApiError::Internal(format!("unhandled rejection: {r:?}"))
    }
}
