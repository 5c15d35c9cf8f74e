//! Read markers: `POST /channel/{id}/read` and `GET /user/self/unread`.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::markers;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::writer::writes;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Read {
    message: Uuid,
}

/// Marking read, and the unread counts.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(read, unread))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let read = r
        .route_with_id::<__path_read>("channel")
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(read);
    let unread = r
        .route::<__path_unread>()
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(unread);
    read.or(unread).unify().boxed()
}

/// Moves the caller's read marker forward to a message of the channel.
#[utoipa::path(post, operation_id = "mark_read", path = "/channel/{id}/read", tag = "read markers", params(("id" = Uuid, Path)),
    request_body = Read,
    responses(
        (status = 204, description = "The marker is there, or further on"),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn read(
    channel: Uuid,
    app: App,
    session: Session,
    body: Read,
) -> Result<Response, Rejection> {
    let write = writes::MarkRead {
        user: session.user_id,
        channel,
        message: body.message,
    };
    app.writer.submit(write).await?;
    Ok(json::no_content())
}

/// Unread counts, one per channel, in the order of `GET /channel`.
#[utoipa::path(get, operation_id = "unread_counts", path = "/user/self/unread", tag = "read markers",
    responses((status = 200, description = "One entry per channel", body = Vec<markers::Unread>)))]
pub(super) async fn unread(app: App, session: Session) -> Result<Response, Rejection> {
    let user = session.user_id;
    let counts = app.db.run(move |conn| markers::unread(conn, &user)).await?;
    Ok(json::reply(StatusCode::OK, &counts))
}
