//! Two people chatting, each in their own browser.

use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{TestServer, channel_at, send_at};

/// Sign up, a channel seen by the other side, messages both ways, typing,
/// edit and delete seen live, and hostile text shown as text.
#[tokio::test]
async fn two_people_chat_live_in_two_browsers() {
    let server = TestServer::start().await;
    let Some((ann, bob)) = ann_and_bob("two_people_chat", &server).await else {
        return;
    };

    // Ann creates a channel; Bob's list shows it without a reload.
    ann.click("New channel").await;
    ann.fill("Channel name", "picnic").await;
    ann.click("Create").await;
    ann.open_channel("picnic").await;
    let nav = bob.named("nav", "Channels").await;
    assert_eq!(bob.role(&nav).await, "navigation");
    bob.open_channel("picnic").await;

    // Messages both ways, live.
    ann.fill("Message", "Saturday at noon?").await;
    ann.click("Send").await;
    bob.wait_for_text("Saturday at noon?").await;
    // Bob's typing shows on Ann's side, never on his own; his message
    // ends it.
    bob.fill("Message", "I'll bring bread").await;
    ann.wait_for_text("bob is typing").await;
    assert!(!bob.shows("is typing").await);
    bob.keys("\n").await;
    ann.wait_for_text("I'll bring bread").await;
    assert!(!ann.shows("bob is typing").await);
    bob.fill("Message", "and cheese\n").await;
    ann.wait_for_text("and cheese").await;
    let both = ["Saturday at noon?", "I'll bring bread", "and cheese"];
    assert_eq!(ann.messages().await, both);
    assert_eq!(bob.messages().await, both);
    let log = ann.named("[role=log]", "Messages").await;
    assert_eq!(ann.role(&log).await, "log");

    // Ann edits her message; Bob sees the new text and the word "edited".
    let first = message(&ann, "Saturday at noon?").await;
    act(&ann, &first, "Edit").await;
    ann.fill("Edit message", "Sunday at noon?\n").await;
    bob.wait_for_text("Sunday at noon?").await;
    let edited = message(&bob, "Sunday at noon?").await;
    let mark = bob
        .js(
            &format!("return document.querySelector('{edited} .edited')?.textContent"),
            vec![],
        )
        .await;
    assert_eq!(mark, "edited");
    assert!(!bob.shows("Saturday").await);

    // Bob deletes his message; it leaves Ann's log too.
    let bread = message(&bob, "I'll bring bread").await;
    act(&bob, &bread, "Delete").await;
    bob.press(&format!("{bread} [role=menuitem]"), "Really delete?")
        .await;
    for side in [&ann, &bob] {
        side.until("the deleted message to leave", || async {
            side.messages().await == ["Sunday at noon?", "and cheese"]
        })
        .await;
    }
    // Ann owns the channel: Bob's message she may delete, not edit.
    let cheese = message(&ann, "and cheese").await;
    let items = ann
        .js(
            &format!(
                "return [...document.querySelectorAll('{cheese} [role=menuitem]')].map(b => b.textContent)"
            ),
            vec![],
        )
        .await;
    assert_eq!(items, json!(["Delete"]));
    act(&ann, &cheese, "Delete").await;
    ann.press(&format!("{cheese} [role=menuitem]"), "Really delete?")
        .await;
    bob.until("the owner's deletion", || async {
        bob.messages().await == ["Sunday at noon?"]
    })
    .await;
    // Bob does not own the channel: he is not offered to delete it.
    let hidden = bob
        .js(
            "return document.getElementById('delete-channel').hidden",
            vec![],
        )
        .await;
    assert_eq!(hidden, Value::Bool(true));

    // Ann's typing shows on Bob's side too.
    ann.fill("Message", "one more").await;
    bob.wait_for_text("ann is typing").await;
    ann.keys("\n").await;
    bob.wait_for_text("one more").await;

    // Markup in a message is text: shown as typed, nothing runs.
    let hostile = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>";
    ann.fill("Message", &format!("{hostile}\n")).await;
    bob.wait_for_text(hostile).await;
    for side in [&ann, &bob] {
        let (pwned, images) = (
            side.js("return window.pwned === undefined", vec![]).await,
            side.js(
                "return document.querySelectorAll('[role=log] img, [role=log] script').length",
                vec![],
            )
            .await,
        );
        assert_eq!((pwned, images), (Value::Bool(true), json!(0)));
    }

    // The channel's owner deletes it; it leaves Bob's list.
    ann.click("Delete channel").await;
    ann.click("Really delete?").await;
    bob.until("picnic to leave the list", || async {
        let names = bob
            .js("return document.querySelector('nav').innerText", vec![])
            .await;
        !names.as_str().unwrap_or("").contains("picnic")
    })
    .await;
}

