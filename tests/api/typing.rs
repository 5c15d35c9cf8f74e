//! `Typing` frames: relayed to others, throttled, never stored;
//! and a database from before typing and search, migrated.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::channel::create_channel;
use crate::helpers::{Binary, TestServer, WsClient};

fn typing(channel: &str) -> String {
    json!({"type": "Typing", "content": {"channel": channel}}).to_string()
}

#[tokio::test]
async fn typing_is_relayed_to_others_once_per_3_s_and_never_stored() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let bob = server.register("bob", "pw").await;
    let alice_id = server.get("/user/self", Some(&alice)).await.body["id"].clone();
    let channel = create_channel(&server, &alice, "general").await;
    let mut typist = WsClient::connect(&server.base).await;
    typist.authenticate(&alice).await;
    let mut typists_other = WsClient::connect(&server.base).await;
    typists_other.authenticate(&alice).await;
    let mut reader = WsClient::connect(&server.base).await;
    reader.authenticate(&bob).await;

    for _ in 0..3 {
        typist.send_text(&typing(&channel)).await;
    }
    let want = json!({"type": "Typing", "content": {"channel": channel, "user": alice_id}});
    assert_eq!(reader.next_of("Typing").await, want);
    // The other two were dropped, and the typist's own connections hear none.
    let quiet = Duration::from_millis(500);
    while let Ok(frame) = tokio::time::timeout(quiet, reader.next()).await {
        assert_ne!(frame["type"], "Typing", "{frame}");
    }
    while let Ok(frame) = tokio::time::timeout(quiet, typists_other.next()).await {
        assert_ne!(frame["type"], "Typing", "{frame}");
    }
    while let Ok(frame) = tokio::time::timeout(quiet, typist.next()).await {
        assert_ne!(frame["type"], "Typing", "{frame}");
    }
    let history = server
        .get(&format!("/channel/{channel}/messages"), Some(&alice))
        .await;
    assert_eq!(history.assert_json(200), &json!([]), "nothing stored");
    server.stop().await;
}

#[tokio::test]
async fn typing_errors() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let channel = create_channel(&server, &alice, "general").await;
    let mut anonymous = WsClient::connect(&server.base).await;
    anonymous.send_text(&typing(&channel)).await;
    let error = |code: &str| json!({"type": "Error", "content": {"message": code}});
    assert_eq!(anonymous.next().await, error("UNAUTHORIZED"));
    let mut ws = WsClient::connect(&server.base).await;
    ws.authenticate(&alice).await;
    ws.send_text(&typing("318cd399-f47f-478f-8d09-c9c414c3750d"))
        .await;
    assert_eq!(ws.next_of("Error").await, error("NOT_FOUND"));
    ws.send_text(&typing("nope")).await;
    assert_eq!(ws.next_of("Error").await, error("BAD_REQUEST"));
    ws.send_text(r#"{"type": "Typing"}"#).await;
    assert_eq!(ws.next_of("Error").await, error("BAD_REQUEST"));
    server.stop().await;
}

#[tokio::test]
async fn a_database_of_schema_4_is_migrated_and_served() {
    // Schema version 4, holding one account, a channel and its messages.
    let dir = tempfile::tempdir().unwrap();
    let old = crate::helpers::old_database(dir.path(), 4);
    let hash = crate::helpers::stored_hash("pw").await;
    let (user, channel) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    old.execute(
        "INSERT INTO users (id, name, name_key, password, created_at) VALUES (?1, 'old', 'old', ?2, 1)",
        rusqlite::params![user, hash],
    )
    .unwrap();
    old.execute(
        "INSERT INTO channels (id, name, owner, created_at) VALUES (?1, 'archive', ?2, 2)",
        rusqlite::params![channel, user],
    )
    .unwrap();
    for (i, text) in ["the old days", "older still", "oldest words"]
        .iter()
        .enumerate()
    {
        old.execute(
            "INSERT INTO messages (id, channel, author, content, created_at) VALUES (?1, 1, ?2, ?3, ?4)",
            rusqlite::params![uuid::Uuid::new_v4(), user, text, 10 + i as i64],
        )
        .unwrap();
    }
    drop(old);

    let server = Binary::start(dir.path(), &["--database", "old.db"]).await;
    let login = json!({"name": "old", "password": "pw"});
    let token = server
        .call(Method::POST, "/user/login", None, Some(login))
        .await
        .token();
    let found = server
        .call(Method::GET, "/message/search?q=old", Some(&token), None)
        .await;
    let contents: Vec<&str> = found
        .assert_json(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["oldest words", "older still", "the old days"]);
    let unread = server
        .call(Method::GET, "/user/self/unread", Some(&token), None)
        .await;
    assert_eq!(
        unread.assert_json(200),
        &json!([{"channel": channel, "last_read": null, "unread": 3,
            "notifications": "mentions", "mentions": 0}])
    );
    let history = server
        .call(
            Method::GET,
            &format!("/channel/{channel}/messages"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        history.assert_json(200).as_array().unwrap()[0]["edited_at"],
        json!(null)
    );
}
