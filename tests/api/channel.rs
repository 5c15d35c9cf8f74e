//! `/channel`: create, list, get, delete.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestServer, assert_timestamp, assert_uuid};

async fn user_id(server: &TestServer, token: &str) -> Value {
    server.get("/user/self", Some(token)).await.body["id"].clone()
}

pub async fn create_channel(server: &TestServer, token: &str, name: &str) -> String {
    let reply = server
        .post("/channel", Some(token), json!({"name": name}))
        .await;
    reply.assert_json(201)["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_returns_the_channel_with_its_owner() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let reply = server
        .post(
            "/channel",
            Some(&token),
            json!({"name": "azuma-dev", "description": "Everything about azuma"}),
        )
        .await;
    let channel = reply.assert_json(201);
    assert_eq!(channel.as_object().unwrap().len(), 6, "{channel}");
    assert_eq!(channel["kind"], "public");
    assert_uuid(channel["id"].as_str().unwrap());
    assert_eq!(channel["name"], "azuma-dev");
    assert_eq!(channel["description"], "Everything about azuma");
    assert_eq!(channel["owner"], user_id(&server, &token).await);
    assert_timestamp(channel["created_at"].as_str().unwrap());

    let id = channel["id"].as_str().unwrap();
    let fetched = server.get(&format!("/channel/{id}"), Some(&token)).await;
    assert_eq!(fetched.assert_json(200), channel);
    server.stop().await;
}

#[tokio::test]
async fn names_are_trimmed_and_blank_descriptions_are_null() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let hundred = format!("  {}  ", "é".repeat(100));
    for (body, name, description) in [
        (json!({"name": "  general  "}), "general", Value::Null),
        (json!({"name": "a", "description": null}), "a", Value::Null),
        (json!({"name": "a", "description": ""}), "a", Value::Null),
        (
            json!({"name": "a", "description": " \t\n "}),
            "a",
            Value::Null,
        ),
        (
            json!({"name": "a", "description": " kept "}),
            "a",
            json!(" kept "),
        ),
        (json!({"name": hundred}), &*"é".repeat(100), Value::Null),
        (json!({"name": "dup"}), "dup", Value::Null),
        (json!({"name": "dup"}), "dup", Value::Null),
    ] {
        let reply = server.post("/channel", Some(&token), body.clone()).await;
        let channel = reply.assert_json(201);
        assert_eq!(channel["name"], name, "{body}");
        assert_eq!(channel["description"], description, "{body}");
        assert!(channel.as_object().unwrap().contains_key("description"));
    }
    server.stop().await;
}

#[tokio::test]
async fn create_enforces_the_limits_and_stores_nothing_bad() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "é".repeat(101)}),
        json!({"name": 5}),
        json!({"name": null}),
        json!({"name": "ok", "description": "d".repeat(1025)}),
        json!({"name": "ok", "description": 5}),
    ] {
        server
            .post("/channel", Some(&token), body)
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    server
        .post(
            "/channel",
            Some(&token),
            json!({"name": "ok", "description": "d".repeat(1024)}),
        )
        .await
        .assert_json(201);
    let all = server.get("/channel", Some(&token)).await;
    assert_eq!(all.assert_json(200).as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn list_is_oldest_first() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    assert_eq!(
        server.get("/channel", Some(&token)).await.assert_json(200),
        &json!([])
    );
    let mut ids = Vec::new();
    for name in ["one", "two", "three", "four"] {
        ids.push(create_channel(&server, &token, name).await);
    }
    let listed = server.get("/channel", Some(&token)).await;
    let listed: Vec<_> = listed
        .assert_json(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ids);
    server.stop().await;
}

#[tokio::test]
async fn get_unknown_or_malformed_channel() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    server
        .get(
            "/channel/318cd399-f47f-478f-8d09-c9c414c3750d",
            Some(&token),
        )
        .await
        .assert_error(404, "NOT_FOUND");
    for bad in ["nope", "123", "318cd399-f47f-478f-8d09"] {
        server
            .get(&format!("/channel/{bad}"), Some(&token))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    server.stop().await;
}

async fn delete(server: &TestServer, token: &str, body: Value) -> Reply {
    server
        .call(Method::DELETE, "/channel", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn only_the_owner_deletes_and_the_history_goes_with_it() {
    let server = TestServer::start().await;
    let owner = server.register("owner", "pw").await;
    let other = server.register("other", "pw").await;
    let doomed = create_channel(&server, &owner, "doomed").await;
    let kept = create_channel(&server, &owner, "kept").await;
    for channel in [&doomed, &kept] {
        for i in 0..3 {
            server
                .post(
                    "/message/send",
                    Some(&other),
                    json!({"channel": channel, "content": format!("m{i}")}),
                )
                .await
                .assert_json(200);
        }
    }
    delete(&server, &other, json!({"id": doomed}))
        .await
        .assert_error(403, "FORBIDDEN");
    delete(
        &server,
        &owner,
        json!({"id": "318cd399-f47f-478f-8d09-c9c414c3750d"}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    delete(&server, &owner, json!({"id": "nope"}))
        .await
        .assert_error(400, "BAD_REQUEST");
    delete(&server, &owner, json!({}))
        .await
        .assert_error(400, "BAD_REQUEST");

    let reply = delete(&server, &owner, json!({"id": doomed})).await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.text, "");
    server
        .get(&format!("/channel/{doomed}"), Some(&owner))
        .await
        .assert_error(404, "NOT_FOUND");
    server
        .get(&format!("/channel/{doomed}/messages"), Some(&owner))
        .await
        .assert_error(404, "NOT_FOUND");
    delete(&server, &owner, json!({"id": doomed}))
        .await
        .assert_error(404, "NOT_FOUND");

    // The other channel and its history are intact; the doomed messages are gone.
    let history = server
        .get(&format!("/channel/{kept}/messages"), Some(&owner))
        .await;
    assert_eq!(history.assert_json(200).as_array().unwrap().len(), 3);
    let listed = server.get("/channel", Some(&owner)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let stored: i64 = server
        .peek()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 3);
    server.stop().await;
}
