//! `GET /`: what this server is, from the crate's own metadata.

use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::json;

#[derive(Clone, Serialize)]
struct Index {
    name: &'static str,
    version: &'static str,
    authors: Vec<&'static str>,
    license: &'static str,
}

/// The index route.
pub fn routes() -> BoxedFilter<(Response,)> {
    let index = Index {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        authors: env!("CARGO_PKG_AUTHORS")
            .split(':')
            .filter(|a| !a.is_empty())
            .collect(),
        license: env!("CARGO_PKG_LICENSE"),
    };
    warp::path::end()
        .and(warp::get())
        .map(move || json::reply(StatusCode::OK, &index))
        .boxed()
}
