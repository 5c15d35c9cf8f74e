//! `POST /message/send` and `GET /channel/{id}/messages`.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::channel::create_channel;
use crate::helpers::{TestServer, assert_timestamp, assert_uuid, client};

pub async fn send(server: &TestServer, token: &str, channel: &str, content: &str) -> Value {
    let reply = server
        .post(
            "/message/send",
            Some(token),
            json!({"channel": channel, "content": content}),
        )
        .await;
    reply.assert_json(200).clone()
}

pub async fn page(server: &TestServer, token: &str, channel: &str, query: &str) -> Vec<Value> {
    let reply = server
        .get(&format!("/channel/{channel}/messages{query}"), Some(token))
        .await;
    reply.assert_json(200).as_array().expect("an array").clone()
}

pub fn contents(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn send_stores_the_message_before_answering() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let me = server.get("/user/self", Some(&token)).await.body;
    let channel = create_channel(&server, &token, "general").await;

    let message = send(&server, &token, &channel, "Hello World").await;
    assert_eq!(message.as_object().unwrap().len(), 8, "{message}");
    assert_eq!(message["edited_at"], serde_json::Value::Null);
    assert_eq!(message["mentions"], serde_json::json!([]));
    assert_uuid(message["id"].as_str().unwrap());
    assert_eq!(message["author"], me["id"]);
    assert_eq!(message["channel"], channel.as_str());
    assert_eq!(message["content"], "Hello World");
    assert_timestamp(message["created_at"].as_str().unwrap());

    // Committed: another connection to the file sees it right away.
    let stored: String = server
        .peek()
        .query_row("SELECT content FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, "Hello World");
    assert_eq!(page(&server, &token, &channel, "").await, vec![message]);
    server.stop().await;
}

#[tokio::test]
async fn send_checks_the_channel_and_the_content() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let channel = create_channel(&server, &token, "general").await;
    server
        .post(
            "/message/send",
            Some(&token),
            json!({"channel": "318cd399-f47f-478f-8d09-c9c414c3750d", "content": "hi"}),
        )
        .await
        .assert_error(404, "NOT_FOUND");
    for body in [
        json!({"channel": "nope", "content": "hi"}),
        json!({"channel": channel}),
        json!({"content": "hi"}),
        json!({"channel": channel, "content": ""}),
        json!({"channel": channel, "content": "   "}),
        json!({"channel": channel, "content": "\n\t\u{3000}"}),
        json!({"channel": channel, "content": "x".repeat(4001)}),
        json!({"channel": channel, "content": 42}),
        json!({"channel": channel, "content": null}),
    ] {
        server
            .post("/message/send", Some(&token), body)
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    // Exactly 4000 characters (8000 bytes) and surrounding whitespace are kept.
    let long = "é".repeat(4000);
    assert_eq!(
        send(&server, &token, &channel, &long).await["content"],
        long.as_str()
    );
    assert_eq!(
        send(&server, &token, &channel, "  padded \n").await["content"],
        "  padded \n"
    );
    assert_eq!(page(&server, &token, &channel, "").await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn history_pages_with_before_after_and_limit() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let channel = create_channel(&server, &token, "general").await;
    let other = create_channel(&server, &token, "other").await;
    assert!(page(&server, &token, &channel, "").await.is_empty());
    send(&server, &token, &other, "elsewhere, never in this history").await;
    let mut sent = Vec::new();
    for i in 0..120 {
        sent.push(send(&server, &token, &channel, &format!("m{i:03}")).await);
    }
    let all: Vec<String> = (0..120).map(|i| format!("m{i:03}")).collect();

    // Newest 50 by default, oldest first.
    let newest = page(&server, &token, &channel, "").await;
    assert_eq!(contents(&newest), all[70..]);
    assert_eq!(newest[49], sent[119]);
    assert_eq!(
        contents(&page(&server, &token, &channel, "?limit=1").await),
        ["m119"]
    );
    assert_eq!(
        page(&server, &token, &channel, "?limit=100").await.len(),
        100
    );

    let id = |i: usize| sent[i]["id"].as_str().unwrap().to_owned();
    let before = page(
        &server,
        &token,
        &channel,
        &format!("?before={}&limit=5", id(10)),
    )
    .await;
    assert_eq!(contents(&before), all[5..10]);
    let before = page(&server, &token, &channel, &format!("?before={}", id(3))).await;
    assert_eq!(contents(&before), all[..3]);
    assert!(
        page(&server, &token, &channel, &format!("?before={}", id(0)))
            .await
            .is_empty()
    );

    let after = page(
        &server,
        &token,
        &channel,
        &format!("?after={}&limit=5", id(10)),
    )
    .await;
    assert_eq!(contents(&after), all[11..16]);
    let after = page(&server, &token, &channel, &format!("?after={}", id(100))).await;
    assert_eq!(contents(&after), all[101..]);
    assert!(
        page(&server, &token, &channel, &format!("?after={}", id(119)))
            .await
            .is_empty()
    );
    // Uppercase ids are the same ids; unknown parameters are ignored.
    let upper = page(
        &server,
        &token,
        &channel,
        &format!("?after={}&x=1", id(117).to_uppercase()),
    )
    .await;
    assert_eq!(contents(&upper), ["m118", "m119"]);
    server.stop().await;
}

#[tokio::test]
async fn history_errors() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let channel = create_channel(&server, &token, "general").await;
    let other = create_channel(&server, &token, "other").await;
    let mine = send(&server, &token, &channel, "here").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = send(&server, &token, &other, "there").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unknown = "318cd399-f47f-478f-8d09-c9c414c3750d";
    let get = |path: String| {
        let server = &server;
        let token = token.clone();
        async move { server.get(&path, Some(&token)).await }
    };
    get(format!("/channel/{unknown}/messages"))
        .await
        .assert_error(404, "NOT_FOUND");
    get("/channel/nope/messages".into())
        .await
        .assert_error(400, "BAD_REQUEST");
    for query in [
        format!("?before={mine}&after={mine}"),
        "?before=nope".into(),
        "?after=".into(),
        format!("?before={foreign}"),
        format!("?after={foreign}"),
        format!("?after={unknown}"),
        format!("?before={channel}"),
        "?limit=0".into(),
        "?limit=101".into(),
        "?limit=-5".into(),
        "?limit=ten".into(),
        "?limit=".into(),
        "?limit=1&limit=2".into(),
        format!("?before={mine}&before={mine}"),
    ] {
        get(format!("/channel/{channel}/messages{query}"))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    get(format!("/channel/{channel}/messages"))
        .await
        .assert_json(200);
    server.stop().await;
}

/// 1,000 messages from 20 concurrent clients; the history, walked with
/// `before` and with `after`, holds each exactly once in one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_are_each_in_the_history_exactly_once() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let channel = create_channel(&server, &token, "busy").await;
    let senders: Vec<_> = (0..20)
        .map(|sender| {
            let (url, token, channel) =
                (server.url("/message/send"), token.clone(), channel.clone());
            tokio::spawn(async move {
                let http = client();
                let mut ids = Vec::new();
                for i in 0..50 {
                    let response = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"channel": channel, "content": format!("{sender}-{i}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    let message: Value = response.json().await.unwrap();
                    ids.push(message["id"].as_str().unwrap().to_owned());
                }
                ids
            })
        })
        .collect();
    let mut acknowledged = HashSet::new();
    for sender in senders {
        acknowledged.extend(sender.await.unwrap());
    }
    assert_eq!(acknowledged.len(), 1000);

    let ids = |messages: &[Value]| -> Vec<String> {
        messages
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Backwards from the newest, in pages of 37.
    let mut backwards: Vec<String> = Vec::new();
    let mut query = "?limit=37".to_owned();
    loop {
        let messages = page(&server, &token, &channel, &query).await;
        if messages.is_empty() {
            break;
        }
        let mut page_ids = ids(&messages);
        query = format!("?limit=37&before={}", page_ids[0]);
        page_ids.extend(backwards);
        backwards = page_ids;
    }
    // Forwards from the oldest, in pages of 100.
    let oldest = page(
        &server,
        &token,
        &channel,
        &format!("?limit=1&before={}", backwards[1]),
    )
    .await;
    let mut forwards = oldest;
    loop {
        let last = forwards.last().unwrap()["id"].as_str().unwrap().to_owned();
        let messages = page(
            &server,
            &token,
            &channel,
            &format!("?limit=100&after={last}"),
        )
        .await;
        if messages.is_empty() {
            break;
        }
        forwards.extend(messages);
    }
    assert_eq!(backwards.len(), 1000);
    assert_eq!(ids(&forwards), backwards, "both walks see one order");
    assert_eq!(
        backwards.iter().cloned().collect::<HashSet<_>>(),
        acknowledged
    );

    // Each sender's messages are in the order it sent them.
    for sender in 0..20 {
        let prefix = format!("{sender}-");
        let mine: Vec<_> = contents(&forwards)
            .into_iter()
            .filter(|c| c.starts_with(&prefix))
            .collect();
        let expected: Vec<_> = (0..50).map(|i| format!("{sender}-{i}")).collect();
        assert_eq!(mine, expected);
    }
    server.stop().await;
}
