//! Accounts: `POST /user/register`, `PATCH /user/update`, `GET /user/self`,
//! `GET /user/{id}` and `GET /user` (the people on the server). (Signing in
//! and out is in `session`; statuses in `status`.)

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::config::Registration;
use crate::auth::sessions::{Scope, Session};
use crate::domain::names::{Password, UserName};
use crate::domain::users::{self, User};
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::http::server::ClientAddr;

/// Body of register.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewAccount {
    name: UserName,
    password: Password,
    /// An invitation's code: needed with `--registration invite`.
    #[serde(default)]
    invite: Option<String>,
}

/// Body of `PATCH /user/update`: absent (or null) fields stay as they are.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Update {
    name: Option<UserName>,
    password: Option<Password>,
}

/// What register and login answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenReply {
    /// The new bearer token.
    pub token: Uuid,
}

/// A user with their visible status, as `GET /user/...` shows them.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UserWithStatus)]
pub(super) struct WithStatus<'a> {
    #[serde(flatten)]
    user: &'a User,
    #[schema(value_type = crate::realtime::hub::OnlineStatus)]
    onlinestatus: &'static str,
}

impl<'a> WithStatus<'a> {
    /// `user`, with the status others see now.
    pub(super) fn of(app: &App, user: &'a User) -> WithStatus<'a> {
        WithStatus {
            user,
            onlinestatus: app.presence.visible(&user.id),
        }
    }
}

/// Register, update and the two user lookups.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, update, own, by_id, people))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let register = r
        .route::<__path_register>()
        .and(with_app(app))
        .and(warp::ext::get::<ClientAddr>())
        .and(json::body())
        .and_then(register);
    let update = r
        .route::<__path_update>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(update);
    let own = r
        .route::<__path_own>()
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(own);
    let by_id = r
        .route_with_id::<__path_by_id>("user")
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(by_id);
    let people = r
        .route::<__path_people>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(warp::query::<PeopleQuery>())
        .and_then(people);
    // The most asked first: the order changes what a request costs, never
    // which route takes it (each path is its own).
    own.or(by_id)
        .unify()
        .or(people)
        .unify()
        .or(update)
        .unify()
        .or(register)
        .unify()
        .boxed()
}

/// Creates an account, signed in.
#[utoipa::path(post, operation_id = "register", path = "/user/register", tag = "users", security(()), request_body = NewAccount,
    responses(
        (status = 201, description = "Registered; a new session", body = TokenReply),
        (status = 403, description = "Registration is closed, or needs an invitation this body lacks", body = crate::http::error::ErrorBody),
        (status = 409, description = "The name, or one that looks like it, is taken", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn register(
    app: App,
    client: ClientAddr,
    body: NewAccount,
) -> Result<Response, Rejection> {
    // The code is checked for real (and used up) with the insert; a
    // malformed one is refused here, before the hash.
    let invite = match app.registration {
        Registration::Closed => {
            return Err(ApiError::Forbidden("registration is closed on this server".into()).into());
        }
        Registration::Open => None,
        Registration::Invite => Some(
            body.invite
                .as_deref()
                .and_then(|code| Uuid::try_parse(code).ok())
                .ok_or_else(|| {
                    ApiError::Forbidden("registering here needs an invitation".into())
                })?,
        ),
    };
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
        .run(move |conn| users::register(conn, &body.name, &hash, invite.as_ref(), now))
        .await?;
    Ok(json::reply(StatusCode::CREATED, &TokenReply { token }))
}

/// Renames the caller or changes their password (which revokes their
/// other sessions).
#[utoipa::path(patch, operation_id = "update_user", path = "/user/update", tag = "users", request_body = Update,
    responses(
        (status = 200, description = "The user as updated", body = User),
        (status = 409, description = "The name, or one that looks like it, is taken", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn update(
    app: App,
    session: Session,
    body: Update,
) -> Result<Response, Rejection> {
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

/// The caller, with their visible status.
#[utoipa::path(get, operation_id = "get_self", path = "/user/self", tag = "users",
    responses((status = 200, description = "The caller", body = WithStatus)))]
pub(super) async fn own(app: App, session: Session) -> Result<Response, Rejection> {
    get(app, session.user_id).await
}

/// A user, with their visible status.
#[utoipa::path(get, operation_id = "get_user", path = "/user/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The user", body = WithStatus),
        (status = 404, description = "No such user", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn by_id(id: Uuid, app: App, _: Session) -> Result<Response, Rejection> {
    get(app, id).await
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

/// The query of `GET /user`, as given.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PeopleQuery {
    /// Only names that start with this, ignoring case and diacritics.
    #[param(value_type = Option<String>, max_length = 64)]
    q: Option<String>,
    /// How many, 100 if absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// Most people one answer lists, and the default.
const PEOPLE_LIMIT: usize = 100;

/// The people on the server, by name: for choosing whom to write to.
#[utoipa::path(get, operation_id = "list_users", path = "/user", tag = "users", params(PeopleQuery),
    responses(
        (status = 200, description = "The accounts, by name, ignoring case and diacritics", body = Vec<WithStatus>),
    ))]
pub(super) async fn people(app: App, _: Session, query: PeopleQuery) -> Result<Response, Rejection> {
    let prefix = query.q.unwrap_or_default();
    if prefix.chars().count() > crate::domain::unicode::USER_NAME_MAX {
        return Err(ApiError::BadRequest("q is longer than any name".into()).into());
    }
    let limit = match query.limit {
        None => PEOPLE_LIMIT,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=PEOPLE_LIMIT).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be from 1 to {PEOPLE_LIMIT}")))?,
    };
    let found = app
        .db
        .run(move |conn| users::people(conn, &prefix, limit))
        .await?;
    let reply: Vec<WithStatus<'_>> = found.iter().map(|u| WithStatus::of(&app, u)).collect();
    Ok(json::reply(StatusCode::OK, &reply))
}
