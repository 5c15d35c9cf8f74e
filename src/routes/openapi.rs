//! `GET /openapi.json`: the API as an OpenAPI 3.1 document, generated from
//! the handlers' own declarations (`#[utoipa::path]` beside each) and the
//! types they read and write, so it cannot drift from what is served.

mod limits;
mod responses;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use utoipa::OpenApi;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, header};
use warp::reply::Response;

use super::route::Routes;
use limits::TypingInterval;
use responses::Shared;

/// What the whole document says beyond its operations.
#[derive(OpenApi)]
#[openapi(
    info(description = "A small, fast Azuma chat server backed by one SQLite file. \
        Every error is `{\"message\": CODE, \"detail\"?: \"...\"}`; the websocket at \
        `/init_ws` speaks the `ClientFrame` and `ServerFrame` schemas."),
    paths(serve),
    components(schemas(super::ws::frames::ClientFrame, super::ws::frames::Answer,
        crate::realtime::hub::Event)),
    modifiers(&TypingInterval),
    security(("bearer" = [])),
)]
struct Api;

/// The document: this file's part and each resource's `parts`, with the
/// errors every route shares.
pub fn document(parts: Vec<utoipa::openapi::OpenApi>) -> utoipa::openapi::OpenApi {
    let mut doc = Api::openapi();
    for part in parts {
        doc.merge(part);
    }
    utoipa::Modify::modify(&Shared, &mut doc);
    doc
}

/// The document, as served: with this server's upload limit
/// (`--max-upload-mib`, a setting, not a constant of the code) stated on
/// `POST /attachment`'s body as `x-azuma-max-bytes`, where clients read it.
fn served(doc: &utoipa::openapi::OpenApi, max_upload: u64) -> String {
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    camel_case_links(&mut doc);
    if let Some(body) = doc
        .pointer_mut("/paths/~1attachment/post/requestBody")
        .and_then(|b| b.as_object_mut())
    {
        body.insert("x-azuma-max-bytes".into(), max_upload.into());
    }
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

/// `GET /openapi.json`, built and serialised on the first request (a start
/// need not wait for it), then served from memory.
pub fn routes(
    document: fn() -> utoipa::openapi::OpenApi,
    max_upload: u64,
    r: &Routes,
) -> BoxedFilter<(Response,)> {
    let json: Arc<OnceLock<Bytes>> = Arc::default();
    r.route::<__path_serve>()
        .map(move || serve(json.get_or_init(|| Bytes::from(served(&document(), max_upload)))))
        .boxed()
}
