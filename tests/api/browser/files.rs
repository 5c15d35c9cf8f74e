//! Pictures and files, two people each in their own browser: attached
//! (Attach, a paste, a drop), uploaded with a progress bar and Cancel,
//! refused over the server's limit before anything is sent, sent with
//! text; seen on the other side as a thumbnail that opens the full image,
//! a player, a download link; and nothing uploaded ever runs.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use fantoccini::Locator;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};
use warp::http::Method;

use super::Browser;
use super::chat::{ann_and_bob, message};
use crate::helpers::{TestServer, channel_at};

/// A `width` × `height` PNG called `name`, in `dir`.
fn png(dir: &Path, name: &str, width: u32, height: u32) -> PathBuf {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    let path = dir.join(name);
    image.save(&path).unwrap();
    path
}

/// A second of a 440 Hz tone, as a WAV file (PCM, 8 kHz, 8 bits, mono).
fn wav(dir: &Path, name: &str) -> PathBuf {
    let rate = 8000_u32;
    let samples: Vec<u8> = (0..rate)
        .map(|i| (128.0 + 100.0 * (f64::from(i) * 440.0 * 2.0 * PI / f64::from(rate)).sin()) as u8)
        .collect();
    let length = u32::try_from(samples.len()).unwrap();
    let mut bytes = Vec::new();
    bytes.extend(b"RIFF");
    bytes.extend((36 + length).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16_u32.to_le_bytes());
    bytes.extend(1_u16.to_le_bytes()); // PCM
    bytes.extend(1_u16.to_le_bytes()); // one channel
    bytes.extend(rate.to_le_bytes());
    bytes.extend(rate.to_le_bytes()); // bytes a second
    bytes.extend(1_u16.to_le_bytes()); // bytes a sample
    bytes.extend(8_u16.to_le_bytes()); // bits a sample
    bytes.extend(b"data");
    bytes.extend(length.to_le_bytes());
    bytes.extend(samples);
    write(dir, name, &bytes)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Chooses `paths` as a person would through Attach: in the file input
/// behind the button.
async fn choose(side: &Browser, paths: &[&PathBuf]) {
    let input = side
        .client
        .find(Locator::Css("#composer input[type=file]"))
        .await
        .unwrap();
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    input.send_keys(&paths.join("\n")).await.unwrap();
}

/// How many files wait in the list above the message box, and how many
/// of them are uploaded.
async fn tray(side: &Browser) -> (u64, u64) {
    let script = "return [document.querySelectorAll('.uploads li').length,
        document.querySelectorAll('.uploads li.done').length]";
    let found = side.js(script, vec![]).await;
    (found[0].as_u64().unwrap(), found[1].as_u64().unwrap())
}

/// Waits until `count` files are uploaded and ready to go.
async fn ready(side: &Browser, count: u64) {
    side.until(&format!("{count} files ready"), || async {
        tray(side).await == (count, count)
    })
    .await;
}

/// The composer's error line.
async fn complaint(side: &Browser) -> String {
    let script = "return document.getElementById('composer-error').textContent";
    side.js(script, vec![]).await.as_str().unwrap().to_owned()
}

/// A channel of ann's, open in both browsers.
async fn album(server: &TestServer, ann: &Browser, bob: &Browser) -> String {
    let id = channel_at(&server.client, &server.base, &ann.token().await, "album").await;
    for side in [ann, bob] {
        side.client.refresh().await.unwrap();
        side.until("album open", || async { side.heading().await == "album" })
            .await;
    }
    id
}

