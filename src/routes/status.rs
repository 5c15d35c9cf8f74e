//! `POST /user/status/set`: what others see of the caller's presence.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::realtime::presence::Status;

/// Body of `POST /user/status/set`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct SetStatus {
    status: Status,
}

/// What it answers: the same as a `Status` event.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct StatusReply {
    user: Uuid,
    #[schema(value_type = crate::realtime::hub::OnlineStatus)]
    onlinestatus: &'static str,
}

/// The status route.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(set_status))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    r.route::<__path_set_status>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(set_status)
        .boxed()
}

/// Sets what others see of the caller.
#[utoipa::path(post, operation_id = "set_status", path = "/user/status/set", tag = "users", request_body = SetStatus,
    responses(
        (status = 200, description = "The status as others now see it", body = StatusReply),
    ))]
pub(super) async fn set_status(
    app: App,
    session: Session,
    body: SetStatus,
) -> Result<Response, Rejection> {
    let charge = || app.signal_rate.take(session.user_id, app.clock.now());
    let onlinestatus = app
        .presence
        .set(session.user_id, body.status, &app.hub, charge)
        .ok_or_else(|| {
            ApiError::BadRequest("set a status over an authenticated websocket connection".into())
        })?
        .map_err(ApiError::TooManyRequests)?;
    let reply = StatusReply {
        user: session.user_id,
        onlinestatus,
    };
    Ok(json::reply(StatusCode::OK, &reply))
}
