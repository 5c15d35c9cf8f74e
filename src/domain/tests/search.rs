//! Search over a real index: what is found once indexed, in which
//! channel, after edits and deletes, and merging the index.

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::clock::Timestamp;
use crate::domain::error::Refusal;
use crate::domain::messages;
use crate::domain::search::*;
use crate::domain::testing::{self, TestDb, count, send};

/// The ids `q` finds, newest first, in `channel` if given.
fn find(conn: &Connection, q: &str, channel: Option<&Uuid>) -> Vec<Uuid> {
    let query = Query::try_from(q.to_owned()).unwrap();
    search(conn, &Uuid::nil(), &query, channel, None, 100)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect()
}

#[test]
fn a_message_is_found_once_indexed() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let channel = testing::channel(&t.conn, author, "general");
    let (older, first) = testing::send_at(&t.conn, &channel, author, "Crème brûlée");
    let (newer, last) = testing::send_at(&t.conn, &channel, author, "creme anglaise");
    assert!(find(&t.conn, "creme", None).is_empty(), "not indexed yet");
    assert!(!testing::index_is_consistent(&t.conn));
    index(&t.conn, Index::Live, first.seq, last.seq).unwrap();
    assert!(testing::index_is_consistent(&t.conn));
    // Newest first; case and accents folded; the last word a prefix.
    assert_eq!(find(&t.conn, "CREME", None), [newer.id, older.id]);
    assert_eq!(find(&t.conn, "creme br", None), [older.id]);
    assert!(find(&t.conn, "custard", None).is_empty());
}

#[test]
fn a_channel_filter_keeps_to_its_channel() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let here = testing::channel(&t.conn, author, "here");
    let there = testing::channel(&t.conn, author, "there");
    let mine = send(&t.conn, &here, author, "shared word");
    let theirs = send(&t.conn, &there, author, "shared word");
    assert_eq!(find(&t.conn, "shared", Some(&here.id)), [mine.id]);
    assert_eq!(find(&t.conn, "shared", Some(&there.id)), [theirs.id]);
    assert_eq!(find(&t.conn, "shared", None), [theirs.id, mine.id]);
    let query = Query::try_from("shared".to_owned()).unwrap();
    let unknown = search(
        &t.conn,
        &Uuid::nil(),
        &query,
        Some(&Uuid::new_v4()),
        None,
        10,
    );
    assert!(matches!(unknown, Err(Refusal::NotFound(_))));
}

#[test]
fn edits_and_deletes_keep_the_index_in_step() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let channel = testing::channel(&t.conn, author, "general");
    let edited = send(&t.conn, &channel, author, "original");
    let deleted = send(&t.conn, &channel, author, "doomed");
    messages::edit(
        &t.conn,
        &edited.id,
        &author,
        testing::text("revised"),
        Timestamp(5),
    )
    .unwrap();
    messages::delete(&t.conn, &deleted.id, &author).unwrap();
    assert!(find(&t.conn, "original", None).is_empty());
    assert_eq!(find(&t.conn, "revised", None), [edited.id]);
    assert!(find(&t.conn, "doomed", None).is_empty());
    assert!(testing::index_is_consistent(&t.conn));
}

/// Segments in the index.
fn segments(conn: &Connection) -> i64 {
    count(conn, "SELECT count(DISTINCT segid) FROM messages_fts_idx")
}

#[test]
fn merge_runs_until_it_changes_nothing_and_leaves_one_segment() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let channel = testing::channel(&t.conn, author, "general");
    // One statement, one segment; of a few pages each.
    let sent: Vec<_> = (0..20)
        .map(|i| {
            let words: Vec<String> = (0..200).map(|j| format!("w{i}x{j}")).collect();
            let text = format!("word{i} common {}", words.join(" "));
            send(&t.conn, &channel, author, &text)
        })
        .collect();
    assert!(segments(&t.conn) > 1, "{}", segments(&t.conn));
    let mut steps = 0;
    loop {
        let before = t.conn.total_changes();
        merge(&t.conn, 1).unwrap();
        // The command counts as one change; any work, as more.
        if t.conn.total_changes() - before < 2 {
            break;
        }
        steps += 1;
        assert!(steps < 100, "merge never settles");
    }
    assert!(steps > 1, "merged in {steps} steps");
    assert_eq!(segments(&t.conn), 1);
    assert_eq!(find(&t.conn, "common", None).len(), sent.len());
    assert_eq!(find(&t.conn, "word7", None), [sent[7].id]);
    assert!(testing::index_is_consistent(&t.conn));
}
