//! Read markers: `POST /channel/{id}/read` and `GET /user/self/unread`.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::markers;
use crate::http::filters::{self, authenticated, id, with_app};
use crate::http::json;

#[derive(Deserialize)]
struct Read {
    message: Uuid,
}

/// Marking read, and the unread counts.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let read = warp::path("channel")
        .and(id("channel", &[]))
        .and(warp::path("read"))
        .and(warp::path::end())
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(read);
    let unread = warp::path!("user" / "self" / "unread")
        .and(filters::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(unread);
    read.or(unread).unify().boxed()
}

async fn read(
    channel: Uuid,
    app: App,
    session: Session,
    body: Read,
) -> Result<Response, Rejection> {
    app.writer
        .mark_read(session.user_id, channel, body.message)
        .await?;
    Ok(json::no_content())
}

async fn unread(app: App, session: Session) -> Result<Response, Rejection> {
    let user = session.user_id;
    let counts = app.db.run(move |conn| markers::unread(conn, &user)).await?;
    Ok(json::reply(StatusCode::OK, &counts))
}
