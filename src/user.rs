//! Accounts: `POST /user/register`, `POST /user/login`, `POST /user/logout`,
//! `PATCH /user/update`, `GET /user/self` and `GET /user/{id}`.

use std::collections::HashMap;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::clock::Timestamp;
use crate::db::is_unique_violation;
use crate::error::ApiError;
use crate::presence::Status;
use crate::server::ClientAddr;
use crate::session::{self, Session, TokenHash, authenticated};
use crate::{App, json, lock, parse_id, with_app};

/// A user as the API shows it.
#[derive(Debug, Serialize)]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// The unique name.
    pub name: String,
    /// When the account was registered.
    pub created_at: Timestamp,
    /// Present on `GET /user/self` and `GET /user/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onlinestatus: Option<&'static str>,
}

/// Body of register and login.
#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

/// Body of `POST /user/status/set`.
#[derive(Deserialize)]
struct SetStatus {
    status: Status,
}

/// What `POST /user/status/set` answers: the same as a `Status` event.
#[derive(Serialize)]
struct StatusReply {
    user: Uuid,
    onlinestatus: &'static str,
}

/// Body of `PATCH /user/update`: absent (or null) fields stay as they are.
#[derive(Deserialize)]
struct Update {
    name: Option<String>,
    password: Option<String>,
}

#[derive(Serialize)]
struct TokenReply {
    token: Uuid,
}

/// The fixed names beside `/user/{id}`, which are never ids.
const FIXED: [&str; 6] = ["register", "login", "logout", "update", "self", "status"];

/// Every `/user/...` route.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let register = warp::path!("user" / "register")
        .and(warp::post())
        .and(with_app(app))
        .and(json::body())
        .and_then(register);
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
    let update = warp::path!("user" / "update")
        .and(warp::patch())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(update);
    let status = warp::path!("user" / "status" / "set")
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(set_status);
    let own = warp::path!("user" / "self")
        .and(warp::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(|app: App, session: Session| get(app, session.user_id));
    let by_id = warp::path("user")
        .and(id_segment())
        .and(warp::path::end())
        .and(warp::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(|id: String, app: App, _: Session| async move {
            get(app, parse_id(&id, "user")?).await
        });
    register
        .or(login)
        .unify()
        .or(logout)
        .unify()
        .or(update)
        .unify()
        .or(status)
        .unify()
        .or(own)
        .unify()
        .or(by_id)
        .unify()
        .boxed()
}

/// The `{id}` of `/user/{id}`: any segment but the fixed names, so that a
/// wrong method on a fixed path is a 405 rather than a malformed id.
fn id_segment() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::path::param::<String>().and_then(|segment: String| async move {
        if FIXED.contains(&segment.as_str()) {
            Err(warp::reject::not_found())
        } else {
            Ok(segment)
        }
    })
}

async fn register(app: App, body: Credentials) -> Result<Response, Rejection> {
    if !app.registration_open {
        return Err(ApiError::Forbidden("registration is closed on this server".into()).into());
    }
    check_name(&body.name)?;
    check_password(&body.password)?;
    // Refuse a taken name before paying for a hash; the insert still
    // catches a concurrent registration of the same name.
    let name = body.name.clone();
    if app.db.run(move |conn| name_taken(conn, &name)).await? {
        return Err(taken(&body.name).into());
    }
    let hash = app.passwords.hash(body.password).await?;
    let now = app.clock.now();
    let token = app
        .db
        .run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = insert(&tx, &body.name, &hash, now)?;
            let token = session::issue(&tx, &id, now)?;
            tx.commit()?;
            Ok(token)
        })
        .await?;
    Ok(json::reply(StatusCode::CREATED, &TokenReply { token }))
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
        .run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, password FROM users WHERE name = ?1",
                    [&name],
                    |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?)
        })
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
        .run(move |conn| Ok(session::issue(conn, &id, now)?))
        .await?;
    Ok(json::reply(StatusCode::OK, &TokenReply { token }))
}

async fn logout(app: App, session: Session) -> Result<Response, Rejection> {
    let token = session.token_hash;
    app.db
        .run(move |conn| Ok(session::revoke(conn, &token)?))
        .await?;
    app.sessions.revoke(&token);
    app.connections.revoke_token(&token);
    Ok(json::no_content())
}

async fn set_status(app: App, session: Session, body: SetStatus) -> Result<Response, Rejection> {
    let onlinestatus = app
        .presence
        .set(session.user_id, body.status, &app.hub)
        .ok_or_else(|| {
            ApiError::BadRequest("set a status over an authenticated websocket connection".into())
        })?;
    let reply = StatusReply {
        user: session.user_id,
        onlinestatus,
    };
    Ok(json::reply(StatusCode::OK, &reply))
}

