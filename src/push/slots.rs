//! One push under way per subscription, on a task of its own: news that
//! comes meanwhile waits in the subscription's slot, the newest replacing
//! the older (its `Topic` would replace it at the push service anyway),
//! and goes once the push before it is answered and the spacing has
//! passed (longer each time while news keeps coming: a lively
//! conversation buzzes a phone now and then, not every second).
//! A push service that hangs or fails holds up its own subscriptions only.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use serde_json::json;
use uuid::Uuid;

use super::Pace;
use super::deliver::{self, Outcome, Request};
use super::ece::SubscriptionKeys;
use super::guard::Guard;
use super::vapid::VapidKey;
use crate::domain::db::Db;
use crate::domain::error::{StoreError, chain};
use crate::domain::markers;
use crate::domain::push::{self, Subscription};
use crate::realtime::presence::Presence;
use crate::sync::lock;

/// Tries of one push: the first and its retries.
const TRIES: u32 = 4;

/// The longest wait for a retry that a push service may ask for.
const LONGEST_WAIT: Duration = Duration::from_secs(600);

/// How long a VAPID signature is valid (RFC 8292 allows up to 24 h); one is
/// made per push service and used until an hour before it expires.
const SIGNATURE_LIFE: i64 = 12 * 3600;

/// What one push says (the payload is made when it leaves).
#[derive(Clone)]
pub struct Notification {
    /// To whom: their unread count goes with it.
    pub user: Uuid,
    pub channel: Uuid,
    pub channel_name: String,
    pub message: Uuid,
    /// The author's name.
    pub author: String,
    pub text: String,
    /// A direct message or a mention: `Urgency: high`.
    pub urgent: bool,
}

/// What every push task shares.
pub struct Shared {
    pub db: Db,
    pub presence: Arc<Presence>,
    /// Made at the first push (`deliver::client`).
    pub client: Mutex<Option<reqwest::Client>>,
    pub guard: Guard,
    pub key: Arc<VapidKey>,
    pub contact: Option<String>,
    pub pace: Pace,
}

/// The subscriptions with a push under way, and what waits for each.
pub struct Slots {
    shared: Shared,
    busy: Mutex<HashMap<String, Option<(Subscription, Notification)>>>,
    /// VAPID signatures per push service origin, with their expiry.
    signatures: Mutex<HashMap<String, (String, i64)>>,
}

impl Slots {
    pub fn new(shared: Shared) -> Arc<Slots> {
        Arc::new(Slots {
            shared,
            busy: Mutex::new(HashMap::new()),
            signatures: Mutex::new(HashMap::new()),
        })
    }

    /// `notification` is to reach `subscription`: now, or after the push
    /// under way there (replacing whatever waited for it).
    pub fn schedule(self: &Arc<Self>, subscription: Subscription, notification: Notification) {
        match lock(&self.busy).entry(subscription.endpoint.clone()) {
            Entry::Occupied(mut waiting) => {
                waiting.insert(Some((subscription, notification)));
            }
            Entry::Vacant(free) => {
                free.insert(None);
                tokio::spawn(self.clone().work(subscription, notification));
            }
        }
    }

    /// Sends to one subscription until nothing waits for it.
    async fn work(self: Arc<Self>, mut subscription: Subscription, mut notification: Notification) {
        let pace = self.shared.pace;
        let mut spacing = pace.spacing;
        loop {
            self.send(&subscription, notification).await;
            tokio::time::sleep(spacing).await;
            let mut busy = lock(&self.busy);
            match busy.get_mut(&subscription.endpoint).and_then(Option::take) {
                Some(next) => {
                    (subscription, notification) = next;
                    // News keeps coming: wait longer before the next.
                    spacing = spacing.saturating_mul(2).min(pace.longest);
                }
                None => {
                    busy.remove(&subscription.endpoint);
                    return;
                }
            }
        }
    }

