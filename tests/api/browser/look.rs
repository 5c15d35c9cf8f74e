//! How the page looks: on a phone's width, and readable in light and dark.

use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{TestServer, channel_at, send_at};

/// On a phone's 390 pixels nothing scrolls sideways, even a long word; the
/// channels and "Log out" sit behind the Menu button.
#[tokio::test]
async fn a_phone_screen_needs_no_sideways_scrolling() {
    let server = TestServer::start().await;
    let Some(ann) = Browser::open("phone_width", &server.base, 390).await else {
        return;
    };
    ann.goto("/app/").await;
    let width = ann.js("return window.innerWidth", vec![]).await;
    assert!(width.as_u64().is_some_and(|w| w <= 390), "{width}");
    ann.register("ann").await;
    let token = ann.token().await;
    let channel = channel_at(
        &server.client,
        &server.base,
        &token,
        &"long name ".repeat(9),
    )
    .await;
    ann.client.refresh().await.unwrap();
    send_at(
        &server.client,
        &server.base,
        &token,
        &channel,
        &"w".repeat(400),
    )
    .await;
    ann.wait_for_text("wwwwwwwwww").await;
    let sideways =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    assert_eq!(ann.js(sideways, vec![]).await, json!(0));

    let menu = ann.button("Menu").await;
    assert_eq!(
        menu.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    menu.click().await.unwrap();
    ann.named("nav", "Channels").await;
    ann.click("Log out").await;
    ann.button("Log in").await;
    assert_eq!(ann.js(sideways, vec![]).await, json!(0));
}

/// On a phone, choosing a conversation from the Menu closes the menu,
/// the conversation already open too (its link changes no address).
#[tokio::test]
async fn choosing_a_conversation_closes_the_phone_menu() {
    let server = TestServer::start().await;
    let Some(ann) = Browser::open("phone_menu", &server.base, 390).await else {
        return;
    };
    ann.register("ann").await;
    let token = ann.token().await;
    for name in ["one", "two"] {
        channel_at(&server.client, &server.base, &token, name).await;
    }
    ann.until("both channels listed", || async {
        let links = "return document.querySelectorAll('#channel-list a').length";
        ann.js(links, vec![]).await == json!(2)
    })
    .await;
    let side = ann
        .client
        .find(fantoccini::Locator::Id("side"))
        .await
        .unwrap();
    for choice in ["one", "one", "two", "two"] {
        ann.click("Menu").await;
        ann.until("the menu open", || async {
            side.is_displayed().await.unwrap_or(false)
        })
        .await;
        ann.open_channel(choice).await;
        ann.until("the menu closed", || async {
            !side.is_displayed().await.unwrap_or(true)
        })
        .await;
        let menu = ann.button("Menu").await;
        assert_eq!(
            menu.attr("aria-expanded").await.unwrap().as_deref(),
            Some("false")
        );
    }
}

/// Every text on the chat view (and the sign-in view) stands out from its
/// background by WCAG's 4.5:1, in light mode and in dark mode; dark mode
/// is dark.
#[tokio::test]
async fn text_is_readable_in_light_and_dark_mode() {
    let server = TestServer::start().await;
    for dark in [false, true] {
        let test = "light_and_dark";
        let opened = if dark {
            Browser::open_dark(test, &server.base).await
        } else {
            Browser::open(test, &server.base, 1200).await
        };
        let Some(ann) = opened else {
            return;
        };
        ann.goto("/app/").await;
        ann.named("input", "Name").await;
        let signin = ann.js(CONTRAST, vec![]).await;
        let name = if dark { "dora" } else { "lucy" };
        ann.register(name).await;
        let token = ann.token().await;
        let channel = channel_at(&server.client, &server.base, &token, "colours").await;
        channel_at(&server.client, &server.base, &token, "unread").await;
        send_at(
            &server.client,
            &server.base,
            &token,
            &channel,
            "Can you read me?",
        )
        .await;
        ann.open_channel("colours").await;
        ann.wait_for_text("Can you read me?").await;
        let chat = ann.js(CONTRAST, vec![]).await;
        for report in [&signin, &chat] {
            assert_eq!(report["dark"], Value::Bool(dark), "{report}");
            assert!(report["checked"].as_u64().unwrap() > 5, "{report}");
            assert_eq!(report["failing"], json!([]), "dark: {dark}");
        }
    }
}

/// For every shown element with text of its own: the contrast of its
/// colour with the first opaque background behind it.
const CONTRAST: &str = "
    const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
    const luminance = (c) => {
        const [r, g, b] = rgb(c).slice(0, 3).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (e) => {
        for (; e; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            if (rgb(c)[3] !== 0) return c;
        }
        return 'rgb(255, 255, 255)';
    };
    const failing = [];
    let checked = 0;
    for (const e of document.querySelectorAll('body *')) {
        const text = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!text || !e.getClientRects().length || e.closest('[hidden], .sr, :disabled, option')) continue;
        const [a, b] = [luminance(getComputedStyle(e).color), luminance(background(e))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        checked += 1;
        if (ratio < 4.5) failing.push(`${e.tagName}.${e.className} \"${e.textContent.trim().slice(0, 20)}\": ${ratio.toFixed(2)}`);
    }
    const dark = luminance(background(document.body)) < 0.2;
    return { dark, checked, failing };
";