/// Ann attaches a picture, a text file and a sound and sends them with
/// text; Bob, on a phone, sees the thumbnail in a box reserved at its
/// shape, opens the full image, gets the file by a link with its name and
/// size, and can play the sound. The keyboard opens the picture too.
#[tokio::test]
async fn a_picture_a_file_and_a_sound_go_with_a_message() {
    let server = TestServer::start().await;
    let Some(ann) = Browser::open("files_sent", &server.base, 1200).await else {
        return;
    };
    let Some(bob) = Browser::open("files_sent", &server.base, 390).await else {
        return;
    };
    ann.register("ann").await;
    bob.register("bob").await;
    album(&server, &ann, &bob).await;

    let dir = tempfile::tempdir().unwrap();
    let photo = png(dir.path(), "photo.png", 640, 480);
    let notes = write(dir.path(), "notes.txt", b"hello notes");
    let tone = wav(dir.path(), "tone.wav");
    let attach = ann.button("Attach").await;
    assert_eq!(ann.role(&attach).await, "button");
    choose(&ann, &[&photo, &notes, &tone]).await;
    ready(&ann, 3).await;
    ann.button("Remove photo.png").await;
    ann.fill("Message", "from the trip").await;
    ann.click("Send").await;
    ann.until("the sent files to leave the list", || async {
        tray(&ann).await == (0, 0)
    })
    .await;

    bob.wait_for_text("from the trip").await;
    let sent = message(&bob, "from the trip").await;
    // The thumbnail's box is reserved before it loads: 640 × 480 fits
    // 320 × 240, shrunk to the phone's log at the same shape.
    let thumbnail = format!(
        "const img = document.querySelector('{sent} .files img');
        const box = img.getBoundingClientRect();
        return {{ width: img.getAttribute('width'), height: img.getAttribute('height'),
            loading: img.loading, alt: img.alt, natural: img.naturalWidth,
            box: [box.width, box.height] }}"
    );
    let first = bob.js(&thumbnail, vec![]).await;
    assert_eq!(
        (
            &first["width"],
            &first["height"],
            &first["loading"],
            &first["alt"]
        ),
        (
            &json!("320"),
            &json!("240"),
            &json!("lazy"),
            &json!("photo.png")
        )
    );
    let reserved = |found: &Value| {
        let (w, h) = (
            found["box"][0].as_f64().unwrap(),
            found["box"][1].as_f64().unwrap(),
        );
        assert!((200.0..=320.0).contains(&w), "{found}");
        assert!((w * 3.0 - h * 4.0).abs() < 3.0, "{found}");
    };
    reserved(&first);
    bob.until("the thumbnail loaded", || async {
        bob.js(&thumbnail, vec![]).await["natural"] == json!(640)
    })
    .await;
    reserved(&bob.js(&thumbnail, vec![]).await);
    let sideways =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    assert_eq!(bob.js(sideways, vec![]).await, json!(0));

    // The text file: a download link, with its name and size, that works
    // without a token.
    let link = bob
        .js(
            &format!(
                "const a = [...document.querySelectorAll('{sent} a.file')]
                    .find(a => a.querySelector('.file-name').textContent === 'notes.txt');
                const body = await (await fetch(a.href)).text();
                return [a.textContent, a.getAttribute('download'), body]"
            ),
            vec![],
        )
        .await;
    assert_eq!(
        link,
        json!(["notes.txt 11 bytes", "notes.txt", "hello notes"])
    );

    // The sound: a player, which has read the sound's length.
    let audio = format!(
        "const a = document.querySelector('{sent} audio');
        return [a.controls, a.preload, a.getAttribute('aria-label'), a.readyState >= 1 ? Math.round(a.duration) : null]"
    );
    bob.until("the sound's length", || async {
        bob.js(&audio, vec![]).await == json!([true, "metadata", "tone.wav", 1])
    })
    .await;
    assert!(bob.shows("tone.wav").await);

    // The thumbnail opens the full image, in a dialog; Escape closes it,
    // and the focus goes back.
    bob.press("a", "photo.png").await;
    let dialog = bob.named("dialog", "photo.png").await;
    assert_eq!(bob.role(&dialog).await, "dialog");
    bob.until("the full image", || async {
        let script = "return document.querySelector('dialog[open] img')?.naturalWidth";
        bob.js(script, vec![]).await == json!(640)
    })
    .await;
    let focused = bob.client.active_element().await.unwrap();
    assert_eq!(bob.label(&focused).await, "Close");
    bob.keys(&Key::Escape.to_string()).await;
    bob.until("the dialog closed", || async {
        bob.js("return document.querySelector('dialog') === null", vec![])
            .await
            == json!(true)
    })
    .await;
    let focused = bob.client.active_element().await.unwrap();
    assert_eq!(bob.label(&focused).await, "photo.png");

    // A link that fails (as an expired one does: 403) makes the page
    // fetch the message again, and draw it with fresh links.
    let spoiled = bob
        .js(
            &format!(
                "const img = document.querySelector('{sent} .files img');
                window.spoiled = img;
                img.src = img.src.replace(/sig=[^&]+/, 'sig=0');
                return (await fetch(img.src)).status"
            ),
            vec![],
        )
        .await;
    assert_eq!(spoiled, json!(403));
    bob.until("the message drawn again, its picture loaded", || async {
        let script = format!(
            "const img = document.querySelector('{sent} .files img');
            return !window.spoiled.isConnected && img.complete && img.naturalWidth"
        );
        bob.js(&script, vec![]).await == json!(640)
    })
    .await;

    // By keyboard: to the message, Tab to its picture, Enter.
    let mine = message(&ann, "from the trip").await;
    ann.js(&format!("document.querySelector('{mine}').focus()"), vec![])
        .await;
    ann.keys(&Key::Tab.to_string()).await;
    let focused = ann.client.active_element().await.unwrap();
    assert_eq!(ann.label(&focused).await, "photo.png");
    ann.keys(&Key::Enter.to_string()).await;
    ann.named("dialog", "photo.png").await;
    ann.click("Close").await;
}

