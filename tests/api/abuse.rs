//! What one signed-in account can do to everyone else: costly searches,
//! floods of typing, status and edits, a forged `X-Forwarded-For`, and
//! text that outlives its delete. Each limit is set low here (the harness
//! lifts them everywhere else).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::channel::create_channel;
use crate::helpers::{Binary, Reply, TestServer, WsClient, client_from, register_at};
use crate::message::send;

fn typing(channel: &str) -> String {
    json!({"type": "Typing", "content": {"channel": channel}}).to_string()
}

/// Every frame `ws` receives until it has been quiet for half a second (at
/// most `limit` in all).
async fn drain(ws: &mut WsClient, limit: Duration) -> Vec<Value> {
    let end = Instant::now() + limit;
    let mut frames = Vec::new();
    while let Ok(Ok(frame)) = tokio::time::timeout_at(
        end.min(Instant::now() + Duration::from_millis(500)),
        tokio::time::timeout_at(end, ws.next()),
    )
    .await
    {
        frames.push(frame);
    }
    frames
}

fn count(frames: &[Value], kind: &str) -> usize {
    frames.iter().filter(|f| f["type"] == kind).count()
}

fn assert_limited(reply: &Reply) {
    reply.assert_error(429, "TOO_MANY_REQUESTS");
    let wait: u64 = reply
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(wait >= 1, "{wait}");
}

#[tokio::test]
async fn searches_have_a_budget_per_user_and_repeated_words_count_once() {
    let server = TestServer::start_with(|c| c.searches_per_minute = 3).await;
    let alice = server.register("alice", "pw").await;
    let bob = server.register("bob", "pw").await;
    let here = create_channel(&server, &alice, "here").await;
    let there = create_channel(&server, &alice, "there").await;
    let wanted = send(&server, &alice, &here, "the cat and the hat").await;
    send(&server, &alice, &there, "the cat and the hat").await;

    // Forty words, most of them repeated: the same as the four they hold.
    let hostile = "the%20and%20".repeat(19) + "cat%20ha";
    let found = server
        .get(
            &format!("/message/search?q={hostile}&channel={here}"),
            Some(&alice),
        )
        .await;
    assert_eq!(found.assert_json(200), &json!([wanted]));
    for _ in 0..2 {
        server
            .get("/message/search?q=cat", Some(&alice))
            .await
            .assert_json(200);
    }
    assert_limited(&server.get("/message/search?q=cat", Some(&alice)).await);
    // The budget is the user's own.
    let theirs = server.get("/message/search?q=cat", Some(&bob)).await;
    assert_eq!(theirs.assert_json(200).as_array().map(Vec::len), Some(2));
    server.stop().await;
}

#[tokio::test]
async fn a_search_of_combining_marks_alone_has_no_word() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    for q in ["%CC%81", "%CC%81%CC%82%20%CC%83", "%E2%83%9D"] {
        server
            .get(&format!("/message/search?q={q}"), Some(&alice))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    server.stop().await;
}

#[tokio::test]
async fn typing_for_unknown_channels_is_refused_a_few_times_then_dropped() {
    let server = TestServer::start_with(|c| c.typing_status_per_second = 5).await;
    let alice = server.register("alice", "pw").await;
    let mut ws = WsClient::connect(&server.base).await;
    ws.authenticate(&alice).await;
    for _ in 0..300 {
        ws.send_text(&typing(&uuid::Uuid::new_v4().to_string()))
            .await;
    }
    let frames = drain(&mut ws, Duration::from_secs(5)).await;
    let refusals = frames
        .iter()
        .filter(|f| f["type"] == "Error" && f["content"]["message"] == "NOT_FOUND")
        .count();
    // The budget, and what it regains while the frames arrive.
    assert!((1..=15).contains(&refusals), "{refusals} lookups of 300");
    server.stop().await;
}

