//! Messages: `POST /message/send`, and `GET`, `PATCH` and `DELETE
//! /message/{id}`. Writes go through the single writer: durable before the
//! answer, published to the websockets after the commit.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::messages;
use crate::domain::names::MessageContent;
use crate::http::filters::{self, authenticated, id, with_app};
use crate::http::json;

#[derive(Deserialize)]
struct NewMessage {
    channel: Uuid,
    content: MessageContent,
}

#[derive(Deserialize)]
struct Edit {
    content: MessageContent,
}

/// The fixed names beside `/message/{id}`, which are never ids.
const FIXED: &[&str] = &["send", "search"];

/// Send, and the routes of one message.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let send = warp::path!("message" / "send")
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(send);
    let one = || {
        warp::path("message")
            .and(id("message", FIXED))
            .and(warp::path::end())
    };
    let get = one()
        .and(filters::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(get);
    let edit = one()
        .and(warp::patch())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(edit);
    let delete = one()
        .and(warp::delete())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(delete);
    send.or(get)
        .unify()
        .or(edit)
        .unify()
        .or(delete)
        .unify()
        .boxed()
}

async fn send(app: App, session: Session, body: NewMessage) -> Result<Response, Rejection> {
    let message = app
        .writer
        .send(body.channel, session.user_id, body.content)
        .await?;
    Ok(json::reply(StatusCode::OK, &message))
}

async fn get(id: Uuid, app: App, _: Session) -> Result<Response, Rejection> {
    let message = app.db.run(move |conn| messages::load(conn, &id)).await?;
    let message = message.ok_or_else(|| messages::not_found(&id))?;
    Ok(json::reply(StatusCode::OK, &message))
}

async fn edit(id: Uuid, app: App, session: Session, body: Edit) -> Result<Response, Rejection> {
    let message = app.writer.edit(id, session.user_id, body.content).await?;
    Ok(json::reply(StatusCode::OK, &message))
}

async fn delete(id: Uuid, app: App, session: Session) -> Result<Response, Rejection> {
    app.writer.delete_message(id, session.user_id).await?;
    Ok(json::no_content())
}
