//! Web Push: `GET /push/key`, `POST /push/subscribe` and
//! `DELETE /push/subscribe`. A subscription belongs to the session that
//! made it: logging out, or revoking the token, deletes it.

use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::route::Routes;
use crate::app::App;
use crate::auth::sessions::Session;
use crate::domain::names::Invalid;
use crate::domain::push::{self, Subscription};
use crate::http::error::ApiError;
use crate::http::filters::{authenticated, with_app};
use crate::http::json;
use crate::push::ece::SubscriptionKeys;

/// The longest endpoint taken: push services' URLs are a few hundred
/// characters.
const ENDPOINT_MAX: usize = 2048;

/// The server's VAPID public key.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Key {
    /// Base64url (no padding) of the uncompressed P-256 point: the
    /// browser's `applicationServerKey`.
    key: String,
}

/// A push service's URL for one browser: `http(s)://`, at most 2048
/// characters (where it may lead is checked next, against its addresses).
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Endpoint(reqwest::Url);

impl TryFrom<String> for Endpoint {
    type Error = Invalid;

    fn try_from(raw: String) -> Result<Self, Invalid> {
        let bad = |why: &str| Invalid(format!("endpoint {why}"));
        if raw.len() > ENDPOINT_MAX {
            return Err(bad("must be at most 2048 characters"));
        }
        let url = reqwest::Url::parse(&raw).map_err(|_| bad("must be a URL"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(bad("must be an https:// URL"));
        }
        Ok(Endpoint(url))
    }
}

/// The keys of a browser's `PushSubscription`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Keys {
    /// Its P-256 public key, base64url.
    p256dh: String,
    /// Its 16-byte authentication secret, base64url.
    auth: String,
}

/// A browser's `PushSubscription`, as its `toJSON()` gives it (other
/// fields, such as `expirationTime`, are ignored).
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewSubscription {
    #[schema(value_type = String, max_length = 2048)]
    endpoint: Endpoint,
    keys: Keys,
}

/// Which subscription to delete.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Unsubscribe {
    endpoint: String,
}

/// Web Push.
/// This file's routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(key, subscribe, unsubscribe))]
pub struct Api;

pub fn routes(app: &App, r: &Routes) -> BoxedFilter<(Response,)> {
    let key = r.route::<__path_key>().and(with_app(app)).map(key);
    let subscribe = r
        .route::<__path_subscribe>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(subscribe);
    let unsubscribe = r
        .route::<__path_unsubscribe>()
        .and(with_app(app))
        .and(authenticated(app))
        .and(json::body())
        .and_then(unsubscribe);
    key.or(subscribe)
        .unify()
        .or(unsubscribe)
        .unify()
        .boxed()
}

/// The VAPID public key pushes are signed with.
#[utoipa::path(get, operation_id = "push_key", path = "/push/key", tag = "notifications", security(()),
    responses((status = 200, description = "The key", body = Key)))]
pub(super) fn key(app: App) -> Response {
    json::reply(
        StatusCode::OK,
        &Key {
            key: app.push.public_key().to_string(),
        },
    )
}

/// Subscribes a browser to pushes, for the presenting session.
#[utoipa::path(post, operation_id = "push_subscribe", path = "/push/subscribe", tag = "notifications",
    request_body = NewSubscription,
    responses(
        (status = 201, description = "Subscribed"),
        (status = 400, description = "A malformed subscription, or an endpoint that is not https:// to public addresses", body = crate::http::error::ErrorBody),
    ))]
pub(super) async fn subscribe(
    app: App,
    session: Session,
    body: NewSubscription,
) -> Result<Response, Rejection> {
    let keys = SubscriptionKeys::parse(&body.keys.p256dh, &body.keys.auth)
        .map_err(|e| ApiError::BadRequest(format!("keys: {e}")))?;
    let Endpoint(endpoint) = body.endpoint;
    // Which address a name has is not the caller's to learn.
    if let Err(e) = app.push.check(&endpoint).await {
        tracing::debug!(why = %e, "push endpoint refused");
        let why = "endpoint must be https:// to a host whose addresses are all public";
        return Err(ApiError::BadRequest(why.into()).into());
    }
    let subscription = Subscription {
        endpoint: endpoint.into(),
        p256dh: keys.p256dh_base64url(),
        auth: keys.auth_base64url(),
    };
    let now = app.clock.now();
    app.db
        .run(move |conn| {
            push::subscribe(conn, &session.token_hash, &session.user_id, &subscription, now)
        })
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// Unsubscribes a browser of the caller's.
#[utoipa::path(delete, operation_id = "push_unsubscribe", path = "/push/subscribe", tag = "notifications",
    request_body = Unsubscribe,
    responses((status = 204, description = "It is not subscribed (any more)")))]
pub(super) async fn unsubscribe(
    app: App,
    session: Session,
    body: Unsubscribe,
) -> Result<Response, Rejection> {
    // As stored: the URL's normal form.
    let endpoint = reqwest::Url::parse(&body.endpoint).map_or(body.endpoint, String::from);
    app.db
        .run(move |conn| push::unsubscribe(conn, &session.user_id, &endpoint))
        .await?;
    Ok(json::no_content())
}
