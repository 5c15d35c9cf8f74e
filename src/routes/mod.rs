//! The API, one file per resource. Each file's `routes` is every route of
//! its resource; [`api`] joins them with CORS and the error model.
//!
//! | routes | file |
//! |---|---|
//! | `GET /`, `GET /health` | `index` |
//! | `POST /user/register`, `PATCH /user/update`, `GET /user/self`, `GET /user/{id}` | `user` |
//! | `POST /user/login`, `POST /user/logout` | `session` |
//! | `POST /user/status/set` | `status` |
//! | `POST /channel`, `GET /channel`, `GET /channel/{id}`, `DELETE /channel` | `channel` |
//! | `POST /message/send`, `GET`, `PATCH`, `DELETE /message/{id}` | `message` |
//! | `GET /message/search` | `search` |
//! | `GET /channel/{id}/messages` | `history` |
//! | `POST /channel/{id}/read`, `GET /user/self/unread` | `read` |
//! | `GET /init_ws` | `ws` |
//! | `GET /openapi.json` | `openapi` |
//! | `GET /app/` (the web client) | `app` |

mod app;
mod channel;
mod history;
mod index;
mod message;
pub mod openapi;
mod read;
mod search;
mod session;
mod status;
mod user;
mod ws;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use crate::app::App;
use crate::http::{cors, error, local_only};

/// Every route, with CORS for `cors_origins` (or, `local_only`, for pages
/// on this machine, and only for this machine's names) and errors as the
/// API's JSON. (The access log is the server's: it knows the client's
/// address.)
pub fn api(app: &App, cors_origins: &[String], local_only: bool) -> BoxedFilter<(Response,)> {
    let api = index::routes(app)
        .or(user::routes(app))
        .unify()
        .or(session::routes(app))
        .unify()
        .or(status::routes(app))
        .unify()
        .or(channel::routes(app))
        .unify()
        .or(history::routes(app))
        .unify()
        .or(message::routes(app))
        .unify()
        .or(search::routes(app))
        .unify()
        .or(read::routes(app))
        .unify()
        .or(ws::routes(app))
        .unify()
        .or(openapi::routes())
        .unify()
        .or(app::routes())
        .unify()
        .recover(error::recover)
        .unify();
    // A 405 says which methods the path does take (RFC 9110).
    let api = warp::path::full()
        .and(api)
        .map(|path: FullPath, mut response: Response| {
            if response.status() == StatusCode::METHOD_NOT_ALLOWED
                && let Some(allow) = openapi::allowed(path.as_str())
                && let Ok(allow) = HeaderValue::from_str(&allow)
            {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            response
        });
    // Behind the guard, any origin that reaches CORS is one of this machine's.
    let any = [String::from("*")];
    let cors_origins = if local_only { &any[..] } else { cors_origins };
    // CORS wraps the recovered API so error responses carry its headers too;
    // its own refusals are recovered outside it.
    let api = match cors::filter(cors_origins) {
        // Every answer may depend on the origin: caches must key on it.
        Some(cors) => api
            .with(cors)
            .map(Reply::into_response)
            .recover(error::recover)
            .unify()
            .map(|mut response: Response| {
                // Added to what the answer varies with already, not in its place.
                response
                    .headers_mut()
                    .append(header::VARY, HeaderValue::from_static("origin"));
                response
            })
            .boxed(),
        None => api.boxed(),
    };
    if local_only {
        let guarded = local_only::guard().and(api).recover(error::recover);
        guarded.unify().boxed()
    } else {
        api
    }
}