#[tokio::test]
async fn one_user_cannot_flood_others_with_typing_or_status() {
    let server = TestServer::start_with(|c| c.typing_status_per_second = 5).await;
    let alice = server.register("alice", "pw").await;
    let bob = server.register("bob", "pw").await;
    let mut channels = Vec::new();
    for i in 0..60 {
        channels.push(create_channel(&server, &alice, &format!("c{i}")).await);
    }
    let mut listener = WsClient::connect(&server.base).await;
    listener.authenticate(&bob).await;
    let mut flooder = WsClient::connect(&server.base).await;
    flooder.authenticate(&alice).await;
    drain(&mut listener, Duration::from_secs(2)).await;

    let started = Instant::now();
    for channel in &channels {
        flooder.send_text(&typing(channel)).await;
    }
    let mut limited = 0;
    for i in 0..60 {
        let status = if i % 2 == 0 { "AFK" } else { "ONLINE" };
        let reply = server
            .post("/user/status/set", Some(&alice), json!({"status": status}))
            .await;
        if reply.status == 429 {
            assert_limited(&reply);
            limited += 1;
        } else {
            reply.assert_json(200);
        }
    }
    let frames = drain(&mut listener, Duration::from_secs(5)).await;
    let seconds = started.elapsed().as_secs_f64();
    let relayed = count(&frames, "Typing") + count(&frames, "Status");
    // A burst of 5, then 5 a second.
    let most = 5 + (5.0 * seconds).ceil() as usize;
    assert!(relayed <= most, "{relayed} events in {seconds:.1} s");
    assert!(count(&frames, "Typing") >= 1 && limited > 0, "{frames:?}");
    server.stop().await;
}

#[tokio::test]
async fn reconnecting_over_and_over_is_limited_too() {
    let server = TestServer::start_with(|c| c.typing_status_per_second = 2).await;
    let alice = server.register("alice", "pw").await;
    let mut refused = false;
    for _ in 0..10 {
        let mut ws = WsClient::connect(&server.base).await;
        ws.send_text(&json!({"type": "Authenticate", "content": {"token": alice}}).to_string())
            .await;
        let answer = ws.next().await;
        if answer["type"] == "Error" {
            assert_eq!(
                answer["content"]["message"], "TOO_MANY_REQUESTS",
                "{answer}"
            );
            refused = true;
            break;
        }
        assert_eq!(answer["type"], "Welcome", "{answer}");
    }
    assert!(refused, "ten sign-ins in a row all announced");
    server.stop().await;
}

#[tokio::test]
async fn edits_and_deletes_have_a_budget_per_user() {
    let server = TestServer::start_with(|c| c.edits_per_minute = 3).await;
    let alice = server.register("alice", "pw").await;
    let channel = create_channel(&server, &alice, "general").await;
    let a = send(&server, &alice, &channel, "one").await["id"].clone();
    let b = send(&server, &alice, &channel, "two").await["id"].clone();
    let edit = |id: &Value, content: &str| {
        let path = format!("/message/{}", id.as_str().unwrap_or_default());
        let body = json!({"content": content});
        let server = &server;
        let alice = alice.clone();
        async move {
            server
                .call(Method::PATCH, &path, Some(&alice), Some(body))
                .await
        }
    };
    edit(&a, "uno").await.assert_json(200);
    edit(&a, "eins").await.assert_json(200);
    let path = format!("/message/{}", b.as_str().unwrap_or_default());
    assert_eq!(
        server
            .call(Method::DELETE, &path, Some(&alice), None)
            .await
            .status,
        204
    );
    assert_limited(&edit(&a, "one more").await);
    assert_limited(&server.call(Method::DELETE, &path, Some(&alice), None).await);
    let kept = server
        .get(
            &format!("/message/{}", a.as_str().unwrap_or_default()),
            Some(&alice),
        )
        .await;
    assert_eq!(kept.assert_json(200)["content"], "eins");
    // Sending is not an edit.
    send(&server, &alice, &channel, "three").await;
    server.stop().await;
}