async fn update(app: App, session: Session, body: Update) -> Result<Response, Rejection> {
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    let hash = match body.password {
        Some(password) => {
            check_password(&password)?;
            Some(app.passwords.hash(password).await?)
        }
        None => None,
    };
    let name = body.name;
    let password_changed = hash.is_some();
    let (user_id, keep) = (session.user_id, session.token_hash);
    let user = app
        .db
        .run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(name) = &name {
                tx.execute(
                    "UPDATE users SET name = ?2 WHERE id = ?1",
                    params![session.user_id, name],
                )
                .map_err(|e| unique_or(e, name))?;
            }
            if let Some(hash) = &hash {
                set_password(&tx, &session.user_id, hash, Some(&session.token_hash))?;
            }
            let user = load(&tx, &session.user_id)?.ok_or(ApiError::Unauthorized)?;
            tx.commit()?;
            Ok(user)
        })
        .await?;
    if password_changed {
        app.sessions.revoke_others(&user_id, &keep);
        app.connections.revoke_user_except(&user_id, &keep);
    }
    app.users.remember(&user);
    Ok(json::reply(StatusCode::OK, &user))
}

async fn get(app: App, id: Uuid) -> Result<Response, Rejection> {
    let mut user = match app.users.get(&id) {
        Some(user) => user,
        None => {
            let user = app.db.run(move |conn| Ok(load(conn, &id)?)).await?;
            let user = user.ok_or_else(|| ApiError::NotFound(format!("no user with id {id}")))?;
            app.users.remember(&user);
            user
        }
    };
    user.onlinestatus = Some(app.presence.visible(&id));
    Ok(json::reply(StatusCode::OK, &user))
}

/// Users seen since start, in memory: `GET /user/self` and `/user/{id}`
/// read no database. Renames update it; removals by another process clear
/// it (see `session::maintain`).
#[derive(Default)]
pub struct Users {
    by_id: Mutex<HashMap<Uuid, (String, Timestamp)>>,
}

impl Users {
    fn get(&self, id: &Uuid) -> Option<User> {
        lock(&self.by_id).get(id).map(|(name, created_at)| User {
            id: *id,
            name: name.clone(),
            created_at: *created_at,
            onlinestatus: None,
        })
    }

    fn remember(&self, user: &User) {
        lock(&self.by_id).insert(user.id, (user.name.clone(), user.created_at));
    }

    /// Forgets everyone: another process changed accounts.
    pub fn forget_all(&self) {
        lock(&self.by_id).clear();
    }
}

/// Creates an account; its name must be free.
pub(crate) fn insert(
    conn: &Connection,
    name: &str,
    hash: &str,
    now: Timestamp,
) -> Result<Uuid, ApiError> {
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO users (id, name, password, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, hash, now.0],
    )
    .map_err(|e| unique_or(e, name))?;
    Ok(id)
}

/// Stores a new password hash and revokes every session of the user but
/// `keep`.
pub(crate) fn set_password(
    conn: &Connection,
    id: &Uuid,
    hash: &str,
    keep: Option<&TokenHash>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password = ?2 WHERE id = ?1",
        params![id, hash],
    )?;
    session::revoke_all_but(conn, id, keep)
}

/// The user with `id`, if any.
pub fn load(conn: &Connection, id: &Uuid) -> rusqlite::Result<Option<User>> {
    conn.prepare_cached("SELECT name, created_at FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(User {
                id: *id,
                name: r.get(0)?,
                created_at: Timestamp(r.get(1)?),
                onlinestatus: None,
            })
        })
        .optional()
}

fn name_taken(conn: &Connection, name: &str) -> Result<bool, ApiError> {
    Ok(conn
        .query_row("SELECT 1 FROM users WHERE name = ?1", [name], |_| Ok(()))
        .optional()?
        .is_some())
}

fn taken(name: &str) -> ApiError {
    ApiError::AlreadyExists(format!("the name {name:?} is taken"))
}

/// A unique violation on the name is a 409; anything else is what it is.
fn unique_or(e: rusqlite::Error, name: &str) -> ApiError {
    if is_unique_violation(&e) {
        taken(name)
    } else {
        e.into()
    }
}

/// 1–64 characters, no control characters, no surrounding whitespace.
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    let bad = |why: &str| Err(ApiError::BadRequest(format!("name {why}")));
    let count = name.chars().count();
    if count == 0 {
        return bad("must not be empty");
    }
    if count > 64 {
        return bad("must be at most 64 characters");
    }
    if name.chars().any(char::is_control) {
        return bad("must not contain control characters");
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return bad("must not start or end with whitespace");
    }
    Ok(())
}

/// 1–1024 bytes.
pub(crate) fn check_password(password: &str) -> Result<(), ApiError> {
    if password.is_empty() || password.len() > 1024 {
        return Err(ApiError::BadRequest(
            "password must be 1 to 1024 bytes".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in [
            "a",
            "azuma",
            "neo the one",
            "名前",
            &"x".repeat(64),
            &"é".repeat(64),
        ] {
            assert!(check_name(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            " a",
            "a ",
            "\ta",
            "a\nb",
            "a\u{0}b",
            "a\u{7f}",
            &"x".repeat(65),
            "\u{3000}a",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("x").is_ok());
        assert!(check_password(&"x".repeat(1024)).is_ok());
        assert!(check_password(&"é".repeat(512)).is_ok());
        assert!(check_password("").is_err());
        assert!(check_password(&"x".repeat(1025)).is_err());
        assert!(check_password(&"é".repeat(513)).is_err());
    }
}
