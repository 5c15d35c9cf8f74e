//! `POST /message/send`: through the single writer, durable before the
//! answer, published to every websocket after the commit.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::names::MessageContent;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;

#[derive(Deserialize)]
struct NewMessage {
    channel: Uuid,
    content: MessageContent,
}

/// The send route.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    warp::path!("message" / "send")
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(send)
        .boxed()
}

async fn send(app: App, session: Session, body: NewMessage) -> Result<Response, Rejection> {
    let message = app
        .writer
        .send(body.channel, session.user_id, body.content)
        .await?;
    Ok(json::reply(StatusCode::OK, &message))
}
