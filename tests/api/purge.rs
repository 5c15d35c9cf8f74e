//! Deleting a big channel: it is gone at once, its rows are purged in the
//! background, and a crash in the middle of that loses nothing else.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Binary, call_at, channel_at, client, history_at, register_at, send_at};

/// Messages in the channel that is deleted: enough that its purge takes
/// many steps (each about 5 ms).
const BIG: usize = 6000;
const SENDERS: usize = 16;

/// Rows of the deleted channel still in the file at `path`: (deleted
/// channels, their messages, tombstones, read markers, search hits).
fn leftovers(path: &std::path::Path) -> (i64, i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        count("SELECT count(*) FROM channel_rows WHERE deleted_at IS NOT NULL"),
        count("SELECT count(*) FROM messages WHERE channel NOT IN (SELECT seq FROM channels)"),
        count(
            "SELECT count(*) FROM message_tombstones
             WHERE channel NOT IN (SELECT seq FROM channels)",
        ),
        count("SELECT count(*) FROM read_markers WHERE channel NOT IN (SELECT seq FROM channels)"),
        count("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'doomed'"),
    )
}

/// `kill -9` while a channel of thousands of messages is being purged:
/// after a restart the channel is still gone, the purge completes (search
/// entries, tombstones and markers too), and the other channel has every
/// acknowledged message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_mid_purge_finishes_the_purge_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("purge.db");
    let args = ["--database", "purge.db"];
    let mut server = Binary::start(dir.path(), &args).await;
    let http = client();
    let base = server.base.clone();
    let token = register_at(&http, &base, "owner", "pw-owner-1").await;
    let big = channel_at(&http, &base, &token, "big").await;
    let kept = channel_at(&http, &base, &token, "kept").await;

    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (http, base, token, big) = (http.clone(), base.clone(), token.clone(), big.clone());
            tokio::spawn(async move {
                for i in 0..BIG / SENDERS {
                    send_at(&http, &base, &token, &big, &format!("doomed {s} {i}")).await;
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let mut kept_ids = Vec::new();
    for i in 0..30 {
        kept_ids.push(send_at(&http, &base, &token, &kept, &format!("kept {i}")).await);
    }
    // A tombstone and a read marker in the big channel, to be purged too.
    let page = history_at(&http, &base, &token, &big).await;
    assert_eq!(page.len(), BIG);
    let gone = call_at(
        &http,
        &base,
        Method::DELETE,
        &format!("/message/{}", page[0]),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(gone.status, 204);
    let read = json!({"message": page[10]});
    let marked = call_at(
        &http,
        &base,
        Method::POST,
        &format!("/channel/{big}/read"),
        Some(&token),
        Some(read),
    )
    .await;
    assert_eq!(marked.status, 204);

    let deleted = call_at(
        &http,
        &base,
        Method::DELETE,
        "/channel",
        Some(&token),
        Some(json!({"id": big})),
    )
    .await;
    assert_eq!(deleted.status, 204);
    server.child.start_kill().unwrap(); // SIGKILL, at once
    server.child.wait().await.unwrap();

    let (channels, messages, tombstones, markers, hits) = leftovers(&path);
    assert_eq!(channels, 1, "the deleted channel's row waits for its purge");
    assert!(
        messages > 0,
        "the kill came after the purge ended: the test proves nothing"
    );
    assert_eq!((tombstones, markers), (1, 1));
    // A channel of most messages is purged by rebuilding the index without
    // it: its entries go all at once, before its rows.
    assert!(
        hits == messages || hits == 0,
        "search entries go with their messages, or all before them: {hits} for {messages}"
    );

    let mut server = Binary::start(dir.path(), &args).await;
    let base = server.base.clone();
    let get = call_at(
        &http,
        &base,
        Method::GET,
        &format!("/channel/{big}"),
        Some(&token),
        None,
    )
    .await;
    get.assert_error(404, "NOT_FOUND");
    assert_eq!(get.body["detail"], format!("no channel with id {big}"));
    let search = call_at(
        &http,
        &base,
        Method::GET,
        "/message/search?q=doomed",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(search.assert_json(200), &json!([]));
    server.wait_for_log(&["deleted channels purged"]).await;
    assert_eq!(leftovers(&path), (0, 0, 0, 0, 0));
    assert_eq!(history_at(&http, &base, &token, &kept).await, kept_ids);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    conn.execute(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the search index matches the messages");
    let rebuilding: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name IN ('messages_fts_next', 'messages_fts_old')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rebuilding, 0, "no index is left half built or half emptied");
}