#[tokio::test]
async fn a_forwarded_for_with_bytes_that_are_not_text_still_names_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--trusted-proxy", "127.0.0.2/32", "--login-attempts", "2"];
    let mut server = Binary::start(dir.path(), &args).await;
    register_at(&server.http, &server.base, "bob", "right").await;
    let proxy = client_from([127, 0, 0, 2]);
    let login = format!("{}/user/login", server.base);
    let wrong = |forwarded: &'static [u8]| {
        let request = proxy
            .post(&login)
            .header(
                "x-forwarded-for",
                reqwest::header::HeaderValue::from_bytes(forwarded).expect("a header value"),
            )
            .json(&json!({"name": "bob", "password": "wrong"}));
        async move { Reply::from(request.send().await.expect("login")).await }
    };
    wrong(b"\xff, 203.0.113.9")
        .await
        .assert_error(403, "FORBIDDEN");
    let line = server.wait_for_log(&["login failed", "203.0.113.9"]).await;
    assert!(line.trim_end().ends_with("from 203.0.113.9"), "{line}");
    wrong(b"203.0.113.9:5555")
        .await
        .assert_error(403, "FORBIDDEN");
    // Both counted against 203.0.113.9, not against the proxy.
    wrong(b"203.0.113.9")
        .await
        .assert_error(429, "TOO_MANY_REQUESTS");
    wrong(b"\xfe\xff, 203.0.113.10")
        .await
        .assert_error(403, "FORBIDDEN");
}

/// How often `needle` occurs in the bytes of `path` (0 if it is absent).
fn occurrences(path: &std::path::Path, needle: &[u8]) -> usize {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).filter(|w| *w == needle).count()
}

#[tokio::test]
async fn deleted_text_leaves_the_file_its_wal_and_later_backups() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let kept = create_channel(&server, &alice, "kept").await;
    let doomed = create_channel(&server, &alice, "doomed").await;
    for i in 0..200 {
        send(
            &server,
            &alice,
            &doomed,
            &format!("zanzibarquokka number {i}"),
        )
        .await;
        send(&server, &alice, &kept, &format!("ordinary words {i}")).await;
    }
    let erased = send(&server, &alice, &kept, "xylophonewombat once").await;
    let path = format!("/message/{}", erased["id"].as_str().unwrap_or_default());
    assert_eq!(
        server
            .call(Method::DELETE, &path, Some(&alice), None)
            .await
            .status,
        204
    );
    let gone = server
        .call(
            Method::DELETE,
            "/channel",
            Some(&alice),
            Some(json!({"id": doomed})),
        )
        .await;
    assert_eq!(gone.status, 204);

    let wal = server.db_path.with_extension("db-wal");
    let words = [&b"zanzibarquokka"[..], b"xylophonewombat"];
    let started = Instant::now();
    loop {
        // Each word's count in the file and in its WAL.
        let left = words.map(|w| (occurrences(&server.db_path, w), occurrences(&wal, w)));
        if left.iter().all(|&counts| counts == (0, 0)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "deleted words still on disk after a minute: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let copy = server.db_path.with_file_name("copy.db");
    azuma::admin::backup(&server.db_path, &copy).expect("a backup");
    assert_eq!(words.map(|w| occurrences(&copy, w)), [0, 0]);
    // What was kept is still there and found.
    let found = server.get("/message/search?q=ordinary", Some(&alice)).await;
    assert_eq!(found.assert_json(200).as_array().map(Vec::len), Some(50));
    server.stop().await;
}

#[tokio::test]
async fn seq_numbers_are_not_reused_after_a_purge() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let old = create_channel(&server, &alice, "old").await;
    let newer = create_channel(&server, &alice, "newer").await;
    send(&server, &alice, &old, "first").await;
    for i in 0..5 {
        send(&server, &alice, &newer, &format!("n{i}")).await;
    }
    // Bob's unread counts start after the newest message there is.
    let bob = server.register("bob", "pw").await;
    let gone = server
        .call(
            Method::DELETE,
            "/channel",
            Some(&alice),
            Some(json!({"id": newer})),
        )
        .await;
    assert_eq!(gone.status, 204);
    let started = Instant::now();
    while server
        .peek()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get::<_, i64>(0))
        .unwrap_or(0)
        > 1
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "purge too slow"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    send(&server, &alice, &old, "after the purge").await;
    let unread = server.get("/user/self/unread", Some(&bob)).await;
    assert_eq!(unread.assert_json(200)[0]["unread"], 1, "{}", unread.text);
    server.stop().await;
}
