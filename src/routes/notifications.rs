//! Notification levels: `PUT /channel/{id}/notifications`.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::channels;
use crate::domain::error::Refusal;
use crate::domain::notifications::{self, Level};
use crate::http::filters::{authenticated, with_app};
use crate::http::json;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Notifications {
    level: Level,
}

/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(set_level))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    r.route_with_id::<__path_set_level>("channel")
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(set_level)
        .boxed()
}

/// Sets what the caller is notified of in a channel.
#[utoipa::path(put, operation_id = "set_notification_level", path = "/channel/{id}/notifications", tag = "notifications", params(("id" = Uuid, Path)),
    request_body = Notifications,
    responses(
        (status = 204, description = "Set"),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn set_level(
    channel: Uuid,
    app: App,
    session: Session,
    body: Notifications,
) -> Result<Response, Rejection> {
    let user = session.user_id;
    app.db
        .run(move |conn| {
            let seen = channels::seen_or_not_found(conn, &user, &channel)?;
            notifications::set(conn, &user, &seen, body.level)?;
            Ok::<_, Refusal>(())
        })
        .await?;
    Ok(json::no_content())
}
