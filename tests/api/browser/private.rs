//! Private conversations in the browser: direct messages, private
//! channels and their members, and what a non-member never sees.

use reqwest::Method;
use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{TestServer, call_at, channel_at, register_at, send_at};

/// Three people, each signed up in a browser of their own.
async fn three(test: &str, server: &TestServer) -> Option<[Browser; 3]> {
    let mut all = Vec::new();
    for name in ["ann", "bob", "carl"] {
        let side = Browser::open(test, &server.base, 1200).await?;
        side.register(name).await;
        all.push(side);
    }
    all.try_into().ok()
}

/// The visible text of the element `id`.
async fn text(side: &Browser, id: &str) -> String {
    let script = "return document.getElementById(arguments[0])?.innerText ?? ''";
    let found = side.js(script, vec![json!(id)]).await;
    found.as_str().unwrap_or("").to_owned()
}

/// The names of the links in the list `id`, in order.
async fn links(side: &Browser, id: &str) -> Vec<String> {
    let script =
        "return [...document.querySelectorAll(`#${arguments[0]} a`)].map(a => a.textContent)";
    serde_json::from_value(side.js(script, vec![json!(id)]).await).unwrap_or_default()
}

/// Ticks the person called `name` in the picker whose search box is
/// `label`, after searching for `query`.
async fn pick(side: &Browser, label: &str, query: &str, name: &str) {
    side.fill(label, query).await;
    side.press("input[type=checkbox]", name).await;
}

/// "New message" with the people picker: the conversation opens, called
/// by the other's name; the other's page lists it at once; messages go
/// both ways; "New message" to the same person reopens it; and it is
/// called by the other's current name after a rename.
#[tokio::test]
async fn direct_messages_start_from_the_people_picker() {
    let server = TestServer::start().await;
    let Some([ann, bob, carl]) = three("direct_messages", &server).await else {
        return;
    };
    ann.click("New message").await;
    // Searching narrows the list as one types: "b" finds bob, not carl.
    ann.fill("Find people", "b").await;
    ann.until("only bob found", || async {
        let found = text(&ann, "new-direct-form").await;
        found.contains("bob") && !found.contains("carl")
    })
    .await;
    ann.press("input[type=checkbox]", "bob").await;
    ann.click("Start").await;
    ann.until("the conversation open", || async {
        ann.heading().await == "bob"
    })
    .await;
    assert_eq!(links(&ann, "direct-list").await, ["bob"]);
    bob.until("ann's conversation listed", || async {
        links(&bob, "direct-list").await == ["ann"]
    })
    .await;
    let nav = bob.named("nav", "Direct messages").await;
    assert_eq!(bob.role(&nav).await, "navigation");
    bob.open_channel("ann").await;
    ann.fill("Message", "just between us\n").await;
    bob.wait_for_text("just between us").await;
    bob.fill("Message", "agreed\n").await;
    ann.wait_for_text("agreed").await;
    // Ann made it, but no one moderates a direct conversation: nothing to
    // do with Bob's message.
    let agreed = super::chat::message(&ann, "agreed").await;
    let actions = format!("return document.querySelectorAll('{agreed} [role=menuitem]').length");
    assert_eq!(ann.js(&actions, vec![]).await, json!(0));
    // A direct conversation is never deleted: no "Delete channel".
    let hidden = "return document.getElementById('delete-channel').hidden";
    assert_eq!(ann.js(hidden, vec![]).await, Value::Bool(true));
    // Carl sees none of it.
    assert!(links(&carl, "direct-list").await.is_empty());
    assert!(!carl.shows("just between us").await);

    // The same person again: the same conversation, not a second one.
    let token = ann.token().await;
    channel_at(&server.client, &server.base, &token, "lobby").await;
    ann.open_channel("lobby").await;
    ann.click("New message").await;
    pick(&ann, "Find people", "bo", "bob").await;
    ann.click("Start").await;
    ann.until("the conversation reopened", || async {
        ann.heading().await == "bob" && ann.messages().await == ["just between us", "agreed"]
    })
    .await;
    assert_eq!(links(&ann, "direct-list").await, ["bob"]);

    // Bob renames himself: the conversation is called by his name now.
    let token = bob.token().await;
    let renamed = call_at(
        &server.client,
        &server.base,
        Method::PATCH,
        "/user/update",
        Some(&token),
        Some(json!({"name": "robert"})),
    )
    .await;
    assert!(renamed.status.is_success(), "{}", renamed.text);
    ann.client.refresh().await.unwrap();
    ann.until("the new name", || async {
        links(&ann, "direct-list").await == ["robert"]
    })
    .await;
}

