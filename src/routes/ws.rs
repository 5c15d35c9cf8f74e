//! `GET /init_ws`: the websocket handshake (RFC 6455). The connection it
//! starts is in [`connection`].

mod connection;
pub(super) mod frames;

use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use super::route::Routes;
use crate::app::App;
use crate::http::error::ApiError;
use crate::http::filters::{with_app};
use crate::http::json::optional_header;
use crate::http::server::UpgradeSlot;

/// `GET /init_ws`.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(upgrade))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    r.route::<__path_upgrade>()
        .and(optional_header("connection"))
        .and(optional_header("upgrade"))
        .and(optional_header("sec-websocket-version"))
        .and(optional_header("sec-websocket-key"))
        .and(warp::ext::optional::<UpgradeSlot>())
        .and(with_app(app))
        .and_then(upgrade)
        .boxed()
}

/// Checks the handshake, answers 101 and starts the connection once the
/// HTTP connection is handed over.
#[utoipa::path(get, operation_id = "websocket", path = "/init_ws", tag = "realtime", security(()),
    description = "The websocket (RFC 6455, version 13): send `ClientFrame`s, receive \
        `ServerFrame`s (see the components). Authenticate first, within 30 s.",
    responses(
        (status = 101, description = "The websocket is open"),
        (status = 400, description = "Not a websocket handshake", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn upgrade(
    connection_header: Option<HeaderValue>,
    upgrade_header: Option<HeaderValue>,
    version: Option<HeaderValue>,
    key: Option<HeaderValue>,
    slot: Option<UpgradeSlot>,
    app: App,
) -> Result<Response, warp::Rejection> {
    let lists = |value: &Option<HeaderValue>, token: &str| {
        value
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !lists(&connection_header, "upgrade") || !lists(&upgrade_header, "websocket") {
        return Err(ApiError::BadRequest("this route takes a websocket handshake".into()).into());
    }
    if version.as_ref().map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(ApiError::BadRequest("only websocket version 13 is spoken".into()).into());
    }
    let (Some(key), Some((upgrade, held))) = (key, slot.and_then(|s| s.take())) else {
        return Err(ApiError::BadRequest("incomplete websocket handshake".into()).into());
    };
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|e| ApiError::internal(format!("accept key: {e}")))?;
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(connection::socket_config()),
                )
                .await;
                connection::run(app, socket).await;
                // The connection counted against its address until now.
                drop(held);
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(response)
}
