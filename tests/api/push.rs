//! Web Push, against the push-service stand-in (helpers/push.rs): who is
//! pushed, what each push carries (decrypted as the browser would), what
//! the push service's answers do, and that a push never goes where it
//! doesn't belong.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::attachment::upload;
use crate::channel::create_channel;
use crate::helpers::{Answer, Browser, PushService, TestServer, WsClient, listener_that_counts};
use crate::message::send;
use crate::private::{person, private};

/// How long a push that should come may take; and how long to watch for
/// one that should not.
const COMES: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(1200);

/// A server that may push to loopback (any port), quick to pace and retry,
/// and the stand-in holding its VAPID key.
pub async fn with_push_service() -> (TestServer, PushService) {
    let server = TestServer::start_with(|config| {
        config.push.allow_hosts = vec![azuma::parse_push_host("127.0.0.1").unwrap()];
        config.push.contact = Some("mailto:owner@example.com".into());
        config.push.pace = azuma::PushPace {
            spacing: Duration::from_millis(50),
            longest: Duration::from_millis(400),
            backoff: Duration::from_millis(200),
        };
    })
    .await;
    let key = server.get("/push/key", None).await.assert_json(200)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    (server, PushService::start(key).await)
}

/// Subscribes a new browser of `token`'s session.
pub async fn subscribe(server: &TestServer, push: &PushService, token: &str) -> Browser {
    let (body, browser) = push.subscribe_body();
    let reply = server.post("/push/subscribe", Some(token), body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    browser
}

/// Ann and Bob in a private channel, "two", with a browser of Bob's
/// subscribed.
struct Two {
    ann: String,
    bob: String,
    bob_id: String,
    channel: String,
    bobs: Browser,
}

async fn two(server: &TestServer, push: &PushService) -> Two {
    let (ann, _) = person(server, "ann").await;
    let (bob, bob_id) = person(server, "bob").await;
    let channel = private(server, &ann, "two", &[&bob_id]).await;
    let bobs = subscribe(server, push, &bob).await;
    Two {
        ann,
        bob,
        bob_id,
        channel,
        bobs,
    }
}

/// The next push, which must be for `browser` and pass every check.
async fn pushed(push: &PushService, browser: &Browser) -> (Value, crate::helpers::Delivery) {
    let delivery = push.next(COMES).await.expect("a push");
    assert_eq!(delivery.endpoint_id, browser.id, "{delivery:?}");
    assert!(delivery.problems.is_empty(), "{:?}", delivery.problems);
    (
        delivery.payload.clone().expect("a decrypted payload"),
        delivery,
    )
}

async fn nothing_pushed(push: &PushService) {
    if let Some(delivery) = push.next(QUIET).await {
        panic!("an unexpected push: {delivery:?}");
    }
}

fn subscriptions(server: &TestServer) -> i64 {
    server
        .peek()
        .query_row("SELECT count(*) FROM push_subscriptions", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_push_carries_the_message_encrypted_for_the_browser_field_by_field() {
    let (server, push) = with_push_service().await;
    let key = server.get("/push/key", None).await.body["key"].clone();
    assert_eq!(key.as_str().unwrap().len(), 87, "65 bytes, base64url");
    // Made on first start and kept in the database: its secret there is
    // the key's.
    let secret: Vec<u8> = server
        .peek()
        .query_row("SELECT key FROM secrets WHERE name = 'vapid'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let public = p256::SecretKey::from_slice(&secret).unwrap().public_key();
    use base64::Engine as _;
    use p256::elliptic_curve::sec1::ToSec1Point as _;
    let encoded =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public.to_uncompressed_point());
    assert_eq!(key, json!(encoded));
    let (ann, _) = person(&server, "ann").await;
    let (bob, bob_id) = person(&server, "bob").await;
    let channel = private(&server, &ann, "family", &[&bob_id]).await;
    let bobs = subscribe(&server, &push, &bob).await;
    let _anns = subscribe(&server, &push, &ann).await;

    let long = "é".repeat(250);
    let message = send(&server, &ann, &channel, &long).await;
    let (payload, delivery) = pushed(&push, &bobs).await;
    assert_eq!(
        payload,
        json!({
            "channel": channel, "channel_name": "family", "message": message["id"],
            "author": "ann", "text": "é".repeat(200), "unread": 1,
        })
    );
    assert_eq!(delivery.ttl, Some(86400));
    assert_eq!(delivery.urgency.as_deref(), Some("normal"));
    assert_eq!(
        delivery.subject.as_deref(),
        Some("mailto:owner@example.com")
    );
    let topic = delivery.topic.clone().expect("a Topic");
    assert!(topic.len() <= 32, "{topic}");
    // The author hears nothing of their own message.
    nothing_pushed(&push).await;
    // A private channel's default level is `all`.
    let unread = server.get("/user/self/unread", Some(&bob)).await;
    let entry = &unread.assert_json(200)[0];
    assert_eq!(
        (&entry["channel"], &entry["notifications"]),
        (&json!(channel), &json!("all"))
    );

    // A message of files only shows its first file's name; the count grows.
    let file = upload(&server, &ann, "beach.txt", "text/plain", b"sand".to_vec()).await;
    let file = file.assert_json(201)["id"].clone();
    let body = json!({"channel": channel, "content": "", "attachments": [file]});
    server
        .post("/message/send", Some(&ann), body)
        .await
        .assert_json(200);
    let (payload, next) = pushed(&push, &bobs).await;
    assert_eq!(payload["text"], "beach.txt");
    assert_eq!(payload["unread"], 2);
    assert_eq!(next.topic, Some(topic), "one Topic per channel");

    // A direct message is urgent.
    let body = json!({"users": [bob_id]});
    let direct = server.post("/direct", Some(&ann), body).await;
    let direct = direct.body["id"].as_str().unwrap().to_owned();
    send(&server, &ann, &direct, "psst").await;
    let (payload, delivery) = pushed(&push, &bobs).await;
    assert_eq!(payload["text"], "psst");
    assert_eq!(delivery.urgency.as_deref(), Some("high"));
}

#[tokio::test]
async fn levels_and_mentions_decide_who_hears_of_what() {
    let (server, push) = with_push_service().await;
    let (ann, _) = person(&server, "ann").await;
    let (bob, bob_id) = person(&server, "Bob Marley").await;
    let (cat, cat_id) = person(&server, "cat").await;
    let public = create_channel(&server, &ann, "general").await;
    let bobs = subscribe(&server, &push, &bob).await;

    // Public channels default to mentions.
    send(&server, &ann, &public, "hello everyone").await;
    nothing_pushed(&push).await;
    let mention = send(&server, &ann, &public, "ping @bob marley!").await;
    assert_eq!(mention["mentions"], json!([bob_id]));
    let (payload, delivery) = pushed(&push, &bobs).await;
    assert_eq!(payload["message"], mention["id"]);
    assert_eq!(
        delivery.urgency.as_deref(),
        Some("high"),
        "a mention is urgent"
    );
    let unread = server.get("/user/self/unread", Some(&bob)).await;
    let entry = &unread.assert_json(200)[0];
    assert_eq!(
        (
            &entry["notifications"],
            &entry["mentions"],
            &entry["unread"]
        ),
        (&json!("mentions"), &json!(1), &json!(2))
    );
    // Not a word's start, nor the whole of a name: no mention.
    for text in ["mail@bob marley", "@bob marleyz"] {
        assert_eq!(
            send(&server, &ann, &public, text).await["mentions"],
            json!([])
        );
    }
    nothing_pushed(&push).await;

    let level = |level: &str| json!({"level": level});
    let path = format!("/channel/{public}/notifications");
    let set = |body: Value| server.call(Method::PUT, &path, Some(&bob), Some(body));
    assert_eq!(set(level("all")).await.status, 204);
    send(&server, &cat, &public, "anyone?").await;
    assert_eq!(pushed(&push, &bobs).await.0["author"], "cat");
    assert_eq!(set(level("none")).await.status, 204);
    send(&server, &cat, &public, "@Bob Marley you there?").await;
    nothing_pushed(&push).await;
    let unread = server.get("/user/self/unread", Some(&bob)).await;
    assert_eq!(unread.body[0]["notifications"], "none");
    assert_eq!(unread.body[0]["mentions"], 2);
    // Bad levels and unknown channels change nothing.
    set(level("loud")).await.assert_error(400, "BAD_REQUEST");
    set(json!({})).await.assert_error(400, "BAD_REQUEST");
    let nowhere = format!("/channel/{}/notifications", uuid::Uuid::new_v4());
    let reply = server
        .call(Method::PUT, &nowhere, Some(&bob), Some(level("all")))
        .await;
    reply.assert_error(404, "NOT_FOUND");

    // A private channel Bob is not in: naming him mentions nobody.
    let secret = private(&server, &ann, "secret", &[]).await;
    let sent = send(&server, &ann, &secret, "@bob marley can't see this").await;
    assert_eq!(sent["mentions"], json!([]));
    // An edit works the mentions out again: cat is no member here either.
    let edit = |id: &str, content: &str| {
        let path = format!("/message/{id}");
        let body = json!({"content": content});
        let server = &server;
        let ann = ann.clone();
        async move {
            server
                .call(Method::PATCH, &path, Some(&ann), Some(body))
                .await
        }
    };
    let id = sent["id"].as_str().unwrap().to_owned();
    let edited = edit(&id, "now @cat").await;
    assert_eq!(edited.assert_json(200)["mentions"], json!([]));
    // In the public channel an edit adds a mention, and takes it away.
    let plain = send(&server, &ann, &public, "hello cat").await;
    let plain = plain["id"].as_str().unwrap().to_owned();
    assert_eq!(
        edit(&plain, "hello @cat").await.body["mentions"],
        json!([cat_id])
    );
    let fetched = server.get(&format!("/message/{plain}"), Some(&cat)).await;
    assert_eq!(fetched.body["mentions"], json!([cat_id]));
    let unread = server.get("/user/self/unread", Some(&cat)).await;
    assert_eq!(unread.body[0]["mentions"], 1);
    assert_eq!(edit(&plain, "hello cat").await.body["mentions"], json!([]));
    let unread = server.get("/user/self/unread", Some(&cat)).await;
    assert_eq!(unread.body[0]["mentions"], 0);
    nothing_pushed(&push).await;
}

#[tokio::test]
async fn nobody_with_an_open_websocket_is_pushed() {
    let (server, push) = with_push_service().await;
    let Two {
        ann,
        bob,
        channel,
        bobs,
        ..
    } = two(&server, &push).await;
    let mut socket = WsClient::connect(&server.base).await;
    socket.authenticate(&bob).await;
    send(&server, &ann, &channel, "you're here").await;
    nothing_pushed(&push).await;
    drop(socket);
    // Once the socket is gone (the server notices its close), pushes resume.
    let mut pushed_after = None;
    for _ in 0..20 {
        send(&server, &ann, &channel, "and now?").await;
        if let Some(delivery) = push.next(Duration::from_millis(300)).await {
            pushed_after = Some(delivery);
            break;
        }
    }
    let delivery = pushed_after.expect("a push once the socket closed");
    assert_eq!(delivery.endpoint_id, bobs.id);
}

#[tokio::test]
async fn gone_subscriptions_are_deleted_and_busy_services_are_retried() {
    let (server, push) = with_push_service().await;
    let Two {
        ann,
        bob,
        channel,
        bobs,
        ..
    } = two(&server, &push).await;

    // 429 with Retry-After, then 500: retried (after the wait asked for),
    // then delivered.
    push.script(&bobs.id, [Answer::RetryAfter(429, 1), Answer::Status(500)]);
    send(&server, &ann, &channel, "persist").await;
    let first = push.next(COMES).await.expect("a first try");
    let second = push.next(COMES).await.expect("a retry");
    assert!(
        second.at - first.at >= Duration::from_millis(950),
        "Retry-After is honoured"
    );
    let third = push.next(COMES).await.expect("a second retry");
    assert_eq!(third.payload.as_ref().unwrap()["text"], "persist");
    assert!(third.problems.is_empty(), "{:?}", third.problems);
    assert_eq!(subscriptions(&server), 1);

    // A service that keeps failing is tried 4 times in all, then left.
    push.script(&bobs.id, std::iter::repeat_n(Answer::Status(503), 4));
    send(&server, &ann, &channel, "anyone?").await;
    for _ in 0..4 {
        push.next(COMES).await.expect("a try");
    }
    tokio::time::sleep(Duration::from_millis(1700)).await;
    nothing_pushed(&push).await;
    assert_eq!(
        subscriptions(&server),
        1,
        "a failing service is no gone subscription"
    );

    // 404 and 410: the subscription is deleted.
    for gone in [404, 410] {
        push.script(&bobs.id, [Answer::Status(gone)]);
        send(&server, &ann, &channel, "still there?").await;
        push.next(COMES).await.expect("a push");
        for _ in 0..50 {
            if subscriptions(&server) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(subscriptions(&server), 0, "{gone} deletes the subscription");
        send(&server, &ann, &channel, "hello?").await;
        nothing_pushed(&push).await;
        let body = json!({"endpoint": bobs.endpoint, "keys": push.subscribe_body().0["keys"]});
        server.post("/push/subscribe", Some(&bob), body).await;
    }
}

#[tokio::test]
async fn a_push_service_that_hangs_delays_no_send_and_nobody_elses_push() {
    let (server, push) = with_push_service().await;
    let (ann, _) = person(&server, "ann").await;
    let (bob, bob_id) = person(&server, "bob").await;
    let (cat, cat_id) = person(&server, "cat").await;
    let channel = private(&server, &ann, "three", &[&bob_id, &cat_id]).await;
    let bobs = subscribe(&server, &push, &bob).await;
    let cats = subscribe(&server, &push, &cat).await;
    // Everyone's push service takes 50 ms; Bob's hangs.
    push.set_default(Answer::Slow(Duration::from_millis(50), 201));
    push.script(&bobs.id, [Answer::Hang, Answer::Hang, Answer::Hang]);
    for round in 0..3 {
        let started = std::time::Instant::now();
        send(&server, &ann, &channel, &format!("round {round}")).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the send waited"
        );
        let mut heard = Vec::new();
        while let Some(delivery) = push.next(Duration::from_secs(2)).await {
            heard.push(delivery.endpoint_id.clone());
            if delivery.endpoint_id == cats.id {
                break;
            }
        }
        assert!(
            heard.contains(&cats.id),
            "cat's push came despite bob's: {heard:?}"
        );
    }
}

#[tokio::test]
async fn logging_out_deletes_the_sessions_subscriptions() {
    let (server, push) = with_push_service().await;
    let (ann, _) = person(&server, "ann").await;
    let (bob, bob_id) = person(&server, "bob").await;
    let channel = private(&server, &ann, "two", &[&bob_id]).await;
    let other = server.login("bob", "pw").await;
    subscribe(&server, &push, &bob).await;
    let kept = subscribe(&server, &push, &other).await;
    assert_eq!(subscriptions(&server), 2);
    let reply = server.post("/user/logout", Some(&bob), json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(subscriptions(&server), 1);
    send(&server, &ann, &channel, "only the other browser").await;
    pushed(&push, &kept).await;
    // Nobody else can unsubscribe it.
    let body = json!({"endpoint": kept.endpoint});
    let reply = server
        .call(Method::DELETE, "/push/subscribe", Some(&ann), Some(body))
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(subscriptions(&server), 1);
    // A password change revokes the other sessions, and their browsers.
    let third = server.login("bob", "pw").await;
    subscribe(&server, &push, &third).await;
    let body = json!({"password": "new pw"});
    let reply = server
        .call(Method::PATCH, "/user/update", Some(&other), Some(body))
        .await;
    reply.assert_json(200);
    assert_eq!(
        subscriptions(&server),
        1,
        "the changing session keeps its own"
    );
    // Unsubscribing one's own (the URL as written, or in another spelling
    // of it): 204, and nothing more is pushed to it.
    let body = json!({"endpoint": kept.endpoint.replacen("http://", "HTTP://", 1)});
    let reply = server
        .call(Method::DELETE, "/push/subscribe", Some(&other), Some(body))
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(subscriptions(&server), 0);
    send(&server, &ann, &channel, "nobody").await;
    nothing_pushed(&push).await;
}

#[tokio::test]
async fn endpoints_that_lead_where_they_dont_belong_are_refused_and_never_called() {
    // No host allowed here: the server's defaults.
    let server = TestServer::start().await;
    let (ann, _) = person(&server, "ann").await;
    let (bob, bob_id) = person(&server, "bob").await;
    let (listener, calls) = listener_that_counts().await;
    let port = listener.rsplit(':').next().unwrap().to_owned();
    let key = server.get("/push/key", None).await.body["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let stand_in = PushService::start(key).await;
    let keys = stand_in.subscribe_body().0["keys"].clone();
    let refused = [
        format!("http://{listener}/push/x"),
        format!("https://{listener}/push/x"),
        format!("https://localhost:{port}/push/x"),
        format!("https://[::1]:{port}/push/x"),
        format!("https://[::ffff:127.0.0.1]:{port}/push/x"),
        format!("https://0.0.0.0:{port}/push/x"),
        "https://10.0.0.1/push/x".into(),
        "https://172.16.5.4/push/x".into(),
        "https://192.168.1.1/push/x".into(),
        "https://169.254.169.254/latest/meta-data".into(),
        "https://100.64.0.1/push/x".into(),
        "https://[fe80::1]/push/x".into(),
        "https://[fd00::1]/push/x".into(),
        "https://user:pw@push.example/x".into(),
        "ftp://push.example/x".into(),
        "not a url".into(),
        format!("https://push.example/{}", "x".repeat(3000)),
    ];
    for endpoint in refused {
        let body = json!({"endpoint": endpoint, "keys": keys});
        let reply = server.post("/push/subscribe", Some(&bob), body).await;
        reply.assert_error(400, "BAD_REQUEST");
    }
    // Keys that are no P-256 point, or no 16-byte secret.
    let endpoint = "https://push.example/x";
    for bad in [
        json!({"p256dh": "AAAA", "auth": keys["auth"]}),
        json!({"p256dh": keys["p256dh"], "auth": "AAAA"}),
        json!({"p256dh": keys["p256dh"]}),
    ] {
        let body = json!({"endpoint": endpoint, "keys": bad});
        let reply = server.post("/push/subscribe", Some(&bob), body).await;
        reply.assert_error(400, "BAD_REQUEST");
    }
    assert_eq!(subscriptions(&server), 0);

    // A name that resolved to public addresses when it was subscribed and
    // to loopback now (DNS rebinding): every connection checks again.
    let token_hash: Vec<u8> = server
        .peek()
        .query_row(
            "SELECT token_hash FROM sessions WHERE user_id = ?1",
            [uuid::Uuid::parse_str(&bob_id).unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    server
        .peek()
        .execute(
            "INSERT INTO push_subscriptions (endpoint, session, user, p256dh, auth, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            rusqlite::params![
                format!("https://localhost:{port}/push/x"),
                token_hash,
                uuid::Uuid::parse_str(&bob_id).unwrap(),
                keys["p256dh"].as_str().unwrap(),
                keys["auth"].as_str().unwrap(),
            ],
        )
        .unwrap();
    let channel = private(&server, &ann, "two", &[&bob_id]).await;
    send(&server, &ann, &channel, "to loopback?").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "never contacted"
    );
    assert_eq!(stand_in.requests(), 0);
}

#[tokio::test]
async fn news_that_comes_meanwhile_is_folded_into_the_next_push() {
    let (server, push) = with_push_service().await;
    let Two {
        ann, channel, bobs, ..
    } = two(&server, &push).await;
    // Bob's push service takes 300 ms: the sends below come meanwhile.
    push.script(&bobs.id, [Answer::Slow(Duration::from_millis(300), 201)]);
    let first = send(&server, &ann, &channel, "one").await;
    let (payload, _) = pushed(&push, &bobs).await;
    assert_eq!(payload["message"], first["id"]);
    let mut last = Value::Null;
    for text in ["two", "three", "four"] {
        last = send(&server, &ann, &channel, text).await;
    }
    let (payload, _) = pushed(&push, &bobs).await;
    assert_eq!(payload["message"], last["id"], "the newest, not each");
    assert_eq!(payload["unread"], 4);
    nothing_pushed(&push).await;
}

#[tokio::test]
async fn news_waiting_for_someone_removed_from_the_channel_never_reaches_them() {
    let (server, push) = with_push_service().await;
    let Two {
        ann,
        bob_id,
        channel,
        bobs,
        ..
    } = two(&server, &push).await;
    push.script(&bobs.id, [Answer::Slow(Duration::from_millis(500), 201)]);
    send(&server, &ann, &channel, "before").await;
    pushed(&push, &bobs).await;
    // While that push is under way, news waits; then Bob is removed.
    send(&server, &ann, &channel, "after he is gone").await;
    let path = format!("/channel/{channel}/members/{bob_id}");
    let removed = server.call(Method::DELETE, &path, Some(&ann), None).await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    nothing_pushed(&push).await;
}

/// A system without CA certificates (a bare container, say) still serves
/// everything: pushes only need them at the first push, and say so there.
#[tokio::test]
async fn a_system_without_ca_certificates_still_serves() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = crate::helpers::binary(dir.path());
    command
        .env("SSL_CERT_FILE", dir.path().join("none.pem"))
        .env("SSL_CERT_DIR", dir.path().join("none"));
    let server = crate::helpers::Binary::spawn(command, &[]).await;
    let token = crate::helpers::register_at(&server.http, &server.base, "ann", "pw").await;
    let key = server.call(Method::GET, "/push/key", None, None).await;
    assert_eq!(key.status, 200);
    let channel = crate::helpers::channel_at(&server.http, &server.base, &token, "general").await;
    crate::helpers::send_at(&server.http, &server.base, &token, &channel, "still here").await;
}

#[tokio::test]
async fn an_account_keeps_its_ten_newest_subscriptions() {
    let (server, push) = with_push_service().await;
    let (bob, _) = person(&server, "bob").await;
    let first = subscribe(&server, &push, &bob).await;
    for _ in 0..10 {
        subscribe(&server, &push, &bob).await;
    }
    assert_eq!(subscriptions(&server), 10);
    let kept: i64 = server
        .peek()
        .query_row(
            "SELECT count(*) FROM push_subscriptions WHERE endpoint = ?1",
            [&first.endpoint],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 0, "the oldest went");
}

#[tokio::test]
async fn the_wait_between_pushes_doubles_while_news_keeps_coming() {
    let (server, push) = with_push_service().await;
    let Two {
        ann, channel, bobs, ..
    } = two(&server, &push).await;
    // A message every 20 ms for 1.6 s; spacing 50 ms here, at most 400.
    for i in 0..80 {
        send(&server, &ann, &channel, &format!("news {i}")).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut at = Vec::new();
    while let Some(delivery) = push.next(Duration::from_millis(600)).await {
        assert_eq!(delivery.endpoint_id, bobs.id);
        at.push(delivery.at);
    }
    assert!(at.len() >= 5, "{} pushes", at.len());
    for (k, pair) in at.windows(2).enumerate().take(4) {
        let least = Duration::from_millis((50 << k).min(400));
        assert!(
            pair[1] - pair[0] >= least,
            "gap {k}: {:?} < {least:?}",
            pair[1] - pair[0]
        );
    }
    assert!(
        at.len() < 20,
        "folded, not one push per message: {}",
        at.len()
    );
}
