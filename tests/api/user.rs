//! `/user/...`: register, login, logout, update, self and by id.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestServer, assert_timestamp, assert_uuid};

#[tokio::test]
async fn register_then_self_shows_the_new_user() {
    let server = TestServer::start().await;
    let reply = server
        .post(
            "/user/register",
            None,
            json!({"name": "azuma", "password": "neo"}),
        )
        .await;
    let body = reply.assert_json(201);
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let token = reply.token();

    let me = server.get("/user/self", Some(&token)).await;
    let me = me.assert_json(200);
    assert_eq!(me.as_object().unwrap().len(), 4, "{me}");
    assert_uuid(me["id"].as_str().unwrap());
    assert_eq!(me["name"], "azuma");
    assert_timestamp(me["created_at"].as_str().unwrap());
    assert_eq!(me["onlinestatus"], "OFFLINE");
    server.stop().await;
}

#[tokio::test]
async fn register_refuses_a_taken_name_with_409() {
    let server = TestServer::start().await;
    server.register("azuma", "neo").await;
    server
        .post(
            "/user/register",
            None,
            json!({"name": "azuma", "password": "other"}),
        )
        .await
        .assert_error(409, "ALREADY_EXISTS");
    // Names that look the same are the same name: another case too.
    for look_alike in ["Azuma", "AZUMA"] {
        server
            .post(
                "/user/register",
                None,
                json!({"name": look_alike, "password": "other"}),
            )
            .await
            .assert_error(409, "ALREADY_EXISTS");
    }
    // The first account still has its own password.
    server.login("azuma", "neo").await;
    server.stop().await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_make_one_account() {
    let server = TestServer::start().await;
    let attempts = (0..16).map(|i| {
        server.post(
            "/user/register",
            None,
            json!({"name": "race", "password": format!("pw{i}")}),
        )
    });
    let replies = futures_util::future::join_all(attempts).await;
    let created: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1);
    for r in replies.iter().filter(|r| r.status != 201) {
        r.assert_error(409, "ALREADY_EXISTS");
    }
    let users: i64 = server
        .peek()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 1);
    server.stop().await;
}

#[tokio::test]
async fn register_enforces_the_name_and_password_limits() {
    let server = TestServer::start().await;
    let long_name = "n".repeat(65);
    let long_password = "p".repeat(1025);
    for (name, password) in [
        ("", "pw"),
        (" azuma", "pw"),
        ("azuma ", "pw"),
        ("az\tuma", "pw"),
        ("az\u{7}uma", "pw"),
        ("line\nbreak", "pw"),
        (long_name.as_str(), "pw"),
        ("azuma", ""),
        ("azuma", long_password.as_str()),
    ] {
        server
            .post(
                "/user/register",
                None,
                json!({"name": name, "password": password}),
            )
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    // The limits themselves are fine: 64 characters (not bytes), 1024 bytes.
    server.register(&"é".repeat(64), &"p".repeat(1024)).await;
    server.register("名前 with inner spaces", "p").await;
    let users: i64 = server
        .peek()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 2);
    server.stop().await;
}

#[tokio::test]
async fn login_gives_a_new_token_and_distinguishes_failures() {
    let server = TestServer::start().await;
    let first = server.register("azuma", "neo").await;
    let reply = server
        .post(
            "/user/login",
            None,
            json!({"name": "azuma", "password": "neo"}),
        )
        .await;
    let body = reply.assert_json(200);
    assert_eq!(body.as_object().unwrap().len(), 1);
    let second = reply.token();
    assert_ne!(first, second);
    // Both sessions work.
    for token in [&first, &second] {
        server.get("/user/self", Some(token)).await.assert_json(200);
    }
    server
        .post(
            "/user/login",
            None,
            json!({"name": "nobody", "password": "neo"}),
        )
        .await
        .assert_error(404, "NOT_FOUND");
    server
        .post(
            "/user/login",
            None,
            json!({"name": "azuma", "password": "Neo"}),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post("/user/login", None, json!({"name": "azuma"}))
        .await
        .assert_error(400, "BAD_REQUEST");
    server.stop().await;
}

#[tokio::test]
async fn logout_revokes_only_the_presented_token() {
    let server = TestServer::start().await;
    let first = server.register("azuma", "neo").await;
    let second = server.login("azuma", "neo").await;
    let reply = server
        .call(Method::POST, "/user/logout", Some(&first), None)
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.text, "");
    server
        .get("/user/self", Some(&first))
        .await
        .assert_error(401, "UNAUTHORIZED");
    server
        .call(Method::POST, "/user/logout", Some(&first), None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    server
        .get("/user/self", Some(&second))
        .await
        .assert_json(200);
    server.stop().await;
}

#[tokio::test]
async fn update_changes_what_is_given_and_keeps_the_rest() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "neo").await;
    let before = server.get("/user/self", Some(&token)).await.body;

    let patch = |body| server.call(Method::PATCH, "/user/update", Some(&token), Some(body));
    let renamed = patch(json!({"name": "azuma-neo"})).await;
    let renamed = renamed.assert_json(200).clone();
    assert_eq!(renamed["id"], before["id"]);
    assert_eq!(renamed["name"], "azuma-neo");
    assert_eq!(renamed["created_at"], before["created_at"]);
    // Login takes the new name and the unchanged password.
    server.login("azuma-neo", "neo").await;
    server
        .post(
            "/user/login",
            None,
            json!({"name": "azuma", "password": "neo"}),
        )
        .await
        .assert_error(404, "NOT_FOUND");

    // An empty patch, or nulls, change nothing.
    for body in [json!({}), json!({"name": null, "password": null})] {
        let same = patch(body).await;
        assert_eq!(same.assert_json(200), &renamed);
    }
    // Renaming to one's own name is fine.
    patch(json!({"name": "azuma-neo"})).await.assert_json(200);

    // A taken name is 409; bad values are 400; nothing changes.
    server.register("taken", "x").await;
    patch(json!({"name": "taken"}))
        .await
        .assert_error(409, "ALREADY_EXISTS");
    patch(json!({"name": " padded"}))
        .await
        .assert_error(400, "BAD_REQUEST");
    patch(json!({"password": ""}))
        .await
        .assert_error(400, "BAD_REQUEST");
    patch(json!({"name": "fine", "password": ""}))
        .await
        .assert_error(400, "BAD_REQUEST");
    patch(json!({"name": 7}))
        .await
        .assert_error(400, "BAD_REQUEST");
    let me = server.get("/user/self", Some(&token)).await;
    assert_eq!(me.body["name"], "azuma-neo");
    server.login("azuma-neo", "neo").await;
    server.stop().await;
}

