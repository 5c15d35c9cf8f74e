//! Notifications in the browser: the installable app (manifest, icons,
//! the service worker), a push shown by the worker and its click, a new
//! build used on the next load, mentions, and the levels.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use fantoccini::key::Key;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use reqwest::Method;
use serde_json::{Value, json};

use super::Browser;
use super::cdp::Cdp;
use crate::helpers::{TestServer, call_at, channel_at, register_at, send_at};

/// Whether the page is controlled by the worker at `base`/app/sw.js.
async fn controlled(browser: &Browser) -> bool {
    let script = "return navigator.serviceWorker.controller?.scriptURL ?? null";
    browser.js(script, vec![]).await == json!(format!("{}/app/sw.js", browser.base))
}

/// Makes `showNotification` in the target of `session` (a page or the
/// worker) note each notification it has shown (once the browser took
/// it) in `self.shown`. Headless Chromium's `getNotifications()` now and
/// then lists nothing though `showNotification` succeeded (seen about one
/// run in ten under load, with the right title shown and resolved), so
/// the tests read what was shown here.
async fn note_notifications(cdp: &Cdp, session: &str) {
    let script = "self.shown = [];
        const show = ServiceWorkerRegistration.prototype.showNotification;
        ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
            return show.call(this, title, options).then(() => {
                self.shown.push({title, body: options.body, tag: options.tag, data: options.data});
            });
        };
        true";
    assert_eq!(cdp.evaluate(session, script).await, Ok(json!(true)));
}

/// What [`note_notifications`] noted, once there is something.
async fn shown(browser: &Browser, cdp: &Cdp, session: &str) -> Value {
    browser
        .poll("a notification", || async {
            let shown = cdp.evaluate(session, "self.shown").await.ok()?;
            (shown != json!([])).then_some(shown)
        })
        .await
}

/// A PNG's width and height, from its header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let number = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

/// The manifest and its icons as served; Chromium finds nothing that
/// keeps `/app/` from installing; the worker registers with scope
/// `/app/` and controls the page from its first load.
#[tokio::test]
async fn the_app_installs_and_its_worker_controls_the_page() {
    let server = TestServer::start().await;
    let get = |path: String| server.client.get(format!("{}{path}", server.base)).send();
    let reply = get("/app/manifest.webmanifest".into()).await.unwrap();
    assert_eq!(reply.headers()["content-type"], "application/manifest+json");
    let manifest: Value = reply.json().await.unwrap();
    assert_eq!(manifest["start_url"], "/app/");
    assert_eq!(manifest["scope"], "/app/");
    assert_eq!(manifest["display"], "standalone");
    let mut pngs = Vec::new();
    for icon in manifest["icons"].as_array().unwrap() {
        let reply = get(icon["src"].as_str().unwrap().to_owned()).await.unwrap();
        assert!(reply.status().is_success(), "{icon}");
        if icon["type"] != "image/png" {
            continue;
        }
        assert_eq!(reply.headers()["content-type"], "image/png");
        let (width, height) = png_size(&reply.bytes().await.unwrap());
        assert_eq!(icon["sizes"], format!("{width}x{height}"), "{icon}");
        pngs.push(format!("{width} {}", icon["purpose"].as_str().unwrap()));
    }
    pngs.sort();
    assert_eq!(pngs, ["192 any", "512 any", "512 maskable"]);

    let Some(ann) = Browser::open("installable", &server.base, 1200).await else {
        return;
    };
    ann.goto("/app/").await;
    ann.named("input", "Name").await;
    let scope = "return navigator.serviceWorker.ready.then(r => r.scope)";
    let app = format!("{}/app/", server.base);
    assert_eq!(ann.js(scope, vec![]).await, json!(app));
    // skipWaiting and clients.claim: controlled without a reload.
    ann.until("the worker controlling the page", || controlled(&ann))
        .await;
    let cdp = Cdp::connect(&ann).await;
    let page = cdp.attach("page", &app).await;
    let manifest = cdp
        .send(Some(&page), "Page.getAppManifest", json!({}))
        .await;
    assert_eq!(manifest["errors"], json!([]), "{manifest}");
    let installable = cdp
        .send(Some(&page), "Page.getInstallabilityErrors", json!({}))
        .await;
    assert_eq!(installable["installabilityErrors"], json!([]));
}

