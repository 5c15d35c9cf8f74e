//! The Chrome DevTools Protocol, spoken directly: what chromedriver's
//! commands cannot do (a service worker's own target, events such as a
//! worker's registration). The browser's DevTools address is in the
//! WebDriver session's capabilities (`goog:chromeOptions.debuggerAddress`);
//! one websocket to it carries every target's session (`flatten`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{Browser, PATIENCE};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A DevTools connection to the whole browser.
pub struct Cdp {
    sink: tokio::sync::Mutex<Sink>,
    next: AtomicU64,
    waiting: Waiting,
    /// Every event received, in order, with its `sessionId` (if any).
    events: Arc<Mutex<Vec<Value>>>,
}

impl Cdp {
    /// Connects to `browser`'s DevTools.
    pub async fn connect(browser: &Browser) -> Cdp {
        let capabilities = browser.client.capabilities().expect("capabilities");
        let address = capabilities["goog:chromeOptions"]["debuggerAddress"]
            .as_str()
            .expect("goog:chromeOptions.debuggerAddress");
        let version: Value = reqwest::get(format!("http://{address}/json/version"))
            .await
            .expect("DevTools' /json/version")
            .json()
            .await
            .expect("its JSON");
        let url = version["webSocketDebuggerUrl"]
            .as_str()
            .expect("its websocket");
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("DevTools' websocket");
        let (sink, mut stream) = socket.split();
        let waiting: Waiting = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (answers, heard) = (waiting.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let Ok(text) = frame.into_text() else {
                    continue;
                };
                let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                match message["id"].as_u64() {
                    Some(id) => {
                        if let Some(answer) = answers.lock().unwrap().remove(&id) {
                            let _ = answer.send(message);
                        }
                    }
                    None => heard.lock().unwrap().push(message),
                }
            }
        });
        Cdp {
            sink: tokio::sync::Mutex::new(sink),
            next: AtomicU64::new(1),
            waiting,
            events,
        }
    }

    /// `method` with `params` in `session` (None: the browser's own);
    /// its result, or its error as `Err`.
    pub async fn try_send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        let (answer, answered) = oneshot::channel();
        self.waiting.lock().unwrap().insert(id, answer);
        self.sink
            .lock()
            .await
            .send(Message::text(command.to_string()))
            .await
            .expect("a DevTools command sent");
        let mut reply = tokio::time::timeout(PATIENCE, answered)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method} in {PATIENCE:?}"))
            .expect("the DevTools connection open");
        match reply.get_mut("error") {
            Some(error) => Err(error.take()),
            None => Ok(reply["result"].take()),
        }
    }

    /// [`Cdp::try_send`], which must succeed.
    pub async fn send(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.try_send(session, method, params)
            .await
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// The first event (of all received so far, or to come) named
    /// `method` whose params satisfy `matches`, waiting for it.
    pub async fn event(&self, method: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let found = self
                .events
                .lock()
                .unwrap()
                .iter()
                .find(|e| e["method"] == method && matches(&e["params"]))
                .cloned();
            if let Some(event) = found {
                return event["params"].clone();
            }
            assert!(
                start.elapsed() < PATIENCE,
                "waited {PATIENCE:?} for the event {method}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A session on the first target of `kind` (`page`, `service_worker`)
    /// whose address starts with `url`, waiting for one to be there.
    pub async fn attach(&self, kind: &str, url: &str) -> String {
        let start = Instant::now();
        let target = loop {
            let targets = self.send(None, "Target.getTargets", json!({})).await;
            let found = targets["targetInfos"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| {
                    t["type"] == kind && t["url"].as_str().is_some_and(|u| u.starts_with(url))
                })
                .cloned();
            if let Some(target) = found {
                break target;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no {kind} target at {url}: {targets}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let attached = self
            .send(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned()
    }

    /// Evaluates `expression` in `session`'s target, awaiting a promise;
    /// its value (as JSON), or the exception it threw as `Err`.
    pub async fn evaluate(&self, session: &str, expression: &str) -> Result<Value, Value> {
        let params = json!({"expression": expression, "awaitPromise": true, "returnByValue": true});
        let mut result = self.send(Some(session), "Runtime.evaluate", params).await;
        match result.get_mut("exceptionDetails") {
            Some(exception) => Err(exception.take()),
            None => Ok(result["result"]["value"].take()),
        }
    }
}