/// A private channel: made with its members, who alone see it; the owner
/// adds and removes people, and a removed member's page closes it with a
/// word on why; anyone may leave.
#[tokio::test]
async fn private_channels_have_members_who_come_and_go() {
    let server = TestServer::start().await;
    let Some([ann, bob, carl]) = three("private_members", &server).await else {
        return;
    };
    ann.click("New channel").await;
    ann.fill("Channel name", "secret").await;
    ann.press("input[type=radio]", "Private").await;
    pick(&ann, "Find members", "bo", "bob").await;
    ann.click("Create").await;
    ann.until("secret open", || async { ann.heading().await == "secret" })
        .await;
    bob.until("secret listed for bob", || async {
        links(&bob, "channel-list").await == ["secret"]
    })
    .await;
    assert!(links(&carl, "channel-list").await.is_empty());

    // Its members, behind "Members".
    ann.click("Members").await;
    ann.until("the members", || async {
        let shown = text(&ann, "members").await;
        shown.contains("owner") && member_names(&ann).await == ["ann", "bob"]
    })
    .await;
    // Ann adds Carl: his list shows the channel at once.
    ann.click("Add people").await;
    pick(&ann, "Find people to add", "c", "carl").await;
    ann.click("Add").await;
    carl.until("secret listed for carl", || async {
        links(&carl, "channel-list").await == ["secret"]
    })
    .await;
    ann.until("carl a member", || async {
        member_names(&ann).await == ["ann", "bob", "carl"]
    })
    .await;
    // Bob, not the owner, may not remove anyone.
    bob.open_channel("secret").await;
    bob.click("Members").await;
    bob.until("bob's list of members", || async {
        member_names(&bob).await == ["ann", "bob", "carl"]
    })
    .await;
    let removes = "return document.querySelectorAll('#members button[aria-label^=Remove]').length";
    assert_eq!(bob.js(removes, vec![]).await, json!(0));

    // Ann removes Carl while he reads it: closed, with a word on why.
    carl.open_channel("secret").await;
    ann.fill("Message", "carl can read this\n").await;
    carl.wait_for_text("carl can read this").await;
    ann.click("Remove carl").await;
    carl.wait_for_text("You are no longer a member of secret.")
        .await;
    carl.until("secret gone from carl's page", || async {
        links(&carl, "channel-list").await.is_empty() && carl.messages().await.is_empty()
    })
    .await;
    assert_ne!(carl.heading().await, "secret");
    bob.until("carl gone from bob's list of members", || async {
        member_names(&bob).await == ["ann", "bob"]
    })
    .await;

    // Bob leaves (asked once more); Ann's list of members follows.
    bob.click("Leave channel").await;
    bob.click("Really leave?").await;
    bob.until("secret gone from bob's page", || async {
        links(&bob, "channel-list").await.is_empty()
    })
    .await;
    ann.until("bob gone from ann's list of members", || async {
        member_names(&ann).await == ["ann"]
    })
    .await;
}

/// Records every text and attribute value ever put in the page, and the
/// tab's title, in `window.seen`.
const WATCH: &str = "window.seen = [document.documentElement.outerHTML];
    new MutationObserver((records) => {
        for (const r of records) {
            if (r.type === 'characterData') window.seen.push(r.target.data);
            else if (r.type === 'attributes') window.seen.push(String(r.target.getAttribute(r.attributeName)));
            for (const n of r.addedNodes) window.seen.push(n.nodeType === 1 ? n.outerHTML : n.textContent);
        }
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });";

