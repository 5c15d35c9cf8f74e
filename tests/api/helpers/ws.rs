//! A real websocket client on `/init_ws`, which checks every frame it
//! receives against the server's own OpenAPI document.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;

/// A real websocket client on `/init_ws`.
pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<Mutable>,
    muted: Arc<AtomicBool>,
    frames: &'static jsonschema::Validator,
}

/// A TCP stream whose writes can be silently dropped, to play a client that
/// has stopped answering (its pongs go nowhere) yet can still be read.
pub struct Mutable {
    inner: tokio::net::TcpStream,
    muted: Arc<AtomicBool>,
}

impl tokio::io::AsyncRead for Mutable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Mutable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.muted.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How long a websocket test waits for something that should come.
const WS_WAIT: Duration = Duration::from_secs(10);

impl WsClient {
    /// Connects to the server at `base` (`http://127.0.0.1:PORT`).
    pub async fn connect(base: &str) -> WsClient {
        WsClient::connect_with_receive_buffer(base, None).await
    }

    /// Connects with a small socket receive buffer, for a client meant to
    /// fall behind quickly.
    pub async fn connect_with_receive_buffer(base: &str, bytes: Option<u32>) -> WsClient {
        let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(bytes) = bytes {
            socket.set_recv_buffer_size(bytes).unwrap();
        }
        let muted = Arc::new(AtomicBool::new(false));
        let stream = Mutable {
            inner: socket.connect(addr).await.expect("connect"),
            muted: muted.clone(),
        };
        let url = format!("ws://{addr}/init_ws");
        let (socket, response) = tokio_tungstenite::client_async(url, stream)
            .await
            .expect("websocket handshake");
        assert_eq!(response.status(), 101);
        let frames = frame_schema(base).await;
        WsClient {
            socket,
            muted,
            frames,
        }
    }

    /// From now on nothing this client writes reaches the server.
    pub fn mute(&self) {
        self.muted.store(true, Ordering::Relaxed);
    }

    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.socket
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .expect("send");
    }

    /// Sends `Authenticate` and expects `Welcome`.
    pub async fn authenticate(&mut self, token: &str) {
        let frame = serde_json::json!({"type": "Authenticate", "content": {"token": token}});
        self.send_text(&frame.to_string()).await;
        assert_eq!(self.next().await, serde_json::json!({"type": "Welcome"}));
    }

    /// The next text frame, as JSON (pings are answered, not returned).
    pub async fn next(&mut self) -> Value {
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame =
                tokio::time::timeout(WS_WAIT, futures_util::StreamExt::next(&mut self.socket))
                    .await
                    .expect("a frame within 10 s")
                    .expect("the connection is open")
                    .expect("a valid frame");
            match frame {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).expect("JSON frame");
                    if let Err(e) = self.frames.validate(&frame) {
                        panic!("{text} is not a ServerFrame of /openapi.json: {e}");
                    }
                    return frame;
                }
                Message::Close(close) => panic!("closed: {close:?}"),
                _ => {}
            }
        }
    }

    /// The next frame not of type `kind`.
    pub async fn next_but(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] != kind {
                return frame;
            }
        }
    }

    /// The next frame of type `kind`, skipping others (such as `Status`).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Reads until the server's close frame; returns its code and reason,
    /// and how many `Message` frames came before it.
    pub async fn closed(&mut self) -> (u16, String, usize) {
        use tokio_tungstenite::tungstenite::Message;
        let mut messages = 0;
        loop {
            let frame =
                tokio::time::timeout(WS_WAIT, futures_util::StreamExt::next(&mut self.socket))
                    .await
                    .expect("closed within 10 s");
            match frame {
                Some(Ok(Message::Close(Some(close)))) => {
                    return (close.code.into(), close.reason.to_string(), messages);
                }
                Some(Ok(Message::Text(text))) if text.contains(r#""type":"Message""#) => {
                    messages += 1
                }
                Some(Ok(_)) => {}
                other => panic!("connection ended without a close frame: {other:?}"),
            }
        }
    }

    /// Closes from the client's side (code 1000) and returns the code of the
    /// server's answering close frame, if one came before the connection ended.
    pub async fn close_from_client(&mut self) -> Option<u16> {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let frame = CloseFrame {
            code: 1000.into(),
            reason: "bye".into(),
        };
        self.socket
            .send(Message::Close(Some(frame)))
            .await
            .expect("send close");
        loop {
            let next =
                tokio::time::timeout(WS_WAIT, futures_util::StreamExt::next(&mut self.socket))
                    .await
                    .expect("an answer within 10 s");
            match next {
                Some(Ok(Message::Close(answer))) => return answer.map(|c| c.code.into()),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    }

    /// Asserts no text frame arrives within `wait`.
    pub async fn silent_for(&mut self, wait: Duration) {
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut self.socket))
                .await
            {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(text)))) => panic!("unexpected frame {text}"),
                Ok(Some(Ok(Message::Close(close)))) => panic!("unexpected close {close:?}"),
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("connection ended: {other:?}"),
            }
        }
    }
}

/// The `ServerFrame` schema of the document served at `base`: fetched once,
/// as every server in a test run is the same build.
async fn frame_schema(base: &str) -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    if let Some(schema) = SCHEMA.get() {
        return schema;
    }
    let mut document: Value = crate::helpers::client()
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("the document is JSON");
    // The document as the root, so its `#/components/...` references resolve.
    document["$ref"] = "#/components/schemas/ServerFrame".into();
    let schema = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&document)
        .expect("ServerFrame is a valid schema");
    SCHEMA.get_or_init(|| schema)
}
