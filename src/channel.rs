//! Channels: `POST /channel`, `GET /channel`, `GET /channel/{id}` and
//! `DELETE /channel`. (A channel's history, `GET /channel/{id}/messages`,
//! is in `message`.)

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::hub::Event;
use crate::session::{Session, authenticated};
use crate::{App, json, parse_id, with_app};

/// A channel as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Channel {
    /// The channel's id.
    pub id: Uuid,
    /// Its name, trimmed; not unique.
    pub name: String,
    /// What it is about, or `null`.
    pub description: Option<String>,
    /// Who created it, and may delete it.
    pub owner: Uuid,
    /// When it was created.
    pub created_at: Timestamp,
}

#[derive(Deserialize)]
struct NewChannel {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct DeleteChannel {
    id: Uuid,
}

/// Columns read by [`Channel::from_row`].
const COLUMNS: &str = "id, name, description, owner, created_at";

impl Channel {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Channel> {
        Ok(Channel {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            owner: r.get(3)?,
            created_at: Timestamp(r.get(4)?),
        })
    }
}

/// Every `/channel` route but the history.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let create = warp::path!("channel")
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(create);
    let list = warp::path!("channel")
        .and(warp::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and_then(list);
    let delete = warp::path!("channel")
        .and(warp::delete())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(delete);
    let get = warp::path!("channel" / String)
        .and(warp::get())
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

async fn create(app: App, session: Session, body: NewChannel) -> Result<Response, Rejection> {
    let name = body.name.trim().to_owned();
    let length = name.chars().count();
    if !(1..=100).contains(&length) {
        return Err(
            ApiError::BadRequest("name must be 1 to 100 characters after trimming".into()).into(),
        );
    }
    let description = body.description.filter(|d| !d.trim().is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1024)
    {
        return Err(
            ApiError::BadRequest("description must be at most 1024 characters".into()).into(),
        );
    }
    let channel = Channel {
        id: Uuid::new_v4(),
        name,
        description,
        owner: session.user_id,
        created_at: app.clock.now(),
    };
    let shared = app.clone();
    let channel = app
        .db
        .run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO channels (id, name, description, owner, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    channel.id,
                    channel.name,
                    channel.description,
                    channel.owner,
                    channel.created_at.0
                ],
            )?;
            shared
                .hub
                .commit_and_publish(tx, &[Event::ChannelCreated(&channel)])?;
            Ok(channel)
        })
        .await?;
    Ok(json::reply(StatusCode::CREATED, &channel))
}

async fn list(app: App, _: Session) -> Result<Response, Rejection> {
    let channels = app
        .db
        .run(|conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM channels ORDER BY seq"))?;
            let rows = stmt.query_map([], Channel::from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    Ok(json::reply(StatusCode::OK, &channels))
}

async fn get(id: String, app: App, _: Session) -> Result<Response, Rejection> {
    let id = parse_id(&id, "channel")?;
    let channel = app.db.run(move |conn| Ok(load(conn, &id)?)).await?;
    let channel = channel.ok_or_else(|| not_found(&id))?;
    Ok(json::reply(StatusCode::OK, &channel))
}

async fn delete(app: App, session: Session, body: DeleteChannel) -> Result<Response, Rejection> {
    let shared = app.clone();
    app.db
        .run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let owner: Option<Uuid> = tx
                .query_row("SELECT owner FROM channels WHERE id = ?1", [body.id], |r| {
                    r.get(0)
                })
                .optional()?;
            match owner {
                None => return Err(not_found(&body.id)),
                Some(owner) if owner != session.user_id => {
                    return Err(ApiError::Forbidden(
                        "only the channel's owner may delete it".into(),
                    ));
                }
                Some(_) => {}
            }
            tx.execute("DELETE FROM channels WHERE id = ?1", [body.id])?;
            shared
                .hub
                .commit_and_publish(tx, &[Event::ChannelDeleted { id: body.id }])?;
            Ok(())
        })
        .await?;
    Ok(json::no_content())
}

/// The channel with `id`, if any.
pub fn load(conn: &Connection, id: &Uuid) -> rusqlite::Result<Option<Channel>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM channels WHERE id = ?1"))?
        .query_row([id], Channel::from_row)
        .optional()
}

/// 404 for the channel `id`.
pub fn not_found(id: &Uuid) -> ApiError {
    ApiError::NotFound(format!("no channel with id {id}"))
}
