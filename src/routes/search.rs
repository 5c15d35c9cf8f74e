//! `GET /message/search?q=&channel=&before=&limit=`: plain-text search,
//! newest first.

use std::time::Duration;

use serde::Deserialize;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::history::parse_limit;
use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::search::{self, Query};
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, parse_id, with_app};
use crate::http::json;

/// The query, as given.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    /// Plain text: every word must occur, the last as a prefix. Never a
    /// query language.
    #[param(required = true, value_type = String, min_length = 1, max_length = 200)]
    q: Option<String>,
    /// Only this channel.
    #[param(value_type = Option<uuid::Uuid>)]
    channel: Option<String>,
    /// Only messages stored before this one: the next page.
    #[param(value_type = Option<uuid::Uuid>)]
    before: Option<String>,
    /// How many, 50 if absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// The search route.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(search))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    r.route::<__path_search>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(warp::query::<SearchQuery>())
        .and_then(search)
        .boxed()
}

/// Messages containing every word of `q`, newest first.
#[utoipa::path(get, operation_id = "search_messages", path = "/message/search", tag = "messages", params(SearchQuery),
    responses(
        (status = 200, description = "The matches, newest first", body = Vec<crate::domain::messages::Message>),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many searches by this user; see Retry-After", body = crate::http::error::ErrorBody),
        (status = 503, description = "Too many searches at once; see Retry-After", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn search(
    app: App,
    session: Session,
    query: SearchQuery,
) -> Result<Response, Rejection> {
    let q = query
        .q
        .ok_or_else(|| ApiError::BadRequest("q is required".into()))?;
    let q = Query::try_from(q)?;
    let channel = query.channel.map(|c| parse_id(&c, "channel")).transpose()?;
    let before = query.before.map(|b| parse_id(&b, "before")).transpose()?;
    let limit = parse_limit(query.limit)?;
    let viewer = session.user_id;
    app.search_rate
        .take(session.user_id, app.clock.now())
        .map_err(ApiError::TooManyRequests)?;
    let _running = tokio::time::timeout(QUEUED, app.searches.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::Overloaded(Duration::from_secs(1)))?;
    let mut found = app
        .db
        .run(move |conn| {
            search::search(conn, &viewer, &q, channel.as_ref(), before.as_ref(), limit)
        })
        .await?;
    crate::domain::messages::sign_all(&mut found, &app.links, app.clock.now());
    Ok(json::reply(StatusCode::OK, &found))
}

/// How long a search may wait for one of the few that run at once before
/// it is answered 503 with `Retry-After`.
const QUEUED: Duration = Duration::from_secs(2);

