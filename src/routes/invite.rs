//! Invitations: `POST /invite` makes a one-use code that registers one
//! account on a server with `--registration invite`.

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::clock::Timestamp;
use crate::domain::invites;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;

/// A new invitation.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Invitation {
    /// The code, for `invite` in `POST /user/register`.
    code: String,
    /// When it stops working, if unused.
    expires_at: Timestamp,
}

/// Invitations.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(invite))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    r.route::<__path_invite>()
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(invite)
        .boxed()
}

/// Makes an invitation: one use, valid 7 days; at most 10 per user per
/// hour.
#[utoipa::path(post, operation_id = "invite", path = "/invite", tag = "users",
    responses(
        (status = 201, description = "The invitation", body = Invitation),
        (status = 429, description = "Ten this hour already", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn invite(app: App, session: Session) -> Result<Response, Rejection> {
    let now = app.clock.now();
    let by = session.user_id;
    let made = app
        .db
        .run(move |conn| invites::create(conn, Some(&by), now))
        .await?;
    let reply = Invitation {
        code: made.code.simple().to_string(),
        expires_at: made.expires_at,
    };
    Ok(json::reply(StatusCode::CREATED, &reply))
}
