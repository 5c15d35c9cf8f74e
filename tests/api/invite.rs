//! Invitations: `POST /invite`, `--registration invite`, `azuma invite`.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Binary, TestServer, binary};

async fn invite(server: &TestServer, token: &str) -> String {
    let reply = server
        .call(Method::POST, "/invite", Some(token), None)
        .await;
    let body = reply.assert_json(201);
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 32, "{code}");
    assert!(code.chars().all(|c| c.is_ascii_hexdigit()), "{code}");
    crate::helpers::assert_timestamp(body["expires_at"].as_str().unwrap());
    code
}

fn account(name: &str, code: Option<&str>) -> serde_json::Value {
    match code {
        Some(code) => json!({"name": name, "password": "pw", "invite": code}),
        None => json!({"name": name, "password": "pw"}),
    }
}

async fn invite_only() -> (TestServer, String) {
    let server = TestServer::start_with(|c| c.registration = azuma::Registration::Invite).await;
    // The first account comes from the command line in real life; here,
    // straight into the file.
    let conn = server.peek();
    let hash = crate::helpers::stored_hash("pw").await;
    conn.execute(
        "INSERT INTO users (id, name, name_key, password, created_at) VALUES (?1, 'host', 'host', ?2, 1)",
        rusqlite::params![uuid::Uuid::new_v4(), hash],
    )
    .unwrap();
    let token = server.login("host", "pw").await;
    (server, token)
}

#[tokio::test]
async fn an_invitation_registers_one_account_once_within_a_week() {
    let (server, host) = invite_only().await;
    for body in [
        account("x", None),
        account("x", Some("nonsense")),
        account("x", Some(&"0".repeat(32))),
    ] {
        server
            .post("/user/register", None, body)
            .await
            .assert_error(403, "FORBIDDEN");
    }
    let code = invite(&server, &host).await;
    let reply = server
        .post("/user/register", None, account("guest", Some(&code)))
        .await;
    reply.assert_json(201);
    let again = server
        .post("/user/register", None, account("other", Some(&code)))
        .await;
    again.assert_error(403, "FORBIDDEN");
    // A taken name does not use the code up.
    let code = invite(&server, &host).await;
    let taken = server
        .post("/user/register", None, account("guest", Some(&code)))
        .await;
    taken.assert_error(409, "ALREADY_EXISTS");
    server
        .post("/user/register", None, account("third", Some(&code)))
        .await
        .assert_json(201);
    // Seven days on, an unused code is no good.
    let code = invite(&server, &host).await;
    server.clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    let late = server
        .post("/user/register", None, account("late", Some(&code)))
        .await;
    late.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn ten_registrations_racing_for_one_code_make_one_account() {
    let (server, host) = invite_only().await;
    let code = invite(&server, &host).await;
    let racers = (0..10).map(|i| {
        let (http, base, body) = (
            server.client.clone(),
            server.base.clone(),
            account(&format!("racer{i}"), Some(&code)),
        );
        tokio::spawn(async move {
            crate::helpers::call_at(
                &http,
                &base,
                Method::POST,
                "/user/register",
                None,
                Some(body),
            )
            .await
        })
    });
    let mut made = 0;
    for racer in racers.collect::<Vec<_>>() {
        let reply = racer.await.unwrap();
        match reply.status.as_u16() {
            201 => made += 1,
            _ => reply.assert_error(403, "FORBIDDEN"),
        }
    }
    assert_eq!(made, 1);
    let accounts: i64 = server
        .peek()
        .query_row(
            "SELECT count(*) FROM users WHERE name LIKE 'racer%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(accounts, 1);
}

#[tokio::test]
async fn ten_invitations_an_hour_per_user_in_any_registration_mode() {
    let server = TestServer::start().await;
    let token = server.register("ann", "pw").await;
    let code = invite(&server, &token).await;
    for _ in 1..10 {
        invite(&server, &token).await;
    }
    let reply = server
        .call(Method::POST, "/invite", Some(&token), None)
        .await;
    reply.assert_error(429, "TOO_MANY_REQUESTS");
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let other = server.register("ben", "pw").await;
    invite(&server, &other).await;
    server.clock.advance(Duration::from_secs(3601));
    invite(&server, &token).await;
    // Registration is open here: a code is not needed, and not looked at.
    server
        .post("/user/register", None, account("cat", Some(&code)))
        .await
        .assert_json(201);
    server
        .post("/user/register", None, account("dan", None))
        .await
        .assert_json(201);
    server
        .call(Method::POST, "/invite", None, None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn azuma_invite_prints_a_code_and_the_link_that_registers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(
        dir.path(),
        &["--database", "chat.db", "--registration", "invite"],
    )
    .await;
    let out = binary(dir.path())
        .args([
            "invite",
            "--database",
            "chat.db",
            "--url",
            "https://chat.example.org/",
        ])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let code = lines[0];
    assert_eq!(
        lines[1],
        format!("https://chat.example.org/app/#invite={code}")
    );
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("valid until 20")
    );
    let body = account("guest", Some(code));
    let reply = server
        .call(Method::POST, "/user/register", None, Some(body))
        .await;
    reply.assert_json(201);
    let missing = binary(dir.path())
        .args(["invite", "--database", "nowhere.db"])
        .output()
        .await
        .unwrap();
    assert!(!missing.status.success());
}