/// A paste of a file and a drop of one on the room attach them; a drop
/// elsewhere on the page does nothing; the files go alone, without text.
#[tokio::test]
async fn pasted_and_dropped_files_are_attached() {
    let server = TestServer::start().await;
    let Some((ann, bob)) = ann_and_bob("files_pasted", &server).await else {
        return;
    };
    album(&server, &ann, &bob).await;
    let script = "const [name, target, kind] = arguments;
        const data = new DataTransfer();
        data.items.add(new File(['some words'], name, { type: 'text/plain' }));
        const init = { bubbles: true, cancelable: true };
        const event = kind === 'paste'
            ? new ClipboardEvent('paste', { ...init, clipboardData: data })
            : new DragEvent('drop', { ...init, dataTransfer: data });
        document.querySelector(target).dispatchEvent(event);
        return event.defaultPrevented";
    for (name, target, kind) in [
        ("pasted.txt", "#message", "paste"),
        ("dropped.txt", "[role=log]", "drop"),
        ("beside.txt", "#people", "drop"),
    ] {
        let prevented = ann
            .js(script, vec![json!(name), json!(target), json!(kind)])
            .await;
        // The browser never leaves the page to show a file dropped beside.
        assert_eq!(prevented, json!(true), "{name}");
    }
    ready(&ann, 2).await;
    ann.click("Send").await;
    bob.wait_for_text("dropped.txt").await;
    let names = bob
        .js(
            "return [...document.querySelectorAll('[role=log] .msg')].map(m =>
                [m.querySelector('.content').textContent,
                 [...m.querySelectorAll('a.file .file-name')].map(a => a.textContent)])",
            vec![],
        )
        .await;
    assert_eq!(names, json!([["", ["pasted.txt", "dropped.txt"]]]));
}

/// A video Ann's browser records (a canvas, through MediaRecorder) and
/// pastes plays in Bob's; and no address on either page, of a picture, a
/// player or a link, carries the session's token.
#[tokio::test]
async fn a_video_plays_and_no_address_holds_a_token() {
    let server = TestServer::start().await;
    let Some((ann, bob)) = ann_and_bob("files_video", &server).await else {
        return;
    };
    album(&server, &ann, &bob).await;
    let record = "const canvas = document.createElement('canvas');
        canvas.width = 160; canvas.height = 120;
        const paint = canvas.getContext('2d');
        let frame = 0;
        const drawing = setInterval(() => {
            paint.fillStyle = `hsl(${(frame += 20) % 360} 80% 50%)`;
            paint.fillRect(0, 0, 160, 120);
        }, 40);
        const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
        const parts = [];
        recorder.ondataavailable = (event) => parts.push(event.data);
        const stopped = new Promise((done) => { recorder.onstop = done; });
        recorder.start();
        await new Promise((done) => setTimeout(done, 1200));
        recorder.stop();
        await stopped;
        clearInterval(drawing);
        const data = new DataTransfer();
        data.items.add(new File(parts, 'clip.webm', { type: 'video/webm' }));
        document.querySelector('#message').dispatchEvent(
            new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: data }));
        return parts.reduce((size, part) => size + part.size, 0)";
    let size = ann.js(record, vec![]).await;
    assert!(size.as_u64().is_some_and(|n| n > 0), "recorded {size}");
    ready(&ann, 1).await;
    ann.fill("Message", "a clip").await;
    ann.click("Send").await;

    bob.wait_for_text("a clip").await;
    let sent = message(&bob, "a clip").await;
    let video = format!(
        "const v = document.querySelector('{sent} video');
        return v && [v.controls, v.getAttribute('aria-label'), v.readyState >= 1 && v.videoWidth]"
    );
    bob.until("the video's metadata", || async {
        bob.js(&video, vec![]).await == json!([true, "clip.webm", 160])
    })
    .await;
    let play = format!(
        "const v = document.querySelector('{sent} video');
        v.muted = true;
        await v.play();
        await new Promise((done) => setTimeout(done, 400));
        return v.currentTime > 0"
    );
    assert_eq!(bob.js(&play, vec![]).await, json!(true), "the video plays");

    let addresses = "const token = localStorage.getItem('azuma.token');
        const found = [...document.querySelectorAll('img, video, audio, source, a')]
            .map(e => e.src || e.href || '').filter(a => a.includes('/attachment/'));
        return [token.length > 0, found.length > 0, found.filter(a => a.includes(token))]";
    for side in [&ann, &bob] {
        let found = side.js(addresses, vec![]).await;
        assert_eq!(found, json!([true, true, []]));
    }
}

