//! `GET /openapi.json`: the API as an OpenAPI 3.1 document, generated from
//! the handlers' own declarations (`#[utoipa::path]` beside each) and the
//! types they read and write, so it cannot drift from what is served.

mod limits;
mod responses;

use std::sync::LazyLock;

use bytes::Bytes;
use utoipa::OpenApi;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, header};
use warp::reply::Response;

use super::{app, channel, history, index, message, read, search, session, status, user, ws};
use crate::http::filters;
use limits::TypingInterval;
use responses::Shared;

#[derive(OpenApi)]
#[openapi(
    info(description = "A small, fast Azuma chat server backed by one SQLite file. \
        Every error is `{\"message\": CODE, \"detail\"?: \"...\"}`; the websocket at \
        `/init_ws` speaks the `ClientFrame` and `ServerFrame` schemas."),
    paths(
        index::index, index::health, serve,
        user::register, session::login, session::logout, user::update, user::own,
        user::by_id, status::set_status, read::unread,
        channel::create, channel::list, channel::get, channel::delete,
        history::history, read::read,
        message::send, message::get, message::edit, message::delete, search::search,
        ws::upgrade, app::page, app::file,
    ),
    components(schemas(ws::frames::ClientFrame, ws::frames::Answer,
        crate::realtime::hub::Event)),
    modifiers(&Shared, &TypingInterval),
    security(("bearer" = [])),
)]
struct Api;

/// The document, built once (a few milliseconds, on first use, so a start
/// need not wait for it); the served JSON and the 405s' `Allow` both come
/// from it.
static API: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(Api::openapi);

/// The document, as served.
fn document() -> String {
    let mut doc = serde_json::to_value(&*API).unwrap_or_default();
    camel_case_links(&mut doc);
    doc.to_string()
}

/// utoipa 5 writes a Link's `operationId` and `requestBody` in snake case;
/// OpenAPI (and every tool that follows links) reads camel case.
fn camel_case_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let responses = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses"))
        .filter_map(|responses| responses.as_object_mut())
        .flat_map(|responses| responses.values_mut());
    for response in responses {
        let links = response.get_mut("links").and_then(|l| l.as_object_mut());
        for link in links.into_iter().flat_map(|l| l.values_mut()) {
            let Some(link) = link.as_object_mut() else {
                continue;
            };
            for (from, to) in [
                ("operation_id", "operationId"),
                ("request_body", "requestBody"),
            ] {
                if let Some(value) = link.remove(from) {
                    link.insert(to.into(), value);
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(get, operation_id = "openapi", path = "/openapi.json", tag = "server", security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
fn serve(json: &Bytes) -> Response {
    let mut response = Response::new(json.clone().into());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /openapi.json`, serialised on the first request, then served
/// from memory.
pub fn routes() -> BoxedFilter<(Response,)> {
    static JSON: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(document()));
    warp::path!("openapi.json")
        .and(filters::get())
        .map(|| serve(&JSON))
        .boxed()
}

/// The methods a path takes, for the `Allow` header of a 405: those of the
/// document's path that matches it, a fixed segment winning over a
/// parameter (as the routes do), with `HEAD` wherever `GET` is.
pub fn allowed(path: &str) -> Option<String> {
    static TABLE: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
        API.paths
            .paths
            .iter()
            .map(|(template, item)| {
                let mut methods = Vec::new();
                for (name, operation) in [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                    ("PUT", &item.put),
                ] {
                    if operation.is_some() {
                        methods.push(name);
                        if name == "GET" {
                            methods.push("HEAD");
                        }
                    }
                }
                (segments(template), methods.join(", "))
            })
            .collect()
    });
    let wanted = segments(path);
    TABLE
        .iter()
        .filter(|(template, _)| {
            template.len() == wanted.len()
                && template
                    .iter()
                    .zip(&wanted)
                    .all(|(t, w)| t == w || t.starts_with('{'))
        })
        .max_by_key(|(template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
        .map(|(_, methods)| methods.clone())
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
