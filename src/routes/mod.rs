//! The API, one file per resource, named after it (`channel`, `message`,
//! `history` for a channel's messages, `read` for read markers...). Each
//! route is declared once, by the `#[utoipa::path]` on its handler
//! (`route`), and each file lists its handlers in its `Api` (the document)
//! and its `routes` (the filters); [`api`] joins the files named in
//! `resources!` with CORS and the error model.

pub mod openapi;
mod route;

/// The resources' files, named once: each is a module, its `Api` part of
/// the document and its `routes` part of the API.
macro_rules! resources {
    ($($file:ident),* $(,)?) => {
        $(mod $file;)*

        /// The OpenAPI document.
        fn document() -> utoipa::openapi::OpenApi {
            openapi::document(parts())
        }

        /// Each resource's part of the OpenAPI document.
        fn parts() -> Vec<utoipa::openapi::OpenApi> {
            vec![<index::Api as utoipa::OpenApi>::openapi(), $(<$file::Api as utoipa::OpenApi>::openapi()),*]
        }

        /// Each resource's routes, tried in turn after `first` (chained,
        /// not boxed one inside another, nor the chain boxed: every
        /// request passes them, and a box is an allocation each).
        fn resources(
            first: BoxedFilter<(Response,)>,
            app: &App,
            r: &Routes,
        ) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + use<> {
            first $(.or($file::routes(app, r)).unify())*
        }
    };
}

// Tried in this order: it changes what a request costs, never which route
// takes it. `index` first: `GET /` is the cheapest and most asked.
mod index;
resources!(
    user,
    session,
    status,
    channel,
    members,
    history,
    message,
    attachment,
    search,
    read,
    notifications,
    push,
    invite,
    ws,
    app
);

use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use crate::app::App;
use crate::http::{cors, error, local_only};
use route::Routes;

/// Every route, with CORS for `cors_origins` (or, `local_only`, for pages
/// on this machine, and only for this machine's names) and errors as the
/// API's JSON. (The access log is the server's: it knows the client's
/// address.)
pub fn api(app: &App, cors_origins: &[String], local_only: bool) -> BoxedFilter<(Response,)> {
    let routes = Routes::new(document);
    let api = resources(index::routes(app, &routes), app, &routes)
        .or(openapi::routes(document, app.max_upload, &routes))
        .unify()
        .recover(error::recover)
        .unify();
    // A 405 says which methods the path does take (RFC 9110).
    let api = warp::path::full()
        .and(api)
        .map(move |path: FullPath, mut response: Response| {
            if response.status() == StatusCode::METHOD_NOT_ALLOWED
                && let Some(allow) = routes.allowed(path.as_str())
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
