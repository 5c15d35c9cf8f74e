//! Attachments: `POST /attachment?name=` (the body is the file), `GET
//! /attachment/{id}` and `GET /attachment/{id}/thumbnail` (with a bearer
//! token, or a signed link: `<img>` cannot send a token). Storing is in
//! [`upload`], serving in [`serve`].

mod serve;
mod upload;

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::attachments::{self, Attachment};
use crate::domain::names::FileName;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::filters::{authenticated, maybe_authenticated, with_app};
use crate::http::json::{self, optional_header};
use crate::media::links::Variant;

/// The query of an upload.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UploadQuery {
    /// The file's name: 1–255 characters, no control or format characters,
    /// no `/` or `\`.
    #[param(value_type = String, min_length = 1, max_length = 255)]
    name: Option<String>,
}

/// A signed link's query: with it, no token is needed (and a bad one is
/// refused even beside a token).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LinkQuery {
    /// Until when the link works (Unix seconds).
    #[param(value_type = Option<i64>)]
    exp: Option<String>,
    /// Its signature.
    #[param(value_type = Option<String>)]
    sig: Option<String>,
}

/// Uploading and fetching files.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(upload, file, thumbnail))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let upload = r
        .route::<__path_upload>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(warp::query::<UploadQuery>())
        .and(optional_header("content-type"))
        .and(optional_header("content-length"))
        .and(warp::body::stream())
        .and_then(upload);
    let file = r
        .route_with_id::<__path_file>("attachment")
        .and(with_app(app))
        .and(maybe_authenticated(app))
        .and(warp::query::<LinkQuery>())
        .and(optional_header("range"))
        .and(optional_header("if-none-match"))
        .and_then(file);
    let thumbnail = r
        .route_with_id::<__path_thumbnail>("attachment")
        .and(with_app(app))
        .and(maybe_authenticated(app))
        .and(warp::query::<LinkQuery>())
        .and(optional_header("range"))
        .and(optional_header("if-none-match"))
        .and_then(thumbnail);
    file.or(thumbnail).unify().or(upload).unify().boxed()
}

/// The media type of an upload: the essence of its `Content-Type`,
/// lowercased, if it is a well-formed `type/subtype`.
fn media_type(header: Option<&HeaderValue>) -> String {
    let essence = header
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) && essence.len() <= 127 => essence,
        _ => "application/octet-stream".to_owned(),
    }
}

/// Uploads a file (the body); it is the caller's until a message carries
/// it, and is deleted if none does within 24 h.
#[utoipa::path(post, operation_id = "upload", path = "/attachment", tag = "attachments", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file, with its own Content-Type"),
    responses(
        (status = 201, description = "Stored", body = Attachment),
        (status = 400, description = "A missing or bad name", body = ErrorBody),
        (status = 413, description = "Larger than --max-upload-mib", body = ErrorBody),
        (status = 507, description = "The disk is full; nothing is kept", body = ErrorBody),
    ))]
pub(super) async fn upload<S, B>(
    app: App,
    session: Session,
    query: UploadQuery,
    content_type: Option<HeaderValue>,
    length: Option<HeaderValue>,
    body: S,
) -> Result<Response, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>> + Send,
    B: bytes::Buf + Send,
{
    let name = FileName::try_from(query.name.unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(e.0))?;
    let declared = length
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_upload) {
        return Err(ApiError::FileTooLarge(app.max_upload).into());
    }
    let mime = media_type(content_type.as_ref());
    let (id, owner, now) = (Uuid::new_v4(), session.user_id, app.clock.now());
    let started = mime.clone();
    let seq = app
        .db
        .run(move |conn| attachments::create(conn, &id, &owner, name.as_str(), &started, now))
        .await?;
    match upload::store(&app, seq, &mime, body).await {
        Ok(mut attachment) => {
            attachment.sign(&app.links, app.clock.now());
            Ok(json::reply(StatusCode::CREATED, &attachment))
        }
        Err(e) => {
            // Nothing half-stored stays; should even this fail (a full
            // disk), the prune removes what is left.
            if let Err(gone) = app.db.run(move |conn| attachments::discard(conn, seq)).await {
                tracing::warn!(cause = %crate::domain::error::chain(&gone), "cannot discard a failed upload");
            }
            Err(e.into())
        }
    }
}