    /// One push, with its retries; the newest news is sent on each try.
    async fn send(&self, subscription: &Subscription, mut notification: Notification) {
        let mut wait = self.shared.pace.backoff;
        for tried in 1..=TRIES {
            match self.try_once(subscription, &notification).await {
                Ok(None | Some(Outcome::Delivered)) => return,
                Ok(Some(Outcome::Gone)) => {
                    let (db, endpoint) = (self.shared.db.clone(), subscription.endpoint.clone());
                    if let Err(e) = db.run(move |conn| push::forget(conn, &endpoint)).await {
                        tracing::warn!(cause = %chain(&e), "cannot delete a push subscription");
                    }
                    return;
                }
                Ok(Some(Outcome::Refused(why))) => {
                    tracing::warn!(origin = %origin(&subscription.endpoint), "push refused: {why}");
                    return;
                }
                Ok(Some(Outcome::Retry(_))) if tried == TRIES => break,
                Ok(Some(Outcome::Retry(asked))) => {
                    tokio::time::sleep(asked.unwrap_or(wait).min(LONGEST_WAIT)).await;
                    wait = wait.saturating_mul(2);
                    let newer = lock(&self.busy)
                        .get_mut(&subscription.endpoint)
                        .and_then(Option::take);
                    if let Some((_, newer)) = newer {
                        notification = newer;
                    }
                }
                Err(e) => {
                    tracing::warn!(cause = %chain(&e), "cannot make a push");
                    return;
                }
            }
        }
        tracing::info!(origin = %origin(&subscription.endpoint), "push dropped after {TRIES} tries");
    }

    /// Makes the push (the payload, with the user's unread count now,
    /// encrypted for the subscription) and sends it; `None` if it is no
    /// longer to go (the subscription is gone, the channel out of the
    /// user's sight, or the user is connected now and sees it there).
    async fn try_once(
        &self,
        subscription: &Subscription,
        notification: &Notification,
    ) -> Result<Option<Outcome>, StoreError> {
        if self.shared.presence.is_connected(&notification.user) {
            return Ok(None);
        }
        let refused = |why: &str| Ok(Some(Outcome::Refused(why.into())));
        let Ok(endpoint) = Url::parse(&subscription.endpoint) else {
            return refused("a stored endpoint is not a URL");
        };
        let Ok(keys) = SubscriptionKeys::parse(&subscription.p256dh, &subscription.auth) else {
            return refused("a stored subscription's keys are bad");
        };
        let (n, at) = (notification.clone(), subscription.endpoint.clone());
        let body = self
            .shared
            .db
            .run(move |conn| {
                if !push::still_heard(conn, &at, &n.user, &n.channel)? {
                    return Ok::<_, StoreError>(None);
                }
                let unread: i64 = markers::unread(conn, &n.user)?
                    .iter()
                    .map(|u| u.unread)
                    .sum();
                let payload = json!({
                    "channel": n.channel,
                    "channel_name": n.channel_name,
                    "message": n.message,
                    "author": n.author,
                    "text": n.text,
                    "unread": unread,
                });
                Ok(Some(keys.encrypt(payload.to_string().as_bytes())))
            })
            .await?;
        let body = match body {
            None => return Ok(None),
            Some(Ok(body)) => body,
            Some(Err(e)) => return refused(&e.to_string()),
        };
        let request = Request {
            authorization: self.authorization(&endpoint),
            endpoint,
            body,
            urgency: if notification.urgent {
                "high"
            } else {
                "normal"
            },
            topic: URL_SAFE_NO_PAD.encode(notification.channel.as_bytes()),
        };
        let client = match self.client().await {
            Ok(client) => client,
            Err(why) => return refused(&format!("no HTTP client: {why}")),
        };
        let sent = deliver::send(&client, &self.shared.guard, request).await;
        Ok(Some(sent))
    }

    /// The HTTP client, made now (on a blocking thread: it reads files) if
    /// it is not yet; a failure is tried again at the next push.
    async fn client(&self) -> Result<reqwest::Client, String> {
        if let Some(made) = lock(&self.shared.client).clone() {
            return Ok(made);
        }
        let guard = self.shared.guard.clone();
        let made = tokio::task::spawn_blocking(move || deliver::client(&guard))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| chain(&e))?;
        *lock(&self.shared.client) = Some(made.clone());
        Ok(made)
    }

    /// The VAPID `Authorization` for `endpoint`'s push service.
    fn authorization(&self, endpoint: &Url) -> String {
        let audience = endpoint.origin().ascii_serialization();
        let now = chrono::Utc::now().timestamp();
        let mut signatures = lock(&self.signatures);
        if let Some((header, expires)) = signatures.get(&audience)
            && *expires - now > 3600
        {
            return header.clone();
        }
        // One per push service in use; any that expired go (endpoints are
        // anyone's choice, so their origins are too).
        signatures.retain(|_, (_, expires)| *expires - now > 3600);
        let expires = now + SIGNATURE_LIFE;
        let header =
            self.shared
                .key
                .authorization(&audience, expires, self.shared.contact.as_deref());
        signatures.insert(audience, (header.clone(), expires));
        header
    }
}

/// The origin of `endpoint`, for the log (never the whole URL: its path is
/// the subscription's secret).
fn origin(endpoint: &str) -> String {
    Url::parse(endpoint).map_or_else(|_| "?".into(), |u| u.origin().ascii_serialization())
}
