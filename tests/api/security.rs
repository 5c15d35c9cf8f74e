//! What an attacker could do, each tried for real: concurrent
//! guesses, floods of hashes and channels, look-alike names.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Binary, Reply, TestServer, call_at, client_from};

async fn login_from(http: &reqwest::Client, base: &str, name: &str, password: &str) -> Reply {
    let body = json!({"name": name, "password": password});
    call_at(http, base, Method::POST, "/user/login", None, Some(body)).await
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    let mut all: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    all.sort();
    all
}

#[tokio::test]
async fn concurrent_wrong_passwords_spend_exactly_the_budget() {
    let server = TestServer::start().await; // 10 failures per address, 20 per account
    server.register("owner", "right").await;
    let guesses = (0..30).map(|i| {
        let body = json!({"name": "owner", "password": format!("guess{i}")});
        server.post("/user/login", None, body)
    });
    let replies = futures_util::future::join_all(guesses).await;
    let mut want = vec![403; 10];
    want.extend([429; 20]);
    assert_eq!(statuses(&replies), want);
    for reply in replies.iter().filter(|r| r.status == 429) {
        reply.assert_error(429, "TOO_MANY_REQUESTS");
        let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
    }
    // The owner, from elsewhere, is not locked out by someone else's guesses.
    let owner = client_from([127, 0, 0, 2]);
    login_from(&owner, &server.base, "owner", "right")
        .await
        .assert_json(200);
    server.stop().await;
}

#[tokio::test]
async fn registrations_and_logins_are_limited_per_address() {
    let server = TestServer::start_with(|c| c.login_throttle.per_minute = 3).await;
    server.register("a", "pw").await;
    server.register("b", "pw").await;
    server.login("a", "pw").await;
    let fourth = server
        .post(
            "/user/register",
            None,
            json!({"name": "c", "password": "pw"}),
        )
        .await;
    fourth.assert_error(429, "TOO_MANY_REQUESTS");
    assert_eq!(fourth.header("retry-after"), Some("20"));
    let login = server
        .post("/user/login", None, json!({"name": "a", "password": "pw"}))
        .await;
    login.assert_error(429, "TOO_MANY_REQUESTS");
    // Another address has its own budget.
    let other = client_from([127, 0, 0, 3]);
    login_from(&other, &server.base, "a", "pw")
        .await
        .assert_json(200);
    server.stop().await;
}

