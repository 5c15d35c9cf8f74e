//! Hostile clients against the real binary: a slowloris
//! trickling its headers, and a websocket barrage of broken frames. Each
//! is bounded in connections, frames and time. Also faults of the machine:
//! running out of file descriptors, a read-only database directory, a
//! write lock held by another process.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::helpers::{
    Binary, WsClient, channel_at, history_at, register_at, send_at, unprivileged,
};

/// Limits that would refuse a test's many connections from one address.
const LIFTED: [&str; 4] = [
    "--max-connections-per-address",
    "0",
    "--auth-per-minute",
    "0",
];

/// 100 connections sending their headers a byte every 50 ms cannot keep
/// the server from answering others at once, and each is closed at the
/// header deadline however much it has trickled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_cannot_hold_the_accept_loop() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &LIFTED).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut slow = Vec::new();
    for _ in 0..100 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.expect("connect");
            let started = Instant::now();
            for byte in header.iter().cycle() {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                if started.elapsed() > Duration::from_secs(60) {
                    return None;
                }
            }
            let mut rest = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
            Some(started.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..20 {
        let began = Instant::now();
        let reply = server.call(Method::GET, "/", None, None).await;
        reply.assert_json(200);
        let took = began.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "GET / took {took:?} beside a slowloris"
        );
    }
    // The header deadline (30 s by default) counts from the connection,
    // not from the last byte.
    for closed in slow {
        let after = closed
            .await
            .unwrap()
            .expect("a trickling connection closed within 60 s");
        assert!(
            after < Duration::from_secs(40),
            "closed only after {after:?}"
        );
    }
    let reply = server.call(Method::GET, "/health", None, None).await;
    reply.assert_json(200);
    server.signal("TERM");
    assert!(server.exit(Duration::from_secs(30)).await.success());
}

/// A client frame, masked as RFC 6455 wants: `fin`, `opcode`, `payload`.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mask = [0x12, 0x34, 0x56, 0x78];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A websocket opened by hand, to send frames no library would.
async fn raw_websocket(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let handshake = format!(
        "GET /init_ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        stream
            .read_exact(&mut byte)
            .await
            .expect("a handshake answer");
        answer.push(byte[0]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stream
}

/// 20 connections each send 50 frames drawn from a seeded generator:
/// binary, invalid UTF-8, fragments, oversized, ping floods, junk JSON. An
/// ordinary client beside them still gets every message promptly, and the
/// server logs no panic and keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_barrage_never_panics_or_stalls_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &LIFTED).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let token = register_at(&server.http, &server.base, "calm", "pw").await;
    let channel = server
        .call(
            Method::POST,
            "/channel",
            Some(&token),
            Some(json!({"name": "calm"})),
        )
        .await
        .assert_json(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut calm = WsClient::connect(&server.base).await;
    calm.authenticate(&token).await;

    let mut attackers = Vec::new();
    for seed in 1..=20u64 {
        let addr = addr.clone();
        attackers.push(tokio::spawn(async move {
            let mut stream = raw_websocket(&addr).await;
            let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            for _ in 0..50 {
                let bytes = match next() % 8 {
                    0 => frame(true, 0x2, b"\x00\x01binary"),
                    1 => frame(true, 0x1, &[0xff, 0xfe, 0xfd]),
                    2 => [
                        frame(false, 0x1, b"{\"type\":"),
                        frame(true, 0x0, b"\"Typing\"}"),
                    ]
                    .concat(),
                    3 => frame(false, 0x1, b"a fragment never finished"),
                    4 => frame(true, 0x1, &vec![b'x'; 200_000]),
                    5 => (0..100).flat_map(|_| frame(true, 0x9, b"ping")).collect(),
                    6 => frame(
                        true,
                        0x1,
                        br#"{"type":"Authenticate","content":{"token":"nope"}}"#,
                    ),
                    _ => frame(true, 0x1, &next().to_le_bytes()),
                };
                if stream.write_all(&bytes).await.is_err() {
                    // Closed by the server for a protocol error: fair.
                    return;
                }
            }
            let mut sink = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut sink)).await;
        }));
    }
    for i in 0..5 {
        let body = json!({"channel": channel, "content": format!("still here {i}")});
        let reply = server
            .call(Method::POST, "/message/send", Some(&token), Some(body))
            .await;
        reply.assert_json(200);
        let got = calm.next_of("Message").await;
        assert_eq!(got["content"]["content"], format!("still here {i}"));
    }
    for attacker in attackers {
        tokio::time::timeout(Duration::from_secs(60), attacker)
            .await
            .expect("each attacker done within 60 s")
            .unwrap();
    }
    server
        .call(Method::GET, "/health", None, None)
        .await
        .assert_json(200);
    server.signal("TERM");
    let lines = server.lines_until(&["stopped"]).await;
    assert!(lines.iter().all(|l| !l.contains("panicked")), "{lines:#?}");
    assert!(server.exit(Duration::from_secs(30)).await.success());
}

