//! Private channels and direct conversations: their routes, members and
//! events, and a database from before them, migrated.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Binary, TestServer, WsClient};
use crate::message::send;

/// Registers `name`: its token and id.
pub async fn person(server: &TestServer, name: &str) -> (String, String) {
    let token = server.register(name, "pw").await;
    let id = server.get("/user/self", Some(&token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, id)
}

/// Creates a private channel of `token`'s with `members`: its id.
pub async fn private(server: &TestServer, token: &str, name: &str, members: &[&str]) -> String {
    let body = json!({"name": name, "kind": "private", "members": members});
    let reply = server.post("/channel", Some(token), body).await;
    reply.assert_json(201)["id"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_private_channel_is_made_with_its_members_and_listed_for_them_only() {
    let server = TestServer::start().await;
    let (a, a_id) = person(&server, "ann").await;
    let (b, b_id) = person(&server, "ben").await;
    let (c, _) = person(&server, "cat").await;
    let body = json!({"name": "us", "kind": "private", "members": [b_id, a_id, b_id]});
    let reply = server.post("/channel", Some(&a), body).await;
    let channel = reply.assert_json(201).clone();
    assert_eq!(channel["kind"], "private");
    assert_eq!(
        channel["members"],
        json!([a_id, b_id]),
        "creator first, once each"
    );
    assert_eq!(channel["owner"], json!(a_id));
    let id = channel["id"].as_str().unwrap();

    let public = server
        .post("/channel", Some(&c), json!({"name": "all"}))
        .await;
    let public = public.assert_json(201).clone();
    assert_eq!(public["kind"], "public");
    assert!(public.get("members").is_none(), "{public}");

    for (token, want) in [
        (&a, vec![id, public["id"].as_str().unwrap()]),
        (&b, vec![id, public["id"].as_str().unwrap()]),
    ] {
        let list = server.get("/channel", Some(token)).await;
        assert_eq!(ids(list.assert_json(200)), want);
    }
    let list = server.get("/channel", Some(&c)).await;
    assert_eq!(ids(list.assert_json(200)), [public["id"].as_str().unwrap()]);
    let got = server.get(&format!("/channel/{id}"), Some(&b)).await;
    assert_eq!(got.assert_json(200), &channel);

    let members = server
        .get(&format!("/channel/{id}/members"), Some(&b))
        .await;
    let members = members.assert_json(200).as_array().unwrap().clone();
    let names: Vec<_> = members
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "ben"]);
    assert_eq!(members[1]["onlinestatus"], "OFFLINE");
    let public_members = format!("/channel/{}/members", public["id"].as_str().unwrap());
    server
        .get(&public_members, Some(&c))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn creating_refuses_direct_kinds_unknown_members_and_too_many() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let (_, b_id) = person(&server, "ben").await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let many: Vec<String> = (0..256).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for body in [
        json!({"name": "x", "kind": "direct", "members": [b_id]}),
        json!({"name": "x", "kind": "public", "members": [b_id]}),
        json!({"name": "x", "members": [b_id]}),
        json!({"name": "x", "kind": "private", "members": [unknown]}),
        json!({"name": "x", "kind": "private", "members": many}),
        json!({"name": "x", "kind": "secret"}),
        json!({"name": "x", "kind": "private", "members": ["not an id"]}),
    ] {
        let reply = server.post("/channel", Some(&a), body.clone()).await;
        reply.assert_error(400, "BAD_REQUEST");
    }
    let list = server.get("/channel", Some(&a)).await;
    assert_eq!(list.assert_json(200), &json!([]), "nothing was made");
}

#[tokio::test]
async fn members_add_people_and_the_owner_removes_them_with_events_for_each() {
    let server = TestServer::start().await;
    let (a, a_id) = person(&server, "ann").await;
    let (b, b_id) = person(&server, "ben").await;
    let (c, c_id) = person(&server, "cat").await;
    let id = private(&server, &a, "us", &[&b_id]).await;
    send(&server, &a, &id, "before cat").await;
    let mut ann = WsClient::connect(&server.base).await;
    ann.authenticate(&a).await;
    let mut cat = WsClient::connect(&server.base).await;
    cat.authenticate(&c).await;

    // Any member adds: the new one hears of the channel, then everyone of them.
    let add = format!("/channel/{id}/members");
    let reply = server.post(&add, Some(&b), json!({"user": c_id})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let created = cat.next_but("Status").await;
    assert_eq!(created["type"], "ChannelCreated");
    assert_eq!(created["content"]["members"], json!([a_id, b_id, c_id]));
    let added = json!({"type": "MemberAdded", "content": {"channel": id, "user": c_id}});
    assert_eq!(cat.next_but("Status").await, added);
    assert_eq!(
        ann.next_but("Status").await,
        added,
        "no ChannelCreated for old members"
    );
    // Members hear each other type; the one typing does not.
    let typing = json!({"type": "Typing", "content": {"channel": id}});
    ann.send_text(&typing.to_string()).await;
    let heard = json!({"type": "Typing", "content": {"channel": id, "user": a_id}});
    assert_eq!(cat.next_but("Status").await, heard);
    // Again: nothing changes, nobody hears.
    let reply = server.post(&add, Some(&a), json!({"user": c_id})).await;
    assert_eq!(reply.status, 204);
    // The new member sees the whole history, and nothing of it is unread.
    let history = server
        .get(&format!("/channel/{id}/messages"), Some(&c))
        .await;
    assert_eq!(history.assert_json(200)[0]["content"], "before cat");
    let unread = server.get("/user/self/unread", Some(&c)).await;
    assert_eq!(unread.assert_json(200)[0]["unread"], 0);

    server
        .post(&add, Some(&a), json!({"user": uuid::Uuid::new_v4()}))
        .await
        .assert_error(400, "BAD_REQUEST");
    server
        .post(&add, Some(&a), json!({"user": "x"}))
        .await
        .assert_error(400, "BAD_REQUEST");

    // Only the owner removes someone else; anyone leaves.
    let remove = |who: &str| format!("/channel/{id}/members/{who}");
    let reply = server
        .call(Method::DELETE, &remove(&c_id), Some(&b), None)
        .await;
    reply.assert_error(403, "FORBIDDEN");
    let reply = server
        .call(Method::DELETE, &remove(&c_id), Some(&a), None)
        .await;
    assert_eq!(reply.status, 204);
    let removed = json!({"type": "MemberRemoved", "content": {"channel": id, "user": c_id}});
    assert_eq!(cat.next_but("Status").await, removed);
    assert_eq!(ann.next_but("Status").await, removed);
    server
        .get(&format!("/channel/{id}"), Some(&c))
        .await
        .assert_error(404, "NOT_FOUND");
    let unread = server.get("/user/self/unread", Some(&c)).await;
    assert_eq!(unread.assert_json(200), &json!([]));

    // The owner leaves: the earliest member takes over.
    let reply = server
        .call(Method::DELETE, &remove(&a_id), Some(&a), None)
        .await;
    assert_eq!(reply.status, 204);
    let channel = server.get(&format!("/channel/{id}"), Some(&b)).await;
    assert_eq!(channel.assert_json(200)["owner"], json!(b_id));
    assert_eq!(channel.body["members"], json!([b_id]));
    // The last one leaves: the channel is gone, as if deleted.
    let reply = server
        .call(Method::DELETE, &remove(&b_id), Some(&b), None)
        .await;
    assert_eq!(reply.status, 204);
    server
        .get(&format!("/channel/{id}"), Some(&b))
        .await
        .assert_error(404, "NOT_FOUND");
    cat.silent_for(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_direct_conversation_is_one_per_set_of_people_and_never_changes() {
    let server = TestServer::start().await;
    let (a, a_id) = person(&server, "ann").await;
    let (b, b_id) = person(&server, "ben").await;
    let (c, c_id) = person(&server, "cat").await;
    let mut ben = WsClient::connect(&server.base).await;
    ben.authenticate(&b).await;

    let reply = server
        .post("/direct", Some(&a), json!({"users": [b_id, a_id, b_id]}))
        .await;
    let direct = reply.assert_json(201).clone();
    assert_eq!(direct["kind"], "direct");
    assert_eq!(direct["name"], "ann, ben");
    assert_eq!(direct["members"], json!([a_id, b_id]));
    assert_eq!(direct["owner"], json!(a_id));
    let created = ben.next_but("Status").await;
    assert_eq!(
        created,
        json!({"type": "ChannelCreated", "content": direct})
    );
    let id = direct["id"].as_str().unwrap();
    for (token, users) in [(&a, json!([b_id])), (&b, json!([a_id]))] {
        let again = server
            .post("/direct", Some(token), json!({"users": users}))
            .await;
        assert_eq!(again.assert_json(200), &direct);
    }
    let three = server
        .post("/direct", Some(&a), json!({"users": [b_id, c_id]}))
        .await;
    let three = three.assert_json(201).clone();
    assert_ne!(three["id"], direct["id"]);
    assert_eq!(three["name"], "ann, ben, cat");

    let nine: Vec<String> = (0..9).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for users in [
        json!([]),
        json!([a_id]),
        json!(nine),
        json!([uuid::Uuid::new_v4()]),
    ] {
        let reply = server
            .post("/direct", Some(&a), json!({"users": users}))
            .await;
        reply.assert_error(400, "BAD_REQUEST");
    }
    // Members never change, and it is never deleted.
    let members = format!("/channel/{id}/members");
    let listed = server.get(&members, Some(&b)).await;
    assert_eq!(listed.assert_json(200).as_array().map(Vec::len), Some(2));
    server
        .post(&members, Some(&a), json!({"user": c_id}))
        .await
        .assert_error(400, "BAD_REQUEST");
    let leave = format!("/channel/{id}/members/{b_id}");
    server
        .call(Method::DELETE, &leave, Some(&b), None)
        .await
        .assert_error(400, "BAD_REQUEST");
    let delete = || json!({"id": id});
    let reply = server
        .call(Method::DELETE, "/channel", Some(&a), Some(delete()))
        .await;
    reply.assert_error(403, "FORBIDDEN");
    // To anyone else it is not there.
    let reply = server
        .call(Method::DELETE, "/channel", Some(&c), Some(delete()))
        .await;
    reply.assert_error(404, "NOT_FOUND");
    // Its owner is no moderator: only authors delete their messages.
    let message = send(&server, &b, id, "mine").await;
    let path = format!("/message/{}", message["id"].as_str().unwrap());
    server
        .call(Method::DELETE, &path, Some(&a), None)
        .await
        .assert_error(403, "FORBIDDEN");
    let _ = c;
}

#[tokio::test]
async fn a_database_of_schema_7_is_served_with_every_channel_public() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::helpers::old_database(dir.path(), 7);
    let hash = crate::helpers::stored_hash("pw").await;
    let user = uuid::Uuid::new_v4();
    let channel = uuid::Uuid::new_v4();
    old.execute(
        "INSERT INTO users (id, name, name_key, password, created_at) VALUES (?1, 'old', 'old', ?2, 1)",
        rusqlite::params![user, hash],
    )
    .unwrap();
    old.execute(
        "INSERT INTO channel_rows (seq, id, name, owner, created_at) VALUES (1, ?1, 'kept', ?2, 2)",
        rusqlite::params![channel, user],
    )
    .unwrap();
    old.execute(
        "INSERT INTO messages (seq, id, channel, author, content, created_at)
         VALUES (1, ?1, 1, ?2, 'kept words', 3)",
        rusqlite::params![uuid::Uuid::new_v4(), user],
    )
    .unwrap();
    old.execute(
        "INSERT INTO messages_fts (rowid, content, channel) VALUES (1, 'kept words', 1)",
        [],
    )
    .unwrap();
    drop(old);

    let server = Binary::start(dir.path(), &["--database", "old.db"]).await;
    let login = json!({"name": "old", "password": "pw"});
    let token = server
        .call(Method::POST, "/user/login", None, Some(login))
        .await
        .token();
    let list = server
        .call(Method::GET, "/channel", Some(&token), None)
        .await;
    let list = list.assert_json(200).clone();
    assert_eq!(list[0]["id"], json!(channel));
    assert_eq!(list[0]["kind"], "public");
    let history = format!("/channel/{channel}/messages");
    let history = server.call(Method::GET, &history, Some(&token), None).await;
    assert_eq!(history.assert_json(200)[0]["content"], "kept words");
    let found = server
        .call(Method::GET, "/message/search?q=kept", Some(&token), None)
        .await;
    assert_eq!(found.assert_json(200).as_array().map(Vec::len), Some(1));
    let body = json!({"channel": channel, "content": "new"});
    let sent = server
        .call(Method::POST, "/message/send", Some(&token), Some(body))
        .await;
    sent.assert_json(200);
}
