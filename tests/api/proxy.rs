//! Behind a reverse proxy: only a trusted peer's
//! X-Forwarded-For names the client, for the throttle and the logs alike.

use serde_json::json;

use crate::helpers::{Binary, Reply, client_from, register_at};

async fn wrong_login(http: &reqwest::Client, base: &str, forwarded: Option<&str>) -> Reply {
    wrong_login_as("bob", http, base, forwarded).await
}

async fn wrong_login_as(
    name: &str,
    http: &reqwest::Client,
    base: &str,
    forwarded: Option<&str>,
) -> Reply {
    let mut request = http
        .post(format!("{base}/user/login"))
        .json(&json!({"name": name, "password": "wrong"}));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    Reply::from(request.send().await.expect("login")).await
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_no_one_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--trusted-proxy", "127.0.0.2/32", "--login-attempts", "2"];
    let mut server = Binary::start(dir.path(), &args).await;
    register_at(&server.http, &server.base, "bob", "right").await;
    let proxy = client_from([127, 0, 0, 2]);
    let direct = client_from([127, 0, 0, 1]);

    // Each forwarded address has its own budget: two failures, then 429.
    for _ in 0..2 {
        wrong_login(&proxy, &server.base, Some("203.0.113.1"))
            .await
            .assert_error(403, "FORBIDDEN");
    }
    let line = server.wait_for_log(&["login failed", "203.0.113.1"]).await;
    assert!(
        line.trim_end()
            .ends_with(r#"login failed for "bob" from 203.0.113.1"#),
        "{line}"
    );
    wrong_login(&proxy, &server.base, Some("203.0.113.1"))
        .await
        .assert_error(429, "TOO_MANY_REQUESTS");
    wrong_login(&proxy, &server.base, Some("203.0.113.2"))
        .await
        .assert_error(403, "FORBIDDEN");

    // A spoofed chain: the proxy appended the real address last.
    wrong_login(&proxy, &server.base, Some("6.6.6.6, 203.0.113.9"))
        .await
        .assert_error(403, "FORBIDDEN");
    let line = server.wait_for_log(&["login failed", "203.0.113.9"]).await;
    assert!(!line.contains("6.6.6.6"), "{line}");
    let access = server
        .wait_for_log(&["request", "/user/login", "client=203.0.113.9"])
        .await;
    assert!(access.contains("status=403"), "{access}");

    // The same headers from an untrusted peer change nothing: it is 127.0.0.1.
    // (Another account: bob's own budget is spent by now.)
    register_at(&server.http, &server.base, "carol", "right").await;
    for forwarded in ["198.51.100.1", "198.51.100.2"] {
        wrong_login_as("carol", &direct, &server.base, Some(forwarded))
            .await
            .assert_error(403, "FORBIDDEN");
    }
    let line = server
        .wait_for_log(&[r#"login failed for "carol" from 127.0.0.1"#])
        .await;
    assert!(!line.contains("198.51.100"), "{line}");
    wrong_login_as("carol", &direct, &server.base, Some("198.51.100.3"))
        .await
        .assert_error(429, "TOO_MANY_REQUESTS");
}
