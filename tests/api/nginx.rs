//! Through a real nginx, configured with contrib/nginx's own
//! files: the API, websockets that outlive nginx's default 60 s read
//! timeout, and the throttle per real client. nginx is Debian's package;
//! CI installs it, and elsewhere these tests say loudly that they skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{Binary, Reply, WsClient, client_from, register_at};

/// A running nginx in front of an azuma.
struct Nginx {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The shipped `map` for websocket upgrades, taken from contrib's site.
fn upgrade_map(site: &str) -> String {
    let start = site
        .find("map $http_upgrade")
        .expect("the site has the upgrade map");
    let end = start + site[start..].find('}').expect("the map ends") + 1;
    site[start..end].to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// nginx on a free loopback port, proxying to `upstream` with the shipped
/// proxy settings; `None` (and a loud line) where nginx is not installed
/// outside CI.
async fn start(upstream: &str) -> Option<Nginx> {
    let Some(nginx) = nginx_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is not installed, and CI must run the nginx tests"
        );
        // Straight to stderr: the harness would swallow eprintln! in a
        // passing test, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: a test through nginx (nginx is not installed; apt-get install nginx) ***"
        );
        return None;
    };
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/nginx");
    let site = std::fs::read_to_string(contrib.join("azuma.conf")).expect("the shipped site");
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let d = dir.path().display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log;\nevents {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         {map}\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
         proxy_pass {upstream};\n      include {proxy};\n    }}\n  }}\n}}\n",
        map = upgrade_map(&site),
        upstream = upstream,
        proxy = contrib.join("azuma-proxy.conf").display(),
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("write nginx.conf");
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf_path)
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Some(Nginx {
        child,
        base,
        _dir: dir,
    })
}

#[tokio::test]
async fn the_api_websockets_and_the_throttle_work_through_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--trusted-proxy", "127.0.0.1/32", "--login-attempts", "2"];
    let mut azuma = Binary::start(dir.path(), &args).await;
    let Some(nginx) = start(&azuma.base).await else {
        return;
    };
    let http = client_from([127, 0, 0, 1]);
    let index = Reply::from(http.get(format!("{}/", nginx.base)).send().await.unwrap()).await;
    assert_eq!(index.assert_json(200)["name"], "azuma");
    let token = register_at(&http, &nginx.base, "alice", "pw").await;
    let too_big = http
        .post(format!("{}/user/register", nginx.base))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"name": "x", "password": "{}"}}"#,
            "p".repeat(70_000)
        ))
        .send()
        .await
        .unwrap();
    Reply::from(too_big)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");

    // A websocket through nginx hears a message sent through nginx.
    let mut ws = WsClient::connect(&nginx.base).await;
    ws.authenticate(&token).await;
    let channel = crate::helpers::channel_at(&http, &nginx.base, &token, "general").await;
    let sent = http
        .post(format!("{}/message/send", nginx.base))
        .bearer_auth(&token)
        .json(&json!({"channel": channel, "content": "through nginx"}))
        .send()
        .await
        .unwrap();
    let sent = Reply::from(sent).await.assert_json(200).clone();
    assert_eq!(
        ws.next_of("Message").await,
        json!({"type": "Message", "content": sent})
    );

    // Each client behind nginx has its own failed-login budget.
    let wrong = |from: [u8; 4]| {
        let base = nginx.base.clone();
        async move {
            let response = client_from(from)
                .post(format!("{base}/user/login"))
                .json(&json!({"name": "alice", "password": "wrong"}))
                .send()
                .await
                .unwrap();
            Reply::from(response).await
        }
    };
    for _ in 0..2 {
        wrong([127, 0, 0, 3]).await.assert_error(403, "FORBIDDEN");
    }
    wrong([127, 0, 0, 3])
        .await
        .assert_error(429, "TOO_MANY_REQUESTS");
    wrong([127, 0, 0, 4]).await.assert_error(403, "FORBIDDEN");
    azuma
        .wait_for_log(&[r#"login failed for "alice" from 127.0.0.4"#])
        .await;
}

#[tokio::test]
async fn a_quiet_websocket_outlives_nginxs_default_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--trusted-proxy", "127.0.0.1/32"];
    let azuma = Binary::start(dir.path(), &args).await;
    let Some(nginx) = start(&azuma.base).await else {
        return;
    };
    let http = client_from([127, 0, 0, 1]);
    let token = register_at(&http, &nginx.base, "alice", "pw").await;
    let mut ws = WsClient::connect(&nginx.base).await;
    ws.authenticate(&token).await;
    ws.next_of("Status").await; // alice, online
    // Longer than nginx's default 60 s: azuma's pings (answered while we
    // read) keep the connection, and the shipped timeouts allow it.
    ws.silent_for(Duration::from_secs(65)).await;
    let channel = crate::helpers::channel_at(&http, &nginx.base, &token, "late").await;
    let created = ws.next_of("ChannelCreated").await;
    assert_eq!(created["content"]["id"], channel.as_str());
}
