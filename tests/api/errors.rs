//! The error model on every path: 404, 405, 400, 413, 401 and 500, each as
//! the API's JSON body.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Reply, TestServer, raw};

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let server = TestServer::start().await;
    for path in [
        "/nope",
        "/users",
        "/user/self/extra",
        "/user/status",
        "//",
        "/%ff",
    ] {
        server.get(path, None).await.assert_error(404, "NOT_FOUND");
    }
    server
        .post("/nothing/here", None, json!({}))
        .await
        .assert_error(404, "NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn wrong_method_on_a_known_path_is_405_json() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "neo").await;
    let cases: &[(&str, &[Method])] = &[
        (
            "/",
            &[Method::POST, Method::DELETE, Method::PATCH, Method::PUT],
        ),
        (
            "/user/register",
            &[Method::GET, Method::PATCH, Method::DELETE],
        ),
        ("/user/login", &[Method::GET, Method::PUT]),
        ("/user/logout", &[Method::GET, Method::DELETE]),
        ("/user/update", &[Method::GET, Method::POST, Method::PUT]),
        ("/user/self", &[Method::POST, Method::DELETE]),
        (
            "/user/318cd399-f47f-478f-8d09-c9c414c3750d",
            &[Method::POST, Method::PATCH],
        ),
        ("/channel", &[Method::PATCH, Method::PUT]),
        (
            "/channel/318cd399-f47f-478f-8d09-c9c414c3750d",
            &[Method::POST, Method::DELETE, Method::PATCH],
        ),
        (
            "/channel/318cd399-f47f-478f-8d09-c9c414c3750d/messages",
            &[Method::POST, Method::DELETE],
        ),
        ("/message/send", &[Method::GET, Method::PUT]),
    ];
    for (path, methods) in cases {
        for method in *methods {
            // With and without a token: the method is judged first.
            for token in [None, Some(token.as_str())] {
                let reply = server.call(method.clone(), path, token, None).await;
                assert_eq!(reply.status, 405, "{method} {path}: {}", reply.text);
                reply.assert_error(405, "METHOD_NOT_ALLOWED");
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_json() {
    let server = TestServer::start().await;
    let send = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = server.client.post(server.url("/user/register")).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        async move { Reply::from(request.send().await.unwrap()).await }
    };
    let json = Some("application/json");
    for (content_type, body) in [
        (json, "{"),
        (json, ""),
        (json, "null"),
        (json, "[]"),
        (json, "\"azuma\""),
        (json, "{\"name\": \"azuma\"}"),
        (json, "{\"password\": \"neo\"}"),
        (json, "{\"name\": 5, \"password\": \"neo\"}"),
        (json, "{\"name\": \"azuma\", \"password\": null}"),
        (
            json,
            "{\"name\": \"azuma\", \"password\": \"neo\"} trailing",
        ),
        (json, "{\"name\": \"a\u{0}\", \"password\": \"neo\"}"),
        (None, "{\"name\": \"azuma\", \"password\": \"neo\"}"),
        (
            Some("text/plain"),
            "{\"name\": \"azuma\", \"password\": \"neo\"}",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            "name=azuma&password=neo",
        ),
        (
            Some("application/jsonp"),
            "{\"name\": \"azuma\", \"password\": \"neo\"}",
        ),
    ] {
        let reply = send(content_type, body).await;
        assert_eq!(
            reply.status, 400,
            "{content_type:?} {body:?}: {}",
            reply.text
        );
        reply.assert_error(400, "BAD_REQUEST");
        assert!(reply.body["detail"].is_string());
    }
    // Nothing of it was stored: the name is still free.
    server.register("azuma", "neo").await;

    // The charset parameter is fine, and unknown fields are ignored.
    let reply = server
        .client
        .post(server.url("/user/register"))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"name": "other", "password": "x", "extra": [1, 2]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    server.stop().await;
}

#[tokio::test]
async fn bodies_over_64_kib_are_413_and_up_to_64_kib_are_read() {
    let server = TestServer::start().await;
    let padded = |len: usize| {
        let head = r#"{"name":"nobody","password":"x","pad":""#;
        let tail = r#""}"#;
        format!("{head}{}{tail}", "a".repeat(len - head.len() - tail.len()))
    };
    // Exactly 64 KiB: read and answered (no such user).
    let reply = server
        .client
        .post(server.url("/user/login"))
        .header("content-type", "application/json")
        .body(padded(64 * 1024))
        .send()
        .await
        .unwrap();
    Reply::from(reply).await.assert_error(404, "NOT_FOUND");

    // One byte more, with a Content-Length.
    let reply = server
        .client
        .post(server.url("/user/login"))
        .header("content-type", "application/json")
        .body(padded(64 * 1024 + 1))
        .send()
        .await
        .unwrap();
    Reply::from(reply)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");

    // Chunked, without a Content-Length: stopped once past the limit.
    let chunks =
        futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 8 * 1024])));
    let reply = server
        .client
        .post(server.url("/user/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    Reply::from(reply)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_sent() {
    let server = TestServer::start().await;
    // Announce 1 GB and send none of it: the answer must come anyway.
    let response = raw(
        &server.base,
        b"POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 1000000000\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 413 "), "{response}");
    assert!(
        response.contains(r#""message":"PAYLOAD_TOO_LARGE""#),
        "{response}"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_authenticated_route_requires_a_valid_bearer_token() {
    let server = TestServer::start().await;
    let valid = server.register("azuma", "neo").await;
    let unknown = "318cd399-f47f-478f-8d09-c9c414c3750d";
    let routes = [
        (Method::POST, "/user/logout"),
        (Method::PATCH, "/user/update"),
        (Method::GET, "/user/self"),
        (Method::GET, "/user/318cd399-f47f-478f-8d09-c9c414c3750d"),
        (Method::POST, "/channel"),
        (Method::GET, "/channel"),
        (Method::DELETE, "/channel"),
        (Method::GET, "/channel/318cd399-f47f-478f-8d09-c9c414c3750d"),
        (
            Method::GET,
            "/channel/318cd399-f47f-478f-8d09-c9c414c3750d/messages",
        ),
        (Method::POST, "/message/send"),
    ];
    let bad_headers = [
        None,
        Some(String::new()),
        Some(valid.clone()),
        Some(format!("Basic {valid}")),
        Some(format!("Bearer{valid}")),
        Some("Bearer".into()),
        Some("Bearer not-a-token".into()),
        Some(format!("Bearer {unknown}")),
        Some(format!("Bearer {valid}x")),
    ];
    for (method, path) in &routes {
        for header in &bad_headers {
            let mut request = server.client.request(method.clone(), server.url(path));
            if let Some(h) = header {
                request = request.header("authorization", h);
            }
            let reply = Reply::from(request.json(&json!({})).send().await.unwrap()).await;
            assert_eq!(
                reply.status, 401,
                "{method} {path} {header:?}: {}",
                reply.text
            );
            reply.assert_error(401, "UNAUTHORIZED");
        }
    }
    // A non-ASCII header is just as unauthorized.
    let reply = raw(
        &server.base,
        b"GET /user/self HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xe9\xe9\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 401 "), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn internal_failures_are_500_without_their_cause() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "neo").await;
    // Break the database behind the server's back.
    server
        .peek()
        .execute_batch("DROP TABLE sessions")
        .expect("drop");
    let reply = server.get("/user/self", Some(&token)).await;
    reply.assert_error(500, "INTERNAL_SERVER_ERROR");
    let text = reply.text.to_lowercase();
    for secret in ["sessions", "sql", "table", "database"] {
        assert!(!text.contains(secret), "leaks {secret:?}: {}", reply.text);
    }
    server.stop().await;
}