/// A push (delivered by DevTools, as the push service would) shows a
/// notification titled with the channel and the author; the worker's
/// click handler opens that channel in the window already open.
#[tokio::test]
async fn a_push_shows_a_notification_whose_click_opens_its_channel() {
    let server = TestServer::start().await;
    let (http, base) = (&server.client, &server.base);
    let carl = register_at(http, base, "carl", "pw").await;
    channel_at(http, base, &carl, "alpha").await;
    let beta = channel_at(http, base, &carl, "beta").await;
    let message = send_at(http, base, &carl, &beta, "Lunch at noon?").await;
    let Some(ann) = Browser::open("push", base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.open_channel("alpha").await;
    ann.until("the worker controlling the page", || controlled(&ann))
        .await;

    let cdp = Cdp::connect(&ann).await;
    let params = json!({"permissions": ["notifications"], "origin": base});
    cdp.send(None, "Browser.grantPermissions", params).await;
    let app = format!("{base}/app/");
    let page = cdp.attach("page", &app).await;
    cdp.send(Some(&page), "ServiceWorker.enable", json!({}))
        .await;
    let ours = |r: &Value| r["scopeURL"] == app && r["isDeleted"] == false;
    let updated = cdp
        .event("ServiceWorker.workerRegistrationUpdated", |p| {
            p["registrations"]
                .as_array()
                .into_iter()
                .flatten()
                .any(ours)
        })
        .await;
    let registration = updated["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| ours(r))
        .unwrap()["registrationId"]
        .clone();
    // The worker's permission too, before the push that uses it.
    let worker = cdp
        .attach("service_worker", &format!("{base}/app/sw.js"))
        .await;
    ann.until("the worker allowed to notify", || async {
        let permission = cdp.evaluate(&worker, "Notification.permission").await;
        permission.is_ok_and(|p| p == "granted")
    })
    .await;
    note_notifications(&cdp, &worker).await;
    let payload = json!({"channel": beta, "channel_name": "beta", "message": message,
        "author": "carl", "text": "Lunch at noon?", "unread": 1});
    let push = json!({"origin": base, "registrationId": registration, "data": payload.to_string()});
    cdp.send(Some(&page), "ServiceWorker.deliverPushMessage", push)
        .await;
    assert_eq!(
        shown(&ann, &cdp, &worker).await,
        json!([{"title": "beta · carl", "body": "Lunch at noon?", "tag": format!("channel-{beta}"),
            "data": {"channel": beta, "message": message}}])
    );

    // The click, as the worker's handler runs it (a synthetic
    // notificationclick could not wait on it).
    let data = json!({"channel": beta, "message": message});
    cdp.evaluate(&worker, &format!("openFromNotification({data})"))
        .await
        .expect("the click handler");
    ann.until("beta open", || async { ann.heading().await == "beta" })
        .await;
    ann.until("beta's message", || async {
        ann.messages().await == ["Lunch at noon?"]
    })
    .await;
}

/// The worker never serves an old client: a server upgraded in place (a
/// proxy here, whose style.css changes as a new build's would) is what
/// the next load uses, though the worker controls the page. A worker that
/// kept the client's files (cache first, or stale-while-revalidate) would
/// have kept them on the first load it controlled, and answer the next
/// with the old file: with such a fetch handler added to sw.js, this
/// fails (tried).
#[tokio::test]
async fn a_new_build_is_used_on_the_next_load() {
    let server = TestServer::start().await;
    let upgraded = Arc::new(AtomicBool::new(false));
    let base = upgradable(server.base.clone(), upgraded.clone()).await;
    let Some(ann) = Browser::open("new_build", &base, 1200).await else {
        return;
    };
    ann.goto("/app/").await;
    ann.named("input", "Name").await;
    ann.until("the worker controlling the page", || controlled(&ann))
        .await;
    // A load under the worker's control: one that kept files would have
    // kept them by now.
    ann.client.refresh().await.unwrap();
    ann.named("input", "Name").await;
    let build =
        "return getComputedStyle(document.documentElement).getPropertyValue('--build').trim()";
    assert_eq!(ann.js(build, vec![]).await, json!(""));
    upgraded.store(true, Ordering::SeqCst);
    ann.client.refresh().await.unwrap();
    ann.named("input", "Name").await;
    assert!(controlled(&ann).await, "the worker still controls the page");
    assert_eq!(ann.js(build, vec![]).await, json!("\"next\""));
}

/// A proxy to the server at `upstream` (GET only: the sign-in view's
/// files); once `upgraded`, its style.css is a new build's (one more
/// rule, another tag). Returns its address.
async fn upgradable(upstream: String, upgraded: Arc<AtomicBool>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (http, upstream, upgraded) = (http.clone(), upstream.clone(), upgraded.clone());
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let (http, upstream, upgraded) = (http.clone(), upstream.clone(), upgraded.clone());
                async move {
                    let path = request.uri().path().to_owned();
                    let next = upgraded.load(Ordering::SeqCst) && path == "/app/style.css";
                    let mut forward = http.get(format!("{upstream}{path}"));
                    for (name, value) in request.headers() {
                        let plain = next && (name == "accept-encoding" || name == "if-none-match");
                        if name != "host" && !plain {
                            forward = forward.header(name, value);
                        }
                    }
                    let reply = forward.send().await.unwrap();
                    let mut answer = hyper::Response::builder().status(reply.status());
                    for (name, value) in reply.headers() {
                        let replaced = next && (name == "etag" || name == "content-length");
                        if !replaced {
                            answer = answer.header(name, value);
                        }
                    }
                    let mut body = reply.bytes().await.unwrap().to_vec();
                    if next {
                        body.extend_from_slice(b"\n:root { --build: \"next\"; }\n");
                        answer = answer.header("etag", "\"next\"");
                    }
                    Ok::<_, Infallible>(answer.body(Full::new(Bytes::from(body))).unwrap())
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    base
}

/// The message box offers the people an `@` starts (keys: Down, Enter;
/// Escape closes), and inserts the name; the log marks mentions, and a
/// message that mentions me in words too. The room's Notifications menu
/// sets the level, which the server keeps.
#[tokio::test]
async fn mentions_are_offered_and_marked_and_levels_kept() {
    let server = TestServer::start().await;
    let (http, base) = (&server.client, &server.base);
    let carl = register_at(http, base, "carl", "pw").await;
    register_at(http, base, "carmen", "pw").await;
    let plans = channel_at(http, base, &carl, "plans").await;
    let Some(ann) = Browser::open("mentions", base, 1200).await else {
        return;
    };
    ann.register("ann").await;
    ann.open_channel("plans").await;
    let options = "return [...document.querySelectorAll('#mention-list [role=option]')]
        .filter(o => o.checkVisibility()).map(o => [o.textContent, o.getAttribute('aria-selected')])";
    let active = "return document.getElementById('message').getAttribute('aria-activedescendant')";

    ann.fill("Message", "@c").await;
    ann.named("[role=listbox]", "People to mention").await;
    ann.keys(&Key::Escape.to_string()).await;
    ann.until("the list closed", || async {
        ann.js(options, vec![]).await == json!([])
    })
    .await;

    ann.fill("Message", "hi @car").await;
    ann.until("carl and carmen offered", || async {
        ann.js(options, vec![]).await == json!([["carl", "true"], ["carmen", "false"]])
    })
    .await;
    assert_eq!(ann.js(active, vec![]).await, json!("mention-0"));
    ann.keys(&Key::Down.to_string()).await;
    assert_eq!(ann.js(active, vec![]).await, json!("mention-1"));
    ann.keys(&Key::Enter.to_string()).await;
    let value = "return document.getElementById('message').value";
    assert_eq!(ann.js(value, vec![]).await, json!("hi @carmen "));
    ann.keys(&format!("see you{}", Key::Enter)).await;
    ann.until("the message", || async {
        ann.messages().await == ["hi @carmen see you"]
    })
    .await;
    let marks =
        "return [...document.querySelectorAll('[role=log] .mention')].map(m => m.textContent)";
    ann.until("@carmen marked", || async {
        ann.js(marks, vec![]).await == json!(["@carmen"])
    })
    .await;

    send_at(http, base, &carl, &plans, "@ann look at this").await;
    let mine = "const m = document.querySelector('[role=log] .msg.mentioned');
        return m && [m.getAttribute('aria-label').endsWith(', mentions you'),
            m.querySelector('.tag').innerText, m.querySelector('.mention.you').textContent,
            getComputedStyle(m.querySelector('.mention.you')).display]";
    ann.until("the message that mentions ann", || async {
        ann.js(mine, vec![]).await == json!([true, "mentions you", "@ann", "inline"])
    })
    .await;

    // A public channel notifies of mentions by default; Nothing is kept.
    let token = ann.token().await;
    let level = ann.named("select", "Notifications").await;
    assert_eq!(
        level.prop("value").await.unwrap().as_deref(),
        Some("mentions")
    );
    level.select_by_value("none").await.unwrap();
    let kept = || async {
        let reply = call_at(
            http,
            base,
            Method::GET,
            "/user/self/unread",
            Some(&token),
            None,
        )
        .await;
        reply
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["channel"] == plans && e["notifications"] == "none")
    };
    ann.until("the level kept", kept).await;
    ann.client.refresh().await.unwrap();
    ann.open_channel("plans").await;
    let level = ann.named("select", "Notifications").await;
    assert_eq!(level.prop("value").await.unwrap().as_deref(), Some("none"));
}

/// Notifications turned on (the button; the permission granted ahead, as
/// the person would in the browser's prompt), then the tab hidden behind
/// another: a message over the websocket that the level asks for (a
/// mention, in a public channel) is notified by the page itself; one the
/// level does not ask for is not.
#[tokio::test]
async fn a_hidden_tab_notifies_by_itself() {
    let server = TestServer::start().await;
    let (http, base) = (&server.client, &server.base);
    let carl = register_at(http, base, "carl", "pw").await;
    let plans = channel_at(http, base, &carl, "plans").await;
    let Some(ann) = Browser::open("hidden_tab", base, 1200).await else {
        return;
    };
    let cdp = Cdp::connect(&ann).await;
    let params = json!({"permissions": ["notifications"], "origin": base});
    cdp.send(None, "Browser.grantPermissions", params).await;
    ann.register("ann").await;
    ann.open_channel("plans").await;
    ann.click("Turn on notifications").await;
    ann.button("Turn off notifications").await;
    ann.wait_for_text("Notifications").await;

    let app = format!("{base}/app/");
    let page = cdp.attach("page", &app).await;
    let other = ann.client.new_window(true).await.unwrap();
    ann.client.switch_to_window(other.handle).await.unwrap();
    ann.client.goto("about:blank").await.unwrap();
    note_notifications(&cdp, &page).await;
    let hidden = cdp.evaluate(&page, "document.visibilityState").await;
    assert_eq!(
        hidden,
        Ok(json!("hidden")),
        "the first tab is behind the second"
    );

    send_at(http, base, &carl, &plans, "no one in particular").await;
    send_at(http, base, &carl, &plans, "@ann are you there?").await;
    let shown = shown(&ann, &cdp, &page).await;
    assert_eq!(shown[0]["title"], "plans · carl");
    assert_eq!(shown[0]["body"], "@ann are you there?");
    // The plain message, sent first, was not notified.
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
}
