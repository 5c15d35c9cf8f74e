//! People in the browser: everyone on the server in "People", and
//! invitations by link.

use serde_json::Value;

use super::Browser;
use crate::helpers::{TestServer, register_at, stored_hash};

/// The "People" list's entries, as "name: status", in order.
async fn people(side: &Browser) -> Vec<String> {
    let script = "return [...document.querySelectorAll('#people li')]
        .map(li => `${li.querySelector('.who').textContent}: ${li.querySelector('.what').textContent}`)";
    serde_json::from_value(side.js(script, vec![]).await).unwrap_or_default()
}

/// "People" lists everyone on the server, those who never wrote a word
/// too, online first; someone who signs up and comes online appears live.
#[tokio::test]
async fn people_lists_everyone_on_the_server() {
    let server = TestServer::start().await;
    register_at(&server.client, &server.base, "dave", "pw").await;
    register_at(&server.client, &server.base, "erin", "pw").await;
    let Some(ann) = Browser::open("people", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.until("everyone listed", || async {
        people(&ann).await == ["ann: online", "dave: offline", "erin: offline"]
    })
    .await;
    let Some(bob) = Browser::open("people", &server.base, 1200).await else {
        return;
    };
    bob.register("bob").await;
    ann.until("bob listed, online", || async {
        people(&ann).await
            == [
                "ann: online",
                "bob: online",
                "dave: offline",
                "erin: offline",
            ]
    })
    .await;
}

/// On a server that takes new accounts by invitation only: "Invite
/// someone" gives a link; without one, registering is refused with a word
/// on why; the link opens registration with the code filled in, and
/// registers one account; used again, it is refused.
#[tokio::test]
async fn an_invitation_link_registers_one_new_account() {
    let server = TestServer::start_with(|c| c.registration = azuma::Registration::Invite).await;
    // The first account comes from the command line in real life.
    let hash = stored_hash("pw-host-1").await;
    server
        .peek()
        .execute(
            "INSERT INTO users (id, name, name_key, password, created_at) VALUES (?1, 'host', 'host', ?2, 1)",
            rusqlite::params![uuid::Uuid::new_v4(), hash],
        )
        .unwrap();
    let Some(host) = Browser::open("invite", &server.base, 1200).await else {
        return;
    };
    host.goto("/app/").await;
    host.fill("Name", "host").await;
    host.fill("Password", "pw-host-1").await;
    host.click("Log in").await;
    host.click("Invite someone").await;
    let field = host.named("input", "Invite link").await;
    let link = host
        .poll("the invitation's link", || async {
            let value = field.prop("value").await.ok().flatten()?;
            (!value.is_empty()).then_some(value)
        })
        .await;
    let prefix = format!("{}/app/#invite=", server.base);
    assert!(link.starts_with(&prefix), "{link}");
    let code = link[prefix.len()..].to_owned();
    host.click("Copy").await;
    host.until("a word on the copy", || async {
        host.shows("Copied.").await || host.shows("The link is selected").await
    })
    .await;

    // No code: refused, and why.
    let Some(guest) = Browser::open("invite", &server.base, 1200).await else {
        return;
    };
    guest.goto("/app/").await;
    guest.fill("Name", "guest").await;
    guest.fill("Password", "correct horse").await;
    guest.click("Register").await;
    guest
        .wait_for_text("No new accounts: registering here needs an invitation.")
        .await;
    // The link (on the page already open: only its address changes).
    guest.client.goto(&link).await.unwrap();
    let filled = guest.named("input", "Invite code").await;
    assert_eq!(
        filled.prop("value").await.unwrap().as_deref(),
        Some(code.as_str())
    );
    guest.wait_for_text("You are invited").await;
    guest.fill("Password", "correct horse\n").await;
    guest.named("[role=log]", "Messages").await;
    let hash = guest.js("return location.hash", vec![]).await;
    assert!(!hash.as_str().unwrap_or("").contains("invite"), "{hash}");
    host.until("the guest among the people", || async {
        host.shows("guest").await
    })
    .await;

    // The same link again: used.
    let Some(late) = Browser::open("invite", &server.base, 1200).await else {
        return;
    };
    late.client.goto(&link).await.unwrap();
    late.fill("Name", "late").await;
    late.fill("Password", "correct horse").await;
    late.click("Register").await;
    late.wait_for_text("This invitation cannot be used").await;
    let stored = late
        .js("return localStorage.getItem('azuma.token')", vec![])
        .await;
    assert_eq!(stored, Value::Null);
}
