//! A private channel's members: `GET` and `POST /channel/{id}/members`,
//! `DELETE /channel/{id}/members/{user}`; and `POST /direct`, which opens
//! the direct conversation of a set of people.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use super::user::WithStatus;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::channels::{self, Kind};
use crate::domain::error::Refusal;
use crate::domain::members::{self, MAX_DIRECT};
use crate::domain::users;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::writer::channels as writes;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewMember {
    user: Uuid,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewDirect {
    /// The other people: 1 to 8 accounts.
    #[schema(min_items = 1, max_items = 8)]
    users: Vec<Uuid>,
}

/// Members and direct conversations.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, add, remove, direct))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let list = r
        .route_with_id::<__path_list>("channel")
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(list);
    let add = r
        .route_with_id::<__path_add>("channel")
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(add);
    let remove = r
        .route_with_ids::<__path_remove>(["channel", "user"])
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(remove);
    let direct = r
        .route::<__path_direct>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(direct);
    list.or(add)
        .unify()
        .or(remove)
        .unify()
        .or(direct)
        .unify()
        .boxed()
}

/// The members of a private or direct channel, oldest first.
#[utoipa::path(get, operation_id = "list_members", path = "/channel/{id}/members", tag = "members", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The members, oldest first", body = Vec<WithStatus>),
        (status = 400, description = "A public channel has no member list", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    ))]
pub(super) async fn list(id: Uuid, app: App, session: Session) -> Result<Response, Rejection> {
    let viewer = session.user_id;
    let people = app
        .db
        .run(move |conn| {
            let channel = channels::seen_or_not_found(conn, &viewer, &id)?;
            if channel.kind == Kind::Public {
                return Err(Refusal::Invalid(
                    "a public channel has no member list".into(),
                ));
            }
            let mut people = Vec::new();
            for member in members::of(conn, channel.seq)? {
                // An account removed since stays a member, unlisted.
                people.extend(users::load(conn, &member)?);
            }
            Ok(people)
        })
        .await?;
    let reply: Vec<WithStatus<'_>> = people.iter().map(|u| WithStatus::of(&app, u)).collect();
    Ok(json::reply(StatusCode::OK, &reply))
}

/// Adds someone to a private channel the caller is in.
#[utoipa::path(post, operation_id = "add_member", path = "/channel/{id}/members", tag = "members", params(("id" = Uuid, Path)),
    request_body = NewMember,
    responses(
        (status = 204, description = "They are a member"),
        (status = 400, description = "Not a private channel, or an unknown user", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    ))]
pub(super) async fn add(
    channel: Uuid,
    app: App,
    session: Session,
    body: NewMember,
) -> Result<Response, Rejection> {
    let write = writes::AddMember {
        channel,
        by: session.user_id,
        user: body.user,
    };
    app.writer.submit(write).await?;
    Ok(json::no_content())
}

/// Removes someone from a private channel: oneself (leaving), or anyone
/// if the caller owns it.
#[utoipa::path(delete, operation_id = "remove_member", path = "/channel/{id}/members/{user}", tag = "members",
    params(("id" = Uuid, Path), ("user" = Uuid, Path)),
    responses(
        (status = 204, description = "They are not a member"),
        (status = 400, description = "Not a private channel", body = ErrorBody),
        (status = 403, description = "Only the owner removes someone else", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    ))]
pub(super) async fn remove(
    channel: Uuid,
    user: Uuid,
    app: App,
    session: Session,
) -> Result<Response, Rejection> {
    let write = writes::RemoveMember {
        channel,
        by: session.user_id,
        user,
    };
    app.writer.submit(write).await?;
    Ok(json::no_content())
}

/// Opens the direct conversation of the caller and these people: the one
/// there is, or a new one.
#[utoipa::path(post, operation_id = "open_direct", path = "/direct", tag = "members", request_body = NewDirect,
    responses(
        (status = 200, description = "Their conversation", body = channels::Channel),
        (status = 201, description = "Their new conversation", body = channels::Channel),
        (status = 400, description = "No one else, more than 8, or an unknown user", body = ErrorBody),
    ))]
pub(super) async fn direct(
    app: App,
    session: Session,
    body: NewDirect,
) -> Result<Response, Rejection> {
    let by = session.user_id;
    let mut others: Vec<Uuid> = Vec::new();
    for id in body.users {
        if id != by && !others.contains(&id) {
            others.push(id);
        }
        if others.len() > MAX_DIRECT {
            break;
        }
    }
    if !(1..=MAX_DIRECT).contains(&others.len()) {
        return Err(ApiError::BadRequest(format!(
            "users must name 1 to {MAX_DIRECT} other accounts"
        ))
        .into());
    }
    let opened = app.writer.submit(writes::OpenDirect { by, others }).await?;
    let status = if opened.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json::reply(status, &opened.channel))
}
