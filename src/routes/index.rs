//! `GET /`: what this server is, from the crate's own metadata; and
//! `GET /health`, for monitors and service managers.

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::app::App;
use crate::http::error::ApiError;
use crate::http::filters::{self, with_app};
use crate::http::json;

#[derive(Clone, Serialize)]
struct Index {
    name: &'static str,
    version: &'static str,
    authors: Vec<&'static str>,
    license: &'static str,
}

/// The index and health routes.
pub fn routes(app: &App) -> BoxedFilter<(Response,)> {
    let index = Index {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        authors: env!("CARGO_PKG_AUTHORS")
            .split(':')
            .filter(|a| !a.is_empty())
            .collect(),
        license: env!("CARGO_PKG_LICENSE"),
    };
    let index = warp::path::end()
        .and(filters::get())
        .map(move || json::reply(StatusCode::OK, &index));
    let health = warp::path!("health")
        .and(filters::get())
        .and(with_app(app))
        .and_then(health);
    index.or(health).unify().boxed()
}

async fn health(app: App) -> Result<Response, Rejection> {
    if app.db.healthy().await {
        Ok(json::reply(
            StatusCode::OK,
            &serde_json::json!({"status": "ok"}),
        ))
    } else {
        let cause = crate::domain::error::cause("the database does not answer");
        Err(ApiError::Unavailable(cause).into())
    }
}
