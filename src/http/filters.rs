//! Filters the routes share: the application state, the caller's session,
//! and ids.

use std::convert::Infallible;

use uuid::Uuid;
use warp::http::HeaderValue;
use warp::{Filter, Rejection};

use super::error::ApiError;
use super::json::optional_header;
use crate::app::App;
use crate::auth::sessions::Session;

/// A filter handing each request the [`App`].
pub fn with_app(app: &App) -> impl Filter<Extract = (App,), Error = Infallible> + Clone + use<> {
    let app = app.clone();
    warp::any().map(move || app.clone())
}

/// `GET`, or `HEAD` (answered as `GET` would be; hyper leaves the body
/// out), for uptime monitors and caches.
pub fn get() -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::get().or(warp::head()).unify()
}

/// Requires a valid bearer token; yields the caller's [`Session`].
pub fn authenticated(
    app: &App,
) -> impl Filter<Extract = (Session,), Error = Rejection> + Clone + use<> {
    optional_header("authorization")
        .and(with_app(app))
        .and_then(|header: Option<HeaderValue>, app: App| async move {
            let token = bearer_token(header.as_ref()).ok_or(ApiError::Unauthorized)?;
            match app.sessions.check(&token).await {
                Ok(Some(session)) => Ok(session),
                Ok(None) => Err(ApiError::Unauthorized.into()),
                Err(e) => Err(Rejection::from(ApiError::from(e))),
            }
        })
}

/// The caller's session if the request has an `Authorization` header
/// (401 if it is no good), `None` if it has none: for routes that take
/// another credential too (a signed link).
pub fn maybe_authenticated(
    app: &App,
) -> impl Filter<Extract = (Option<Session>,), Error = Rejection> + Clone + use<> {
    optional_header("authorization")
        .and(with_app(app))
        .and_then(|header: Option<HeaderValue>, app: App| async move {
            if header.is_none() {
                return Ok(None);
            }
            let token = bearer_token(header.as_ref()).ok_or(ApiError::Unauthorized)?;
            match app.sessions.check(&token).await {
                Ok(Some(session)) => Ok(Some(session)),
                Ok(None) => Err(ApiError::Unauthorized.into()),
                Err(e) => Err(Rejection::from(ApiError::from(e))),
            }
        })
}

/// The token of an `Authorization: Bearer <uuid>` header (scheme matched
/// case-insensitively), or `None` if there is no usable one.
fn bearer_token(header: Option<&HeaderValue>) -> Option<Uuid> {
    let value = header?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Uuid::try_parse(token.trim()).ok()
}

/// Parses an id from a path, query or body: malformed is a 400 naming `what`.
pub fn parse_id(text: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::BadRequest(format!("malformed {what} id {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn parses_bearer_tokens() {
        let t = "318cd399-f47f-478f-8d09-c9c414c3750d";
        let want = Uuid::parse_str(t).ok();
        assert_eq!(bearer_token(Some(&header(&format!("Bearer {t}")))), want);
        assert_eq!(bearer_token(Some(&header(&format!("bEaReR {t}")))), want);
        assert_eq!(bearer_token(Some(&header(&format!("Bearer   {t} ")))), want);
        assert_eq!(bearer_token(None), None);
        assert_eq!(bearer_token(Some(&header(t))), None);
        assert_eq!(bearer_token(Some(&header(&format!("Basic {t}")))), None);
        assert_eq!(bearer_token(Some(&header("Bearer not-a-uuid"))), None);
        assert_eq!(bearer_token(Some(&header("Bearer"))), None);
        let latin1 = HeaderValue::from_bytes(b"Bearer \xe9").unwrap();
        assert_eq!(bearer_token(Some(&latin1)), None);
    }
}
