//! A full disk, played by a database at its size limit
//! (`--max-database-mib`, SQLite's `max_page_count` on every connection),
//! through the binary: writes answer 507, nothing acknowledged is lost,
//! reads go on, /health says 503, and writes work again once space is
//! freed.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Binary, channel_at, history_at, register_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_answers_507_loses_nothing_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--database", "full.db", "--max-database-mib", "1"];
    let mut server = Binary::start(dir.path(), &args).await;
    let (http, base) = (server.http.clone(), server.base.clone());
    let token = register_at(&http, &base, "alice", "pw-alice-1").await;
    let channel = channel_at(&http, &base, &token, "general").await;
    let text = "full ".repeat(790);
    let mut sent = Vec::new();
    let mut refused = None;
    for i in 0..2000 {
        let body = json!({"channel": channel, "content": format!("{i} {text}")});
        let reply = server
            .call(Method::POST, "/message/send", Some(&token), Some(body))
            .await;
        if reply.status == 507 {
            refused = Some(reply);
            break;
        }
        reply.assert_json(200);
        sent.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    let refused = refused.expect("the database filled up within 2000 messages");
    refused.assert_error(507, "INSUFFICIENT_STORAGE");
    assert!(sent.len() > 10, "only {} messages fit", sent.len());

    // Every acknowledged message is there, in order; reads go on.
    assert_eq!(history_at(&http, &base, &token, &channel).await, sent);
    let found = server
        .call(Method::GET, "/message/search?q=full", Some(&token), None)
        .await;
    found.assert_json(200);
    let health = server.call(Method::GET, "/health", None, None).await;
    health.assert_error(503, "SERVICE_UNAVAILABLE");
    let again = json!({"channel": channel, "content": text});
    let reply = server
        .call(Method::POST, "/message/send", Some(&token), Some(again))
        .await;
    reply.assert_error(507, "INSUFFICIENT_STORAGE");

    // Freeing space (deleting messages) lets writes through again.
    let mut freed = 0;
    for id in sent.iter().take(40) {
        let reply = server
            .call(
                Method::DELETE,
                &format!("/message/{id}"),
                Some(&token),
                None,
            )
            .await;
        if reply.status == 204 {
            freed += 1;
        }
    }
    assert!(freed > 0, "no message could be deleted");
    let body = json!({"channel": channel, "content": "room again"});
    let reply = server
        .call(Method::POST, "/message/send", Some(&token), Some(body))
        .await;
    reply.assert_json(200);
    let health = server.call(Method::GET, "/health", None, None).await;
    health.assert_json(200);
    server.signal("TERM");
    assert!(server.exit(Duration::from_secs(10)).await.success());
    let db = rusqlite::Connection::open(dir.path().join("full.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
