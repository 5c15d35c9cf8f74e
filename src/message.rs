//! Messages: `POST /message/send`, and a channel's history,
//! `GET /channel/{id}/messages?before=|after=&limit=`.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::session::{Session, authenticated};
use crate::{App, channel, json, parse_id, with_app};

/// A message as the API shows it.
#[derive(Debug, Serialize)]
pub struct Message {
    /// The message's id.
    pub id: Uuid,
    /// Who sent it.
    pub author: Uuid,
    /// Where.
    pub channel: Uuid,
    /// What, as sent.
    pub content: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

#[derive(Deserialize)]
struct NewMessage {
    channel: Uuid,
    content: String,
}

/// The history query, as given; checked by [`Page::parse`].
#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// Which slice of a channel's history to return.
#[derive(Debug, PartialEq)]
enum Cursor {
    /// The newest messages.
    Newest,
    /// The newest messages older than this one.
    Before(Uuid),
    /// The oldest messages newer than this one.
    After(Uuid),
}

/// A checked history request.
#[derive(Debug, PartialEq)]
struct Page {
    cursor: Cursor,
    limit: u32,
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

impl Page {
    fn parse(query: HistoryQuery) -> Result<Page, ApiError> {
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
        let limit = match query.limit {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("limit must be from 1 to {MAX_LIMIT}"))
                })?,
        };
        Ok(Page { cursor, limit })
    }
}

/// `POST /message/send` and the history route.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let send = warp::path!("message" / "send")
        .and(warp::post())
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(send);
    let history = warp::path!("channel" / String / "messages")
        .and(warp::get())
        .and(with_app(app))
        .and(authenticated(app))
        .and(warp::query::<HistoryQuery>())
        .and_then(history);
    send.or(history).unify().boxed()
}

async fn send(app: App, session: Session, body: NewMessage) -> Result<Response, Rejection> {
    let length = body.content.chars().count();
    if !(1..=4000).contains(&length) {
        return Err(ApiError::BadRequest("content must be 1 to 4000 characters".into()).into());
    }
    if body.content.trim().is_empty() {
        return Err(ApiError::BadRequest("content must not be only whitespace".into()).into());
    }
    let message = app
        .writer
        .send(body.channel, session.user_id, body.content)
        .await?;
    Ok(json::reply(StatusCode::OK, &message))
}

async fn history(
    id: String,
    app: App,
    _: Session,
    query: HistoryQuery,
) -> Result<Response, Rejection> {
    let channel_id = parse_id(&id, "channel")?;
    let page = Page::parse(query)?;
    let messages = app
        .db
        .run(move |conn| {
            let tx = conn.transaction()?; // one snapshot for all three reads
            let Some(channel_seq) = channel_seq(&tx, &channel_id)? else {
                return Err(channel::not_found(&channel_id));
            };
            let messages = read_page(&tx, channel_seq, channel_id, &page)?;
            tx.finish()?;
            Ok(messages)
        })
        .await?;
    Ok(json::reply(StatusCode::OK, &messages))
}

/// The storage sequence number of channel `id`, if it exists.
pub(crate) fn channel_seq(conn: &Connection, id: &Uuid) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT seq FROM channels WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// The newest `?3` messages of channel `?1` below seq `?2`, newest first.
const NEWEST_BEFORE: &str = "SELECT id, author, content, created_at FROM messages
    WHERE channel = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";
/// The oldest `?3` messages of channel `?1` above seq `?2`.
const OLDEST_AFTER: &str = "SELECT id, author, content, created_at FROM messages
    WHERE channel = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3";

/// One page of a channel's history, oldest first. Each page is one range
/// of the `messages_by_channel` index.
fn read_page(
    conn: &Connection,
    channel_seq: i64,
    channel_id: Uuid,
    page: &Page,
) -> Result<Vec<Message>, ApiError> {
    let cursor_seq = |id: &Uuid| -> Result<i64, ApiError> {
        conn.prepare_cached("SELECT seq FROM messages WHERE id = ?1 AND channel = ?2")?
            .query_row(params![id, channel_seq], |r| r.get(0))
            .optional()?
            .ok_or_else(|| ApiError::BadRequest(format!("{id} is not a message of this channel")))
    };
    let (sql, from, newest_first) = match &page.cursor {
        Cursor::Newest => (NEWEST_BEFORE, i64::MAX, true),
        Cursor::Before(id) => (NEWEST_BEFORE, cursor_seq(id)?, true),
        Cursor::After(id) => (OLDEST_AFTER, cursor_seq(id)?, false),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![channel_seq, from, page.limit], |r| {
        Ok(Message {
            id: r.get(0)?,
            author: r.get(1)?,
            channel: channel_id,
            content: r.get(2)?,
            created_at: Timestamp(r.get(3)?),
        })
    })?;
    let mut messages = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    if newest_first {
        messages.reverse();
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_pages_are_index_ranges_not_scans() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        for sql in [NEWEST_BEFORE, OLDEST_AFTER] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(params![1, 2, 3], |r| r.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(
                plan,
                [
                    "SEARCH messages USING INDEX messages_by_channel (channel=? AND seq>?)"
                        .replace('>', if sql == NEWEST_BEFORE { "<" } else { ">" })
                ],
                "{sql}"
            );
        }
    }

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
        let page = |c, l| {
            Ok::<_, ()>(Page {
                cursor: c,
                limit: l,
            })
        };
        let parse = |q| Page::parse(q).map_err(|_| ());
        assert_eq!(parse(query(None, None, None)), page(Cursor::Newest, 50));
        assert_eq!(
            parse(query(Some(id), None, Some("1"))),
            page(Cursor::Before(uuid), 1)
        );
        assert_eq!(
            parse(query(None, Some(id), Some("100"))),
            page(Cursor::After(uuid), 100)
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
