//! A channel's history: `GET /channel/{id}/messages?before=|after=&limit=`.

use serde::Deserialize;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::history::{self, Cursor, DEFAULT_LIMIT, MAX_LIMIT, Page};
use crate::domain::messages;
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, parse_id, with_app};
use crate::http::json;

/// The history query, as given; checked by [`page`].
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HistoryQuery {
    /// The newest messages older than this one (not with `after`).
    #[param(value_type = Option<Uuid>)]
    before: Option<String>,
    /// The oldest messages newer than this one, to catch up (not with `before`).
    #[param(value_type = Option<Uuid>)]
    after: Option<String>,
    /// How many, 50 if absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// The history route.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(history))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    r.route_with_id::<__path_history>("channel")
        .and(with_app(app))
        .and(authenticated(app))
        .and(warp::query::<HistoryQuery>())
        .and_then(history)
        .boxed()
}

/// A page of a channel's history, oldest first.
#[utoipa::path(get, operation_id = "channel_history", path = "/channel/{id}/messages", tag = "messages",
    params(("id" = Uuid, Path), HistoryQuery),
    responses(
        (status = 200, description = "The page, oldest first", body = Vec<messages::Message>),
        (status = 404, description = "No such channel", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn history(
    channel: Uuid,
    app: App,
    session: Session,
    query: HistoryQuery,
) -> Result<Response, Rejection> {
    let page = page(query)?;
    let viewer = session.user_id;
    let mut messages = app
        .db
        .run(move |conn| history::history(conn, &viewer, channel, &page))
        .await?;
    messages::sign_all(&mut messages, &app.links, app.clock.now());
    Ok(json::reply(StatusCode::OK, &messages))
}

/// The page a query asks for.
fn page(query: HistoryQuery) -> Result<Page, ApiError> {
    let cursor = match (query.before, query.after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give before or after, not both".into(),
            ));
        }
        (Some(id), None) => Cursor::Before(parse_id(&id, "before")?),
        (None, Some(id)) => Cursor::After(parse_id(&id, "after")?),
        (None, None) => Cursor::Newest,
    };
    let limit = parse_limit(query.limit)?;
    Ok(Page { cursor, limit })
}

/// A page size, as history and search take it: 1 to 100, 50 if absent.
pub fn parse_limit(limit: Option<String>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be from 1 to {MAX_LIMIT}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(before: Option<&str>, after: Option<&str>, limit: Option<&str>) -> HistoryQuery {
        HistoryQuery {
            before: before.map(Into::into),
            after: after.map(Into::into),
            limit: limit.map(Into::into),
        }
    }

    #[test]
    fn parses_history_queries() {
        let id = "318cd399-f47f-478f-8d09-c9c414c3750d";
        let uuid = Uuid::parse_str(id).unwrap();
        let want = |cursor, limit| Ok::<_, ()>(Page { cursor, limit });
        let parse = |q| page(q).map_err(|_| ());
        assert_eq!(parse(query(None, None, None)), want(Cursor::Newest, 50));
        assert_eq!(
            parse(query(Some(id), None, Some("1"))),
            want(Cursor::Before(uuid), 1)
        );
        assert_eq!(
            parse(query(None, Some(id), Some("100"))),
            want(Cursor::After(uuid), 100)
        );
        for bad in [
            query(Some(id), Some(id), None),
            query(Some("x"), None, None),
            query(None, Some(""), None),
            query(None, None, Some("0")),
            query(None, None, Some("101")),
            query(None, None, Some("-1")),
            query(None, None, Some("ten")),
            query(None, None, Some("")),
            query(None, None, Some("99999999999999999999")),
        ] {
            assert!(parse(bad).is_err());
        }
    }
}
