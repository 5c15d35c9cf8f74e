//! Messages: where each is stored (seq), edits, and deletes that leave a
//! tombstone.

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::clock::Timestamp;
use crate::domain::error::Refusal;
use crate::domain::history::*;
use crate::domain::messages::*;
use crate::domain::testing::{self, TestDb, count, send, seq_of};

fn seq_high(conn: &Connection) -> i64 {
    count(conn, "SELECT value FROM meta WHERE key = 'seq_high'")
}

#[test]
fn insert_takes_a_seq_above_every_message_tombstone_and_seq_high() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let channel = testing::channel(&t.conn, author, "general");
    assert_eq!(newest_seq(&t.conn).unwrap(), 0);
    let first = send(&t.conn, &channel, author, "one");
    let second = send(&t.conn, &channel, author, "two");
    assert_eq!(
        [seq_of(&t.conn, &first.id), seq_of(&t.conn, &second.id)],
        [1, 2]
    );

    // The newest is deleted: its place stays taken.
    delete(&t.conn, &second.id, &author).unwrap();
    let third = send(&t.conn, &channel, author, "three");
    assert_eq!(seq_of(&t.conn, &third.id), 3);

    // A high-water mark above both tables (rows purged since).
    t.conn
        .execute("UPDATE meta SET value = 10 WHERE key = 'seq_high'", [])
        .unwrap();
    let fourth = send(&t.conn, &channel, author, "four");
    assert_eq!(seq_of(&t.conn, &fourth.id), 11);
}

#[test]
fn keep_newest_seq_only_raises_the_mark() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let channel = testing::channel(&t.conn, author, "general");
    for i in 0..3 {
        send(&t.conn, &channel, author, &format!("m{i}"));
    }
    assert_eq!(seq_high(&t.conn), 0);
    keep_newest_seq(&t.conn).unwrap();
    assert_eq!(seq_high(&t.conn), 3);
    // Once the rows are gone, the mark is what keeps their seqs.
    t.conn.execute("DELETE FROM messages", []).unwrap();
    keep_newest_seq(&t.conn).unwrap();
    assert_eq!(seq_high(&t.conn), 3);
    assert_eq!(newest_seq(&t.conn).unwrap(), 3);
    let next = send(&t.conn, &channel, author, "next");
    assert_eq!(seq_of(&t.conn, &next.id), 4);
}

#[test]
fn delete_leaves_a_tombstone_in_the_messages_place() {
    let mut t = TestDb::new();
    let (author, owner, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let channel = testing::channel(&t.conn, owner, "general");
    let sent: Vec<_> = (0..3)
        .map(|i| send(&t.conn, &channel, author, &format!("m{i}")))
        .collect();
    assert!(matches!(
        delete(&t.conn, &sent[1].id, &other),
        Err(Refusal::Forbidden(_))
    ));
    let deleted = delete(&t.conn, &sent[1].id, &author).unwrap();
    assert_eq!((deleted.id, deleted.channel), (sent[1].id, channel.id));
    assert!(load(&t.conn, &author, &sent[1].id).unwrap().is_none());
    assert_eq!(count(&t.conn, "SELECT count(*) FROM message_tombstones"), 1);
    assert_eq!(seq_seen(&t.conn, &author, &sent[1].id).unwrap(), Some(2));
    assert!(matches!(
        delete(&t.conn, &sent[1].id, &author),
        Err(Refusal::NotFound(_))
    ));
    // Still a cursor: the messages on either side of it.
    let page = |cursor| Page { cursor, limit: 10 };
    let before = history(
        &mut t.conn,
        &author,
        channel.id,
        &page(Cursor::Before(sent[1].id)),
    )
    .unwrap();
    let after = history(
        &mut t.conn,
        &author,
        channel.id,
        &page(Cursor::After(sent[1].id)),
    )
    .unwrap();
    assert_eq!([before[0].id, after[0].id], [sent[0].id, sent[2].id]);
    // The channel's owner may delete anyone's message.
    delete(&t.conn, &sent[2].id, &owner).unwrap();
    let newest = history(&mut t.conn, &author, channel.id, &page(Cursor::Newest)).unwrap();
    assert_eq!(
        newest.iter().map(|m| m.id).collect::<Vec<_>>(),
        [sent[0].id]
    );
}

#[test]
fn only_the_author_edits() {
    let t = TestDb::new();
    let author = Uuid::new_v4();
    let channel = testing::channel(&t.conn, author, "general");
    let message = send(&t.conn, &channel, author, "before");
    assert!(matches!(
        edit(
            &t.conn,
            &message.id,
            &Uuid::new_v4(),
            testing::text("x"),
            Timestamp(9)
        ),
        Err(Refusal::Forbidden(_))
    ));
    let edited = edit(
        &t.conn,
        &message.id,
        &author,
        testing::text("after"),
        Timestamp(9),
    )
    .unwrap();
    let loaded = load(&t.conn, &author, &message.id).unwrap().unwrap();
    assert_eq!(
        (loaded.content.as_str(), loaded.edited_at),
        ("after", Some(Timestamp(9)))
    );
    assert_eq!(edited.content, "after");
}
