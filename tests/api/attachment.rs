//! Attachments: uploads, messages that carry them, who may fetch them (by
//! token or signed link), Range, safe serving, metadata taken out of
//! photos, and erasure.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::channel::create_channel;
use crate::helpers::{Reply, TestServer};
use crate::private::{person, private};

/// Uploads `bytes` as `name` of type `mime`.
pub async fn upload(
    server: &TestServer,
    token: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Reply {
    let url = server.url(&format!("/attachment?name={}", urlencode(name)));
    let response = server
        .client
        .post(url)
        .bearer_auth(token)
        .header("content-type", mime)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    Reply::from(response).await
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn fetch(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    range: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = server.client.get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(range) = range {
        request = request.header("range", range);
    }
    let response = request.send().await.expect("fetch");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.bytes().await.expect("body").to_vec(),
    )
}

fn id(attachment: &Value) -> &str {
    attachment["id"].as_str().unwrap()
}

async fn send_with(
    server: &TestServer,
    token: &str,
    channel: &str,
    content: &str,
    files: &[&str],
) -> Reply {
    let body = json!({"channel": channel, "content": content, "attachments": files});
    server.post("/message/send", Some(token), body).await
}

/// A JPEG of 64 x 32 pixels whose EXIF says: shown turned (orientation 6),
/// taken at a place (GPS) with a camera (make and model), and an XMP
/// packet that names the place again.
fn photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 32, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 8) as u8, 90])
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&image)
        .unwrap();
    let mut tiff = b"II\x2a\0\x08\0\0\0".to_vec();
    let strings = b"CanonEOS 5D\0GPS 48N51 2E21\0";
    tiff.extend_from_slice(&3u16.to_le_bytes());
    let at = (8 + 2 + 3 * 12 + 4) as u32;
    for (tag, kind, count, value) in [
        (0x010F_u16, 2_u16, 6_u32, at),
        (0x0112, 3, 1, 6),
        (0x8825, 4, 1, at + 12),
    ] {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value.to_le_bytes());
    }
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(strings);
    let exif = [b"Exif\0\0".as_slice(), &tiff].concat();
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS 48N51 Paris</x:xmpmeta>".to_vec();
    let segment = |marker: u8, payload: &[u8]| {
        let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        [&[0xFF, marker], &len[..], payload].concat()
    };
    [
        &plain[..2],
        &segment(0xE1, &exif),
        &segment(0xE1, &xmp),
        &plain[2..],
    ]
    .concat()
}

/// Where the first scan starts: the compressed image from there on.
fn scan(jpeg: &[u8]) -> &[u8] {
    let at = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    &jpeg[at..]
}

#[tokio::test]
async fn an_upload_is_its_owners_until_a_message_carries_it() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let (b, _) = person(&server, "ben").await;
    let channel = create_channel(&server, &a, "general").await;
    let bytes = b"just some notes\n".repeat(10);
    let reply = upload(
        &server,
        &a,
        "notes.txt",
        "text/plain; charset=utf-8",
        bytes.clone(),
    )
    .await;
    let attachment = reply.assert_json(201).clone();
    assert_eq!(attachment["name"], "notes.txt");
    assert_eq!(attachment["type"], "text/plain");
    assert_eq!(attachment["size"], bytes.len());
    assert!(attachment.get("width").is_none() && attachment.get("thumbnail_url").is_none());
    let path = format!("/attachment/{}", id(&attachment));
    assert_eq!(fetch(&server, &path, Some(&a), None).await.0, 200);
    assert_eq!(
        fetch(&server, &path, Some(&b), None).await.0,
        404,
        "not yet shared"
    );
    assert_eq!(fetch(&server, &path, None, None).await.0, 401);

    // Sent: everyone who sees the channel sees it; the message shows it.
    let reply = send_with(&server, &a, &channel, "", &[id(&attachment)]).await;
    let message = reply.assert_json(200).clone();
    assert_eq!(message["content"], "");
    assert_eq!(message["attachments"][0]["id"], attachment["id"]);
    let (status, headers, body) = fetch(&server, &path, Some(&b), None).await;
    assert_eq!((status, body), (200, bytes.clone()));
    assert_eq!(
        headers["content-type"], "application/octet-stream",
        "text is a download"
    );
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename*=UTF-8''notes.txt"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert_eq!(
        headers["cache-control"],
        "private, max-age=31536000, immutable"
    );
    assert_eq!(headers["accept-ranges"], "bytes");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let again = server
        .client
        .get(server.url(&path))
        .bearer_auth(&b)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // An upload goes once, by its owner.
    let other = upload(&server, &b, "b.txt", "text/plain", b"b".to_vec())
        .await
        .assert_json(201)
        .clone();
    for files in [
        vec![id(&attachment)],
        vec![id(&other)],
        vec!["0e5b3d2c-6f51-4f0e-9a53-52d1c4a5e4b1"],
    ] {
        send_with(&server, &a, &channel, "x", &files)
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    let mine = upload(&server, &a, "c.txt", "text/plain", b"c".to_vec())
        .await
        .assert_json(201)
        .clone();
    send_with(&server, &a, &channel, "x", &[id(&mine), id(&mine)])
        .await
        .assert_error(400, "BAD_REQUEST");
    send_with(&server, &a, &channel, "x", &[])
        .await
        .assert_error(400, "BAD_REQUEST");
    let eleven: Vec<&str> = (0..11).map(|_| id(&mine)).collect();
    send_with(&server, &a, &channel, "x", &eleven)
        .await
        .assert_error(400, "BAD_REQUEST");
    send_with(&server, &a, &channel, "   ", &[])
        .await
        .assert_error(400, "BAD_REQUEST");
    // History and search show it; search finds it by its name.
    let history = server
        .get(&format!("/channel/{channel}/messages"), Some(&b))
        .await;
    assert_eq!(
        history.assert_json(200)[0]["attachments"][0]["name"],
        "notes.txt"
    );
    let found = server.get("/message/search?q=notes", Some(&b)).await;
    assert_eq!(found.assert_json(200)[0]["id"], message["id"]);
}

