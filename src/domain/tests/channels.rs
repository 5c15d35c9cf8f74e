//! Channels: creation order, deleting (refused, or hidden at once), and
//! the purge of a deleted channel's rows in steps.

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::channels::*;
use crate::domain::clock::Timestamp;
use crate::domain::error::Refusal;
use crate::domain::messages;
use crate::domain::purge::{Purged, purge_pending, purge_some};
use crate::domain::testing::{self, TestDb, count, send};

#[test]
fn lists_in_creation_order_not_by_time() {
    let t = TestDb::new();
    let owner = Uuid::new_v4();
    let mut names = Vec::new();
    for (name, at) in [("b", 30), ("a", 10), ("c", 20)] {
        let mut channel = testing::new_channel(owner, name);
        channel.created_at = Timestamp(at);
        insert(&t.conn, &channel, None).unwrap();
        names.push(name);
    }
    let listed: Vec<String> = list(&t.conn, &owner)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(listed, names);
    let first = &list(&t.conn, &owner).unwrap()[0];
    let loaded = load(&t.conn, &owner, &first.id).unwrap().unwrap();
    assert_eq!((loaded.name.as_str(), loaded.owner), ("b", owner));
    assert_eq!(owned_by(&t.conn, &owner).unwrap(), 3);
}

#[test]
fn delete_owned_refuses_unknown_and_other_users() {
    let t = TestDb::new();
    let owner = Uuid::new_v4();
    let channel = testing::channel(&t.conn, owner, "general");
    let unknown = Uuid::new_v4();
    assert!(matches!(
        delete_owned(&t.conn, &unknown, &owner, Timestamp(5)),
        Err(Refusal::NotFound(_))
    ));
    assert!(matches!(
        delete_owned(&t.conn, &channel.id, &Uuid::new_v4(), Timestamp(5)),
        Err(Refusal::Forbidden(_))
    ));
    assert!(
        load(&t.conn, &owner, &channel.id).unwrap().is_some(),
        "still there"
    );
    assert!(!purge_pending(&t.conn).unwrap());
}

#[test]
fn a_deleted_channel_is_hidden_at_once_and_its_rows_stay() {
    let t = TestDb::new();
    let owner = Uuid::new_v4();
    let kept = testing::channel(&t.conn, owner, "kept");
    let gone = testing::channel(&t.conn, owner, "gone");
    send(&t.conn, &gone, owner, "hello");
    delete_owned(&t.conn, &gone.id, &owner, Timestamp(5)).unwrap();

    // For every reader, not only the connection that deleted it.
    for conn in [&t.conn, &t.connection()] {
        let ids: Vec<Uuid> = list(conn, &owner).unwrap().iter().map(|c| c.id).collect();
        assert_eq!(ids, [kept.id]);
    }
    assert!(load(&t.conn, &owner, &gone.id).unwrap().is_none());
    assert_eq!(
        seen(&t.conn, &owner, &gone.id).unwrap().map(|s| s.seq),
        None
    );
    assert_eq!(owned_by(&t.conn, &owner).unwrap(), 1);
    // Deleting it again: it is not there any more.
    assert!(matches!(
        delete_owned(&t.conn, &gone.id, &owner, Timestamp(6)),
        Err(Refusal::NotFound(_))
    ));
    // Its rows wait for the purge.
    assert_eq!(count(&t.conn, "SELECT count(*) FROM channel_rows"), 2);
    assert_eq!(count(&t.conn, "SELECT count(*) FROM messages"), 1);
    assert!(purge_pending(&t.conn).unwrap());
}

/// Rows of channel `seq` in `table`.
fn rows(conn: &Connection, table: &str, seq: i64) -> i64 {
    conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE channel = ?1"),
        [seq],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn purge_some_goes_in_steps_until_nothing_is_left() {
    let t = TestDb::new();
    let owner = Uuid::new_v4();
    let kept = testing::channel(&t.conn, owner, "kept");
    let gone = testing::channel(&t.conn, owner, "gone");
    let gone_seq = seen(&t.conn, &owner, &gone.id)
        .unwrap()
        .map(|s| s.seq)
        .unwrap();
    let kept_message = send(&t.conn, &kept, owner, "purgeword kept");
    // More messages stay than go: the purge deletes the entries (a purge
    // of most of the index rebuilds it, see tests/reindex.rs).
    for i in 0..40 {
        send(&t.conn, &kept, owner, &format!("other {i}"));
    }
    let mut sent = Vec::new();
    for i in 0..40 {
        sent.push(send(&t.conn, &gone, owner, &format!("purgeword {i}")));
    }
    messages::delete(&t.conn, &sent[0].id, &owner).unwrap();
    crate::domain::markers::mark(&t.conn, &owner, &gone.id, &sent[5].id).unwrap();
    delete_owned(&t.conn, &gone.id, &owner, Timestamp(5)).unwrap();

    // 39 messages in chunks of 16, then the tombstone, then the row.
    let mut left = Vec::new();
    let mut chosen = None;
    while purge_some(&t.conn, 16, &mut chosen).unwrap() == Purged::Marked {
        left.push((
            rows(&t.conn, "messages", gone_seq),
            rows(&t.conn, "message_tombstones", gone_seq),
            count(&t.conn, "SELECT count(*) FROM channel_rows"),
        ));
        assert!(left.len() < 10, "the purge never ends: {left:?}");
    }
    assert_eq!(
        left,
        [(23, 1, 2), (7, 1, 2), (0, 1, 2), (0, 0, 2), (0, 0, 1)]
    );
    assert!(!purge_pending(&t.conn).unwrap());
    assert_eq!(rows(&t.conn, "read_markers", gone_seq), 0, "by cascade");
    // The other channel is untouched, and the purged words unsearchable.
    assert_eq!(count(&t.conn, "SELECT count(*) FROM messages"), 41);
    let found: Vec<i64> = t
        .conn
        .prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'purgeword'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(found, [testing::seq_of(&t.conn, &kept_message.id)]);
    assert!(testing::index_is_consistent(&t.conn));
}

#[test]
fn purge_pending_only_while_a_deleted_channel_has_rows() {
    let t = TestDb::new();
    assert!(!purge_pending(&t.conn).unwrap());
    assert!(
        purge_some(&t.conn, 16, &mut None).unwrap() == Purged::Nothing,
        "nothing to purge"
    );
    let owner = Uuid::new_v4();
    let channel = testing::channel(&t.conn, owner, "general");
    assert!(!purge_pending(&t.conn).unwrap());
    delete_owned(&t.conn, &channel.id, &owner, Timestamp(5)).unwrap();
    assert!(purge_pending(&t.conn).unwrap());
    while purge_some(&t.conn, 16, &mut None).unwrap() != Purged::Nothing {}
    assert!(!purge_pending(&t.conn).unwrap());
}
