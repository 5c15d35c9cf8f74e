//! Starting a browser: chromedriver on a free loopback port, and a
//! headless chromium with a profile of its own that calls nowhere.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::ClientBuilder;
use serde_json::json;
use tokio::process::Command;

use super::{Browser, PATIENCE};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser tests can run here; if not, says so loudly (past
/// the test harness's capture), or fails where they are required.
fn available(test: &str) -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let why =
        format!("{CHROMIUM} or {CHROMEDRIVER} is missing (apt install chromium chromium-driver)");
    if std::env::var("AZUMA_BROWSER_TESTS").is_ok_and(|v| v == "required") {
        panic!("browser tests are required, but {why}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED browser test {test}: {why} ***\n"
    );
    false
}

impl Browser {
    /// A new headless chromium at `base` (a server's address), `width`
    /// pixels wide; `None` (after a loud note) where there is none.
    pub async fn open(test: &str, base: &str, width: u32) -> Option<Browser> {
        Browser::launch(test, base, width, false).await
    }

    /// [`Browser::open`], with the system asking pages for dark colours.
    pub async fn open_dark(test: &str, base: &str) -> Option<Browser> {
        Browser::launch(test, base, 1200, true).await
    }

    async fn launch(test: &str, base: &str, width: u32, dark: bool) -> Option<Browser> {
        if !available(test) {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: dropping the Browser ends the
            // driver and every chromium process it started.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            &format!("--window-size={width},900"),
            &format!("--user-data-dir={}", profile.path().display()),
            "--lang=en-US",
            "--hide-scrollbars",
            // Nothing but the server under test: no update checks, sync,
            // translation or other calls home.
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-pings",
            "--disable-features=Translate,OptimizationHints,MediaRouter",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if dark {
            args.push("--force-dark-mode".into());
        }
        // Downloads land in the profile, and go with it.
        let downloads = profile.path().join("downloads");
        let mut options = json!({"binary": CHROMIUM, "args": args, "prefs": {
            "download.default_directory": downloads,
            "download.prompt_for_download": false,
        }});
        // A desktop window is at least 500 pixels wide: narrower is a
        // phone's screen, emulated.
        if width < 500 {
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": 844, "pixelRatio": 3.0, "touch": true}});
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if start.elapsed() > PATIENCE => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Some(Browser {
            client,
            base: base.to_owned(),
            driver,
            profile,
        })
    }
}
