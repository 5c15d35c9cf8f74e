//! A full disk, played by a database at its size limit
//! (`--max-database-mib`, SQLite's `max_page_count` on every connection):
//! writes answer 507, nothing acknowledged is lost, reads go on, /health
//! says 503, and writes work again once space is freed.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestServer, history_at};

#[tokio::test]
async fn a_full_database_answers_507_loses_nothing_and_recovers() {
    let server = TestServer::start_with(|c| c.max_database_bytes = 1 << 20).await;
    let token = server.register("alice", "pw").await;
    let channel = crate::channel::create_channel(&server, &token, "general").await;
    let text = "full ".repeat(790);
    let mut sent = Vec::new();
    let mut refused = None;
    for i in 0..2000 {
        let body = json!({"channel": channel, "content": format!("{i} {text}")});
        let reply = server.post("/message/send", Some(&token), body).await;
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
    assert_eq!(
        history_at(&server.client, &server.base, &token, &channel).await,
        sent
    );
    let found = server.get("/message/search?q=full", Some(&token)).await;
    found.assert_json(200);
    server
        .get("/health", None)
        .await
        .assert_error(503, "SERVICE_UNAVAILABLE");
    let again = json!({"channel": channel, "content": text});
    let reply = server.post("/message/send", Some(&token), again).await;
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
    server
        .post("/message/send", Some(&token), body)
        .await
        .assert_json(200);
    server.get("/health", None).await.assert_json(200);
    let db = server.peek();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    server.stop().await;
}
