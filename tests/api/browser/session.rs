//! The session in the browser: kept across reloads, ended by logging out,
//! by a revoked or expired token, and kept through a server restart.

use std::time::Duration;

use reqwest::Method;

use super::Browser;
use crate::helpers::{Binary, TestServer, call_at, channel_at, send_at};

/// A reload keeps the session; "Log out" revokes the token; a token
/// revoked elsewhere, or expired, brings the sign-in view back with a word
/// on why.
#[tokio::test]
async fn sessions_survive_reloads_and_end_when_revoked_or_expired() {
    let server = TestServer::start_with(|config| {
        config.prune_interval = azuma::Seconds(Duration::from_millis(200))
    })
    .await;
    let Some(ann) = Browser::open("sessions", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.client.refresh().await.unwrap();
    ann.button("Log out").await;
    let me = ann
        .js(
            "return document.getElementById('me-name').textContent",
            vec![],
        )
        .await;
    assert_eq!(me, "ann");

    // Log out: the token no longer works anywhere.
    let token = ann.token().await;
    ann.click("Log out").await;
    ann.button("Log in").await;
    ann.wait_for_text("You are logged out.").await;
    let stored = ann
        .js("return localStorage.getItem('azuma.token')", vec![])
        .await;
    assert!(stored.is_null());
    let reply = call_at(
        &server.client,
        &server.base,
        Method::GET,
        "/user/self",
        Some(&token),
        None,
    )
    .await;
    reply.assert_error(401, "UNAUTHORIZED");

    // Log in again; the token is revoked from elsewhere: the page notices
    // (its websocket is closed) and asks to log in again.
    ann.fill("Name", "ann").await;
    ann.fill("Password", "correct horse").await;
    ann.click("Log in").await;
    ann.button("Log out").await;
    let token = ann.token().await;
    let reply = call_at(
        &server.client,
        &server.base,
        Method::POST,
        "/user/logout",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(reply.status, 204);
    ann.button("Log in").await;
    ann.wait_for_text("Your session has ended; please log in again.")
        .await;

    // A stale token in storage: the same, on the first request.
    ann.js(
        "localStorage.setItem('azuma.token', arguments[0])",
        vec![token.into()],
    )
    .await;
    ann.client.refresh().await.unwrap();
    ann.wait_for_text("Your session has ended; please log in again.")
        .await;

    // A session that expires (15 days on the server's clock) ends too.
    ann.fill("Name", "ann").await;
    ann.fill("Password", "correct horse").await;
    ann.click("Log in").await;
    ann.button("Log out").await;
    server.clock.advance(Duration::from_secs(15 * 24 * 3600));
    ann.wait_for_text("Your session has ended; please log in again.")
        .await;
    ann.button("Log in").await;
}

/// The server restarts under an open page: the page says it is
/// reconnecting, then shows what was sent meanwhile, each message once.
#[tokio::test]
async fn the_page_reconnects_after_a_restart_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &[]).await;
    let Some(ann) = Browser::open("reconnects", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    let token = ann.token().await;
    let lobby = channel_at(&server.http, &server.base, &token, "lobby").await;
    ann.open_channel("lobby").await;
    send_at(&server.http, &server.base, &token, &lobby, "before").await;
    ann.wait_for_text("before").await;

    server.signal("TERM");
    server.exit(Duration::from_secs(10)).await;
    ann.wait_for_text("Reconnecting").await;
    let listen = server.base.trim_start_matches("http://").to_owned();
    let server = Binary::start(dir.path(), &["--listen", &listen]).await;
    let mut expected = vec!["before".to_owned()];
    for n in 1..=5 {
        let text = format!("meanwhile {n}");
        send_at(&server.http, &server.base, &token, &lobby, &text).await;
        expected.push(text);
    }
    ann.until("the messages sent meanwhile, once each", || async {
        ann.messages().await == expected
    })
    .await;
    ann.until("the reconnecting note to go", || async {
        !ann.shows("Reconnecting").await
    })
    .await;
    send_at(&server.http, &server.base, &token, &lobby, "after").await;
    expected.push("after".to_owned());
    ann.until("a live message after the restart", || async {
        ann.messages().await == expected
    })
    .await;
}
