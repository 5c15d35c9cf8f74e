//! `GET /`: what this server is, from the crate's own metadata; and
//! `GET /health`, for monitors and service managers.

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::route::Routes;
use crate::app::App;
use crate::http::error::ApiError;
use crate::http::filters::with_app;
use crate::http::json::{self, optional_header};
use crate::writer::writes::Probe;

/// What `GET /` answers.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub(super) struct Index {
    name: &'static str,
    version: &'static str,
    authors: Vec<&'static str>,
    license: &'static str,
}

/// The index and health routes.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(index, health))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let info = Index {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        authors: env!("CARGO_PKG_AUTHORS")
            .split(':')
            .filter(|a| !a.is_empty())
            .collect(),
        license: env!("CARGO_PKG_LICENSE"),
    };
    // The same bytes every time: serialised once, shared by every answer.
    let body = bytes::Bytes::from(serde_json::to_vec(&info).unwrap_or_default());
    let route = r
        .route::<__path_index>()
        .and(optional_header("accept"))
        .map(move |accept: Option<HeaderValue>| index(&body, accept));
    let health = r
        .route::<__path_health>()
        .and(with_app(app))
        .and_then(health);
    route.or(health).unify().boxed()
}

/// What `GET /health` answers when all is well.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    #[schema(pattern = "^ok$")]
    status: &'static str,
}

/// What this server is.
#[utoipa::path(get, operation_id = "index", path = "/", tag = "server", security(()),
    responses(
        (status = 200, description = "The server's name, version, authors and license (`Vary: accept`)", body = Index),
        (status = 303, description = "For a browser (an Accept that prefers text/html): the web client (`Vary: accept`)",
            headers(("Location" = String, description = "/app/"))),
    ))]
pub(super) fn index(body: &bytes::Bytes, accept: Option<HeaderValue>) -> Response {
    let mut response = if accept.is_some_and(|a| a.to_str().is_ok_and(super::app::prefers_html)) {
        let mut response = StatusCode::SEE_OTHER.into_response();
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/app/"));
        response
    } else {
        let mut response = Response::new(body.clone().into());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    // Either answer depends on Accept: a cache that kept one must not hand
    // it to a client that asked for the other.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// Whether the database answers a query and takes a write.
#[utoipa::path(get, operation_id = "health", path = "/health", tag = "server", security(()),
    responses(
        (status = 200, description = "The database answers and takes writes", body = Health),
        (status = 503, description = "The database does not", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn health(app: App) -> Result<Response, Rejection> {
    // Reads, then a write in turn with the others (which waits while
    // another process holds the write lock, as every write would); and
    // the last real write did not find the disk full.
    if app.db.healthy().await && !app.writer.full() && app.writer.submit(Probe).await.is_ok() {
        Ok(json::reply(StatusCode::OK, &Health { status: "ok" }))
    } else {
        let cause = crate::domain::error::cause("the database does not answer");
        Err(ApiError::Unavailable(cause).into())
    }
}
