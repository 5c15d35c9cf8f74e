//! What the HTTP layer answers before (or beside) any route: a client that
//! never reads is let go, the requests hyper refuses itself still get the
//! API's JSON error, and caches get what they need to tell answers apart.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use crate::helpers::TestServer;

/// Sends `bytes` on a fresh connection and reads until the server closes
/// it (or 5 s pass).
async fn until_closed(base: &str, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .expect("connect");
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after 5 s: {}", String::from_utf8_lossy(&answer)),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Asserts that `answer` (one raw HTTP response, the last on its
/// connection) is the API's JSON error with this status and code.
#[track_caller]
pub(crate) fn assert_raw_error(answer: &str, status: u16, code: &str) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole head");
    assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("\r\ncontent-type: application/json\r\n"),
        "{answer}"
    );
    assert!(
        head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
        "{answer}"
    );
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(body["message"], code, "{answer}");
    let fields = body.as_object().expect("an object");
    assert!(
        fields.keys().all(|k| k == "message" || k == "detail"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_at_the_write_deadline() {
    // 10 MB of answers, more than any socket buffers hold (Linux's send
    // buffer grows to 4 MB at most).
    const PIPELINED: usize = 200;
    let server =
        TestServer::start_with(|c| c.http.header_timeout = Duration::from_millis(500)).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    // About 50 KB each.
    let request = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n";
    stream.write_all(&request.repeat(PIPELINED)).await.unwrap();
    // Reading nothing, well past the deadline; then what was sent by then.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open 20 s after the deadline"),
        }
    }
    let head = b"HTTP/1.1 200 OK\r\n";
    let answered = received.windows(head.len()).filter(|w| w == head).count();
    assert!(
        answered < PIPELINED,
        "all {answered} answers were sent to a client that did not read"
    );
    server.stop().await;
}

#[tokio::test]
async fn headers_hyper_refuses_as_too_large_get_the_json_431() {
    let server = TestServer::start().await;
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(70_000)
    );
    let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    for request in [big, many] {
        let answer = until_closed(&server.base, request.as_bytes()).await;
        assert_raw_error(&answer, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
    }
    server.stop().await;
}

#[tokio::test]
async fn requests_hyper_cannot_parse_get_the_json_400() {
    let server = TestServer::start().await;
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let answer = until_closed(&server.base, request).await;
        assert_raw_error(&answer, 400, "BAD_REQUEST");
    }
    // After an answer on the same connection, too.
    let answer = until_closed(
        &server.base,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n",
    )
    .await;
    let second = answer.find("HTTP/1.1 400").expect("a second answer");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert_raw_error(&answer[second..], 400, "BAD_REQUEST");
    server.stop().await;
}

/// The tokens of every `Vary` header, lowercased.
fn vary(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn gzip_and_plain_files_have_their_own_etags() {
    let server = TestServer::start().await;
    let get = |encoding: &'static str, held: Option<String>| {
        let mut request = server
            .client
            .get(server.url("/app/"))
            .header("accept-encoding", encoding);
        if let Some(held) = held {
            request = request.header("if-none-match", held);
        }
        request.send()
    };
    let plain = get("identity", None).await.unwrap();
    let zipped = get("gzip", None).await.unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let tag = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().to_owned();
    let (plain_tag, zipped_tag) = (tag(&plain), tag(&zipped));
    assert_ne!(plain_tag, zipped_tag, "one tag for two bodies");
    for (encoding, held, status) in [
        ("identity", &plain_tag, 304),
        ("gzip", &zipped_tag, 304),
        ("identity", &zipped_tag, 200),
        ("gzip", &plain_tag, 200),
    ] {
        let again = get(encoding, Some(held.clone())).await.unwrap();
        assert_eq!(again.status(), status, "{encoding} holding {held}");
        assert!(vary(again.headers()).contains(&"accept-encoding".into()));
        let own = if encoding == "gzip" {
            &zipped_tag
        } else {
            &plain_tag
        };
        assert_eq!(&tag(&again), own, "{encoding} holding {held}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_index_varies_with_accept_cors_or_not() {
    for cors in [false, true] {
        let server = TestServer::start_with(|c| {
            if cors {
                c.cors_origins = vec!["http://localhost:5173".into()];
            }
        })
        .await;
        let no_redirects = crate::helpers::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        for (accept, status) in [("text/html", 303), ("application/json", 200)] {
            let sent = no_redirects
                .get(server.url("/"))
                .header("accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(sent.status(), status);
            let vary = vary(sent.headers());
            assert!(vary.contains(&"accept".into()), "{accept}: {vary:?}");
            assert_eq!(vary.contains(&"origin".into()), cors, "{vary:?}");
        }
        let page = server.client.get(server.url("/app/")).send().await.unwrap();
        let vary = vary(page.headers());
        assert!(vary.contains(&"accept-encoding".into()), "{vary:?}");
        assert_eq!(vary.contains(&"origin".into()), cors, "{vary:?}");
        server.stop().await;
    }
}