/// ChromeDriver's network conditions: uploads at `bytes_per_second`, or
/// (None) as fast as they go.
#[derive(Debug)]
struct Throttle(Option<u64>);

impl WebDriverCompatibleCommand for Throttle {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/chromium/network_conditions",
            session.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        match self.0 {
            Some(rate) => {
                let conditions = json!({"network_conditions": {
                    "offline": false, "latency": 0,
                    "download_throughput": 100_000_000, "upload_throughput": rate,
                }});
                (Method::POST, Some(conditions.to_string()))
            }
            None => (Method::DELETE, None),
        }
    }
}

/// A file over the server's limit (as its OpenAPI document states it) is
/// refused at once, and never sent; an upload shows its progress, holds
/// back Send, and Cancel ends it: the message goes without it.
#[tokio::test]
async fn too_large_files_are_refused_and_uploads_can_be_cancelled() {
    let server = TestServer::start_with(|c| c.max_upload_mib = 1).await;
    let Some((ann, bob)) = ann_and_bob("files_cancelled", &server).await else {
        return;
    };
    let channel = album(&server, &ann, &bob).await;
    let dir = tempfile::tempdir().unwrap();
    let big = write(dir.path(), "big.bin", &vec![7; 2 << 20]);
    choose(&ann, &[&big]).await;
    ann.until("the refusal", || async {
        complaint(&ann).await == "big.bin is 2 MB: files are limited to 1 MB."
    })
    .await;
    assert_eq!(tray(&ann).await, (0, 0));
    let uploads = "return performance.getEntriesByType('resource')
        .filter(e => new URL(e.name).pathname === '/attachment').length";
    assert_eq!(ann.js(uploads, vec![]).await, json!(0));

    // Slowly: 900 KiB at 64 KiB a second.
    ann.client
        .issue_cmd(Throttle(Some(64 << 10)))
        .await
        .unwrap();
    let slow = write(dir.path(), "slow.bin", &vec![9; 900 << 10]);
    choose(&ann, &[&slow]).await;
    ann.until("the progress bar moving", || async {
        let script = "const bar = document.querySelector('.uploads progress');
            return bar !== null && bar.value > 0 && bar.value < 1";
        ann.js(script, vec![]).await == json!(true)
    })
    .await;
    let bar = ann.named("progress", "Uploading slow.bin").await;
    assert_eq!(ann.role(&bar).await, "progressbar");
    ann.fill("Message", "no file after all").await;
    ann.click("Send").await;
    ann.until("Send held back", || async {
        complaint(&ann)
            .await
            .starts_with("Wait for the files to finish uploading")
    })
    .await;
    ann.click("Cancel slow.bin").await;
    assert_eq!(tray(&ann).await, (0, 0));
    ann.client.issue_cmd(Throttle(None)).await.unwrap();
    ann.click("Send").await;
    bob.wait_for_text("no file after all").await;
    let sent = message(&bob, "no file after all").await;
    let files = format!("return document.querySelectorAll('{sent} .files').length");
    assert_eq!(bob.js(&files, vec![]).await, json!(0));
    let history = server
        .get(
            &format!("/channel/{channel}/messages"),
            Some(&ann.token().await),
        )
        .await;
    assert_eq!(history.body[0]["attachments"], json!([]));
}

