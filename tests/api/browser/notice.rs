//! Trouble the page has no place of its own for: logged, and told in a
//! notice that offers a reload, never swallowed.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::Value;

use super::Browser;
use crate::helpers::{Binary, channel_at, register_at, send_at};

/// Keeps what the page logs as errors (each error's code, or its text) in
/// `window.logged`, still logging it.
const WATCH_CONSOLE: &str = "window.logged = [];
    const log = console.error.bind(console);
    console.error = (error, ...rest) => {
        window.logged.push(error?.code ?? String(error));
        log(error, ...rest);
    };";

/// Opening a channel moves the read marker, a write; with the database's
/// write lock held by another process the server answers 503 after its
/// busy timeout. The page logs the error and says so in a notice (an
/// alert) whose Reload, reached by Tab, reloads the page; Dismiss takes
/// it away and gives the focus back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_with_no_place_of_its_own_is_logged_and_told() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &["--database", "held.db"]).await;
    let Some(ann) = Browser::open("error_notice", &server.base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    let bob = register_at(&server.http, &server.base, "bob", "pw-bob-1").await;
    let lobby = channel_at(&server.http, &server.base, &bob, "lobby").await;
    send_at(&server.http, &server.base, &bob, &lobby, "hello").await;
    ann.named("nav a", "lobby").await;
    ann.js(WATCH_CONSOLE, vec![]).await;

    let other = rusqlite::Connection::open(dir.path().join("held.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    ann.open_channel("lobby").await;
    ann.wait_for_text("hello").await;
    ann.button("Reload").await;
    assert!(ann.shows("Something went wrong").await);
    let notice = ann.client.find(Locator::Css(".notice")).await.unwrap();
    assert_eq!(ann.role(&notice).await, "alert");
    let logged = ann.js("return window.logged", vec![]).await;
    let unavailable = Value::from("SERVICE_UNAVAILABLE");
    assert!(
        logged.as_array().unwrap().contains(&unavailable),
        "{logged}"
    );
    // The page goes on: the channel is open, the message box has the focus.
    assert_eq!(ann.heading().await, "lobby");
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Message");

    // Tab reaches Reload; Enter reloads the page (the same trouble again).
    tab_to(&ann, "Reload").await;
    ann.keys(&Key::Enter.to_string()).await;
    ann.until("the page to reload", || async {
        ann.js("return window.logged === undefined", vec![]).await == Value::Bool(true)
    })
    .await;
    ann.wait_for_text("hello").await;
    ann.button("Reload").await;

    // Dismiss takes the notice away; the focus goes back where it was.
    ann.named("textarea", "Message")
        .await
        .click()
        .await
        .unwrap();
    tab_to(&ann, "Dismiss").await;
    ann.keys(&Key::Enter.to_string()).await;
    ann.until("the notice to go", || async {
        !ann.shows("Something went wrong").await
    })
    .await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "Send");

    other.execute_batch("ROLLBACK").unwrap();
    server.signal("TERM");
    assert!(server.exit(Duration::from_secs(10)).await.success());
}

/// Presses Tab until the focus is on the element named `name`.
async fn tab_to(browser: &Browser, name: &str) {
    for _ in 0..20 {
        browser.keys(&Key::Tab.to_string()).await;
        let focused = browser.client.active_element().await.unwrap();
        if browser.label(&focused).await == name {
            return;
        }
    }
    panic!("{name} is not reachable by Tab");
}
