//! The web client's files (`web/`), the one list of them: at build time,
//! each is gzipped into `OUT_DIR`, the page (`index.html`) gets a
//! `modulepreload` line for each of its scripts, and `OUT_DIR/web.rs` is
//! written, the table that `src/routes/app.rs` embeds them by. The server
//! compresses nothing while it runs, and a file added to `web/` is served
//! with no other change.
// A build script reports failure by panicking with a message: that is the
// build failing, not a server.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use flate2::Compression;
use flate2::write::GzEncoder;

/// Where the page's preload lines go: the line of `web/index.html` that
/// this comment is.
const PRELOADS: &str = "<!-- modulepreload: build.rs -->";

fn main() {
    println!("cargo::rerun-if-changed=web");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let web = Path::new(&env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("web");
    let mut names: Vec<String> = fs::read_dir(&web)
        .expect("the web/ folder")
        .map(|entry| {
            let entry = entry.expect("a web/ entry");
            let name = entry.file_name().into_string().expect("a UTF-8 file name");
            assert!(
                entry.file_type().expect("a file type").is_file(),
                "web/{name}: web/ holds files only (served as /app/<name>)"
            );
            name
        })
        // An editor's or a system's hidden files are no part of the client.
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort_unstable();

    let mut table = String::from("&[\n");
    let mut page = None;
    for name in &names {
        let path = web.join(name);
        let mut body = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut served = path.clone();
        if name == "index.html" {
            body = with_preloads(&body, &names);
            served = out.join(name);
            fs::write(&served, &body).expect("write to OUT_DIR");
        }
        let gzip = out.join(format!("{name}.gz"));
        fs::write(&gzip, gzipped(&body)).expect("write to OUT_DIR");
        let entry = format!(
            "({name:?}, include_bytes!({served:?}).as_slice(), include_bytes!({gzip:?}).as_slice(), {:?})",
            content_type(name)
        );
        if name == "index.html" {
            page = Some(entry);
        } else {
            writeln!(table, "    {entry},").expect("a String");
        }
    }
    table.push(']');
    let page = page.expect("web/index.html, the page");
    let code = format!(
        "// Written by build.rs from web/: (name, body, gzipped body, content type).\n\
         /// The page, `/app/` itself.\n\
         const PAGE_FILE: WebFile = {page};\n\
         /// The page's files under `/app/`, by name.\n\
         const FILES: &[WebFile] = {table};\n"
    );
    fs::write(out.join("web.rs"), code).expect("write to OUT_DIR");
}

/// The service worker's script: the browser fetches it when the page
/// registers it, and it is no module of the page.
const WORKER: &str = "sw.js";

/// The page with its preload comment replaced by a `modulepreload` line
/// for each script but `main.js` (which the page loads itself) and the
/// service worker's: the browser fetches them all at once instead of one
/// level of imports after another.
fn with_preloads(page: &[u8], names: &[String]) -> Vec<u8> {
    let page = std::str::from_utf8(page).expect("web/index.html is UTF-8");
    assert_eq!(
        page.matches(PRELOADS).count(),
        1,
        "web/index.html must hold {PRELOADS} once"
    );
    let lines: Vec<String> = names
        .iter()
        .filter(|name| name.ends_with(".js") && *name != "main.js" && *name != WORKER)
        .map(|name| format!("<link rel=\"modulepreload\" href=\"/app/{name}\">"))
        .collect();
    page.replace(PRELOADS, &lines.join("\n")).into_bytes()
}

fn gzipped(body: &[u8]) -> Vec<u8> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(body).expect("gzip in memory");
    gzip.finish().expect("gzip in memory")
}

/// A file's content type, by its extension; a new kind of file needs its
/// own line here.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webmanifest") => "application/manifest+json",
        _ => panic!("web/{name}: no content type for it in build.rs"),
    }
}
