//! Running it for real, through the binary: shutdown under load, backups
//! while writing, admin commands beside a running server, login throttling,
//! closed registration, and `kill -9` in the middle of message bursts.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::helpers::{
    Binary, Reply, WsClient, binary, channel_at, client, history_at, login_at, register_at,
};

/// Senders posting messages until told to stop or the server goes away;
/// the ids of every message acknowledged with a 200.
pub struct Burst {
    acknowledged: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    senders: Vec<tokio::task::JoinHandle<()>>,
}

impl Burst {
    pub fn start(base: &str, token: &str, channel: &str, senders: usize) -> Burst {
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let senders = (0..senders)
            .map(|sender| {
                let (url, token, channel) = (
                    format!("{base}/message/send"),
                    token.to_owned(),
                    channel.to_owned(),
                );
                let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
                tokio::spawn(async move {
                    let http = client();
                    for i in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let sent = http
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&json!({"channel": channel, "content": format!("{sender}-{i}")}))
                            .send()
                            .await;
                        let Ok(response) = sent else { return };
                        if response.status() != 200 {
                            return; // 503 while stopping, say: not acknowledged
                        }
                        let Ok(message) = response.json::<serde_json::Value>().await else {
                            return;
                        };
                        let id = message["id"].as_str().expect("an id").to_owned();
                        acknowledged.lock().unwrap().push(id);
                    }
                })
            })
            .collect();
        Burst {
            acknowledged,
            stop,
            senders,
        }
    }

    pub fn count(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    pub fn acknowledged(&self) -> Vec<String> {
        self.acknowledged.lock().unwrap().clone()
    }

    pub async fn until(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.count() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} messages in 60 s",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for sender in self.senders {
            sender.await.expect("sender");
        }
        self.acknowledged.lock().unwrap().clone()
    }
}

