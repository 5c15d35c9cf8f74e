//! The page itself: history by scrolling, search, the keyboard alone, and
//! its weight and speed.

use std::io::Write;

use fantoccini::key::Key;
use serde_json::json;

use super::Browser;
use crate::helpers::{Binary, TestServer, channel_at, register_at, send_at};

/// Opening a channel shows its newest 50 messages; scrolling up brings the
/// older ones, in order, each once.
#[tokio::test]
async fn history_pages_in_as_the_log_scrolls_up() {
    let server = TestServer::start().await;
    let carl = register_at(&server.client, &server.base, "carl", "pw").await;
    let channel = channel_at(&server.client, &server.base, &carl, "archive").await;
    let all: Vec<String> = (1..=120).map(|n| format!("message {n}")).collect();
    for text in &all {
        send_at(&server.client, &server.base, &carl, &channel, text).await;
    }
    let Some(ann) = Browser::open("history_paging", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.open_channel("archive").await;
    ann.until("the newest page", || async {
        ann.messages().await == all[70..]
    })
    .await;
    for shown in [100, 120] {
        ann.js("document.querySelector('[role=log]').scrollTop = 0", vec![])
            .await;
        ann.until(&format!("{shown} messages"), || async {
            ann.messages().await.len() == shown
        })
        .await;
    }
    assert_eq!(ann.messages().await, all);
}

/// Search finds messages across channels; a result opens its channel at
/// the message.
#[tokio::test]
async fn search_results_jump_to_their_message() {
    let server = TestServer::start().await;
    let carl = register_at(&server.client, &server.base, "carl", "pw").await;
    let first = channel_at(&server.client, &server.base, &carl, "first").await;
    let second = channel_at(&server.client, &server.base, &carl, "second").await;
    send_at(
        &server.client,
        &server.base,
        &carl,
        &first,
        "pineapple on pizza?",
    )
    .await;
    for n in 0..80 {
        send_at(
            &server.client,
            &server.base,
            &carl,
            &second,
            &format!("filler {n}"),
        )
        .await;
    }
    send_at(
        &server.client,
        &server.base,
        &carl,
        &first,
        "no pineapple, please",
    )
    .await;
    let Some(ann) = Browser::open("search", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.open_channel("second").await;
    ann.fill("Search", "Pineap\n").await;
    ann.wait_for_text("2 found.").await;
    let results = ann.named("section", "Search results").await;
    let text = results.text().await.unwrap();
    let newer = text.find("no pineapple, please").expect("the newer result");
    let older = text.find("pineapple on pizza?").expect("the older result");
    assert!(newer < older, "newest first:\n{text}");
    let links = ann
        .client
        .find_all(fantoccini::Locator::Css("#result-list a"))
        .await
        .unwrap();
    links[1].click().await.unwrap();
    ann.until("the first channel, at the message", || async {
        let found = ann
            .js(
                "return document.querySelector('[role=log] .found .content')?.textContent",
                vec![],
            )
            .await;
        found == "pineapple on pizza?"
    })
    .await;
    assert_eq!(ann.heading().await, "first");
}

/// Everything with the keyboard alone: sign up, create a channel, write.
#[tokio::test]
async fn the_keyboard_alone_is_enough() {
    let server = TestServer::start().await;
    let Some(ann) = Browser::open("keyboard", &server.base, 1200).await else {
        return;
    };
    ann.goto("/app/").await;
    // The name field has the focus; Tab to the password, Tab twice to
    // Register.
    ann.named("input", "Name").await;
    ann.keys(&format!("ann{}", Key::Tab)).await;
    ann.keys(&format!("correct horse{}{}", Key::Tab, Key::Tab))
        .await;
    ann.keys(&Key::Enter.to_string()).await;
    ann.button("Log out").await;
    // To "New channel", by Tab.
    let mut tabs = 0;
    loop {
        ann.keys(&Key::Tab.to_string()).await;
        let focused = ann.client.active_element().await.unwrap();
        if ann.label(&focused).await == "New channel" {
            break;
        }
        tabs += 1;
        assert!(tabs < 20, "New channel is not reachable by Tab");
    }
    ann.keys(&Key::Enter.to_string()).await;
    ann.keys(&format!("plans{}", Key::Enter)).await;
    ann.until("plans to open", || async { ann.heading().await == "plans" })
        .await;
    // The message box has the focus once a channel opens (its messages
    // loaded, which the heading does not wait for).
    ann.until("the message box focused", || async {
        let focused = ann.client.active_element().await.unwrap();
        ann.label(&focused).await == "Message"
    })
    .await;
    ann.keys(&format!("typed, not clicked{}", Key::Enter)).await;
    ann.until("the message", || async {
        ann.messages().await == ["typed, not clicked"]
    })
    .await;
    // Back to the log, up to the message, Tab to its actions button: the
    // message's actions are one Tab away, not a Tab stop each in the log.
    // Enter opens its menu at Edit; Escape closes it, back on the button.
    ann.keys(&format!("{}{}", Key::Shift, Key::Tab)).await;
    ann.keys(&Key::Null.to_string()).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Messages");
    ann.keys(&format!("{}{}", Key::Up, Key::Tab)).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Actions");
    ann.keys(&Key::Enter.to_string()).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Edit");
    assert_eq!(ann.role(&focused).await, "menuitem");
    ann.keys(&Key::Down.to_string()).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Delete");
    ann.keys(&Key::Escape.to_string()).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Actions");
    ann.keys(&Key::Down.to_string()).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Edit");
    ann.keys(&Key::Enter.to_string()).await;
    ann.keys(&format!(" again{}", Key::Enter)).await;
    ann.until("the edit", || async {
        ann.messages().await == ["typed, not clicked again"]
    })
    .await;
}

/// Everything the page loads comes from its own server and weighs at most
/// 100 KB as sent; prints how soon it is interactive, and (with
/// `AZUMA_SCREENSHOT=<file>`) saves the README's screenshot.
#[tokio::test]
async fn the_page_is_light_and_loads_nothing_from_elsewhere() {
    // The binary, in a process of its own, as people run it.
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]).await;
    let Some(ann) = Browser::open("budget", &server.base, 1100).await else {
        return;
    };
    // A browser already running (as a visitor's is), that has never seen
    // this server: nothing cached.
    ann.client.goto("about:blank").await.unwrap();
    ann.goto("/app/").await;
    ann.named("input", "Name").await;
    let script = "const all = [...performance.getEntriesByType('navigation'),
            ...performance.getEntriesByType('resource')];
        return { bytes: all.reduce((sum, e) => sum + e.transferSize, 0),
            origins: [...new Set(all.map(e => new URL(e.name).origin))],
            count: all.length,
            ready: performance.getEntriesByName('azuma-interactive')[0].startTime,
            page: performance.getEntriesByType('navigation')[0].responseEnd }";
    let load = ann.js(script, vec![]).await;
    assert_eq!(load["origins"], json!([server.base]));
    let bytes = load["bytes"].as_u64().expect("bytes");
    assert!(bytes <= 100_000, "the page weighs {bytes} bytes as sent");
    let _ = writeln!(
        std::io::stderr(),
        "web client: {} files, {bytes} bytes as sent; page in {:.0} ms, interactive after {:.0} ms",
        load["count"],
        load["page"].as_f64().unwrap_or(f64::NAN),
        load["ready"].as_f64().unwrap_or(f64::NAN),
    );

    let Ok(file) = std::env::var("AZUMA_SCREENSHOT") else {
        return;
    };
    ann.register("mika").await;
    let token = ann.token().await;
    let dan = register_at(&server.http, &server.base, "dan", "pw").await;
    channel_at(&server.http, &server.base, &token, "general").await;
    let trip = channel_at(&server.http, &server.base, &dan, "weekend-trip").await;
    let books = channel_at(&server.http, &server.base, &dan, "books").await;
    send_at(
        &server.http,
        &server.base,
        &dan,
        &books,
        "Anyone finished it yet?",
    )
    .await;
    for (who, text) in [
        (&dan, "Train leaves at 8:40 on Saturday. Who's in?"),
        (&token, "Me! I'll bring the map and coffee."),
        (&dan, "Great. Weather says sunny, 24 °C."),
        (&token, "Then the lake trail it is."),
    ] {
        send_at(&server.http, &server.base, who, &trip, text).await;
    }
    ann.client.refresh().await.unwrap();
    ann.open_channel("weekend-trip").await;
    ann.wait_for_text("lake trail").await;
    let png = ann.client.screenshot().await.unwrap();
    std::fs::write(&file, png).unwrap();
}
