//! A push service stand-in (RFC 8030) on loopback, for the black-box tests:
//! it hands out browser subscriptions, checks each push as a real push
//! service and browser would (VAPID of RFC 8292, `aes128gcm` of RFC 8291,
//! the RFC 8030 headers), records it, and answers as the test scripts.
//! Written independently of azuma's own push code, which it tests.

mod check;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use p256::SecretKey;
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use check::{Headers, decrypt};

/// What the stand-in answers a push with.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This status at once (201 is a successful push).
    Status(u16),
    /// This status (429 or 503) with `Retry-After: seconds`.
    RetryAfter(u16, u64),
    /// This status after a delay.
    Slow(Duration, u16),
    /// No answer within any test's lifetime.
    Hang,
}

/// One request the stand-in received, checked.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The `<id>` of `/push/<id>` (the whole path if it has no such shape).
    pub endpoint_id: String,
    /// The decrypted JSON; None when the subscription is unknown or the
    /// body did not decrypt (then `problems` says why).
    pub payload: Option<Value>,
    pub ttl: Option<u64>,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The JWT's `sub` claim.
    pub subject: Option<String>,
    /// Everything a push service or browser would have refused.
    pub problems: Vec<String>,
    pub at: Instant,
}

/// A subscribing browser: the private half of a subscription's keys.
#[derive(Clone, Debug)]
pub struct Browser {
    pub id: String,
    pub endpoint: String,
    secret: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    /// Decrypts an `aes128gcm` push body (RFC 8291, one record).
    pub fn decrypt(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        decrypt(&self.secret, &self.auth, body)
    }
}

struct State {
    browsers: HashMap<String, Browser>,
    scripts: HashMap<String, VecDeque<Answer>>,
    default: Answer,
    deliveries: Vec<Delivery>,
    taken: usize,
}

struct Shared {
    vapid_key: String,
    origin: String,
    requests: AtomicUsize,
    state: Mutex<State>,
    arrived: Notify,
}

/// The running stand-in; stops when dropped.
pub struct PushService {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PushService {
    /// Serves HTTP/1.1 on 127.0.0.1:0, expecting pushes signed by the
    /// VAPID public key `vapid_key` (what `GET /push/key` returned).
    pub async fn start(vapid_key: String) -> PushService {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            vapid_key,
            origin: format!("http://{addr}"),
            requests: AtomicUsize::new(0),
            state: Mutex::new(State {
                browsers: HashMap::new(),
                scripts: HashMap::new(),
                default: Answer::Status(201),
                deliveries: Vec::new(),
                taken: 0,
            }),
            arrived: Notify::new(),
        });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(shared.clone(), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        PushService { shared, task }
    }

    /// A fresh browser subscription and its `PushSubscription` JSON, keys
    /// base64url unpadded as browsers send them.
    pub fn subscribe_body(&self) -> (Value, Browser) {
        let secret = SecretKey::try_generate().expect("random key");
        let mut auth = [0; 16];
        p256::elliptic_curve::common::getrandom::fill(&mut auth).expect("random auth");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let endpoint = format!("{}/push/{id}", self.shared.origin);
        let body = json!({
            "endpoint": endpoint,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(secret.public_key().to_uncompressed_point()),
                "auth": URL_SAFE_NO_PAD.encode(auth),
            },
        });
        let browser = Browser {
            id: id.clone(),
            endpoint,
            secret,
            auth,
        };
        self.state().browsers.insert(id, browser.clone());
        (body, browser)
    }

    /// Answers the next pushes to `endpoint_id` with these, in order, then
    /// falls back to the default again.
    pub fn script(&self, endpoint_id: &str, answers: impl IntoIterator<Item = Answer>) {
        self.state()
            .scripts
            .entry(endpoint_id.to_string())
            .or_default()
            .extend(answers);
    }

    /// What every unscripted push is answered with (at first 201).
    pub fn set_default(&self, answer: Answer) {
        self.state().default = answer;
    }

    /// The next delivery not yet taken, waiting up to `within` for it.
    pub async fn next(&self, within: Duration) -> Option<Delivery> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut state = self.state();
                if let Some(delivery) = state.deliveries.get(state.taken).cloned() {
                    state.taken += 1;
                    return Some(delivery);
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// Every request seen so far, good or bad, answered or not.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().expect("push stand-in state")
    }
}

/// A loopback port that counts connection attempts and serves nothing:
/// proof that a refused endpoint was never contacted. Lives as long as
/// the test's runtime.
pub async fn listener_that_counts() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let host_port = listener.local_addr().expect("local addr").to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let counting = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counting.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (host_port, count)
}

/// One push: checked and recorded first, then answered as scripted.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let mut problems = Vec::new();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            problems.push(format!("reading the body: {e}"));
            Bytes::new()
        }
    };
    let path = parts.uri.path();
    let endpoint_id = match path.strip_prefix("/push/") {
        Some(id) if !id.is_empty() && !id.contains('/') => id.to_string(),
        _ => {
            problems.push(format!("path {path} is not /push/<id>"));
            path.to_string()
        }
    };
    if parts.method != hyper::Method::POST {
        problems.push(format!("method {}, not POST", parts.method));
    }
    let header = |name: &str| {
        let value = parts.headers.get(name)?;
        match value.to_str() {
            Ok(text) => Some(text.to_string()),
            Err(_) => Some(format!("(not text: {value:?})")),
        }
    };
    let headers = Headers::check(&header, &shared.vapid_key, &shared.origin, &mut problems);

    let (browser, answer) = {
        let mut state = shared.state.lock().expect("push stand-in state");
        let browser = state.browsers.get(&endpoint_id).cloned();
        let scripted = state
            .scripts
            .get_mut(&endpoint_id)
            .and_then(VecDeque::pop_front);
        (browser, scripted.unwrap_or_else(|| state.default.clone()))
    };
    let payload = browser.and_then(|browser| match browser.decrypt(&body) {
        Ok(plain) => serde_json::from_slice(&plain)
            .map_err(|e| problems.push(format!("the payload is not JSON: {e}")))
            .ok(),
        Err(e) => {
            problems.push(format!("the body does not decrypt: {e}"));
            None
        }
    });
    if body.len() > 4096 {
        problems.push(format!("a body of {} bytes, over 4096", body.len()));
    }
    {
        let mut state = shared.state.lock().expect("push stand-in state");
        state.deliveries.push(Delivery {
            endpoint_id,
            payload,
            ttl: headers.ttl,
            urgency: headers.urgency,
            topic: headers.topic,
            subject: headers.subject,
            problems,
            at,
        });
    }
    shared.arrived.notify_waiters();
    Ok(answer_with(answer).await)
}

async fn answer_with(answer: Answer) -> Response<Full<Bytes>> {
    let (status, retry_after) = match answer {
        Answer::Status(status) => (status, None),
        Answer::RetryAfter(status, seconds) => (status, Some(seconds)),
        Answer::Slow(delay, status) => {
            tokio::time::sleep(delay).await;
            (status, None)
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            (504, None)
        }
    };
    let mut response = Response::builder().status(status);
    if status == 201 {
        let message = uuid::Uuid::new_v4().simple();
        response = response.header("Location", format!("/message/{message}"));
    }
    if let Some(seconds) = retry_after {
        response = response.header("Retry-After", seconds.to_string());
    }
    response.body(Full::new(Bytes::new())).expect("response")
}