/// A file, to whoever may see the message that carries it (or its
/// uploader, before): with a bearer token, or by its signed link.
#[utoipa::path(get, operation_id = "get_attachment", path = "/attachment/{id}", tag = "attachments",
    params(("id" = Uuid, Path), LinkQuery), security(("bearer" = []), ()),
    responses(
        (status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 403, description = "The link expired or is not signed right", body = ErrorBody),
        (status = 404, description = "No such attachment", body = ErrorBody),
        (status = 416, description = "The range is past the end", body = ErrorBody),
    ))]
pub(super) async fn file(
    id: Uuid,
    app: App,
    session: Option<Session>,
    link: LinkQuery,
    range: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
) -> Result<Response, Rejection> {
    Ok(fetch(app, id, Variant::File, session, link, range, if_none_match)
        .await
        .unwrap_or_else(|e| refused(&e)))
}

/// An image's thumbnail (its longest side at most 800 px), to whoever
/// may see the image.
#[utoipa::path(get, operation_id = "get_thumbnail", path = "/attachment/{id}/thumbnail", tag = "attachments",
    params(("id" = Uuid, Path), LinkQuery), security(("bearer" = []), ()),
    responses(
        (status = 200, description = "The thumbnail", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 403, description = "The link expired or is not signed right", body = ErrorBody),
        (status = 404, description = "No such attachment, or no thumbnail", body = ErrorBody),
        (status = 416, description = "The range is past the end", body = ErrorBody),
    ))]
pub(super) async fn thumbnail(
    id: Uuid,
    app: App,
    session: Option<Session>,
    link: LinkQuery,
    range: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
) -> Result<Response, Rejection> {
    Ok(fetch(app, id, Variant::Thumbnail, session, link, range, if_none_match)
        .await
        .unwrap_or_else(|e| refused(&e)))
}

/// A refusal about an attachment, sandboxed like the file would have been.
fn refused(error: &ApiError) -> Response {
    let mut response = error.to_response();
    serve::sandbox(response.headers_mut());
    response
}

#[allow(clippy::too_many_arguments)]
async fn fetch(
    app: App,
    id: Uuid,
    variant: Variant,
    session: Option<Session>,
    link: LinkQuery,
    range: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
) -> Result<Response, ApiError> {
    // A link's query, if there is one, is checked whatever else comes
    // with it: a bad link is refused, never quietly ignored.
    let viewer = match (session, link.exp.is_some() || link.sig.is_some()) {
        (Some(session), false) => Some(session.user_id),
        (None, false) => return Err(ApiError::Unauthorized),
        (_, true) => {
            let (Some(exp), Some(sig)) = (link.exp, link.sig) else {
                return Err(ApiError::Forbidden("a link needs both exp and sig".into()));
            };
            let now = app.clock.now().0 / 1_000_000;
            let expires = exp.parse::<i64>().unwrap_or(0);
            if !app.links.check(&id, variant, expires, &sig, now) {
                return Err(ApiError::Forbidden(
                    "the link has expired or is not signed right: fetch its message again".into(),
                ));
            }
            None
        }
    };
    let number = match variant {
        Variant::File => 0,
        Variant::Thumbnail => 1,
    };
    let found = app
        .db
        .run(move |conn| {
            let Some(stored) = attachments::find(conn, viewer.as_ref(), &id)? else {
                return Ok(None);
            };
            if number == 1 && stored.thumbnail_type.is_none() {
                return Ok(None);
            }
            let size = attachments::size(conn, stored.seq, number)?;
            Ok::<_, crate::domain::error::StoreError>(Some((stored, size)))
        })
        .await?;
    let (stored, size) = found.ok_or_else(|| ApiError::NotFound(format!("no attachment with id {id}")))?;
    let etag = format!("\"{id}-{number}\"");
    if if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        let mut response = warp::reply::with_status("", StatusCode::NOT_MODIFIED).into_response();
        serve::protect(response.headers_mut(), &etag);
        response.headers_mut().remove(header::CONTENT_TYPE);
        return Ok(response);
    }
    let size = u64::try_from(size).unwrap_or(0);
    serve::respond(&app, &stored, number, size, &etag, range.as_ref())
}
