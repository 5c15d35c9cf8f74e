//! `GET /init_ws`, presence and online status, with a real websocket client.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::channel::create_channel;
use crate::helpers::{Reply, TestServer, WsClient, client};

const ERROR_BAD_REQUEST: &str = r#"{"type":"Error","content":{"message":"BAD_REQUEST"}}"#;

async fn user_id(server: &TestServer, token: &str) -> String {
    let me = server.get("/user/self", Some(token)).await;
    me.body["id"].as_str().unwrap().to_owned()
}

async fn set_status(server: &TestServer, token: &str, status: &str) -> Reply {
    server
        .post("/user/status/set", Some(token), json!({"status": status}))
        .await
}

fn status(user: &str, visible: &str) -> Value {
    json!({"type": "Status", "content": {"user": user, "onlinestatus": visible}})
}

#[tokio::test]
async fn init_ws_is_a_websocket_route() {
    let server = TestServer::start().await;
    server
        .get("/init_ws", None)
        .await
        .assert_error(400, "BAD_REQUEST");
    server
        .call(Method::POST, "/init_ws", None, None)
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");
    server.stop().await;
}

#[tokio::test]
async fn authenticate_welcome_and_errors_keep_the_connection_open() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let me = user_id(&server, &token).await;
    let mut ws = WsClient::connect(&server.base).await;

    let bad_request = serde_json::from_str::<Value>(ERROR_BAD_REQUEST).unwrap();
    for garbage in [
        "not json",
        "{}",
        "[]",
        r#"{"type": "Hello"}"#,
        r#"{"type": "Authenticate"}"#,
        r#"{"type": "Authenticate", "content": {}}"#,
        r#"{"type": "Authenticate", "content": {"token": 5}}"#,
    ] {
        ws.send_text(garbage).await;
        assert_eq!(ws.next().await, bad_request, "{garbage}");
    }
    let unauthorized = json!({"type": "Error", "content": {"message": "UNAUTHORIZED"}});
    for bad_token in ["318cd399-f47f-478f-8d09-c9c414c3750d", "nope"] {
        ws.send_text(&json!({"type": "Authenticate", "content": {"token": bad_token}}).to_string())
            .await;
        assert_eq!(ws.next().await, unauthorized);
    }
    ws.authenticate(&token).await;
    assert_eq!(ws.next().await, status(&me, "ONLINE"));
    // A second Authenticate is a bad request; the connection carries on.
    ws.send_text(&json!({"type": "Authenticate", "content": {"token": token}}).to_string())
        .await;
    assert_eq!(ws.next().await, bad_request);
    let channel = create_channel(&server, &token, "still here").await;
    assert_eq!(
        ws.next_of("ChannelCreated").await["content"]["id"],
        channel.as_str()
    );
    server.stop().await;
}

#[tokio::test]
async fn authenticating_renews_the_token() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    server.clock.advance(Duration::from_secs(4 * 60));
    let mut ws = WsClient::connect(&server.base).await;
    ws.authenticate(&token).await;
    // Past the 5 minutes an unused token would have had.
    server.clock.advance(Duration::from_secs(2 * 60));
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    server.stop().await;
}

