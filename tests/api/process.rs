//! The real binary: its command line, its log, its refusals to start, and
//! a `kill -9` in the middle of a burst of registrations.

use std::collections::HashSet;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Binary, binary, client};

async fn run(cwd: &std::path::Path, args: &[&str]) -> Output {
    let mut command = binary(cwd);
    command
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("azuma exits within 30 s")
        .expect("azuma runs")
}

/// Asserts a startup failure: exit code 1 and exactly one line on stderr
/// containing `needle`. Returns that line.
#[track_caller]
fn assert_refused(output: &Output, needle: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(lines[0].starts_with("azuma: "), "{stderr}");
    assert!(lines[0].contains(needle), "{needle:?} not in {stderr}");
    lines[0].to_owned()
}

#[tokio::test]
async fn help_explains_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--help"]).await;
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--listen",
        "AZUMA_LISTEN",
        "127.0.0.1:8080",
        "--database",
        "AZUMA_DATABASE",
        "azuma.db",
        "--prune-interval",
        "[default: 60]",
        "--cors-origin",
        "AZUMA_CORS_ORIGIN",
        "--scrypt-log-n",
        "[default: 15]",
        "serve",
    ] {
        assert!(
            help.contains(needle),
            "{needle:?} missing from --help:\n{help}"
        );
    }
}

#[tokio::test]
async fn serves_on_a_new_default_database_and_logs_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &[]).await;
    assert!(
        dir.path().join("azuma.db").exists(),
        "azuma.db created in the working directory"
    );
    let response = client()
        .get(format!("{}/nope", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let line = server
        .wait_for_log(&["request", "GET", "/nope", "404"])
        .await;
    assert!(line.contains("micros="), "duration logged: {line}");
    assert!(
        !line.contains('\u{1b}'),
        "no terminal colours in a piped log: {line:?}"
    );

    // SIGTERM stops it cleanly.
    let pid = server.child.id().expect("running") as i32;
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("exits within 10 s after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn serve_subcommand_and_environment_configure_the_same_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = binary(dir.path());
    command
        .env("AZUMA_DATABASE", "from-env.db")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !dir.path().join("from-env.db").exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "database not created"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn refuses_a_file_that_is_not_an_azuma_database_and_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // Not SQLite at all.
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "dear diary, today I set up a chat server ".repeat(200),
    )
    .unwrap();
    // SQLite, but another program's.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('tea');")
        .unwrap();
    for path in [&text, &other] {
        let before = std::fs::read(path).unwrap();
        let output = run(
            dir.path(),
            &[
                "--listen",
                "127.0.0.1:0",
                "--database",
                path.to_str().unwrap(),
            ],
        )
        .await;
        assert_refused(&output, "is not an azuma database");
        assert_eq!(
            std::fs::read(path).unwrap(),
            before,
            "{} changed",
            path.display()
        );
        assert!(!path.with_extension("db-wal").exists());
    }
}

#[tokio::test]
async fn refuses_a_schema_newer_than_it_knows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    // A real azuma database first, then from the future.
    drop(Binary::start(dir.path(), &["--database", "future.db"]).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 9999).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let output = run(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--database", "future.db"],
    )
    .await;
    let line = assert_refused(&output, "schema version 9999");
    assert!(line.contains("newer"), "{line}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn refuses_a_port_in_use_and_an_unwritable_place() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run(dir.path(), &["--listen", &addr, "--database", "x.db"]).await;
    assert_refused(&output, &format!("cannot listen on {addr}"));
    assert!(
        !dir.path().join("x.db").exists(),
        "no database made when the port is taken"
    );

    let output = run(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--database",
            "no/such/dir/azuma.db",
        ],
    )
    .await;
    assert_refused(&output, "cannot open database");
}

#[tokio::test]
async fn refuses_bad_options_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--cors-origin", "localhost:5173"][..],
        &["--prune-interval", "0"][..],
        &["--listen", "nowhere"][..],
    ] {
        let output = run(dir.path(), args).await;
        assert!(!output.status.success(), "{args:?}");
        assert!(
            !dir.path().join("azuma.db").exists(),
            "{args:?} made a database"
        );
    }
    let output = run(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--scrypt-log-n", "0"],
    )
    .await;
    assert_refused(&output, "invalid scrypt cost");
}

/// `kill -9` in the middle of a burst of registrations: the database reopens
/// intact, and everyone who got a 201 can log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_during_registrations_loses_no_acknowledged_account() {
    let dir = tempfile::tempdir().unwrap();
    // 24 clients registering at full speed from one address, then 32 logins
    // at once: a harness, so the per-address limits are lifted (logins count
    // as failures while they run).
    let args = [
        "--database",
        "crash.db",
        "--auth-per-minute",
        "0",
        "--hash-queue",
        "0",
        "--login-attempts",
        "1000",
    ];
    let mut server = Binary::start(dir.path(), &args).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let http = client();
    let workers: Vec<_> = (0..24)
        .map(|worker| {
            let (http, base, acknowledged) =
                (http.clone(), server.base.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for i in 0..10_000 {
                    let name = format!("user-{worker}-{i}");
                    let sent = http
                        .post(format!("{base}/user/register"))
                        .json(&json!({"name": name, "password": format!("pw-{name}")}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => acknowledged.lock().unwrap().push(name),
                        Ok(r) => panic!("unexpected {} before the crash", r.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 300 {
        assert!(tokio::time::Instant::now() < deadline, "burst too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.start_kill().unwrap(); // SIGKILL
    server.child.wait().await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 300);

    let path = dir.path().join("crash.db");
    let check: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    let server = Binary::start(dir.path(), &args).await;
    let mut logged_in = HashSet::new();
    for batch in acknowledged.chunks(32) {
        let logins = batch.iter().map(|name| {
            http.post(format!("{}/user/login", server.base))
                .json(&json!({"name": name, "password": format!("pw-{name}")}))
                .send()
        });
        for (name, reply) in batch
            .iter()
            .zip(futures_util::future::join_all(logins).await)
        {
            assert_eq!(reply.unwrap().status(), 200, "{name} cannot log in");
            logged_in.insert(name.clone());
        }
    }
    assert_eq!(logged_in.len(), acknowledged.len());
}
