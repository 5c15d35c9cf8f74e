//! What edits and deletes leave behind: the search index follows edits,
//! and a deleted channel is answered at once and purged in steps.

use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::hooks::Action;
use uuid::Uuid;

use super::{changed, hold_lock, let_tasks_queue, release, start, start_on};
use crate::domain::channels;
use crate::domain::clock::Timestamp;
use crate::domain::messages::Message;
use crate::domain::search::{Query, search};
use crate::domain::testing::{self, TestDb, text};

/// The messages `q` finds.
fn find(conn: &Connection, q: &str) -> Vec<Message> {
    let query = Query::try_from(q.to_owned()).unwrap();
    search(conn, &Uuid::nil(), &query, None, None, 100).unwrap()
}

/// Waits until no deleted channel has rows left.
async fn purged(conn: &Connection) {
    let began = Instant::now();
    while crate::domain::purge::purge_pending(conn).unwrap() {
        assert!(began.elapsed() < Duration::from_secs(30), "never purged");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn an_edit_right_after_its_send_leaves_only_the_new_text_searchable() {
    let h = start();
    let author = Uuid::new_v4();
    let channel = h.channel(author, "general").await;
    for i in 0..10 {
        let sent = h
            .writer
            .send(channel.id, author, text(&format!("draft{i}")))
            .await
            .unwrap();
        // The edit at once, between new messages of the same batch (which
        // must be indexed before it, and after it).
        let lock = hold_lock(&h.t);
        let w = h.writer.clone();
        let batch = tokio::spawn(async move {
            tokio::join!(
                w.probe(),
                w.send(channel.id, author, text(&format!("before{i}"))),
                w.edit(sent.id, author, text(&format!("final{i}"))),
                w.send(channel.id, author, text(&format!("after{i}"))),
            )
        });
        let_tasks_queue().await;
        release(lock);
        let (probe, before, edited, after) = batch.await.unwrap();
        probe.unwrap();
        before.unwrap();
        after.unwrap();
        assert_eq!(edited.unwrap().content, format!("final{i}"));
    }
    assert!(find(&h.t.conn, "draft").is_empty(), "the old text is gone");
    for word in ["final", "before", "after"] {
        let found = find(&h.t.conn, word);
        assert_eq!(found.len(), 10, "{word}: each once");
        assert!(found.iter().all(|m| m.content.starts_with(word)));
    }
    assert!(testing::index_is_consistent(&h.t.conn));
}

#[tokio::test]
async fn a_deleted_channel_is_answered_at_once_and_purged_in_steps() {
    let h = start();
    let owner = Uuid::new_v4();
    let kept = h.channel(owner, "kept").await;
    let doomed = h.channel(owner, "doomed").await;
    // Fewer go than stay: their entries are deleted (see the next test).
    h.send_many(&kept, owner, 501, 1).await;
    h.send_many(&doomed, owner, 500, 50).await;
    let before = h.log.commits();

    h.writer.delete_channel(doomed.id, owner).await.unwrap();
    let listed: Vec<Uuid> = channels::list(&h.t.conn, &owner)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, [kept.id], "hidden from the answer on");
    purged(&h.t.conn).await;

    let transactions = h.log.since(before);
    let deleting = &transactions[0];
    assert_eq!(changed(deleting, Action::SQLITE_UPDATE, "channel_rows"), 1);
    assert_eq!(changed(deleting, Action::SQLITE_DELETE, "messages"), 0);
    let steps: Vec<usize> = transactions
        .iter()
        .map(|tx| changed(tx, Action::SQLITE_DELETE, "messages"))
        .filter(|&purged| purged > 0)
        .collect();
    assert!(steps.len() >= 2, "purged in one step: {steps:?}");
    assert_eq!(steps.iter().sum::<usize>(), 500);
    assert_eq!(h.count("SELECT count(*) FROM messages"), 501);
    assert_eq!(h.count("SELECT count(*) FROM channel_rows"), 1);
    assert_eq!(find(&h.t.conn, "bulk").len(), 100, "as many as asked");
    assert!(find(&h.t.conn, "m0w49").is_empty());
    // The purged messages held the highest seqs: new ones still go above.
    let next = h.writer.send(kept.id, owner, text("next")).await.unwrap();
    assert_eq!(testing::seq_of(&h.t.conn, &next.id), 1002);
}

#[tokio::test]
async fn a_channel_of_most_messages_is_purged_by_a_rebuild_of_the_index() {
    let h = start();
    let owner = Uuid::new_v4();
    let kept = h.channel(owner, "kept").await;
    let doomed = h.channel(owner, "doomed").await;
    h.send_many(&kept, owner, 20, 1).await;
    h.send_many(&doomed, owner, 2000, 20).await;
    let before = h.log.commits();

    h.writer.delete_channel(doomed.id, owner).await.unwrap();
    purged(&h.t.conn).await;

    let transactions = &h.log.since(before)[1..];
    // The first and last of the transactions that made `action` on `table`.
    let span = |action, table| {
        let touched: Vec<usize> = (0..transactions.len())
            .filter(|&i| changed(&transactions[i], action, table) > 0)
            .collect();
        (
            *touched.first().expect(table),
            *touched.last().expect(table),
        )
    };
    let copied = span(Action::SQLITE_INSERT, "messages_fts_next_data");
    let emptied = span(Action::SQLITE_DELETE, "messages_fts_old_data");
    let deleted = span(Action::SQLITE_DELETE, "messages");
    // Copied, then the old index emptied, then the rows deleted, in steps.
    assert!(copied.1 < emptied.0 && emptied.0 <= deleted.0 && deleted.0 < deleted.1);
    let rows: usize = transactions
        .iter()
        .map(|tx| changed(tx, Action::SQLITE_DELETE, "messages"))
        .sum();
    assert_eq!(rows, 2000);
    assert_eq!(find(&h.t.conn, "bulk").len(), 20);
    assert!(find(&h.t.conn, "m0w19").is_empty());
    assert!(testing::index_is_consistent(&h.t.conn));
}

#[tokio::test]
async fn a_purge_left_unfinished_goes_on_at_start() {
    let t = TestDb::new();
    let owner = Uuid::new_v4();
    let channel = testing::channel(&t.conn, owner, "doomed");
    for i in 0..20 {
        testing::send(&t.conn, &channel, owner, &format!("m{i}"));
    }
    channels::delete_owned(&t.conn, &channel.id, &owner, Timestamp(3)).unwrap();
    // No write needed: the writer starts purging by itself.
    let h = start_on(t);
    purged(&h.t.conn).await;
    assert_eq!(h.count("SELECT count(*) FROM messages"), 0);
    assert_eq!(h.count("SELECT count(*) FROM channel_rows"), 0);
}
