//! Accounts: `POST /user/register`, `PATCH /user/update`, `GET /user/self`
//! and `GET /user/{id}`. (Signing in and out is in `session`; statuses in
//! `status`.)

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::app::App;
use crate::auth::sessions::{Scope, Session};
use crate::domain::names::{Password, UserName};
use crate::domain::users::{self, User};
use crate::http::error::ApiError;
use crate::http::filters::{self, authenticated, id, with_app};
use crate::http::json;
use crate::http::server::ClientAddr;

/// Body of register.
#[derive(Deserialize)]
struct NewAccount {
    name: UserName,
    password: Password,
}

/// Body of `PATCH /user/update`: absent (or null) fields stay as they are.
#[derive(Deserialize)]
struct Update {
    name: Option<UserName>,
    password: Option<Password>,
}

/// What register and login answer.
#[derive(Serialize)]
pub struct TokenReply {
    /// The new bearer token.
    pub token: Uuid,
}

/// A user with their visible status, as `GET /user/...` shows them.
#[derive(Serialize)]
struct WithStatus<'a> {
    #[serde(flatten)]
    user: &'a User,
    onlinestatus: &'static str,
}

/// The fixed names beside `/user/{id}`, which are never ids.
const FIXED: &[&str] = &["register", "login", "logout", "update", "self", "status"];

/// Register, update and the two user lookups.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let register = warp::path!("user" / "register")
        .and(warp::post())
        .and(with_app(app))
        .and(warp::ext::get::<ClientAddr>())
        .and(json::body())
        .and_then(register);
    let update = warp::path!("user" / "update")
        .and(warp::patch())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(update);
    let own = warp::path!("user" / "self")
        .and(filters::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(|app: App, session: Session| get(app, session.user_id));
    let by_id = warp::path("user")
        .and(id("user", FIXED))
        .and(warp::path::end())
        .and(filters::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(|id: Uuid, app: App, _: Session| get(app, id));
    register
        .or(update)
        .unify()
        .or(own)
        .unify()
        .or(by_id)
        .unify()
        .boxed()
}

async fn register(app: App, client: ClientAddr, body: NewAccount) -> Result<Response, Rejection> {
    if !app.registration_open {
        return Err(ApiError::Forbidden("registration is closed on this server".into()).into());
    }
    app.throttle
        .arrive(client.0, app.clock.now())
        .map_err(ApiError::TooManyRequests)?;
    // Refuse a taken name before paying for a hash; the insert still
    // catches a concurrent registration of the same name.
    let name = body.name.clone();
    if app
        .db
        .run(move |conn| users::name_taken(conn, &name))
        .await?
    {
        return Err(users::taken(body.name.as_str()).into());
    }
    let hash = app.passwords.hash(body.password).await?;
    let now = app.clock.now();
    let token = app
        .db
        .run(move |conn| users::register(conn, &body.name, &hash, now))
        .await?;
    Ok(json::reply(StatusCode::CREATED, &TokenReply { token }))
}

async fn update(app: App, session: Session, body: Update) -> Result<Response, Rejection> {
    let hash = match body.password {
        Some(password) => Some(app.passwords.hash(password).await?),
        None => None,
    };
    let password_changed = hash.is_some();
    let Session {
        user_id,
        token_hash: keep,
    } = session;
    let user = app
        .db
        .run(move |conn| users::update(conn, &user_id, body.name.as_ref(), hash.as_deref(), &keep))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if password_changed {
        app.sessions.forget(Scope::OthersOf {
            user: &user_id,
            keep: &keep,
        });
    }
    app.users.changed(&user);
    Ok(json::reply(StatusCode::OK, &user))
}

async fn get(app: App, id: Uuid) -> Result<Response, Rejection> {
    let user = match app.users.get(&id) {
        Ok(user) => user,
        Err(read) => {
            let user = app.db.run(move |conn| users::load(conn, &id)).await?;
            let user = user.ok_or_else(|| ApiError::NotFound(format!("no user with id {id}")))?;
            app.users.remember_read(&user, read);
            user
        }
    };
    let reply = WithStatus {
        user: &user,
        onlinestatus: app.presence.visible(&id),
    };
    Ok(json::reply(StatusCode::OK, &reply))
}