/// Started with 48 open files allowed, the server runs out when 100
/// clients connect: it says so about once a second (not once per try),
/// does not spin, and serves again as soon as they leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_it_backs_off_and_recovers() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 48 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_azuma"),
        ])
        .args(["--listen", "127.0.0.1:0", "--database", "fd.db"])
        .args(LIFTED)
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn azuma");
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(30), log.next_line())
            .await
            .expect("a log line within 30 s")
            .unwrap()
            .expect("azuma is running")
    };
    let mut budget = next_line().await;
    while !budget.contains("connections fit in the open files limit") {
        budget = next_line().await;
    }
    assert!(budget.contains("open_files=48"), "{budget}");
    let mut listening = next_line().await;
    while !listening.contains("listening on") {
        listening = next_line().await;
    }
    let after = listening.rsplit("http://").next().unwrap();
    let addr = after.split_whitespace().next().unwrap().to_owned();

    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(
            TcpStream::connect(&addr)
                .await
                .expect("connect (queued if not accepted)"),
        );
    }
    let pid = child.id().unwrap();
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<u64> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|f| f.parse().unwrap())
            .collect();
        fields[0] + fields[1]
    };
    while !next_line().await.contains("cannot accept connections") {}
    let (ticks, began) = (cpu(), Instant::now());
    let mut complaints = 0;
    let window = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(window);
    loop {
        tokio::select! {
            () = &mut window => break,
            line = next_line() => if line.contains("cannot accept connections") { complaints += 1 },
        }
    }
    let used = (cpu() - ticks) as f64 / 100.0;
    assert!(
        (1..=4).contains(&complaints),
        "{complaints} complaints in 3 s"
    );
    let elapsed = began.elapsed().as_secs_f64();
    assert!(
        used < elapsed / 2.0,
        "{used} s of CPU in {elapsed} s: spinning"
    );

    drop(held);
    let recovered = async {
        loop {
            if next_line().await.contains("accepting connections again") {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), recovered)
        .await
        .expect("accepting again within 30 s");
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// The database's directory made read-only while clients send (an
/// operator's `chmod`; as root the server runs as `nobody`, for whom it
/// applies): the open files stay writable, so every send is still
/// acknowledged and `/health` stays 200; the server stops cleanly and
/// starts again in the read-only directory with every acknowledged
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_directory_under_load_loses_nothing() {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().unwrap();
    let mode = |m: u32| std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(m));
    mode(0o755).unwrap();
    let args = ["--database", "ro.db"];
    let mut server = Binary::spawn(unprivileged(dir.path()), &args).await;
    let base = server.base.clone();
    let token = register_at(&server.http, &base, "writer", "pw-writer-1").await;
    let channel = channel_at(&server.http, &base, &token, "steady").await;

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Instant::now() + Duration::from_millis(1500);
    let senders: Vec<_> = (0..8)
        .map(|s| {
            let (http, base, token, channel) = (
                server.http.clone(),
                base.clone(),
                token.clone(),
                channel.clone(),
            );
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    if Instant::now() > stop {
                        return;
                    }
                    let id =
                        send_at(&http, &base, &token, &channel, &format!("steady {s} {i}")).await;
                    acknowledged.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    mode(0o555).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server
        .call(Method::GET, "/health", None, None)
        .await
        .assert_json(200);
    for sender in senders {
        sender.await.unwrap();
    }
    let before = acknowledged.lock().unwrap().len();
    assert!(before >= 20, "only {before} sends in 1.5 s");

    server.signal("TERM");
    assert!(server.exit(Duration::from_secs(10)).await.success());
    // A stop removes the WAL file where it can: here it could not.
    assert!(
        dir.path().join("ro.db-wal").exists(),
        "the directory was not read-only to the server"
    );
    let server = Binary::spawn(unprivileged(dir.path()), &args).await;
    let mut stored = history_at(&server.http, &server.base, &token, &channel).await;
    let mut acknowledged = acknowledged.lock().unwrap().clone();
    stored.sort();
    acknowledged.sort();
    assert_eq!(stored, acknowledged);
    mode(0o755).unwrap();
}

/// `/health` through the binary is 503 while another process holds the
/// database's write lock (reads still work then), and 200 again once it
/// lets go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_the_database_cannot_take_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &["--database", "held.db"]).await;
    let token = register_at(&server.http, &server.base, "alice", "pw-alice-1").await;
    let health = server.call(Method::GET, "/health", None, None).await;
    health.assert_json(200);
    let other = rusqlite::Connection::open(dir.path().join("held.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let began = Instant::now();
    let held = server.call(Method::GET, "/health", None, None).await;
    held.assert_error(503, "SERVICE_UNAVAILABLE");
    // It waited for the lock as a write would, and no longer.
    let waited = began.elapsed();
    assert!(waited >= Duration::from_secs(4), "{waited:?}");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    let channels = server
        .call(Method::GET, "/channel", Some(&token), None)
        .await;
    channels.assert_json(200);
    other.execute_batch("ROLLBACK").unwrap();
    let health = server.call(Method::GET, "/health", None, None).await;
    health.assert_json(200);
    server.signal("TERM");
    assert!(server.exit(Duration::from_secs(10)).await.success());
}