/// Chooses `action` from the actions menu ("…") of the message `selector`:
/// one button per message, its menu's items named as the actions.
pub async fn act(side: &Browser, selector: &str, action: &str) {
    let more = side.named(&format!("{selector} button"), "Actions").await;
    assert_eq!(
        more.attr("aria-haspopup").await.unwrap().as_deref(),
        Some("menu")
    );
    more.click().await.unwrap();
    let item = side
        .named(&format!("{selector} [role=menu] button"), action)
        .await;
    assert_eq!(side.role(&item).await, "menuitem");
    item.click().await.unwrap();
}

/// The CSS selector of the message in `side`'s log whose text is `content`.
pub async fn message(side: &Browser, content: &str) -> String {
    let script = "const m = [...document.querySelectorAll('[role=log] .msg')]
        .find(m => m.querySelector('.content').textContent === arguments[0]);
        return m ? m.dataset.id : null";
    let id = side
        .poll(&format!("the message {content:?}"), || async {
            let id = side.js(script, vec![json!(content)]).await;
            id.as_str().map(str::to_owned)
        })
        .await;
    format!("[data-id=\"{id}\"]")
}

/// Unread counts come and go live; statuses show in the other's list.
#[tokio::test]
async fn unread_counts_and_presence_stay_live() {
    let server = TestServer::start().await;
    let Some((ann, bob)) = ann_and_bob("unread_and_presence", &server).await else {
        return;
    };
    let token = bob.token().await;
    let lobby = channel_at(&server.client, &server.base, &token, "lobby").await;
    let news = channel_at(&server.client, &server.base, &token, "news").await;
    ann.open_channel("lobby").await;

    // Three messages in a channel Ann is not reading: a count of 3.
    for text in ["one", "two", "three"] {
        send_at(&server.client, &server.base, &token, &news, text).await;
    }
    send_at(&server.client, &server.base, &token, &lobby, "here").await;
    ann.wait_for_text("here").await;
    let badge = || async {
        let script = "const li = [...document.querySelectorAll('nav li')]
            .find(li => li.querySelector('a').textContent === arguments[0]);
            const badge = li?.querySelector('.badge');
            return badge && !badge.hidden ? badge.textContent : ''";
        ann.js(script, vec![json!("news")]).await
    };
    ann.until("news to show 3 unread", || async {
        badge().await == "3 unread"
    })
    .await;
    assert_eq!(ann.client.title().await.unwrap(), "(3) azuma");
    // Reading it clears the count, and the count stays clear after a reload.
    ann.open_channel("news").await;
    ann.until("the count to clear", || async { badge().await == "" })
        .await;
    assert_eq!(ann.client.title().await.unwrap(), "azuma");
    ann.client.refresh().await.unwrap();
    ann.open_channel("lobby").await;
    ann.wait_for_text("here").await;
    assert_eq!(badge().await, "");

    // Bob goes away: Ann's list of people says so.
    let status = bob.named("select", "Status").await;
    assert_eq!(bob.role(&status).await, "combobox");
    status.select_by_value("AFK").await.unwrap();
    ann.until("bob to be away", || async {
        let script = "return [...document.querySelectorAll('#people li')]
            .find(li => li.querySelector('.who').textContent === 'bob')
            ?.querySelector('.what').textContent";
        ann.js(script, vec![]).await == "away"
    })
    .await;
}

/// Ann and Bob, each signed up in a browser of their own.
pub async fn ann_and_bob(test: &str, server: &TestServer) -> Option<(Browser, Browser)> {
    let ann = Browser::open(test, &server.base, 1200).await?;
    let bob = Browser::open(test, &server.base, 1200).await?;
    ann.register("ann").await;
    bob.register("bob").await;
    Some((ann, bob))
}