#[tokio::test]
async fn a_password_change_revokes_every_other_session() {
    let server = TestServer::start().await;
    let current = server.register("azuma", "old").await;
    let other = server.login("azuma", "old").await;
    // In use, so the server holds it in memory: revocation must reach there.
    server
        .get("/user/self", Some(&other))
        .await
        .assert_json(200);
    let reply = server
        .call(
            Method::PATCH,
            "/user/update",
            Some(&current),
            Some(json!({"password": "new"})),
        )
        .await;
    reply.assert_json(200);
    server
        .get("/user/self", Some(&current))
        .await
        .assert_json(200);
    server
        .get("/user/self", Some(&other))
        .await
        .assert_error(401, "UNAUTHORIZED");
    server
        .post(
            "/user/login",
            None,
            json!({"name": "azuma", "password": "old"}),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    server.login("azuma", "new").await;

    // A rename alone revokes nothing.
    let another = server.login("azuma", "new").await;
    server
        .call(
            Method::PATCH,
            "/user/update",
            Some(&current),
            Some(json!({"name": "x"})),
        )
        .await
        .assert_json(200);
    server
        .get("/user/self", Some(&another))
        .await
        .assert_json(200);
    server.stop().await;
}

#[tokio::test]
async fn get_user_by_id() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "a").await;
    let bob = server.register("bob", "b").await;
    let bob_self = server.get("/user/self", Some(&bob)).await.body;
    let id = bob_self["id"].as_str().unwrap();

    let seen = server.get(&format!("/user/{id}"), Some(&alice)).await;
    assert_eq!(seen.assert_json(200), &bob_self);

    // Uppercase ids name the same user.
    let upper = server
        .get(&format!("/user/{}", id.to_uppercase()), Some(&alice))
        .await;
    assert_eq!(upper.assert_json(200), &bob_self);

    server
        .get("/user/318cd399-f47f-478f-8d09-c9c414c3750d", Some(&alice))
        .await
        .assert_error(404, "NOT_FOUND");
    for malformed in [
        "12",
        "not-a-uuid",
        "318cd399-f47f-478f-8d09-c9c414c3750",
        "%20",
    ] {
        server
            .get(&format!("/user/{malformed}"), Some(&alice))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_people_on_the_server_by_name_ignoring_case_and_diacritics() {
    let server = TestServer::start().await;
    let zoe = server.register("zoe", "pw").await;
    for name in ["Émile", "bob", "emma", "Anna"] {
        server.register(name, "pw").await;
    }
    let mut ws = crate::helpers::WsClient::connect(&server.base).await;
    ws.authenticate(&zoe).await;
    let names = |reply: &crate::helpers::Reply| -> Vec<String> {
        let list = reply
            .assert_json(200)
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.iter()
            .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all = server.get("/user", Some(&zoe)).await;
    assert_eq!(names(&all), ["Anna", "bob", "Émile", "emma", "zoe"]);
    let first = &all.body[0];
    assert_uuid(first["id"].as_str().unwrap());
    assert_timestamp(first["created_at"].as_str().unwrap());
    assert_eq!(first["onlinestatus"], "OFFLINE");
    assert_eq!(all.body[4]["onlinestatus"], "ONLINE", "zoe is connected");
    let em = server.get("/user?q=EM", Some(&zoe)).await;
    assert_eq!(names(&em), ["Émile", "emma"]);
    let em = server.get("/user?q=%C3%A9m&limit=1", Some(&zoe)).await;
    assert_eq!(names(&em), ["Émile"]);
    assert!(names(&server.get("/user?q=x", Some(&zoe)).await).is_empty());
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        &format!("q={}", "a".repeat(65)),
    ] {
        server
            .get(&format!("/user?{bad}"), Some(&zoe))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    server
        .get("/user", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    server.stop().await;
}