#[tokio::test]
async fn a_signed_link_works_without_a_token_until_it_expires() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let (_, b_id) = person(&server, "ben").await;
    let (c, _) = person(&server, "cat").await;
    let secret = private(&server, &a, "us", &[&b_id]).await;
    let attachment = upload(&server, &a, "song.ogg", "audio/ogg", vec![7; 1000])
        .await
        .assert_json(201)
        .clone();
    let message = send_with(&server, &a, &secret, "listen", &[id(&attachment)])
        .await
        .assert_json(200)
        .clone();
    let url = message["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("/attachment/{}?exp=", id(&attachment))),
        "{url}"
    );
    let (status, headers, body) = fetch(&server, &url, None, None).await;
    assert_eq!((status, body.len()), (200, 1000));
    assert_eq!(headers["content-type"], "audio/ogg", "sound plays inline");
    assert!(headers.get("content-disposition").is_none());
    // A non-member's token gets what an unknown id gets.
    let path = format!("/attachment/{}", id(&attachment));
    let unknown = format!("/attachment/{}", uuid::Uuid::new_v4());
    assert_eq!(fetch(&server, &path, Some(&c), None).await.0, 404);
    assert_eq!(fetch(&server, &unknown, Some(&c), None).await.0, 404);
    // Tampered: another id, another variant, another expiry, another signature.
    let query = url.split_once('?').unwrap().1.to_owned();
    let (exp, sig) = query.split_once('&').unwrap();
    let flipped = format!("{}{}", &sig[..4], if &sig[4..5] == "0" { "1" } else { "0" }) + &sig[5..];
    for bad in [
        format!("{unknown}?{query}"),
        format!("{path}/thumbnail?{query}"),
        format!("{path}?exp=99999999999&{sig}"),
        format!("{path}?{exp}&{flipped}"),
        format!("{path}?{exp}"),
    ] {
        let reply = Reply::from(server.client.get(server.url(&bad)).send().await.unwrap()).await;
        reply.assert_error(403, "FORBIDDEN");
        // A refusal is sandboxed as the file would have been.
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(
            reply.headers["content-security-policy"],
            "sandbox; default-src 'none'"
        );
        // A bad link is refused even beside a good token.
        let with_token = server
            .client
            .get(server.url(&bad))
            .bearer_auth(&a)
            .send()
            .await
            .unwrap();
        Reply::from(with_token).await.assert_error(403, "FORBIDDEN");
    }
    server.clock.advance(Duration::from_secs(3 * 86_400));
    let late = Reply::from(server.client.get(server.url(&url)).send().await.unwrap()).await;
    late.assert_error(403, "FORBIDDEN");
    // A fresh message has a fresh link.
    let fresh = server
        .get(
            &format!("/message/{}", message["id"].as_str().unwrap()),
            Some(&a),
        )
        .await;
    let fresh = fresh.assert_json(200)["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fetch(&server, &fresh, None, None).await.0, 200);
}