/// An HTML page, an SVG and an HTML page called .png, each with a script
/// that would leave a mark (the page's title, its storage, a logout): sent
/// through the web client, shown as download links, fetched, followed and
/// navigated to in the real browser. None runs: every one comes as a
/// sandboxed download, and the marks never appear.
#[tokio::test]
async fn uploaded_html_and_svg_never_run() {
    let server = TestServer::start().await;
    let Some((ann, bob)) = ann_and_bob("files_hostile", &server).await else {
        return;
    };
    album(&server, &ann, &bob).await;
    let script = "localStorage.setItem('pwned', location.href); document.title = 'pwned'; \
        fetch('/user/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + localStorage.getItem('azuma.token') } });";
    let html = format!(
        "<!doctype html><title>evil</title><script>{script}</script><img src=x onerror=\"{script}\">"
    );
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{script}\"><script>{script}</script><rect width=\"10\" height=\"10\"/></svg>"
    );
    let dir = tempfile::tempdir().unwrap();
    // (In the order the link lists sort to.)
    let names = ["evil.html", "evil.png", "evil.svg"];
    let paths = [
        write(dir.path(), names[0], html.as_bytes()),
        write(dir.path(), names[1], html.as_bytes()),
        write(dir.path(), names[2], svg.as_bytes()),
    ];
    choose(&ann, &paths.iter().collect::<Vec<_>>()).await;
    ready(&ann, 3).await;
    ann.fill("Message", "open me").await;
    ann.click("Send").await;
    bob.wait_for_text("open me").await;
    let sent = message(&bob, "open me").await;

    // Shown as links to download, nothing rendered.
    let shown = bob
        .js(
            &format!(
                "const m = document.querySelector('{sent}');
                return [[...m.querySelectorAll('a.file .file-name')].map(a => a.textContent).sort(),
                    m.querySelectorAll('img, svg, iframe, object, embed').length]"
            ),
            vec![],
        )
        .await;
    assert_eq!(shown, json!([names, 0]));
    // Fetched: each a sandboxed download, never sniffed.
    let headers = bob
        .js(
            &format!(
                "const links = [...document.querySelectorAll('{sent} a.file')]
                    .sort((a, b) => a.textContent.localeCompare(b.textContent));
                return Promise.all(links.map(async a => {{
                    const r = await fetch(a.href);
                    return [r.status, ...['content-type', 'content-disposition',
                        'content-security-policy', 'x-content-type-options'].map(h => r.headers.get(h))];
                }}))"
            ),
            vec![],
        )
        .await;
    for (name, answer) in names.iter().zip(headers.as_array().unwrap()) {
        assert_eq!(
            answer,
            &json!([
                200,
                "application/octet-stream",
                format!("attachment; filename*=UTF-8''{name}"),
                "sandbox; default-src 'none'",
                "nosniff"
            ]),
            "{name}"
        );
    }
    let hrefs = bob
        .js(
            &format!("return [...document.querySelectorAll('{sent} a.file')].map(a => a.href)"),
            vec![],
        )
        .await;
    let hrefs: Vec<String> = serde_json::from_value(hrefs).unwrap();

    // Followed from the page, and navigated to: downloads, and the page
    // stays the web client.
    for name in names {
        bob.press(
            "a.file",
            &format!(
                "{name} {} bytes",
                if name == "evil.svg" {
                    svg.len()
                } else {
                    html.len()
                }
            ),
        )
        .await;
    }
    for href in &hrefs {
        bob.client.goto(href).await.unwrap();
    }
    let downloads = bob.downloads();
    bob.until("every file downloaded, twice", || async {
        let mut found: Vec<String> = std::fs::read_dir(&downloads)
            .map(|dir| {
                dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.len() == 6 && found.iter().all(|f| !f.ends_with(".crdownload"))
    })
    .await;
    bob.goto("/app/").await;
    bob.until("album open again", || async {
        bob.heading().await == "album"
    })
    .await;
    bob.wait_for_text("open me").await;
    for side in [&ann, &bob] {
        let marks = side
            .js(
                "return [localStorage.getItem('pwned'), document.title, localStorage.getItem('azuma.token') !== null]",
                vec![],
            )
            .await;
        assert_eq!(marks, json!([null, "azuma", true]));
    }
    // Both sessions still stand: no logout ran.
    for side in [&ann, &bob] {
        let me = server.get("/user/self", Some(&side.token().await)).await;
        me.assert_json(200);
    }
}
