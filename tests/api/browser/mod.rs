//! The web client in a real browser: Debian's `chromium`, headless, driven
//! through `chromedriver` (WebDriver), against real servers on loopback.
//! Elements are found by their accessible names as Chrome computes them,
//! the names screen readers announce.
//!
//! Without chromium the tests skip, loudly; with
//! `AZUMA_BROWSER_TESTS=required` (as `.ci/run` sets) they fail instead.

mod cdp;
mod chat;
mod files;
mod launch;
mod look;
mod notice;
mod notify;
mod page;
mod people;
mod private;
mod session;

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use serde_json::Value;
use tokio::process::Child;
use warp::http::Method;

/// How long anything the page should show may take to appear.
const PATIENCE: Duration = Duration::from_secs(15);

/// One browser, with its own profile (its own storage and session).
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = self.driver.id().and_then(|pid| i32::try_from(pid).ok());
        if let Some(group) = group.and_then(rustix::process::Pid::from_raw) {
            // Chromedriver and the browsers it started: gone already is fine.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }
}

impl Browser {
    /// Where the browser saves what it downloads.
    pub fn downloads(&self) -> std::path::PathBuf {
        self.profile.path().join("downloads")
    }

    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client.goto(&url).await.expect("navigate");
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.expect("script")
    }

    /// Polls `find` until it yields something, or fails naming `what`
    /// (with what the page reads).
    pub async fn poll<T, F, Fut>(&self, what: &str, mut find: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let start = Instant::now();
        loop {
            if let Some(found) = find().await {
                return found;
            }
            if start.elapsed() > PATIENCE {
                let text = self.js("return document.body.innerText", vec![]).await;
                panic!(
                    "waited {PATIENCE:?} for {what}; the page reads:\n{}",
                    text.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `check` holds, or fails naming `what`.
    pub async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        self.poll(what, || {
            let holds = check();
            async move { holds.await.then_some(()) }
        })
        .await
    }

    /// The shown element among `css` whose accessible name is `name`,
    /// waiting for it to appear.
    pub async fn named(&self, css: &str, name: &str) -> Element {
        self.poll(&format!("a {css} named {name:?}"), || async {
            let all = self.client.find_all(Locator::Css(css)).await;
            for element in all.unwrap_or_default() {
                if element.is_displayed().await.unwrap_or(false)
                    && self.label(&element).await == name
                {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    /// The open channel's name, as its heading shows it.
    pub async fn heading(&self) -> Value {
        let script = "return document.getElementById('room-name').textContent";
        self.js(script, vec![]).await
    }

    /// An element's accessible name, as Chrome computes it for screen readers.
    pub async fn label(&self, element: &Element) -> String {
        let id = element.element_id().to_string();
        match self.client.issue_cmd(Computed(id, "computedlabel")).await {
            Ok(Value::String(label)) => label,
            _ => String::new(),
        }
    }

    /// An element's ARIA role, as Chrome computes it.
    pub async fn role(&self, element: &Element) -> String {
        let id = element.element_id().to_string();
        match self.client.issue_cmd(Computed(id, "computedrole")).await {
            Ok(Value::String(role)) => role,
            _ => String::new(),
        }
    }

    pub async fn button(&self, name: &str) -> Element {
        self.named("button", name).await
    }

    /// Types `text` into the text field named `label` (after clearing it).
    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.named("input, textarea", label).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Types `text` (which may hold keys such as Tab) where the focus is.
    pub async fn keys(&self, text: &str) {
        let focused = self.client.active_element().await.expect("a focus");
        focused.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, name: &str) {
        self.press("button", name).await;
    }

    /// Clicks the element among `css` named `name`, finding it again if
    /// the page redraws it in between.
    pub async fn press(&self, css: &str, name: &str) {
        for _ in 0..10 {
            match self.named(css, name).await.click().await {
                Err(e) if e.is_stale_element_reference() => {}
                done => return done.expect("click"),
            }
        }
        panic!("{css} {name:?} kept being redrawn");
    }

    /// Whether the page's visible text contains `text`.
    pub async fn shows(&self, text: &str) -> bool {
        let body = self.js("return document.body.innerText", vec![]).await;
        body.as_str().is_some_and(|b| b.contains(text))
    }

    pub async fn wait_for_text(&self, text: &str) {
        self.until(&format!("the text {text:?}"), || self.shows(text))
            .await;
    }

    /// The texts of the messages in the log, oldest first.
    pub async fn messages(&self) -> Vec<String> {
        let script =
            "return [...document.querySelectorAll('[role=log] .content')].map(e => e.textContent)";
        let found = self.js(script, vec![]).await;
        serde_json::from_value(found).unwrap_or_default()
    }

    /// Registers `name` through the sign-in view and waits for the chat.
    pub async fn register(&self, name: &str) {
        self.goto("/app/").await;
        self.fill("Name", name).await;
        self.fill("Password", "correct horse").await;
        self.click("Register").await;
        self.named("[role=log]", "Messages").await;
    }

    /// The token the page holds.
    pub async fn token(&self) -> String {
        let token = self
            .js("return localStorage.getItem('azuma.token')", vec![])
            .await;
        token.as_str().expect("a token").to_owned()
    }

    /// Opens the channel called `name` from the channel list.
    pub async fn open_channel(&self, name: &str) {
        self.press("nav a", name).await;
        self.until(&format!("{name} open"), || async {
            self.heading().await == name
        })
        .await;
    }
}

/// WebDriver's "Get Computed Label" / "Get Computed Role" of an element.
#[derive(Debug)]
struct Computed(String, &'static str);

impl WebDriverCompatibleCommand for Computed {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/element/{}/{}",
            session.unwrap_or(""),
            self.0,
            self.1
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::GET, None)
    }
}
