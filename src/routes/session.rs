//! Signing in and out: `POST /user/login` and `POST /user/logout`.

use serde::Deserialize;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::user::TokenReply;
use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::names::LoginName;
use crate::domain::{sessions, users};
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::http::server::ClientAddr;

/// Body of login. The name is checked only loosely (see [`LoginName`]),
/// so that names from before today's rules still sign in.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Credentials {
    name: LoginName,
    password: String,
}

/// Login and logout.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, logout))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let login = r
        .route::<__path_login>()
        .and(with_app(app))
        .and(warp::ext::get::<ClientAddr>())
        .and(json::body())
        .and_then(login);
    let logout = r
        .route::<__path_logout>()
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(logout);
    login.or(logout).unify().boxed()
}

/// Signs in: a new session.
#[utoipa::path(post, operation_id = "login", path = "/user/login", tag = "sessions", security(()), request_body = Credentials,
    responses(
        (status = 200, description = "A new session", body = super::user::TokenReply),
        (status = 403, description = "Wrong password", body = crate::http::error::ErrorBody),
        (status = 404, description = "No user of that name", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn login(
    app: App,
    client: ClientAddr,
    body: Credentials,
) -> Result<Response, Rejection> {
    let (address, now) = (client.0, app.clock.now());
    let throttled = ApiError::TooManyRequests;
    app.throttle.arrive(address, now).map_err(throttled)?;
    // Counted as a failure from here on, unless it succeeds.
    app.throttle.begin(address, now).map_err(throttled)?;
    let name = body.name.clone();
    let found = app
        .db
        .run(move |conn| users::credentials(conn, &name))
        .await?;
    let failed = |why: ApiError| {
        // One stable line per failure, for fail2ban and friends; the name
        // is at most 64 characters, escaped.
        tracing::warn!("login failed for {:?} from {address}", body.name.as_str());
        why
    };
    let Some((id, stored)) = found else {
        let why = format!("no user named {:?}", body.name.as_str());
        return Err(failed(ApiError::NotFound(why)).into());
    };
    app.throttle.against(address, id, now).map_err(throttled)?;
    match app.passwords.verify(body.password, stored).await {
        Ok(true) => {}
        Ok(false) => return Err(failed(ApiError::Forbidden("wrong password".into())).into()),
        Err(e) => {
            app.throttle.abandoned(address, id, now);
            return Err(e.into());
        }
    }
    app.throttle.succeeded(address, id, now);
    let now = app.clock.now();
    let token = app
        .db
        .run(move |conn| sessions::issue(conn, &id, now))
        .await?;
    Ok(json::reply(StatusCode::OK, &TokenReply { token }))
}

/// Revokes the presented token, and closes the websockets it opened.
#[utoipa::path(post, operation_id = "logout", path = "/user/logout", tag = "sessions",
    responses((status = 204, description = "Revoked")))]
pub(super) async fn logout(app: App, session: Session) -> Result<Response, Rejection> {
    app.sessions.revoke(session.token_hash).await?;
    Ok(json::no_content())
}
