//! Messages: `POST /message/send`, and `GET`, `PATCH` and `DELETE
//! /message/{id}`. Writes go through the single writer: durable before the
//! answer, published to the websockets after the commit.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::attachments::MAX_PER_MESSAGE;
use crate::domain::messages;
use crate::domain::names::MessageContent;
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::writer::writes;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewMessage {
    channel: Uuid,
    /// 1–4000 characters; may be empty with attachments.
    content: String,
    /// 1 to 10 of the caller's unused uploads.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 10)]
    attachments: Option<Vec<Uuid>>,
}

impl NewMessage {
    /// The content and the attachments, checked.
    fn parse(self) -> Result<(MessageContent, Vec<Uuid>), ApiError> {
        let invalid = |e: crate::domain::names::Invalid| ApiError::BadRequest(e.0);
        match self.attachments {
            None => Ok((MessageContent::try_from(self.content).map_err(invalid)?, Vec::new())),
            Some(ids) => {
                if !(1..=MAX_PER_MESSAGE).contains(&ids.len()) {
                    return Err(ApiError::BadRequest(format!(
                        "attachments must name 1 to {MAX_PER_MESSAGE} uploads"
                    )));
                }
                let mut unique = ids.clone();
                unique.sort_unstable();
                unique.dedup();
                if unique.len() != ids.len() {
                    return Err(ApiError::BadRequest("an attachment is named twice".into()));
                }
                let content = MessageContent::beside_attachments(self.content).map_err(invalid)?;
                Ok((content, ids))
            }
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Edit {
    content: MessageContent,
}

/// Send, and the routes of one message.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(send, get, edit, delete))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let send = r
        .route::<__path_send>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(send);
    let get = r
        .route_with_id::<__path_get>("message")
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(get);
    let edit = r
        .route_with_id::<__path_edit>("message")
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(edit);
    let delete = r
        .route_with_id::<__path_delete>("message")
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

/// Sends a message: durable before the answer, then pushed to every
/// authenticated websocket.
#[utoipa::path(post, operation_id = "send_message", path = "/message/send", tag = "messages", request_body = NewMessage,
    responses(
        (status = 200, description = "The message as stored", body = messages::Message),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn send(
    app: App,
    session: Session,
    body: NewMessage,
) -> Result<Response, Rejection> {
    let channel = body.channel;
    let (content, attachments) = body.parse()?;
    let write = writes::SendMessage {
        channel,
        author: session.user_id,
        content,
        attachments,
    };
    let sent = app.writer.submit(write).await?;
    Ok(json::reply(StatusCode::OK, &sent.message))
}

/// One message.
#[utoipa::path(get, operation_id = "get_message", path = "/message/{id}", tag = "messages", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The message", body = messages::Message),
        (status = 404, description = "No such message, or deleted", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn get(id: Uuid, app: App, session: Session) -> Result<Response, Rejection> {
    let viewer = session.user_id;
    let message = app
        .db
        .run(move |conn| messages::load(conn, &viewer, &id))
        .await?;
    let mut message = message.ok_or_else(|| messages::not_found(&id))?;
    messages::sign_all([&mut message], &app.links, app.clock.now());
    Ok(json::reply(StatusCode::OK, &message))
}

/// Replaces a message's content (its author only).
#[utoipa::path(patch, operation_id = "edit_message", path = "/message/{id}", tag = "messages", params(("id" = Uuid, Path)),
    request_body = Edit,
    responses(
        (status = 200, description = "The message as edited", body = messages::Message),
        (status = 403, description = "The caller did not write it", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such message, or deleted", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn edit(
    id: Uuid,
    app: App,
    session: Session,
    body: Edit,
) -> Result<Response, Rejection> {
    edit_budget(&app, &session)?;
    let write = writes::Edit {
        id,
        by: session.user_id,
        content: body.content,
    };
    let message = app.writer.submit(write).await?;
    Ok(json::reply(StatusCode::OK, &message))
}

/// Deletes a message (its author or the channel's owner); its id stays a
/// valid history cursor.
#[utoipa::path(delete, operation_id = "delete_message", path = "/message/{id}", tag = "messages", params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither its author nor the channel's owner", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such message, or deleted already", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn delete(id: Uuid, app: App, session: Session) -> Result<Response, Rejection> {
    edit_budget(&app, &session)?;
    let write = writes::DeleteMessage {
        id,
        by: session.user_id,
    };
    app.writer.submit(write).await?;
    Ok(json::no_content())
}

/// Counts an edit or delete against the user's budget: each rewrites the
/// search index, several sends' worth of work for the writer that everyone
/// shares.
fn edit_budget(app: &App, session: &Session) -> Result<(), ApiError> {
    app.edit_rate
        .take(session.user_id, app.clock.now())
        .map_err(ApiError::TooManyRequests)
}