/// Two users on three connections all receive everything, in send order,
/// for channels created after they connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_receives_every_event_in_order() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let bob = server.register("bob", "pw").await;
    let mut connections = Vec::new();
    for token in [&alice, &alice, &bob] {
        let mut ws = WsClient::connect(&server.base).await;
        ws.authenticate(token).await;
        connections.push(ws);
    }

    let created = server
        .post("/channel", Some(&alice), json!({"name": "new"}))
        .await;
    let channel = created.assert_json(201).clone();
    let id = channel["id"].as_str().unwrap().to_owned();
    let mut sent = Vec::new();
    for i in 0..30 {
        let token = if i % 3 == 0 { &bob } else { &alice };
        let reply = server
            .post(
                "/message/send",
                Some(token),
                json!({"channel": id, "content": format!("m{i}")}),
            )
            .await;
        sent.push(reply.assert_json(200).clone());
    }
    let deleted = server
        .call(
            Method::DELETE,
            "/channel",
            Some(&alice),
            Some(json!({"id": id})),
        )
        .await;
    assert_eq!(deleted.status, 204);

    for ws in &mut connections {
        let frame = ws.next_of("ChannelCreated").await;
        assert_eq!(frame, json!({"type": "ChannelCreated", "content": channel}));
        // The sender's own connections also hear their read marker move
        // (API.md, ReadMarker): the order of everything else holds.
        for message in &sent {
            let frame = ws.next_but("ReadMarker").await;
            assert_eq!(frame, json!({"type": "Message", "content": message}));
        }
        assert_eq!(
            ws.next_but("ReadMarker").await,
            json!({"type": "ChannelDeleted", "content": {"id": id}})
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn status_transitions_are_announced_and_shown() {
    let server = TestServer::start().await;
    let alice = server.register("alice", "pw").await;
    let bob = server.register("bob", "pw").await;
    let bob_id = user_id(&server, &bob).await;
    let shown = |token: String| {
        let server = &server;
        let bob_id = bob_id.clone();
        async move {
            let seen = server.get(&format!("/user/{bob_id}"), Some(&token)).await;
            seen.body["onlinestatus"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(shown(alice.clone()).await, "OFFLINE");
    set_status(&server, &bob, "AFK")
        .await
        .assert_error(400, "BAD_REQUEST");

    let mut watcher = WsClient::connect(&server.base).await;
    watcher.authenticate(&alice).await;
    watcher.next_of("Status").await; // alice herself

    let mut first = WsClient::connect(&server.base).await;
    first.authenticate(&bob).await;
    assert_eq!(watcher.next().await, status(&bob_id, "ONLINE"));
    assert_eq!(shown(alice.clone()).await, "ONLINE");

    for (chosen, visible) in [
        ("AFK", "AFK"),
        ("DND", "DND"),
        ("APPEAR_AS_OFFLINE", "OFFLINE"),
        ("ONLINE", "ONLINE"),
        ("OFFLINE", "OFFLINE"),
    ] {
        let reply = set_status(&server, &bob, chosen).await;
        assert_eq!(
            reply.assert_json(200),
            &json!({"user": bob_id, "onlinestatus": visible})
        );
        assert_eq!(watcher.next().await, status(&bob_id, visible), "{chosen}");
        assert_eq!(shown(alice.clone()).await, visible);
        assert_eq!(shown(bob.clone()).await, visible, "the user sees it too");
    }
    for bad in [
        json!({"status": "AWAY"}),
        json!({"status": "online"}),
        json!({}),
    ] {
        server
            .post("/user/status/set", Some(&bob), bad)
            .await
            .assert_error(400, "BAD_REQUEST");
    }

    // A second connection changes nothing; closing one of two neither.
    set_status(&server, &bob, "DND").await.assert_json(200);
    assert_eq!(watcher.next().await, status(&bob_id, "DND"));
    let mut second = WsClient::connect(&server.base).await;
    second.authenticate(&bob).await;
    drop(first);
    watcher.silent_for(Duration::from_millis(300)).await;
    assert_eq!(shown(alice.clone()).await, "DND");

    // The last close forgets the status.
    drop(second);
    assert_eq!(watcher.next().await, status(&bob_id, "OFFLINE"));
    assert_eq!(shown(alice.clone()).await, "OFFLINE");
    set_status(&server, &bob, "DND")
        .await
        .assert_error(400, "BAD_REQUEST");
    let mut again = WsClient::connect(&server.base).await;
    again.authenticate(&bob).await;
    assert_eq!(watcher.next().await, status(&bob_id, "ONLINE"));
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_connections_are_closed_at_the_deadline() {
    let server = TestServer::start_with(|c| {
        c.realtime.auth_timeout = Duration::from_millis(300);
    })
    .await;
    let token = server.register("azuma", "pw").await;
    let mut idle = WsClient::connect(&server.base).await;
    let mut authenticated = WsClient::connect(&server.base).await;
    authenticated.authenticate(&token).await;
    let (code, reason, _) = idle.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "not authenticated"));
    // The authenticated one is still served.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let channel = create_channel(&server, &token, "after").await;
    assert_eq!(
        authenticated.next_of("ChannelCreated").await["content"]["id"],
        channel.as_str()
    );
    server.stop().await;
}

#[tokio::test]
async fn silent_connections_are_closed_and_answering_ones_kept() {
    let server = TestServer::start_with(|c| {
        c.realtime.ping_interval = Duration::from_millis(100);
        c.realtime.idle_timeout = Duration::from_millis(400);
    })
    .await;
    let token = server.register("azuma", "pw").await;
    let mut answering = WsClient::connect(&server.base).await;
    answering.authenticate(&token).await;
    let mut silent = WsClient::connect(&server.base).await;
    silent.authenticate(&token).await;
    silent.mute();
    // Reading answers the server's pings (tungstenite sends the pongs):
    // well past the idle timeout, the reading connection is still open.
    answering.next_of("Status").await;
    answering.silent_for(Duration::from_millis(1200)).await;
    let channel = create_channel(&server, &token, "alive").await;
    assert_eq!(
        answering.next_of("ChannelCreated").await["content"]["id"],
        channel.as_str()
    );
    let (code, reason, _) = silent.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "idle"));
    server.stop().await;
}

/// A client that never reads is closed as `lagged`; a reading client on the
/// same server receives every message, at full speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_closed_as_lagged() {
    let server = TestServer::start_with(|c| {
        c.realtime.queue = 8;
        c.realtime.close_wait = Duration::from_secs(30);
    })
    .await;
    let token = server.register("azuma", "pw").await;
    let channel = create_channel(&server, &token, "firehose").await;
    let mut stuck = WsClient::connect_with_receive_buffer(&server.base, Some(4096)).await;
    stuck.authenticate(&token).await;
    let mut reader = WsClient::connect(&server.base).await;
    reader.authenticate(&token).await;

    // 16 KB frames, 9.6 MB in all: more than twice what the kernel buffers
    // of one loopback connection can hold (net.ipv4.tcp_wmem caps at 4 MiB).
    const COUNT: usize = 600;
    let reading = tokio::spawn(async move {
        let mut contents = Vec::new();
        while contents.len() < COUNT {
            let frame = reader.next_of("Message").await;
            contents.push(frame["content"]["content"].as_str().unwrap().to_owned());
        }
        contents
    });
    let http = client();
    let padding = "😀".repeat(3990);
    for i in 0..COUNT {
        let response = http
            .post(server.url("/message/send"))
            .bearer_auth(&token)
            .json(&json!({"channel": channel, "content": format!("{i} {padding}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let contents = tokio::time::timeout(Duration::from_secs(30), reading)
        .await
        .expect("the reading client keeps up")
        .unwrap();
    let expected: Vec<String> = (0..COUNT).map(|i| format!("{i} {padding}")).collect();
    assert_eq!(contents, expected);

    let (code, reason, delivered) = stuck.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "lagged"));
    assert!(
        delivered < COUNT,
        "{delivered} of {COUNT} reached the stuck client"
    );
    server.stop().await;
}

#[tokio::test]
async fn revoking_a_token_closes_its_connections_only() {
    let server = TestServer::start().await;
    let first = server.register("azuma", "pw").await;
    let second = server.login("azuma", "pw").await;
    let third = server.login("azuma", "pw").await;
    let mut connections = Vec::new();
    for token in [&first, &second, &third] {
        let mut ws = WsClient::connect(&server.base).await;
        ws.authenticate(token).await;
        connections.push(ws);
    }
    let [mut on_first, mut on_second, mut on_third] =
        <[WsClient; 3]>::try_from(connections).ok().unwrap();

    // Logout closes the connection of that token.
    let reply = server
        .call(Method::POST, "/user/logout", Some(&first), None)
        .await;
    assert_eq!(reply.status, 204);
    let (code, reason, _) = on_first.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "token revoked"));

    // A password change closes the others', and keeps the changer's own.
    server
        .call(
            Method::PATCH,
            "/user/update",
            Some(&second),
            Some(json!({"password": "new"})),
        )
        .await
        .assert_json(200);
    let (code, reason, _) = on_third.closed().await;
    assert_eq!((code, reason.as_str()), (1008, "token revoked"));
    let channel = create_channel(&server, &second, "still").await;
    assert_eq!(
        on_second.next_of("ChannelCreated").await["content"]["id"],
        channel.as_str()
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_every_connection_with_1001() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let mut unauthenticated = WsClient::connect(&server.base).await;
    let mut authenticated = WsClient::connect(&server.base).await;
    authenticated.authenticate(&token).await;
    let stopping = tokio::spawn(server.stop());
    for ws in [&mut unauthenticated, &mut authenticated] {
        let (code, reason, _) = ws.closed().await;
        assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    }
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stops once the websockets are closed")
        .unwrap();
}

#[tokio::test]
async fn a_close_from_the_client_is_answered() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let me = user_id(&server, &token).await;
    let mut watcher = WsClient::connect(&server.base).await;
    watcher.authenticate(&token).await;
    watcher.next_of("Status").await;
    let mut leaving = WsClient::connect(&server.base).await;
    leaving
        .authenticate(&server.login("azuma", "pw").await)
        .await;
    assert_eq!(leaving.close_from_client().await, Some(1000));
    // And the server let go of it: one connection of two is left.
    let mut unauthenticated = WsClient::connect(&server.base).await;
    assert_eq!(unauthenticated.close_from_client().await, Some(1000));
    set_status(&server, &token, "AFK").await.assert_json(200);
    assert_eq!(watcher.next().await, status(&me, "AFK"));
    server.stop().await;
}
