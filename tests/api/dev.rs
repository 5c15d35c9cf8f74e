//! `azuma dev`, through the real binary: the demo logs in and has history,
//! CORS answers pages on this machine, only loopback is served, and the temporary
//! database is gone after SIGTERM.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, header};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{binary, call_at, client, raw};
use crate::http_limits::assert_raw_error;

/// Reads the summary `azuma dev` prints: its base URL and database file.
async fn summary(stdout: tokio::process::ChildStdout) -> (String, PathBuf) {
    let mut lines = BufReader::new(stdout).lines();
    let (mut base, mut database) = (None, None);
    let read = async {
        while let Some(line) = lines.next_line().await.expect("stdout") {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["API", url, ..] => base = Some(url.trim_end_matches('/').to_owned()),
                ["Database", path] => database = Some(PathBuf::from(path)),
                _ => {}
            }
            if base.is_some() && database.is_some() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the summary within 30 s");
    // Read the rest too: the pipe stays open as long as azuma runs.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (
        base.expect("an API line"),
        database.expect("a Database line"),
    )
}

#[tokio::test]
async fn dev_serves_a_demo_on_a_temporary_database_removed_on_exit() {
    let cwd = tempfile::tempdir().unwrap();
    let mut child = binary(cwd.path())
        .args(["dev", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn azuma dev");
    let (base, database) = summary(child.stdout.take().unwrap()).await;
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(database.exists(), "{}", database.display());
    let http = client();

    let mut tokens = Vec::new();
    for name in ["alice", "bob"] {
        let body = json!({"name": name, "password": "azuma"});
        let reply = call_at(&http, &base, Method::POST, "/user/login", None, Some(body)).await;
        reply.assert_json(200);
        tokens.push(reply.token());
    }
    let channels = call_at(
        &http,
        &base,
        Method::GET,
        "/channel",
        Some(&tokens[0]),
        None,
    )
    .await;
    let names: Vec<&str> = channels
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["general", "random"]);
    for channel in channels.body.as_array().unwrap() {
        let path = format!("/channel/{}/messages", channel["id"].as_str().unwrap());
        let history = call_at(&http, &base, Method::GET, &path, Some(&tokens[1]), None).await;
        let history = history.body.as_array().unwrap().clone();
        assert!(history.len() >= 2, "{history:?}");
        if channel["name"] == "general" {
            let first = history[0]["content"].as_str().unwrap();
            assert!(
                first.starts_with("Welcome!"),
                "the conversation in order: {first}"
            );
        }
    }

    // CORS answers pages on this machine, preflight included.
    let origin = "http://localhost:5173";
    let preflight = http
        .request(Method::OPTIONS, format!("{base}/channel"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        origin
    );
    let listed = http
        .get(format!("{base}/channel"))
        .bearer_auth(&tokens[0])
        .header(header::ORIGIN, "https://127.0.0.1:8443")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://127.0.0.1:8443"
    );

    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits within 30 s after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(!database.exists(), "{} is left", database.display());
    assert!(
        !database.parent().unwrap().exists(),
        "its directory is left"
    );
}

#[tokio::test]
async fn dev_refuses_to_listen_beyond_loopback() {
    let cwd = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8080"] {
        let out = binary(cwd.path())
            .args(["dev", "--listen", listen])
            .stderr(Stdio::piped())
            .output()
            .await
            .expect("run azuma dev");
        assert!(!out.status.success(), "{listen} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not a loopback address"), "{stderr}");
    }
}

/// Any website the developer visits could script `azuma dev` (its demo
/// password is public): only pages served from this machine get CORS, and
/// only loopback names are served, so a hostile name that resolves to
/// 127.0.0.1 (DNS rebinding) is refused.
#[tokio::test]
async fn dev_answers_only_pages_and_names_on_this_machine() {
    let cwd = tempfile::tempdir().unwrap();
    let mut child = binary(cwd.path())
        .args(["dev", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn azuma dev");
    let (base, _) = summary(child.stdout.take().unwrap()).await;
    let http = client();
    let preflight = |origin: &'static str| {
        http.request(Method::OPTIONS, format!("{base}/user/login"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .send()
    };
    for origin in ["http://evil.example", "http://localhost.evil.example"] {
        let refused = preflight(origin).await.unwrap();
        let allowed = refused.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        assert_eq!(allowed, None, "{origin}");
    }
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
    ] {
        let answered = preflight(origin).await.unwrap();
        assert_eq!(answered.status(), 200, "{origin}");
        assert_eq!(
            answered.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            origin
        );
    }

    let port = base.rsplit(':').next().unwrap();
    let get = |host: String| format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    for host in [
        "evil.example",
        "localhost.evil.example",
        "127.0.0.1.evil.example",
    ] {
        let answer = raw(&base, get(format!("{host}:{port}")).as_bytes(), WAIT).await;
        assert_raw_error(&answer, 403, "FORBIDDEN");
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
    ] {
        let answer = raw(&base, get(host.clone()).as_bytes(), WAIT).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{host}: {answer}");
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

const WAIT: Duration = Duration::from_secs(5);
