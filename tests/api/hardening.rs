//! Connections an attacker holds open: HTTP/2, silence, stalled
//! bodies, huge headers, too many connections; and websockets that outlive
//! their session.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::helpers::{TestServer, WsClient, raw, register_at};

/// How long a connection stays open once it has sent `bytes`: the time to
/// the server's close, or `None` if still open after `limit`.
async fn open_for(base: &str, bytes: &[u8], limit: Duration) -> (Option<Duration>, Vec<u8>) {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream.write_all(bytes).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(started + limit, stream.read(&mut buf)).await {
            Err(_) => return (None, answer),
            Ok(Ok(0) | Err(_)) => return (Some(started.elapsed()), answer),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

fn short_deadlines(c: &mut azuma::Config) {
    c.http.header_timeout = Duration::from_millis(500);
    c.http.body_timeout = Duration::from_millis(500);
}

#[tokio::test]
async fn http2_is_not_spoken() {
    let server = TestServer::start().await;
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    let (closed, answer) = open_for(&server.base, preface, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "an HTTP/2 preface is not kept open");
    // An HTTP/2 server answers with a SETTINGS frame: type 4 at byte 3.
    assert!(!(answer.len() >= 9 && answer[3] == 4), "{answer:?}");
    server.stop().await;
}

#[tokio::test]
async fn silent_and_half_sent_connections_are_closed_at_the_deadline() {
    let server = TestServer::start_with(short_deadlines).await;
    for bytes in [&b""[..], b"PRI * HTT", b"GET / HTTP/1.1\r\nHost: x\r\n"] {
        let (closed, _) = open_for(&server.base, bytes, Duration::from_secs(5)).await;
        assert!(closed.is_some(), "{bytes:?} still open after 5 s");
    }
    // A kept-alive connection that goes quiet is closed too.
    let (closed, answer) = open_for(
        &server.base,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    assert!(closed.is_some(), "idle keep-alive still open after 5 s");
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_closed() {
    let server = TestServer::start_with(short_deadlines).await;
    let request = b"POST /user/register HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":";
    let (closed, answer) = open_for(&server.base, request, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a stalled body is not waited for");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#""message":"REQUEST_TIMEOUT""#),
        "{answer}"
    );
    assert!(
        server
            .peek()
            .query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))
            .unwrap()
            == 0
    );
    server.stop().await;
}

#[tokio::test]
async fn header_blocks_over_64_kib_are_refused() {
    let server = TestServer::start().await;
    let request = |size: usize| {
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(size)
        )
    };
    let fits = raw(
        &server.base,
        request(60_000).as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        fits.starts_with("HTTP/1.1 200"),
        "{}",
        &fits[..fits.len().min(200)]
    );
    for size in [66 * 1024, 400_000] {
        let refused = raw(
            &server.base,
            request(size).as_bytes(),
            Duration::from_secs(5),
        )
        .await;
        assert!(refused.starts_with("HTTP/1.1 431"), "{size}: {refused}");
    }
    server.stop().await;
}

#[tokio::test]
async fn open_connections_per_address_are_capped_websockets_included() {
    let server = TestServer::start_with(|c| c.http.per_address = 4).await;
    // A client that keeps no connection open once it has its answer.
    let unpooled = crate::helpers::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let token = register_at(&unpooled, &server.base, "alice", "pw").await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut ws = WsClient::connect(&server.base).await;
        ws.authenticate(&token).await;
        sockets.push(ws);
    }
    // The fourth place: a kept-alive HTTP connection.
    let mut kept = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    kept.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));

    let refused = raw(
        &server.base,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 10"),
        "{refused}"
    );
    assert!(
        refused.contains(r#""message":"TOO_MANY_REQUESTS""#),
        "{refused}"
    );

    // A websocket that closes gives its place back.
    let mut gone = sockets.pop().unwrap();
    assert_eq!(gone.close_from_client().await, Some(1000));
    drop(gone);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let again = raw(
            &server.base,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        )
        .await;
        if again.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the place never came back: {again}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(kept);
    server.stop().await;
}

#[tokio::test]
async fn a_websocket_closes_when_its_session_expires() {
    let server =
        TestServer::start_with(|c| c.prune_interval = azuma::Seconds(Duration::from_millis(50)))
            .await;
    let token = server.register("alice", "pw").await;
    let mut ws = WsClient::connect(&server.base).await;
    ws.authenticate(&token).await;
    // Fifteen days pass without a use of the token.
    server.clock.advance(Duration::from_secs(15 * 24 * 3600));
    let (code, reason, _) = ws.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "session expired"));
    server
        .get("/user/self", Some(&token))
        .await
        .assert_error(401, "UNAUTHORIZED");
    server.stop().await;
}

#[tokio::test]
async fn a_logout_racing_authenticate_never_leaves_a_live_socket() {
    let server = TestServer::start().await;
    server.register("alice", "pw").await;
    for _ in 0..60 {
        let token = server.login("alice", "pw").await;
        let mut ws = WsClient::connect(&server.base).await;
        let frame = json!({"type": "Authenticate", "content": {"token": token}}).to_string();
        let (_, logout) = tokio::join!(
            ws.send_text(&frame),
            server.call(Method::POST, "/user/logout", Some(&token), None)
        );
        assert_eq!(logout.status, 204);
        let answer = ws.next().await;
        if answer == json!({"type": "Welcome"}) {
            // Welcomed before the logout landed: the logout must close it.
            let (code, reason, _) = ws.closed().await;
            assert_eq!((code, reason.as_str()), (1008, "token revoked"));
        } else {
            assert_eq!(answer["content"]["message"], "UNAUTHORIZED");
        }
    }
    server.stop().await;
}