#[tokio::test]
async fn a_full_hash_queue_answers_503_with_retry_after() {
    let server = TestServer::start_with(|c| {
        c.hash_queue = 1;
        // Dear enough that the registrations overlap.
        c.scrypt = azuma::ScryptCost {
            log_n: 13,
            r: 8,
            p: 1,
        };
    })
    .await;
    let registrations = (0..12).map(|i| {
        let body = json!({"name": format!("user{i}"), "password": "pw"});
        server.post("/user/register", None, body)
    });
    let replies = futures_util::future::join_all(registrations).await;
    let busy: Vec<_> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(!busy.is_empty(), "{:?}", statuses(&replies));
    for reply in &busy {
        reply.assert_error(503, "SERVICE_UNAVAILABLE");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    assert!(
        replies.iter().all(|r| r.status == 201 || r.status == 503),
        "{:?}",
        statuses(&replies)
    );
    // The queue drains, and each refused one can register afterwards.
    let refused = replies.iter().filter(|r| r.status == 503).count();
    for i in 0..refused {
        server.register(&format!("late{i}"), "pw").await;
    }
    server.stop().await;
}

async fn create(server: &TestServer, token: &str, name: &str) -> Reply {
    server
        .post("/channel", Some(token), json!({"name": name}))
        .await
}

#[tokio::test]
async fn channel_creation_is_limited_per_user_in_rate() {
    let server = TestServer::start_with(|c| c.channels_per_hour = 3).await;
    let alice = server.register("alice", "pw").await;
    for i in 0..3 {
        create(&server, &alice, &format!("c{i}"))
            .await
            .assert_json(201);
    }
    let refused = create(&server, &alice, "c3").await;
    refused.assert_error(429, "TOO_MANY_REQUESTS");
    assert_eq!(refused.header("retry-after"), Some("1200"));
    let bob = server.register("bob", "pw").await;
    create(&server, &bob, "b0").await.assert_json(201);
    let listed = server.get("/channel", Some(&alice)).await;
    assert_eq!(listed.assert_json(200).as_array().unwrap().len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn channel_creation_is_limited_per_user_in_count() {
    let server = TestServer::start_with(|c| c.channels_per_user = 2).await;
    let alice = server.register("alice", "pw").await;
    let first = create(&server, &alice, "one")
        .await
        .assert_json(201)
        .clone();
    create(&server, &alice, "two").await.assert_json(201);
    let refused = create(&server, &alice, "three").await;
    refused.assert_error(429, "TOO_MANY_REQUESTS");
    assert!(refused.header("retry-after").is_some());
    let deleted = server
        .call(
            Method::DELETE,
            "/channel",
            Some(&alice),
            Some(json!({"id": first["id"]})),
        )
        .await;
    assert_eq!(deleted.status, 204);
    create(&server, &alice, "three").await.assert_json(201);
    server.stop().await;
}

#[tokio::test]
async fn look_alike_and_invisible_names_are_refused() {
    let server = TestServer::start().await;
    let admin = server.register("admin", "pw").await;
    server.register("adm\u{ed}n", "pw").await; // composed í
    server.register("ace", "pw").await;
    let register = |name: &'static str| {
        server.post(
            "/user/register",
            None,
            json!({"name": name, "password": "pw"}),
        )
    };
    for taken in ["Admin", "ADMIN", "admi\u{301}n", "\u{430}\u{441}\u{435}"] {
        register(taken).await.assert_error(409, "ALREADY_EXISTS");
    }
    for invalid in [
        "\u{430}dmin",   // Cyrillic а among Latin letters
        "admin\u{200b}", // zero-width space
        "\u{202e}admin", // right-to-left override
        "\u{3164}",      // Hangul filler, invisible
        "ad\u{ad}min",   // soft hyphen
        "admin\u{0}",    // NUL
    ] {
        register(invalid).await.assert_error(400, "BAD_REQUEST");
    }
    // Renames are held to the same rules.
    let rename = |name: &'static str| {
        server.call(
            Method::PATCH,
            "/user/update",
            Some(&admin),
            Some(json!({"name": name})),
        )
    };
    rename("ACE").await.assert_error(409, "ALREADY_EXISTS");
    rename("\u{202e}nimda")
        .await
        .assert_error(400, "BAD_REQUEST");
    rename("Admin").await.assert_json(200); // one's own look-alike
    // Login by name finds the composed name whichever way it is typed.
    server.login("admi\u{301}n", "pw").await;
    server.stop().await;
}

#[tokio::test]
async fn channel_text_refuses_control_and_format_characters() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let post = |body: Value| server.post("/channel", Some(&token), body);
    for name in [
        "a\u{0}b",
        "a\u{1b}[31mred",
        "\u{202e}lareneg",
        "zero\u{200b}width",
    ] {
        post(json!({"name": name}))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    for description in ["a\u{0}b", "\u{1b}[2J", "\u{202e}txet"] {
        post(json!({"name": "ok", "description": description}))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    let fine = post(json!({"name": "ok", "description": "two\nlines\tand a tab"})).await;
    assert_eq!(
        fine.assert_json(201)["description"],
        "two\nlines\tand a tab"
    );
    let listed = server.get("/channel", Some(&token)).await;
    assert_eq!(listed.assert_json(200).as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn login_names_outside_the_limits_are_400_and_never_logged_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &[]).await;
    let huge = "p".repeat(60_000);
    for name in [huge.as_str(), "", "line\nbreak"] {
        let reply = server
            .call(
                Method::POST,
                "/user/login",
                None,
                Some(json!({"name": name, "password": "x"})),
            )
            .await;
        reply.assert_error(400, "BAD_REQUEST");
        assert!(reply.text.len() < 500, "the name is not echoed");
    }
    let long = "n".repeat(64);
    let reply = server
        .call(
            Method::POST,
            "/user/login",
            None,
            Some(json!({"name": long, "password": "x"})),
        )
        .await;
    reply.assert_error(404, "NOT_FOUND");
    let lines = server.lines_until(&["login failed for"]).await;
    let failed = lines.last().expect("the failure's line");
    assert!(failed.contains(&format!("{long:?}")), "{failed}");
    assert!(
        lines.iter().all(|l| !l.contains(&huge[..100])),
        "a refused name reaches no log line"
    );
}

#[tokio::test]
async fn cors_answers_vary_by_origin_and_expose_retry_after() {
    let origin = "http://localhost:5173";
    let server = TestServer::start_with(|c| c.cors_origins = vec![origin.into()]).await;
    for (method, path) in [("GET", "/"), ("GET", "/nope"), ("OPTIONS", "/channel")] {
        let mut request = server
            .client
            .request(method.parse().unwrap(), server.url(path))
            .header("origin", origin);
        if method == "OPTIONS" {
            request = request.header("access-control-request-method", "POST");
        }
        let response = request.send().await.unwrap();
        let headers = response.headers();
        // Beside what else the answer varies with (`GET /`: accept).
        let vary: Vec<&str> = headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(vary.contains(&"origin"), "{method} {path}: {vary:?}");
        if method != "OPTIONS" {
            let exposed = headers
                .get("access-control-expose-headers")
                .map(|v| v.to_str().unwrap().to_ascii_lowercase());
            assert_eq!(exposed.as_deref(), Some("retry-after"), "{method} {path}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_rename_wins_over_a_read_that_started_before_it() {
    let server = TestServer::start().await;
    for i in 0..40 {
        let token = server.register(&format!("before{i}"), "pw").await;
        let me = server.get("/user/self", Some(&token)).await;
        let id = me.assert_json(200)["id"].as_str().unwrap().to_owned();
        let viewer = server.register(&format!("viewer{i}"), "pw").await;
        // A fresh user is not cached: the read and the rename race.
        let path = format!("/user/{id}");
        let read = server.get(&path, Some(&viewer));
        let renamed = server.call(
            Method::PATCH,
            "/user/update",
            Some(&token),
            Some(json!({"name": format!("after{i}")})),
        );
        let (_, renamed) = tokio::join!(read, renamed);
        renamed.assert_json(200);
        let seen = server.get(&path, Some(&viewer)).await;
        assert_eq!(seen.assert_json(200)["name"], format!("after{i}"));
    }
    server.stop().await;
}

#[tokio::test]
async fn names_from_before_the_rules_keep_working() {
    // A database at schema version 3, before names had keys, holding two
    // names that look alike and one that the rules now refuse.
    let dir = tempfile::tempdir().unwrap();
    let old = crate::helpers::old_database(dir.path(), 3);
    let hash = crate::helpers::stored_hash("pw").await;
    for (i, name) in ["admin", "Admin", "p\u{430}ypal"].iter().enumerate() {
        old.execute(
            "INSERT INTO users (id, name, password, created_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![uuid::Uuid::new_v4(), name, hash, i as i64],
        )
        .unwrap();
    }
    drop(old);

    let server = Binary::start(dir.path(), &["--database", "old.db"]).await;
    for name in ["admin", "Admin", "p\u{430}ypal"] {
        let body = json!({"name": name, "password": "pw"});
        let reply = server
            .call(Method::POST, "/user/login", None, Some(body))
            .await;
        reply.assert_json(200);
    }
    for look_alike in ["ADMIN", "paypal"] {
        let body = json!({"name": look_alike, "password": "pw"});
        let reply = server
            .call(Method::POST, "/user/register", None, Some(body))
            .await;
        reply.assert_error(409, "ALREADY_EXISTS");
    }
}