/// While two members of a private channel write, type, edit and delete
/// in it, the page of someone who is not a member shows nothing of it,
/// not even for a moment: not its name, a message, someone typing, an
/// unread count or a search hit.
#[tokio::test]
async fn a_non_member_sees_nothing_of_a_private_channel() {
    let server = TestServer::start().await;
    let Some([ann, bob, carl]) = three("non_member", &server).await else {
        return;
    };
    let token = ann.token().await;
    let lobby = channel_at(&server.client, &server.base, &token, "lobby").await;
    carl.open_channel("lobby").await;
    carl.js(WATCH, vec![]).await;

    ann.click("New channel").await;
    ann.fill("Channel name", "hush-hush").await;
    ann.press("input[type=radio]", "Private").await;
    pick(&ann, "Find members", "b", "bob").await;
    ann.click("Create").await;
    ann.until("hush-hush open", || async {
        ann.heading().await == "hush-hush"
    })
    .await;
    bob.open_channel("hush-hush").await;
    bob.fill("Message", "whisper one").await;
    ann.wait_for_text("bob is typing").await;
    bob.keys("\n").await;
    ann.wait_for_text("whisper one").await;
    ann.fill("Message", "whisper two\n").await;
    bob.wait_for_text("whisper two").await;
    let two = super::chat::message(&ann, "whisper two").await;
    super::chat::act(&ann, &two, "Edit").await;
    ann.fill("Edit message", "whisper edited\n").await;
    bob.wait_for_text("whisper edited").await;
    let one = super::chat::message(&bob, "whisper one").await;
    super::chat::act(&bob, &one, "Delete").await;
    bob.press(&format!("{one} [role=menuitem]"), "Really delete?")
        .await;
    ann.until("the deletion", || async {
        ann.messages().await == ["whisper edited"]
    })
    .await;
    // Something public, sent after all that (without typing): once Carl's
    // page shows it, it has had every event sent to it before.
    send_at(&server.client, &server.base, &token, &lobby, "hello lobby").await;
    carl.wait_for_text("hello lobby").await;
    let seen = carl.js("return window.seen.join('\\n')", vec![]).await;
    let seen = seen.as_str().unwrap_or("");
    for secret in ["hush-hush", "whisper", "is typing"] {
        if let Some(at) = seen.find(secret) {
            let from = seen.floor_char_boundary(at.saturating_sub(300));
            let to = seen.ceil_char_boundary(at + 300);
            panic!("carl's page showed {secret:?}: …{}…", &seen[from..to]);
        }
    }
    assert_eq!(carl.client.title().await.unwrap(), "azuma");
    assert_eq!(links(&carl, "channel-list").await, ["lobby"]);

    // Searching for it finds nothing.
    carl.fill("Search", "whisper\n").await;
    carl.wait_for_text("Nothing found.").await;
}

/// The owner leaves: the member who joined earliest becomes the owner,
/// and that member's page offers what an owner may do (delete the
/// channel, remove people) without a reload.
#[tokio::test]
async fn the_earliest_member_takes_over_from_an_owner_who_leaves() {
    let server = TestServer::start().await;
    let Some([ann, bob, carl]) = three("owner_leaves", &server).await else {
        return;
    };
    let (bob_id, carl_id) = (own_id(&bob).await, own_id(&carl).await);
    let token = ann.token().await;
    let made = call_at(
        &server.client,
        &server.base,
        Method::POST,
        "/channel",
        Some(&token),
        Some(json!({"name": "handover", "kind": "private", "members": [bob_id, carl_id]})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    bob.open_channel("handover").await;
    bob.click("Members").await;
    bob.until("ann the owner", || async {
        text(&bob, "members").await.contains("owner")
    })
    .await;
    let hidden = "return document.getElementById('delete-channel').hidden";
    assert_eq!(bob.js(hidden, vec![]).await, Value::Bool(true));

    ann.open_channel("handover").await;
    ann.click("Members").await;
    ann.click("Leave channel").await;
    ann.click("Really leave?").await;
    bob.until("bob the owner, offered what an owner may do", || async {
        bob.js(hidden, vec![]).await == Value::Bool(false)
            && member_names(&bob).await == ["bob", "carl"]
    })
    .await;
    bob.button("Remove carl").await;
    assert!(text(&bob, "members").await.contains("owner"));
}

/// The id of the account signed in on `side`'s page.
async fn own_id(side: &Browser) -> Value {
    let script = "return fetch('/user/self', { headers: { Authorization:
        `Bearer ${localStorage.getItem('azuma.token')}` } }).then(r => r.json()).then(u => u.id)";
    side.js(script, vec![]).await
}

/// The names in `side`'s list of members, in order.
async fn member_names(side: &Browser) -> Vec<String> {
    let script = "return [...document.querySelectorAll('#members .who')].map(e => e.textContent)";
    serde_json::from_value(side.js(script, vec![]).await).unwrap_or_default()
}

/// A direct conversation takes as many people as the server states
/// (OpenAPI: `NewDirect.users.maxItems`): past that, the picker offers no
/// more, and says so.
#[tokio::test]
async fn the_people_picker_keeps_to_the_servers_limit() {
    let server = TestServer::start().await;
    for n in 1..=9 {
        register_at(&server.client, &server.base, &format!("pal{n}"), "pw").await;
    }
    let Some(ann) = Browser::open("picker_limit", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.click("New message").await;
    ann.fill("Find people", "pal").await;
    for n in 1..=8 {
        ann.press("input[type=checkbox]", &format!("pal{n}")).await;
    }
    ann.wait_for_text("At most 8 people.").await;
    let ninth = ann.named("input[type=checkbox]", "pal9").await;
    assert!(!ninth.is_enabled().await.unwrap());
    ann.click("Start").await;
    ann.until("the conversation of nine", || async {
        ann.heading().await
            == (1..=8)
                .map(|n| format!("pal{n}"))
                .collect::<Vec<_>>()
                .join(", ")
    })
    .await;
}
