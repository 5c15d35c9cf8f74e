//! The whole API through the real binary, as a client would use it: every
//! route, the websocket, and a restart on the same database file. This is
//! the walk-through the emulated ARM builds are checked with
//! (scripts/emulated-test), so it stays self-contained.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Binary, WsClient, login_at, register_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_the_websocket_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &["--database", "walk.db"]).await;
    use Method as M;

    // Index and health.
    let index = server.call(M::GET, "/", None, None).await;
    assert_eq!(index.assert_json(200)["name"], "azuma");
    assert_eq!(
        server
            .call(M::GET, "/health", None, None)
            .await
            .assert_json(200),
        &json!({"status": "ok"})
    );

    // Accounts.
    let alice = register_at(&server.http, &server.base, "alice", "a").await;
    let bob = register_at(&server.http, &server.base, "bob", "b").await;
    let spare = login_at(&server.http, &server.base, "bob", "b").await;
    let me = server.call(M::GET, "/user/self", Some(&bob), None).await;
    let bob_id = me.assert_json(200)["id"].as_str().unwrap().to_owned();
    let seen = server
        .call(M::GET, &format!("/user/{bob_id}"), Some(&alice), None)
        .await;
    assert_eq!(seen.assert_json(200)["onlinestatus"], "OFFLINE");
    let renamed = server
        .call(
            M::PATCH,
            "/user/update",
            Some(&bob),
            Some(json!({"name": "bobby"})),
        )
        .await;
    assert_eq!(renamed.assert_json(200)["name"], "bobby");
    server
        .call(
            M::POST,
            "/user/register",
            None,
            Some(json!({"name": "alice", "password": "x"})),
        )
        .await
        .assert_error(409, "ALREADY_EXISTS");
    server
        .call(
            M::POST,
            "/user/login",
            None,
            Some(json!({"name": "alice", "password": "x"})),
        )
        .await
        .assert_error(403, "FORBIDDEN");

    // The websocket, then status.
    let mut ws = WsClient::connect(&server.base).await;
    ws.authenticate(&alice).await;
    ws.next_of("Status").await;
    server
        .call(
            M::POST,
            "/user/status/set",
            Some(&bob),
            Some(json!({"status": "DND"})),
        )
        .await
        .assert_error(400, "BAD_REQUEST");
    let mut bobs = WsClient::connect(&server.base).await;
    bobs.authenticate(&bob).await;
    assert_eq!(
        ws.next().await["content"],
        json!({"user": bob_id, "onlinestatus": "ONLINE"})
    );
    server
        .call(
            M::POST,
            "/user/status/set",
            Some(&bob),
            Some(json!({"status": "DND"})),
        )
        .await
        .assert_json(200);
    assert_eq!(ws.next().await["content"]["onlinestatus"], "DND");

    // Channels and messages, heard over the websocket.
    let created = server
        .call(
            M::POST,
            "/channel",
            Some(&alice),
            Some(json!({"name": " general ", "description": ""})),
        )
        .await;
    let channel = created.assert_json(201).clone();
    let id = channel["id"].as_str().unwrap().to_owned();
    assert_eq!(ws.next_of("ChannelCreated").await["content"], channel);
    assert_eq!(
        server
            .call(M::GET, "/channel", Some(&bob), None)
            .await
            .assert_json(200),
        &json!([channel])
    );
    assert_eq!(
        server
            .call(M::GET, &format!("/channel/{id}"), Some(&bob), None)
            .await
            .assert_json(200),
        &channel
    );
    let mut sent = Vec::new();
    for i in 0..12 {
        let token = if i % 2 == 0 { &alice } else { &bob };
        let reply = server
            .call(
                M::POST,
                "/message/send",
                Some(token),
                Some(json!({"channel": id, "content": format!("m{i}")})),
            )
            .await;
        let message = reply.assert_json(200).clone();
        assert_eq!(ws.next_of("Message").await["content"], message);
        sent.push(message);
    }
    let page = server
        .call(
            M::GET,
            &format!("/channel/{id}/messages?limit=5"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(page.assert_json(200), &json!(sent[7..]));
    let before = format!(
        "/channel/{id}/messages?before={}&limit=3",
        sent[7]["id"].as_str().unwrap()
    );
    assert_eq!(
        server
            .call(M::GET, &before, Some(&bob), None)
            .await
            .assert_json(200),
        &json!(sent[4..7])
    );
    let after = format!(
        "/channel/{id}/messages?after={}",
        sent[9]["id"].as_str().unwrap()
    );
    assert_eq!(
        server
            .call(M::GET, &after, Some(&bob), None)
            .await
            .assert_json(200),
        &json!(sent[10..])
    );

    // Deleting: only the owner; the event goes out.
    server
        .call(M::DELETE, "/channel", Some(&bob), Some(json!({"id": id})))
        .await
        .assert_error(403, "FORBIDDEN");
    let other = server
        .call(
            M::POST,
            "/channel",
            Some(&bob),
            Some(json!({"name": "kept"})),
        )
        .await;
    let kept = other.assert_json(201)["id"].as_str().unwrap().to_owned();
    let kept_message = server
        .call(
            M::POST,
            "/message/send",
            Some(&bob),
            Some(json!({"channel": kept, "content": "stays"})),
        )
        .await;
    kept_message.assert_json(200);
    let deleted = server
        .call(M::DELETE, "/channel", Some(&alice), Some(json!({"id": id})))
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        ws.next_of("ChannelDeleted").await["content"],
        json!({"id": id})
    );
    server
        .call(M::GET, &format!("/channel/{id}/messages"), Some(&bob), None)
        .await
        .assert_error(404, "NOT_FOUND");

    // Logout revokes the token and closes its websocket.
    let out = server.call(M::POST, "/user/logout", Some(&bob), None).await;
    assert_eq!(out.status, 204);
    let (code, reason, _) = bobs.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "token revoked"));
    server
        .call(M::GET, "/user/self", Some(&bob), None)
        .await
        .assert_error(401, "UNAUTHORIZED");

    // A restart on the same file keeps everything.
    server.signal("TERM");
    let (code, _, _) = ws.closed().await;
    assert_eq!(code, 1001);
    assert!(server.exit(Duration::from_secs(30)).await.success());
    let server = Binary::start(dir.path(), &["--database", "walk.db"]).await;
    server
        .call(M::GET, "/user/self", Some(&spare), None)
        .await
        .assert_json(200);
    let history = server
        .call(
            M::GET,
            &format!("/channel/{kept}/messages"),
            Some(&spare),
            None,
        )
        .await;
    assert_eq!(history.assert_json(200)[0]["content"], "stays");
    login_at(&server.http, &server.base, "bobby", "b").await;
}