#[tokio::test]
async fn ranges_are_served_one_at_a_time() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let bytes: Vec<u8> = (0..700_000_u32).map(|i| (i % 251) as u8).collect();
    let attachment = upload(&server, &a, "clip.mp4", "video/mp4", bytes.clone())
        .await
        .assert_json(201)
        .clone();
    let path = format!("/attachment/{}", id(&attachment));
    let (status, headers, body) = fetch(&server, &path, Some(&a), None).await;
    assert_eq!((status, body == bytes), (200, true));
    assert_eq!(headers["content-type"], "video/mp4");
    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=262140-262150", 262_140, 262_150),
        ("bytes=699990-", 699_990, 699_999),
        ("bytes=-5", 699_995, 699_999),
        ("bytes=10-2000000", 10, 699_999),
    ] {
        let (status, headers, body) = fetch(&server, &path, Some(&a), Some(range)).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(
            headers["content-range"],
            format!("bytes {first}-{last}/700000").as_str()
        );
        assert_eq!(body, bytes[first..=last], "{range}");
    }
    let (status, headers, _) = fetch(&server, &path, Some(&a), Some("bytes=700000-")).await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], "bytes */700000");
    let (status, _, body) = fetch(&server, &path, Some(&a), Some("bytes=0-1,5-6")).await;
    assert_eq!(
        (status, body.len()),
        (200, 700_000),
        "several ranges: the whole"
    );
}

#[tokio::test]
async fn a_photo_loses_its_whereabouts_and_keeps_its_orientation_and_its_image() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let original = photo();
    assert!(original.windows(5).any(|w| w == b"Canon") && original.windows(3).any(|w| w == b"GPS"));
    let attachment = upload(&server, &a, "IMG_2041.jpg", "image/jpeg", original.clone())
        .await
        .assert_json(201)
        .clone();
    assert_eq!(
        (attachment["width"].as_u64(), attachment["height"].as_u64()),
        (Some(32), Some(64)),
        "as displayed"
    );
    let (status, headers, stored) = fetch(
        &server,
        &format!("/attachment/{}", id(&attachment)),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(
        (status, &headers["content-type"]),
        (
            200,
            &"image/jpeg"
                .parse::<reqwest::header::HeaderValue>()
                .unwrap()
        )
    );
    assert_eq!(attachment["size"], stored.len());
    for gone in [&b"Canon"[..], b"GPS", b"xmpmeta", b"Paris"] {
        assert!(
            !stored.windows(gone.len()).any(|w| w == gone),
            "{}",
            String::from_utf8_lossy(gone)
        );
    }
    assert_eq!(
        scan(&stored),
        scan(&original),
        "the compressed image is the upload's"
    );
    let decoded = image::load_from_memory(&stored).unwrap();
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&stored)).unwrap();
    use image::ImageDecoder;
    assert_eq!(
        decoder.orientation().unwrap(),
        image::metadata::Orientation::Rotate90
    );
    assert_eq!((decoded.width(), decoded.height()), (64, 32));
    // Its thumbnail shows the right way up.
    let thumbnail = attachment["thumbnail_url"].as_str().unwrap();
    let (status, headers, thumb) = fetch(&server, thumbnail, None, None).await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (200, "image/jpeg")
    );
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (32, 64));
}

