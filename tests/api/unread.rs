//! Read markers and unread counts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::channel::create_channel;
use crate::helpers::{Reply, TestServer, WsClient, history_at};
use crate::message::send;

async fn mark(server: &TestServer, token: &str, channel: &str, message: &str) -> Reply {
    let body = json!({"message": message});
    server
        .post(&format!("/channel/{channel}/read"), Some(token), body)
        .await
}

async fn unread(server: &TestServer, token: &str) -> Value {
    server
        .get("/user/self/unread", Some(token))
        .await
        .assert_json(200)
        .clone()
}

fn id(message: &Value) -> &str {
    message["id"].as_str().expect("an id")
}

#[tokio::test]
async fn markers_move_forward_only_and_count_what_is_unread() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let a = create_channel(&server, &alice, "a").await;
    let b = create_channel(&server, &alice, "b").await;
    for text in ["before bob 1", "before bob 2"] {
        send(&server, &alice, &a, text).await;
    }
    let bob = server.register("bob", "pw").await;
    let mut bobs = WsClient::connect(&server.base).await;
    bobs.authenticate(&bob).await;
    let mut alices = WsClient::connect(&server.base).await;
    alices.authenticate(&alice).await;
    let m1 = send(&server, &alice, &a, "one").await;
    let m2 = send(&server, &alice, &a, "two").await;
    let m3 = send(&server, &alice, &b, "three").await;
    assert_eq!(
        unread(&server, &bob).await,
        json!([
            {"channel": a, "last_read": null, "unread": 2, "notifications": "mentions", "mentions": 0},
            {"channel": b, "last_read": null, "unread": 1, "notifications": "mentions", "mentions": 0},
        ])
    );

    assert_eq!(mark(&server, &bob, &a, id(&m1)).await.status, 204);
    let moved = json!({"type": "ReadMarker", "content": {"channel": a, "message": id(&m1)}});
    assert_eq!(bobs.next_of("ReadMarker").await, moved);
    // An older message changes nothing, and says nothing.
    let older = send(&server, &alice, &a, "four").await;
    assert_eq!(mark(&server, &bob, &a, id(&m1)).await.status, 204);
    assert_eq!(mark(&server, &bob, &a, id(&m2)).await.status, 204);
    let moved = json!({"type": "ReadMarker", "content": {"channel": a, "message": id(&m2)}});
    assert_eq!(bobs.next_of("ReadMarker").await, moved);
    assert_eq!(mark(&server, &bob, &a, id(&m1)).await.status, 204);
    assert_eq!(
        unread(&server, &bob).await[0],
        json!({"channel": a, "last_read": id(&m2), "unread": 1, "notifications": "mentions", "mentions": 0})
    );

    // Deleted messages are not counted; a deleted message is still a place.
    let path = format!("/message/{}", id(&older));
    let deleted = server.call(Method::DELETE, &path, Some(&alice), None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(unread(&server, &bob).await[0]["unread"], 0);
    assert_eq!(mark(&server, &bob, &a, id(&older)).await.status, 204);
    let moved = json!({"type": "ReadMarker", "content": {"channel": a, "message": id(&older)}});
    assert_eq!(bobs.next_of("ReadMarker").await, moved);
    assert_eq!(unread(&server, &bob).await[0]["last_read"], id(&older));

    // Sending moves the sender's own marker, and tells only them.
    let own = send(&server, &bob, &b, "bob's").await;
    let moved = json!({"type": "ReadMarker", "content": {"channel": b, "message": id(&own)}});
    assert_eq!(bobs.next_of("ReadMarker").await, moved);
    assert_eq!(
        unread(&server, &bob).await[1],
        json!({"channel": b, "last_read": id(&own), "unread": 0, "notifications": "mentions", "mentions": 0})
    );
    // Alice's connection heard her own markers move, and none of Bob's.
    let mut heard = Vec::new();
    let quiet = std::time::Duration::from_millis(300);
    while let Ok(frame) = tokio::time::timeout(quiet, alices.next()).await {
        if frame["type"] == "ReadMarker" {
            heard.push(frame["content"]["message"].as_str().unwrap().to_owned());
        }
    }
    let own_sends: Vec<&str> = [&m1, &m2, &m3, &older].into_iter().map(id).collect();
    assert_eq!(heard, own_sends);
    server.stop().await;
}

#[tokio::test]
async fn marking_with_a_wrong_message_or_channel() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let a = create_channel(&server, &token, "a").await;
    let b = create_channel(&server, &token, "b").await;
    let in_b = send(&server, &token, &b, "in b").await;
    mark(&server, &token, &a, id(&in_b))
        .await
        .assert_error(400, "BAD_REQUEST");
    mark(&server, &token, &a, "nope")
        .await
        .assert_error(400, "BAD_REQUEST");
    let unknown = "318cd399-f47f-478f-8d09-c9c414c3750d";
    mark(&server, &token, unknown, id(&in_b))
        .await
        .assert_error(404, "NOT_FOUND");
    mark(&server, &token, "nope", id(&in_b))
        .await
        .assert_error(400, "BAD_REQUEST");
    let none = server
        .post(
            &format!("/channel/{a}/read"),
            None,
            json!({"message": id(&in_b)}),
        )
        .await;
    none.assert_error(401, "UNAUTHORIZED");
    server.stop().await;
}

#[tokio::test]
async fn unread_counts_stop_at_1000() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let bob = server.register("bob", "pw").await;
    let channel = create_channel(&server, &alice, "busy").await;
    for _ in 0..21 {
        let sends = (0..50).map(|_| send(&server, &alice, &channel, "x @bob"));
        futures_util::future::join_all(sends).await;
    }
    // Mentions stop at the same cap.
    let counts = unread(&server, &bob).await;
    assert_eq!(
        (&counts[0]["unread"], &counts[0]["mentions"]),
        (&json!(1000), &json!(1000))
    );
    // The cap is the channel's 1000th newest message: a marker just before
    // it leaves 1000 unread, one on it 999; deleting a newer message takes
    // one more off.
    let ids = history_at(&server.client, &server.base, &bob, &channel).await;
    assert_eq!(ids.len(), 1050);
    let cap = ids.len() - 1000;
    for (marker, left) in [(cap - 1, 1000), (cap, 999)] {
        assert_eq!(
            mark(&server, &bob, &channel, &ids[marker]).await.status,
            204
        );
        assert_eq!(unread(&server, &bob).await[0]["unread"], json!(left));
    }
    let newest = format!("/message/{}", ids[ids.len() - 1]);
    let deleted = server
        .call(Method::DELETE, &newest, Some(&alice), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(unread(&server, &bob).await[0]["unread"], json!(998));
    server.stop().await;
}
