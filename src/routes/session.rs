//! Signing in and out: `POST /user/login` and `POST /user/logout`.

use serde::Deserialize;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::user::TokenReply;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::{sessions, users};
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::http::server::ClientAddr;

/// Body of login: taken as given, so that names from before today's rules
/// still sign in.
#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

/// Login and logout.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let login = warp::path!("user" / "login")
        .and(warp::post())
        .and(with_app(app))
        .and(warp::ext::optional::<ClientAddr>())
        .and(json::body())
        .and_then(login);
    let logout = warp::path!("user" / "logout")
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(logout);
    login.or(logout).unify().boxed()
}

async fn login(
    app: App,
    client: Option<ClientAddr>,
    body: Credentials,
) -> Result<Response, Rejection> {
    let now = app.clock.now();
    let address = client.map(|c| c.0.ip());
    if let Some(address) = address {
        app.throttle
            .check_address(address, now)
            .map_err(ApiError::TooManyRequests)?;
    }
    let name = body.name.clone();
    let found = app
        .db
        .run(move |conn| users::credentials(conn, &name))
        .await?;
    let (account, checked) = match found {
        None => (
            None,
            Err(ApiError::NotFound(format!("no user named {:?}", body.name))),
        ),
        Some((id, stored)) => {
            app.throttle
                .check_account(id, now)
                .map_err(ApiError::TooManyRequests)?;
            let checked = match app.passwords.verify(body.password, stored).await? {
                true => Ok(id),
                false => Err(ApiError::Forbidden("wrong password".into())),
            };
            (Some(id), checked)
        }
    };
    let id = checked.inspect_err(|_| {
        if let Some(address) = address {
            app.throttle.failed(address, account, now);
        }
        // One stable line per failure, for fail2ban and friends.
        let client = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        tracing::warn!("login failed for {:?} from {client}", body.name);
    })?;
    app.throttle.succeeded(id);
    let now = app.clock.now();
    let token = app
        .db
        .run(move |conn| sessions::issue(conn, &id, now))
        .await?;
    Ok(json::reply(StatusCode::OK, &TokenReply { token }))
}

async fn logout(app: App, session: Session) -> Result<Response, Rejection> {
    app.sessions.revoke(session.token_hash).await?;
    Ok(json::no_content())
}
