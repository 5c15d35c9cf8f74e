//! What every operation may answer besides its own results: the errors
//! that come from the layers below the handlers (authentication, bodies,
//! limits, the database), added to each operation that can meet them.

use serde_json::json;
use utoipa::Modify;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::{Link, LinkBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Adds the shared error answers, the bearer scheme and the `ServerFrame`
/// schema.
pub struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
                (&mut item.put, true),
            ];
            for (operation, writes) in operations {
                if let Some(operation) = operation {
                    add_errors(operation, writes);
                    add_links(operation);
                }
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("A session token from register or login"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let frame = OneOfBuilder::new()
            .item(Ref::from_schema_name("ServerAnswer"))
            .item(Ref::from_schema_name("ServerEvent"))
            .description(Some("Every frame the server sends over the websocket"));
        components
            .schemas
            .insert("ServerFrame".into(), frame.into());
    }
}

/// Adds to `operation` (one that `writes` to the database, or not) each
/// shared error it can answer, unless it says more about it itself.
fn add_errors(operation: &mut Operation, writes: bool) {
    // Public: no requirement but the empty one. A route that takes a token
    // or something else (a signed link) still answers 401 to neither.
    let public = operation.security.as_ref().is_some_and(|all| {
        all.iter()
            .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
    });
    let body = operation.request_body.is_some();
    let parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut shared = vec![
        (
            "429",
            error("Too many requests or connections from this client; see Retry-After"),
        ),
        (
            "431",
            error("The request line and headers are over 64 KiB, or over 100 fields"),
        ),
        (
            "500",
            error("A failure on the server; its cause is logged, never sent"),
        ),
        (
            "503",
            error("The server is stopping, or the database is busy past its timeout"),
        ),
    ];
    if !public {
        shared.push((
            "401",
            error("Missing, malformed, unknown, revoked or expired token"),
        ));
    }
    if body || parameters {
        shared.push((
            "400",
            error("Malformed, or outside the limits; `detail` says what"),
        ));
    }
    // Statuses live in memory: setting one writes nothing.
    if writes && operation.operation_id.as_deref() != Some("set_status") {
        shared.push((
            "507",
            error("The disk is full: nothing was written; retry later"),
        ));
    }
    if body {
        shared.push(("408", error("The body did not arrive in time")));
        shared.push(("413", error("The body is over 64 KiB")));
    }
    let responses = &mut operation.responses.responses;
    for (status, response) in shared {
        responses.entry(status.into()).or_insert(response.into());
    }
}

/// Links from what an operation creates to the operations that use it, so
/// that tools (and readers) can chain them: register, then log in; create
/// a channel, then send to it, read its history or delete it; send a
/// message, then get, edit, mark read or delete it.
fn add_links(operation: &mut Operation) {
    let id = "$response.body#/id";
    let path_id = |to: &str| {
        LinkBuilder::new()
            .operation_id(to)
            .parameter("id", id)
            .build()
    };
    let (status, links) = match operation.operation_id.as_deref() {
        Some("register") => {
            let body =
                json!({"name": "$request.body#/name", "password": "$request.body#/password"});
            let login = LinkBuilder::new()
                .operation_id("login")
                .request_body(Some(body));
            ("201", vec![("Login", login.build())])
        }
        Some("create_channel") => (
            "201",
            vec![
                ("GetChannel", path_id("get_channel")),
                ("History", path_id("channel_history")),
                (
                    "Send",
                    body_link("send_message", json!({"channel": id, "content": "hello"})),
                ),
                ("Delete", body_link("delete_channel", json!({"id": id}))),
            ],
        ),
        Some("send_message") => {
            let read = LinkBuilder::new()
                .operation_id("mark_read")
                .parameter("id", "$response.body#/channel")
                .request_body(Some(json!({"message": id})))
                .build();
            (
                "200",
                vec![
                    ("GetMessage", path_id("get_message")),
                    ("Edit", path_id("edit_message")),
                    ("MarkRead", read),
                    ("Delete", path_id("delete_message")),
                ],
            )
        }
        _ => return,
    };
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) {
        for (name, link) in links {
            response.links.insert(name.into(), link.into());
        }
    }
}

/// A link that fills `to`'s body.
fn body_link(to: &str, body: serde_json::Value) -> Link {
    LinkBuilder::new()
        .operation_id(to)
        .request_body(Some(body))
        .build()
}

/// An error answer: the `Error` body, and `Retry-After` where it applies.
fn error(description: &str) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Error")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    if description.contains("Retry-After") {
        let seconds = HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            ))
            .description(Some("Seconds to wait"))
            .build();
        response = response.header("Retry-After", seconds);
    }
    response.build()
}
