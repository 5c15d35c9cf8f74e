//! Channels: `POST /channel`, `GET /channel`, `GET /channel/{id}` and
//! `DELETE /channel`. (A channel's history is in `history`.)

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::channels::{self, Channel, Kind};
use crate::domain::members::MAX_MEMBERS;
use crate::domain::names::{ChannelName, Description};
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::writer::channels as writes;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewChannel {
    name: ChannelName,
    #[serde(default)]
    description: Description,
    /// `public` (the default) or `private`.
    #[serde(default)]
    kind: Option<Kind>,
    /// A private channel's members besides its creator.
    #[serde(default)]
    #[schema(max_items = 256)]
    members: Option<Vec<Uuid>>,
}

impl NewChannel {
    /// The kind asked for, and the members of a private channel: `owner`
    /// first, then the others once each.
    fn membership(&self, owner: Uuid) -> Result<(Kind, Option<Vec<Uuid>>), ApiError> {
        let kind = self.kind.unwrap_or(Kind::Public);
        let given = self.members.as_deref().unwrap_or_default();
        match kind {
            Kind::Direct => Err(ApiError::BadRequest(
                "a direct conversation is opened with POST /direct".into(),
            )),
            Kind::Public if !given.is_empty() => Err(ApiError::BadRequest(
                "only a private channel has members".into(),
            )),
            Kind::Public => Ok((kind, None)),
            Kind::Private => {
                let mut members = vec![owner];
                for id in given {
                    if !members.contains(id) {
                        members.push(*id);
                    }
                }
                if members.len() > MAX_MEMBERS {
                    return Err(ApiError::BadRequest(format!(
                        "a private channel has at most {MAX_MEMBERS} members"
                    )));
                }
                Ok((kind, Some(members)))
            }
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct DeleteChannel {
    id: Uuid,
}

/// Every `/channel` route but the history.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, get, delete))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let create = r
        .route::<__path_create>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(create);
    let list = r
        .route::<__path_list>()
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(list);
    let delete = r
        .route::<__path_delete>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(delete);
    let get = r
        .route_with_id::<__path_get>("channel")
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(get);
    create
        .or(list)
        .unify()
        .or(delete)
        .unify()
        .or(get)
        .unify()
        .boxed()
}

/// Creates a channel the caller owns.
#[utoipa::path(post, operation_id = "create_channel", path = "/channel", tag = "channels", request_body = NewChannel,
    responses(
        (status = 201, description = "The new channel", body = Channel),
        (status = 400, description = "A direct kind, members of a public channel, too many members or an unknown one", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn create(
    app: App,
    session: Session,
    body: NewChannel,
) -> Result<Response, Rejection> {
    let (kind, members) = body.membership(session.user_id)?;
    let now = app.clock.now();
    app.channel_rate
        .take(session.user_id, now)
        .map_err(ApiError::TooManyRequests)?;
    let channel = Channel {
        id: Uuid::new_v4(),
        name: body.name.into_string(),
        description: body.description.into_option(),
        owner: session.user_id,
        created_at: now,
        kind,
        members,
    };
    let channel = app
        .writer
        .submit(writes::CreateChannel {
            channel,
            most: app.channels_per_user,
        })
        .await?;
    Ok(json::reply(StatusCode::CREATED, &channel))
}

/// Every channel the caller may see, oldest first.
#[utoipa::path(get, operation_id = "list_channels", path = "/channel", tag = "channels",
    responses((status = 200, description = "Every channel the caller may see, oldest first", body = Vec<Channel>)))]
pub(super) async fn list(app: App, session: Session) -> Result<Response, Rejection> {
    let viewer = session.user_id;
    let channels = app
        .db
        .run(move |conn| channels::list(conn, &viewer))
        .await?;
    Ok(json::reply(StatusCode::OK, &channels))
}

/// One channel.
#[utoipa::path(get, operation_id = "get_channel", path = "/channel/{id}", tag = "channels", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The channel", body = Channel),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn get(id: Uuid, app: App, session: Session) -> Result<Response, Rejection> {
    let viewer = session.user_id;
    let channel = app
        .db
        .run(move |conn| channels::load(conn, &viewer, &id))
        .await?;
    let channel = channel.ok_or_else(|| channels::not_found(&id))?;
    Ok(json::reply(StatusCode::OK, &channel))
}

/// Deletes a channel the caller owns, with its messages.
#[utoipa::path(delete, operation_id = "delete_channel", path = "/channel", tag = "channels", request_body = DeleteChannel,
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller does not own it, or it is a direct conversation", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn delete(
    app: App,
    session: Session,
    body: DeleteChannel,
) -> Result<Response, Rejection> {
    let write = writes::DeleteChannel {
        id: body.id,
        by: session.user_id,
    };
    app.writer.submit(write).await?;
    Ok(json::no_content())
}