pub fn integrity(path: &Path) -> String {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

pub async fn run_command(cwd: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut command = binary(cwd);
    command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the command ends within 60 s")
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &["--database", "d.db"]).await;
    let http = client();
    let token = register_at(&http, &server.base, "azuma", "pw").await;
    let channel = channel_at(&http, &server.base, &token, "busy").await;
    let mut ws = WsClient::connect(&server.base).await;
    ws.authenticate(&token).await;

    let burst = Burst::start(&server.base, &token, &channel, 8);
    burst.until(150).await;
    server.signal("TERM");
    let (code, reason, _) = ws.closed().await;
    assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    let status = server.exit(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
    let acknowledged = burst.finish().await;

    // The WAL was checkpointed into the file.
    let wal = dir.path().join("d.db-wal");
    assert!(
        !wal.exists() || wal.metadata().unwrap().len() == 0,
        "WAL left behind"
    );
    assert_eq!(integrity(&dir.path().join("d.db")), "ok");

    let server = Binary::start(dir.path(), &["--database", "d.db"]).await;
    let token = login_at(&http, &server.base, "azuma", "pw").await;
    let stored: HashSet<String> = history_at(&http, &server.base, &token, &channel)
        .await
        .into_iter()
        .collect();
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged messages lost: {missing:?}",
        missing.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_write_burst_holds_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &["--database", "live.db"]).await;
    let http = client();
    let token = register_at(&http, &server.base, "azuma", "pw").await;
    let channel = channel_at(&http, &server.base, &token, "busy").await;
    let burst = Burst::start(&server.base, &token, &channel, 6);
    burst.until(200).await;

    let before = burst.acknowledged();
    let (ok, _, stderr) = run_command(
        dir.path(),
        &["backup", "--database", "live.db", "copy.db"],
        "",
    )
    .await;
    assert!(ok, "{stderr}");
    let during = burst.count();
    burst.until(during + 50).await; // the server kept writing
    burst.finish().await;

    let copy = dir.path().join("copy.db");
    assert_eq!(integrity(&copy), "ok");
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM messages").unwrap();
    let stored: HashSet<uuid::Uuid> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for id in &before {
        assert!(
            stored.contains(&uuid::Uuid::parse_str(id).unwrap()),
            "{id} missing from the backup"
        );
    }
    // The copy is a database azuma serves.
    drop(stmt);
    drop(conn);
    let restored = Binary::start(dir.path(), &["--database", "copy.db"]).await;
    let token = login_at(&http, &restored.base, "azuma", "pw").await;
    assert!(
        history_at(&http, &restored.base, &token, &channel)
            .await
            .len()
            >= before.len()
    );

    // Never over an existing file.
    let (ok, _, stderr) = run_command(
        dir.path(),
        &["backup", "--database", "live.db", "copy.db"],
        "",
    )
    .await;
    assert!(!ok);
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_work_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &["--database", "d.db"]).await;
    let http = client();
    let base = server.base.clone();
    let user = |args: &[&str]| {
        let mut all = vec![
            "user",
            "--database",
            "d.db",
            "--scrypt-log-n",
            "4",
            "--scrypt-p",
            "1",
        ];
        all.extend_from_slice(args);
        all.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>, stdin: &'static str| {
        let dir = dir.path().to_owned();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_command(&dir, &args, stdin).await
        }
    };
    register_at(&http, &base, "alice", "pw").await;

    let (ok, out, err) = run(user(&["add", "bob", "--password-stdin"]), "bob's pw\n").await;
    assert!(ok && out.starts_with("added bob"), "{out} {err}");
    let bob = login_at(&http, &base, "bob", "bob's pw").await;

    let (ok, _, err) = run(user(&["add", "bob", "--password-stdin"]), "x\n").await;
    assert!(!ok && err.contains("taken"), "{err}");

    let (ok, out, _) = run(user(&["list"]), "").await;
    assert!(ok);
    assert!(out.lines().any(|l| l.starts_with("alice ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("bob ")), "{out}");

    let (ok, _, err) = run(user(&["passwd", "bob", "--password-stdin"]), "new pw\n").await;
    assert!(ok, "{err}");
    let me = http
        .get(format!("{base}/user/self"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    Reply::from(me).await.assert_error(401, "UNAUTHORIZED");
    login_at(&http, &base, "bob", "new pw").await;

    let (ok, _, err) = run(user(&["passwd", "nobody", "--password-stdin"]), "x\n").await;
    assert!(!ok && err.contains("no user named"), "{err}");

    let (ok, _, err) = run(user(&["remove", "bob"]), "").await;
    assert!(ok, "{err}");
    let login = http
        .post(format!("{base}/user/login"))
        .json(&json!({"name": "bob", "password": "new pw"}))
        .send()
        .await
        .unwrap();
    Reply::from(login).await.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn closed_registration_leaves_accounts_to_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(
        dir.path(),
        &["--database", "d.db", "--registration", "closed"],
    )
    .await;
    let http = client();
    let refused = http
        .post(format!("{}/user/register", server.base))
        .json(&json!({"name": "eve", "password": "pw"}))
        .send()
        .await
        .unwrap();
    Reply::from(refused).await.assert_error(403, "FORBIDDEN");
    let (ok, _, err) = run_command(
        dir.path(),
        &[
            "user",
            "add",
            "friend",
            "--password-stdin",
            "--database",
            "d.db",
            "--scrypt-log-n",
            "4",
        ],
        "pw\n",
    )
    .await;
    assert!(ok, "{err}");
    login_at(&http, &server.base, "friend", "pw").await;
}

#[tokio::test]
async fn health_answers_while_the_database_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]).await;
    let reply = Reply::from(
        client()
            .get(format!("{}/health", server.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.assert_json(200), &json!({"status": "ok"}));
}

#[tokio::test]
async fn failed_logins_are_throttled_logged_and_forgiven() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(
        dir.path(),
        &["--login-attempts", "2", "--login-cooldown", "1"],
    )
    .await;
    let http = client();
    register_at(&http, &server.base, "bob", "right").await;
    let url = format!("{}/user/login", server.base);
    let login = |password: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(url)
                .json(&json!({"name": "bob", "password": password}))
                .send()
                .await
                .unwrap();
            Reply::from(response).await
        }
    };
    login("wrong").await.assert_error(403, "FORBIDDEN");
    let line = server.wait_for_log(&["login failed"]).await;
    assert!(
        line.trim_end()
            .ends_with(r#"login failed for "bob" from 127.0.0.1"#),
        "{line}"
    );
    // Named by its request, as README's example shows it.
    let named = r#"method=POST path="/user/login"}: azuma::routes::session: login failed"#;
    assert!(line.contains(" WARN request{id="), "{line}");
    assert!(line.contains(named), "{line}");
    login("wrong").await.assert_error(403, "FORBIDDEN");
    // The budget is spent: even the right password waits.
    let throttled = login("right").await;
    throttled.assert_error(429, "TOO_MANY_REQUESTS");
    assert_eq!(throttled.header("retry-after"), Some("1"));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = login("right").await;
    reply.assert_json(200);
    // Unknown names are failures too, from this address.
    let unknown = http
        .post(format!("{}/user/login", server.base))
        .json(&json!({"name": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    Reply::from(unknown).await.assert_error(404, "NOT_FOUND");
    server
        .wait_for_log(&[r#"login failed for "nobody" from 127.0.0.1"#])
        .await;
}

#[tokio::test]
async fn an_account_is_throttled_whatever_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(
        dir.path(),
        &["--login-attempts", "2", "--login-cooldown", "60"],
    )
    .await;
    let http = client();
    register_at(&http, &server.base, "bob", "right").await;
    // Four failures (the account's budget, twice an address's) from four
    // addresses of the loopback network.
    for last in 2..=6u8 {
        let from = crate::helpers::builder()
            .no_proxy()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap();
        let reply = Reply::from(
            from.post(format!("{}/user/login", server.base))
                .json(&json!({"name": "bob", "password": "wrong"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        if last <= 5 {
            reply.assert_error(403, "FORBIDDEN");
        } else {
            reply.assert_error(429, "TOO_MANY_REQUESTS");
            let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
    }
}

/// `kill -9` during bursts of message sends from many clients: after each
/// restart every acknowledged message is in the history and the file is
/// intact. `AZUMA_CRASH_RUNS` sets how many crashes (default 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_during_message_bursts_loses_no_acknowledged_message() {
    let runs: usize = std::env::var("AZUMA_CRASH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let mut server = Binary::start(dir.path(), &["--database", "crash.db"]).await;
    let token = register_at(&http, &server.base, "azuma", "pw").await;
    let channel = channel_at(&http, &server.base, &token, "crash").await;
    let mut acknowledged: Vec<String> = Vec::new();
    for run in 0..runs {
        let token = login_at(&http, &server.base, "azuma", "pw").await;
        let burst = Burst::start(&server.base, &token, &channel, 16);
        burst.until(100 + 37 * run).await;
        server.signal("KILL");
        server.exit(Duration::from_secs(10)).await;
        acknowledged.extend(burst.finish().await);

        assert_eq!(integrity(&dir.path().join("crash.db")), "ok", "run {run}");
        server = Binary::start(dir.path(), &["--database", "crash.db"]).await;
        let token = login_at(&http, &server.base, "azuma", "pw").await;
        let stored: HashSet<String> = history_at(&http, &server.base, &token, &channel)
            .await
            .into_iter()
            .collect();
        let missing = acknowledged
            .iter()
            .filter(|id| !stored.contains(*id))
            .count();
        assert_eq!(
            missing,
            0,
            "run {run}: {missing} of {} acknowledged messages lost",
            acknowledged.len()
        );
    }
}

#[tokio::test]
async fn a_second_signal_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &[]).await;
    // A request in flight that never finishes its body holds the graceful
    // shutdown open.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stuck = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stuck
        .write_all(b"POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal waits for the request"
    );
    server.signal("INT");
    let status = server.exit(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(1), "{status:?}");
    drop(stuck);
}