#[tokio::test]
async fn what_only_claims_to_be_an_image_is_a_plain_file_and_html_never_runs_inline() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let fake = upload(
        &server,
        &a,
        "x.png",
        "image/png",
        b"<script>alert(1)</script>".to_vec(),
    )
    .await;
    let fake = fake.assert_json(201).clone();
    assert_eq!(fake["type"], "application/octet-stream");
    assert!(fake.get("width").is_none() && fake.get("thumbnail_url").is_none());
    let thumb = fetch(
        &server,
        &format!("/attachment/{}/thumbnail", id(&fake)),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(thumb.0, 404);
    for (name, mime) in [
        ("page.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("x.png", "image/png"),
    ] {
        let up = upload(
            &server,
            &a,
            name,
            mime,
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
        )
        .await;
        let (_, headers, _) = fetch(
            &server,
            &format!("/attachment/{}", id(up.assert_json(201))),
            Some(&a),
            None,
        )
        .await;
        assert_eq!(
            headers["content-type"], "application/octet-stream",
            "{name}"
        );
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
    }
    for (name, why) in [
        ("", "empty"),
        ("a/b", "slash"),
        ("a\\b", "backslash"),
        ("a\u{202e}b", "format"),
        (&"n".repeat(256), "long"),
    ] {
        upload(&server, &a, name, "text/plain", b"x".to_vec())
            .await
            .assert_error(400, "BAD_REQUEST");
        let _ = why;
    }
    let count: i64 = server
        .peek()
        .query_row("SELECT count(*) FROM attachments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 4, "the refused names stored nothing");
}

#[tokio::test]
async fn too_large_is_413_before_anything_is_stored_and_a_full_disk_507() {
    let server = TestServer::start_with(|c| {
        c.max_upload_mib = 1;
        c.max_database_mib = 2;
    })
    .await;
    let (a, _) = person(&server, "ann").await;
    upload(
        &server,
        &a,
        "big.bin",
        "application/octet-stream",
        vec![1; (1 << 20) + 1],
    )
    .await
    .assert_error(413, "PAYLOAD_TOO_LARGE");
    let count = |table: &str| -> i64 {
        server
            .peek()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!((count("attachments"), count("attachment_chunks")), (0, 0));
    // Three uploads of 1 MiB, random (incompressible), overflow 2 MiB.
    let mut statuses = Vec::new();
    for i in 0..3_u32 {
        let bytes: Vec<u8> = (0..(1u32 << 20))
            .map(|j| (j.wrapping_mul(2_654_435_761).wrapping_add(i) >> 13) as u8)
            .collect();
        let reply = upload(&server, &a, "fill.bin", "application/octet-stream", bytes).await;
        statuses.push(reply.status.as_u16());
        if reply.status == 507 {
            reply.assert_error(507, "INSUFFICIENT_STORAGE");
        }
    }
    assert!(statuses.contains(&507), "{statuses:?}");
    let incomplete: i64 = server
        .peek()
        .query_row(
            "SELECT count(*) FROM attachments WHERE NOT complete",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(incomplete, 0, "nothing half-stored");
    let orphans: i64 = server.peek().query_row("SELECT count(*) FROM attachment_chunks WHERE attachment NOT IN (SELECT seq FROM attachments)", [], |r| r.get(0)).unwrap();
    assert_eq!(orphans, 0);
}

#[tokio::test]
async fn a_deleted_message_takes_its_files_bytes_out_of_the_database() {
    let mut server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let channel = create_channel(&server, &a, "general").await;
    let marker = b"ZQXJ-attachment-marker-";
    let bytes: Vec<u8> = marker.iter().copied().cycle().take(300_000).collect();
    let attachment = upload(&server, &a, "secret.bin", "application/octet-stream", bytes)
        .await
        .assert_json(201)
        .clone();
    let message = send_with(&server, &a, &channel, "", &[id(&attachment)])
        .await
        .assert_json(200)
        .clone();
    let path = format!("/message/{}", message["id"].as_str().unwrap());
    assert_eq!(
        server
            .call(Method::DELETE, &path, Some(&a), None)
            .await
            .status,
        204
    );
    assert_eq!(
        fetch(
            &server,
            &format!("/attachment/{}", id(&attachment)),
            Some(&a),
            None
        )
        .await
        .0,
        404
    );
    server.halt().await;
    let mut file = std::fs::read(&server.db_path).unwrap();
    if let Ok(wal) = std::fs::read(server.db_path.with_extension("db-wal")) {
        file.extend(wal);
    }
    assert!(
        !file.windows(marker.len()).any(|w| w == marker),
        "the file's bytes are gone"
    );
}

#[tokio::test]
async fn an_upload_no_message_takes_is_gone_after_a_day() {
    let server = TestServer::start_with(|c| c.prune_interval = azuma::Seconds::from_secs(1)).await;
    let (a, _) = person(&server, "ann").await;
    let attachment = upload(&server, &a, "n.txt", "text/plain", b"n".to_vec())
        .await
        .assert_json(201)
        .clone();
    let path = format!("/attachment/{}", id(&attachment));
    server.clock.advance(Duration::from_secs(23 * 3600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fetch(&server, &path, Some(&a), None).await.0, 200);
    server.clock.advance(Duration::from_secs(3601));
    let began = std::time::Instant::now();
    while fetch(&server, &path, Some(&a), None).await.0 == 200 {
        assert!(began.elapsed() < Duration::from_secs(10), "never pruned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fetch(&server, &path, Some(&a), None).await.0, 404);
}
