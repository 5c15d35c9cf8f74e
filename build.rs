//! Gzips the web client's files (`web/`) once, at build time, into
//! `OUT_DIR`: the server embeds both forms and compresses nothing while it
//! runs (`src/routes/app.rs`).
// A build script reports failure by panicking with a message: that is the
// build failing, not a server.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::{env, fs};

use flate2::Compression;
use flate2::write::GzEncoder;

fn main() {
    println!("cargo::rerun-if-changed=web");
    let out = env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let files = fs::read_dir("web").expect("the web/ folder");
    for file in files {
        let path = file.expect("a web/ entry").path();
        let name = path.file_name().expect("a file name");
        let body = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
        gzip.write_all(&body).expect("gzip in memory");
        let gzip = gzip.finish().expect("gzip in memory");
        let mut target = name.to_owned();
        target.push(".gz");
        fs::write(Path::new(&out).join(target), gzip).expect("write to OUT_DIR");
    }
}
