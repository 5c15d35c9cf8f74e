//! One message's routes: reading, editing and deleting it, who
//! may, what the others hear, and cursors across deleted messages.

use reqwest::Method;
use serde_json::{Value, json};

use crate::channel::create_channel;
use crate::helpers::{Reply, TestServer, WsClient, assert_timestamp};
use crate::message::{contents, page, send};

async fn edit(server: &TestServer, token: &str, id: &str, content: &str) -> Reply {
    let body = json!({"content": content});
    server
        .call(
            Method::PATCH,
            &format!("/message/{id}"),
            Some(token),
            Some(body),
        )
        .await
}

async fn delete(server: &TestServer, token: &str, id: &str) -> Reply {
    server
        .call(Method::DELETE, &format!("/message/{id}"), Some(token), None)
        .await
}

fn id(message: &Value) -> &str {
    message["id"].as_str().expect("an id")
}

#[tokio::test]
async fn the_author_edits_the_author_or_owner_deletes_others_may_not() {
    let server = TestServer::start().await;
    let owner = server.register("owner", "pw").await;
    let author = server.register("author", "pw").await;
    let other = server.register("other", "pw").await;
    let channel = create_channel(&server, &owner, "general").await;
    let mut watcher = WsClient::connect(&server.base).await;
    watcher.authenticate(&other).await;

    let sent = send(&server, &author, &channel, "helo").await;
    let path = format!("/message/{}", id(&sent));
    assert_eq!(
        server.get(&path, Some(&other)).await.assert_json(200),
        &sent
    );

    edit(&server, &other, id(&sent), "hi")
        .await
        .assert_error(403, "FORBIDDEN");
    edit(&server, &owner, id(&sent), "hi")
        .await
        .assert_error(403, "FORBIDDEN");
    edit(&server, &author, id(&sent), " ")
        .await
        .assert_error(400, "BAD_REQUEST");
    let edited = edit(&server, &author, id(&sent), "hello").await;
    let edited = edited.assert_json(200).clone();
    assert_eq!(edited["content"], "hello");
    for same in ["id", "author", "channel", "created_at"] {
        assert_eq!(edited[same], sent[same], "{same}");
    }
    assert_timestamp(edited["edited_at"].as_str().expect("edited_at set"));
    assert_eq!(
        server.get(&path, Some(&other)).await.assert_json(200),
        &edited
    );
    assert_eq!(
        page(&server, &other, &channel, "").await,
        vec![edited.clone()]
    );

    delete(&server, &other, id(&sent))
        .await
        .assert_error(403, "FORBIDDEN");
    let second = send(&server, &author, &channel, "again").await;
    assert_eq!(
        delete(&server, &owner, id(&sent)).await.status,
        204,
        "the owner may"
    );
    assert_eq!(
        delete(&server, &author, id(&second)).await.status,
        204,
        "the author may"
    );
    for gone in [&sent, &second] {
        let path = format!("/message/{}", id(gone));
        server
            .get(&path, Some(&other))
            .await
            .assert_error(404, "NOT_FOUND");
        delete(&server, &author, id(gone))
            .await
            .assert_error(404, "NOT_FOUND");
        edit(&server, &author, id(gone), "x")
            .await
            .assert_error(404, "NOT_FOUND");
    }
    assert!(page(&server, &other, &channel, "").await.is_empty());

    // Everyone hears it all, in the order it was committed.
    let channel_id = channel.as_str();
    for want in [
        json!({"type": "Message", "content": sent}),
        json!({"type": "MessageUpdated", "content": edited}),
        json!({"type": "Message", "content": second}),
        json!({"type": "MessageDeleted", "content": {"id": id(&sent), "channel": channel_id}}),
        json!({"type": "MessageDeleted", "content": {"id": id(&second), "channel": channel_id}}),
    ] {
        assert_eq!(watcher.next_of(want["type"].as_str().unwrap()).await, want);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_malformed_and_fixed_paths() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let unknown = "318cd399-f47f-478f-8d09-c9c414c3750d";
    let path = format!("/message/{unknown}");
    server
        .get(&path, Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    edit(&server, &token, unknown, "x")
        .await
        .assert_error(404, "NOT_FOUND");
    delete(&server, &token, unknown)
        .await
        .assert_error(404, "NOT_FOUND");
    server
        .get("/message/not-an-id", Some(&token))
        .await
        .assert_error(400, "BAD_REQUEST");
    server
        .get(&path, None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    for (method, path) in [
        (Method::GET, "/message/send"),
        (Method::POST, "/message/search"),
        (Method::PUT, path.as_str()),
    ] {
        let reply = server.call(method.clone(), path, Some(&token), None).await;
        reply.assert_error(405, "METHOD_NOT_ALLOWED");
    }
    server.stop().await;
}

#[tokio::test]
async fn deleted_messages_stay_cursors_and_their_places_are_never_reused() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let channel = create_channel(&server, &token, "general").await;
    let mut sent = Vec::new();
    for text in ["m1", "m2", "m3", "m4", "m5"] {
        sent.push(send(&server, &token, &channel, text).await);
    }
    // The newest one too: its place must not go to the next message.
    for gone in [&sent[2], &sent[4]] {
        assert_eq!(delete(&server, &token, id(gone)).await.status, 204);
    }
    let m6 = send(&server, &token, &channel, "m6").await;
    let cursor = |dir: &str, m: &Value| format!("?{dir}={}", id(m));
    assert_eq!(
        contents(&page(&server, &token, &channel, &cursor("before", &sent[2])).await),
        ["m1", "m2"]
    );
    assert_eq!(
        contents(&page(&server, &token, &channel, &cursor("after", &sent[2])).await),
        ["m4", "m6"]
    );
    assert_eq!(
        contents(&page(&server, &token, &channel, &cursor("after", &sent[4])).await),
        ["m6"]
    );
    assert_eq!(
        contents(&page(&server, &token, &channel, &cursor("before", &sent[4])).await),
        ["m1", "m2", "m4"]
    );
    assert_eq!(
        contents(&page(&server, &token, &channel, &cursor("before", &m6)).await),
        ["m1", "m2", "m4"]
    );
    // A deleted message of another channel is still not a cursor here.
    let other = create_channel(&server, &token, "other").await;
    let path = format!("/channel/{other}/messages?after={}", id(&sent[2]));
    server
        .get(&path, Some(&token))
        .await
        .assert_error(400, "BAD_REQUEST");
    server.stop().await;
}

#[tokio::test]
async fn a_deleted_message_is_erased_from_the_file() {
    let mut server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let channel = create_channel(&server, &token, "general").await;
    let secret = "xylophonicsecret";
    let kept = send(&server, &token, &channel, "kept words stay").await;
    let sent = send(&server, &token, &channel, &format!("the {secret} plan")).await;
    let edited = send(&server, &token, &channel, "first draft").await;
    edit(&server, &token, id(&edited), &format!("{secret}2 draft"))
        .await
        .assert_json(200);
    edit(&server, &token, id(&edited), "final draft")
        .await
        .assert_json(200);
    assert_eq!(delete(&server, &token, id(&sent)).await.status, 204);
    let search = server
        .get(&format!("/message/search?q={secret}"), Some(&token))
        .await;
    assert_eq!(search.assert_json(200), &json!([]));
    let search = server.get("/message/search?q=kept", Some(&token)).await;
    assert_eq!(search.assert_json(200), &json!([kept]));
    server.halt().await;
    let mut bytes = std::fs::read(&server.db_path).expect("the database file");
    if let Ok(wal) = std::fs::read(server.db_path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
    assert!(!found, "deleted and edited-away text is still in the file");
    assert!(
        bytes.windows(5).any(|w| w == b"final"),
        "the file holds live text"
    );
}

#[tokio::test]
async fn the_search_index_stays_in_step_under_concurrent_sends_edits_and_deletes() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let channel = create_channel(&server, &token, "busy").await;
    // Sends, edits and deletes land in the same group commits.
    let workers = (0..16).map(|w| {
        let (server, token, channel) = (&server, &token, &channel);
        async move {
            for i in 0..10 {
                let sent = send(server, token, channel, &format!("word{w} number{i}")).await;
                if i % 3 == 0 {
                    let edited = edit(server, token, id(&sent), &format!("edited{w} {i}")).await;
                    edited.assert_json(200);
                } else if i % 3 == 1 {
                    assert_eq!(delete(server, token, id(&sent)).await.status, 204);
                }
            }
        }
    });
    futures_util::future::join_all(workers).await;
    let check: rusqlite::Result<usize> = server.peek().execute(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
        [],
    );
    assert!(check.is_ok(), "{check:?}");
    let hits = server.get("/message/search?q=edited3", Some(&token)).await;
    assert_eq!(hits.assert_json(200).as_array().unwrap().len(), 4);
    let gone = server.get("/message/search?q=word3", Some(&token)).await;
    assert_eq!(
        gone.assert_json(200).as_array().unwrap().len(),
        3,
        "i = 2, 5, 8 kept"
    );
    server.stop().await;
}
